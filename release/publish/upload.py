"""Uploading with twine: wheels first and the sdist last, one file at a time, retried after
asking the index what landed.

twine is used as a library (``twine.package.PackageFile`` reads and hashes each file as
twine's own ``upload`` does; ``twine.repository.Repository`` posts it): no twine process to
start, which is most of what ``twine upload`` costs for a release of many small files, and
every answer is a status code or an exception instead of text to parse. The token reaches
twine as an argument of the repository session, set before each file (so a trusted-publishing
token minted again when it nears expiry is used at once); it is in no argv, log or file.

A connection error or a 5xx is retried: the index is asked whether the file landed anyway
(its answer may have been lost), then the upload is tried again after a backoff, a bounded
number of times within a bounded time. Any other refusal stops the upload with the index's
reason.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from ..console import human_size
from ..context import RunContext
from ..errors import CredentialsError, UploadConflictError, UploadFailedError
from .credentials import Credentials
from .index import Listing
from .repository import Repository

# PyPI's words when a token minted through a pending publisher names a project that does not
# exist (warehouse/forklift/legacy.py): the publisher was registered under another name.
NON_USER_IDENTITIES = "Non-user identities cannot create new projects"
ATTEMPTS = 5  # per file
BACKOFF_S = (1.0, 2.0, 4.0, 8.0)
GIVE_UP_AFTER_S = 600.0


@dataclass
class Outcome:
    uploaded: list[str] = field(default_factory=list)
    attempts: int = 0  # POSTs made, retries included
    retried_for: list[str] = field(default_factory=list)  # why each retry happened


def _twine() -> tuple[Any, Any, Any]:
    """twine's PackageFile and Repository, and requests' exceptions (imported when needed:
    only publish uploads)."""
    try:
        import requests  # twine's own HTTP library
        from twine.package import PackageFile
        from twine.repository import Repository as TwineRepository
    except ImportError:
        raise UploadFailedError(
            "twine is not installed; publish uploads with it.",
            "pip install 'twine>=6.1', or run nox -s publish, which installs it.",
        ) from None
    return PackageFile, TwineRepository, requests.exceptions


def upload(
    ctx: RunContext,
    files: Sequence[Path],
    repository: Repository,
    *,
    credentials: Credentials,
    landed: Callable[[], Listing],
    expected: dict[str, str],
    outcome: Outcome,
) -> None:
    """Upload ``files`` in this order; ``landed`` asks the index what it holds now, and
    ``expected`` is each file's sha256. ``outcome`` says what was done as it goes, so that
    a failure part way still leaves a true account in the record."""
    package_file, twine_repository, http_errors = _twine()
    started = time.monotonic()
    session = twine_repository(repository.upload_url, "__token__", None, disable_progress_bar=True)
    try:
        for path in files:
            package = package_file.from_filename(str(path), comment=None)
            for attempt in range(1, ATTEMPTS + 1):
                outcome.attempts += 1
                session.session.auth = ("__token__", credentials.token())
                if outcome.attempts == 1:
                    # Said once a token is in hand: a refused mint uploads nothing.
                    ctx.console.line(
                        f"uploading {len(files)} file(s) to {repository.upload_url} with twine"
                    )
                began = time.monotonic()
                try:
                    # max_redirects=1: one POST; the retries are ours, with the index asked.
                    # twine prints "Uploading <file>" itself; our own line says more.
                    with contextlib.redirect_stdout(io.StringIO()) as said:
                        response = session.upload(package, max_redirects=1)
                    for line in said.getvalue().splitlines():
                        ctx.console.detail(f"  | {line}")
                    status, reason = (
                        response.status_code,
                        f"{response.status_code} {response.reason}",
                    )
                    text = response.text
                except (http_errors.ConnectionError, http_errors.Timeout,
                        http_errors.ChunkedEncodingError) as exc:  # fmt: skip
                    status, reason, text = None, f"connection error ({type(exc).__name__})", ""
                if status == 200:
                    ctx.console.line(
                        f"  {path.name} ({human_size(path.stat().st_size)}) uploaded in "
                        f"{time.monotonic() - began:.2f}s"
                    )
                    outcome.uploaded.append(path.name)
                    break
                if status is not None and 300 <= status < 400:
                    raise UploadFailedError(
                        f"{repository.upload_url} redirected the upload of {path.name} "
                        f"({reason}); an upload URL must not redirect.",
                        "set the repository to the URL the index documents for uploads.",
                    )
                if status is not None and status < 500 and status != 429:
                    raise _refusal(status, reason, text, path.name)
                # The answer may be lost although the file landed: ask before trying again.
                if landed().files.get(path.name) == expected[path.name]:
                    ctx.console.line(f"  {path.name}: {reason}, but it is on the index: landed")
                    outcome.uploaded.append(path.name)
                    break
                if attempt == ATTEMPTS or time.monotonic() - started > GIVE_UP_AFTER_S:
                    raise UploadFailedError(
                        f"the upload of {path.name} to {repository.upload_url} still fails after "
                        f"{attempt} attempts ({reason}); {len(files) - len(outcome.uploaded)} "
                        "file(s) are not on the index.",
                        "run the stage again later: it uploads only what is missing.",
                    )
                delay = BACKOFF_S[min(attempt - 1, len(BACKOFF_S) - 1)]
                outcome.retried_for.append(reason)
                ctx.console.line(f"  {path.name}: {reason}; trying again in {delay:.0f}s")
                time.sleep(delay)
    finally:
        session.close()


def _refusal(status: int, reason: str, text: str, name: str) -> Exception:
    said = _index_says(reason, text)
    if status == 400 and "already exists" in f"{reason} {text}":
        return UploadConflictError(
            f"the index refused {name}: a file of that name is already there with other "
            f"content ({said}); it appeared after the plan was made.",
            "bump the version and release again: a file name once used can never be reused.",
        )
    if status == 400 and NON_USER_IDENTITIES in f"{reason} {text}":
        project = _project_of(name)
        link = re.search(r"https?://\S+[^\s.,;)]", f"{reason} {text}")
        return CredentialsError(
            f"the index will not create the project {project!r} for a trusted publisher: the "
            f"pending publisher was registered under another project name than {project!r} "
            "(the name in the files' metadata), and that project was made instead (the index "
            f"says {NON_USER_IDENTITIES!r}{', see ' + link[0] if link else ''}).",
            f"on PyPI, register a pending publisher for the project name {project!r} (Your "
            "account > Publishing) with the same owner, repository, workflow and environment, "
            "delete the project the misnamed one made if you do not want it, then run publish "
            "again.",
        )
    if status in (401, 403):
        return CredentialsError(
            f"the index refused the upload token for {name} ({said}).",
            "the token is not for this project or index: check the trusted publisher (or the "
            "API token's scope) on the index.",
        )
    return UploadFailedError(
        f"the index refused {name}: {said}.",
        "read the index's reason, fix the file (nox -s validate judges it again) and run "
        "publish again.",
    )


def _index_says(reason: str, text: str) -> str:
    """What the index said, once and whole: Warehouse puts its message in the status line
    and again in the body; the body's first line counts only when it adds something (an
    HTML error page adds nothing readable)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first or first.startswith("<") or first in reason:
        return reason
    if reason.split(" ", 1)[-1] in first:
        return first
    return f"{reason}: {first}"


def _project_of(filename: str) -> str:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        return str(parse_sdist_filename(filename)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return filename
