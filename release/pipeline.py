"""Running stages: the contract every stage shares, implemented once.

``run_stage`` times a stage, turns its errors into a ``failed`` record with cause and remedy,
writes ``<dist>/.release/<stage>.json``, and prints the stage's summary. ``run_release`` is the
local dry run: every stage of the chain in order, from an empty dist dir, then one table; the
stages that need a failed one are not run, which is said once. An interruption (Ctrl-C,
SIGTERM) is recorded and then stops everything at once.
"""

from __future__ import annotations

import shutil
import time
import traceback

from . import report
from .cache import records_fallback
from .context import RunContext
from .errors import (
    ConfigError,
    DiskFullError,
    DistDirError,
    InternalError,
    Interrupted,
    NotWritableError,
    ReleaseError,
    StagesFailedError,
    ToolNotFoundError,
)
from .fsio import faults_reported
from .ledger import delivered_here
from .platforms import OPERATING_SYSTEMS, ArchError, canonical_arch
from .records import (
    FAILED,
    INTERRUPTED,
    NOT_RUN,
    RECORD_DIR,
    StageRecord,
    guards,
    read_record,
    sha256_of,
    write_record,
)
from .stages import PRODUCING_STAGES, RELEASE_CHAIN, stage_function
from .staging import ensure_dist, remove_stale_scratch
from .tag import require_release_tag


def run_stage(ctx: RunContext, name: str) -> tuple[StageRecord, ReleaseError | None]:
    build = name.startswith("build-")
    record = StageRecord(
        stage=name, arch=_record_arch(ctx, name), python=ctx.python if build else None
    )
    error: ReleaseError | None = None
    commands_before = len(ctx.runner.history)
    ctx.console.heading(f"==> {name}  ({ctx.config.project_root.name}, dist: {ctx.dist})")
    started = time.monotonic()
    if ctx.dist.is_dir():
        # What a killed run (SIGKILL) left: found by the next stage, whichever it is.
        remove_stale_scratch(ctx.dist)
    try:
        if ctx.tag is not None and name in PRODUCING_STAGES:
            with guards(record):
                require_release_tag(ctx.config, ctx.tag)
        stage_function(name)(ctx, record)
    except Interrupted as stop:
        record.status = INTERRUPTED
        record.reason = f"stopped by {stop.name}"
        _finish(ctx, name, record, started, commands_before)
        raise
    except Exception as exc:  # a bug too: still fail cleanly and write the record
        error = exc if isinstance(exc, ReleaseError) else InternalError.of(exc)
        if ctx.verbose:
            ctx.console.line(traceback.format_exc())
    if isinstance(error, (ToolNotFoundError, ConfigError)) and name in PRODUCING_STAGES:
        # Wherever it stops a build, a missing tool never ran and a configuration that cannot
        # work (a cibuildwheel image of another floor) started nothing: nothing of the
        # sources was tried, so this says nothing of the files an earlier build made.
        record.refused = True
    if error is not None:
        record.status = FAILED
        record.error = error.as_dict()
        report.stage_error(ctx.console, name, error)
    unwritten = _finish(ctx, name, record, started, commands_before, said=error)
    report.stage_result(ctx.console, record)
    # A verdict that is nowhere is no verdict: publish could not read it.
    return record, error or unwritten


def _finish(
    ctx: RunContext,
    name: str,
    record: StageRecord,
    started: float,
    commands_before: int,
    *,
    said: ReleaseError | None = None,
) -> ReleaseError | None:
    record.duration_s = round(time.monotonic() - started, 3)
    record.commands = list(ctx.runner.history[commands_before:])
    # Build stages make the dist dir; a stage that only reads it (validate) must not create
    # one from a mistyped --dist.
    if ctx.record_dir is not None or ctx.dist.is_dir() or name in PRODUCING_STAGES:
        return _write_record(ctx, record, said=said)
    return None


def _write_record(
    ctx: RunContext, record: StageRecord, *, said: ReleaseError | None = None
) -> ReleaseError | None:
    """The record where it belongs; where it cannot go there (a read-only download folder),
    into the cache directory, saying where: the verdict is never lost. The error, when it
    could be written nowhere."""
    standing = _standing_record(ctx, record)
    if standing is not None:
        ctx.console.line(f"note: {standing}")
        return None
    try:
        if ctx.record_dir is None:
            ensure_dist(ctx.dist)
        # validate's verdict from another run (CI's, in a downloaded artifact) is not lost
        # when it runs here (as root, read-only does not stop it): it goes to validate.kept.json.
        write_record(
            ctx.dist, record, directory=ctx.record_dir, keep_other_runs=record.stage == "validate",
            say=lambda note: ctx.console.line(f"note: {note}"), environ=ctx.environ,
            redact=ctx.console.redact,
        )  # fmt: skip
        return None
    except (NotWritableError, DiskFullError, DistDirError) as exc:
        problem = exc
    fallback = records_fallback(ctx.dist)
    try:
        path = write_record(
            ctx.dist, record, directory=fallback, environ=ctx.environ, redact=ctx.console.redact
        )
    except ReleaseError as again:
        ctx.console.error(
            f"the {record.stage} record could not be written: {problem.cause} "
            f"(and not in {fallback} either: {again.cause})",
            remedy=problem.remedy,
        )
        return problem
    # The stage's own error may be this very cause (``.release`` is a file): not said twice.
    why = "" if said is not None and said.cause == problem.cause else (
        f" ({problem.cause.rstrip('.')})")  # fmt: skip
    ctx.console.line(
        f"note: the {record.stage} record could not go into the dist dir{why}; it is in "
        f"{path} (choose the place with --record-dir)."
    )
    return None


def _record_arch(ctx: RunContext, stage: str) -> str | None:
    """The architecture a build stage's record is named for: ``--arch`` as cibuildwheel
    spells it (``arm64`` on Linux is ``aarch64``), so that one job's record has one name."""
    if ctx.arch is None or not stage.startswith("build-"):
        return None
    os = stage.removeprefix("build-")
    if os not in OPERATING_SYSTEMS:
        return None
    try:
        return canonical_arch(os, ctx.arch)
    except ArchError:
        return ctx.arch  # the stage refuses it, naming the architectures there are


def _standing_record(ctx: RunContext, record: StageRecord) -> str | None:
    """Why an earlier record of the stage stands, when this run was refused: it changed
    nothing in the dist dir, so the record of the run that made the files there still tells
    validate what they are. None when this run's record is to be written."""
    if not record.refused:
        return None
    path = (ctx.record_dir or ctx.dist / RECORD_DIR) / f"{record.name}.json"
    if not path.is_file():
        return None
    try:
        earlier = read_record(
            ctx.dist, record.stage, directory=ctx.record_dir, arch=record.arch,
            python=record.python,
        )  # fmt: skip
    except ReleaseError:
        earlier = None  # damaged: validate says so, with its remedy; not replaced unseen
    else:
        if earlier is None or earlier.refused:
            return None  # an earlier refusal speaks of no file either: the newer one says more
    shown = (
        f" ({earlier.status}, {earlier.started}, {_files(len(earlier.artifacts))})"
        if earlier is not None
        else ""
    )
    return (
        f"{record.run} was refused, so it changed nothing in {ctx.dist}; the earlier run's "
        f"record stands, and validate judges the files by it: {path}{shown}."
    )


def _files(count: int) -> str:
    return f"{count} file" + ("" if count == 1 else "s")


def clear_dist_for_release(ctx: RunContext) -> None:
    """Empty the dist dir for a fresh dry run, but only of what nox-release put there.

    A file is cleared only if nox-release delivered it into this dist dir on this machine
    and it is unchanged since. Anything else may be the only copy of something (wheels
    downloaded from CI, with CI's records); it stops the run instead of being deleted.
    """
    dist = ctx.dist
    if not dist.exists():
        return
    ensure_dist(dist)
    ours = delivered_here(dist)
    foreign = sorted(
        p.name
        for p in dist.iterdir()
        if p.name != RECORD_DIR and not (p.is_file() and ours.get(p.name) == sha256_of(p))
    )
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise DistDirError(
            f"{dist} holds files that earlier runs here did not make, or that changed since "
            f"({shown}); the dry run starts from an empty dist dir and will not delete them.",
            "move them elsewhere, or pass --dist with another directory.",
        )
    with faults_reported("clearing the dist dir for the dry run", dist):
        for path in dist.iterdir():
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


# What each stage of the dry run takes from earlier ones: validate the builds' files, publish
# validate's verdict, github-release what publish uploaded (as release.yml chains the jobs).
# check, the preflight, blocks nothing: the builds still say what they would make.
NEEDS = {
    "validate": PRODUCING_STAGES,
    "publish": frozenset({"validate"}),
    "github-release": frozenset({"publish"}),
}


def _needed_and_failed(stage: str, done: list[StageRecord]) -> list[str]:
    needed = NEEDS.get(stage, frozenset())
    return [r.stage for r in done if r.stage in needed and r.status == FAILED]


def run_release(ctx: RunContext) -> list[StageRecord]:
    """Every stage of the chain; raises :class:`StagesFailedError` at the end if any failed."""
    if ctx.tag is not None:
        require_release_tag(ctx.config, ctx.tag)
    clear_dist_for_release(ctx)
    ensure_dist(ctx.dist)  # every stage's record goes into it, the check's (the first) too
    started = time.monotonic()
    records: list[StageRecord] = []
    for index, name in enumerate(RELEASE_CHAIN):
        failed_before = _needed_and_failed(name, records)
        if failed_before:
            # Every later stage needs this one: each would only restate the failure its own
            # way ("holds no wheels", "validate did not pass"). One line says it for all.
            later = RELEASE_CHAIN[index:]
            cause = f"{' and '.join(failed_before)} failed"
            records += [StageRecord(stage=stage, status=NOT_RUN, reason=cause) for stage in later]
            report.not_run(ctx.console, later, cause)
            break
        records.append(run_stage(ctx, name)[0])
    report.release_summary(ctx.console, records, time.monotonic() - started, ctx.dist)
    failed = [r.stage for r in records if r.status == FAILED]
    if failed:
        raise StagesFailedError(
            f"the dry run failed at: {', '.join(failed)}.",
            "read each stage's error above; its record is in "
            f"{ctx.dist / RECORD_DIR}; rerun one stage alone with nox -s <stage>.",
        )
    return records
