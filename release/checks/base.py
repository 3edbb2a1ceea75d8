"""What every check of ``validate`` is: a name users see, the files it applies to, and a run
that turns distributions into findings."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from packaging.version import Version

from ..config import ReleaseConfig
from ..dists import Distribution, Stray
from ..errors import DamagedRecordError, ReleaseError
from ..expected import ExpectedSet
from ..publish.index import Listing
from ..records import ERROR, INFO, WARNING, Finding, StageRecord
from ..runner import Runner

# The remedy of every finding that means "this file is not what its build made": said one way.
REBUILD = (
    "rebuild it with its stage (nox -s build-linux, build-windows or sdist) from a clean "
    "checkout; never rename, retag or edit a built file by hand."
)
# Build stages, and the platform each builds.
BUILD_STAGES = {
    "build-linux": "linux",
    "build-windows": "windows",
    "build-macos": "macos",
    "sdist": "sdist",
}


@dataclass(frozen=True)
class CheckContext:
    """What the checks know beyond the files: the project, the tag, the build records, the
    wheels the backend says it builds. Made once by validate."""

    config: ReleaseConfig
    dist_dir: Path
    runner: Runner
    tag: str | None
    strict: bool
    host: str
    build_records: Mapping[str, StageRecord]
    damaged_records: Mapping[str, DamagedRecordError]
    expected: ExpectedSet | None
    expected_problem: ReleaseError | None
    project_version: Version | None
    project_version_source: str
    project_problem: ReleaseError | None
    strays: Sequence[Stray] = ()
    # The regression check's view of the index: where, what it lists for the project, or
    # why it could not be asked (offline, no answer).
    index_url: str = ""
    index_listing: Listing | None = None
    index_problem: str = ""


class NotRun(Exception):
    """A check had nothing to compare the files with (no build records in a folder of
    downloaded files): validate shows it as ``not run`` with ``reason``, never as passed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Check:
    """One check. Subclasses set ``name`` (as users see it), may narrow ``applies_to``, and
    implement ``run``; ``tools`` names the tools that judge the files, whose versions go
    into the validate record."""

    name: ClassVar[str]
    tools: ClassVar[tuple[str, ...]] = ()
    # wheel-set and version have something to say even when no file applies (all missing).
    runs_without_files: ClassVar[bool] = False

    def applies_to(self, dist: Distribution) -> bool:
        return True

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        raise NotImplementedError

    def tool_version(self, tool: str, runner: Runner) -> str:
        """The version of ``tool`` that judges the files: by default the one on PATH."""
        return runner.tool_version(tool)

    # A finding's message is a clause without a closing period (reports add their own); a
    # ReleaseError's cause, which ends with one, can be passed as it is.
    def error(self, message: str, file: str | None = None, remedy: str | None = None) -> Finding:
        return Finding(ERROR, self.name, file, message.rstrip("."), remedy)

    def warning(self, message: str, file: str | None = None, remedy: str | None = None) -> Finding:
        return Finding(WARNING, self.name, file, message.rstrip("."), remedy)

    def info(self, message: str, file: str | None = None) -> Finding:
        return Finding(INFO, self.name, file, message.rstrip("."))


def json_object_in(output: str) -> dict[str, Any] | None:
    """The first JSON object that starts a line of a tool's output."""
    found = _json_in(output, "{")
    return found if isinstance(found, dict) else None


def json_array_in(output: str) -> list[Any] | None:
    """The first JSON array that starts a line of a tool's output."""
    found = _json_in(output, "[")
    return found if isinstance(found, list) else None


def _json_in(output: str, opener: str) -> Any:
    # The tools' log lines, merged from stderr, come before and after the document, and
    # where CI=true they are coloured: an escape sequence holds a "[", so only a document
    # that starts a line is one.
    decoder = json.JSONDecoder()
    for match in re.finditer("^" + re.escape(opener), output, re.MULTILINE):
        try:
            return decoder.raw_decode(output, match.start())[0]
        except ValueError:
            continue
    return None


def readable(dist: Distribution) -> bool:
    """For checks that look inside: an archive that cannot be opened has its integrity error,
    and the tools would only repeat it."""
    return dist.readable and dist.name_problem is None
