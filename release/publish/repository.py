"""Where a release goes: the upload URL, the simple index checked before and after, and the
host whose ``/_/oidc/*`` endpoints mint upload tokens."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ..errors import ConfigValueError, CredentialsInUrlError

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


def url_problem(text: str) -> str | None:
    """What keeps ``text`` from being an http(s) URL to talk to, or None."""
    if not text.strip():
        return "is empty"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port out of range raises only when asked for
    except ValueError as exc:  # "http://[::1/simple/": Invalid IPv6 URL
        return f"is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        hint = f' (did you mean "https://{text}"?)' if not parts.scheme and "." in text else ""
        return f"is not an http(s) URL{hint}"
    if not parts.hostname:
        return "has no host name"
    return None


def credentials_in(text: str) -> bool:
    """Whether the URL carries a user name or password (``https://__token__:pypi-...@host``)."""
    try:
        parts = urlsplit(text)
    except ValueError:
        return "@" in text
    return parts.username is not None or parts.password is not None


def _refuse_credentials(key: str, text: str) -> None:
    if credentials_in(text):
        # The URL itself is never repeated: it holds the secret.
        raise CredentialsInUrlError(
            f"{key} holds a user name or password (user:token@host); nox-release would "
            "print and record it with the URL.",
            f"remove them from {key}, and give the token in the PYPI_API_TOKEN environment "
            "variable (in CI a secret; or trusted publishing, which needs none).",
        )


def resolve(repository: str, index_url: str | None = None, *, where: str = "") -> Repository:
    """``pypi``, ``testpypi`` or an upload URL, with the index to check against: given, known
    for PyPI and TestPyPI, else ``simple/`` at the upload URL's root. ``where`` says where the
    repository was given (--repository), for the errors."""
    repository_key = where or "[tool.release.publish] repository"
    _refuse_credentials(repository_key, repository)
    if index_url is not None:
        _refuse_credentials("[tool.release.publish] index-url", index_url)
        problem = url_problem(index_url)
        if problem is not None:
            raise ConfigValueError(
                f"[tool.release.publish] index-url {index_url!r} {problem}.",
                'set index-url to the simple index, like "https://example.org/simple/", or '
                "leave it out for the repository's own index.",
            )
    if repository in KNOWN:
        upload, index = KNOWN[repository]
        return Repository(repository, upload, index_url or index)
    problem = url_problem(repository)
    if problem is not None:
        detail = "" if problem.startswith("is not an http(s) URL") and "?" not in problem else (
            f": it {problem}")  # fmt: skip
        raise ConfigValueError(
            f"{repository_key} {repository!r} is neither pypi, testpypi nor an http(s) upload "
            f"URL{detail}.",
            f'set {repository_key} to "pypi", "testpypi" or an upload URL like '
            '"https://upload.example.org/legacy/".',
        )
    parts = urlsplit(repository)
    root = urlunsplit((parts.scheme, parts.netloc, "/simple/", "", ""))
    return Repository(repository, repository, index_url or root)
