"""Human summaries of stages: on the terminal, and as Markdown in the Actions step summary."""

from __future__ import annotations

from collections.abc import Sequence

from .console import Console, human_size, markdown_table
from .errors import ReleaseError
from .records import FAILED, HOST_BUILD, OK, SKIPPED, StageRecord

_STATUS_COLOUR = {OK: "green", FAILED: "red", SKIPPED: "yellow", HOST_BUILD: "yellow"}


def stage_error(console: Console, stage: str, error: ReleaseError) -> None:
    console.error(f"{stage}: {error.cause}", title=f"nox-release {stage}")
    console.line(f"  what to do: {error.remedy}")


def _artifacts(record: StageRecord) -> list[str]:
    return [f"{a.name} ({human_size(a.size)})" for a in record.artifacts]


def stage_result(console: Console, record: StageRecord) -> None:
    status = console.paint(record.status, _STATUS_COLOUR.get(record.status, "bold"))
    console.line(f"<== {record.stage}: {status} in {record.duration_s:.1f}s")
    for line in _artifacts(record):
        console.line(f"    {line}")
    if record.reason:
        if record.status in (SKIPPED, HOST_BUILD):
            console.warning(f"{record.stage} {record.status}: {record.reason}")
        else:
            console.line(f"    {record.reason}")
    console.line()
    console.step_summary(_stage_markdown(record))


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
    rows = []
    for record in records:
        names = _artifacts(record) or ["-"]
        rows.append([record.stage, record.status, f"{record.duration_s:.1f}s", names[0]])
        rows.extend(["", "", "", name] for name in names[1:])
    return rows


def release_summary(console: Console, records: Sequence[StageRecord], total_s: float) -> None:
    headers = ["stage", "status", "duration", "artifacts"]
    console.heading(f"Release dry run summary ({total_s:.1f}s)")
    console.table(headers, _rows(records))
    notes = [f"{r.stage} {r.status}: {r.reason}" for r in records if r.reason]
    for note in notes:
        console.line(f"  * {note}")
    markdown = markdown_table(headers, _rows(records))
    console.step_summary(f"## nox-release dry run ({total_s:.1f}s)\n\n{markdown}")
