"""The local Sigstore (tests/emulators/sigstore.py) against the REAL clients.

sigstore-python signs against it (Fulcio certificate with its SCT, Rekor v1 entry with
proof, checkpoint and SET) and sigstore-python's own ``Verifier``, given the trust root the
emulator publishes, accepts the result; pypi-attestations makes and checks PEP 740
attestations of a real wheel the same way. Nothing of either client is mocked: the one
redirection is ``Verifier.production`` returning a verifier of the emulator's trust root,
because ``Attestation.verify`` has no parameter for another root.

Then what must be refused is, each by its message: tampered attestations, another
repository or workflow, another file's attestation, a proof or checkpoint that does not
verify, and at the services, the tokens, CSRs and entries the real ones refuse.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from emulators.github_oidc import GitHubOIDC
from emulators.jwt import Signer, github_claims
from emulators.sigstore import (
    INVALID_IDENTITY_TOKEN,
    INVALID_SIGNATURE,
    LocalSigstore,
    inclusion_path,
    leaf_hash,
    merkle_root,
    node_hash,
)
from wheel_factory import write_wheel

# The module itself, whose functions some tests replace (the wrapper only re-exports them).
from release.publish import local_sigstore as emulator

# sigstore 4 needs Python 3.10, and on 3.10 its importlib-resources~=5.7 conflicts with
# pypiserver 2.4.2's; tests/sigstore-requirements.txt installs the clients from 3.11 on.
CLIENTS_SKIP_REASON = (
    "sigstore 4.5.1 and pypi-attestations 0.0.31 are installed from Python 3.11 only "
    "(tests/sigstore-requirements.txt): they need 3.10, and on 3.10 sigstore conflicts with "
    "pypiserver 2.4.2 over importlib-resources"
)
HAS_CLIENTS = sys.version_info >= (3, 11)
needs_clients = pytest.mark.skipif(not HAS_CLIENTS, reason=CLIENTS_SKIP_REASON)

if HAS_CLIENTS:  # imported unconditionally there: a missing install fails, it does not skip
    from pypi_attestations import Attestation, Distribution, GitHubPublisher
    from pypi_attestations import VerificationError as AttestationVerificationError
    from sigstore._internal.fulcio.client import FulcioClientError
    from sigstore.dsse import DigestSet, StatementBuilder, Subject
    from sigstore.errors import VerificationError
    from sigstore.models import Bundle, ClientTrustConfig
    from sigstore.oidc import IdentityToken, detect_credential
    from sigstore.sign import Signer as SigstoreSigner
    from sigstore.sign import SigningContext
    from sigstore.verify import Verifier, policy

REPOSITORY = "owner/repo"
WORKFLOW = "release.yml"
PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"


@pytest.fixture
def oidc() -> Iterator[GitHubOIDC]:
    """GitHub's token endpoint for a job of owner/repo's release.yml on a tag."""
    claims = github_claims(repository=REPOSITORY, workflow=WORKFLOW, ref="refs/tags/v1.0")
    with GitHubOIDC(claims=claims) as server:
        yield server
        assert not server.errors


@pytest.fixture
def sigstore(oidc: GitHubOIDC) -> Iterator[LocalSigstore]:
    with LocalSigstore(oidc.signer) as server:
        yield server
        assert not server.errors


def ambient_token(oidc: GitHubOIDC, monkeypatch: pytest.MonkeyPatch) -> str:
    """The job's token for the audience sigstore, fetched the way sigstore-python does it in
    Actions (``detect_credential``, through ``id``, from the job's environment)."""
    for name, value in oidc.env().items():
        monkeypatch.setenv(name, value)
    token = detect_credential()
    assert token is not None
    return token


def trust_config(sigstore: LocalSigstore) -> ClientTrustConfig:
    config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
    # What pypi-attestations' own CLI does: attestations need Rekor v1 (a SET, no TSA).
    config.force_tlog_version = 1
    return config


def verifier(sigstore: LocalSigstore) -> Verifier:
    return Verifier(trusted_root=trust_config(sigstore).trusted_root)


def publisher_policy(repository: str = REPOSITORY, workflow: str = WORKFLOW) -> Any:
    return GitHubPublisher(repository=repository, workflow=workflow)._as_policy()


def wheel(directory: Path, name: str = "demo_pkg", version: str = "1.0") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return write_wheel(directory, name, version)


def attest(sigstore: LocalSigstore, token: str, *paths: Path) -> list[Attestation]:
    context = SigningContext.from_trust_config(trust_config(sigstore))
    with context.signer(IdentityToken(token), cache=True) as signer:
        return [Attestation.sign(signer, Distribution.from_file(path)) for path in paths]


@pytest.fixture
def production_is_local(sigstore: LocalSigstore, monkeypatch: pytest.MonkeyPatch) -> None:
    """``Attestation.verify`` builds ``Verifier.production()``: make that the local root."""
    local = verifier(sigstore)
    monkeypatch.setattr(Verifier, "production", classmethod(lambda cls, offline=False: local))


def statement(name: str, digest: str) -> Any:
    return (
        StatementBuilder()
        .subjects([Subject(name=name, digest=DigestSet(root={"sha256": digest}))])
        .predicate_type(PUBLISH_V1)
        .build()
    )


# --- the real clients accept what the emulator makes ----------------------------------


@needs_clients
def test_sigstore_python_signs_a_dsse_statement_and_an_artifact_and_its_verifier_accepts(
    oidc: GitHubOIDC, sigstore: LocalSigstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = ambient_token(oidc, monkeypatch)
    context = SigningContext.from_trust_config(trust_config(sigstore))
    digest = hashlib.sha256(b"payload").hexdigest()
    with context.signer(IdentityToken(token), cache=True) as signer:
        # The signer checked the certificate's SCT against the trust root's CT key already.
        dsse_bundle = signer.sign_dsse(statement("demo_pkg-1.0-py3-none-any.whl", digest))
        artifact_bundle = signer.sign_artifact(b"the artifact")

    # What a bundle file holds, read back as a verifier would.
    dsse_bundle = Bundle.from_json(dsse_bundle.to_json())
    artifact_bundle = Bundle.from_json(artifact_bundle.to_json())
    check = verifier(sigstore)
    payload_type, payload = check.verify_dsse(dsse_bundle, publisher_policy())
    assert payload_type == "application/vnd.in-toto+json"
    assert json.loads(payload)["subject"][0]["digest"] == {"sha256": digest}
    identity = policy.Identity(
        identity=f"https://github.com/{REPOSITORY}/.github/workflows/{WORKFLOW}@refs/tags/v1.0",
        issuer="https://token.actions.githubusercontent.com",
    )
    check.verify_artifact(b"the artifact", artifact_bundle, identity)

    # One certificate for both (cache=True), two entries in one log, proofs over the tree.
    assert len(sigstore.issued) == 1
    kinds = [json.loads(entry.body)["kind"] for entry in sigstore.entries]
    assert kinds == ["dsse", "hashedrekord"]
    proof = json.loads(artifact_bundle.to_json())["verificationMaterial"]["tlogEntries"][0]
    assert proof["logIndex"] == str(sigstore.log_offset + 1)
    assert proof["inclusionProof"]["logIndex"] == "1"
    assert proof["inclusionProof"]["treeSize"] == "2"
    assert sigstore.refusals == []


@needs_clients
def test_a_pep740_attestation_of_a_real_wheel_verifies_with_sigstores_verifier(
    oidc: GitHubOIDC,
    sigstore: LocalSigstore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    production_is_local: None,
) -> None:
    path = wheel(tmp_path / "dist")
    (attestation,) = attest(sigstore, ambient_token(oidc, monkeypatch), path)
    # As written to <file>.publish.attestation and read back.
    attestation = Attestation.model_validate_json(attestation.model_dump_json())

    payload_type, payload = verifier(sigstore).verify_dsse(
        attestation.to_bundle(), publisher_policy()
    )
    assert payload_type == "application/vnd.in-toto+json"
    subject = json.loads(payload)["subject"]
    assert subject == [
        {"name": path.name, "digest": {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()}}
    ]
    # pypi-attestations' own verification (subject name and digest, predicate type) too.
    predicate_type, predicate = attestation.verify(
        GitHubPublisher(repository=REPOSITORY, workflow=WORKFLOW), Distribution.from_file(path)
    )
    assert predicate_type == PUBLISH_V1
    assert predicate is None


@needs_clients
def test_every_inclusion_proof_of_a_growing_log_verifies(
    oidc: GitHubOIDC, sigstore: LocalSigstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven entries: proofs at tree sizes 1 to 7, of left, right and lone-border leaves."""
    token = ambient_token(oidc, monkeypatch)
    context = SigningContext.from_trust_config(trust_config(sigstore))
    with context.signer(IdentityToken(token), cache=True) as signer:
        bundles = [signer.sign_artifact(b"artifact %d" % i) for i in range(7)]
    check = verifier(sigstore)
    for i, bundle in enumerate(bundles):
        check.verify_artifact(b"artifact %d" % i, bundle, publisher_policy())
    # The tree itself, by RFC 6962's definition, for the last size.
    leaves = [leaf_hash(entry.body) for entry in sigstore.entries]
    assert merkle_root(leaves) == node_hash(
        node_hash(node_hash(leaves[0], leaves[1]), node_hash(leaves[2], leaves[3])),
        node_hash(node_hash(leaves[4], leaves[5]), leaves[6]),
    )
    assert inclusion_path(6, leaves) == [
        node_hash(leaves[4], leaves[5]),
        merkle_root(leaves[:4]),
    ]
    # The log's own view (GET /api/v1/log) agrees, with a checkpoint over the same root.
    info = requests.get(f"{sigstore.url}/api/v1/log", timeout=10).json()
    assert (info["treeSize"], info["rootHash"]) == (7, merkle_root(leaves).hex())
    assert info["signedTreeHead"].startswith(
        f"{sigstore.origin}\n7\n{base64.b64encode(merkle_root(leaves)).decode()}\n\n"
    )


def _sct_over_another_tbs(monkeypatch: pytest.MonkeyPatch) -> None:
    make = emulator.LocalSigstore._sct
    monkeypatch.setattr(emulator.LocalSigstore, "_sct", lambda self, tbs: make(self, tbs + b"."))


def _checkpoint_hinting_another_key(monkeypatch: pytest.MonkeyPatch) -> None:
    sign = emulator.LocalSigstore.checkpoint

    def checkpoint(self: LocalSigstore, size: int, root: bytes) -> str:
        note, _, line = sign(self, size, root).partition("\n\n")
        raw = base64.b64decode(line.split()[-1])
        return f"{note}\n\n\u2014 rekor.local {base64.b64encode(b'hint' + raw[4:]).decode()}\n"

    monkeypatch.setattr(emulator.LocalSigstore, "checkpoint", checkpoint)


def _leaves_without_their_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulator, "leaf_hash", lambda data: hashlib.sha256(data).digest())


def _json_not_canonical(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(emulator, "canonical_json", lambda value: json.dumps(value).encode())


def _no_build_config_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    derive = emulator._github_identity

    def identity(claims: dict[str, Any]) -> Any:
        san, extensions = derive(claims)
        del extensions["1.3.6.1.4.1.57264.1.18"]
        return san, extensions

    monkeypatch.setattr(emulator, "_github_identity", identity)


@needs_clients
@pytest.mark.parametrize(
    ("break_it", "error", "message"),
    [
        (_sct_over_another_tbs, "VerificationError", "SCT verify failed: keyring: invalid"),
        (
            _checkpoint_hinting_another_key,
            "VerificationError",
            "checkpoint: Signature not found for log ID",
        ),
        (_leaves_without_their_prefix, "VerificationError", "proof contains invalid root hash"),
        (_json_not_canonical, "VerificationError", "SET: invalid inclusion promise"),
        # pypi-attestations 0.0.31's GitHub policy reads 1.18 unguarded: cryptography's
        # error leaves verify_dsse (and Attestation.verify) unwrapped, so a caller must
        # catch more than VerificationError.
        (
            _no_build_config_uri,
            "ExtensionNotFound",
            r"1\.3\.6\.1\.4\.1\.57264\.1\.18.* extension was found",
        ),
    ],
    ids=["sct", "checkpoint-hint", "leaf-hash", "set-canonical-json", "identity-extension"],
)
def test_the_clients_refuse_the_emulator_with_any_piece_wrong(
    oidc: GitHubOIDC,
    monkeypatch: pytest.MonkeyPatch,
    break_it: Any,
    error: str,
    message: str,
) -> None:
    """The passing tests above are not luck: each piece the emulator builds is checked by
    the real clients, and one built wrong (as the emulator could have been) is refused."""
    break_it(monkeypatch)
    token = ambient_token(oidc, monkeypatch)
    expected = {"VerificationError": VerificationError, "ExtensionNotFound": x509.ExtensionNotFound}
    with LocalSigstore(oidc.signer) as sigstore, pytest.raises(expected[error], match=message):
        context = SigningContext.from_trust_config(trust_config(sigstore))
        with context.signer(IdentityToken(token), cache=True) as signer:
            bundle = signer.sign_artifact(b"artifact")
        verifier(sigstore).verify_artifact(b"artifact", bundle, publisher_policy())


# --- refused by the real verifier ----------------------------------------------------------


@pytest.fixture
def attested(
    oidc: GitHubOIDC,
    sigstore: LocalSigstore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    production_is_local: None,
) -> tuple[Path, Attestation]:
    if not HAS_CLIENTS:
        pytest.skip(CLIENTS_SKIP_REASON)
    path = wheel(tmp_path / "dist")
    (attestation,) = attest(sigstore, ambient_token(oidc, monkeypatch), path)
    return path, attestation


def edited(attestation: Attestation, edit: Any) -> Attestation:
    """The attestation with ``edit`` applied to its JSON form."""
    data = json.loads(attestation.model_dump_json())
    edit(data)
    return Attestation.model_validate_json(json.dumps(data))


def b64_edit(text: str, old: bytes, new: bytes) -> str:
    raw = base64.b64decode(text)
    assert old in raw
    return base64.b64encode(raw.replace(old, new)).decode()


def verify(path: Path, attestation: Attestation, **publisher: str) -> Any:
    identity = GitHubPublisher(
        repository=publisher.get("repository", REPOSITORY),
        workflow=publisher.get("workflow", WORKFLOW),
    )
    return attestation.verify(identity, Distribution.from_file(path))


@needs_clients
def test_a_tampered_statement_is_refused(attested: tuple[Path, Attestation]) -> None:
    path, attestation = attested
    digest = hashlib.sha256(path.read_bytes()).hexdigest()

    def change_digest(data: dict[str, Any]) -> None:
        data["envelope"]["statement"] = b64_edit(
            data["envelope"]["statement"], digest.encode(), b"0" * 64
        )

    with pytest.raises(AttestationVerificationError, match="DSSE: invalid signature"):
        verify(path, edited(attestation, change_digest))


@needs_clients
def test_a_tampered_signature_is_refused(attested: tuple[Path, Attestation]) -> None:
    path, attestation = attested

    def other_signature(data: dict[str, Any]) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        data["envelope"]["signature"] = base64.b64encode(
            key.sign(b"something else", ec.ECDSA(hashes.SHA256()))
        ).decode()

    with pytest.raises(AttestationVerificationError, match="DSSE: invalid signature"):
        verify(path, edited(attestation, other_signature))


@needs_clients
@pytest.mark.parametrize(
    ("publisher", "message"),
    [
        ({"repository": "owner/other"}, "OIDCSourceRepositoryURI does not match"),
        (
            {"workflow": "other.yml"},
            r"does not match expected Trusted Publisher \(other\.yml @ owner/repo\)",
        ),
    ],
    ids=["another-repository", "another-workflow"],
)
def test_another_identity_is_refused(
    attested: tuple[Path, Attestation], publisher: dict[str, str], message: str
) -> None:
    path, attestation = attested
    with pytest.raises(AttestationVerificationError, match=message):
        verify(path, attestation, **publisher)


@needs_clients
def test_the_attestation_of_another_file_is_refused(
    attested: tuple[Path, Attestation],
    oidc: GitHubOIDC,
    sigstore: LocalSigstore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    path, _ = attested
    # Same name, other bytes: only the digest differs.
    other = wheel(tmp_path / "rebuilt")
    other.write_bytes(other.read_bytes() + b"\0")
    (other_attestation,) = attest(sigstore, ambient_token(oidc, monkeypatch), other)
    with pytest.raises(
        AttestationVerificationError, match="subject does not match distribution digest"
    ):
        verify(path, other_attestation)
    # Another distribution altogether: the name differs.
    third = wheel(tmp_path / "third", name="other_pkg")
    (third_attestation,) = attest(sigstore, ambient_token(oidc, monkeypatch), third)
    with pytest.raises(
        AttestationVerificationError, match="subject does not match distribution name"
    ):
        verify(path, third_attestation)


@pytest.fixture
def fourth_in_log(
    oidc: GitHubOIDC,
    sigstore: LocalSigstore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    production_is_local: None,
) -> tuple[Path, Attestation]:
    """A wheel's attestation, fourth in the log: its proof (made at tree size 4) has two
    hashes, its sibling leaf's and the left subtree's."""
    if not HAS_CLIENTS:
        pytest.skip(CLIENTS_SKIP_REASON)
    paths = [wheel(tmp_path / "dist", name=f"pkg{i}") for i in range(4)]
    attestations = attest(sigstore, ambient_token(oidc, monkeypatch), *paths)
    proof = json.loads(attestations[3].model_dump_json())["verification_material"][
        "transparency_entries"
    ][0]["inclusionProof"]
    assert (proof["treeSize"], proof["logIndex"], len(proof["hashes"])) == ("4", "3", 2)
    return paths[3], attestations[3]


def entry_of(data: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = data["verification_material"]["transparency_entries"][0]
    return entry


@needs_clients
@pytest.mark.parametrize("which", [0, 1], ids=["sibling-hash", "subtree-hash"])
def test_an_inclusion_proof_that_does_not_verify_is_refused(
    fourth_in_log: tuple[Path, Attestation], which: int
) -> None:
    path, attestation = fourth_in_log
    verify(path, attestation)  # as made, it passes

    def flip_hash(data: dict[str, Any]) -> None:
        hashes = entry_of(data)["inclusionProof"]["hashes"]
        raw = bytearray(base64.b64decode(hashes[which]))
        raw[0] ^= 1
        hashes[which] = base64.b64encode(bytes(raw)).decode()

    with pytest.raises(
        AttestationVerificationError, match="inclusion proof contains invalid root hash"
    ):
        verify(path, edited(attestation, flip_hash))


@needs_clients
def test_an_inclusion_proof_against_another_root_is_refused(
    fourth_in_log: tuple[Path, Attestation],
) -> None:
    """A proof that verifies against a root the checkpoint does not sign: a forged tree."""
    path, attestation = fourth_in_log

    def other_tree(data: dict[str, Any]) -> None:
        entry = entry_of(data)
        proof = entry["inclusionProof"]
        leaf = leaf_hash(base64.b64decode(entry["canonicalizedBody"]))
        # A one-leaf tree of this entry alone: its root is the leaf hash, the path empty.
        proof.update(logIndex="0", treeSize="1", hashes=[])
        proof["rootHash"] = base64.b64encode(leaf).decode()

    with pytest.raises(AttestationVerificationError, match="invalid root hash signature"):
        verify(path, edited(attestation, other_tree))


@needs_clients
def test_a_tampered_signed_entry_timestamp_is_refused(
    attested: tuple[Path, Attestation],
) -> None:
    path, attestation = attested

    def later(data: dict[str, Any]) -> None:
        entry = entry_of(data)
        entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)

    with pytest.raises(AttestationVerificationError, match="SET: invalid inclusion promise"):
        verify(path, edited(attestation, later))


@needs_clients
def test_a_checkpoint_that_does_not_verify_is_refused(
    attested: tuple[Path, Attestation],
) -> None:
    path, attestation = attested

    def forged_checkpoint(data: dict[str, Any]) -> None:
        checkpoint = data["verification_material"]["transparency_entries"][0]["inclusionProof"][
            "checkpoint"
        ]
        note, _, signature_line = checkpoint["envelope"].partition("\n\n")
        origin, size, root = note.split("\n")[:3]
        # The same note with a larger size, still carrying the old signature.
        checkpoint["envelope"] = f"{origin}\n{int(size) + 1}\n{root}\n\n{signature_line}"

    with pytest.raises(AttestationVerificationError, match="checkpoint: invalid signature"):
        verify(path, edited(attestation, forged_checkpoint))


@needs_clients
def test_a_trust_root_of_another_ca_or_another_log_refuses(
    attested: tuple[Path, Attestation], oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    """The trust root decides: another local Sigstore's CA, or its log's key beside this CA,
    does not accept this one's work."""
    _path, attestation = attested
    bundle = attestation.to_bundle()
    with LocalSigstore(oidc.signer) as other:
        with pytest.raises(VerificationError, match="certificate chain: validation failed"):
            verifier(other).verify_dsse(bundle, publisher_policy())
        mixed = sigstore.trust_config()
        mixed["trustedRoot"]["tlogs"] = other.trust_config()["trustedRoot"]["tlogs"]
    other_log = Verifier(trusted_root=ClientTrustConfig.from_json(json.dumps(mixed)).trusted_root)
    with pytest.raises(VerificationError, match="invalid log entry: checkpoint: invalid signature"):
        other_log.verify_dsse(bundle, publisher_policy())


# --- refused by the services -----------------------------------------------------------------


def csr(key: ec.EllipticCurvePrivateKey) -> x509.CertificateSigningRequest:
    """The CSR sigstore-python sends (sign.py ``_build_csr``)."""
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def request_cert(sigstore: LocalSigstore, token: str, pem: bytes) -> requests.Response:
    """The request sigstore-python's Fulcio client makes (fulcio/client.py)."""
    return requests.post(
        f"{sigstore.url}/api/v2/signingCert",
        data=json.dumps({"certificateSigningRequest": base64.b64encode(pem).decode()}),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/pem-certificate-chain",
        },
        timeout=10,
    )


def token(oidc: GitHubOIDC, **changes: Any) -> str:
    claims = {**github_claims(repository=REPOSITORY, workflow=WORKFLOW), "aud": "sigstore"}
    claims.update(changes)
    return oidc.signer.sign(claims)


def pem(request: x509.CertificateSigningRequest) -> bytes:
    return request.public_bytes(serialization.Encoding.PEM)


def test_the_trust_config_lives_only_while_the_emulator_runs(oidc: GitHubOIDC) -> None:
    with LocalSigstore(oidc.signer) as sigstore:
        path = sigstore.trust_config_path
        config = json.loads(path.read_text())
        assert config == sigstore.trust_config()
        starts = [
            item["validFor"]["start"]
            for item in (
                *config["signingConfig"]["caUrls"],
                *config["signingConfig"]["rekorTlogUrls"],
                *config["trustedRoot"]["certificateAuthorities"],
                *(log["publicKey"] for log in config["trustedRoot"]["tlogs"]),
                *(log["publicKey"] for log in config["trustedRoot"]["ctlogs"]),
            )
        ]
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert len(starts) == 5
        assert all(start < now for start in starts)
        assert {s["url"] for s in config["signingConfig"]["caUrls"]} == {sigstore.url}
    assert not path.exists()


def test_the_ca_issues_a_fulcio_profile_certificate(
    oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    answer = request_cert(sigstore, token(oidc), pem(csr(key)))
    assert answer.status_code == 200, answer.text
    chain = answer.json()["signedCertificateEmbeddedSct"]["chain"]["certificates"]
    leaf, root = (x509.load_pem_x509_certificate(c.encode()) for c in chain)
    assert root == sigstore.ca_cert
    assert leaf.public_key() == key.public_key()
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical
    assert san.value.get_values_for_type(x509.UniformResourceIdentifier) == [
        f"https://github.com/{REPOSITORY}/.github/workflows/{WORKFLOW}@refs/tags/v0.3.1"
    ]
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).critical
    assert not leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).critical
    scts = leaf.extensions.get_extension_for_class(
        x509.PrecertificateSignedCertificateTimestamps
    ).value
    assert len(scts) == 1
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == datetime.timedelta(minutes=10)
    source_repository = leaf.extensions.get_extension_for_oid(
        x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.12")
    ).value
    assert source_repository.value == b"\x0c\x1dhttps://github.com/owner/repo"


@pytest.mark.parametrize(
    ("changes", "cause"),
    [
        ({"aud": "pypi"}, "audience 'pypi' is not 'sigstore'"),
        ({"exp": 1_000_000_000, "iat": 999_999_000, "nbf": 999_999_000}, "token has expired"),
        # Expired a second ago: Fulcio allows no skew on the expiry.
        ({"exp": int(time.time()) - 1}, "token has expired"),
        ({"iss": "https://accounts.example.com"}, "is not 'https://token.actions"),
        ({"job_workflow_ref": None}, "missing the 'job_workflow_ref' claim"),
    ],
    ids=["wrong-audience", "expired", "just-expired", "another-issuer", "no-job-workflow-ref"],
)
def test_the_ca_refuses_a_bad_token(
    oidc: GitHubOIDC, sigstore: LocalSigstore, changes: dict[str, Any], cause: str
) -> None:
    bad = token(oidc, **changes)
    answer = request_cert(sigstore, bad, pem(csr(ec.generate_private_key(ec.SECP256R1()))))
    assert answer.status_code == 400
    assert answer.json() == {"code": 3, "message": INVALID_IDENTITY_TOKEN, "details": []}
    (refusal,) = sigstore.refusals
    assert cause in refusal.cause
    assert sigstore.issued == []


def test_the_ca_refuses_a_token_signed_by_another_key(
    oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    claims = {**github_claims(repository=REPOSITORY), "aud": "sigstore"}
    forged = Signer(kid=oidc.signer.kid).sign(claims)
    answer = request_cert(sigstore, forged, pem(csr(ec.generate_private_key(ec.SECP256R1()))))
    assert (answer.status_code, answer.json()["message"]) == (400, INVALID_IDENTITY_TOKEN)
    assert sigstore.refusals[0].cause == "signature verification failed"


def test_the_ca_refuses_a_csr_not_signed_by_its_key(
    oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    """The proof of possession: the CSR's key swapped for another, its signature kept."""
    signing_key, claimed_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(2))
    der = csr(signing_key).public_bytes(serialization.Encoding.DER)
    spki = [
        k.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        for k in (signing_key, claimed_key)
    ]
    swapped = x509.load_der_x509_csr(der.replace(spki[0], spki[1]))
    answer = request_cert(sigstore, token(oidc), pem(swapped))
    assert (answer.status_code, answer.json()["message"]) == (400, INVALID_SIGNATURE)
    assert sigstore.issued == []


@needs_clients
def test_sigstore_python_gets_no_certificate_for_a_token_of_another_audience(
    oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    """The client checks the audience itself; told to expect "pypi", it asks the CA, which
    refuses as Fulcio does."""
    wrong = token(oidc, aud="pypi")
    context = SigningContext.from_trust_config(trust_config(sigstore))
    with pytest.raises(FulcioClientError):
        SigstoreSigner(IdentityToken(wrong, client_id="pypi"), context, cache=True)
    assert [(r.status, r.message) for r in sigstore.refusals] == [(400, INVALID_IDENTITY_TOKEN)]
    assert "audience 'pypi' is not 'sigstore'" in sigstore.refusals[0].cause


def test_an_outage_answers_503_and_then_the_services_work_again(
    oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    sigstore.fail_requests("fulcio", 1)
    sigstore.fail_requests("rekor", 1)
    assert request_cert(sigstore, token(oidc), pem(csr(key))).status_code == 503
    answer = request_cert(sigstore, token(oidc), pem(csr(key)))
    assert answer.status_code == 200
    cert_pem = answer.json()["signedCertificateEmbeddedSct"]["chain"]["certificates"][0].encode()
    entries = f"{sigstore.url}/api/v1/log/entries"
    proposal = dsse_proposal(key, cert_pem, b"{}")
    assert requests.post(entries, json=proposal, timeout=10).status_code == 503
    assert sigstore.entries == []
    assert requests.post(entries, json=proposal, timeout=10).status_code == 201
    assert sigstore.refusals == []  # an outage is not a refusal


def dsse_proposal(key: ec.EllipticCurvePrivateKey, cert_pem: bytes, payload: bytes) -> Any:
    payload_type = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)
    envelope = {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": payload_type,
        "signatures": [
            {"sig": base64.b64encode(key.sign(pae, ec.ECDSA(hashes.SHA256()))).decode()}
        ],
    }
    return {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "proposedContent": {
                "envelope": json.dumps(envelope),
                "verifiers": [base64.b64encode(cert_pem).decode()],
            }
        },
    }


def test_the_log_refuses_an_entry_whose_signature_does_not_verify(
    oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    answer = request_cert(sigstore, token(oidc), pem(csr(key)))
    cert_pem = answer.json()["signedCertificateEmbeddedSct"]["chain"]["certificates"][0].encode()
    entries = f"{sigstore.url}/api/v1/log/entries"

    stranger = ec.generate_private_key(ec.SECP256R1())
    refused = requests.post(entries, json=dsse_proposal(stranger, cert_pem, b"{}"), timeout=10)
    assert refused.status_code == 400
    assert refused.json() == {
        "code": 400,
        "message": "error processing entry: could not verify envelope: "
        "no verifier matches a signature",
    }
    digest = hashlib.sha256(b"artifact").digest()
    hashedrekord = {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "signature": {
                "content": base64.b64encode(
                    key.sign(b"another artifact", ec.ECDSA(hashes.SHA256()))
                ).decode(),
                "publicKey": {"content": base64.b64encode(cert_pem).decode()},
            },
            "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
        },
    }
    refused = requests.post(entries, json=hashedrekord, timeout=10)
    assert refused.status_code == 400
    assert refused.json()["message"].startswith("error processing entry: verifying signature")
    assert sigstore.entries == []

    accepted = requests.post(entries, json=dsse_proposal(key, cert_pem, b"{}"), timeout=10)
    assert accepted.status_code == 201, accepted.text

    # The same entry twice: Rekor answers 409 with the existing entry's UUID.
    hashedrekord["spec"]["signature"]["content"] = base64.b64encode(
        key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    ).decode()
    first = requests.post(entries, json=hashedrekord, timeout=10)
    assert first.status_code == 201, first.text
    (uuid,) = first.json()
    again = requests.post(entries, json=hashedrekord, timeout=10)
    assert again.status_code == 409
    assert again.json()["message"] == (
        f"an equivalent entry already exists in the transparency log with UUID {uuid}"
    )
    assert len(sigstore.entries) == 2
