"""Which files nox-release moved into which dist dir, on this machine.

The dry run empties the dist dir, but only of files nox-release delivered there and that are
unchanged since: a folder downloaded from CI may be the only copy of a release. The ledger
lives in the user's cache directory, not in the dist dir, so it never travels with CI
artifacts (it names the host and local paths). Writers take a lock: parallel builds into one
dist dir each add their files.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from pathlib import Path

from .cache import cache_dir, dist_key
from .errors import ReleaseError
from .fsio import write_text_atomic
from .locking import locked
from .records import Artifact


def _ledger_file(dist: Path) -> Path:
    return cache_dir() / "delivered" / f"{dist_key(dist)}.json"


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def note_delivered(dist: Path, artifacts: Iterable[Artifact]) -> str | None:
    """Add ``artifacts`` to the ledger of ``dist``; the problem, if the ledger cannot be
    written (the delivery itself stands: only a later dry run will not clear these files)."""
    path = _ledger_file(dist)
    try:
        with locked(path.with_suffix(".lock")):
            files = _read(path)
            files.update({a.name: a.sha256 for a in artifacts})
            body = {"dist": str(dist.resolve()), "host": socket.gethostname(), "files": files}
            write_text_atomic(path, json.dumps(body, indent=2, sort_keys=True) + "\n")
    except (ReleaseError, OSError, TimeoutError) as exc:
        cause = exc.cause if isinstance(exc, ReleaseError) else str(exc)
        return f"the delivery ledger {path} could not be updated ({cause})"
    return None


def delivered_here(dist: Path) -> dict[str, str]:
    """name -> sha256 of the files nox-release delivered into ``dist`` on this machine."""
    return _read(_ledger_file(dist))
