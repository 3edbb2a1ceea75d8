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
from .errors import DistDirError, ReleaseError, StagesFailedError
from .records import FAILED, RECORD_DIR, StageRecord, read_record, write_record
from .stages import RELEASE_CHAIN, STAGES

INTERNAL_ERROR_EXIT = 70


class InternalError(ReleaseError):
    """A bug in nox-release, not a problem with the project."""

    exit_code = INTERNAL_ERROR_EXIT


def run_stage(ctx: RunContext, name: str) -> tuple[StageRecord, ReleaseError | None]:
    record = StageRecord(stage=name)
    error: ReleaseError | None = None
    commands_before = len(ctx.runner.history)
    ctx.console.heading(f"==> {name}  ({ctx.config.project_root.name}, dist: {ctx.dist})")
    started = time.monotonic()
    try:
        STAGES[name](ctx, record)
    except ReleaseError as exc:
        error = exc
    except Exception as exc:  # a bug: say so, keep the traceback, still write the record
        error = InternalError(
            f"nox-release failed unexpectedly: {type(exc).__name__}: {exc}",
            "this is a bug in nox-release; please report it with the traceback above.",
        )
        ctx.console.line(traceback.format_exc())
    record.duration_s = time.monotonic() - started
    record.commands = [run.as_dict() for run in ctx.runner.history[commands_before:]]
    if error is not None:
        record.status = FAILED
        record.error = error.as_dict()
        report.stage_error(ctx.console, name, error)
    write_record(ctx.dist, record)
    report.stage_result(ctx.console, record)
    return record, error


def clear_dist_for_release(ctx: RunContext) -> None:
    """Empty the dist dir for a fresh dry run, but only of what nox-release made there.

    Files the records do not account for may be the only copy of something (a wheel
    downloaded from CI); they stop the run instead of being deleted.
    """
    dist = ctx.dist
    if not dist.exists():
        return
    if not dist.is_dir():
        raise DistDirError(
            f"the dist dir {dist} exists and is not a directory.",
            "remove or rename that file, or pass --dist with another path.",
        )
    ours = {RECORD_DIR}
    for record_file in (dist / RECORD_DIR).glob("*.json"):
        record = read_record(dist, record_file.stem)
        if record is not None:
            ours.update(artifact.name for artifact in record.artifacts)
    foreign = sorted(p.name for p in dist.iterdir() if p.name not in ours)
    if foreign:
        shown = ", ".join(foreign[:5]) + (
            f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        )
        raise DistDirError(
            f"{dist} holds files nox-release did not make ({shown}); the dry run starts from "
            "an empty dist dir and will not delete them.",
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
