"""System packages a build needs (``[tool.release.linux] apt-packages``), without YAML logic.

In GitHub Actions on an Ubuntu runner the build installs them with apt-get, through the
runner, before building; anywhere else it checks that each is installed and, when one is
missing, stops before building with the exact command that installs it. (MSYS2 packages on
Windows are the maturin backend's, installed with MSYS2's pacman the same way.)
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .errors import SystemPackageError
from .host import container_engine
from .runner import Runner, child_env

if TYPE_CHECKING:
    from .config import ReleaseConfig


def host_packages(config: ReleaseConfig, runner: Runner) -> tuple[str, ...]:
    """The apt-packages the Linux build on this host needs: all of them, except where
    cibuildwheel builds in its manylinux containers, which never see the host's packages
    (they install their own: [tool.cibuildwheel.linux] before-all)."""
    packages = config.linux.apt_packages
    if packages and config.backend == "cibuildwheel" and container_engine(runner).name:
        return ()
    return packages


def before_all(config: ReleaseConfig) -> bool:
    """Whether cibuildwheel's Linux containers get a before-all command of the package's."""
    table = config.package.tool("cibuildwheel")
    linux = table.get("linux")
    return bool(table.get("before-all")) or (
        isinstance(linux, dict) and bool(linux.get("before-all"))
    )


def missing(runner: Runner, packages: Sequence[str]) -> list[str] | None:
    """The packages dpkg does not report installed; None where there is no dpkg to ask."""
    if not packages or runner.which("dpkg-query") is None:
        return None if packages else []
    result = runner.run(
        ["dpkg-query", "-W", "-f=${Package} ${Status}\\n", *packages],
        check=False,
        quiet=True,
        record=False,
        why="asking dpkg which system packages are installed",
    )
    installed = {
        line.split()[0].split(":")[0]
        for line in result.output.splitlines()
        if line.endswith(" install ok installed")
    }
    return [p for p in packages if p not in installed]


def _sudo() -> list[str]:
    return [] if hasattr(os, "geteuid") and os.geteuid() == 0 else ["sudo"]


def install_command(packages: Sequence[str]) -> list[str]:
    return [*_sudo(), "apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]


def ensure(runner: Runner, packages: Sequence[str], *, install: bool) -> list[str]:
    """Install (when ``install``) or require ``packages``; returns what was installed."""
    absent = missing(runner, packages)
    if absent is None:
        return []  # not a Debian-like system: nothing to ask; the build says what it lacks
    if not absent:
        return []
    if not install:
        raise SystemPackageError(
            f"the build needs the system package(s) {', '.join(absent)} "
            "([tool.release.linux] apt-packages), and they are not installed.",
            f"install them: {shlex.join(install_command(absent))}",
        )
    env = child_env(extra={"DEBIAN_FRONTEND": "noninteractive"})
    # The runner image's package lists can be days old: refresh them first.
    runner.run([*_sudo(), "apt-get", "update", "-q"], env=env, why="refreshing the package lists")
    runner.run(install_command(absent), env=env, why="installing the build's system packages")
    return absent


def install_wanted(environ: Mapping[str, str]) -> bool:
    """Installing system packages is CI's to do: GitHub Actions (its Ubuntu runners allow
    sudo without a password); on a laptop the user decides."""
    return environ.get("GITHUB_ACTIONS") == "true"
