"""PyPI as the publish stage sees it, on one host:port: trusted publishing, uploads, the index.

A FRONT server (what clients talk to) implements Warehouse's ``/_/oidc/*`` routes and its
upload rules, and sits before a REAL pypiserver (a child process, its own packages dir)
that stores the files and serves the PEP 503 index and the downloads. pypiserver takes
uploads only with a secret that only the front knows, so the front is the only way in.

    with GitHubOIDC() as oidc, PyPI(oidc.signer) as pypi:
        pypi.publishers.append(TrustedPublisher("octo-org/tally", "1234567", "release.yml"))
        # audience: GET  pypi.url + "_/oidc/audience"
        # mint:     POST pypi.url + "_/oidc/mint-token"   {"token": <GitHub JWT>}
        # upload:   twine upload --repository-url pypi.upload_url, __token__ / minted token
        # index:    pypi.index_url (PEP 503 HTML, PEP 691 JSON when asked for)

The mint follows warehouse/oidc/views.py step by step, with its error codes and its
descriptions: ``invalid-payload``, ``not-enabled``, ``invalid-token``, the pending
publishers, then the publishers (``invalid-reuse-token``, ``invalid-publisher``).
Like Warehouse, the publisher is LOOKED UP by repository, owner id, workflow file name
(from job_workflow_ref) and environment, so a mismatch in any of those reads
``valid token, but no corresponding publisher (Publisher with matching claims was not
found)``: PyPI does not say which one differs. Only once a publisher is found are its
claims VERIFIED one by one, with a reason each (job_workflow_ref, pull_request_target,
reuse, ...).

PEP 740 attestations sent with an upload are checked as Warehouse checks them
(warehouse/attestations/services.py, forklift/legacy.py): only from a token minted for a
trusted publisher; a list of 1 or 2; each verified against that publisher's identity and the
uploaded file, one per predicate type; a failure is ``400 Invalid attestations supplied during
upload: <reason>`` and stores nothing. Warehouse verifies with Sigstore's production root; the
emulator does too unless ``sigstore_trust_config`` names another (the local Sigstore's). What
it accepted it serves as Warehouse does: the Integrity API
(``/integrity/<project>/<version>/<file>/provenance``) and the simple index's
``data-provenance`` / ``"provenance"``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import html
import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email import policy
from email.parser import HeaderParser
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from ._server import Handler, LocalServer
from .jwt import GITHUB_ISSUER, InvalidToken, Signer, decode_unverified, verify_jwt

LAUNCHER = Path(__file__).with_name("_pypiserver_launcher.py")
FRONT_USER = "emulator-front"  # the launcher's user; see _pypiserver_launcher.py

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
SIMPLE_HTML = "application/vnd.pypi.simple.v1+html"
# Warehouse's offers in its order (warehouse/api/simple.py): the highest q wins and a tie
# goes to the first, so "*/*" or no Accept at all gets HTML; JSON only when preferred.
INDEX_OFFERS = ("text/html", SIMPLE_HTML, SIMPLE_JSON)

INVALID_AUTH = "Invalid or non-existent authentication information."
# Since July 2026 PyPI takes no new file for a release created more than 14 days ago (the
# wording is the emulator's). A release's creation is its first file's upload.
RELEASE_CLOSES_AFTER_S = 14 * 86400
RELEASE_CLOSED = "New files cannot be added to a release older than 14 days."
# warehouse/forklift/legacy.py, when a token minted for a publisher names a project that
# does not exist: a pending publisher registered under another name made that other project.
NON_USER_IDENTITIES = (
    "Non-user identities cannot create new projects. This was probably caused by "
    "successfully using a pending publisher but specifying the project name incorrectly "
    "(either in the publisher or in your project's metadata). Please ensure that both match. "
    "See: https://docs.pypi.org/trusted-publishers/troubleshooting/"
)
# forklift/legacy.py wraps every AttestationUploadError of the integrity service so.
INVALID_ATTESTATIONS = "Invalid attestations supplied during upload: "
PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
SUPPORTED_PREDICATES = (PUBLISH_V1, SLSA_PROVENANCE_V1)
INTEGRITY_JSON = "application/vnd.pypi.integrity.v1+json"
# Warehouse's integrity view offers these, in this order (warehouse/api/integrity.py).
INTEGRITY_OFFERS = (INTEGRITY_JSON, "application/json")
# What a proxy or a web site answers a POST with: a page, not an index's upload API.
SIGN_IN_HTML = """<!DOCTYPE html>
<html><head><title>Sign in - Example Corp Proxy</title></head>
<body><form method="post"><input name="user"><input name="password" type="password"></form>
</body></html>
"""
OUTAGE_HTML = """<!DOCTYPE html>
<html><head><title>503 Backend is unhealthy</title></head>
<body><h1>Error 503 Backend is unhealthy</h1><p>Backend is unhealthy</p>
<h3>Guru Mediation:</h3><p>Details: cache-emulator 1700000000 1234567890</p>
<hr><p>Varnish cache server</p></body></html>
"""


@dataclass(frozen=True)
class TrustedPublisher:
    """A GitHub trusted publisher as configured on a PyPI project.

    repository: ``owner/name``; owner_id: GitHub's numeric owner id (a string, as in the
    token); workflow: the workflow FILE name (``release.yml``); environment: None accepts
    tokens from any environment or none.
    """

    repository: str
    owner_id: str
    workflow: str
    environment: str | None = None


# --- publisher matching (warehouse/oidc/models/github.py, _core.py) ----------------------


class InvalidPublisher(Exception):
    """No publisher for these claims; the message is Warehouse's reason."""


class ReusedToken(Exception):
    """This JWT (its jti) has minted a token already."""


# Checked to be present before any lookup (Warehouse: check_claims_existence); a claim
# that is there but empty counts as present, as in Warehouse.
REQUIRED_CLAIMS = (
    "sub",
    "repository",
    "repository_owner",
    "repository_owner_id",
    "job_workflow_ref",
    "jti",
    "ref",
    "sha",
)

# The workflow file name in ``owner/repo/.github/workflows/<file>@<ref>``: the last
# non-slash run ending in .yml/.yaml before an ``@`` (a ref may itself contain slashes).
_WORKFLOW_FILENAME = re.compile(r"([^/]+\.(yml|yaml))(?=@)")


def workflow_filename(workflow_ref: str) -> str | None:
    match = _WORKFLOW_FILENAME.search(workflow_ref)
    return match.group(1) if match else None


def _lookup(claims: dict[str, Any], publishers: Iterable[TrustedPublisher]) -> TrustedPublisher:
    """The most specific publisher for the claims, found as Warehouse's database query does."""
    filename = workflow_filename(str(claims["job_workflow_ref"]))
    if filename is None:
        # Warehouse's own wording, typo included.
        raise InvalidPublisher("Could not job extract workflow filename from OIDC claims")
    repository = str(claims["repository"]).lower()
    candidates = [
        p
        for p in publishers
        if p.repository.lower() == repository
        and p.owner_id == str(claims["repository_owner_id"])
        and p.workflow == filename
    ]
    # A publisher bound to the token's environment first, else one bound to none.
    environment = claims.get("environment")
    if environment:
        for publisher in candidates:
            if publisher.environment and publisher.environment.lower() == environment.lower():
                return publisher
    for publisher in candidates:
        if not publisher.environment:
            return publisher
    raise InvalidPublisher("Publisher with matching claims was not found")


def _verify(claims: dict[str, Any], publisher: TrustedPublisher, used_jtis: set[str]) -> None:
    """The found publisher's claim checks, in Warehouse's order (verify_claims)."""
    # Warehouse stores owner/name as GitHub spells them, which is how the token spells them;
    # the lookup matched case-insensitively, so the checks below use the token's spelling.
    repository = str(claims["repository"])
    owner = repository.split("/", 1)[0]
    sub = str(claims["sub"]).split(":")
    if len(sub) < 2 or f"{sub[0]}:{sub[1]}".lower() != f"repo:{repository}".lower():
        raise InvalidPublisher("Check failed for required claim 'sub'")
    if repository.lower() != publisher.repository.lower():
        raise InvalidPublisher("Check failed for required claim 'repository'")
    if str(claims["repository_owner"]).lower() != owner.lower():
        raise InvalidPublisher("Check failed for required claim 'repository_owner'")
    if str(claims["repository_owner_id"]) != publisher.owner_id:
        raise InvalidPublisher("Check failed for required claim 'repository_owner_id'")
    job_workflow_ref = claims["job_workflow_ref"]
    if not job_workflow_ref:
        raise InvalidPublisher("The job_workflow_ref claim is empty")
    refs = [r for r in (claims.get("ref"), claims.get("sha")) if r]
    if not refs:
        raise InvalidPublisher("The ref and sha claims are empty")
    # The job's workflow must be the publisher's file IN the publisher's repository, at the
    # ref or sha being built: a reusable workflow of the same name elsewhere fails here.
    expected = sorted({f"{repository}/.github/workflows/{publisher.workflow}@{r}" for r in refs})
    if job_workflow_ref not in expected:
        raise InvalidPublisher(
            "The job_workflow_ref claim does not match, expecting one of "
            f"{expected!r}, got {job_workflow_ref!r}"
        )
    if claims.get("event_name") == "pull_request_target":
        raise InvalidPublisher(
            "Publishing from a workflow invoked via 'pull_request_target' is not supported."
        )
    if claims["jti"] in used_jtis:
        raise ReusedToken()
    if publisher.environment:
        environment = claims.get("environment")
        if not environment or environment.lower() != publisher.environment.lower():
            raise InvalidPublisher("Check failed for optional claim 'environment'")


def find_publisher(
    claims: dict[str, Any], publishers: Iterable[TrustedPublisher], used_jtis: set[str]
) -> TrustedPublisher:
    """Warehouse's find_publisher: claims present, then lookup, then the checks."""
    for name in REQUIRED_CLAIMS:
        if claims.get(name) is None:
            raise InvalidPublisher(f"Missing claim {name!r}")
    publisher = _lookup(claims, publishers)
    _verify(claims, publisher, used_jtis)
    return publisher


# --- PEP 740 attestations (warehouse/attestations/services.py: parse_attestations) --------


class InvalidAttestations(Exception):
    """Warehouse's AttestationUploadError: the message follows INVALID_ATTESTATIONS."""


# Attestation.verify builds Verifier.production(); for another root it is redirected while
# one verification runs, and never two at once (upload threads, or a test's own verify).
_VERIFIER_LOCK = threading.Lock()


def check_attestations(
    raw: str,
    publisher: TrustedPublisher | None,
    filename: str,
    sha256: str,
    trust_config: str | None,
) -> list[Any]:
    """The attestations of the form, as JSON, once each verifies as Warehouse verifies it;
    :class:`InvalidAttestations` with Warehouse's reason otherwise. ``trust_config``: a
    ClientTrustConfig JSON to verify with, None for Sigstore's production root (Warehouse's)."""
    if publisher is None:
        # Only publishers with an attestation identity (GitHub's has one) may attest.
        raise InvalidAttestations("Attestations are only supported when using Trusted Publishing")
    try:
        # pypi-attestations first, to be the one named when missing (pydantic comes with it).
        import pypi_attestations  # noqa: F401
        from pydantic import TypeAdapter, ValidationError
        from pypi_attestations import Attestation, Distribution, GitHubPublisher
        from pypi_attestations import VerificationError as AttestationVerificationError
        from sigstore.models import ClientTrustConfig
        from sigstore.verify import Verifier
    except ImportError as exc:
        running = ".".join(map(str, sys.version_info[:3]))
        raise InvalidAttestations(
            f"the emulator cannot verify attestations here: {exc.name} is not importable on "
            f"Python {running} (sigstore-python and pypi-attestations are installed from "
            "Python 3.11, tests/sigstore-requirements.txt), so it refuses them rather than "
            "store what it has not checked"
        ) from None
    try:
        attestations = TypeAdapter(list[Attestation]).validate_json(raw)
    except ValidationError as exc:
        raise InvalidAttestations(f"Malformed attestations: {exc}") from None
    if not attestations:
        raise InvalidAttestations(
            "an empty attestation set is not permitted; omit the `attestations` field to "
            "upload without attestations"
        )
    if len(attestations) > 2:
        raise InvalidAttestations("A maximum of 2 attestations per file are supported")
    identity = GitHubPublisher(
        repository=publisher.repository,
        workflow=publisher.workflow,
        environment=publisher.environment or None,
    )
    distribution = Distribution(name=filename, digest=sha256)
    if trust_config is None:
        verifier = Verifier.production(offline=True)
    else:
        verifier = Verifier(trusted_root=ClientTrustConfig.from_json(trust_config).trusted_root)
    predicates: set[str] = set()
    for attestation in attestations:
        with _VERIFIER_LOCK:
            real = Verifier.__dict__["production"]
            Verifier.production = classmethod(  # type: ignore[assignment,method-assign]
                lambda cls, offline=False: verifier
            )
            try:
                predicate_type, _ = attestation.verify(identity, distribution)
            except AttestationVerificationError as exc:
                raise InvalidAttestations(
                    f"Could not verify the uploaded artifact using the included attestation: {exc}"
                ) from None
            except Exception as exc:  # Warehouse's catch-all, reported to Sentry there
                raise InvalidAttestations(
                    f"Unknown error while trying to verify included attestations: {exc}"
                ) from None
            finally:
                Verifier.production = real  # type: ignore[method-assign]
        if predicate_type not in SUPPORTED_PREDICATES:
            raise InvalidAttestations(
                f"Attestation with unsupported predicate type: {predicate_type}"
            )
        if predicate_type in predicates:
            raise InvalidAttestations(
                f"Multiple attestations for the same predicate type: {predicate_type}"
            )
        predicates.add(predicate_type)
    sent: list[Any] = json.loads(raw)  # as sent: what the Integrity API serves back
    return sent


def publisher_json(publisher: TrustedPublisher) -> dict[str, Any]:
    """The publisher of an attestation bundle, as the Integrity API names it."""
    return {
        "kind": "GitHub",
        "repository": publisher.repository,
        "workflow": publisher.workflow,
        "environment": publisher.environment or None,
    }


# --- the index ---------------------------------------------------------------------------


def negotiate(accept: str | None) -> str:
    """The index content type for an Accept header, chosen as Warehouse chooses it."""
    return negotiate_among(accept, INDEX_OFFERS) or "text/html"


def negotiate_among(accept: str | None, offers: tuple[str, ...]) -> str | None:
    """The offer an Accept header prefers (the first on a tie, or with no Accept), None when
    it accepts none of them."""
    ranges: list[tuple[str, float]] = []
    for item in (accept or "").split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if not media:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((media.lower(), q))
    if not ranges:
        return offers[0]
    scored = []
    for index, offer in enumerate(offers):
        q = _quality(offer, ranges)
        if q > 0:
            scored.append((q, -index, offer))
    return max(scored)[2] if scored else None


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    """q of the most specific range matching ``offer`` (exact > type/* > */*)."""
    kind = offer.split("/", 1)[0]
    best, quality = -1, 0.0
    for media, q in ranges:
        if media == offer:
            specificity = 2
        elif media == f"{kind}/*":
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best:
            best, quality = specificity, q
    return quality


class _Links(HTMLParser):
    """The (href, text) of every <a> in a PEP 503 page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def links(page: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(page)
    return parser.links


def dist_info(filename: str) -> tuple[str, str, bool] | None:
    """(normalized project, version, is_sdist) of a distribution file name, None if invalid."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return str(name), str(version), False
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return str(name), str(version), True
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


# --- the upload form ---------------------------------------------------------------------


class BadForm(Exception):
    pass


def parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """(fields, files) of a multipart/form-data body; files maps name -> (filename, bytes)."""
    header = HeaderParser(policy=policy.HTTP).parsestr(f"Content-Type: {content_type}\r\n\r\n")
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise BadForm("not multipart/form-data")
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    chunks = (b"\r\n" + body).split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise BadForm("multipart body is not terminated")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for chunk in chunks[1:-1]:
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise BadForm("multipart part without headers")
        part = HeaderParser(policy=policy.HTTP).parsestr(
            head.lstrip(b" \t").removeprefix(b"\r\n").decode("utf-8", "surrogateescape")
            + "\r\n\r\n"
        )
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise BadForm("multipart part without a name")
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, data)
        else:
            fields[name] = data.decode("utf-8", "replace")
    return fields, files


# --- the front server --------------------------------------------------------------------


class _PyPIHandler(Handler):
    def do_GET(self) -> None:
        self.dispatch(lambda: self.server.emulator._get(self))

    def do_POST(self) -> None:
        self.dispatch(lambda: self.server.emulator._post(self))


class PyPI:
    """Warehouse's trusted publishing and upload rules before a real pypiserver.

    Knobs a test sets: ``audience``, ``audience_status`` (403: trusted publishing disabled,
    404: not supported; both also switch the mint off, as on a real index), ``enabled``
    (False: mint says not-enabled), ``outage`` (mint answers 503 HTML), ``token_lifetime``,
    ``json_api``, ``issuer_jwks`` (the GitHub keys it trusts), ``publishers``,
    ``pending_publishers``, ``api_tokens``, ``minted`` (set an expiry in the past to expire
    a token), and the upload faults ``fail_uploads``/``drop_before_store``/``drop_after_store``/
    ``stall_uploads``/``html_ok_uploads``; ``existing_status`` (what a byte-identical re-upload
    gets: 200 on PyPI, 409 or 400 "already exists" on other indexes), ``listing_lag`` (seconds
    a new file stays out of the listing, as behind a CDN), ``fail_index_queries`` and
    ``fail_mints`` (5xx pages that pass); ``sigstore_trust_config`` (the ClientTrustConfig
    file attestations are verified with; None: Sigstore's production root, as Warehouse),
    ``pep740_enabled`` (False: attestations ignored at upload, the Integrity API answers 403).
    What happened: ``mint_requests``, ``uploads``, ``index_queries``, ``integrity_queries``,
    ``files()``, ``errors``,
    ``attestations`` and ``provenance`` (what was accepted, per file).
    """

    def __init__(
        self,
        github: Signer,
        *,
        packages: Path | None = None,
        publishers: Iterable[TrustedPublisher] = (),
    ) -> None:
        self.github = github
        self.issuer_jwks: dict[str, Any] = github.jwks()
        self.audience = "pypi"
        self.audience_status = 200
        self.enabled = True
        self.outage = False
        self.token_lifetime = 900
        self.json_api = True
        self.existing_status = 200
        self.listing_lag = 0.0
        self.publishers: list[TrustedPublisher] = list(publishers)
        self.pending_publishers: list[tuple[str, TrustedPublisher]] = []
        self.api_tokens: set[str] = set()
        self.minted: dict[str, float] = {}
        self.sigstore_trust_config: Path | None = None
        self.pep740_enabled = True  # False: Warehouse's DISABLE_PEP740 admin flag
        self.attestations: dict[str, list[Any]] = {}  # the accepted ``attestations``, per file
        # Per file with attestations: its Integrity API bundle {"publisher", "attestations"}.
        self.provenance: dict[str, dict[str, Any]] = {}
        # The publisher each minted token was minted for: attestations must be its identity.
        self.minted_publishers: dict[str, TrustedPublisher] = {}
        # The project a publisher made from a pending publisher is bound to, and the project
        # each token minted through such a publisher is for (the others: any project).
        self.publisher_projects: dict[TrustedPublisher, str] = {}
        self.minted_projects: dict[str, str] = {}
        # One per mint attempt: {"claims": unverified claims or None, "status": HTTP status,
        # "code": "success" or the error code, "description": ..., "detail": why, in the
        # emulator's words (the real PyPI never says why a token is invalid)}.
        self.mint_requests: list[dict[str, Any]] = []
        # (filename, HTTP status answered); status 0: the connection was dropped.
        self.uploads: list[tuple[str, int]] = []
        self.index_queries = 0  # GETs of /simple/<project>/
        self.integrity_queries: list[str] = []  # the paths of Integrity API GETs

        self._tmp = Path(tempfile.mkdtemp(prefix="pypi-emulator-"))
        self.packages = packages if packages is not None else self._tmp / "packages"
        self.packages.mkdir(parents=True, exist_ok=True)
        self.used_jtis: set[str] = set()
        self.projects: set[str] = set()  # made by a pending publisher, maybe without files yet
        self.deleted: set[str] = set()  # file names deleted: never usable again
        self.yanked: dict[str, str] = {}  # file name -> the reason it was yanked ("": none)
        self._faults: dict[str, list[int]] = {"fail": [], "drop_before": [], "drop_after": [],
                                              "html_ok": [], "index": [], "mint": [],
                                               "echo": []}  # fmt: skip
        self._retry_after: list[int | None] = []  # beside each "fail": its Retry-After
        self._stalls: list[tuple[float, bool]] = []  # (seconds, stored first)
        self._stored_at: dict[str, float] = {}
        self._closing = threading.Event()  # ends stalls when the emulator closes
        self._lock = threading.Lock()  # state, and each upload's check-then-store
        self._secret = secrets.token_urlsafe(32)
        self._backend: subprocess.Popen[bytes] | None = None
        self._backend_log = self._tmp / "pypiserver.log"
        self.backend_port = 0
        self._server = LocalServer(_PyPIHandler, self)
        self.port = self._server.port
        self.url = f"http://127.0.0.1:{self.port}/"
        self.upload_url = self.url + "legacy/"
        self.index_url = self.url + "simple/"

    # --- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> PyPI:
        try:
            self._start_backend()
            self._server.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        self._server.stop()
        if self._backend is not None:
            self._backend.terminate()
            try:
                self._backend.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._backend.kill()
                self._backend.wait(timeout=10)
            if self._backend.stdout is not None:
                self._backend.stdout.close()
            self._backend = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _start_backend(self) -> None:
        env = {**os.environ, "EMULATOR_PYPISERVER_SECRET": self._secret}
        with self._backend_log.open("wb") as log:
            self._backend = subprocess.Popen(
                [sys.executable, str(LAUNCHER), str(self.packages)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
            )
        # The launcher prints "PORT <n>" once it listens; read it off a thread so that a
        # launcher that hangs fails the test in 30 s instead of blocking forever.
        stdout = self._backend.stdout
        assert stdout is not None
        line: list[bytes] = []
        reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=30)
        text = line[0].decode() if line else ""
        if not text.startswith("PORT "):
            log_text = self._backend_log.read_text(errors="replace")
            raise RuntimeError(f"pypiserver did not start (said {text!r}):\n{log_text}")
        self.backend_port = int(text.split()[1])

    @property
    def errors(self) -> list[str]:
        """Tracebacks of requests the emulator itself failed on (should stay empty)."""
        return self._server.errors

    # --- helpers for tests ------------------------------------------------------------

    def files(self) -> dict[str, str]:
        """File name -> sha256 of every distribution the index holds."""
        return {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(self.packages.rglob("*"))
            if path.is_file() and dist_info(path.name) is not None
        }

    def fail_uploads(self, n: int, status: int = 503, *, retry_after: int | None = None) -> None:
        """The next ``n`` upload POSTs answer ``status`` with an HTML page, storing nothing;
        with ``retry_after``, a Retry-After header too (PyPI's 429 has one).

        twine retries an upload that gets a 5xx, up to 5 attempts: each attempt is one POST.
        """
        with self._lock:
            self._faults["fail"].extend([status] * n)
            self._retry_after.extend([retry_after] * n)

    def stall_uploads(self, n: int, seconds: float = 60.0, *, store: bool) -> None:
        """The next ``n`` uploads are read (and with ``store``, stored), then the server
        says nothing for ``seconds`` and closes the connection: a stalled upload."""
        with self._lock:
            self._stalls.extend([(seconds, store)] * n)

    def html_ok_uploads(self, n: int) -> None:
        """The next ``n`` uploads get 200 with a web page (a proxy's sign-in page), and
        nothing is stored."""
        with self._lock:
            self._faults["html_ok"].extend([200] * n)

    def fail_index_queries(self, n: int, status: int = 503) -> None:
        """The next ``n`` GETs of a project's index page answer ``status`` with an HTML page."""
        with self._lock:
            self._faults["index"].extend([status] * n)

    def fail_mints(self, n: int, status: int = 503) -> None:
        """The next ``n`` mint requests answer ``status`` with the outage page (the JWT is
        read, and not used)."""
        with self._lock:
            self._faults["mint"].extend([status] * n)

    def drop_before_store(self, n: int) -> None:
        """The next ``n`` uploads are read, then the connection closes: nothing is stored."""
        with self._lock:
            self._faults["drop_before"].extend([0] * n)

    def drop_after_store(self, n: int) -> None:
        """The next ``n`` uploads are stored, then the connection closes with no response:
        the client sees a connection error although the file landed."""
        with self._lock:
            self._faults["drop_after"].extend([0] * n)

    def age_release(self, version: str, days: float) -> None:
        """Make every file of ``version`` ``days`` old: uploaded then, as upload-time says."""
        when = time.time() - days * 86400
        for path in self.packages.rglob("*"):
            info = dist_info(path.name) if path.is_file() else None
            if info and Version(info[1]) == Version(version):
                os.utime(path, (when, when))

    def release_created(self, project: str, version: str) -> float | None:
        """When the release was created (its oldest file's upload), None if it has none."""
        times = [
            path.stat().st_mtime
            for path in self.packages.rglob("*")
            if path.is_file()
            and (info := dist_info(path.name))
            and info[0] == canonicalize_name(project)
            and Version(info[1]) == Version(version)
        ]
        return min(times) if times else None

    def echo_token(self, n: int) -> None:
        """The next ``n`` uploads are refused with 403, quoting the token they came with, as
        Warehouse quotes a token it cannot parse (``Invalid API Token: ...``)."""
        with self._lock:
            self._faults["echo"].extend([403] * n)

    def delete_file(self, filename: str) -> None:
        """Delete a file as a project owner can; PyPI never accepts that name again."""
        for path in self.packages.rglob(filename):
            path.unlink()
        self.deleted.add(filename)
        self.provenance.pop(filename, None)

    def yank(self, filename: str, reason: str = "") -> None:
        """Yank a file as a project owner can (PEP 592): it stays listed, marked yanked
        (``data-yanked`` in HTML, ``yanked`` in JSON: the reason, or true)."""
        self.yanked[filename] = reason

    def project_exists(self, name: str) -> bool:
        name = canonicalize_name(name)
        infos = (dist_info(filename) for filename in self.files())
        return name in self.projects or any(info and info[0] == name for info in infos)

    # --- routing ----------------------------------------------------------------------

    def _get(self, h: _PyPIHandler) -> None:
        path = urlsplit(h.path).path
        if path == "/_/oidc/audience":
            self._audience(h)
        elif path in {"/simple/", "/simple"} or path.startswith("/packages"):
            self._index(h, project=False)
        elif path.startswith("/simple/"):
            with self._lock:
                self.index_queries += 1
                failure = self._faults["index"].pop(0) if self._faults["index"] else None
            if failure is not None:
                h.send_html(failure, OUTAGE_HTML, reason="Service Unavailable")
                return
            self._index(h, project=True)
        elif path.startswith("/integrity/"):
            with self._lock:
                self.integrity_queries.append(path)
            self._integrity(h, path)
        else:
            h.send_html(404, "<h1>404 Not Found</h1>", reason="Not Found")

    def _post(self, h: _PyPIHandler) -> None:
        path = urlsplit(h.path).path
        if path in ("/_/oidc/mint-token", "/_/oidc/github/mint-token"):
            self._mint_route(h)
        elif path == "/legacy/":
            self._upload(h)
        else:
            h.read_body()
            h.send_html(404, "<h1>404 Not Found</h1>", reason="Not Found")

    # --- trusted publishing -----------------------------------------------------------

    def _audience(self, h: _PyPIHandler) -> None:
        if self.audience_status == 404:
            h.send_html(404, "<h1>404 Not Found</h1>", reason="Not Found")
        elif self.audience_status == 403:
            h.send_json(403, {"message": "Trusted publishing functionality not enabled"})
        else:
            h.send_json(self.audience_status, {"audience": self.audience})

    def _mint_route(self, h: _PyPIHandler) -> None:
        body = h.read_body()
        if self.audience_status == 404:  # an index without trusted publishing at all
            h.send_html(404, "<h1>404 Not Found</h1>", reason="Not Found")
            return
        with self._lock:
            failure = self._faults["mint"].pop(0) if self._faults["mint"] else None
            if failure is None and self.outage:
                failure = 503
            if failure is not None:
                try:
                    claims = decode_unverified(json.loads(body)["token"])[1]
                except (InvalidToken, ValueError, KeyError, TypeError):
                    claims = None
                self._record_mint(claims, failure, "outage", "", "outage")
        if failure is not None:
            h.send_html(failure, OUTAGE_HTML, reason="Backend is unhealthy")
            return
        with self._lock:
            status, data = self.mint(body)
        h.send_json(status, data)

    def _record_mint(
        self, claims: dict[str, Any] | None, status: int, code: str, description: str, detail: str
    ) -> None:
        self.mint_requests.append(
            {
                "claims": claims,
                "status": status,
                "code": code,
                "description": description,
                "detail": detail,
            }
        )

    def mint(self, body: bytes) -> tuple[int, dict[str, Any]]:
        """POST /_/oidc/mint-token: (status, JSON answer), as Warehouse's mint_token_from_oidc."""
        claims: dict[str, Any] | None = None

        def refuse(code: str, description: str, detail: str = "") -> tuple[int, dict[str, Any]]:
            self._record_mint(claims, 422, code, description, detail or description)
            error = {"code": code, "description": description}
            return 422, {"message": "Token request failed", "errors": [error]}

        # The body must be {"token": <str>} (pydantic StrictStr; other keys are ignored).
        try:
            payload = json.loads(body)
        except ValueError:
            return refuse("invalid-payload", "1 validation error for TokenPayload\n  Invalid JSON")
        if not isinstance(payload, dict) or "token" not in payload:
            return refuse(
                "invalid-payload", "1 validation error for TokenPayload\ntoken\n  Field required"
            )
        if not isinstance(payload["token"], str):
            return refuse(
                "invalid-payload",
                "1 validation error for TokenPayload\ntoken\n  Input should be a valid string",
            )
        token = payload["token"]

        # Peek at the unverified issuer to pick the keys.
        try:
            _, claims = decode_unverified(token)
            issuer = claims["iss"]
        except (InvalidToken, KeyError) as exc:
            return refuse("invalid-payload", "malformed JWT", f"malformed JWT: {exc}")
        if issuer != GITHUB_ISSUER:
            return refuse("invalid-payload", "unknown trusted publishing issuer")
        if not self.enabled or self.audience_status == 403:
            return refuse("not-enabled", "github trusted publishing functionality not enabled")

        try:
            verified = verify_jwt(
                token, self.issuer_jwks, audience=self.audience, issuer=GITHUB_ISSUER, leeway=30
            )
        except InvalidToken as exc:
            return refuse("invalid-token", "malformed or invalid token", exc.reason)

        # A pending publisher (one registered for a project that does not exist yet) makes
        # the project on first use; if the project exists already it is void, and deleted.
        for entry in list(self.pending_publishers):
            project, pending = entry
            try:
                find_publisher(verified, [pending], self.used_jtis)
            except (InvalidPublisher, ReusedToken):
                continue
            self.pending_publishers.remove(entry)
            if self.project_exists(project):
                return refuse(
                    "invalid-pending-publisher", "valid token, but project already exists"
                )
            self.projects.add(canonicalize_name(project))
            self.publisher_projects[pending] = canonicalize_name(project)
            if pending not in self.publishers:
                self.publishers.append(pending)
            break

        try:
            publisher = find_publisher(verified, self.publishers, self.used_jtis)
        except ReusedToken:
            return refuse("invalid-reuse-token", "invalid token: already used")
        except InvalidPublisher as exc:
            return refuse(
                "invalid-publisher", f"valid token, but no corresponding publisher ({exc})"
            )

        self.used_jtis.add(verified["jti"])
        minted = "pypi-" + secrets.token_urlsafe(96)
        expires = int(time.time()) + self.token_lifetime
        self.minted[minted] = expires
        self.minted_publishers[minted] = publisher
        if publisher in self.publisher_projects:
            self.minted_projects[minted] = self.publisher_projects[publisher]
        self._record_mint(claims, 200, "success", "", "")
        return 200, {"success": True, "token": minted, "expires": expires}

    # --- uploads ----------------------------------------------------------------------

    def _authorized(self, header: str | None) -> bool:
        password = _basic_password(header)
        if password is None:
            return False
        if password in self.api_tokens:
            return True
        expiry = self.minted.get(password)
        return expiry is not None and time.time() < expiry

    def _refuse_upload(self, h: _PyPIHandler, filename: str, status: int, message: str) -> None:
        # Warehouse puts the message in the status line (twine prints that) and the body.
        self.uploads.append((filename, status))
        h.send_text(status, f"{status} {message}\n\n{message}\n", reason=message)

    def _upload(self, h: _PyPIHandler) -> None:
        body = h.read_body()
        content_type = h.headers.get("Content-Type", "")
        try:
            fields, files = parse_multipart(content_type, body)
            form_error = ""
        except BadForm as exc:
            fields, files, form_error = {}, {}, str(exc)
        filename, content = files.get("content", ("", b""))

        with self._lock:
            # Faults first: an outage or a dropped connection happens before PyPI's code.
            if self._faults["fail"]:
                status = self._faults["fail"].pop(0)
                after = self._retry_after.pop(0)
                self.uploads.append((filename, status))
                headers = {"Retry-After": str(after)} if after is not None else {}
                h.send(status, OUTAGE_HTML.encode(), "text/html; charset=utf-8",
                       reason="Service Unavailable", headers=headers)  # fmt: skip
                return
            if self._faults["html_ok"]:
                self._faults["html_ok"].pop(0)
                self.uploads.append((filename, 200))
                h.send_html(200, SIGN_IN_HTML, reason="OK")
                return
            stall = self._stalls.pop(0) if self._stalls else None
            if stall is not None and not stall[1]:
                self.uploads.append((filename, 0))
                silent = True
            else:
                silent = self._checked_store(
                    h, filename, content, fields, form_error, body=body,
                    content_type=content_type, answer=stall is None,
                )  # fmt: skip
        if stall is not None and silent:
            # Outside the lock: the index still answers others while this upload stalls.
            self._closing.wait(stall[0])
            with contextlib.suppress(OSError):
                h.hang_up()

    def _checked_store(
        self,
        h: _PyPIHandler,
        filename: str,
        content: bytes,
        fields: dict[str, str],
        form_error: str,
        *,
        body: bytes,
        content_type: str,
        answer: bool,
    ) -> bool:
        """Warehouse's checks, then the store; True when it stored and did not answer."""
        if self._faults["drop_before"]:
            self._faults["drop_before"].pop(0)
            self.uploads.append((filename, 0))
            h.hang_up()
            return False
        if self._faults["echo"]:
            status = self._faults["echo"].pop(0)
            password = _basic_password(h.headers.get("Authorization"))
            self._refuse_upload(h, filename, status, f"Invalid API Token: {password!r}")
            return False
        if not self._authorized(h.headers.get("Authorization")):
            help_url = self.url + "help/#invalid-auth"
            message = f"{INVALID_AUTH} See {help_url} for more information."
            self._refuse_upload(h, filename, 403, message)
            return False
        problem = form_error or self._form_problem(fields, filename, content)
        if problem:
            self._refuse_upload(h, filename, 400, problem)
            return False
        password = _basic_password(h.headers.get("Authorization")) or ""
        bound = self.minted_projects.get(password)
        project = canonicalize_name(fields["name"])
        if bound is not None and project != bound and not self.project_exists(project):
            self._refuse_upload(h, filename, 400, NON_USER_IDENTITIES)
            return False
        attested = None
        if "attestations" in fields and self.pep740_enabled:
            publisher = self.minted_publishers.get(password)
            raw = fields["attestations"]
            attested = lambda sha256: self._attested(raw, publisher, filename, sha256)  # noqa: E731
        return self._store(
            h, filename, content, body=body, content_type=content_type, answer=answer,
            attested=attested,
        )  # fmt: skip

    def _attested(
        self, raw: str, publisher: TrustedPublisher | None, filename: str, sha256: str
    ) -> dict[str, Any]:
        """The file's provenance bundle once its attestations pass Warehouse's checks."""
        trust = self.sigstore_trust_config
        text = trust.read_text(encoding="utf-8") if trust is not None else None
        attestations = check_attestations(raw, publisher, filename, sha256, text)
        assert publisher is not None  # check_attestations refuses a token upload
        return {"publisher": publisher_json(publisher), "attestations": attestations}

    def _form_problem(self, fields: dict[str, str], filename: str, content: bytes) -> str:
        """Why Warehouse would refuse this form before looking at existing files, or ''."""
        action = fields.get(":action")
        if action != "file_upload":
            return f"Unknown :action {action!r}" if action else "Missing ':action' field"
        if not filename:
            return "Upload payload does not have a file."
        for name in ("name", "version", "filetype", "metadata_version"):
            if not fields.get(name):
                return f"'{name}' is a required field."
        info = dist_info(filename)
        if info is None:
            return f"Invalid distribution file name {filename!r}."
        project, version, is_sdist = info
        if canonicalize_name(fields["name"]) != project:
            return f"Start filename for {fields['name']!r} with {project.replace('-', '_')!r}."
        try:
            same_version = Version(fields["version"]) == Version(version)
        except InvalidVersion:
            return f"Invalid version {fields['version']!r}."
        if not same_version:
            return f"Version in filename should be {fields['version']!r} not {version!r}."
        if (fields["filetype"] == "sdist") != is_sdist:
            return f"Invalid file extension for filetype {fields['filetype']!r}."
        digests = {
            "md5_digest": hashlib.md5(content).hexdigest(),
            "sha256_digest": hashlib.sha256(content).hexdigest(),
            "blake2_256_digest": hashlib.blake2b(content, digest_size=32).hexdigest(),
        }
        given = {k: fields[k].lower() for k in digests if fields.get(k)}
        if not given:
            return "Include at least one message digest."
        if any(digests[k] != v for k, v in given.items()):
            return "The digest supplied does not match a digest calculated from the uploaded file."
        return ""

    def _store(
        self,
        h: _PyPIHandler,
        filename: str,
        content: bytes,
        *,
        body: bytes,
        content_type: str,
        answer: bool = True,
        attested: Callable[[str], dict[str, Any]] | None = None,
    ) -> bool:
        """PyPI's rules about existing files, then the attestations (``attested``, given the
        sha256: the provenance bundle, or InvalidAttestations), then pypiserver stores it (lock
        held); without ``answer``, a stored file gets no answer (True says so)."""
        blake2 = hashlib.blake2b(content, digest_size=32).hexdigest()
        if filename in self.deleted:
            help_url = self.url + "help/#file-name-reuse"
            message = (
                "This filename has already been used, use a different version. "
                f"See {help_url} for more information."
            )
            self._refuse_upload(h, filename, 400, message)
            return False
        existing = self.files()
        if filename in existing:
            if existing[filename] == hashlib.sha256(content).hexdigest():
                if self.existing_status == 409:  # pypiserver, devpi and others
                    self._refuse_upload(h, filename, 409, f"Package {filename!r} already exists")
                elif self.existing_status == 400:
                    self._refuse_upload(h, filename, 400, f"{filename} already exists")
                else:  # Byte-identical: PyPI says OK and keeps what it has.
                    self.uploads.append((filename, 200))
                    h.send_html(200, "", reason="OK")
                return False
            help_url = self.url + "help/#file-name-reuse"
            message = (
                f"File already exists ({filename!r}, with blake2_256 hash {blake2!r}). "
                f"See {help_url} for more information."
            )
            self._refuse_upload(h, filename, 400, message)
            return False
        project, version, is_sdist = dist_info(filename)  # type: ignore[misc]
        created = self.release_created(project, version)
        if created is not None and time.time() - created > RELEASE_CLOSES_AFTER_S:
            self._refuse_upload(h, filename, 400, RELEASE_CLOSED)
            return False
        if is_sdist:
            for other in existing:
                info = dist_info(other)
                if info and info[2] and info[0] == project and Version(info[1]) == Version(version):
                    self._refuse_upload(
                        h, filename, 400, "Only one sdist may be uploaded per release."
                    )
                    return False
        bundle = None
        if attested is not None:
            # After the duplicate checks, as in forklift: a byte-identical re-upload is OK
            # whatever it carries; a new file with attestations that fail is not stored.
            try:
                bundle = attested(hashlib.sha256(content).hexdigest())
            except InvalidAttestations as exc:
                self._refuse_upload(h, filename, 400, INVALID_ATTESTATIONS + str(exc))
                return False

        auth = base64.b64encode(f"{FRONT_USER}:{self._secret}".encode()).decode()
        status, reason, _, said = self._to_backend(
            "POST",
            "/",
            body,
            {
                "Content-Type": content_type,
                "Authorization": f"Basic {auth}",
                "User-Agent": h.headers.get("User-Agent", ""),
            },
        )
        if status != 200:
            self._refuse_upload(h, filename, status, f"pypiserver: {reason}: {said[:200]!r}")
            return False
        self._stored_at[filename] = time.time()
        if bundle is not None:
            self.attestations[filename] = bundle["attestations"]
            self.provenance[filename] = bundle
        if not answer:
            self.uploads.append((filename, 0))
            return True
        if self._faults["drop_after"]:
            self._faults["drop_after"].pop(0)
            self.uploads.append((filename, 0))
            h.hang_up()
            return False
        self.uploads.append((filename, 200))
        h.send_html(200, "", reason="OK")
        return False

    # --- the Integrity API (warehouse/api/integrity.py) ---------------------------------

    def integrity_url(self, filename: str) -> str:
        project, version, _ = dist_info(filename)  # type: ignore[misc]
        return f"{self.url}integrity/{project}/{version}/{filename}/provenance"

    def _integrity(self, h: _PyPIHandler, path: str) -> None:
        """``GET /integrity/<project>/<version>/<filename>/provenance``: the provenance of a
        file the index holds, 404 for none (or no such file), 406 for an Accept it cannot
        answer."""
        if not self.pep740_enabled:
            h.send_json(403, {"message": "Attestations temporarily disabled"})
            return
        chosen = negotiate_among(h.headers.get("Accept"), INTEGRITY_OFFERS)
        if chosen is None:
            h.send_json(406, {"message": "Request not acceptable"})
            return
        parts = path.strip("/").split("/")
        info = dist_info(parts[3]) if len(parts) == 5 and parts[4] == "provenance" else None
        with self._lock:
            held = info is not None and parts[3] in self.files()
            bundle = self.provenance.get(parts[3]) if held else None
        if (
            info is None
            or not held
            or canonicalize_name(parts[1]) != info[0]
            or Version(parts[2]) != Version(info[1])
        ):
            h.send_json(404, {"message": "Not Found"})
            return
        if bundle is None:
            h.send_json(404, {"message": f"No provenance available for {parts[3]}"})
            return
        h.send_json(200, {"version": 1, "attestation_bundles": [bundle]}, content_type=chosen)

    # --- the index (pypiserver behind) ------------------------------------------------

    def _to_backend(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.backend_port, timeout=60)
        try:
            # pypiserver builds redirects from Host: make them point at the front.
            connection.request(
                method, path, body=body, headers={"Host": f"127.0.0.1:{self.port}", **headers}
            )
            response = connection.getresponse()
            return response.status, response.reason, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def _index(self, h: _PyPIHandler, *, project: bool) -> None:
        status, reason, headers, body = self._to_backend("GET", h.path, None, {})
        if project and status == 200 and self.listing_lag:
            status, body = self._lagging(body)
        relay = {k: v for k, v in headers.items() if k.lower() in _RELAYED_HEADERS}
        content_type = relay.pop("Content-Type", "application/octet-stream")
        if status != 200 or not h.path.startswith("/simple"):
            h.send(status, body, content_type, reason=reason, headers=relay)
            return
        if not self.json_api:  # plain pypiserver: HTML whatever was asked for
            h.send(status, body, content_type, reason=reason, headers=relay)
            return
        chosen = negotiate(h.headers.get("Accept"))
        vary = {**relay, "Vary": "Accept"}
        if chosen != SIMPLE_JSON:
            if chosen == SIMPLE_HTML:
                content_type = SIMPLE_HTML
            page = self._mark_provenance(self._mark_yanked(body))
            h.send(status, page, content_type, reason=reason, headers=vary)
            return
        page = body.decode("utf-8", "replace")
        name = urlsplit(h.path).path.strip("/").split("/")[-1]
        data = self._project_json(name, page) if project else self._root_json(page)
        h.send_json(200, data, content_type=SIMPLE_JSON, headers=vary)

    def _mark_yanked(self, page: bytes) -> bytes:
        """Warehouse's PEP 592 attribute on each yanked file's link."""
        text = page.decode("utf-8", "replace")
        for name, why in self.yanked.items():
            text = re.sub(r"<a (?=[^>]*>" + re.escape(html.escape(name)) + r"</a>)",
                          f'<a data-yanked="{html.escape(why)}" ', text)  # fmt: skip
        return text.encode()

    def _mark_provenance(self, page: bytes) -> bytes:
        """PEP 740: each attested file's link names its Integrity API URL."""
        text = page.decode("utf-8", "replace")
        with self._lock:
            attested = list(self.provenance)
        for name in attested:
            url = html.escape(self.integrity_url(name))
            text = re.sub(r"<a (?=[^>]*>" + re.escape(html.escape(name)) + r"</a>)",
                          f'<a data-provenance="{url}" ', text)  # fmt: skip
        return text.encode()

    def _lagging(self, page: bytes) -> tuple[int, bytes]:
        """The page without the files stored less than ``listing_lag`` seconds ago; 404 when
        none is left (a new project is not there yet)."""
        text = page.decode("utf-8", "replace")
        now = time.time()
        with self._lock:
            hidden = [n for n, at in self._stored_at.items() if now - at < self.listing_lag]
        for name in hidden:
            text = re.sub(r"<a [^>]*>" + re.escape(html.escape(name)) + r"</a>(<br\s*/?>)?\s*",
                          "", text)  # fmt: skip
        if not links(text):
            return 404, b"<html><body><h1>404 Not Found</h1></body></html>"
        return 200, text.encode()

    def _root_json(self, page: str) -> dict[str, Any]:
        names = [text for _, text in links(page)]
        return {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}

    def _project_json(self, name: str, page: str) -> dict[str, Any]:
        """PEP 691 (+ PEP 700) JSON for what pypiserver's HTML page lists."""
        files = []
        versions = set()
        for href, filename in links(page):
            url, _, fragment = href.partition("#")
            algorithm, _, digest = fragment.partition("=")
            path = self.packages / urlsplit(url).path.removeprefix("/packages/")
            entry: dict[str, Any] = {
                "filename": filename,
                "url": urljoin(self.url, url),
                "hashes": {algorithm: digest} if digest else {},
            }
            if path.is_file():
                stat = path.stat()
                entry["size"] = stat.st_size
                # PEP 700; the file's time is when it was stored (age_release moves it).
                uploaded = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.timezone.utc)
                entry["upload-time"] = uploaded.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            if filename in self.yanked:
                entry["yanked"] = self.yanked[filename] or True
            with self._lock:
                attested = filename in self.provenance
            entry["provenance"] = self.integrity_url(filename) if attested else None
            files.append(entry)
            info = dist_info(filename)
            if info:
                versions.add(Version(info[1]))
        return {
            # 1.4: files carry "provenance" (PEP 740), as Warehouse's do.
            "meta": {"api-version": "1.4"},
            "name": html.unescape(name),
            "versions": [str(v) for v in sorted(versions)],
            "files": files,
        }


def _basic_password(header: str | None) -> str | None:
    """The password of ``Authorization: Basic`` for user ``__token__``, else None."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except ValueError:
        return None
    user, _, password = decoded.partition(":")
    return password if user == "__token__" else None


_RELAYED_HEADERS = {
    "content-type",
    "location",
    "etag",
    "last-modified",
    "cache-control",
    "content-disposition",
}
