"""The ``cibuildwheel`` backend: the cibuildwheel CLI, as the cibuildwheel action runs it.

On Linux cibuildwheel builds inside manylinux containers. Without a working container
engine (laptops without Docker, sandboxes) the stage falls back to a host build of the
running interpreter's wheel and says so in its record as ``host build``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import PLATFORMS, ReleaseConfig
from ..context import RunContext
from ..errors import HostBuildError, ToolNotFoundError
from ..expected import ExpectedSet, ExpectedWheel
from ..host import container_engine, host_os, machine, python_tag
from ..project.pyproject import read_package
from ..runner import Runner, child_env
from .base import BuildOutcome, Unavailable
from .build import host_build_linux_wheels, python_build
from .interpreters import Interpreter, Search, find_interpreter, how_to_install
from .reproducible import VARIABLE, source_date_env

_PASS_LINUX = "CIBW_ENVIRONMENT_PASS_LINUX"


def cibuildwheel_env(ctx: RunContext, extra: dict[str, str]) -> dict[str, str]:
    """The environment of cibuildwheel, the build's date included. Linux builds run in
    containers, which get only the variables that environment-pass names; the variable
    replaces the pyproject.toml option, so it carries the user's list plus the date."""
    env = child_env(extra={**extra, **source_date_env(ctx)})
    if VARIABLE not in env:
        return env
    if _PASS_LINUX in env:
        passed = env[_PASS_LINUX].split()
    else:
        passed = _environment_pass(read_package(ctx.config.package_dir).tool("cibuildwheel"))
    if VARIABLE not in passed:
        env[_PASS_LINUX] = " ".join([*passed, VARIABLE])
    return env


def _environment_pass(table: Mapping[str, Any]) -> list[str]:
    """``environment-pass`` of [tool.cibuildwheel.linux], else of [tool.cibuildwheel]."""
    linux = table.get("linux")
    for scope in (linux if isinstance(linux, dict) else {}, table):
        value = scope.get("environment-pass")
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [str(name) for name in value]
    return []


_IDENTIFIER = re.compile(
    r"(?P<impl>cp|pp|gp)(?P<major>\d)(?P<minor>\d+)(?P<ft>t?)(_\d+)?-(?P<plat>.+)"
)


def build_identifiers(config: ReleaseConfig, runner: Runner, platform: str) -> list[str]:
    """What cibuildwheel would build for ``platform``, from the package's own selectors.

    ``--print-build-identifiers`` runs on any OS, so validate uses it too.
    """
    result = runner.run(
        [
            "cibuildwheel",
            "--print-build-identifiers",
            "--platform",
            platform,
            str(config.package_dir),
        ],
        cwd=config.project_root,
        why=f"listing the {platform} build identifiers",
        quiet=True,
    )
    return [line.strip() for line in result.output.splitlines() if line.strip()]


def _host_python(identifier: str, arch: str) -> tuple[str, bool] | None:
    """``("3.13", False)`` for ``cp313-manylinux_x86_64`` on an x86_64 host: the CPython
    a host build of that identifier needs; None for what a host build cannot make."""
    match = _IDENTIFIER.fullmatch(identifier)
    if match is None or match["impl"] != "cp" or match["plat"] != f"manylinux_{arch}":
        return None
    return f"{match['major']}.{match['minor']}", bool(match["ft"])


def _identifier_platform(plat: str) -> str:
    """cibuildwheel's ``manylinux_x86_64`` -> a pattern for the tag the wheel gets
    (``manylinux_2_17_x86_64``, ``manylinux2014_x86_64``...)."""
    for libc in ("manylinux", "musllinux"):
        if plat.startswith(libc + "_"):
            return f"{libc}*_{plat[len(libc) + 1 :]}"
    return plat


def wheel_for_identifier(identifier: str, platform: str) -> ExpectedWheel:
    """The wheel a cibuildwheel build identifier produces.

    A CPython build may also produce an abi3 wheel (``py_limited_api``); its tag names the
    oldest CPython it supports, which can be any minor version up to the building one.
    """
    match = _IDENTIFIER.fullmatch(identifier)
    if match is None:
        plat = identifier.split("-", 1)[-1]
        return ExpectedWheel(
            platform, (f"*-*-{_identifier_platform(plat)}",), identifier, identifier
        )
    plat = _identifier_platform(match["plat"])
    version = match["major"] + match["minor"]
    if match["impl"] == "pp":
        return ExpectedWheel(platform, (f"pp{version}-*-{plat}",), build=identifier)
    if match["impl"] == "gp":
        return ExpectedWheel(platform, (f"graalpy{version}-*-{plat}",), build=identifier)
    native = f"cp{version}-cp{version}{match['ft']}-{plat}"
    if match["ft"]:
        return ExpectedWheel(platform, (native,), build=identifier)
    major, minor = match["major"], int(match["minor"])
    abi3 = tuple(f"cp{major}{m}-abi3-{plat}" for m in range(minor, 1, -1))
    shown = f"{native} (or cp{major}Y-abi3-{plat}, Y <= {minor})"
    return ExpectedWheel(platform, (native, *abi3), shown, identifier)


class CibuildwheelBackend:
    name = "cibuildwheel"

    def __init__(self, config: ReleaseConfig) -> None:
        self.config = config

    def unavailable(self, platform: str, ctx: RunContext) -> Unavailable | None:
        if platform == "windows" and host_os() != "windows":
            if not build_identifiers(self.config, ctx.runner, "windows"):
                return Unavailable(
                    "the project's cibuildwheel selectors build no Windows wheels.",
                    "add Windows identifiers to [tool.cibuildwheel] build to ship some.",
                    intentional=True,
                )
            return Unavailable(
                "cibuildwheel builds Windows wheels only on Windows (MSVC and the "
                "Windows CPython builds are not available here).",
                "run build-windows on a Windows runner (runs-on: windows-latest).",
            )
        if platform == "linux" and host_os() == "windows":
            return Unavailable(
                "cibuildwheel's Linux builds need a Linux container engine, which Windows "
                "runners do not offer.",
                "run build-linux on a Linux runner (runs-on: ubuntu-latest).",
            )
        return None

    def build_wheels(self, platform: str, ctx: RunContext, out: Path) -> BuildOutcome:
        argv = [
            "cibuildwheel",
            "--platform",
            platform,
            "--output-dir",
            str(out),
            str(self.config.package_dir),
        ]
        if platform != "linux" or host_os() != "linux":
            ctx.runner.run(
                argv,
                cwd=self.config.project_root,
                env=cibuildwheel_env(ctx, {}),
                why=f"building {platform} wheels",
            )
            return BuildOutcome()
        engine = container_engine(ctx.runner)
        if engine.name is not None:
            env = cibuildwheel_env(ctx, {"CIBW_CONTAINER_ENGINE": engine.name})
            ctx.runner.run(
                argv,
                cwd=self.config.project_root,
                env=env,
                why="building Linux wheels in manylinux containers",
            )
            return BuildOutcome()
        return self._host_build(ctx, out, engine.problem)

    def _host_build(self, ctx: RunContext, out: Path, problem: str) -> BuildOutcome:
        wanted = build_identifiers(self.config, ctx.runner, "linux")
        arch = machine()
        buildable = [ident for ident in wanted if _host_python(ident, arch) is not None]
        if not buildable:
            raise HostBuildError(
                f"no container engine ({problem}), and a host build can only make CPython "
                f"manylinux_{arch} wheels (cpXY-manylinux_{arch}), which the project's "
                f"cibuildwheel selectors do not ask for (they ask for: "
                f"{', '.join(wanted) or 'nothing'}).",
                "install Docker or Podman so cibuildwheel can build in its containers.",
            )
        if not any(ctx.runner.which(cc) for cc in ("cc", "gcc", "clang")):
            raise ToolNotFoundError(
                "no C compiler on PATH (cc, gcc or clang); the host build compiles the "
                "package's native code on this machine.",
                "install one (Debian/Ubuntu: apt-get install gcc), or install Docker or "
                "Podman so cibuildwheel builds in its containers.",
            )
        here = f"{python_tag()}-manylinux_{arch}"
        builds: list[tuple[str, Interpreter | None]] = []  # None: the running interpreter
        missing: list[Search] = []
        for ident in buildable:
            if ident == here:
                builds.append((ident, None))
                continue
            version, free_threaded = _host_python(ident, arch) or ("", False)
            search = find_interpreter(ctx.runner, ctx.environ, version, free_threaded=free_threaded)
            if search.found is None:
                missing.append(search)
            else:
                builds.append((ident, search.found))
        if not builds:
            looked = "; ".join(f"{s.wanted}: {', '.join(s.rejected)}" for s in missing)
            newest = missing[-1].version
            raise HostBuildError(
                f"no container engine ({problem}), and no interpreter the project's "
                f"cibuildwheel selectors name ({', '.join(buildable)}) is installed for a "
                f"host build (looked for {looked}).",
                "install Docker or Podman so cibuildwheel can build in its containers, or "
                f"get Python {newest}: {how_to_install(newest)}.",
            )
        notes = {
            host_build_linux_wheels(ctx, out, None if interpreter is None else interpreter.path)
            for _ident, interpreter in builds
        }
        built = ", ".join(
            f"{ident} (python -m build)" if interpreter is None
            else f"{ident} (pip wheel with {interpreter.path}, from {interpreter.source})"
            for ident, interpreter in builds
        )  # fmt: skip
        reason = (
            f"no working container engine ({problem}); built {built} on the host, then "
            f"auditwheel repair --plat {self.config.linux.policy}_{arch}, instead of "
            "cibuildwheel's containers."
        )
        said = sorted(note for note in notes if note is not None)
        reason += "".join(f" {note[0].upper()}{note[1:]}." for note in said)
        left_out = [ident for ident in wanted if ident not in dict(builds)]
        if left_out:
            reason += f" Not built here: {', '.join(left_out)}."
        if missing:
            pythons = ", ".join(s.wanted for s in missing)
            reason += (
                f" Not installed to build with: {pythons}; to build it here: "
                f"{how_to_install(missing[-1].version)}."
            )
        return BuildOutcome.host_build(reason, tuple(left_out))

    def build_sdist(self, ctx: RunContext, out: Path) -> None:
        python_build(ctx, "sdist", out)

    def tool_versions(self, platform: str | None, ctx: RunContext) -> dict[str, str]:
        versions = {"python": sys.version.split()[0]}
        if platform is None:
            versions["build"] = ctx.runner.version_of([sys.executable, "-m", "build", "--version"])
            return versions
        versions["cibuildwheel"] = ctx.runner.tool_version("cibuildwheel")
        if platform == "linux" and host_os() == "linux":
            versions["build"] = ctx.runner.version_of([sys.executable, "-m", "build", "--version"])
            versions["auditwheel"] = ctx.runner.tool_version("auditwheel")
        return versions

    def expected_wheels(self, ctx: RunContext) -> ExpectedSet:
        wheels: list[ExpectedWheel] = []
        listed = []
        for platform in PLATFORMS:
            identifiers = build_identifiers(self.config, ctx.runner, platform)
            wheels += [wheel_for_identifier(i, platform) for i in identifiers]
            listed.append(f"{platform}: {', '.join(identifiers) or 'none'}")
        return ExpectedSet(
            tuple(wheels), f"cibuildwheel --print-build-identifiers ({'; '.join(listed)})"
        )
