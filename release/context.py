"""One run of nox-release: which project, which dist dir, which tag, where we are running."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .config import ReleaseConfig
from .console import Console
from .runner import Runner


def tag_from_environment(environ: Mapping[str, str]) -> str | None:
    """The tag GitHub Actions is running for: the release workflow's dispatch input (which
    its jobs pass as RELEASE_TAG; GITHUB_REF is then the branch), else a pushed tag."""
    dispatched = environ.get("RELEASE_TAG", "").strip()
    if dispatched:
        return dispatched
    ref = environ.get("GITHUB_REF", "")
    prefix = "refs/tags/"
    return ref[len(prefix) :] if ref.startswith(prefix) else None


@dataclass
class RunContext:
    config: ReleaseConfig
    dist: Path
    console: Console
    runner: Runner
    tag: str | None = None
    strict: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # Where stage records go instead of <dist>/.release (a read-only dist dir).
    record_dir: Path | None = None
    # publish / github-release only rehearse (always so inside the `release` dry run).
    dry_run: bool = False
    # --repository: where publish uploads, instead of [tool.release.publish] repository
    # (and whose index validate's regression check asks).
    repository: str | None = None
    # --arch: the one architecture a build stage builds (a matrix job of the workflow).
    arch: str | None = None
    # --python: the one Python version (3.12) a cibuildwheel build stage builds.
    python: str | None = None

    @property
    def github(self) -> bool:
        return self.console.github

    @property
    def verbose(self) -> bool:
        return self.console.verbose
