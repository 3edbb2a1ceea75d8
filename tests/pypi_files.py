"""Real files from PyPI, at pinned versions and sha256, for tests that judge what projects ship.

Each file is downloaded once into ``~/.cache/nox-release-tests`` (``$NOX_RELEASE_TEST_CACHE``
moves it) and checked against its pinned sha256 every time it is used: a file that changed
on the way, or in the cache, fails the test rather than being judged.

    path = pypi_file(MARKUPSAFE_ARM64)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests


@dataclass(frozen=True)
class PypiFile:
    url: str  # files.pythonhosted.org, as PyPI's simple index lists it
    sha256: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[1]


def cache_dir() -> Path:
    configured = os.environ.get("NOX_RELEASE_TEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "nox-release-tests"


def pypi_file(pinned: PypiFile) -> Path:
    """The file, from the cache or downloaded into it; its sha256 checked either way."""
    path = cache_dir() / "pypi" / pinned.filename
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            response = requests.get(pinned.url, timeout=60)
        except requests.ConnectionError as exc:
            # A skip would pass CI without the check ever running: unreachable PyPI fails.
            pytest.fail(f"cannot reach PyPI's files to download {pinned.filename}: {exc}")
        response.raise_for_status()
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(response.content)
        partial.replace(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == pinned.sha256, (
        f"{path} has sha256 {digest}, not the pinned {pinned.sha256}: delete it to download again"
    )
    return path
