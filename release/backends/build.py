"""The ``build`` backend: ``python -m build``, for pure packages and plain native ones.

Its host-build path (``python -m build --wheel`` and, for a Linux-tagged wheel,
``auditwheel repair`` to the manylinux floor) is also what the cibuildwheel backend falls
back to when no container engine is available.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
import tarfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import parse_wheel_filename

from ..build_plan import host_arch, runner_for
from ..config import ReleaseConfig
from ..context import RunContext
from ..errors import BuildOutputError
from ..expected import ExpectedSet
from ..host import glibc_version, host_os, machine
from ..platforms import BuildMethod, Platform
from ..runner import child_env
from ..staging import collect
from .base import BuildOutcome, Unavailable
from .maturin import zig_available
from .reproducible import VARIABLE, clamp_sdist_times, source_date_env


def python_build(
    ctx: RunContext, kind: str, out: Path, extra_env: Mapping[str, str] | None = None
) -> None:
    """``python -m build --wheel|--sdist`` of the package into ``out``."""
    ctx.runner.run(
        [
            sys.executable,
            "-m",
            "build",
            f"--{kind}",
            "--outdir",
            str(out),
            str(ctx.config.package_dir),
        ],
        cwd=ctx.config.package_dir,
        env=child_env(extra={**source_date_env(ctx), **(extra_env or {})}),
        why=f"building the {kind} with python -m build",
    )
    epoch = ctx.environ.get(VARIABLE)
    if kind == "sdist" and epoch:
        for sdist in out.glob("*.tar.gz"):
            try:
                clamped = clamp_sdist_times(sdist, int(epoch))
            except (tarfile.TarError, EOFError, zlib.error) as exc:
                raise BuildOutputError(
                    f"python -m build reported success, but the sdist it wrote, {sdist.name}, "
                    f"is not a readable .tar.gz ({exc}).",
                    "build it by hand (python -m build --sdist) and look at what the build "
                    "backend prints; then rerun the sdist stage.",
                ) from exc
            if clamped:
                ctx.console.detail(
                    f"{sdist.name}: file times later than {VARIABLE} ({epoch}) set to it, "
                    "as the build backend did not."
                )


def pip_wheel(
    ctx: RunContext, python: str, out: Path, extra_env: Mapping[str, str] | None = None
) -> None:
    """The package's wheel for another interpreter, by its own pip (an isolated build, as
    pip install from source does): nox-release's build module is not installed there."""
    ctx.runner.run(
        [python, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out),
         str(ctx.config.package_dir)],
        cwd=ctx.config.package_dir,
        env=child_env(extra={**source_date_env(ctx), **(extra_env or {})}),
        why=f"building the wheel with {python}",
    )  # fmt: skip


def builds_rust(config: ReleaseConfig) -> bool:
    """Whether the package's build runs cargo: a Cargo.toml beside its pyproject.toml, or
    setuptools-rust in its build requirements or tool tables."""
    if (config.package_dir / "Cargo.toml").is_file():
        return True
    package = config.package
    system = package.raw.get("build-system", {})
    requires = system.get("requires", []) if isinstance(system, dict) else []
    named = {str(r).split(";")[0].strip().lower().replace("_", "-") for r in requires}
    return bool(package.tool("setuptools-rust")) or any(
        n.startswith("setuptools-rust") for n in named
    )


def floor_linker(ctx: RunContext, scratch: Path) -> dict[str, str]:
    """Cargo's linker for a host build whose glibc is newer than the floor: zig, linking
    against the floor's glibc, as maturin's ``--zig`` does. With the host's linker a Rust
    extension (setuptools-rust) takes the host's symbol versions (pthread_key_create of
    glibc 2.34, ...) and no repair can bring it down to the floor. Cargo alone reads the
    variable, so a build without Rust is unchanged; a linker the user set is kept."""
    floor = ctx.config.linux.glibc
    host = glibc_version()
    variable = f"CARGO_TARGET_{machine().upper()}_UNKNOWN_LINUX_GNU_LINKER"
    if host is None or host <= floor or variable in os.environ or variable in ctx.environ:
        return {}
    if not builds_rust(ctx.config):
        return {}
    if not zig_available(ctx.environ):
        return {}  # auditwheel's refusal then says it is the host's doing (diagnose)
    zig = shutil.which("zig", path=ctx.environ.get("PATH"))
    command = [zig] if zig else [sys.executable, "-m", "ziglang"]
    target = f"{machine()}-linux-gnu.{floor[0]}.{floor[1]}"
    scratch.mkdir(exist_ok=True)
    script = scratch / "cc"
    script.write_text(
        f'#!/bin/sh\nexec {shlex.join(command)} cc -target {target} "$@"\n', encoding="utf-8"
    )
    script.chmod(0o755)
    return {variable: str(script)}


def host_build_linux_wheels(ctx: RunContext, out: Path, python: str | None = None) -> str | None:
    """Build on the host (with the running interpreter, or ``python``), then repair
    Linux-tagged wheels to the configured manylinux floor. Returns what the build did
    beyond that, for the stage's reason (Rust linked with zig at the floor), or None."""
    raw = out / ("raw" if python is None else f"raw-{Path(python).name}")
    raw.mkdir()
    linker = floor_linker(ctx, out / "floor-linker")
    if python is None:
        python_build(ctx, "wheel", raw, linker)
    else:
        pip_wheel(ctx, python, raw, linker)
    tool = "python -m build" if python is None else f"{python} -m pip wheel"
    policy = f"{ctx.config.linux.policy}_{machine()}"
    for wheel in collect(raw, ["*.whl"], what="wheel", tool=tool):
        if any(tag.platform.startswith("linux_") for tag in parse_wheel_filename(wheel.name)[3]):
            ctx.runner.run(
                [
                    "auditwheel",
                    "repair",
                    "--plat",
                    policy,
                    "--only-plat",
                    "--wheel-dir",
                    str(out),
                    str(wheel),
                ],
                env=child_env(extra=source_date_env(ctx)),
                why=f"repairing {wheel.name} to {policy}",
                remedy=f"the wheel cannot meet {policy} as built on this host: lower what it "
                "links against, or raise [tool.release.linux] manylinux.",
            )
        else:
            wheel.replace(out / wheel.name)
    if not linker:
        return None
    floor = ctx.config.linux.glibc
    return (
        f"cargo linked with zig against glibc {floor[0]}.{floor[1]}, the floor (this host's "
        "glibc is newer)"
    )


class BuildBackend:
    name = "build"

    def __init__(self, config: ReleaseConfig) -> None:
        self.config = config

    def unavailable(self, platform: str, ctx: RunContext) -> Unavailable | None:
        if host_os() != platform:
            return Unavailable(
                f"python -m build builds wheels for the host it runs on, and this host is "
                f"{host_os()}, not {platform}.",
                f"run build-{platform} on a {platform} runner.",
            )
        return None

    def build_method(self, platform: Platform, ctx: RunContext) -> BuildMethod | Unavailable:
        if platform.os == host_os() and platform.arch == host_arch():
            return "native"
        return Unavailable(
            f"python -m build builds the wheel of the machine it runs on, not {platform.name}.",
            f"run build-{platform.os} on {runner_for(platform)}.",
        )

    def build_wheels(
        self,
        platform: str,
        ctx: RunContext,
        out: Path,
        platforms: Sequence[Platform] | None = None,
    ) -> BuildOutcome:
        if platform == "linux":
            host_build_linux_wheels(ctx, out)
        else:
            python_build(ctx, "wheel", out)
        return BuildOutcome()

    def build_sdist(self, ctx: RunContext, out: Path) -> None:
        python_build(ctx, "sdist", out)

    def tool_versions(self, platform: str | None, ctx: RunContext) -> dict[str, str]:
        versions = {
            "python": sys.version.split()[0],
            "build": ctx.runner.version_of([sys.executable, "-m", "build", "--version"]),
        }
        if platform == "linux":
            versions["auditwheel"] = ctx.runner.tool_version("auditwheel")
        return versions

    def expected_wheels(self, ctx: RunContext) -> ExpectedSet | None:
        # python -m build makes whatever the build backend makes, for the running
        # interpreter: only [tool.release.wheels] can say what the release must hold.
        return None
