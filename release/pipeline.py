"""Running stages: the contract every stage shares, implemented once.

``run_stage`` times a stage, turns its errors into a ``failed`` record with cause and remedy,
writes ``<dist>/.release/<stage>.json``, and prints the stage's summary. ``run_release`` is the
local dry run: every stage of the chain in order, from an empty dist dir, then one table.
"""

from __future__ import annotations

import shutil
import time
import traceback

from . import report
from .context import RunContext
from .errors import DistDirError, InternalError, ReleaseError, StagesFailedError
from .records import FAILED, RECORD_DIR, StageRecord, delivered_here, sha256_of, write_record
from .stages import PRODUCING_STAGES, RELEASE_CHAIN, STAGES
from .staging import ensure_dist


def run_stage(ctx: RunContext, name: str) -> tuple[StageRecord, ReleaseError | None]:
    record = StageRecord(stage=name)
    error: ReleaseError | None = None
    commands_before = len(ctx.runner.history)
    ctx.console.heading(f"==> {name}  ({ctx.config.project_root.name}, dist: {ctx.dist})")
    started = time.monotonic()
    try:
        STAGES[name](ctx, record)
    except Exception as exc:  # a bug too: still fail cleanly and write the record
        error = exc if isinstance(exc, ReleaseError) else InternalError.of(exc)
        if ctx.verbose:
            ctx.console.line(traceback.format_exc())
    record.duration_s = time.monotonic() - started
    record.commands = [run.as_dict() for run in ctx.runner.history[commands_before:]]
    if error is not None:
        record.status = FAILED
        record.error = error.as_dict()
        report.stage_error(ctx.console, name, error)
    # Build stages make the dist dir; a stage that only reads it (validate) must not create
    # one from a mistyped --dist.
    if ctx.dist.is_dir() or name in PRODUCING_STAGES:
        ensure_dist(ctx.dist)
        write_record(ctx.dist, record)
    report.stage_result(ctx.console, record)
    return record, error


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
    for path in dist.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def run_release(ctx: RunContext) -> list[StageRecord]:
    """Every stage of the chain; raises :class:`StagesFailedError` at the end if any failed."""
    clear_dist_for_release(ctx)
    started = time.monotonic()
    records = [run_stage(ctx, name)[0] for name in RELEASE_CHAIN]
    report.release_summary(ctx.console, records, time.monotonic() - started)
    failed = [r.stage for r in records if r.status == FAILED]
    if failed:
        raise StagesFailedError(
            f"the dry run failed at: {', '.join(failed)}.",
            "read each stage's error above; its record is in "
            f"{ctx.dist / RECORD_DIR}; rerun one stage alone with nox -s <stage>.",
        )
    return records
