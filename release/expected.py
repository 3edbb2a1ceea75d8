"""The expected wheel set: which wheels a release must contain, and where that comes from.

An expected wheel is one entry with one or more ``python-abi-platform`` patterns (``*``
wildcards, matched case-sensitively against each tag a wheel's name expands to); any pattern
may match. The entries come from ``[tool.release.wheels]`` when present, else from the
backend, which knows what it builds (:meth:`Backend.expected_wheels`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from .config import WHEEL_PLATFORMS, ReleaseConfig
from .platforms import Platform

# How validate names a wheel that a skipped build could not make on its machine; publish
# refuses a release whose validate record has one.
NOT_BUILT_HERE = "was not built here"


@dataclass(frozen=True)
class ExpectedWheel:
    """One wheel the release must contain: any of ``patterns`` may match it."""

    platform: str  # "linux" | "windows" | "macos"
    patterns: tuple[str, ...]
    shown: str = ""  # how messages name the entry when the patterns alone read badly
    # The build that makes it, as the backend names it (a cibuildwheel identifier): a host
    # build's record names the builds it could not make, and validate excuses those wheels.
    build: str = ""
    # The OS, architecture and libc it is for, when the backend knows (the build stages and
    # the workflow's jobs are per platform).
    build_platform: Platform | None = None

    def matches(self, tags: Iterable[str]) -> bool:
        return any(fnmatch.fnmatchcase(tag, p) for tag in tags for p in self.patterns)

    def describe(self) -> str:
        return self.shown or " or ".join(self.patterns)


@dataclass(frozen=True)
class ExpectedSet:
    wheels: tuple[ExpectedWheel, ...]
    source: str  # "[tool.release.wheels] in pyproject.toml", "cibuildwheel ...", ...

    def for_platform(self, platform: str) -> tuple[ExpectedWheel, ...]:
        return tuple(w for w in self.wheels if w.platform == platform)

    @property
    def platforms(self) -> tuple[Platform, ...]:
        """Every (OS, architecture, libc) some expected wheel is for, in order."""
        found = (w.build_platform for w in self.wheels if w.build_platform is not None)
        return tuple(sorted(set(found), key=lambda p: p.sort_key))


def configured_set(config: ReleaseConfig) -> ExpectedSet | None:
    """``[tool.release.wheels]``, when the project lists its wheels; ``a|b`` means either."""
    if config.wheels is None:
        return None
    wheels = tuple(
        ExpectedWheel(platform, tuple(pattern.split("|")))
        for platform in WHEEL_PLATFORMS
        for pattern in config.wheels.for_platform(platform)
    )
    return ExpectedSet(wheels, f"[tool.release.wheels] in {config.shown(config.pyproject)}")
