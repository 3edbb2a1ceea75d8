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

from .errors import DiskFullError, DistDirError, InTheWayError, NotWritableError, ReleaseError

_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG}
_NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}
_NOT_A_DIRECTORY = {errno.ENOTDIR, errno.EEXIST}


def records_dir_is_a_file(records: Path) -> DistDirError:
    """``<dist>/.release`` is a file: no record can be read from it or written into it."""
    return DistDirError(
        f"{records} is a file; nox-release keeps its stage records in a directory of that name.",
        f"remove or rename {records}, or pass --dist with another directory.",
    )


def in_the_way(path: Path) -> Path:
    """What makes a directory at ``path`` impossible: the first of its parents (from the root
    down), or itself, that exists and is not a directory (``.github``, a file, when
    ``.github/workflows`` is made)."""
    for candidate in reversed((path, *path.parents)):
        if (candidate.is_symlink() or candidate.exists()) and not candidate.is_dir():
            return candidate
    return path


def environment_error(
    exc: OSError,
    doing: str,
    path: Path | str,
    *,
    named: Path | None = None,
    dist_options: bool = True,
) -> ReleaseError | None:
    """The error a user should see for ``exc``, raised while ``doing`` at ``path``; None
    when it is none of the machine faults we know (then it propagates as it is).

    ``named`` is the path the message names, instead of the one the OS error carries (a
    temporary file the user never asked for). ``dist_options``: the command has --dist and
    --record-dir to offer as a way out (the stages; not init, not workflows)."""
    where = named or exc.filename or path
    if exc.errno in _FULL:
        elsewhere = ", or pass --dist with a directory on another disk" if dist_options else ""
        return DiskFullError(
            f"no space left on the device holding {where} while {doing}.",
            f"free some space there (df -h shows how much is left){elsewhere}; no file was "
            "left half-written.",
        )
    if exc.errno in _NOT_WRITABLE:
        if exc.errno == errno.EPERM:
            # Permission bits give EACCES; EPERM on a write is the immutable or append-only
            # attribute (chattr +i / +a), which no chmod changes, or a policy (SELinux).
            fix = (
                f"it is likely immutable or append-only (lsattr -d {where} shows an 'i' or "
                f"'a'): remove that with chattr -i (or -a) as root"
            )
        else:
            fix = "make it writable for this user"
        elsewhere = (
            ", or pass --dist with a writable directory (validate of a read-only folder: add "
            "--record-dir DIR)"
            if dist_options
            else ""
        )
        return NotWritableError(
            f"{where} is not writable ({exc.strerror}) while {doing}.", f"{fix}{elsewhere}."
        )
    if exc.errno in _NOT_A_DIRECTORY or exc.errno == errno.ELOOP:
        blocking = in_the_way(Path(named or exc.filename or path))
        what = (
            "a symbolic link that loops" if exc.errno == errno.ELOOP else
            "a file stands where a directory must be"
        )  # fmt: skip
        if dist_options:
            return DistDirError(
                f"{blocking} is in the way while {doing}: {what} ({exc.strerror}).",
                f"remove or rename {blocking}, or pass --dist with another directory.",
            )
        return InTheWayError(
            f"{blocking} is in the way while {doing}: {what} ({exc.strerror}).",
            f"remove or rename {blocking}, then run the command again.",
        )
    if exc.errno == errno.EISDIR:
        return directory_in_the_way(
            named or Path(exc.filename2 or exc.filename or path), doing, dist_options=dist_options
        )
    return None


def directory_in_the_way(path: Path, doing: str, *, dist_options: bool = True) -> ReleaseError:
    """The error for a directory at ``path``, where a file must be written."""
    cause = f"{path} is a directory; {doing} needs a file there."
    if dist_options:
        return DistDirError(cause, f"remove or rename the directory {path}, or pass --dist "
                            "with another directory.")  # fmt: skip
    return InTheWayError(cause, f"remove or rename the directory {path}, then run the command "
                         "again.")  # fmt: skip


@contextmanager
def faults_reported(
    doing: str, path: Path | str, *, named: Path | None = None, dist_options: bool = True
) -> Iterator[None]:
    """Turn the machine's write faults inside the block into their own errors."""
    try:
        yield
    except OSError as exc:
        error = environment_error(exc, doing, path, named=named, dist_options=dist_options)
        if error is None:
            raise
        raise error from exc


def write_text_atomic(path: Path, text: str, *, dist_options: bool = True) -> None:
    """Replace ``path`` with ``text`` in one rename: readers see the old file or the new one.
    The text's line endings are written as they are (no CRLF on Windows), and a file that
    exists keeps its permissions. ``dist_options`` as for :func:`environment_error`."""
    doing = f"writing {path.name}"
    with faults_reported(doing, path, dist_options=dist_options):
        path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir():
        raise directory_in_the_way(path, doing, dist_options=dist_options)
    # From here errors name ``path`` or its directory, never the temporary file beside it.
    with faults_reported(doing, path, named=path, dist_options=dist_options):
        mode = path.stat().st_mode & 0o7777 if path.is_file() else 0o644
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        except OSError as exc:
            # Making the file beside it failed: that is the directory's fault.
            error = environment_error(exc, doing, path, named=path.parent,
                                      dist_options=dist_options)  # fmt: skip
            if error is None:
                raise
            raise error from exc
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            # mkstemp makes files private; records are shared with CI artifacts and other users.
            Path(tmp).chmod(mode)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
