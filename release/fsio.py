"""Writing files, and telling the machine's faults (a full disk, a read-only folder) apart
from bugs: each becomes an error with its own cause and remedy, never "a bug in nox-release".
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import DiskFullError, DistDirError, NotWritableError, ReleaseError

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}
_NOT_A_DIRECTORY = {errno.ENOTDIR, errno.EEXIST}


def environment_error(exc: OSError, doing: str, path: Path | str) -> ReleaseError | None:
    """The error a user should see for ``exc``, raised while ``doing`` at ``path``; None
    when it is none of the machine faults we know (then it propagates as it is)."""
    where = exc.filename or path
    if exc.errno in _FULL:
        return DiskFullError(
            f"no space left on the device holding {where} while {doing}.",
            "free some space there (df -h shows how much is left), or pass --dist with a "
            "directory on another disk; no file was left half-written.",
        )
    if exc.errno in _NOT_WRITABLE:
        return NotWritableError(
            f"{where} is not writable ({exc.strerror}) while {doing}.",
            "make it writable for this user, or pass --dist with a writable directory "
            "(validate of a read-only folder: add --record-dir DIR).",
        )
    if exc.errno in _NOT_A_DIRECTORY:
        return DistDirError(
            f"{where} is in the way while {doing}: a file stands where a directory must be "
            f"({exc.strerror}).",
            f"remove or rename {where}, or pass --dist with another directory.",
        )
    return None


@contextmanager
def faults_reported(doing: str, path: Path | str) -> Iterator[None]:
    """Turn the machine's write faults inside the block into their own errors."""
    try:
        yield
    except OSError as exc:
        error = environment_error(exc, doing, path)
        if error is None:
            raise
        raise error from exc


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename: readers see the old file or the new one.
    The text's line endings are written as they are (no CRLF on Windows), and a file that
    exists keeps its permissions."""
    with faults_reported(f"writing {path.name}", path):
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = path.stat().st_mode & 0o7777 if path.is_file() else 0o644
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            # mkstemp makes files private; records are shared with CI artifacts and other users.
            Path(tmp).chmod(mode)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
