"""build-linux, build-windows, sdist: what a maintainer runs by hand to make the artifacts.

Each one asks the backend whether this host can build the platform (if not, the stage is
``skipped``, or ``not shipped`` when the configuration says there is nothing to build, with
the reason), builds into a private directory, and moves the finished files into the dist dir.
"""

from __future__ import annotations

from .. import system_packages
from ..backends import Unavailable, backend_for
from ..backends.reproducible import source_date, with_source_date
from ..context import RunContext
from ..host import host_os
from ..records import NOT_SHIPPED, StageRecord
from ..staging import collect, deliver, staging_dir


def build_linux(ctx: RunContext, record: StageRecord) -> None:
    _build_wheels("linux", ctx, record)


def build_windows(ctx: RunContext, record: StageRecord) -> None:
    _build_wheels("windows", ctx, record)


def _build_wheels(platform: str, ctx: RunContext, record: StageRecord) -> None:
    backend = backend_for(ctx.config)
    record.backend = backend.name
    blocker = _not_shipped(ctx, platform) or backend.unavailable(platform, ctx)
    if blocker is not None:
        record.status = blocker.status
        record.reason = str(blocker)
        return
    record.tool_versions = backend.tool_versions(platform, ctx)
    ctx = _dated(ctx, record)
    if platform == "linux" and host_os() == "linux":
        installed = system_packages.ensure(
            ctx.runner,
            system_packages.host_packages(ctx.config, ctx.runner),
            install=system_packages.install_wanted(ctx.environ),
        )
        if installed:
            record.details["installed_apt_packages"] = installed
    with staging_dir(ctx.dist, record.stage) as out:
        outcome = backend.build_wheels(platform, ctx, out)
        wheels = collect(out, ["*.whl"], what=f"{platform} wheels", tool=backend.name)
        record.artifacts, ledger_problem = deliver(wheels, ctx.dist)
    record.status = outcome.status
    record.reason = outcome.reason
    _note(ctx, ledger_problem)


def _not_shipped(ctx: RunContext, platform: str) -> Unavailable | None:
    """``[tool.release.wheels] windows = []``: the project has none, whatever the backend."""
    wheels = ctx.config.wheels
    if wheels is None or wheels.for_platform(platform):
        return None
    return Unavailable(
        f"the project ships no {platform} wheels ([tool.release.wheels] {platform} = []).",
        f"list the {platform} wheels in [tool.release.wheels] if the package has any.",
        intentional=True,
    )


def sdist(ctx: RunContext, record: StageRecord) -> None:
    backend = backend_for(ctx.config)
    record.backend = backend.name
    if not ctx.config.sdist:
        record.status = NOT_SHIPPED
        record.reason = f"sdist = false in {ctx.config.shown(ctx.config.pyproject)}."
        return
    record.tool_versions = backend.tool_versions(None, ctx)
    ctx = _dated(ctx, record)
    with staging_dir(ctx.dist, record.stage) as out:
        backend.build_sdist(ctx, out)
        files = collect(out, ["*.tar.gz"], what="sdist", tool=backend.name)
        record.artifacts, ledger_problem = deliver(files, ctx.dist)
    _note(ctx, ledger_problem)


def _dated(ctx: RunContext, record: StageRecord) -> RunContext:
    """The date every file of the build is stamped with, recorded: a rebuild from the same
    commit (a re-run of the workflow) then makes the same bytes, which the index accepts."""
    date = source_date(ctx)
    record.details["source_date_epoch"] = date.as_record()
    return with_source_date(ctx, date)


def _note(ctx: RunContext, ledger_problem: str | None) -> None:
    if ledger_problem is not None:
        ctx.console.warning(
            f"{ledger_problem}; the files are delivered, but a later dry run will not clear "
            "them by itself.",
            remedy="make nox-release's cache directory writable (or set NOX_RELEASE_CACHE).",
        )
