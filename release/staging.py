"""Atomic delivery of artifacts into the dist dir.

A build writes into a private directory beside the dist dir (same filesystem, so the final
move is a rename); only when the build has finished are its files moved in. If the build
fails, the private directory is removed and the dist dir is exactly as it was.
"""

from __future__ import annotations

import errno
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildOutputError, DistDirError
from .records import Artifact, note_delivered


def ensure_dist(dist: Path) -> None:
    if dist.exists() and not dist.is_dir():
        raise DistDirError(
            f"the dist dir {dist} exists and is not a directory.",
            "remove or rename that file, or pass --dist with another path.",
        )
    dist.mkdir(parents=True, exist_ok=True)


@contextmanager
def staging_dir(dist: Path, stage: str) -> Iterator[Path]:
    ensure_dist(dist)
    tmp = Path(tempfile.mkdtemp(prefix=f".{stage}-", dir=dist.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def collect(directory: Path, patterns: Sequence[str], *, what: str, tool: str) -> list[Path]:
    """The files a tool left in ``directory``; none at all is an error, not an empty release."""
    found = sorted({p for pattern in patterns for p in directory.glob(pattern) if p.is_file()})
    if not found:
        raise BuildOutputError(
            f"{tool} finished without error but produced no {what} in {directory}.",
            "run the stage with --verbose and read the tool's output; check the package's "
            "build configuration.",
        )
    return found


def deliver(files: Sequence[Path], dist: Path) -> list[Artifact]:
    """Move finished files into ``dist``; returns what the record should list."""
    ensure_dist(dist)
    artifacts = [Artifact.of(path) for path in files]
    for path in files:
        _move_into(path, dist)
    note_delivered(dist, artifacts)
    return artifacts


def _move_into(path: Path, dist: Path) -> None:
    """Move ``path`` into ``dist`` so that the dist dir never shows half a file."""
    target = dist / path.name
    try:
        path.replace(target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # The dist dir is another filesystem (a mount point): copy beside the target under a
        # hidden name, then rename within the dist dir, which is atomic again.
        partial = dist / f".{path.name}.partial"
        try:
            shutil.copy2(path, partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
