"""publish signs PEP 740 attestations (issue 17 item 1) as a release job runs it: the emulated
GitHub OIDC endpoint hands out the ``sigstore`` token, the local Sigstore
(tests/emulators/sigstore.py) certifies and logs with the REAL sigstore-python and
pypi-attestations as clients, and the emulated PyPI receives what twine's attestations
support sends. Each attestation is then checked here with sigstore-python's own ``Verifier``
against the local Sigstore's trust root, independently of publish's own check.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Release, run_release
from emulators.github_oidc import GitHubOIDC
from emulators.jwt import Signer
from emulators.pypi import PyPI
from emulators.sigstore import LocalSigstore

from release.console import Console
from release.publish.credentials import decode_claims

WHEEL = "tiny-1.0-py3-none-any.whl"
SDIST = "tiny-1.0.tar.gz"
FAST = {"NOX_RELEASE_RETRY_BACKOFF": "0.05", "NOX_RELEASE_LISTING_WAIT": "2"}
TRUST_CONFIG = "NOX_RELEASE_SIGSTORE_TRUST_CONFIG"
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="sigstore 4.5.1 and pypi-attestations 0.0.31 are installed from Python 3.11 only "
    "(tests/sigstore-requirements.txt)",
)


@pytest.fixture
def sigstore(oidc: GitHubOIDC, pypi: PyPI) -> Iterator[LocalSigstore]:
    with LocalSigstore(oidc.signer) as server:
        # The emulated PyPI verifies attestations as Warehouse does, with this root instead
        # of Sigstore's production one.
        pypi.sigstore_trust_config = server.trust_config_path
        yield server
        assert not server.errors


def attestations_on(release: Release, value: str = "true") -> None:
    """The emulated PyPI is at a 127.0.0.1 URL, not pypi.org: say it takes attestations."""
    pyproject = release.project / "pyproject.toml"
    text = pyproject.read_text()
    assert "[tool.release.publish]\n" in text
    pyproject.write_text(
        text.replace(
            "[tool.release.publish]\n", f"[tool.release.publish]\nattestations = {value}\n"
        )
    )


def publish(
    release: Release, pypi: PyPI, oidc: GitHubOIDC, sigstore: LocalSigstore | None, **env: str
) -> subprocess.CompletedProcess[str]:
    trust = (
        {"NOX_RELEASE_SIGSTORE_TRUST_CONFIG": str(sigstore.trust_config_path)} if sigstore else {}
    )
    return run_release(
        "publish", "--project", str(release.project), "--repository", pypi.upload_url,
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", **FAST, **oidc.env(),
             **trust, **env},
    )  # fmt: skip


def output_of(proc: subprocess.CompletedProcess[str]) -> str:
    return (proc.stdout + proc.stderr).replace("%0A", "\n").replace("%25", "%")


def identity(oidc: GitHubOIDC) -> str:
    """The job's certificate identity: Fulcio's SAN for a GitHub Actions token."""
    return f"https://github.com/{oidc.claims['job_workflow_ref']}"


def verified(
    sigstore: LocalSigstore,
    attestation: dict[str, Any],
    release: Release,
    name: str,
    oidc: GitHubOIDC,
) -> None:
    """sigstore-python's Verifier, with the local Sigstore's trust root, accepts it as this
    job's publish attestation of ``name``."""
    from pypi_attestations import Attestation
    from sigstore.models import ClientTrustConfig
    from sigstore.verify import Verifier, policy

    trust = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
    parsed = Attestation.model_validate(attestation)
    _, payload = Verifier(trusted_root=trust.trusted_root).verify_dsse(
        parsed.to_bundle(), policy.Identity(identity=identity(oidc), issuer=GITHUB_ISSUER)
    )
    statement = json.loads(payload)
    assert statement["predicateType"] == "https://docs.pypi.org/attestations/publish/v1"
    assert statement["subject"] == [{"name": name, "digest": {"sha256": release.sha256(name)}}]


def test_each_file_is_signed_verified_and_uploaded_with_its_attestation(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    attestations_on(release)
    proc = publish(release, pypi, oidc, sigstore)
    assert proc.returncode == 0, output_of(proc)
    assert pypi.files() == {WHEEL: release.sha256(WHEEL), SDIST: release.sha256(SDIST)}
    # One Fulcio certificate for the run (a cached signer), one Rekor entry per file.
    assert len(sigstore.issued) == 1 and len(sigstore.entries) == 2
    # The token for Sigstore is asked for separately from the one for the index.
    assert "sigstore" in oidc.audiences
    record = release.record()["details"]["attestations"]
    for name in (WHEEL, SDIST):
        written = release.dist / f"{name}.publish.attestation"
        attestation = json.loads(written.read_text())
        verified(sigstore, attestation, release, name, oidc)
        # What twine sent with the file is exactly the attestation written beside it.
        assert pypi.attestations[name] == [attestation]
        assert record[name]["identity"] == identity(oidc)
        assert record[name]["sha256"] == hashlib.sha256(written.read_bytes()).hexdigest()
        assert record[name]["reused"] is False
        logged = {str(e.log_index) for e in sigstore.entries}
        assert str(record[name]["log_index"]) in logged
        assert attestation["verification_material"]["transparency_entries"][0]["logIndex"] == str(
            record[name]["log_index"]
        )
    # Where the time went, for bench/publish.py: each phase of this run.
    timings = release.record()["details"]["timings_s"]
    assert set(timings) == {"sign", "upload", "verify", "provenance"}
    assert all(seconds >= 0 for seconds in timings.values())
    out = proc.stdout
    # Said with the plan, before any signature or upload.
    said = "attestations: 2 file(s) to upload each get a PEP 740 publish attestation, signed "
    whole = f"{said}with Sigstore as this workflow (with trusted publishing): {WHEEL}, {SDIST}"
    assert whole in out
    assert out.index("plan against") < out.index(said)
    assert out.index(said) < out.index("signing 2 file(s) with Sigstore")
    assert out.index("signing 2 file(s)") < out.index("uploading 2 file(s)")


def test_without_a_sigstore_trust_config_the_emulated_index_defaults_to_no_attestations(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    """An index that is not PyPI or TestPyPI gets no attestations unless the config says it
    takes them; the run says why, and records it."""
    proc = publish(release, pypi, oidc, None)
    assert proc.returncode == 0, output_of(proc)
    assert "attestations: none: " + pypi.upload_url + " is not PyPI or TestPyPI" in proc.stdout
    details = release.record()["details"]
    assert details["attestations"] is None
    assert "not PyPI or TestPyPI" in details["attestations_off"]
    assert pypi.attestations == {}
    assert not list(release.dist.glob("*.attestation"))


def test_attestations_false_turns_signing_off(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    attestations_on(release, "false")
    proc = publish(release, pypi, oidc, sigstore)
    assert proc.returncode == 0, output_of(proc)
    assert "attestations: none: [tool.release.publish] attestations = false" in proc.stdout
    assert sigstore.issued == [] and pypi.attestations == {}


def test_attestations_must_be_a_boolean(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    attestations_on(release, '"yes"')
    proc = publish(release, pypi, oidc, sigstore)
    output = output_of(proc)
    assert proc.returncode == 14, output
    assert "[tool.release.publish] attestations" in output and "must be a boolean" in output


def test_a_rerun_reuses_the_attestations_an_earlier_attempt_left(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    attestations_on(release)
    pypi.fail_uploads(5, status=503)  # signed, then every attempt at the first file fails
    first = publish(release, pypi, oidc, sigstore)
    assert first.returncode == 55, output_of(first)
    assert len(sigstore.entries) == 2 and pypi.files() == {}
    before = {n: (release.dist / f"{n}.publish.attestation").read_bytes() for n in (WHEEL, SDIST)}
    second = publish(release, pypi, oidc, sigstore)
    assert second.returncode == 0, output_of(second)
    # Nothing signed again: no certificate, no log entry; the same attestations uploaded.
    assert len(sigstore.issued) == 1 and len(sigstore.entries) == 2
    for name in (WHEEL, SDIST):
        assert f"{name}.publish.attestation: left by an earlier attempt, verified: reused" in (
            second.stdout
        )
        assert pypi.attestations[name] == [json.loads(before[name])]
        assert release.record()["details"]["attestations"][name]["reused"] is True
    # A re-run with everything on the index signs nothing and uploads nothing.
    issued, entries, uploads = len(sigstore.issued), len(sigstore.entries), len(pypi.uploads)
    third = publish(release, pypi, oidc, sigstore)
    assert third.returncode == 0, output_of(third)
    assert (len(sigstore.issued), len(sigstore.entries), len(pypi.uploads)) == (
        issued, entries, uploads
    )  # fmt: skip


@pytest.mark.parametrize("damage", ["another file's", "tampered", "not JSON"])
def test_an_attestation_that_does_not_verify_is_replaced(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, damage: str
) -> None:
    attestations_on(release)
    pypi.fail_uploads(5, status=503)
    assert publish(release, pypi, oidc, sigstore).returncode == 55
    wheel_att = release.dist / f"{WHEEL}.publish.attestation"
    sdist_att = release.dist / f"{SDIST}.publish.attestation"
    if damage == "another file's":
        wheel_att.write_bytes(sdist_att.read_bytes())
        why = f"it is the attestation of {SDIST!r}"
    elif damage == "tampered":
        data = json.loads(wheel_att.read_text())
        data["envelope"]["signature"] = data["envelope"]["signature"][:-8] + "AAAAAAA="
        wheel_att.write_text(json.dumps(data))
        why = "its signature does not verify"
    else:
        wheel_att.write_text("{")
        why = "it cannot be read"
    proc = publish(release, pypi, oidc, sigstore)
    assert proc.returncode == 0, output_of(proc)
    assert (
        f"{WHEEL}.publish.attestation: left by an earlier attempt, replaced: {why}" in proc.stdout
    )
    assert (
        f"{SDIST}.publish.attestation: left by an earlier attempt, verified: reused" in proc.stdout
    )
    assert len(sigstore.entries) == 3  # the wheel's signed again, the sdist's reused
    verified(sigstore, json.loads(wheel_att.read_text()), release, WHEEL, oidc)
    assert pypi.attestations[WHEEL] == [json.loads(wheel_att.read_text())]


@pytest.mark.parametrize("service", ["fulcio", "rekor"])
def test_a_sigstore_outage_that_passes_is_retried(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, service: str
) -> None:
    attestations_on(release)
    sigstore.fail_requests(service, 2)
    proc = publish(release, pypi, oidc, sigstore)
    assert proc.returncode == 0, output_of(proc)
    assert "Sigstore gave HTTP 503; trying again" in proc.stdout
    assert set(pypi.attestations) == {WHEEL, SDIST}


@pytest.mark.parametrize("service", ["fulcio", "rekor"])
def test_a_sigstore_that_hangs_times_out_and_is_retried(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, service: str
) -> None:
    """sigstore-python sends Fulcio's and Rekor's requests without a timeout; publish gives
    them the HTTP layer's, so a hung service is an outage retried, not a job held forever."""
    attestations_on(release)
    sigstore.stall_requests(service, 1, 120.0)
    began = time.monotonic()
    proc = publish(release, pypi, oidc, sigstore, NOX_RELEASE_READ_TIMEOUT="2")
    assert proc.returncode == 0, output_of(proc)
    assert time.monotonic() - began < 60
    assert "Sigstore gave no answer (ReadTimeout); trying again" in proc.stdout
    assert set(pypi.attestations) == {WHEEL, SDIST}


@pytest.mark.parametrize("service", ["fulcio", "rekor"])
def test_a_sigstore_outage_that_persists_is_an_outage_before_any_upload(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, service: str
) -> None:
    attestations_on(release)
    sigstore.fail_requests(service, 100)
    proc = publish(release, pypi, oidc, sigstore)
    output = output_of(proc)
    assert proc.returncode == 80, output
    assert "still gave HTTP 503 after 4 attempts: an outage, not a refusal" in output
    assert "Traceback" not in output
    assert pypi.uploads == [] and pypi.files() == {}


def test_a_token_sigstore_refuses_is_a_refusal_not_an_outage(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    attestations_on(release)
    with LocalSigstore(Signer()) as stranger:  # trusts another issuer's key
        proc = publish(release, pypi, oidc, stranger)
    output = output_of(proc)
    assert proc.returncode == 81, output
    assert f"Sigstore refused to sign {WHEEL}" in output
    assert "Traceback" not in output
    assert pypi.uploads == []


def test_a_signature_that_does_not_verify_stops_before_any_upload(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    """The trust root publish verifies against names another transparency log's key: the
    entry the local Rekor makes cannot verify, and nothing is uploaded."""
    attestations_on(release)
    with LocalSigstore(oidc.signer) as other:
        config = json.loads(sigstore.trust_config_path.read_text())
        config["trustedRoot"]["tlogs"] = json.loads(other.trust_config_path.read_text())[
            "trustedRoot"
        ]["tlogs"]
        config["trustedRoot"]["tlogs"][0]["baseUrl"] = sigstore.url
    mixed = tmp_path / "trust.json"
    mixed.write_text(json.dumps(config))
    proc = publish(release, pypi, oidc, None, **{TRUST_CONFIG: str(mixed)})
    output = output_of(proc)
    assert proc.returncode == 82, output
    assert f"the attestation just signed for {WHEEL} does not verify" in output
    assert "Nothing was uploaded" in output
    assert pypi.uploads == []
    assert not (release.dist / f"{WHEEL}.publish.attestation").exists()


def test_the_sigstore_token_and_key_appear_nowhere(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, tmp_path: Path
) -> None:
    attestations_on(release)
    summary = tmp_path / "summary.md"
    sigstore.fail_requests("rekor", 1)  # an error path too
    proc = publish(release, pypi, oidc, sigstore, GITHUB_STEP_SUMMARY=str(summary))
    assert proc.returncode == 0, output_of(proc)
    tokens = [jwt for jwt in oidc.issued if decode_claims(jwt)["aud"] == "sigstore"]
    assert tokens
    shown = proc.stdout
    for jwt in tokens:
        assert f"::add-mask::{jwt}" in shown  # masked before anything could print it
        shown = shown.replace(f"::add-mask::{jwt}", "")
    written = [p.read_text(errors="replace") for p in release.dist.rglob("*") if p.is_file()
               and p.suffix in (".json", ".attestation")]  # fmt: skip
    for jwt in tokens:
        assert jwt not in shown + proc.stderr
        assert jwt not in summary.read_text()
        assert all(jwt not in text for text in written)
    # The ephemeral key: no private key in any output or file (its public half is in the
    # certificate, as it must be).
    for text in (proc.stdout, proc.stderr, summary.read_text(), *written):
        assert "PRIVATE KEY" not in text


def test_an_old_python_is_told_it_cannot_sign(monkeypatch: pytest.MonkeyPatch) -> None:
    from release.errors import SigningUnsupportedError
    from release.publish import attest

    monkeypatch.setattr(attest.sys, "version_info", (3, 9, 18, "final", 0))
    with pytest.raises(SigningUnsupportedError) as caught:
        attest.Sigstore(None)
    assert "needs Python 3.10 or newer; this is Python 3.9.18" in caught.value.cause
    assert "attestations = false" in caught.value.remedy
    assert caught.value.exit_code == 83


def test_missing_sigstore_is_told_not_crashed(monkeypatch: pytest.MonkeyPatch) -> None:
    from release.errors import SigningUnsupportedError
    from release.publish import attest

    monkeypatch.setitem(sys.modules, "sigstore", None)  # what an import that fails leaves
    with pytest.raises(SigningUnsupportedError) as caught:
        attest.Sigstore(None)
    assert "and sigstore is not installed" in caught.value.cause
    assert "Python 3.11 or newer" in caught.value.remedy


# --- the dry run's rehearsal (issue 17 item 5, signing) ------------------------------------


def test_the_dry_run_rehearses_signing_against_a_throwaway_local_sigstore(
    release: Release, pypi: PyPI
) -> None:
    attestations_on(release)
    kept = release.dist / ".release" / "rehearsal-attestations"
    for attempt in (1, 2):
        proc = run_release(
            "publish", "--project", str(release.project), "--repository", pypi.upload_url,
            "--dry-run", env=FAST,
        )  # fmt: skip
        assert proc.returncode == 0, output_of(proc)
        rehearsal = release.record()["details"]["rehearsal"]
        rehearsed = "https://github.com/rehearsal/tiny/.github/workflows/release.yml@refs/tags/v1.0"
        assert rehearsal["signing_identity"] == rehearsed
        assert f"signed as the rehearsal's own identity, {rehearsed}" in proc.stdout
        assert "signed against a local Sigstore as " + rehearsed in release.record()["reason"]
        for name in (WHEEL, SDIST):
            path = kept / f"{name}.publish.attestation"
            entry = rehearsal["attestations"][name]
            assert entry["identity"] == rehearsed
            assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
            assert entry["reused"] is False  # the last run's Sigstore is gone: never reused
            envelope = json.loads(path.read_text())["envelope"]
            statement = json.loads(base64.b64decode(envelope["statement"]))
            assert statement["subject"] == [
                {"name": name, "digest": {"sha256": release.sha256(name)}}
            ]
        # Never beside the files, where a real upload would pick them up.
        assert not list(release.dist.glob("*.attestation"))
        assert "left by an earlier attempt" not in proc.stdout, attempt
        # The rehearsal's own token (a JWT: header.payload.signature) shows nowhere.
        written = [p.read_text() for p in (release.dist / ".release").rglob("*") if p.is_file()]
        for text in (proc.stdout, proc.stderr, *written):
            assert not JWT.search(text)
            assert "PRIVATE KEY" not in text
    # The configured index saw the plan's query, nothing else.
    assert pypi.uploads == [] and pypi.attestations == {}


def test_an_attestation_beside_its_file_is_no_stray(tmp_path: Path) -> None:
    """After a publish, validate (run again) must not call the attestations strays that
    "will not be published": they are uploaded with their files. One of no file is."""
    from release.dists import scan_dist_dir

    (tmp_path / WHEEL).write_bytes(b"")
    (tmp_path / f"{WHEEL}.publish.attestation").write_text("{}")
    (tmp_path / "notes.txt.publish.attestation").write_text("{}")
    files, strays = scan_dist_dir(tmp_path)
    assert [f.name for f in files] == [WHEEL]
    assert [s.name for s in strays] == ["notes.txt.publish.attestation"]


def test_a_trust_config_sigstore_cannot_load_is_said(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, tmp_path: Path
) -> None:
    attestations_on(release)
    broken = tmp_path / "trust.json"
    broken.write_text('{"mediaType": "nonsense"}')
    proc = publish(release, pypi, oidc, None, **{TRUST_CONFIG: str(broken)})
    output = output_of(proc)
    assert proc.returncode == 83, output
    assert "is not a ClientTrustConfig sigstore-python can load" in output
    assert "Traceback" not in output and pypi.uploads == []


def test_an_api_token_upload_signs_nothing_and_says_why(
    release: Release, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    """PyPI takes attestations only from trusted publishing (reference §1)."""
    attestations_on(release)
    pypi.api_tokens.add("pypi-project-token")
    proc = run_release(
        "publish", "--project", str(release.project), "--repository", pypi.upload_url,
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", **FAST,
             "PYPI_API_TOKEN": "pypi-project-token", TRUST_CONFIG: str(sigstore.trust_config_path)},
    )  # fmt: skip
    assert proc.returncode == 0, output_of(proc)
    assert (
        "attestations: none: the upload uses an API token, and PyPI takes attestations only "
        "from trusted publishing" in proc.stdout
    )
    assert sigstore.issued == [] and pypi.attestations == {}
    assert "API token" in release.record()["details"]["attestations_off"]


def test_trusted_publishing_from_another_ci_uploads_without_attestations_and_says_why(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    """GitLab CI's trusted publishing signed nothing before; asking its ``id`` for a
    ``sigstore`` token (SIGSTORE_ID_TOKEN) would stop the upload. It is said, not tried."""
    attestations_on(release)
    gitlab_jwt = oidc.signer.sign({**oidc.claims, "aud": "pypi", "iss": "https://gitlab.com"})
    proc = run_release(
        "publish", "--project", str(release.project), "--repository", pypi.upload_url,
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", **FAST,
             "GITLAB_CI": "true", "PYPI_ID_TOKEN": gitlab_jwt,
             TRUST_CONFIG: str(sigstore.trust_config_path)},
    )  # fmt: skip
    output = output_of(proc)
    assert "credentials: trusted publishing (GitLab CI)" in output
    assert (
        "attestations: none: nox-release signs PEP 740 attestations as a GitHub Actions "
        "workflow, and this is GitLab CI: the files are uploaded without them" in output
    )
    assert "signed with Sigstore as this workflow" not in output  # the plan says it once
    assert "SIGSTORE_ID_TOKEN" not in output and sigstore.issued == []
    # The emulated PyPI knows GitHub's publishers only: the mint, not signing, stops it.
    assert pypi.mint_requests and pypi.attestations == {}
    assert "GitLab CI" in release.record()["details"]["attestations_off"]


def test_tokens_that_are_always_expired_are_a_clock_problem_after_a_few_tries(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    attestations_on(release)
    oidc.lifetime = -60  # every token the job gets has run out already
    proc = publish(release, pypi, oidc, sigstore)
    output = output_of(proc)
    assert proc.returncode == 81, output
    assert (
        "the OIDC token for Sigstore expired: signing the other 2 file(s) with a new one" in output
    )
    assert "expired 4 times while signing; 2 file(s) are not signed" in output
    assert "check the machine's clock" in output
    assert sigstore.issued == [] and pypi.uploads == []


class SlowConsole(Console):
    """A console that takes ``pause`` seconds after the first file is signed: long enough
    for a short-lived signing certificate to run out before the next file."""

    def __init__(self, pause: float) -> None:
        super().__init__(github=False, stream=io.StringIO(), environ={})
        self.pause = pause

    def line(self, text: str = "") -> None:
        super().line(text)
        if ": signed, Rekor log index" in text and self.pause:
            time.sleep(self.pause)
            self.pause = 0.0


def test_a_certificate_that_expires_mid_run_is_replaced_and_the_rest_signed(
    release: Release, oidc: GitHubOIDC, tmp_path: Path
) -> None:
    """Fulcio's certificates live 10 minutes; a slow Sigstore or many files can outlast one.
    The next file is signed under a new certificate, from a fresh token; none is lost."""
    from release.publish import attest

    with LocalSigstore(oidc.signer, cert_lifetime=datetime.timedelta(seconds=3)) as short:
        files = [release.dist / WHEEL, release.dist / SDIST]
        console = SlowConsole(pause=4.0)
        tokens = []

        def token() -> str:
            tokens.append(oidc.signer.sign({**oidc.claims, "aud": "sigstore",
                                             "iat": int(time.time()), "nbf": int(time.time()),
                                             "exp": int(time.time()) + 300}))  # fmt: skip
            return tokens[-1]

        signed = attest.sign_all(
            files, sha256={p.name: release.sha256(p.name) for p in files}, token=token,
            sigstore=attest.Sigstore(short.trust_config_path.read_text()), console=console,
            directory=tmp_path,
        )  # fmt: skip
        said = console.stream.getvalue()  # type: ignore[attr-defined]
        assert "the signing certificate expired: signing the other 1 file(s) with a new one" in said
        assert len(short.issued) == 2 and len(tokens) == 2
        assert [s.file for s in signed] == [WHEEL, SDIST]
        for s in signed:
            verified(short, json.loads(s.attestation.read_text()), release, s.file, oidc)
