"""nox-release's per-user cache directory: state about this machine's dist dirs that must not
travel inside them (the delivery ledger), and records a read-only dist dir could not take."""

from __future__ import annotations

import hashlib
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``NOX_RELEASE_CACHE``, else the platform's cache directory."""
    env = os.environ if environ is None else environ
    explicit = env.get("NOX_RELEASE_CACHE")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / "nox-release"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "nox-release"
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nox-release"


def dist_key(dist: Path) -> str:
    """One name per dist dir on this machine (home directories can be shared over NFS)."""
    key = f"{socket.gethostname()}:{dist.resolve()}"
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def records_fallback(dist: Path) -> Path:
    """Where a stage's record goes when the dist dir cannot take it (read-only)."""
    return cache_dir() / "records" / dist_key(dist)
