"""Where a release goes: the upload URL, the simple index checked before and after, and the
host whose ``/_/oidc/*`` endpoints mint upload tokens."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigValueError

KNOWN = {
    "pypi": ("https://upload.pypi.org/legacy/", "https://pypi.org/simple/"),
    "testpypi": ("https://test.pypi.org/legacy/", "https://test.pypi.org/simple/"),
}


@dataclass(frozen=True)
class Repository:
    name: str  # "pypi", "testpypi", or the upload URL
    upload_url: str
    index_url: str

    @property
    def oidc_base(self) -> str:
        """``https://upload.pypi.org``: the upload URL's host; ``/_/oidc/...`` hangs off it."""
        parts = urlsplit(self.upload_url)
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))

    @property
    def is_pypi(self) -> bool:
        return self.name in KNOWN


def _is_url(text: str) -> bool:
    parts = urlsplit(text)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def resolve(repository: str, index_url: str | None = None) -> Repository:
    """``pypi``, ``testpypi`` or an upload URL, with the index to check against: given, known
    for PyPI and TestPyPI, else ``simple/`` at the upload URL's root."""
    if repository in KNOWN:
        upload, index = KNOWN[repository]
        return Repository(repository, upload, index_url or index)
    if not _is_url(repository):
        raise ConfigValueError(
            f"repository {repository!r} is neither pypi, testpypi nor an http(s) upload URL.",
            'set [tool.release.publish] repository (or --repository) to "pypi", "testpypi" or '
            'an upload URL like "https://upload.example.org/legacy/".',
        )
    if index_url is not None and not _is_url(index_url):
        raise ConfigValueError(
            f"index-url {index_url!r} is not an http(s) URL.",
            'set [tool.release.publish] index-url to the simple index, like "https://example.org/simple/".',
        )
    parts = urlsplit(repository)
    root = urlunsplit((parts.scheme, parts.netloc, "/simple/", "", ""))
    return Repository(repository, repository, index_url or root)
