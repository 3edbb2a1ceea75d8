"""The publish plan: for each validated file, what the index already says about it.

``upload`` (the index does not have it), ``present`` (same name, same sha256: nothing to do)
or ``conflict`` (same name, other content; or a second sdist for a version that has one).
Any conflict means nothing at all is uploaded: the version must be bumped.

``closed``: the file is missing, but the index has the release for more than 14 days, and
PyPI takes no new files for such a release (since July 2026). The release's age is its
oldest file's ``upload-time`` (PEP 700); an index that gives none is not judged, nor one that
is not Warehouse (PyPI's software): the rule is PyPI's, not every index's.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from ..console import Console, human_size
from ..records import Artifact
from .index import Listing

UPLOAD = "upload"
PRESENT = "present"
CONFLICT = "conflict"
CLOSED = "closed"
CLOSED_AFTER = datetime.timedelta(days=14)


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


def version_of(name: str) -> Version | None:
    """The version in a wheel's or an sdist's file name; None when it names none."""
    if not name.endswith(".whl"):
        return _version_of_sdist(name)
    try:
        return parse_wheel_filename(name)[1]
    except InvalidWheelFilename:
        return None


def release_age(
    artifacts: Sequence[Artifact], listing: Listing, now: datetime.datetime | None = None
) -> datetime.timedelta | None:
    """How long the index has had the artifacts' release: since its oldest file's
    upload-time; None when it holds none of its files or gives no upload times."""
    versions = {version_of(a.name) for a in artifacts} - {None}
    times = [
        when
        for name, when in listing.upload_times.items()
        if name in listing.files and version_of(name) in versions
    ]
    if not times:
        return None
    return (now or datetime.datetime.now(datetime.timezone.utc)) - min(times)


def closes_old_releases(upload_url: str) -> bool:
    """Whether the index refuses new files for a release older than 14 days: Warehouse does
    (PyPI, TestPyPI), and takes uploads at ``/legacy/``, a path no other index server uses
    (devpi, pypiserver, Artifactory, Nexus, GitLab, CodeArtifact)."""
    return urlsplit(upload_url).path.rstrip("/").endswith("/legacy")


def make_plan(
    artifacts: Sequence[Artifact],
    listing: Listing,
    now: datetime.datetime | None = None,
    *,
    closes_old: bool = True,
) -> list[Step]:
    """Wheels first, the sdist last: the order they are uploaded in. ``closes_old``: the
    index applies PyPI's 14-day rule (:func:`closes_old_releases`)."""
    ordered = sorted(artifacts, key=lambda a: (_is_sdist(a.name), a.name))
    sdists_there = {_version_of_sdist(name): name for name in listing.files if _is_sdist(name)}
    age = release_age(artifacts, listing, now) if closes_old else None
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
            elif age is not None and age > CLOSED_AFTER:
                steps.append(
                    Step(artifact, CLOSED, f"the release is {age.days} days old on the index")
                )
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
