"""The stages, by the names users type, and the one wrapper that runs any of them."""

from __future__ import annotations

from collections.abc import Callable

from ..context import RunContext
from ..records import StageRecord
from . import build, publish, validate

StageFunction = Callable[[RunContext, StageRecord], None]

STAGES: dict[str, StageFunction] = {
    "build-linux": build.build_linux,
    "build-windows": build.build_windows,
    "sdist": build.sdist,
    "validate": validate.validate,
    "publish": publish.publish,
}

# Stages that create the dist dir; the others only read it.
PRODUCING_STAGES = frozenset({"build-linux", "build-windows", "sdist"})

# The local dry run, in order.
RELEASE_CHAIN: tuple[str, ...] = ("build-linux", "build-windows", "sdist", "validate", "publish")
