"""The ``cibuildwheel`` backend: the cibuildwheel CLI, as the cibuildwheel action runs it.

On Linux cibuildwheel builds inside manylinux containers. Without a working container
engine (laptops without Docker, sandboxes) the stage falls back to a host build of the
running interpreter's wheel and says so in its record as ``host build``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..config import ReleaseConfig
from ..context import RunContext
from ..errors import HostBuildError, ToolNotFoundError
from ..host import container_engine, host_os, machine, python_tag
from ..runner import Runner, child_env
from .base import BuildOutcome, Unavailable
from .build import host_build_linux_wheels, python_build


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


class CibuildwheelBackend:
    name = "cibuildwheel"

    def __init__(self, config: ReleaseConfig) -> None:
        self.config = config

    def unavailable(self, platform: str, ctx: RunContext) -> Unavailable | None:
        if platform == "windows" and host_os() != "windows":
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
            ctx.runner.run(argv, cwd=self.config.project_root, why=f"building {platform} wheels")
            return BuildOutcome()
        engine = container_engine(ctx.runner)
        if engine.name is not None:
            env = child_env(extra={"CIBW_CONTAINER_ENGINE": engine.name})
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
        here = f"{python_tag()}-manylinux_{machine()}"
        if here not in wanted:
            raise HostBuildError(
                f"no container engine ({problem}), and a host build can only make {here} "
                f"wheels, which the project's cibuildwheel selectors do not ask for "
                f"(they ask for: {', '.join(wanted) or 'nothing'}).",
                "install Docker or Podman so cibuildwheel can build in its containers, or "
                "run with an interpreter the selectors name.",
            )
        if not any(ctx.runner.which(cc) for cc in ("cc", "gcc", "clang")):
            raise ToolNotFoundError(
                "no C compiler on PATH (cc, gcc or clang); the host build compiles the "
                "package's native code on this machine.",
                "install one (Debian/Ubuntu: apt-get install gcc), or install Docker or "
                "Podman so cibuildwheel builds in its containers.",
            )
        host_build_linux_wheels(ctx, out)
        left_out = [ident for ident in wanted if ident != here]
        reason = (
            f"no working container engine ({problem}); built {here} on the host with "
            f"python -m build and auditwheel repair --plat "
            f"{self.config.linux.policy}_{machine()} instead of cibuildwheel's containers."
        )
        if left_out:
            reason += f" Not built here: {', '.join(left_out)}."
        return BuildOutcome.host_build(reason)

    def build_sdist(self, ctx: RunContext, out: Path) -> None:
        python_build(ctx, "sdist", out)

    def tool_versions(self, platform: str | None, ctx: RunContext) -> dict[str, str]:
        versions = {"python": sys.version.split()[0]}
        if platform is None:
            versions["build"] = ctx.runner.version_of([sys.executable, "-m", "build", "--version"])
            return versions
        versions["cibuildwheel"] = ctx.runner.version_of(["cibuildwheel", "--version"])
        if platform == "linux" and host_os() == "linux":
            versions["build"] = ctx.runner.version_of([sys.executable, "-m", "build", "--version"])
            versions["auditwheel"] = ctx.runner.version_of(["auditwheel", "--version"])
        return versions
