"""Atomic delivery of artifacts into the dist dir.

A build writes into a private scratch directory, ``<dist>/.release/tmp/<stage>-*`` (same
filesystem as the dist dir, so the final move is a rename); only when the build has finished
are its files moved in. If the build fails or is interrupted, the scratch directory is
removed and the dist dir is exactly as it was (but for the failed stage's record). A scratch
directory left by a process that was killed outright (SIGKILL, a power cut) is found and
removed by the next stage: each holds a lock file its owner keeps locked while alive.

A scratch directory exists for a moment before its owner has locked it, so making one and
sweeping stale ones exclude each other (a lock on the records dir): a sweep never sees a
directory that is still starting, and may take any directory without a lock for a dead one.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildOutputError, DistDirError
from .fsio import faults_reported, records_dir_is_a_file
from .ledger import note_delivered
from .locking import HeldLock, locked_directory
from .records import RECORD_DIR, Artifact

SCRATCH = "tmp"
_OWNER = ".owner.lock"


def ensure_dist(dist: Path) -> None:
    if dist.exists() and not dist.is_dir():
        raise DistDirError(
            f"the dist dir {dist} exists and is not a directory.",
            "remove or rename that file, or pass --dist with another path.",
        )
    records = dist / RECORD_DIR
    if records.exists() and not records.is_dir():
        raise records_dir_is_a_file(records)
    with faults_reported("creating the dist dir", dist):
        dist.mkdir(parents=True, exist_ok=True)


def scratch_root(dist: Path) -> Path:
    return dist / RECORD_DIR / SCRATCH


def remove_stale_scratch(dist: Path) -> list[Path]:
    """Remove scratch directories whose owner is gone; returns what was removed."""
    root = scratch_root(dist)
    if not root.is_dir():
        return []
    removed = []
    with locked_directory(root.parent):
        if not root.is_dir():
            return []  # the last stage using it removed it meanwhile
        for entry in root.iterdir():
            lock = HeldLock(entry / _OWNER)
            try:
                # Never create the lock: that is for the owner alone.
                alive = not lock.acquire(create=False)
            except OSError:
                alive = False  # no lock file: its owner died before taking it, or is removing it
            if not alive:
                lock.release()
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        with contextlib.suppress(OSError):
            root.rmdir()  # only when nothing else is in use
    return removed


@contextmanager
def staging_dir(dist: Path, stage: str) -> Iterator[Path]:
    ensure_dist(dist)
    root = scratch_root(dist)
    owner: HeldLock | None = None
    with faults_reported(f"making a scratch directory for {stage}", dist):
        root.parent.mkdir(exist_ok=True)
    # mkdtemp's error names the directory it tried to make, a random name: name its parent.
    reported = faults_reported(f"making a scratch directory for {stage}", dist, named=root)
    with reported, locked_directory(root.parent):
        root.mkdir(exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"{stage}-", dir=root))
        owner = HeldLock(tmp / _OWNER)
        owner.acquire()
    try:
        yield tmp
    finally:
        owner.release()
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError), locked_directory(root.parent):
            root.rmdir()  # only when no other stage is using it


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


def deliver(files: Sequence[Path], dist: Path) -> tuple[list[Artifact], str | None]:
    """Move finished files into ``dist``; what the record should list, and a note when the
    delivery ledger could not be updated."""
    ensure_dist(dist)
    artifacts = [Artifact.of(path) for path in files]
    # A rename's error names the scratch file; what refuses it is the dist dir.
    with faults_reported("moving the built files into the dist dir", dist, named=dist):
        for path in files:
            _move_into(path, dist)
    return artifacts, note_delivered(dist, artifacts)


def _move_into(path: Path, dist: Path) -> None:
    # The scratch directory is inside the dist dir, so this is a rename: the dist dir never
    # shows half a file, even when it is a mount point of its own.
    path.replace(dist / path.name)
