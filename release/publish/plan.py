"""The publish plan: for each validated file, what the index already says about it.

``upload`` (the index does not have it), ``present`` (same name, same sha256: nothing to do)
or ``conflict`` (same name, other content; or a second sdist for a version that has one).
Any conflict means nothing at all is uploaded: the version must be bumped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.utils import InvalidSdistFilename, parse_sdist_filename
from packaging.version import Version

from ..console import Console, human_size
from ..records import Artifact
from .index import Listing

UPLOAD = "upload"
PRESENT = "present"
CONFLICT = "conflict"


@dataclass(frozen=True)
class Step:
    artifact: Artifact
    action: str
    why: str = ""


def _is_sdist(name: str) -> bool:
    return name.endswith((".tar.gz", ".zip"))


def _version_of_sdist(name: str) -> Version | None:
    # A Version, not its text: 1.0 and 1.0.0 are one release to the index.
    try:
        return parse_sdist_filename(name)[1]
    except InvalidSdistFilename:
        return None


def make_plan(artifacts: Sequence[Artifact], listing: Listing) -> list[Step]:
    """Wheels first, the sdist last: the order they are uploaded in."""
    ordered = sorted(artifacts, key=lambda a: (_is_sdist(a.name), a.name))
    sdists_there = {_version_of_sdist(name): name for name in listing.files if _is_sdist(name)}
    steps = []
    for artifact in ordered:
        there = listing.files.get(artifact.name, "absent")
        if there == "absent":
            other = (
                sdists_there.get(_version_of_sdist(artifact.name))
                if _is_sdist(artifact.name)
                else None
            )
            if other is not None:
                steps.append(Step(artifact, CONFLICT, f"the version already has an sdist, {other}"))
            else:
                steps.append(Step(artifact, UPLOAD))
        elif there is None:
            steps.append(
                Step(artifact, CONFLICT, "the index lists it without a sha256, so its content "
                     "cannot be compared")
            )  # fmt: skip
        elif there == artifact.sha256:
            steps.append(Step(artifact, PRESENT, "same sha256"))
        else:
            steps.append(
                Step(artifact, CONFLICT, f"the index has other content (sha256 {there[:16]}…)")
            )
    return steps


def print_plan(console: Console, steps: Sequence[Step], where: str) -> None:
    console.line(f"plan against {where}:")
    rows = [[s.action, s.artifact.name, human_size(s.artifact.size), s.why] for s in steps]
    console.table(["action", "file", "size", "why"], rows)
