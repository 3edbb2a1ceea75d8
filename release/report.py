"""Human summaries of stages: on the terminal, and as Markdown in the Actions step summary.

Each cause is said once, where it belongs: a stage's reason under that stage, a finding under
validate. Summaries point to them instead of repeating them. Only what the user should act on
is a warning; an intentional choice (``sdist = false``) is a plain line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .console import Console, human_size, markdown_table
from .errors import ReleaseError
from .records import (
    ERROR,
    FAILED,
    HOST_BUILD,
    INTERRUPTED,
    NOT_RUN,
    NOT_SHIPPED,
    OK,
    SKIPPED,
    WARNING,
    Finding,
    StageRecord,
)

_STATUS_COLOUR = {
    OK: "green",
    FAILED: "red",
    INTERRUPTED: "red",
    SKIPPED: "yellow",
    HOST_BUILD: "yellow",
    NOT_SHIPPED: "dim",
    NOT_RUN: "red",
}


def stage_error(console: Console, stage: str, error: ReleaseError) -> None:
    console.error(f"{stage}: {error.cause}", title=f"nox-release {stage}", remedy=error.remedy)


def _artifacts(record: StageRecord) -> list[str]:
    return [f"{a.name} ({human_size(a.size)})" for a in record.artifacts]


def stage_result(console: Console, record: StageRecord) -> None:
    status = console.paint(record.status, _STATUS_COLOUR.get(record.status, "bold"))
    console.line(f"<== {record.stage}: {status} in {record.duration_s:.1f}s")
    for line in _artifacts(record):
        console.line(f"    {line}")
    if record.reason:
        # In CI a skipped or host-built stage means the job ran where it cannot do its work:
        # something to change in the workflow. On a laptop it is expected, and said plainly.
        if console.github and record.status in (SKIPPED, HOST_BUILD):
            console.warning(f"{record.stage} {record.status}: {record.reason}")
        elif record.status == OK:
            console.line(f"    {record.reason}")
        else:
            console.line(f"    {record.status}: {record.reason}")
    console.line()
    console.step_summary(_stage_markdown(record))


def not_run(console: Console, stages: Sequence[str], cause: str) -> None:
    """The stages the dry run did not start, and why: once for all of them."""
    console.line(f"<== {', '.join(stages)}: {console.paint(NOT_RUN, 'red')}: {cause}")
    console.line()
    named = ", ".join(f"`{stage}`" for stage in stages)
    console.step_summary(f"### nox-release {named}: {NOT_RUN}\n\n{cause}")


def _stage_markdown(record: StageRecord) -> str:
    lines = [f"### nox-release `{record.stage}`: {record.status} ({record.duration_s:.1f}s)"]
    if record.reason:
        lines.append(f"\n{record.reason}")
    if record.error:
        lines.append(
            f"\n**Error:** {record.error['cause']}  \n**What to do:** {record.error['remedy']}"
        )
    if record.artifacts:
        rows = [[a.name, human_size(a.size), f"`{a.sha256[:16]}…`"] for a in record.artifacts]
        lines.append("\n" + markdown_table(["artifact", "size", "sha256"], rows))
    return "\n".join(lines)


def _rows(records: Sequence[StageRecord]) -> list[list[str]]:
    """A row per stage. Each artifact is listed once, under the stage that made it; the stages
    that take them on (validate, publish, github-release) count the ones above."""
    rows = []
    listed: set[str] = set()
    for record in records:
        new = [a for a in record.artifacts if a.name not in listed]
        cells = [f"{a.name} ({human_size(a.size)})" for a in new]
        above = len(record.artifacts) - len(new)
        if above:
            cells.append(f"the {above} files above" if above > 1 else "the file above")
        listed.update(a.name for a in record.artifacts)
        cells = cells or ["-"]
        duration = "-" if record.status == NOT_RUN else f"{record.duration_s:.1f}s"
        rows.append([record.stage, record.status, duration, cells[0]])
        rows.extend(["", "", "", cell] for cell in cells[1:])
    return rows


def release_summary(
    console: Console, records: Sequence[StageRecord], total_s: float, dist: Path
) -> None:
    headers = ["stage", "status", "duration", "artifacts"]
    console.heading(f"Release dry run summary ({total_s:.1f}s)")
    console.table(headers, _rows(records))
    # A stage that did its job, or did not run by the configuration's choice ("not shipped"),
    # needs no pointer; one that failed, skipped or built differently from CI does.
    # A stage not run was explained once, with its cause, where the dry run stopped.
    explained = [
        r.stage
        for r in records
        if (r.reason or r.error) and r.status not in (OK, NOT_SHIPPED, NOT_RUN)
    ]
    if explained:
        console.line(
            f"{', '.join(explained)}: see the reason under each stage above; the records are "
            f"in {dist / '.release'}."
        )
    markdown = markdown_table(headers, _rows(records))
    console.step_summary(f"## nox-release dry run ({total_s:.1f}s)\n\n{markdown}")


# --- findings -----------------------------------------------------------------------------------


def _finding_text(finding: Finding) -> str:
    where = f"{finding.file}: " if finding.file else ""
    return f"[{finding.check}] {where}{finding.message}"


def print_findings(console: Console, findings: Sequence[Finding]) -> None:
    """Every error, warning and note; findings in a row that share a remedy show it once."""
    shown = list(findings)
    for index, finding in enumerate(shown):
        text = _finding_text(finding)
        next_remedy = shown[index + 1].remedy if index + 1 < len(shown) else None
        remedy = finding.remedy if finding.remedy != next_remedy else None
        if finding.level == ERROR:
            # No file= property: annotations point into the repository, and a wheel is not a
            # file of it; the message names it.
            console.error(text, remedy=finding.remedy if console.github else remedy)
        elif finding.level == WARNING:
            console.warning(text, remedy=finding.remedy if console.github else remedy)
        else:
            console.line(f"note: {text}")


def findings_markdown(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], findings: Sequence[Finding]
) -> str:
    lines = [f"### {title}", "", markdown_table(headers, rows), ""]
    for f in findings:
        remedy = f" *What to do:* {f.remedy}" if f.remedy and f.level != "info" else ""
        lines.append(f"- **{f.level}** `{f.check}` {f.file or ''}: {f.message}.{remedy}")
    return "\n".join(lines)
