"""Build backends: one Protocol, one module per tool."""

from __future__ import annotations

from ..config import ReleaseConfig
from .base import Backend, BuildOutcome, Unavailable
from .build import BuildBackend
from .cibuildwheel import CibuildwheelBackend
from .maturin import MaturinBackend

__all__ = ["Backend", "BuildOutcome", "Unavailable", "backend_for"]


def backend_for(config: ReleaseConfig) -> Backend:
    backends: dict[str, type[Backend]] = {
        "maturin": MaturinBackend,
        "cibuildwheel": CibuildwheelBackend,
        "build": BuildBackend,
    }
    return backends[config.backend](config)
