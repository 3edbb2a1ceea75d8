"""Advisory file locks, for state that several nox-release processes may update at once."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fh: IO[bytes]) -> bool:
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fh: IO[bytes]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fh: IO[bytes] | int) -> bool:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fh: IO[bytes] | int) -> None:
        fcntl.flock(fh, fcntl.LOCK_UN)


def _wait_for(fh: IO[bytes] | int, path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _try_lock(fh):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} stayed locked for {timeout:.0f}s")
        time.sleep(0.01)


@contextmanager
def locked(path: Path, *, timeout: float = 60.0) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as fh:
        _wait_for(fh, path, timeout)
        try:
            yield
        finally:
            _unlock(fh)


@contextmanager
def locked_directory(directory: Path, *, timeout: float = 60.0) -> Iterator[None]:
    """Hold an exclusive lock on an existing ``directory`` for the block. On POSIX the
    directory itself is locked, so nothing is left in it; Windows cannot lock a directory,
    and a lock file ``.lock`` inside it stands in."""
    if sys.platform == "win32":
        with locked(directory / ".lock", timeout=timeout):
            yield
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        _wait_for(fd, directory, timeout)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


class HeldLock:
    """A lock held for as long as a directory is in use; another process can test whether
    its owner is still alive by trying to take it (the OS drops it when the owner dies)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None

    def acquire(self, *, create: bool = True) -> bool:
        """Take the lock if no one holds it. ``create=False`` for a lock that only its owner
        may bring into being: raises FileNotFoundError when it does not exist (and opens it
        for reading only: a lock on a read-only filesystem can still be tested)."""
        fh = self.path.open("a+b" if create else "rb")
        if _try_lock(fh):
            self._fh = fh
            return True
        fh.close()
        return False

    def release(self) -> None:
        if self._fh is not None:
            _unlock(self._fh)
            self._fh.close()
            self._fh = None
