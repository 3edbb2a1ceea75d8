"""validate: may the files in the dist dir be published?

The steps a careful maintainer takes by hand before an upload, on every file at once: read
each file once into one model, gather what the checks need to know (the build records, the
project version, the wheels the backend builds), run every check of the registry, report
every finding (not only the first), and write ``<dist>/.release/validate.json`` with the
sha256 of each validated file: ``publish`` uploads only what that record lists. A check that
cannot run (a missing tool) is a finding of that check; the others still report. So is a bug
in one check, which then makes the stage a bug of nox-release (exit 70) once everything is
reported. A check with nothing to compare (:class:`NotRun`) is shown as not run, with why.
"""

from __future__ import annotations

import os
import traceback
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..backends import backend_for
from ..checks import REGISTRY, Check, CheckContext
from ..checks.base import BUILD_STAGES, NotRun
from ..checks.windows_dlls import binaries_in
from ..console import human_size
from ..context import RunContext
from ..dists import Distribution, Stray, read_distribution, scan_dist_dir
from ..errors import (
    DistDirError,
    IndexUnavailableError,
    InternalError,
    ReleaseError,
    ValidationFailedError,
)
from ..expected import NOT_BUILT_HERE, ExpectedSet, configured_set
from ..host import host_os
from ..http import OFFLINE, Http, Policy
from ..project.version import project_version
from ..publish.index import Listing, query
from ..publish.repository import resolve
from ..records import (
    ERROR,
    WARNING,
    Artifact,
    Finding,
    StageRecord,
    read_stage_records,
)
from ..report import findings_markdown, print_findings


def validate(ctx: RunContext, record: StageRecord) -> None:
    dist_dir = ctx.dist
    if not dist_dir.is_dir():
        raise DistDirError(
            f"the dist dir {dist_dir} does not exist.",
            "run the build stages first, or pass --dist with the folder of artifacts.",
        )
    paths, strays = scan_dist_dir(dist_dir)
    if not paths:
        raise ValidationFailedError(
            f"{dist_dir} holds no wheels and no sdist.",
            "run the build stages first, or pass --dist with the folder of downloaded artifacts.",
        )
    dists = _read_all(paths)
    record.artifacts = [Artifact(d.filename, d.size, d.sha256) for d in dists]
    context = check_context(ctx, strays, dists)

    plan = [(check, [d for d in dists if check.applies_to(d)]) for check in REGISTRY]
    plan = [(check, chosen) for check, chosen in plan if chosen or check.runs_without_files]
    outcome = _Outcome({d.filename: [] for d in dists})
    with ThreadPoolExecutor(max_workers=4) as pool:
        # The tools' versions are evidence of who judged the files; asked while they judge.
        versions = {
            tool: pool.submit(check.tool_version, tool, ctx.runner)
            for check, _ in plan
            for tool in check.tools
        }
        for check, chosen in plan:
            record.findings += _run_check(check, chosen, context, ctx, outcome)
        record.tool_versions = {tool: future.result() for tool, future in versions.items()}

    ran = outcome.ran
    record.details.update(
        checks=ran,
        not_run=outcome.not_run,
        tag=ctx.tag,
        strict=ctx.strict,
        binaries=sum(len(d.binaries) for d in dists),
        windows_binaries=sum(binaries_in(d) for d in dists),
        expected_wheels=_expected_details(context.expected),
    )
    errors = [f for f in record.findings if f.level == ERROR]
    warnings = [f for f in record.findings if f.level == WARNING]
    not_here = [f for f in record.findings if NOT_BUILT_HERE in f.message]
    counted = [f"{len(warnings)} warning(s)"] if warnings else []
    if not_here:
        counted.append(f"{len(not_here)} expected wheel(s) not built here")
    if counted:
        # The dry-run summary shows a stage's reason; it points here rather than repeating.
        record.reason = f"{', '.join(counted)}, listed under validate above"
    _report(ctx, record, outcome)
    if outcome.bugs:
        # The bug is the stage's error: exit 70 says "nox-release failed", not "your files did".
        raise InternalError(
            f"the {' and '.join(outcome.bugs)} check stopped on a bug in nox-release, so "
            f"the files of {dist_dir} were not fully judged; its error and every other "
            "finding are listed above.",
            "rerun with --verbose and report it to nox-release with the traceback.",
        )
    if errors:
        raise ValidationFailedError(
            f"{len(errors)} error(s) in the files of {dist_dir}; nothing may be published.",
            "fix each error listed above (every finding is also in the validate record).",
        )


def _read_all(paths: Sequence[Path]) -> list[Distribution]:
    # zlib releases the GIL while it inflates: reading wheels side by side is faster.
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        return list(pool.map(read_distribution, paths))


def check_context(
    ctx: RunContext, strays: Sequence[Stray] = (), dists: Sequence[Distribution] = ()
) -> CheckContext:
    """What the checks know beyond the files, gathered once: the build records (damaged ones
    apart), the project version or why it cannot be read, the expected wheel set, what the
    index lists of the project (for the regression check)."""
    records, damaged = read_stage_records(ctx.dist, BUILD_STAGES)
    version, source, project_problem = None, "", None
    try:
        version, source = project_version(ctx.config)
    except ReleaseError as exc:
        project_problem = exc
    expected, expected_problem = _expected(ctx)
    index_url, listing, index_problem = _index_listing(ctx, dists)
    return CheckContext(
        config=ctx.config,
        dist_dir=ctx.dist,
        runner=ctx.runner,
        tag=ctx.tag,
        strict=ctx.strict,
        host=host_os(),
        build_records=records,
        damaged_records=damaged,
        expected=expected,
        expected_problem=expected_problem,
        project_version=version,
        project_version_source=source,
        project_problem=project_problem,
        strays=tuple(strays),
        index_url=index_url,
        index_listing=listing,
        index_problem=index_problem,
    )


def _index_listing(
    ctx: RunContext, dists: Sequence[Distribution]
) -> tuple[str, Listing | None, str]:
    """The configured index's listing of the project, or why it was not read. Asked twice at
    most: the comparison is publish's gate, and validate says when it could not make it."""
    config = ctx.config
    try:
        repository = resolve(ctx.repository or config.publish.repository, config.publish.index_url)
    except ReleaseError as exc:
        return "", None, exc.cause.rstrip(".")
    where = repository.index_url
    if ctx.environ.get(OFFLINE, "").strip().lower() not in ("", "0", "false", "no"):
        return where, None, f"{OFFLINE} is set, so {where} was not asked"
    names = [str(d.name) for d in dists if d.name is not None] or [config.package.name or ""]
    if not names[0]:
        return where, None, "the project's name is unknown"
    try:
        http = Http(replace(Policy.from_environ(ctx.environ), attempts=2))
    except ReleaseError as exc:
        return where, None, exc.cause.rstrip(".")
    try:
        return where, query(where, names[0], http), ""
    except IndexUnavailableError as exc:
        return where, None, exc.cause.rstrip(".")
    finally:
        http.close()


def _expected(ctx: RunContext) -> tuple[ExpectedSet | None, ReleaseError | None]:
    configured = configured_set(ctx.config)
    if configured is not None:
        return configured, None
    try:
        return backend_for(ctx.config).expected_wheels(ctx), None
    except ReleaseError as exc:
        return None, exc


def _expected_details(expected: ExpectedSet | None) -> dict[str, object] | None:
    if expected is None:
        return None
    return {
        "source": expected.source,
        "wheels": [{"platform": w.platform, "patterns": list(w.patterns)} for w in expected.wheels],
    }


@dataclass
class _Outcome:
    """How each check went, beyond its findings."""

    ran: dict[str, list[str]]  # file -> the checks that judged it
    not_run: dict[str, str] = field(default_factory=dict)  # check -> why it compared nothing
    not_run_on: Counter[str] = field(default_factory=Counter)  # file -> checks not run on it
    stopped: set[str] = field(default_factory=set)  # checks that could not judge their files
    bugs: list[str] = field(default_factory=list)  # checks that stopped on a bug of ours


def _run_check(
    check: Check,
    chosen: list[Distribution],
    context: CheckContext,
    ctx: RunContext,
    outcome: _Outcome,
) -> list[Finding]:
    try:
        findings = check.run(chosen, context)
    except NotRun as nothing:
        outcome.not_run[check.name] = nothing.reason
        outcome.not_run_on.update(dist.filename for dist in chosen)
        return []
    except ReleaseError as exc:
        # The check could not run (a missing tool): its finding, and the others still report.
        findings = [check.error(exc.cause, remedy=exc.remedy)]
        outcome.stopped.add(check.name)
    except Exception as exc:
        # A bug in one check is that check's error: every other check still reports.
        if ctx.verbose:
            ctx.console.line(traceback.format_exc())
        findings = [
            check.error(
                f"the check stopped on a bug in nox-release ({type(exc).__name__}: {exc}); "
                "it judged none of its files",
                remedy="rerun with --verbose for the traceback, and report it to nox-release.",
            )
        ]
        outcome.stopped.add(check.name)
        outcome.bugs.append(check.name)
    for dist in chosen:
        outcome.ran[dist.filename].append(check.name)
    return findings


def _problems(findings: Sequence[Finding]) -> str:
    counts = Counter((f.check, f.level) for f in findings if f.level in (ERROR, WARNING))
    if not counts:
        return "-"
    return ", ".join(
        f"{check} ({n} {level}{'s' if n > 1 else ''})" for (check, level), n in counts.items()
    )


def _report(ctx: RunContext, record: StageRecord, outcome: _Outcome) -> None:
    console = ctx.console
    rows = []
    for artifact in record.artifacts:
        mine = [f for f in record.findings if f.file == artifact.name]
        checks = outcome.ran.get(artifact.name, [])
        failed = {f.check for f in mine if f.level == ERROR} | outcome.stopped
        passed = [c for c in checks if c not in failed]
        not_run = outcome.not_run_on[artifact.name]
        rows.append(
            [
                artifact.name,
                human_size(artifact.size),
                f"{len(passed)}/{len(checks)}" + (f", {not_run} not run" if not_run else ""),
                _problems(mine),
            ]
        )
    headers = ["file", "size", "checks passed", "findings"]
    console.table(headers, rows)
    for check, why in outcome.not_run.items():
        console.line(f"{check}: not run: {why}")
    print_findings(console, record.findings)
    errors = sum(f.level == ERROR for f in record.findings)
    warnings = sum(f.level == WARNING for f in record.findings)
    not_here = sum(NOT_BUILT_HERE in f.message for f in record.findings)
    console.line(
        f"{len(record.artifacts)} file(s), {errors} error(s), {warnings} warning(s)"
        + (f"; {not_here} expected wheel(s) not built here (a release needs every one: "
           "publish refuses it without them)" if not_here else "")
    )  # fmt: skip
    console.step_summary(
        findings_markdown(f"validate: {errors} error(s), {warnings} warning(s)", headers, rows,
                          record.findings)
        + "".join(f"\n- **not run** `{check}`: {why}" for check, why in outcome.not_run.items())
    )  # fmt: skip
