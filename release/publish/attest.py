"""PEP 740 publish attestations: each distribution signed with Sigstore before its upload.

What pypa/gh-action-pypi-publish does since v1.11 (../shared/reference/attestations.md §6),
without its two traps: an attestation left by an earlier attempt is reused when it verifies
for this file and this job's identity (and replaced otherwise), never a reason to fail; and
every new signature is verified before anything is uploaded, so a bad one stops the stage
while the index holds nothing of it.

The identity is the CI's ambient one: an OIDC token for the audience ``sigstore``, fetched
like the upload's (the HTTP layer's retries), registered as a secret with the console and
handed only to sigstore-python's Fulcio request. The ephemeral key is sigstore-python's, made
in memory for the signer and dropped with it. Neither reaches a log, a file, a record or argv.

sigstore-python and pypi-attestations are imported only here, only when signing: they need
Python 3.10 (the pins, 3.11), and an older Python gets :class:`SigningUnsupportedError`
saying so, not an ImportError.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..console import Console
from ..dists import ATTESTATION_SUFFIX
from ..errors import (
    AttestationInvalidError,
    SigningRefusedError,
    SigningUnavailableError,
    SigningUnsupportedError,
)
from ..fsio import write_text_atomic
from ..http import Policy, give_timeouts
from .credentials import decode_claims

SUFFIX = ATTESTATION_SUFFIX  # <file>.publish.attestation, as twine and the publish action name it
PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
SIGN_ATTEMPTS = 4  # per signing session; each retry after the HTTP layer's backoff
OLDEST_PYTHON = (3, 10)  # sigstore 4's floor
# A Sigstore ClientTrustConfig to sign with instead of the public-good instance.
TRUST_CONFIG_VARIABLE = "NOX_RELEASE_SIGSTORE_TRUST_CONFIG"


@dataclass(frozen=True)
class Signed:
    """One file's attestation, as publish.json records it (never the token or the key)."""

    file: str
    attestation: Path
    identity: str  # the certificate's SAN: https://github.com/<job_workflow_ref>
    log_index: int  # the Rekor entry's (global) log index
    sha256: str  # of the attestation file's bytes
    reused: bool

    def record(self) -> dict[str, object]:
        return {
            "attestation": self.attestation.name,
            "identity": self.identity,
            "log_index": self.log_index,
            "sha256": self.sha256,
            "reused": self.reused,
        }


def attestation_path(dist_file: Path, directory: Path | None = None) -> Path:
    """``<file>.publish.attestation``, beside the file unless ``directory`` is given (the
    rehearsal's go under ``<dist>/.release/``, where no upload picks them up)."""
    return (directory or dist_file.parent) / (dist_file.name + SUFFIX)


def identity_of(jwt: str) -> str:
    """The certificate identity Fulcio gives a GitHub Actions token: its SAN URI."""
    claims = decode_claims(jwt)
    ref = claims.get("job_workflow_ref")
    if not isinstance(ref, str) or not ref:
        raise SigningRefusedError(
            "the OIDC token for Sigstore carries no job_workflow_ref claim: it is not a GitHub "
            "Actions workflow token, and publish signs only with one.",
            "publish from a GitHub Actions workflow with trusted publishing, or set "
            "[tool.release.publish] attestations = false.",
        )
    return f"https://github.com/{ref}"


def unsupported() -> SigningUnsupportedError | None:
    if sys.version_info < OLDEST_PYTHON:
        running = ".".join(map(str, sys.version_info[:3]))
        return SigningUnsupportedError(
            f"publish signs PEP 740 attestations with sigstore-python, which needs Python "
            f"3.10 or newer; this is Python {running}.",
            "run publish on Python 3.11 or newer (nox -s publish picks the session's Python: "
            "set python= on it), or set [tool.release.publish] attestations = false to upload "
            "without attestations.",
        )
    try:
        import pypi_attestations  # noqa: F401
        import sigstore  # noqa: F401
    except ImportError as exc:
        package = (exc.name or "sigstore").split(".")[0].replace("_", "-")
        return SigningUnsupportedError(
            f"publish signs PEP 740 attestations, and {package} is not installed.",
            "run publish on Python 3.11 or newer, where nox -s publish installs them (pip "
            "install 'nox-release[publish]'), or set [tool.release.publish] attestations = "
            "false.",
        )
    return None


def trust_config(environ: Mapping[str, str]) -> str | None:
    """The Sigstore to sign with: the public-good one (None), unless the environment names
    a ClientTrustConfig (a private Sigstore; the tests' local one)."""
    path = environ.get(TRUST_CONFIG_VARIABLE)
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SigningUnsupportedError(
            f"${TRUST_CONFIG_VARIABLE} names {path}, which cannot be read ({exc.strerror}).",
            f"point {TRUST_CONFIG_VARIABLE} at a Sigstore ClientTrustConfig JSON, or unset it "
            "to sign with the public-good Sigstore.",
        ) from None


class Sigstore:
    """Where to sign and what to verify against: the public-good instance (``trust_config``
    None), or a ClientTrustConfig JSON (the rehearsal's local Sigstore)."""

    def __init__(self, trust_config: str | None = None) -> None:
        problem = unsupported()
        if problem is not None:
            raise problem
        import requests
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import ClientTrustConfig
        from sigstore.verify import Verifier

        if trust_config is None:
            try:  # the public-good trust root, refreshed through TUF
                self.config = ClientTrustConfig.production()
                self.verifier = Verifier.production()
            except (SigstoreError, requests.RequestException, OSError) as exc:
                raise SigningUnavailableError(
                    f"Sigstore's trust root could not be fetched ({said(exc)}): an outage or "
                    "no network, not a refusal. Nothing was signed or uploaded.",
                    "run publish again later (https://status.sigstore.dev).",
                ) from None
        else:
            try:
                self.config = ClientTrustConfig.from_json(trust_config)
                self.verifier = Verifier(trusted_root=self.config.trusted_root)
            except (SigstoreError, ValueError) as exc:
                raise SigningUnsupportedError(
                    f"the Sigstore trust config to sign with is not a ClientTrustConfig "
                    f"sigstore-python can load ({said(exc)[:300]}).",
                    "fix or unset NOX_RELEASE_SIGSTORE_TRUST_CONFIG (unset: the public-good "
                    "Sigstore).",
                ) from None
        # As pypi-attestations' own CLI: PEP 740 objects carry no TSA timestamps, so the
        # entry's SET (Rekor v1) is the only time a verifier can trust.
        self.config.force_tlog_version = 1

    def verify(self, attestation: Any, dist_file: Path, sha256: str, identity: str) -> str:
        """Why ``attestation`` is not a publish attestation of this file by ``identity``
        under this trust root; '' when it is."""
        from sigstore.verify import policy

        signer = policy.Identity(identity=identity, issuer=GITHUB_ISSUER)
        return self.verify_with(attestation, dist_file.name, sha256, signer)

    def verify_with(self, attestation: Any, filename: str, sha256: str, signer: Any) -> str:
        """Why ``attestation`` is not a publish attestation of ``filename`` (with this sha256)
        whose certificate satisfies the sigstore-python policy ``signer``, under this trust
        root; '' when it is."""
        from sigstore.errors import VerificationError

        try:
            _payload_type, payload = self.verifier.verify_dsse(attestation.to_bundle(), signer)
        except (VerificationError, ValueError) as exc:
            return f"its signature does not verify ({exc})"
        try:
            statement = json.loads(payload)
            subjects = statement["subject"]
            predicate_type = statement["predicateType"]
        except (ValueError, KeyError, TypeError):
            return "its statement is not an in-toto statement"
        if predicate_type != PUBLISH_V1:
            return f"its predicate type is {predicate_type!r}, not PyPI's publish/v1"
        if len(subjects) != 1:
            return f"it has {len(subjects)} subjects, not one"
        subject = subjects[0]
        if subject.get("name") != filename:
            return f"it is the attestation of {subject.get('name')!r}"
        if subject.get("digest", {}).get("sha256") != sha256:
            return "its subject's sha256 is not the file's"
        return ""


def _load(path: Path) -> Any:
    from pypi_attestations import Attestation

    try:
        return Attestation.model_validate_json(path.read_bytes())
    except (OSError, ValueError) as exc:
        return exc


def _signed(
    path: Path, dist_file: Path, attestation: Any, identity: str, *, reused: bool
) -> Signed:
    entry = attestation.verification_material.transparency_entries[0]
    return Signed(
        file=dist_file.name,
        attestation=path,
        identity=identity,
        log_index=int(entry["logIndex"]),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        reused=reused,
    )


def outage_of(exc: BaseException) -> str | None:
    """What makes ``exc`` an outage of Fulcio or Rekor (no answer, a 5xx, a 429), or None
    for a refusal. sigstore-python wraps the HTTP error of a refusal and an outage alike;
    a connection error it lets through."""
    import requests

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (requests.ConnectionError, requests.Timeout)):
            return f"no answer ({type(seen).__name__})"
        if isinstance(seen, requests.HTTPError) and seen.response is not None:
            status = seen.response.status_code
            return f"HTTP {status}" if status >= 500 or status == 429 else None
        seen = seen.__cause__ or seen.__context__
    return None


class TokenExpired(Exception):
    """The OIDC token's ``exp`` has passed: sigstore-python would call it malformed."""


def expired(exc: BaseException) -> str | None:
    """What ran out, when ``exc`` is (or wraps) the expiry of the OIDC token or of the
    signing certificate: both live minutes, and a slow Sigstore can outlast either.
    pypi-attestations re-raises them as an AttestationError without a message."""
    from sigstore._internal.fulcio.client import ExpiredCertificate
    from sigstore.oidc import ExpiredIdentity

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ExpiredCertificate):
            return "the signing certificate expired"
        if isinstance(seen, (ExpiredIdentity, TokenExpired)):
            return "the OIDC token for Sigstore expired"
        seen = seen.__cause__ or seen.__context__
    return None


def sign_all(
    files: Sequence[Path],
    *,
    sha256: dict[str, str],
    token: Callable[[], str],
    sigstore: Sigstore,
    console: Console,
    directory: Path | None = None,
    policy: Policy | None = None,
) -> list[Signed]:
    """An attestation for each of ``files`` (whose sha256 are given), reused or signed and
    verified; raises before any upload when one cannot be had."""
    jwt = token()
    console.register_secret(jwt)
    identity = identity_of(jwt)
    results, todo = _reusable(
        files, sha256, identity=identity, sigstore=sigstore, console=console, directory=directory
    )
    policy = policy or Policy()
    for attempt in range(1, SIGN_ATTEMPTS + 1):
        if not todo:
            break
        try:
            _sign_each(
                todo, sha256, jwt=jwt, identity=identity, sigstore=sigstore, console=console,
                directory=directory, results=results, timeout=(policy.connect_s, policy.read_s),
            )  # fmt: skip
        except (AttestationInvalidError, SigningRefusedError):
            raise
        except Exception as exc:  # sigstore-python's errors have no common base
            ran_out = expired(exc)
            if ran_out is not None:
                console.line(f"  {ran_out}: signing the other {len(todo)} file(s) with a new one")
                jwt = token()  # a fresh identity, for a fresh certificate
                console.register_secret(jwt)
                continue
            outage = outage_of(exc)
            if outage is None:
                raise SigningRefusedError(
                    f"Sigstore refused to sign {todo[0].name}: {said(exc)}.",
                    "check that the job's OIDC token is GitHub's (id-token: write) and that "
                    "Sigstore accepts it; or set [tool.release.publish] attestations = false.",
                ) from None
            if attempt == SIGN_ATTEMPTS:
                raise SigningUnavailableError(
                    f"Sigstore (Fulcio or Rekor) still gave {outage} after {attempt} attempts: "
                    f"an outage, not a refusal. {len(todo)} file(s) are not signed; nothing was "
                    "uploaded.",
                    "run publish again later (https://status.sigstore.dev): attestations "
                    "already made are reused.",
                ) from None
            delay = policy.backoff(attempt)
            console.line(f"  Sigstore gave {outage}; trying again in {delay:.0f}s")
            time.sleep(delay)
    if todo:  # every attempt spent on expired tokens or certificates
        raise SigningRefusedError(
            f"the OIDC token or the signing certificate expired {SIGN_ATTEMPTS} times while "
            f"signing; {len(todo)} file(s) are not signed, nothing was uploaded.",
            "check the machine's clock (tokens and certificates live minutes), then run "
            "publish again.",
        )
    return [results[f.name] for f in files]


def _reusable(
    files: Sequence[Path],
    sha256: dict[str, str],
    *,
    identity: str,
    sigstore: Sigstore,
    console: Console,
    directory: Path | None,
) -> tuple[dict[str, Signed], list[Path]]:
    """The attestations an earlier attempt left that verify for their file and this
    identity, and the files still to sign (none yet, or one that does not verify)."""
    results: dict[str, Signed] = {}
    todo: list[Path] = []
    for dist_file in files:
        path = attestation_path(dist_file, directory)
        if not path.exists():
            todo.append(dist_file)
            continue
        loaded = _load(path)
        problem = (
            f"it cannot be read ({loaded})" if isinstance(loaded, Exception)
            else sigstore.verify(loaded, dist_file, sha256[dist_file.name], identity)
        )  # fmt: skip
        if problem:
            console.line(f"  {path.name}: left by an earlier attempt, replaced: {problem}")
            todo.append(dist_file)
            continue
        results[dist_file.name] = _signed(path, dist_file, loaded, identity, reused=True)
        console.line(f"  {path.name}: left by an earlier attempt, verified: reused")
    return results, todo


def _sign_each(
    todo: list[Path],
    sha256: dict[str, str],
    *,
    jwt: str,
    identity: str,
    sigstore: Sigstore,
    console: Console,
    directory: Path | None,
    results: dict[str, Signed],
    timeout: tuple[float, float],
) -> None:
    """Sign ``todo`` with one certificate (a cached signer), each verified before it is
    written; a file done leaves ``todo`` at once, so that a retry signs only the rest."""
    from pypi_attestations import Attestation, Distribution

    expiry = decode_claims(jwt).get("exp")
    if isinstance(expiry, (int, float)) and expiry <= time.time():
        raise TokenExpired
    context = signing_context(sigstore, timeout)
    identity_token = sigstore_identity(jwt)
    with context.signer(identity_token, cache=True) as signer:
        while todo:
            dist_file = todo[0]
            began = time.monotonic()
            digest = sha256[dist_file.name]
            attestation = Attestation.sign(signer, Distribution(name=dist_file.name, digest=digest))
            problem = sigstore.verify(attestation, dist_file, digest, identity)
            if problem:
                raise AttestationInvalidError(
                    f"the attestation just signed for {dist_file.name} does not verify: "
                    f"{problem}. Nothing was uploaded.",
                    "run publish again; if it happens again, Sigstore's trust root and its "
                    "services disagree (https://status.sigstore.dev).",
                )
            path = attestation_path(dist_file, directory)
            write_text_atomic(path, attestation.model_dump_json())
            signed = _signed(path, dist_file, attestation, identity, reused=False)
            results[dist_file.name] = signed
            console.line(
                f"  {path.name}: signed, Rekor log index {signed.log_index} "
                f"({time.monotonic() - began:.2f}s)"
            )
            todo.pop(0)


def sigstore_identity(jwt: str) -> Any:
    """sigstore-python's IdentityToken of the CI's ``sigstore`` token, or the refusal said."""
    from sigstore.oidc import IdentityError, IdentityToken

    try:
        return IdentityToken(jwt, client_id="sigstore")
    except IdentityError as exc:
        raise SigningRefusedError(
            f"sigstore-python refused the CI's OIDC token for Sigstore: {exc}.",
            "rerun the job; the token must be for the audience sigstore.",
        ) from None


def signing_context(sigstore: Sigstore, timeout: tuple[float, float]) -> Any:
    """sigstore-python's SigningContext for ``sigstore``, its requests with ``timeout``.

    sigstore-python 4.5 sends its Fulcio and Rekor v1 requests without a timeout: a service
    that accepts the connection and never answers would hold the release job until CI kills
    it. Their sessions get the HTTP layer's timeouts; a timeout is then an outage, retried
    like a 5xx. (The Rekor session is per thread: made here, on the signing one.)"""
    from sigstore.sign import SigningContext

    context = SigningContext.from_trust_config(sigstore.config)
    for client, attribute in ((context._fulcio, "session"), (context._rekor, "_session")):
        session = getattr(client, attribute, None)
        if session is not None:  # None: another sigstore-python, whose own defaults stand
            give_timeouts(session, timeout)
    return context


def said(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
