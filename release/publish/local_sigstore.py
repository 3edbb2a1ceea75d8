"""A local Sigstore on 127.0.0.1: a Fulcio-like CA, a Rekor v1-like log, and their trust root.

It lives in release/ (not tests/) because ``publish --dry-run`` rehearses signing against it
outside the tests, and release/ never imports tests/; tests/emulators/sigstore.py re-exports
it for the tests, which sign against it with the real sigstore-python as the rehearsal does.

One server answers both APIs at its root path, as sigstore-python calls them:

- ``POST /api/v2/signingCert`` (Fulcio): the OIDC token (``Authorization: Bearer``) is
  verified with the GitHub OIDC emulator's key, for the audience ``sigstore``, like Fulcio's
  issuer pool; the CSR (``{"certificateSigningRequest": base64(PEM)}``) must be signed by the
  key it carries (the proof of possession). The answer is a leaf in Fulcio's profile
  (critical SAN URI ``https://github.com/<job_workflow_ref>``, KU/EKU, SKI/AKI, GitHub's
  identity extensions 1.3.6.1.4.1.57264.1.*, one embedded precertificate SCT signed by a CT
  key) and the chain ``[leaf, root]`` as ``signedCertificateEmbeddedSct``. Refusals are
  Fulcio's: HTTP 400 with grpc-gateway's ``{"code": 3, "message": ...}`` and Fulcio's
  messages (pkg/server/error.go), e.g. ``There was an error processing the identity token``.
- ``POST /api/v1/log/entries`` (Rekor v1): ``dsse`` and ``hashedrekord`` 0.0.1 proposals.
  Each signature is verified against the certificate given with it; the canonical body goes
  into an in-memory RFC 6962 Merkle tree; the reply carries the inclusion proof, a signed
  checkpoint (signed note) and the signed entry timestamp (SET). Refusals are Rekor's: 400
  ``error processing entry: ...``, 409 ``an equivalent entry already exists ...``.

    with GitHubOIDC(claims=github_claims(...)) as oidc, LocalSigstore(oidc.signer) as sigstore:
        trust_config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())

The trust root (a ClientTrustConfig: trusted root plus signing config, every ``validFor``
starting in the past) is written to a temporary file for the emulator's life and removed
when it stops. The emulator's keys never leave the process. ``fail_requests("fulcio"|"rekor",
n)`` makes the next requests answer 503, an outage rather than a refusal.

Simplified, on purpose: one self-signed root issues the leaves (Fulcio has an intermediate);
the CT log is only a key (no CT server, no log of its own); only ECDSA P-256 keys; one log
shard (``log_offset`` stands for the earlier ones); no TSA; no entry retrieval or search
endpoints; the tree is recomputed per entry (fine for the hundreds of entries of a test).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import json
import os
import secrets
import struct
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from .local_jwt import GITHUB_ISSUER, InvalidToken, Signer
from .local_server import Handler, LocalServer

AUDIENCE = "sigstore"  # the audience Fulcio's public instance accepts
CLOCK_SKEW = 300
GITHUB_URL = "https://github.com"
CERT_LIFETIME = datetime.timedelta(minutes=10)  # Fulcio's
# Fulcio's client messages (sigstore/fulcio pkg/server/error.go), all gRPC InvalidArgument,
# which grpc-gateway answers with HTTP 400.
INVALID_IDENTITY_TOKEN = "There was an error processing the identity token"
INVALID_CSR = "The certificate signing request could not be parsed"
INVALID_SIGNATURE = "The signature supplied in the request could not be verified"
INSECURE_PUBLIC_KEY = "The public key supplied in the request is insecure"
GRPC_INVALID_ARGUMENT = 3
# Rekor's (sigstore/rekor pkg/api/error.go).
REKOR_VALIDATION = "error processing entry: {}"
REKOR_DUPLICATE = "an equivalent entry already exists in the transparency log with UUID {}"

SCT_LIST_OID = ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
FULCIO_ARC = "1.3.6.1.4.1.57264.1"
DSSE_PAYLOAD_TYPE_INTOTO = "application/vnd.in-toto+json"
TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
SIGNING_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"


class Refused(Exception):
    """A request the service refuses: ``status``, the body it answers with, and ``cause``,
    what the service logs but does not tell the client (Fulcio says only that the token
    was refused; the cause lets a test tell an expired token from a wrong audience)."""

    def __init__(self, status: int, body: dict[str, Any], cause: str = "") -> None:
        super().__init__(body.get("message", ""))
        self.status = status
        self.body = body
        self.cause = cause or str(body.get("message", ""))


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str  # what the client reads
    cause: str  # why


def _fulcio_refusal(message: str, cause: str = "") -> Refused:
    body = {"code": GRPC_INVALID_ARGUMENT, "message": message, "details": []}
    return Refused(400, body, cause)


def _rekor_refusal(status: int, message: str) -> Refused:
    return Refused(status, {"code": status, "message": message})


# --- DER and TLS encodings cryptography does not build ------------------------------------


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_utf8_string(text: str) -> bytes:
    data = text.encode()
    return b"\x0c" + _der_length(len(data)) + data


def der_octet_string(data: bytes) -> bytes:
    return b"\x04" + _der_length(len(data)) + data


def _spki_der(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    """sha256 of the DER SubjectPublicKeyInfo: how sigstore names a log's or CT log's key."""
    return hashlib.sha256(_spki_der(key)).digest()


def canonical_json(value: Any) -> bytes:
    """RFC 8785 JSON for what the log canonicalizes: ASCII strings, integers, objects and
    lists only, for which sorted keys without whitespace are that form."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


# --- the Merkle tree (RFC 6962 section 2.1) -----------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def merkle_root(leaves: list[bytes]) -> bytes:
    """MTH over leaf hashes (already hashed with the 0x00 prefix)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(merkle_root(leaves[:k]), merkle_root(leaves[k:]))


def inclusion_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]): the audit path of leaf ``index``, from the leaf's level up."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_path(index, leaves[:k]), merkle_root(leaves[k:])]
    return [*inclusion_path(index - k, leaves[k:]), merkle_root(leaves[:k])]


# --- the service -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    uuid: str
    log_index: int  # global, as the SET and the entry say
    tree_index: int  # in the active shard, as the inclusion proof says
    body: bytes  # the canonical body
    integrated_time: int


class _SigstoreHandler(Handler):
    def do_POST(self) -> None:
        self.dispatch(self._post)

    def do_GET(self) -> None:
        self.dispatch(self._get)

    def _post(self) -> None:
        sigstore: LocalSigstore = self.server.emulator
        body = self.read_body()
        path = self.path.split("?", 1)[0]
        service = {"/api/v2/signingCert": "fulcio", "/api/v1/log/entries": "rekor"}.get(path)
        if service is not None:
            sigstore._take_stall(service)
        if service is not None and sigstore._take_failure(service):
            # An outage, as the front of either service answers it: not a refusal.
            self.send_text(503, "upstream connect error or disconnect/reset before headers")
            return
        try:
            if path == "/api/v2/signingCert":
                answer = sigstore.signing_cert(self.headers.get("Authorization"), body)
                self.send_json(200, answer)
            elif path == "/api/v1/log/entries":
                uuid, answer = sigstore.create_entry(body)
                self.send_json(
                    201,
                    answer,
                    headers={"Location": f"/api/v1/log/entries/{uuid}", "ETag": uuid},
                )
            else:
                self.send_json(404, {"code": 404, "message": "path not found"})
        except Refused as refusal:
            sigstore.refusals.append(Refusal(refusal.status, str(refusal), refusal.cause))
            self.send_json(refusal.status, refusal.body)

    def _get(self) -> None:
        sigstore: LocalSigstore = self.server.emulator
        if self.path.split("?", 1)[0] == "/api/v1/log":
            self.send_json(200, sigstore.log_info())
        else:
            self.send_json(404, {"code": 404, "message": "path not found"})


class LocalSigstore:
    """Fulcio and Rekor v1 on one 127.0.0.1 port, trusting tokens signed by ``oidc_signer``.

    ``log_offset`` is the number of entries in earlier (inactive) log shards: entries' global
    ``logIndex`` is the shard's index plus it, as in production, where they differ.
    """

    def __init__(
        self,
        oidc_signer: Signer,
        *,
        cert_lifetime: datetime.timedelta = CERT_LIFETIME,
        log_offset: int = 1000,
        directory: Path | None = None,
    ) -> None:
        self.oidc_signer = oidc_signer
        self.cert_lifetime = cert_lifetime
        self.log_offset = log_offset
        self.tree_id = secrets.randbelow(2**63)
        self.origin = f"rekor.local - {self.tree_id}"
        self.issued: list[x509.Certificate] = []
        self.entries: list[LogEntry] = []
        self.refusals: list[Refusal] = []  # in order
        self._failures: dict[str, int] = {"fulcio": 0, "rekor": 0}
        self._stalls: dict[str, list[float]] = {"fulcio": [], "rekor": []}
        self._closing = threading.Event()  # ends stalls when the server stops
        self._leaves: list[bytes] = []
        self._by_uuid: dict[str, LogEntry] = {}
        self._lock = threading.Lock()
        # Valid from a day ago: every validFor.start in the trust root lies in the past.
        self._epoch = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        self.ca_cert = self._make_root()
        self._ct_key = ec.generate_private_key(ec.SECP256R1())
        self._rekor_key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = key_id(self._rekor_key.public_key())
        self._server = LocalServer(_SigstoreHandler, self)
        self.url = f"http://127.0.0.1:{self._server.port}"
        self.trust_config_path: Path = Path()
        self._directory = directory  # where the trust config is written (None: $TMPDIR)

    # --- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> LocalSigstore:
        self._server.start()
        fd, name = tempfile.mkstemp(
            prefix="sigstore-trust-config-", suffix=".json", dir=self._directory
        )
        with os.fdopen(fd, "w") as file:
            json.dump(self.trust_config(), file, indent=2)
        self.trust_config_path = Path(name)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._server.stop()
        self.trust_config_path.unlink(missing_ok=True)

    @property
    def errors(self) -> list[str]:
        """Tracebacks of requests the emulator itself failed on (should stay empty)."""
        return self._server.errors

    def fail_requests(self, service: str, n: int) -> None:
        """The next ``n`` requests to ``service`` ("fulcio" or "rekor") answer 503."""
        with self._lock:
            self._failures[service] += n

    def stall_requests(self, service: str, n: int, seconds: float) -> None:
        """The next ``n`` requests to ``service`` are answered only after ``seconds`` (a
        service that accepts connections and hangs), or when the server closes."""
        with self._lock:
            self._stalls[service].extend([seconds] * n)

    def _take_stall(self, service: str) -> None:
        with self._lock:
            seconds = self._stalls[service].pop(0) if self._stalls[service] else 0.0
        if seconds:
            self._closing.wait(seconds)

    def _take_failure(self, service: str) -> bool:
        with self._lock:
            if self._failures[service] > 0:
                self._failures[service] -= 1
                return True
            return False

    # --- the trust root -----------------------------------------------------------------

    def _make_root(self) -> x509.Certificate:
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigstore.local"),
                x509.NameAttribute(NameOID.COMMON_NAME, "sigstore"),
            ]
        )
        public = self._ca_key.public_key()
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._epoch)
            .not_valid_after(self._epoch + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self._ca_key, hashes.SHA256())
        )

    def trust_config(self) -> dict[str, Any]:
        """The ClientTrustConfig JSON sigstore-python's ``ClientTrustConfig.from_json`` loads."""
        start = self._epoch.strftime("%Y-%m-%dT%H:%M:%SZ")

        def public_key(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
            return {
                "rawBytes": base64.b64encode(_spki_der(key.public_key())).decode(),
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "validFor": {"start": start},
            }

        def log(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
            return {
                "baseUrl": self.url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": public_key(key),
                "logId": {"keyId": base64.b64encode(key_id(key.public_key())).decode()},
            }

        der = self.ca_cert.public_bytes(serialization.Encoding.DER)
        trusted_root = {
            "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
            "tlogs": [log(self._rekor_key)],
            "certificateAuthorities": [
                {
                    "subject": {"organization": "sigstore.local", "commonName": "sigstore"},
                    "uri": self.url,
                    "certChain": {"certificates": [{"rawBytes": base64.b64encode(der).decode()}]},
                    "validFor": {"start": start},
                }
            ],
            "ctlogs": [log(self._ct_key)],
            "timestampAuthorities": [],
        }

        def service(version: int) -> dict[str, Any]:
            return {
                "url": self.url,
                "majorApiVersion": version,
                "validFor": {"start": start},
                "operator": "sigstore.local",
            }

        signing_config = {
            "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
            "caUrls": [service(1)],
            "oidcUrls": [],
            "rekorTlogUrls": [service(1)],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaUrls": [],
            "tsaConfig": {"selector": "ANY"},
        }
        return {
            "mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE,
            "trustedRoot": trusted_root,
            "signingConfig": signing_config,
        }

    # --- Fulcio -------------------------------------------------------------------------

    def signing_cert(self, authorization: str | None, body: bytes) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise InvalidToken("no bearer token")
            # go-oidc, Fulcio's verifier: the expiry exactly, nbf with 5 minutes of skew.
            claims = self.oidc_signer.verify(
                token.strip(), audience=AUDIENCE, issuer=GITHUB_ISSUER, leeway=CLOCK_SKEW
            )
            if claims["exp"] <= time.time():
                raise InvalidToken("token has expired")
            san, identity = _github_identity(claims)
        except InvalidToken as exc:
            raise _fulcio_refusal(INVALID_IDENTITY_TOKEN, exc.reason) from exc
        try:
            request = json.loads(body)
            pem = base64.b64decode(request["certificateSigningRequest"], validate=True)
            csr = x509.load_pem_x509_csr(pem)
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise _fulcio_refusal(INVALID_CSR, f"{type(exc).__name__}: {exc}") from exc
        public = csr.public_key()
        # Fulcio takes ECDSA P-256/384/521, RSA >= 2048 and Ed25519; sigstore-python sends P-256.
        if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.key_size < 256:
            raise _fulcio_refusal(INSECURE_PUBLIC_KEY)
        if not csr.is_signature_valid:
            raise _fulcio_refusal(INVALID_SIGNATURE, "the CSR is not signed by its key")
        leaf = self._issue(public, san, identity)
        with self._lock:
            self.issued.append(leaf)
        chain = [c.public_bytes(serialization.Encoding.PEM).decode() for c in (leaf, self.ca_cert)]
        return {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}

    def _issue(
        self, public: ec.EllipticCurvePublicKey, san: str, identity: dict[str, bytes]
    ) -> x509.Certificate:
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.ca_cert.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + self.cert_lifetime)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._ca_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(san)]),
                critical=True,
            )
        )
        for oid, value in identity.items():
            builder = builder.add_extension(
                x509.UnrecognizedExtension(ObjectIdentifier(oid), value), critical=False
            )
        # The precertificate the CT log signs is this certificate without the SCT list;
        # cryptography gives its TBS (tbs_precertificate_bytes) from a certificate carrying
        # a placeholder list, which is then replaced by the real one.
        placeholder = builder.add_extension(
            x509.UnrecognizedExtension(SCT_LIST_OID, der_octet_string(b"\x00\x00")), False
        ).sign(self._ca_key, hashes.SHA256())
        sct = self._sct(placeholder.tbs_precertificate_bytes)
        sct_list = struct.pack("!H", len(sct)) + sct
        extension = der_octet_string(struct.pack("!H", len(sct_list)) + sct_list)
        return builder.add_extension(
            x509.UnrecognizedExtension(SCT_LIST_OID, extension), critical=False
        ).sign(self._ca_key, hashes.SHA256())

    def _sct(self, tbs_precertificate: bytes) -> bytes:
        """One RFC 6962 v1 SCT for a precertificate entry, signed by the CT key."""
        timestamp = int(time.time() * 1000)
        issuer_key_hash = key_id(self._ca_key.public_key())
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp, 1)  # v1, certificate_timestamp, precert
            + issuer_key_hash
            + len(tbs_precertificate).to_bytes(3, "big")
            + tbs_precertificate
            + struct.pack("!H", 0)  # no extensions
        )
        signature = self._ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return (
            struct.pack("!B", 0)
            + key_id(self._ct_key.public_key())
            + struct.pack("!QH", timestamp, 0)
            + struct.pack("!BBH", 4, 3, len(signature))  # sha256, ecdsa
            + signature
        )

    # --- Rekor --------------------------------------------------------------------------

    def create_entry(self, body: bytes) -> tuple[str, dict[str, Any]]:
        try:
            proposal = json.loads(body)
            kind, version = proposal["kind"], proposal["apiVersion"]
            spec = proposal["spec"]
        except (ValueError, KeyError, TypeError) as exc:
            raise _rekor_refusal(400, REKOR_VALIDATION.format(f"malformed entry: {exc}")) from exc
        try:
            if (kind, version) == ("dsse", "0.0.1"):
                canonical = _canonical_dsse(spec)
            elif (kind, version) == ("hashedrekord", "0.0.1"):
                canonical = _canonical_hashedrekord(spec)
            else:
                raise ValueError(f"{kind} {version} is not a supported entry kind and version")
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise _rekor_refusal(400, REKOR_VALIDATION.format(exc)) from exc
        data = canonical_json(canonical)
        leaf = leaf_hash(data)
        uuid = f"{self.tree_id:016x}{leaf.hex()}"
        with self._lock:
            if uuid in self._by_uuid:
                raise _rekor_refusal(409, REKOR_DUPLICATE.format(uuid))
            self._leaves.append(leaf)
            entry = LogEntry(
                uuid=uuid,
                log_index=self.log_offset + len(self._leaves) - 1,
                tree_index=len(self._leaves) - 1,
                body=data,
                integrated_time=int(time.time()),
            )
            self.entries.append(entry)
            self._by_uuid[uuid] = entry
            leaves = list(self._leaves)
        return uuid, {uuid: self._entry_json(entry, leaves)}

    def _entry_json(self, entry: LogEntry, leaves: list[bytes]) -> dict[str, Any]:
        body = base64.b64encode(entry.body).decode()
        log_id = self.log_id.hex()
        # The SET: the log's signature over the RFC 8785 form of these four fields.
        promise = {
            "body": body,
            "integratedTime": entry.integrated_time,
            "logID": log_id,
            "logIndex": entry.log_index,
        }
        canonical = canonical_json(promise)
        set_signature = self._rekor_key.sign(canonical, ec.ECDSA(hashes.SHA256()))
        root = merkle_root(leaves)
        return {
            **promise,
            "verification": {
                "signedEntryTimestamp": base64.b64encode(set_signature).decode(),
                "inclusionProof": {
                    "logIndex": entry.tree_index,
                    "treeSize": len(leaves),
                    "rootHash": root.hex(),
                    "hashes": [h.hex() for h in inclusion_path(entry.tree_index, leaves)],
                    "checkpoint": self.checkpoint(len(leaves), root),
                },
            },
        }

    def checkpoint(self, size: int, root: bytes) -> str:
        """A signed note (the checkpoint format): the text, a blank line, one signature line
        ``— <name> base64(key hint[4] || signature)``, the hint being the log ID's first bytes."""
        note = f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"
        signature = self._rekor_key.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
        line = base64.b64encode(self.log_id[:4] + signature).decode()
        return f"{note}\n\u2014 rekor.local {line}\n"

    def log_info(self) -> dict[str, Any]:
        with self._lock:
            leaves = list(self._leaves)
        root = merkle_root(leaves)
        return {
            "rootHash": root.hex(),
            "treeSize": len(leaves),
            "signedTreeHead": self.checkpoint(len(leaves), root),
            "treeID": str(self.tree_id),
        }


# --- identities and entry bodies ---------------------------------------------------------


def _github_identity(claims: dict[str, Any]) -> tuple[str, dict[str, bytes]]:
    """The SAN and extensions Fulcio derives from a GitHub Actions token (its
    config/identity/config.yaml, ``github-workflow``); a claim missing refuses the token."""

    def claim(name: str) -> str:
        value = claims.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidToken(f"token is missing the {name!r} claim")
        return value

    repository = claim("repository")
    ext = f"{FULCIO_ARC}."
    utf8 = {
        "8": GITHUB_ISSUER,
        "9": f"{GITHUB_URL}/{claim('job_workflow_ref')}",
        "10": claim("job_workflow_sha"),
        "11": claim("runner_environment"),
        "12": f"{GITHUB_URL}/{repository}",
        "13": claim("sha"),
        "14": claim("ref"),
        "15": claim("repository_id"),
        "16": f"{GITHUB_URL}/{claim('repository_owner')}",
        "17": claim("repository_owner_id"),
        "18": f"{GITHUB_URL}/{claim('workflow_ref')}",
        "19": claim("workflow_sha"),
        "20": claim("event_name"),
        "21": f"{GITHUB_URL}/{repository}/actions/runs/{claim('run_id')}"
        f"/attempts/{claim('run_attempt')}",
        "22": claim("repository_visibility"),
    }
    # The deprecated extensions 1.1-1.6 hold the raw string, not DER.
    raw = {
        "1": GITHUB_ISSUER,
        "2": claim("event_name"),
        "3": claim("sha"),
        "4": claim("workflow"),
        "5": repository,
        "6": claim("ref"),
    }
    identity = {ext + k: v.encode() for k, v in raw.items()}
    identity.update({ext + k: der_utf8_string(v) for k, v in utf8.items()})
    return f"{GITHUB_URL}/{claim('job_workflow_ref')}", identity


def _verifying_key(verifier_b64: str) -> tuple[ec.EllipticCurvePublicKey, str]:
    """The key in a proposal's ``verifier`` (base64 of a PEM certificate or public key)."""
    pem = base64.b64decode(verifier_b64, validate=True)
    key = (
        x509.load_pem_x509_certificate(pem).public_key() if b"CERTIFICATE" in pem
        else serialization.load_pem_public_key(pem)
    )  # fmt: skip
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("only ECDSA verifiers are supported by this log")
    return key, verifier_b64


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _canonical_dsse(spec: dict[str, Any]) -> dict[str, Any]:
    content = spec["proposedContent"]
    envelope_text: str = content["envelope"]
    envelope = json.loads(envelope_text)
    payload = base64.b64decode(envelope["payload"], validate=True)
    payload_type = envelope["payloadType"]
    keys = [_verifying_key(v) for v in content["verifiers"]]
    if not envelope.get("signatures") or not keys:
        raise ValueError("an envelope needs at least one signature and one verifier")
    signatures = []
    for sig in envelope["signatures"]:
        raw = base64.b64decode(sig["sig"], validate=True)
        for key, verifier in keys:
            try:
                key.verify(raw, _pae(payload_type, payload), ec.ECDSA(hashes.SHA256()))
            except InvalidSignature:
                continue
            signatures.append({"signature": sig["sig"], "verifier": verifier})
            break
        else:
            raise ValueError("could not verify envelope: no verifier matches a signature")
    return {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {
                "algorithm": "sha256",
                "value": hashlib.sha256(envelope_text.encode()).hexdigest(),
            },
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": sorted(signatures, key=lambda s: s["signature"]),
        },
    }


def _canonical_hashedrekord(spec: dict[str, Any]) -> dict[str, Any]:
    signature_b64 = spec["signature"]["content"]
    key, verifier = _verifying_key(spec["signature"]["publicKey"]["content"])
    digest = spec["data"]["hash"]
    if digest.get("algorithm") != "sha256":
        raise ValueError(f"hash algorithm {digest.get('algorithm')!r} is not supported here")
    value = bytes.fromhex(digest["value"])
    if len(value) != 32:
        raise ValueError("a sha256 digest is 32 bytes")
    try:
        key.verify(
            base64.b64decode(signature_b64, validate=True),
            value,
            ec.ECDSA(Prehashed(hashes.SHA256())),
        )
    except InvalidSignature as exc:
        raise ValueError(
            "verifying signature: invalid signature when validating ASN.1 encoded signature"
        ) from exc
    return {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": digest["value"]}},
            "signature": {"content": signature_b64, "publicKey": {"content": verifier}},
        },
    }
