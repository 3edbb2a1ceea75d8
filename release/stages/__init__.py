"""The stages, by the names users type, and the one wrapper that runs any of them.

A stage's module is imported when the stage runs: ``publish`` must not pay for importing
validate's checks (pefile alone takes a twentieth of a second) on every start.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ..context import RunContext
from ..records import StageRecord

StageFunction = Callable[[RunContext, StageRecord], None]

# name -> (module in release.stages, function)
STAGES: dict[str, tuple[str, str]] = {
    "check": ("check", "check"),
    "build-linux": ("build", "build_linux"),
    "build-windows": ("build", "build_windows"),
    "build-macos": ("build", "build_macos"),
    "sdist": ("build", "sdist"),
    "validate": ("validate", "validate"),
    "publish": ("publish", "publish"),
    "provenance": ("provenance", "provenance"),
    "github-release": ("github_release", "github_release"),
}

# Stages that create the dist dir; the others only read it.
PRODUCING_STAGES = frozenset({"build-linux", "build-windows", "build-macos", "sdist"})

# The local dry run, in order.
RELEASE_CHAIN: tuple[str, ...] = (
    "check",
    "build-linux",
    "build-windows",
    "build-macos",
    "sdist",
    "validate",
    "publish",
    "github-release",
)


def stage_function(name: str) -> StageFunction:
    module, function = STAGES[name]
    found: StageFunction = getattr(importlib.import_module(f"{__name__}.{module}"), function)
    return found
