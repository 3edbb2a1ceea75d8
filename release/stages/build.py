"""build-linux, build-windows, build-macos, sdist: what a maintainer runs by hand to make
the artifacts.

Each one asks the backend whether this host can build the OS at all (if not, the stage is
``skipped``, or ``not shipped`` when the configuration says there is nothing to build, with
the reason), then, per platform of the expected set (``--arch`` narrows it to one, for a
matrix job), how this host builds it (release/build_plan.py): the record lists each with
``native``, ``cross`` or ``container``, or not built here with the reason and the runner that
builds it. It builds into a private directory, and moves the finished files into the dist dir.
"""

from __future__ import annotations

import shlex
import sys
import tarfile
import time
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any, cast

from .. import system_packages
from ..backends import Backend, Unavailable, backend_for
from ..backends.reproducible import source_date, source_date_env, with_source_date
from ..build_plan import (
    PlatformBuild,
    builds_of,
    left_to_others,
    narrowed_to_python,
    runner_for,
    stage_platforms,
)
from ..context import RunContext
from ..diagnose import diagnose
from ..errors import (
    BeforeBuildError,
    BuildOutputError,
    CommandFailedError,
    ConfigValueError,
    ReleaseError,
    SdistBuildError,
)
from ..expected import configured_set
from ..host import host_os
from ..platforms import OS
from ..project.toml import read_toml
from ..records import HOST_BUILD, NOT_BUILT, NOT_SHIPPED, SKIPPED, StageRecord, guards
from ..runner import CommandResult, child_env
from ..staging import collect, deliver, staging_dir


def build_linux(ctx: RunContext, record: StageRecord) -> None:
    _build_wheels("linux", ctx, record)


def build_windows(ctx: RunContext, record: StageRecord) -> None:
    _build_wheels("windows", ctx, record)


def build_macos(ctx: RunContext, record: StageRecord) -> None:
    _build_wheels("macos", ctx, record)


def _plan(
    backend: Backend, os: OS, ctx: RunContext, record: StageRecord
) -> list[PlatformBuild] | None:
    """This host's part of the OS's platforms; None when the expected set names no
    platforms (``[tool.release.wheels]``, or the build backend): then the backend builds
    what it builds, as before platforms were planned."""
    expected = configured_set(ctx.config) or backend.expected_wheels(ctx)
    if expected is None or not expected.platforms:
        if ctx.arch is not None:
            source = expected.source if expected is not None else "none"
            raise ConfigValueError(
                f"--arch {ctx.arch}: the expected wheel set ({source}) does not say which "
                "architectures the project builds.",
                "leave --arch out, or let the backend derive the set (remove "
                "[tool.release.wheels]).",
            )
        return None
    plan = []
    for platform in stage_platforms(expected, os, ctx.arch):
        method = backend.build_method(platform, ctx)
        builds = builds_of(expected, platform)
        if isinstance(method, Unavailable):
            plan.append(PlatformBuild(platform, None, method.reason, runner_for(platform), builds))
        else:
            plan.append(PlatformBuild(platform, method, _METHOD_SAYS[method], None, builds))
    record.details["platforms"] = [entry.as_record() for entry in plan]
    return plan


_METHOD_SAYS = {
    "native": "built natively on this machine",
    "cross": "cross-compiled on this machine, for another architecture or libc",
    "container": "built in cibuildwheel's container of this machine's architecture",
}


def _build_wheels(platform: str, ctx: RunContext, record: StageRecord) -> None:
    # Until the scratch directory is made, the stage only asks (its tools, this host): what
    # stops it there says nothing of the files an earlier run built.
    with guards(record):
        backend = backend_for(ctx.config)
        record.backend = backend.name
        ctx = narrowed_to_python(ctx)
        blocker = _not_shipped(ctx, platform) or backend.unavailable(platform, ctx)
        if blocker is not None:
            record.status = blocker.status
            record.reason = str(blocker)
            return
        plan = _plan(backend, cast(OS, platform), ctx, record)
        if plan is not None and not any(entry.built_here for entry in plan):
            record.status = SKIPPED
            record.reason = (
                "nothing of it builds here: " + "; ".join(entry.skip_line() for entry in plan) + "."
            )
            record.details[NOT_BUILT] = list(left_to_others(plan))
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
    # The project's own step runs its code: its failure, like the build's, is the sources'.
    _before_build(ctx, platform, record)
    with staging_dir(ctx.dist, record.stage) as out:
        here = None if plan is None else [e.platform for e in plan if e.built_here]
        if here is None:
            outcome = backend.build_wheels(platform, ctx, out)
        else:
            outcome = backend.build_wheels(platform, ctx, out, here)
        wheels = collect(out, ["*.whl"], what=f"{platform} wheels", tool=backend.name)
        record.artifacts, ledger_problem = deliver(wheels, ctx.dist)
    record.status = outcome.status
    record.reason = outcome.reason
    if plan is not None and outcome.status == HOST_BUILD:
        # No container engine: what was built was built on this machine (its reason says
        # how); a platform it made none of (musllinux) was not built at all.
        for entry, planned in zip(record.details["platforms"], plan):
            if entry["method"] != "container":
                continue
            if planned.builds and set(planned.builds) <= set(outcome.not_built):
                entry["method"], entry["how"] = None, "not built by the host build (see the reason)"
            else:
                entry["method"], entry["how"] = "native", "host build (see the reason)"
    not_built = [*outcome.not_built, *(left_to_others(plan) if plan is not None else ())]
    if not_built:
        record.details[NOT_BUILT] = list(dict.fromkeys(not_built))
    if plan is not None and any(not entry.built_here for entry in plan):
        left = "; ".join(entry.skip_line() for entry in plan if not entry.built_here)
        record.reason = f"{record.reason + ' ' if record.reason else ''}Not built here: {left}."
    _note(ctx, ledger_problem)


def _raise_if_the_host(ctx: RunContext, result: CommandResult, cause: str) -> None:
    """Show the end of a failed command's output (the runner did not stream it), and raise
    what the signatures name when it is this host's doing (the disk, a missing tool), not
    the project's: the caller then raises its own error about the project."""
    if not (ctx.console.verbose or ctx.console.github):
        for text in result.tail:
            ctx.console.line(f"  | {text}")
    failure = CommandFailedError(cause, "", result.argv, result.returncode, result.tail)
    named = diagnose(failure, result.tail)
    if named is not failure:
        raise named


def _before_build(ctx: RunContext, platform: str | None, record: StageRecord) -> None:
    """The project's own step before building (``make cython``), run on this host in the
    project root, before the backend starts and before anything is staged: a failure leaves
    the dist dir as it was. It runs here, not as cibuildwheel's CIBW_BEFORE_BUILD inside its
    containers: that variable would replace the project's own [tool.cibuildwheel]
    before-build, the maturin and build backends have no such hook, and a step that writes
    sources (generated C) must run before cibuildwheel copies the project into its container
    and before the sdist is packed."""
    step = ctx.config.before_build(platform)
    if not step.commands:
        return
    root = ctx.config.project_root
    ctx.console.line(
        f"{step.key} ({ctx.config.shown(ctx.config.pyproject)}): "
        f"{len(step.commands)} command(s) in {root}, before the build."
    )
    record.details["before_build"] = {"key": step.key, "commands": [list(c) for c in step.commands]}
    for argv in step.commands:
        program = argv[0]
        if "/" in program and not Path(program).is_absolute():
            # A script of the project (tools/gen.sh): found in the root, wherever we run from.
            program = str(root / program)
        result = ctx.runner.run(
            [program, *argv[1:]],
            cwd=root,
            env=child_env(extra=source_date_env(ctx)),
            why=f"running {step.key}",
            check=False,
        )
        if result.returncode == 0:
            continue
        _raise_if_the_host(ctx, result, f"{shlex.join(argv)} failed.")
        raise BeforeBuildError(
            f"{shlex.join(argv)}, of {step.key} in {ctx.config.shown(ctx.config.pyproject)}, "
            f"exited with status {result.returncode} (the end of its output is above); "
            "nothing was built, and the dist dir is as it was.",
            f"run it by hand in {root} and fix what it reports, or correct {step.key}; "
            "then run the stage again.",
            result.argv,
            result.returncode,
            result.tail,
        )


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
    with guards(record):
        backend = backend_for(ctx.config)
        record.backend = backend.name
        if not ctx.config.sdist:
            record.status = NOT_SHIPPED
            record.reason = f"sdist = false in {ctx.config.shown(ctx.config.pyproject)}."
            return
        record.tool_versions = backend.tool_versions(None, ctx)
        ctx = _dated(ctx, record)
    _before_build(ctx, None, record)
    with staging_dir(ctx.dist, record.stage) as out:
        backend.build_sdist(ctx, out)
        files = collect(out, ["*.tar.gz"], what="sdist", tool=backend.name)
        if ctx.config.sdist_check:
            for sdist_file in files:
                scratch = out / "sdist-check" / sdist_file.name.removesuffix(".tar.gz")
                _prove_sdist_builds(ctx, sdist_file, scratch, record)
        else:
            reason = f"sdist-check = false in {ctx.config.shown(ctx.config.pyproject)}"
            record.details["sdist_builds"] = [
                {"check": SDIST_CHECK, "result": "not checked", "reason": reason}
            ]
            ctx.console.line(f"Not proved that the sdist builds: {reason}.")
        record.artifacts, ledger_problem = deliver(files, ctx.dist)
    _note(ctx, ledger_problem)


SDIST_CHECK = "a wheel built from the sdist alone, in isolation, as pip install from source does"


def _prove_sdist_builds(ctx: RunContext, sdist: Path, scratch: Path, record: StageRecord) -> None:
    """Build a wheel from the unpacked sdist, in an isolated environment (python -m build
    installs build-system.requires into a fresh one, as pip does for a source install): a
    user without a matching wheel gets exactly this. The wheel stays in the scratch dir."""
    source = _unpack_sdist(sdist, scratch / "unpacked")
    argv = [sys.executable, "-m", "build", "--wheel", "--outdir", str(scratch / "wheel"), "."]
    started = time.monotonic()
    result = ctx.runner.run(
        argv,
        cwd=source,
        env=child_env(extra=source_date_env(ctx)),
        why=f"proving that {sdist.name} builds",
        check=False,
    )
    check = {
        "check": SDIST_CHECK,
        "command": list(result.argv),
        "duration_s": round(time.monotonic() - started, 1),
        "result": "ok" if result.returncode == 0 else "failed",
    }
    record.details.setdefault("sdist_builds", []).append(check)
    if result.returncode == 0:
        ctx.console.line(f"{sdist.name} builds: {SDIST_CHECK} ({check['duration_s']}s).")
        return
    _raise_if_the_host(ctx, result, f"{sdist.name} does not build.")
    pyproject = ctx.config.shown(ctx.config.pyproject)
    raise SdistBuildError(
        f"{sdist.name} does not build, so it is not delivered: building a wheel from it alone, "
        f"as pip install from source does, failed (exit status {result.returncode}; the end "
        f"of the output is above). Likely cause: {_likely_cause(result.tail, source)}",
        f"ship wheels only with sdist = false in [tool.release] ({pyproject}), or put what "
        "the build needs into the sdist (under the package dir, or with the build backend's "
        "sdist include option); to rerun the check by hand, unpack the sdist and run "
        f"{shlex.join(['python', *argv[1:5], 'wheel-out', '.'])} in it.",
        result.argv,
        result.returncode,
        result.tail,
    )


def _unpack_sdist(sdist: Path, into: Path) -> Path:
    """The sdist's top directory (``name-version/``), unpacked under ``into``."""
    try:
        with tarfile.open(sdist) as archive:
            members = archive.getmembers()
            unsafe = [
                m.name
                for m in members
                if PurePosixPath(m.name).is_absolute()
                or ".." in PurePosixPath(m.name).parts
                or not (m.isfile() or m.isdir())
            ]
            if unsafe:
                raise BuildOutputError(
                    f"{sdist.name} holds entries an installer will not unpack: "
                    f"{', '.join(unsafe[:5])}.",
                    "make the sdist hold only plain files and directories under name-version/.",
                )
            # The "data" filter (Python 3.12, and backported) refuses what pip's unpacking
            # refuses; older Pythons have only the check above.
            safe: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            archive.extractall(into, members=members, **safe)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BuildOutputError(
            f"the sdist {sdist.name} cannot be unpacked ({exc}).",
            "build it by hand and look at what the build backend prints; then rerun the stage.",
        ) from exc
    tops = [entry for entry in into.iterdir() if entry.is_dir()]
    markers = ("pyproject.toml", "setup.py")
    buildable = len(tops) == 1 and any((tops[0] / name).is_file() for name in markers)
    if not buildable:
        raise BuildOutputError(
            f"{sdist.name} has no single top directory holding pyproject.toml or setup.py, "
            "which pip needs to build it.",
            "build the sdist with the package's build backend (python -m build --sdist).",
        )
    return tops[0]


# What builds print when the sdist lacks files the checkout has.
_MISSING_FILE_SIGNS = (
    "Cannot find source file",
    "No such file or directory",
    "does not exist",
    "failed to read",
    "failed to load manifest",
    "not found in",
)


def _likely_cause(tail: Sequence[str], source: Path) -> str:
    text = "\n".join(tail)
    outside = _scikit_build_source_dir_outside(source)
    if "does not appear to contain CMakeLists.txt" in text or outside:
        where = (
            f'[tool.scikit-build] cmake.source-dir = "{outside}" points outside the package dir'
            if outside
            else "the CMake sources lie outside the package dir"
        )
        return (
            f"{where}, and an sdist holds only the package dir, so it has no CMakeLists.txt "
            "or C/C++ sources to build."
        )
    if any(sign in text for sign in _MISSING_FILE_SIGNS):
        return (
            "a file the build needs is not in the sdist: the build reaches outside the "
            "package dir, or the build backend left the file out."
        )
    return (
        "the build fails on what the sdist holds; when the same build works in the checkout, "
        "the sdist lacks a file it needs."
    )


def _scikit_build_source_dir_outside(source: Path) -> str | None:
    """scikit-build-core's ``cmake.source-dir``, when it leaves the unpacked sdist."""
    try:
        data = read_toml(source / "pyproject.toml")
    except (ReleaseError, OSError):  # only an explanation; the failed build is the error
        return None
    tool = data.get("tool")
    scikit = tool.get("scikit-build") if isinstance(tool, dict) else None
    cmake = scikit.get("cmake") if isinstance(scikit, dict) else None
    value = cmake.get("source-dir") if isinstance(cmake, dict) else None
    if not isinstance(value, str):
        return None
    resolved = (source / value).resolve()
    return None if resolved.is_relative_to(source.resolve()) else value


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
