"""Uploading with twine: wheels first and the sdist last, one file at a time, retried after
asking the index what landed.

twine is used as a library (``twine.package.PackageFile`` reads and hashes each file as
twine's own ``upload`` does; ``twine.repository.Repository`` posts it): no twine process to
start, which is most of what ``twine upload`` costs for a release of many small files, and
every answer is a status code or an exception instead of text to parse. The token reaches
twine as an argument of the repository session, set before each file (so a trusted-publishing
token minted again when it nears expiry is used at once); it is in no argv, log or file.

Every POST has a timeout (the HTTP layer's, mounted on twine's session). A connection error,
a stall past the timeout, a 5xx or a 429 is retried: the index is asked whether the file
landed anyway (its answer may have been lost), then the upload is tried again after a
backoff (or the 429's Retry-After), a bounded number of times within a bounded time. A 409
or "already exists", and any 4xx after a lost answer, is checked against the index's
listing, polled for a few seconds because it may lag: the file may be there with our
sha256. An HTML page with a 200 is believed only if the listing shows the file. Any other
refusal stops the upload with the index's reason.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Callable, Mapping, Sequence
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
from ..errors import (
    AttestationRefusedError,
    CredentialsError,
    UploadConflictError,
    UploadFailedError,
)
from ..http import Http, Policy, give_timeouts, looks_like_html
from ..runner import raise_if_interrupted
from .credentials import Credentials
from .index import Listing
from .repository import Repository

# PyPI's words when a token minted through a pending publisher names a project that does not
# exist (warehouse/forklift/legacy.py): the publisher was registered under another name.
NON_USER_IDENTITIES = "Non-user identities cannot create new projects"
ATTEMPTS = 5  # per file
# Warehouse's words (forklift/legacy.py) before the reason it refused an upload's PEP 740
# attestations for (attestations/services.py); the file is not stored.
INVALID_ATTESTATIONS = "Invalid attestations supplied during upload"


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


@dataclass
class _Try:
    """What one POST came to: ``status`` None when no answer came."""

    status: int | None
    reason: str
    text: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    html: bool = False


def _post(session: Any, package: Any, http_errors: Any, timeout: tuple[float, float]) -> _Try:
    try:
        # max_redirects=1: one POST; the retries are ours, with the index asked.
        # twine prints "Uploading <file>" itself; our own line says more.
        with contextlib.redirect_stdout(io.StringIO()):
            response = session.upload(package, max_redirects=1)
    except http_errors.Timeout as exc:
        waited = timeout[0] if isinstance(exc, http_errors.ConnectTimeout) else timeout[1]
        return _Try(None, f"no answer within {waited:g}s (a stalled upload)")
    except (http_errors.ConnectionError, http_errors.ChunkedEncodingError) as exc:
        return _Try(None, f"connection error ({type(exc).__name__})")
    body = response.content or b""
    return _Try(
        response.status_code, f"{response.status_code} {response.reason}", response.text,
        response.headers, looks_like_html(body),
    )  # fmt: skip


def upload(
    ctx: RunContext,
    files: Sequence[Path],
    repository: Repository,
    *,
    credentials: Credentials,
    landed: Callable[[], Listing],
    expected: dict[str, str],
    outcome: Outcome,
    http: Http | None = None,
    attestations: Mapping[str, Path] | None = None,
) -> None:
    """Upload ``files`` in this order; ``landed`` asks the index what it holds now, and
    ``expected`` is each file's sha256. ``outcome`` says what was done as it goes, so that
    a failure part way still leaves a true account in the record. ``attestations`` maps a
    file's name to its PEP 740 attestation, sent in the same POST (twine's ``--attestations``)."""
    uploader = _Uploader(
        ctx, repository, credentials=credentials, landed=landed, expected=expected,
        outcome=outcome, http=http or Http(), total=len(files),
    )  # fmt: skip
    uploader.attestations = dict(attestations or {})
    try:
        for path in files:
            uploader.one(path, left=len(files) - len(outcome.uploaded))
    finally:
        uploader.close()


class _Uploader:
    def __init__(
        self,
        ctx: RunContext,
        repository: Repository,
        *,
        credentials: Credentials,
        landed: Callable[[], Listing],
        expected: dict[str, str],
        outcome: Outcome,
        http: Http,
        total: int,
    ) -> None:
        self.total = total
        self.attestations: dict[str, Path] = {}
        self.package_file, twine_repository, self.http_errors = _twine()
        self.ctx, self.repository, self.credentials = ctx, repository, credentials
        self.landed, self.expected, self.outcome = landed, expected, outcome
        self.policy = http.policy
        self.http = http
        self.started = time.monotonic()
        self.session = twine_repository(
            repository.upload_url, "__token__", None, disable_progress_bar=True
        )
        # twine sets no timeout on its POST: without one a stalled upload holds the job until
        # CI's own timeout.
        self.timeout = http.timeout(upload=True)
        give_timeouts(self.session.session, self.timeout)

    def close(self) -> None:
        self.session.close()

    def there(self, name: str, *, wait: bool) -> str:
        """``landed`` (on the index with our sha256), ``other`` (with other content) or
        ``absent``; with ``wait``, a listing that lags is polled for a few seconds."""

        def look() -> str | None:
            sha256 = self.landed().files.get(name, "absent")
            if sha256 == self.expected[name]:
                return "landed"
            return None if sha256 == "absent" or not wait else "other"

        return (self.http.poll(look) if wait else look()) or "absent"

    def done(self, name: str, line: str) -> None:
        self.ctx.console.line(line)
        self.outcome.uploaded.append(name)

    def one(self, path: Path, *, left: int) -> None:
        name = path.name
        package = self.package_file.from_filename(str(path), comment=None)
        if name in self.attestations:
            package.add_attestations([str(self.attestations[name])])
        lost_before = False
        for attempt in range(1, ATTEMPTS + 1):
            raise_if_interrupted()  # never a file more after Ctrl-C, wherever it was lost
            self.outcome.attempts += 1
            self.session.session.auth = ("__token__", self.credentials.token())
            if self.outcome.attempts == 1:
                # Said once a token is in hand: a refused mint uploads nothing.
                self.ctx.console.line(
                    f"uploading {self.total} file(s) to {self.repository.upload_url} with twine"
                )
            began = time.monotonic()
            answer = _post(self.session, package, self.http_errors, self.timeout)
            status, reason = answer.status, answer.reason
            if status == 200 and not answer.html:
                size = human_size(path.stat().st_size)
                self.done(name, f"  {name} ({size}) uploaded in {time.monotonic() - began:.2f}s")
                return
            if status is not None and status < 500 and status != 429:
                if self.settled(name, answer, lost_before=lost_before):
                    return
                raise _refusal(status, reason, answer.text, name)
            # The answer may be lost although the file landed: ask before trying again.
            lost_before = True
            if self.there(name, wait=False) == "landed":
                self.done(name, f"  {name}: {reason}, but it is on the index: landed")
                return
            if attempt == ATTEMPTS or time.monotonic() - self.started > self.policy.give_up_after_s:
                raise UploadFailedError(
                    f"the upload of {name} to {self.repository.upload_url} still fails after "
                    f"{attempt} attempts ({reason}); {left} file(s) are not on the index.",
                    "run the stage again later: it uploads only what is missing.",
                )
            after = self.policy.retry_after(answer.headers) if status == 429 else None
            delay = (
                min(after, self.policy.longest_wait_s) if after is not None
                else self.policy.backoff(attempt)
            )  # fmt: skip
            self.outcome.retried_for.append(reason)
            self.ctx.console.line(f"  {name}: {reason}; trying again in {delay:.0f}s")
            time.sleep(delay)

    def settled(self, name: str, answer: _Try, *, lost_before: bool) -> bool:
        """Whether an answer below 500 means the file is on the index after all (True), is
        a refusal (False), or is an error of its own (raised)."""
        status, reason, upload_url = answer.status, answer.reason, self.repository.upload_url
        if status == 200:
            # An HTML page is what a web site or a proxy answers, not an index's upload
            # API: only the index's listing can say whether the file landed.
            if self.there(name, wait=True) == "landed":
                self.done(name, f"  {name}: an HTML page came back, and the index lists the "
                          "file: landed")  # fmt: skip
                return True
            raise UploadFailedError(
                f"{upload_url} answered the upload of {name} with 200 and an HTML page, and "
                "the index does not list the file: that URL is not an index's upload API.",
                "set the repository to the URL the index documents for uploads (PyPI: "
                "https://upload.pypi.org/legacy/).",
            )
        if status is not None and 300 <= status < 400:
            raise UploadFailedError(
                f"{upload_url} redirected the upload of {name} ({reason}); an upload URL must "
                "not redirect.",
                "set the repository to the URL the index documents for uploads.",
            )
        # After a lost answer the file may be there, and a 409 or "already exists" says so
        # in some indexes' words; their listing may lag.
        already = status == 409 or "already exists" in f"{reason} {answer.text}"
        if not (already or lost_before):
            return False
        found = self.there(name, wait=True)
        if found == "landed":
            self.done(name, f"  {name}: {reason}, and the index lists it with the same sha256: "
                      "landed")  # fmt: skip
            return True
        if already and found == "absent":
            raise _not_listed(status or 0, reason, answer.text, name, self.policy)
        return False


def _not_listed(status: int, reason: str, text: str, name: str, policy: Policy) -> Exception:
    said = _index_says(reason, text)
    return UploadFailedError(
        f"the index answered the upload of {name} with {status} ({said}), but its listing "
        f"does not show the file after {policy.listing_wait_s:g}s: it may be refusing it for "
        "another reason, or its listing lags longer.",
        "run publish again in a few minutes: it asks the index first, and uploads only what "
        "is missing.",
    )


def _refusal(status: int, reason: str, text: str, name: str) -> Exception:
    said = _index_says(reason, text)
    if status == 409 or (status == 400 and "already exists" in f"{reason} {text}"):
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
    if status == 400 and INVALID_ATTESTATIONS in f"{reason} {text}":
        return attestation_refused(name, said)
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


def attestation_refused(name: str, said: str) -> AttestationRefusedError:
    """What the index's refusal of an attestation means, and what to change: Warehouse names
    the check that failed (reference §1), and each has its own cause."""
    refused = f"the index refused {name} for its PEP 740 attestation ({said}); the file is not "
    if "only supported when using Trusted Publishing" in said:
        return AttestationRefusedError(
            refused + "on the index: it takes attestations only with an upload token minted "
            "by trusted publishing, and this one was not.",
            "publish with trusted publishing (id-token: write, a trusted publisher on the "
            "index), or set [tool.release.publish] attestations = false to upload with an API "
            "token and no attestations.",
        )
    if "does not match expected Trusted Publisher" in said or "Source Repository" in said:
        return AttestationRefusedError(
            refused + "on the index: the attestation's signing identity is not the trusted "
            "publisher the upload token was minted for. The index compares the publisher "
            "with the certificate's build config, the run's top-level workflow; in a "
            "reusable workflow (jobs.<id>.uses) that is the caller, while the token was "
            "minted for the job's own workflow, the called one (or the publisher names "
            "another repository).",
            "run publish in a job of the top-level workflow itself, not inside a reusable "
            "workflow, with a trusted publisher naming that workflow file in this repository; "
            "or set [tool.release.publish] attestations = false for uploads from a reusable "
            "workflow. Then run publish again: nothing of this file was stored.",
        )
    if "subject does not match" in said:
        return AttestationRefusedError(
            refused + "on the index: the attestation is not of this file (another file's "
            "name, or other bytes: the file changed after it was signed).",
            f"delete {name}.publish.attestation beside the file and run publish again: it "
            "signs the file as it is (nox -s validate first, if the file was rebuilt).",
        )
    if "Verification failed" in said:
        return AttestationRefusedError(
            refused + "on the index: its signature does not verify under the Sigstore trust "
            "root the index uses (PyPI and TestPyPI: Sigstore's public-good production "
            "instance). An attestation signed with another Sigstore (staging, a private one, "
            "a test's) is refused there.",
            "unset NOX_RELEASE_SIGSTORE_TRUST_CONFIG so that publish signs with the public-"
            "good Sigstore, delete the *.publish.attestation files beside the dists, and run "
            "publish again.",
        )
    return AttestationRefusedError(
        refused + "on the index.",
        "read the index's reason; delete the *.publish.attestation files beside the dists "
        "and run publish again (it signs them anew), or set [tool.release.publish] "
        "attestations = false to upload without.",
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
