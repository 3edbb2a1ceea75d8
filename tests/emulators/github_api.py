"""GitHub's REST API for releases and release assets, as a release job's token sees it.

    with GitHubAPI() as github:
        env = github.env()          # GITHUB_API_URL, GITHUB_SERVER_URL, GITHUB_REPOSITORY, ...
        # POST {url}/repos/octo-org/tally/releases {"tag_name": "v0.3.1", "draft": true}
        # POST upload_url (template expanded) ?name=tally-0.3.1.tar.gz, raw bytes
        # PATCH {url}/repos/octo-org/tally/releases/{id} {"draft": false}
        github.releases, github.asset_bytes, github.latest_id, github.requests

``url`` answers what GitHub spreads over three hosts: the API (``/repos/...``, and
``/repositories/{id}/...``, the form GitHub's ``Link`` headers use), the uploads host
(``/uploads/repos/...``, where GitHub Enterprise Server has it) and the web side
(``html_url``, ``browser_download_url``). Asset downloads are redirected, as GitHub's are,
to a STORAGE server of their own (``storage_url``, another port: another origin) at a
signed URL that expires and that refuses a request still carrying the token ("Only one auth
mechanism allowed", as GitHub's S3 storage says): a client must drop the Authorization
header when it follows the redirect, as ``requests`` does when the origin changes and
``urllib`` does not.

What GitHub does and this follows (docs.github.com/rest/releases, and what its clients have
met; see the report that came with this file):

- Draft releases do not own their tag: a repository may hold several drafts for one tag,
  and a draft beside the published release of that tag. Only a PUBLISHED release conflicts
  with another published one (422 ``already_exists``). ``GET .../releases/tags/{tag}`` finds
  published releases only; a draft's ``html_url`` says ``untagged-<hex>``.
- Publishing makes a release latest unless ``make_latest`` says otherwise (a string:
  ``"true"``, ``"false"``, ``"legacy"``); prereleases and drafts are never latest.
- With ``immutable`` on, a release is immutable from the moment it is published: no asset
  may be added, renamed or deleted, and only its title and notes may change; deleting it
  burns its tag for good.
- Asset names are renamed the way GitHub does (spaces, ``~``, ``:``, brackets... become
  ``.``); the duplicate check is on the renamed name.
- An asset upload needs ``Content-Length`` (411 without), a ``Content-Type`` and at least
  one byte; the asset's ``digest`` is ``sha256:<hex>``.

Artifact attestations (docs.github.com/rest/repos/attestations; what actions/attest sends):

- ``POST /repos/{owner}/{repo}/attestations`` takes ``{"bundle": <Sigstore bundle>}`` from a
  token with ``attestations: write`` (403 "Resource not accessible by integration" without,
  whatever ``contents`` allows) and answers 201 ``{"id": n}``. The bundle must be one:
  ``mediaType`` a Sigstore bundle's, ``verificationMaterial``, and a ``dsseEnvelope`` whose
  payload is an in-toto statement with sha256 subjects (by which it is found again); else
  422. Storing the same bundle again makes another attestation, as nothing says GitHub
  refuses it. Its signature is not checked here: the tests verify what they read back.
- ``GET /repos/{owner}/{repo}/attestations/sha256:<hex>`` lists ``{"attestations":
  [{"bundle", "repository_id", "bundle_url"}]}``, newest first; a digest with none is a 404
  (gh attestation verify takes it as "no attestations found"). As GitHub has answered since
  2026-07-16, whatever the API version, ``bundle`` is null and ``bundle_url`` a pre-signed
  storage URL serving the bundle snappy-compressed (``application/x-snappy``, the raw block
  format gh decodes), refused with a token (``bundles_by_reference = False``: inline, as
  before).
"""

from __future__ import annotations

import base64
import calendar
import collections
import contextlib
import dataclasses
import hashlib
import hmac
import http
import json
import math
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from packaging.version import InvalidVersion, Version

from ._server import Handler, LocalServer

JSON_TYPE = "application/json; charset=utf-8"
API_VERSIONS = ("2022-11-28", "2026-03-10")  # what X-GitHub-Api-Version may ask for
DEFAULT_API_VERSION = "2022-11-28"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
MAKE_LATEST = ("true", "false", "legacy")

DOCS = "https://docs.github.com/rest"
RELEASES_DOCS = "https://docs.github.com/rest/releases/releases"
ASSETS_DOCS = "https://docs.github.com/rest/releases/assets"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_DOCS = RATE_LIMIT_DOCS + "#about-secondary-rate-limits"
VERSION_DOCS = "https://docs.github.com/rest/about-the-rest-api/api-versions"
ATTESTATIONS_DOCS = "https://docs.github.com/rest/repos/attestations"
BUNDLE_MEDIA_TYPES = (
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle.v0.3+json",
)
INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"

IMMUTABLE_UPLOAD = "Cannot upload assets to an immutable release."  # GitHub's words
IMMUTABLE_ASSET_CHANGE = "Cannot modify assets of an immutable release."  # assumed wording
IMMUTABLE_ASSET_DELETE = "Cannot delete assets of an immutable release."  # assumed wording

# The bot a job's GITHUB_TOKEN acts as: the author of its releases, the uploader of assets.
ACTIONS_BOT: dict[str, Any] = {
    "login": "github-actions[bot]",
    "id": 41898282,
    "node_id": "MDM6Qm90NDE4OTgyODI=",
    "type": "Bot",
    "site_admin": False,
}

# GitHub's front answers 502/503/504 with its own HTML page, not the API's JSON.
FRONT_PAGE = """<!DOCTYPE html>
<html>
  <head>
    <meta http-equiv="Content-type" content="text/html; charset=utf-8">
    <title>Unicorn! &middot; GitHub</title>
  </head>
  <body>
    <div class="container">
      <p><strong>{headline}</strong></p>
      <p>Sorry about that. Please try refreshing and contact us if the problem persists.</p>
    </div>
  </body>
</html>
"""
FRONT_HEADLINES = {
    502: "We had issues producing the response to your request.",
    503: "No server is currently available to service your request.",
    504: "We couldn't respond to your request in time.",
}


def asset_name(name: str) -> str:
    """The name GitHub gives an uploaded asset called ``name``.

    GitHub documents only that it "renames asset filenames that have special characters,
    non-alphanumeric characters, and leading or trailing periods". What its users have
    observed: accents are dropped (é -> e), a run of other characters (space, ~, :, (, ),
    !, %, ...) becomes one ``.``, and a ``+`` survives when it arrives percent-encoded (a raw
    ``+`` in the query string is a space, hence ``.``). A leading period gets ``default``
    before it and trailing periods go: that part is assumed, not observed.
    """
    text = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    text = re.sub(r"[^A-Za-z0-9_+\-.]+", ".", text)
    text = re.sub(r"\.{2,}", ".", text).rstrip(".")
    if text.startswith("."):
        text = "default" + text
    return text or "default"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _node_id(prefix: str, number: int) -> str:
    return prefix + "_kwDO" + base64.b64encode(number.to_bytes(8, "big")).decode().rstrip("=")


def _ruby(value: Any) -> str:
    """A value as GitHub's schema errors print it (Ruby's inspect: nil, "text", 1)."""
    return "nil" if value is None else json.dumps(value)


def _version(tag: str) -> Version | None:
    try:
        return Version(tag[1:] if tag[:1] in ("v", "V") else tag)
    except InvalidVersion:
        return None


@dataclass
class _Answer:
    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(status, json.dumps(data, indent=2).encode(), JSON_TYPE, dict(headers or {}))


def _error(status: int, message: str, doc: str = DOCS, **extra: Any) -> _Answer:
    """GitHub's error body: message, then errors (if any), documentation_url, status."""
    data: dict[str, Any] = {"message": message, **extra}
    data["documentation_url"] = doc
    data["status"] = str(status)
    return _json(status, data)


def _validation_failed(doc: str, *errors: dict[str, Any]) -> _Answer:
    return _error(422, "Validation Failed", doc, errors=list(errors))


def _not_found(doc: str = DOCS) -> _Answer:
    return _error(404, "Not Found", doc)


def _bundle_problem(bundle: Any) -> str | None:
    """What keeps ``bundle`` from being a Sigstore bundle of an in-toto statement (the only
    attestations GitHub stores), or None."""
    if not isinstance(bundle, dict):
        return "bundle is required and must be an object"
    if bundle.get("mediaType") not in BUNDLE_MEDIA_TYPES:
        return f"unsupported bundle media type {bundle.get('mediaType')!r}"
    material = bundle.get("verificationMaterial")
    if not isinstance(material, dict) or not material:
        return "verificationMaterial is required"
    if not any(key in material for key in ("certificate", "x509CertificateChain", "publicKey")):
        return "verificationMaterial has no certificate or public key"
    envelope = bundle.get("dsseEnvelope")
    if not isinstance(envelope, dict):
        return "dsseEnvelope is required (message signatures are not attestations)"
    if envelope.get("payloadType") != INTOTO_PAYLOAD_TYPE:
        return f"the envelope's payloadType is {envelope.get('payloadType')!r}, not in-toto"
    if not envelope.get("signatures"):
        return "the envelope has no signatures"
    try:
        statement = json.loads(base64.b64decode(envelope["payload"], validate=True))
        subjects = statement["subject"]
        digests = [s["digest"]["sha256"] for s in subjects]
    except (KeyError, TypeError, ValueError):
        return "the envelope's payload is not an in-toto statement with sha256 subjects"
    if not digests or not all(isinstance(d, str) and re.fullmatch("[0-9a-f]{64}", d)
                              for d in digests):  # fmt: skip
        return "the statement's subjects have no sha256 digests"
    return None


@dataclass
class _Canned:
    """An answer given instead of the API's to the next request that matches."""

    method: str | None
    path: str | None  # a regular expression the whole path must match
    answer: _Answer

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or re.fullmatch(self.path, path) is not None
        )


@dataclass
class _Fault:
    kind: str  # "status", "rate_limit", "secondary", "echo"
    status: int = 502
    seconds: int = 0


class _APIHandler(Handler):
    def do_GET(self) -> None:
        self.dispatch(self._handle)

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _handle(self) -> None:
        api: GitHubAPI = self.server.emulator
        length = self.headers.get("Content-Length")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        if length is not None and not length.strip().isdigit():
            # Unreadable framing: answer without reading (HTTP/1.0, the connection closes).
            body: bytes | None = None
        else:
            body = self.read_body() if (length is not None or chunked) else b""
        stall = api._take_stall(self.command, self.path)
        if stall is not None:
            api._closing.wait(stall)  # say nothing, then hang up
            with contextlib.suppress(OSError):
                self.hang_up()
            return
        answer = api._answer(self.command, self.path, self.headers, body)
        self.send(answer.status, answer.body, answer.content_type, headers=answer.headers)


class _StorageHandler(Handler):
    def do_GET(self) -> None:
        self.dispatch(self._handle)

    do_POST = do_PUT = do_DELETE = do_GET

    def _handle(self) -> None:
        api: GitHubAPI = self.server.emulator
        answer = api._storage_answer(self.command, self.path, self.headers)
        self.send(answer.status, answer.body, answer.content_type, headers=answer.headers)


class _APIServer(LocalServer):
    # socketserver listens with a backlog of 5: a stage uploading a dozen assets at once
    # would see connections wait a second for a SYN retry.
    request_queue_size = 64


class GitHubAPI:
    """Releases and release assets of one repository, on 127.0.0.1 (port chosen by the OS).

    ``url`` is what ``$GITHUB_API_URL`` is set to (also the web side's base, so ``html_url``
    and ``browser_download_url`` point here too). ``token`` is the one token accepted.
    ``releases`` holds the release objects in creation order (drafts included), each with
    its ``assets``; ``asset_bytes`` the bytes of each asset by asset id; ``latest_id`` the
    release ``/releases/latest`` answers. ``requests`` logs (method, path) of every request.
    """

    def __init__(
        self,
        repository: str = "octo-org/tally",
        *,
        token: str | None = None,
        read_only: bool = False,
        attestations_write: bool = True,
        immutable: bool = False,
        drafts_reserve_tags: bool = False,
        repository_id: int = 987654321,
        default_branch: str = "main",
        rate_limit_total: int = 1000,
    ) -> None:
        self.repository = repository
        self.token = token if token is not None else "ghs_" + secrets.token_hex(18)
        # A token without contents: write (a job's GITHUB_TOKEN with contents: read).
        self.read_only = read_only
        # A token with attestations: write (the job's permissions say so).
        self.attestations_write = attestations_write
        # The repository's "release immutability" setting: releases published while it is
        # on are immutable (turning it on later leaves earlier releases as they were).
        self.immutable = immutable
        # False is GitHub: drafts share tags freely. True: any release, draft or not, makes a
        # second one for its tag a 422 (stricter than GitHub; for code that relies on it).
        self.drafts_reserve_tags = drafts_reserve_tags
        self.repository_id = repository_id
        self.default_branch = default_branch
        self.rate_limit_total = rate_limit_total  # x-ratelimit-limit (GITHUB_TOKEN: 1000/h)
        # The pull requests "generate_release_notes" lists: (title, author, number).
        self.pull_requests: list[tuple[str, str, int]] = [("Count the votes", "octocat", 1)]

        self.releases: list[dict[str, Any]] = []
        # Each stored attestation: {"id", "bundle", "digests" (its subjects' sha256)}.
        self.attestations: list[dict[str, Any]] = []
        self._next_attestation_id = 5_000_001
        self.bundles_by_reference = True  # GitHub since 2026-07-16: bundle null, bundle_url
        self.asset_bytes: dict[int, bytes] = {}
        self.latest_id: int | None = None
        self.requests: list[tuple[str, str]] = []

        self._lock = threading.Lock()
        self._faults: collections.deque[_Fault] = collections.deque()
        self._canned: list[_Canned] = []
        self._stalls: list[float] = []
        self._closing = threading.Event()
        self._starter_uploads = 0
        self._untagged: dict[int, str] = {}  # a draft's stand-in tag, untagged-<hex>
        self._burned_tags: set[str] = set()  # tags of deleted immutable releases
        self._next_release_id = 180_000_001
        self._next_asset_id = 260_000_001
        self._used = 0
        self._window_reset = int(time.time()) + 3600
        self._server = _APIServer(_APIHandler, self)
        self.url = f"http://127.0.0.1:{self._server.port}"
        # The storage asset downloads are redirected to; its URLs live this many seconds.
        self.download_lifetime = 300
        self._signing_key = secrets.token_bytes(32)
        self._storage = _APIServer(_StorageHandler, self)
        self.storage_url = f"http://127.0.0.1:{self._storage.port}"

    # --- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> GitHubAPI:
        self._server.start()
        self._storage.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        # Side by side: each stop waits for its server's poll interval.
        storage = threading.Thread(target=self._storage.stop, name="storage-stop")
        storage.start()
        self._server.stop()
        storage.join(timeout=15)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of requests the emulator itself failed on (should stay empty)."""
        return self._server.errors + self._storage.errors

    @property
    def owner(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def server_url(self) -> str:
        """What ``$GITHUB_SERVER_URL`` is set to: the web side, here the same server."""
        return self.url

    def env(self) -> dict[str, str]:
        """The variables a GitHub Actions job in this repository has (and its token)."""
        return {
            "GITHUB_API_URL": self.url,
            "GITHUB_SERVER_URL": self.server_url,
            "GITHUB_REPOSITORY": self.repository,
            "GITHUB_REPOSITORY_ID": str(self.repository_id),
            "GITHUB_TOKEN": self.token,
        }

    # --- faults -----------------------------------------------------------------------

    def fail(self, n: int, status: int = 502) -> None:
        """The next ``n`` API requests answer ``status`` (502/503/504: the front's HTML)."""
        with self._lock:
            self._faults.extend(_Fault("status", status) for _ in range(n))

    def rate_limit(self, n: int = 1, reset_in: int = 2) -> None:
        """The next ``n`` answer 403, x-ratelimit-remaining 0, reset ``reset_in`` s ahead."""
        with self._lock:
            self._faults.extend(_Fault("rate_limit", 403, reset_in) for _ in range(n))

    def secondary_limit(self, n: int = 1, retry_after: int = 1) -> None:
        """The next ``n`` answer 429 with ``retry-after: <retry_after>`` (a secondary limit)."""
        with self._lock:
            self._faults.extend(_Fault("secondary", 429, retry_after) for _ in range(n))

    def echo_token(self, n: int = 1) -> None:
        """The next ``n`` answer 401 quoting the token they came with (as a proxy or a
        misconfigured front might): what nox-release writes must not hold it."""
        with self._lock:
            self._faults.extend(_Fault("echo", 401) for _ in range(n))

    def answer_with(
        self,
        body: bytes | str | Any,
        *,
        status: int = 200,
        content_type: str = JSON_TYPE,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """The next request matching ``method`` and ``path`` (a regular expression the whole
        path must match; None: any) gets this answer instead of the API's: an HTML page from
        a proxy, garbage, a list where an object belongs, an object missing a field. A body
        that is not bytes or str is sent as JSON."""
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._canned.append(_Canned(method, path, _Answer(status, data, content_type)))

    def stall(self, n: int = 1, seconds: float = 60.0) -> None:
        """The next ``n`` API requests are read, then answered with nothing for ``seconds``
        before the connection closes."""
        with self._lock:
            self._stalls.extend([seconds] * n)

    def _take_stall(self, method: str, target: str) -> float | None:
        with self._lock:
            if not self._stalls:
                return None
            self.requests.append((method, urlsplit(target).path))
            return self._stalls.pop(0)

    def fail_uploads(self, n: int = 1) -> None:
        """The next ``n`` asset uploads answer 502 but leave an empty asset in state
        ``starter`` behind, as GitHub documents: retrying the same name then gets 422
        ``already_exists`` until that asset is deleted."""
        with self._lock:
            self._starter_uploads += n

    # --- looking at the state ---------------------------------------------------------

    def release(self, release_id: int) -> dict[str, Any] | None:
        return next((r for r in self.releases if r["id"] == release_id), None)

    def releases_for(self, tag: str) -> list[dict[str, Any]]:
        """Every release (drafts too) whose tag_name is ``tag``."""
        return [r for r in self.releases if r["tag_name"] == tag]

    # --- the request ------------------------------------------------------------------

    def _answer(self, method: str, target: str, headers: Message, body: bytes | None) -> _Answer:
        parts = urlsplit(target)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            self.requests.append((method, path))
            web = self._web(method, path, headers)
            if web is not None:
                return web  # github.com: no API headers, faults or limits
            now = int(time.time())
            if now >= self._window_reset:  # a new hour: the budget is whole again
                self._used, self._window_reset = 0, now + 3600
            self._used += 1
            request_id = "{:04X}:{:06X}:{:06X}:{:07X}:{:08X}".format(
                *(secrets.randbits(bits) for bits in (16, 24, 24, 28, 32))
            )
            fault = self._faults.popleft() if self._faults else None
            canned = next((c for c in self._canned if c.matches(method, path)), None)
            if fault is not None and fault.kind == "echo":
                sent = (headers.get("Authorization") or "").partition(" ")[2]
                answer = _error(401, f"Bad credentials: {sent!r}")
            elif fault is not None:
                answer = self._fault(fault, request_id)
            elif canned is not None:
                self._canned.remove(canned)
                answer = dataclasses.replace(canned.answer, headers=dict(canned.answer.headers))
            else:
                answer = self._api(method, path, query, headers, body)
            limited = fault is not None and fault.kind == "rate_limit"
            reset = now + fault.seconds if fault is not None and limited else self._window_reset
            used = self.rate_limit_total if limited else min(self._used, self.rate_limit_total)
            version = headers.get("X-GitHub-Api-Version") or DEFAULT_API_VERSION
            answer.headers.update(
                {
                    "x-github-api-version-selected": version,
                    "x-github-media-type": "github.v3; format=json",
                    "x-ratelimit-limit": str(self.rate_limit_total),
                    "x-ratelimit-remaining": str(self.rate_limit_total - used),
                    "x-ratelimit-reset": str(reset),
                    "x-ratelimit-used": str(used),
                    "x-ratelimit-resource": "core",
                    "x-github-request-id": request_id,
                }
            )
            return answer

    def _fault(self, fault: _Fault, request_id: str) -> _Answer:
        if fault.kind == "rate_limit":
            message = (
                "API rate limit exceeded for installation ID 12345678. If you reach out to "
                f"GitHub Support for help, please include the request ID {request_id} and "
                f"timestamp {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC."
            )
            return _error(403, message, RATE_LIMIT_DOCS)
        if fault.kind == "secondary":
            message = (
                "You have exceeded a secondary rate limit. Please wait a few minutes before "
                "you try again. If you reach out to GitHub Support for help, please include "
                f"the request ID {request_id}."
            )
            answer = _error(429, message, SECONDARY_DOCS)
            answer.headers["retry-after"] = str(fault.seconds)
            return answer
        if fault.status in FRONT_HEADLINES:
            page = FRONT_PAGE.format(headline=FRONT_HEADLINES[fault.status])
            return _Answer(fault.status, page.encode(), "text/html; charset=utf-8")
        return _json(fault.status, {"message": http.HTTPStatus(fault.status).phrase})

    def _authorized(self, headers: Message) -> bool:
        scheme, _, credential = (headers.get("Authorization") or "").strip().partition(" ")
        return scheme.lower() in ("bearer", "token") and secrets.compare_digest(
            credential.strip().encode(), self.token.encode()
        )

    def _same_repository(self, owner: str, repo: str) -> bool:
        # Owner and repository names are not case sensitive on GitHub.
        return f"{unquote(owner)}/{unquote(repo)}".lower() == self.repository.lower()

    def _api(
        self, method: str, path: str, query: dict[str, list[str]], headers: Message, body: Any
    ) -> _Answer:
        if not self._authorized(headers):
            return _error(401, "Bad credentials")
        version = headers.get("X-GitHub-Api-Version")
        if version is not None and version not in API_VERSIONS:
            return _error(400, f"API version {version} is not supported.", VERSION_DOCS)
        if body is None:  # a Content-Length that is no number
            return _error(400, f"Bad Content-Length: {headers.get('Content-Length')}")
        upload = re.match(r"^/uploads/repos/([^/]+)/([^/]+)/releases/(\d+)/assets$", path)
        if upload:
            if method != "POST" or not self._same_repository(upload[1], upload[2]):
                return _not_found(ASSETS_DOCS + "#upload-a-release-asset")
            return self._upload(int(upload[3]), query, headers, body)
        repo = re.match(r"^/repos/([^/]+)/([^/]+)(/.*)?$", path)
        by_id = re.match(r"^/repositories/(\d+)(/.*)?$", path)
        if repo and self._same_repository(repo[1], repo[2]):
            rest = repo[3] or ""
        elif by_id and int(by_id[1]) == self.repository_id:
            rest = by_id[2] or ""
        else:
            return _not_found()
        return self._repository(method, rest, query, headers, body)

    def _repository(
        self, method: str, rest: str, query: dict[str, list[str]], headers: Message, body: Any
    ) -> _Answer:
        route, doc, args = self._route(method, rest)
        if route is None:
            return _not_found(doc)
        # Attestations have a permission of their own; releases need contents: write.
        refused = (not self.attestations_write) if route == "attest" else self.read_only
        if method in WRITE_METHODS and refused:
            return _error(403, "Resource not accessible by integration", doc)
        if route in ("create", "update", "notes", "update_asset", "attest"):
            payload = self._payload(body, doc)
            if isinstance(payload, _Answer):
                return payload
            args.append(payload)
        if route in ("list", "assets"):
            args.append(query)
        if route == "asset":
            args.append(headers.get("Accept", ""))
        answer: _Answer = getattr(self, "_" + route)(*args)
        return answer

    def _route(self, method: str, rest: str) -> tuple[str | None, str, list[Any]]:
        """(handler name, documentation url, arguments) of a path under the repository."""
        table: list[tuple[str, str, str, str]] = [
            (r"/releases", "GET", "list", "#list-releases"),
            (r"/releases", "POST", "create", "#create-a-release"),
            (r"/releases/latest", "GET", "latest", "#get-the-latest-release"),
            (
                r"/releases/generate-notes",
                "POST",
                "notes",
                "#generate-release-notes-content-for-a-release",
            ),
            (r"/releases/tags/(.+)", "GET", "by_tag", "#get-a-release-by-tag-name"),
            (r"/releases/(\d+)", "GET", "get", "#get-a-release"),
            (r"/releases/(\d+)", "PATCH", "update", "#update-a-release"),
            (r"/releases/(\d+)", "DELETE", "delete", "#delete-a-release"),
            (r"/releases/(\d+)/assets", "GET", "assets", "@#list-release-assets"),
            (r"/releases/assets/(\d+)", "GET", "asset", "@#get-a-release-asset"),
            (r"/releases/assets/(\d+)", "PATCH", "update_asset", "@#update-a-release-asset"),
            (r"/releases/assets/(\d+)", "DELETE", "delete_asset", "@#delete-a-release-asset"),
            (r"/attestations", "POST", "attest", "!#create-an-attestation"),
            (r"/attestations/(sha256:[0-9a-f]{64})", "GET", "attested", "!#list-attestations"),
        ]
        for pattern, verb, name, anchor in table:
            match = re.fullmatch(pattern, rest)
            if match and verb == method:
                base = {"@": ASSETS_DOCS, "!": ATTESTATIONS_DOCS}.get(anchor[0])
                doc = base + anchor[1:] if base else RELEASES_DOCS + anchor
                args: list[Any] = [
                    int(g) if g.isdigit() and name != "by_tag" else unquote(g)
                    for g in match.groups()
                ]
                return name, doc, args
        return None, DOCS, []

    def _payload(self, body: Any, doc: str) -> dict[str, Any] | _Answer:
        if not body or not bytes(body).strip():
            return {}
        try:
            data = json.loads(body)
        except ValueError:  # UnicodeDecodeError included
            return _error(400, "Problems parsing JSON", doc)
        if not isinstance(data, dict):
            return _error(400, "Problems parsing JSON", doc)
        return data

    # --- attestations -----------------------------------------------------------------

    def attestations_of(self, sha256: str) -> list[dict[str, Any]]:
        """The stored attestations one of whose subjects has this sha256."""
        return [a for a in self.attestations if sha256 in a["digests"]]

    def _attest(self, payload: dict[str, Any]) -> _Answer:
        doc = ATTESTATIONS_DOCS + "#create-an-attestation"
        bundle = payload.get("bundle")
        problem = _bundle_problem(bundle)
        if problem is not None:
            return _error(422, f"Invalid bundle: {problem}", doc)
        assert isinstance(bundle, dict)
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        digests = [s["digest"]["sha256"] for s in statement["subject"]]
        attestation_id = self._next_attestation_id
        self._next_attestation_id += 1
        self.attestations.append({"id": attestation_id, "bundle": bundle, "digests": digests})
        return _json(201, {"id": attestation_id})

    def _attested(self, subject_digest: str) -> _Answer:
        found = self.attestations_of(subject_digest.removeprefix("sha256:"))
        if not found:
            return _not_found(ATTESTATIONS_DOCS + "#list-attestations")
        by_reference = self.bundles_by_reference
        return _json(200, {"attestations": [
            {"bundle": None if by_reference else a["bundle"],
             "repository_id": self.repository_id,
             "bundle_url": f"{self.storage_url}/attestations/{a['id']}.json.sn"
                           f"?sig={self._signature(a['id'], 'bundle', '0')}"}
            for a in reversed(found)
        ]})  # fmt: skip

    # --- releases ---------------------------------------------------------------------

    def _api_base(self) -> str:
        return f"{self.url}/repos/{self.repository}"

    def _web_tag(self, release: dict[str, Any]) -> str:
        if release["draft"]:
            return self._untagged[release["id"]]
        return quote(release["tag_name"], safe="")

    def _refresh_urls(self, release: dict[str, Any]) -> None:
        """The URLs that depend on the release being a draft (untagged-...) or published."""
        web = f"{self.server_url}/{self.repository}/releases"
        tag = self._web_tag(release)
        release["html_url"] = f"{web}/tag/{tag}"
        published = not release["draft"]
        quoted = quote(release["tag_name"], safe="")
        release["tarball_url"] = f"{self._api_base()}/tarball/{quoted}" if published else None
        release["zipball_url"] = f"{self._api_base()}/zipball/{quoted}" if published else None
        for asset in release["assets"]:
            asset["browser_download_url"] = f"{web}/download/{tag}/{quote(asset['name'])}"

    def _check_fields(self, payload: dict[str, Any], *, create: bool) -> str | None:
        """GitHub's schema validation of a release body: the message of the first error."""
        if create and "tag_name" not in payload:
            return 'Invalid request.\n\n"tag_name" wasn\'t supplied.'
        for name in ("tag_name", "target_commitish", "name", "body", "discussion_category_name"):
            value = payload.get(name, "")
            if not isinstance(value, str) and not (value is None and name in ("name", "body")):
                return (
                    f"Invalid request.\n\nFor 'properties/{name}', {_ruby(value)} is not a string."
                )
        booleans = ("draft", "prerelease") + (("generate_release_notes",) if create else ())
        for name in booleans:
            if name in payload and not isinstance(payload[name], bool):
                return (
                    f"Invalid request.\n\nFor 'properties/{name}', {_ruby(payload[name])} "
                    "is not a boolean."
                )
        if "make_latest" in payload:
            value = payload["make_latest"]
            if not isinstance(value, str):
                return (
                    f"Invalid request.\n\nFor 'properties/make_latest', {_ruby(value)} "
                    "is not a string."
                )
            if value not in MAKE_LATEST:
                return (
                    f"Invalid request.\n\nFor 'properties/make_latest', {_ruby(value)} is not "
                    'one of ["true", "false", "legacy"].'
                )
        return None

    def _tag_conflict(self, tag: str, release_id: int | None, doc: str) -> _Answer | None:
        """The 422 for publishing (or, strict, creating) a release of ``tag`` now, if any."""
        if tag in self._burned_tags:
            return _validation_failed(
                doc,
                {
                    "resource": "Release",
                    "code": "custom",
                    "field": "tag_name",
                    "message": "tag_name was used by an immutable release",
                },
            )
        claimed = any(
            other["id"] != release_id
            and other["tag_name"] == tag
            and (not other["draft"] or self.drafts_reserve_tags)
            for other in self.releases
        )
        if claimed:
            return _validation_failed(
                doc, {"resource": "Release", "code": "already_exists", "field": "tag_name"}
            )
        return None

    def _release_notes(self, tag: str, previous: str | None = None) -> str:
        web = f"{self.server_url}/{self.repository}"
        if previous is None:
            latest = self.release(self.latest_id) if self.latest_id is not None else None
            previous = latest["tag_name"] if latest and latest["tag_name"] != tag else None
        lines = []
        if self.pull_requests:
            lines.append("## What's Changed")
            lines += [
                f"* {title} by @{author} in {web}/pull/{number}"
                for title, author, number in self.pull_requests
            ]
            lines.append("")
            lines.append("")
        if previous:
            lines.append(f"**Full Changelog**: {web}/compare/{previous}...{tag}")
        else:
            lines.append(f"**Full Changelog**: {web}/commits/{tag}")
        return "\n".join(lines)

    def _legacy_latest(self, exclude: int | None = None) -> int | None:
        """Latest by GitHub's "legacy" rule: the highest version, then the newest release,
        among published full releases (tags that are no version rank below those that are)."""
        candidates = [
            r
            for r in self.releases
            if not r["draft"] and not r["prerelease"] and r["id"] != exclude
        ]
        if not candidates:
            return None

        def key(release: dict[str, Any]) -> tuple[bool, Version, str, int]:
            version = _version(release["tag_name"])
            return (
                version is not None,
                version or Version("0"),
                release["created_at"],
                release["id"],
            )

        return int(max(candidates, key=key)["id"])

    def _set_latest(
        self, release: dict[str, Any], make_latest: str | None, published: bool
    ) -> None:
        """Apply make_latest after ``release`` changed (``published``: it just was)."""
        if release["draft"] or release["prerelease"]:
            # Drafts and prereleases cannot be latest; one that was is no longer.
            if self.latest_id == release["id"]:
                self.latest_id = self._legacy_latest(exclude=release["id"])
            return
        if make_latest == "true" or (make_latest is None and published):
            self.latest_id = release["id"]
        elif make_latest == "legacy":
            self.latest_id = self._legacy_latest()
        elif make_latest == "false" and self.latest_id == release["id"]:
            self.latest_id = self._legacy_latest(exclude=release["id"])

    def _list(self, query: dict[str, list[str]]) -> _Answer:
        newest_first = sorted(self.releases, key=lambda r: r["id"], reverse=True)
        return self._paginated(newest_first, query, "/releases")

    def _paginated(self, items: list[Any], query: dict[str, list[str]], rest: str) -> _Answer:
        """A page of ``items`` as ``per_page``/``page`` ask, with GitHub's ``Link`` header."""

        def number(name: str, default: int) -> int:
            text = (query.get(name) or [""])[-1]
            return int(text) if text.isdigit() and int(text) > 0 else default

        per_page = min(number("per_page", 30), 100)
        page = number("page", 1)
        last = max(1, math.ceil(len(items) / per_page))
        base = f"{self.url}/repositories/{self.repository_id}{rest}?per_page={per_page}&page="
        links = []
        if page > 1:
            links.append(f'<{base}{min(page - 1, last)}>; rel="prev"')
        if page < last:
            links += [f'<{base}{page + 1}>; rel="next"', f'<{base}{last}>; rel="last"']
        if page > 1:
            links.append(f'<{base}1>; rel="first"')
        headers = {"Link": ", ".join(links)} if links else {}
        return _json(200, items[(page - 1) * per_page : page * per_page], headers)

    def _create(self, payload: dict[str, Any]) -> _Answer:
        doc = RELEASES_DOCS + "#create-a-release"
        problem = self._check_fields(payload, create=True)
        if problem:
            return _error(422, problem, doc)
        tag = payload["tag_name"]
        draft = bool(payload.get("draft", False))
        if not draft or self.drafts_reserve_tags:
            conflict = self._tag_conflict(tag, None, doc)
            if conflict is not None:
                return conflict
        name = payload.get("name")
        body = payload.get("body")
        if payload.get("generate_release_notes"):
            notes = self._release_notes(tag)
            body = f"{body}\n\n{notes}" if body else notes
            name = name or tag
        release_id = self._next_release_id
        self._next_release_id += 1
        self._untagged[release_id] = "untagged-" + secrets.token_hex(10)
        now = _now()
        api = self._api_base()
        release: dict[str, Any] = {
            "url": f"{api}/releases/{release_id}",
            "assets_url": f"{api}/releases/{release_id}/assets",
            "upload_url": (
                f"{self.url}/uploads/repos/{self.repository}/releases/{release_id}"
                "/assets{?name,label}"
            ),
            "html_url": "",
            "id": release_id,
            "author": dict(ACTIONS_BOT),
            "node_id": _node_id("RE", release_id),
            "tag_name": tag,
            "target_commitish": payload.get("target_commitish") or self.default_branch,
            "name": name,
            "draft": draft,
            "immutable": not draft and self.immutable,
            "prerelease": bool(payload.get("prerelease", False)),
            "created_at": now,
            "updated_at": now,
            "published_at": None if draft else now,
            "assets": [],
            "tarball_url": None,
            "zipball_url": None,
            "body": body,
        }
        self._refresh_urls(release)
        self.releases.append(release)
        self._set_latest(release, payload.get("make_latest"), not draft)
        return _json(201, release, {"Location": release["url"]})

    def _found(self, release_id: int, doc: str) -> dict[str, Any] | _Answer:
        release = self.release(release_id)
        return release if release is not None else _not_found(doc)

    def _get(self, release_id: int) -> _Answer:
        release = self._found(release_id, RELEASES_DOCS + "#get-a-release")
        return release if isinstance(release, _Answer) else _json(200, release)

    def _latest(self) -> _Answer:
        release = self.release(self.latest_id) if self.latest_id is not None else None
        if release is None:
            return _not_found(RELEASES_DOCS + "#get-the-latest-release")
        return _json(200, release)

    def _by_tag(self, tag: str) -> _Answer:
        published = [r for r in self.releases if r["tag_name"] == tag and not r["draft"]]
        if not published:
            return _not_found(RELEASES_DOCS + "#get-a-release-by-tag-name")
        return _json(200, published[-1])

    def _notes(self, payload: dict[str, Any]) -> _Answer:
        doc = RELEASES_DOCS + "#generate-release-notes-content-for-a-release"
        tag = payload.get("tag_name")
        if not isinstance(tag, str):
            return _error(422, 'Invalid request.\n\n"tag_name" wasn\'t supplied.', doc)
        previous = payload.get("previous_tag_name")
        notes = self._release_notes(tag, previous if isinstance(previous, str) else None)
        return _json(200, {"name": tag, "body": notes})

    def _update(self, release_id: int, payload: dict[str, Any]) -> _Answer:
        doc = RELEASES_DOCS + "#update-a-release"
        release = self._found(release_id, doc)
        if isinstance(release, _Answer):
            return release
        problem = self._check_fields(payload, create=False)
        if problem:
            return _error(422, problem, doc)
        if release["immutable"]:
            for name in ("tag_name", "target_commitish", "draft", "prerelease"):
                if name in payload and payload[name] != release[name]:
                    return _validation_failed(
                        doc,
                        {
                            "resource": "Release",
                            "code": "custom",
                            "field": name,
                            "message": "Immutable release. Only release title and notes "
                            "can be modified.",
                        },
                    )
        was_draft = release["draft"]
        draft = payload.get("draft", was_draft)
        tag = payload.get("tag_name", release["tag_name"])
        # Publishing claims the tag; a strict emulator also checks a draft's new tag.
        if not draft or (self.drafts_reserve_tags and tag != release["tag_name"]):
            conflict = self._tag_conflict(tag, release_id, doc)
            if conflict is not None:
                return conflict
        for name in ("tag_name", "target_commitish", "name", "body", "prerelease"):
            if name in payload:
                release[name] = payload[name]
        now = _now()
        release["draft"] = draft
        release["updated_at"] = now
        published = was_draft and not draft
        if published:
            release["published_at"] = now
            release["immutable"] = self.immutable
        elif draft and not was_draft:
            release["published_at"] = None
        self._refresh_urls(release)
        self._set_latest(release, payload.get("make_latest"), published)
        return _json(200, release)

    def _delete(self, release_id: int) -> _Answer:
        release = self._found(release_id, RELEASES_DOCS + "#delete-a-release")
        if isinstance(release, _Answer):
            return release
        if release["immutable"]:
            self._burned_tags.add(release["tag_name"])
        self.releases.remove(release)
        for asset in release["assets"]:
            self.asset_bytes.pop(asset["id"], None)
        if self.latest_id == release_id:
            self.latest_id = self._legacy_latest()
        return _Answer(204, content_type="text/plain")

    # --- assets -----------------------------------------------------------------------

    def _asset_owner(self, asset_id: int) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for release in self.releases:
            for asset in release["assets"]:
                if asset["id"] == asset_id:
                    return release, asset
        return None

    def _assets(self, release_id: int, query: dict[str, list[str]]) -> _Answer:
        release = self._found(release_id, ASSETS_DOCS + "#list-release-assets")
        if isinstance(release, _Answer):
            return release
        return self._paginated(release["assets"], query, f"/releases/{release_id}/assets")

    def _asset(self, asset_id: int, accept: str) -> _Answer:
        found = self._asset_owner(asset_id)
        if found is None:
            return _not_found(ASSETS_DOCS + "#get-a-release-asset")
        asset = found[1]
        if "application/octet-stream" in accept.lower():
            # GitHub redirects to its storage, a URL that works without the token.
            location = self._signed_location(asset)
            return _Answer(302, b"", "text/html; charset=utf-8", {"Location": location})
        return _json(200, asset)

    def _update_asset(self, asset_id: int, payload: dict[str, Any]) -> _Answer:
        doc = ASSETS_DOCS + "#update-a-release-asset"
        found = self._asset_owner(asset_id)
        if found is None:
            return _not_found(doc)
        release, asset = found
        if release["immutable"]:
            return _error(422, IMMUTABLE_ASSET_CHANGE, doc)
        for name in ("name", "label", "state"):
            value = payload.get(name, "")
            if not isinstance(value, str):
                return _error(
                    422,
                    f"Invalid request.\n\nFor 'properties/{name}', {_ruby(value)} is not a string.",
                    doc,
                )
        if payload.get("name"):
            new_name = asset_name(payload["name"])
            if any(a["name"] == new_name and a is not asset for a in release["assets"]):
                return _validation_failed(
                    doc, {"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}
                )
            asset["name"] = new_name
        if "label" in payload:
            asset["label"] = payload["label"]
        asset["updated_at"] = _now()
        self._refresh_urls(release)
        return _json(200, asset)

    def _delete_asset(self, asset_id: int) -> _Answer:
        doc = ASSETS_DOCS + "#delete-a-release-asset"
        found = self._asset_owner(asset_id)
        if found is None:
            return _not_found(doc)
        release, asset = found
        if release["immutable"]:
            return _error(422, IMMUTABLE_ASSET_DELETE, doc)
        release["assets"].remove(asset)
        self.asset_bytes.pop(asset_id, None)
        return _Answer(204, content_type="text/plain")

    def _upload(
        self, release_id: int, query: dict[str, list[str]], headers: Message, body: bytes
    ) -> _Answer:
        doc = ASSETS_DOCS + "#upload-a-release-asset"
        if self.read_only:
            return _error(403, "Resource not accessible by integration", doc)
        release = self._found(release_id, doc)
        if isinstance(release, _Answer):
            return release
        length = headers.get("Content-Length")
        if length is None:
            return _error(411, "Length Required: a Content-Length header is required", doc)
        name = (query.get("name") or [""])[0]
        if not name:
            return _validation_failed(
                doc, {"resource": "ReleaseAsset", "code": "missing_field", "field": "name"}
            )
        content_type = headers.get("Content-Type")
        if not content_type:
            return _validation_failed(
                doc, {"resource": "ReleaseAsset", "code": "missing_field", "field": "content_type"}
            )
        if not body:
            return _validation_failed(
                doc,
                {
                    "resource": "ReleaseAsset",
                    "code": "custom",
                    "field": "size",
                    "message": "size must be greater than or equal to 1",
                },
            )
        if release["immutable"]:
            return _error(422, IMMUTABLE_UPLOAD, DOCS)
        name = asset_name(name)
        if any(a["name"] == name for a in release["assets"]):
            return _validation_failed(
                doc, {"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}
            )
        asset_id = self._next_asset_id
        self._next_asset_id += 1
        now = _now()
        starter = self._starter_uploads > 0
        asset: dict[str, Any] = {
            "url": f"{self._api_base()}/releases/assets/{asset_id}",
            "id": asset_id,
            "node_id": _node_id("RA", asset_id),
            "name": name,
            "label": query["label"][0] if query.get("label") else None,
            "uploader": dict(ACTIONS_BOT),
            "content_type": content_type,
            "state": "starter" if starter else "uploaded",
            "size": 0 if starter else len(body),
            "digest": None if starter else "sha256:" + hashlib.sha256(body).hexdigest(),
            "download_count": 0,
            "created_at": now,
            "updated_at": now,
            "browser_download_url": "",
        }
        release["assets"].append(asset)
        self._refresh_urls(release)
        if starter:
            self._starter_uploads -= 1
            return self._fault(_Fault("status", 502), "")
        self.asset_bytes[asset_id] = bytes(body)
        return _json(201, asset)

    # --- the web side: github.com's download links, and the storage behind them -----

    def _web(self, method: str, path: str, headers: Message) -> _Answer | None:
        """The answer of a request to github.com (a download link); None for the API."""
        link = re.match(r"^/([^/]+)/([^/]+)/releases/download/(.+)/([^/]+)$", path)
        if not link or link[1] in ("repos", "repositories", "uploads"):
            return None
        not_found = _Answer(404, b"<!DOCTYPE html><title>Not Found</title>", "text/html")
        if method != "GET" or not self._same_repository(link[1], link[2]):
            return not_found
        tag, name = unquote(link[3]), unquote(link[4])
        for release in self.releases:
            # A draft's assets are only reachable under its untagged- name, and only for
            # someone with access to the repository's drafts.
            if release["draft"]:
                if tag != self._untagged[release["id"]] or not self._authorized(headers):
                    continue
            elif release["tag_name"] != tag:
                continue
            for asset in release["assets"]:
                if asset["name"] == name and asset["state"] == "uploaded":
                    location = self._signed_location(asset)
                    return _Answer(302, b"", "text/html; charset=utf-8", {"Location": location})
        return not_found

    def _signature(self, asset_id: int, date: str, expires: str) -> str:
        text = f"{asset_id}:{date}:{expires}".encode()
        return hmac.new(self._signing_key, text, hashlib.sha256).hexdigest()

    def _signed_location(self, asset: dict[str, Any]) -> str:
        """Where GitHub redirects a download: storage, with a presigned query that expires."""
        date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        expires = str(self.download_lifetime)
        name = quote(asset["name"], safe="")
        query = "&".join(
            [
                "X-Amz-Algorithm=AWS4-HMAC-SHA256",
                f"X-Amz-Date={date}",
                f"X-Amz-Expires={expires}",
                f"X-Amz-Signature={self._signature(asset['id'], date, expires)}",
                "X-Amz-SignedHeaders=host",
                f"response-content-disposition=attachment%3B%20filename%3D{name}",
                "response-content-type=application%2Foctet-stream",
            ]
        )
        return f"{self.storage_url}/download/{asset['id']}/{name}?{query}"

    def _stored_bundle(
        self,
        attestation_id: int,
        method: str,
        query: dict[str, str],
        headers: Message,
        refusal: Callable[[int, str, str], _Answer],
    ) -> _Answer:
        """An attestation's bundle as GitHub's blob storage serves it: snappy-compressed
        JSON, for the signed URL of the list, and without a token."""
        import cramjam

        if method != "GET":
            return refusal(405, "UnsupportedHttpVerb", "The resource doesn't support it.")
        if headers.get("Authorization"):
            return refusal(
                400, "InvalidAuthenticationInfo", "Authentication information is not given "
                "in the correct format: a signed URL takes no Authorization header.",
            )  # fmt: skip
        expected = self._signature(attestation_id, "bundle", "0")
        if not hmac.compare_digest(query.get("sig", ""), expected):
            return refusal(403, "AuthenticationFailed", "Signature did not match.")
        stored = [a for a in self.attestations if a["id"] == attestation_id]
        if not stored:
            return refusal(404, "BlobNotFound", "The specified blob does not exist.")
        data = bytes(cramjam.snappy.compress_raw(json.dumps(stored[0]["bundle"]).encode()))
        return _Answer(200, data, "application/x-snappy")

    def _storage_answer(self, method: str, target: str, headers: Message) -> _Answer:
        """What the storage says: the bytes, for a signed, unexpired URL and no token."""
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}

        def refusal(status: int, code: str, message: str) -> _Answer:
            xml = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
            )
            return _Answer(status, xml.encode(), "application/xml")

        with self._lock:
            self.requests.append((method, parts.path))
            bundle = re.match(r"^/attestations/(\d+)\.json\.sn$", parts.path)
            if bundle is not None:
                return self._stored_bundle(int(bundle[1]), method, query, headers, refusal)
            match = re.match(r"^/download/(\d+)/([^/]+)$", parts.path)
            found = self._asset_owner(int(match[1])) if match else None
            asset = found[1] if found else None
            if method != "GET" or match is None:
                return refusal(405 if match else 404, "MethodNotAllowed", "Not allowed")
            if headers.get("Authorization"):
                return refusal(
                    400,
                    "InvalidArgument",
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query "
                    "parameter, Signature query string parameter or the Authorization header "
                    "should be specified",
                )
            date, expires = query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", "")
            expected = self._signature(int(match[1]), date, expires)
            if not hmac.compare_digest(query.get("X-Amz-Signature", ""), expected):
                return refusal(
                    403,
                    "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you "
                    "provided.",
                )
            issued = calendar.timegm(time.strptime(date, "%Y%m%dT%H%M%SZ"))
            if time.time() > issued + int(expires):
                return refusal(403, "AccessDenied", "Request has expired")
            if asset is None or asset["state"] != "uploaded" or unquote(match[2]) != asset["name"]:
                return refusal(404, "NoSuchKey", "The specified key does not exist.")
            asset["download_count"] += 1
            return _Answer(
                200,
                self.asset_bytes[asset["id"]],
                "application/octet-stream",
                {"Content-Disposition": f"attachment; filename={asset['name']}"},
            )
