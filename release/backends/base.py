"""The contract every build backend meets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..config import ReleaseConfig
from ..context import RunContext
from ..expected import ExpectedSet
from ..platforms import BuildMethod, Platform
from ..records import HOST_BUILD, NOT_SHIPPED, OK, SKIPPED


@dataclass(frozen=True)
class Unavailable:
    """Why a platform is not built here, and what would make it possible.

    ``intentional`` when the configuration says the project has none (``windows = []``):
    nothing to act on, so no warning anywhere.
    """

    reason: str
    remedy: str
    intentional: bool = False

    @property
    def status(self) -> str:
        return NOT_SHIPPED if self.intentional else SKIPPED

    def __str__(self) -> str:
        if self.intentional:
            return self.reason
        return f"{self.reason} What would change this: {self.remedy}"


@dataclass(frozen=True)
class BuildOutcome:
    """``host build`` when the backend fell back from its normal way of building;
    ``not_built`` names the builds (as :attr:`ExpectedWheel.build` does) that this host
    could not make, which the build record keeps for validate."""

    status: str = OK
    reason: str | None = None
    not_built: tuple[str, ...] = ()

    @classmethod
    def host_build(cls, reason: str, not_built: tuple[str, ...] = ()) -> BuildOutcome:
        return cls(HOST_BUILD, reason, not_built)


class Backend(Protocol):
    name: str

    def __init__(self, config: ReleaseConfig) -> None: ...

    def unavailable(self, platform: str, ctx: RunContext) -> Unavailable | None:
        """None when ``platform`` wheels can be built on this host."""

    def build_method(self, platform: Platform, ctx: RunContext) -> BuildMethod | Unavailable:
        """How this host builds ``platform`` (release/build_plan.py), or why it cannot."""

    def build_wheels(
        self,
        platform: str,
        ctx: RunContext,
        out: Path,
        platforms: Sequence[Platform] | None = None,
    ) -> BuildOutcome:
        """Build the wheels of ``platform`` into ``out`` (a fresh, empty directory): of
        ``platforms`` (those of the build plan this host builds), or, None, the host's own."""

    def build_sdist(self, ctx: RunContext, out: Path) -> None:
        """Build the source distribution into ``out``."""

    def tool_versions(self, platform: str | None, ctx: RunContext) -> dict[str, str]:
        """Versions of the tools this backend uses for ``platform`` (None: the sdist)."""

    def expected_wheels(self, ctx: RunContext) -> ExpectedSet | None:
        """The wheels this backend builds for the project, on every platform; None when it
        cannot say (then only ``[tool.release.wheels]`` can). Raises a ReleaseError when
        the project's files it reads are broken or a tool it asks is missing."""
