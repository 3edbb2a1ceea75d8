"""Facts about the machine a stage runs on: OS, architecture, glibc, container engine."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass

from .runner import Runner


def host_os() -> str:
    """``linux``, ``windows`` or ``macos``: the names the stages use for platforms."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform in ("win32", "cygwin", "msys"):
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return sys.platform


def machine() -> str:
    """The architecture as wheel tags spell it on Linux (x86_64, aarch64, i686)."""
    arch = platform.machine().lower()
    return {"amd64": "x86_64", "arm64": "aarch64", "x86": "i686"}.get(arch, arch)


def glibc_version() -> tuple[int, int] | None:
    """The host's glibc (e.g. ``(2, 36)``), or None off glibc."""
    if host_os() != "linux":
        return None
    try:
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return None
    # "glibc 2.36"
    parts = text.split()
    if len(parts) != 2 or parts[0] != "glibc":
        return None
    major, _, minor = parts[1].partition(".")
    try:
        return int(major), int(minor.split(".")[0])
    except ValueError:
        return None


def python_tag() -> str:
    """``cp311`` for CPython 3.11: the interpreter a host build produces wheels for."""
    impl = "cp" if platform.python_implementation() == "CPython" else "pp"
    return f"{impl}{sys.version_info.major}{sys.version_info.minor}"


@dataclass(frozen=True)
class ContainerEngine:
    name: str | None
    problem: str  # why none is usable, when name is None


def container_engine(runner: Runner, timeout: float = 20.0) -> ContainerEngine:
    """The first of docker/podman whose engine answers, as cibuildwheel would use it.

    A client without a daemon (``docker --version`` works, ``docker info`` does not) is the
    common case on laptops and sandboxes, so the engine itself is asked.
    """
    problems = []
    for name in ("docker", "podman"):
        if runner.which(name) is None:
            problems.append(f"{name}: not installed")
            continue
        result = runner.run(
            [name, "info"], check=False, quiet=True, timeout=timeout, why="asking the engine"
        )
        if result.returncode == 0:
            return ContainerEngine(name, "")
        reason = result.tail[-1] if result.tail else f"exit status {result.returncode}"
        problems.append(f"{name}: {reason[:160]}")
    return ContainerEngine(None, "; ".join(problems))
