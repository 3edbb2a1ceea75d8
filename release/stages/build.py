"""build-linux, build-windows, sdist: what a maintainer runs by hand to make the artifacts.

Each one asks the backend whether this host can build the platform (if not, the stage is
``skipped`` with the reason), builds into a private directory, and moves the finished files
into the dist dir.
"""

from __future__ import annotations

from ..backends import backend_for
from ..context import RunContext
from ..records import SKIPPED, StageRecord
from ..staging import collect, deliver, staging_dir


def build_linux(ctx: RunContext, record: StageRecord) -> None:
    _build_wheels("linux", ctx, record)


def build_windows(ctx: RunContext, record: StageRecord) -> None:
    _build_wheels("windows", ctx, record)


def _build_wheels(platform: str, ctx: RunContext, record: StageRecord) -> None:
    backend = backend_for(ctx.config)
    record.backend = backend.name
    blocker = backend.unavailable(platform, ctx)
    if blocker is not None:
        record.status = SKIPPED
        record.reason = str(blocker)
        return
    record.tool_versions = backend.tool_versions(platform, ctx)
    with staging_dir(ctx.dist, record.stage) as out:
        outcome = backend.build_wheels(platform, ctx, out)
        wheels = collect(out, ["*.whl"], what=f"{platform} wheels", tool=backend.name)
        record.artifacts = deliver(wheels, ctx.dist)
    record.status = outcome.status
    record.reason = outcome.reason


def sdist(ctx: RunContext, record: StageRecord) -> None:
    backend = backend_for(ctx.config)
    record.backend = backend.name
    if not ctx.config.sdist:
        record.status = SKIPPED
        record.reason = f"the project ships no sdist (sdist = false in {ctx.config.pyproject})."
        return
    record.tool_versions = backend.tool_versions(None, ctx)
    with staging_dir(ctx.dist, record.stage) as out:
        backend.build_sdist(ctx, out)
        files = collect(out, ["*.tar.gz"], what="sdist", tool=backend.name)
        record.artifacts = deliver(files, ctx.dist)
