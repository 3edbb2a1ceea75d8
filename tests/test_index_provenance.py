"""Provenance on the index (issue 17 items 2 and 4, and the PyPI emulator's side of them).

The emulated PyPI checks each upload's PEP 740 attestations as Warehouse does, with the
REAL pypi-attestations and sigstore-python, against the local Sigstore's trust root, and
serves what it accepted through the Integrity API. Attestations are signed here with the
real clients against the local Sigstore, with tokens of the emulated GitHub's key.

Then publish, run as a release job: it reads every file's provenance back from the Integrity
API and verifies it as this repository's release workflow; a file without provenance is
reported, one whose provenance is another workflow's fails (exit 84); an attestation the
index refuses is explained (exit 85).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import Release, run_release
from emulators.github_oidc import GitHubOIDC
from emulators.jwt import github_claims
from emulators.pypi import INVALID_ATTESTATIONS, PyPI, TrustedPublisher, dist_info
from emulators.sigstore import LocalSigstore
from test_publish_attestations import FAST, attestations_on, identity, output_of, publish
from wheel_factory import write_wheel

from release.console import Console
from release.errors import SigningUnsupportedError
from release.http import Http
from release.publish import provenance as read_back
from release.publish.attest import Sigstore
from release.publish.upload import attestation_refused

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="sigstore 4.5.1 and pypi-attestations 0.0.31 are installed from Python 3.11 only "
    "(tests/sigstore-requirements.txt)",
)

PUBLISH_V1 = "https://docs.pypi.org/attestations/publish/v1"
WHEEL = "tiny-1.0-py3-none-any.whl"
SDIST = "tiny-1.0.tar.gz"
COULD_NOT_VERIFY = (
    INVALID_ATTESTATIONS + "Could not verify the uploaded artifact using the included "
    "attestation: Verification failed: "
)
NIGHTLY = TrustedPublisher("octo-org/tally", "1234567", "nightly.yml", "pypi")


@pytest.fixture
def sigstore(oidc: GitHubOIDC, pypi: PyPI) -> Iterator[LocalSigstore]:
    with LocalSigstore(oidc.signer) as server:
        pypi.sigstore_trust_config = server.trust_config_path
        yield server
        assert not server.errors


# --- helpers: sign and upload as a release job would, by hand -----------------------------


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sign(
    sigstore: LocalSigstore, oidc: GitHubOIDC, name: str, digest: str, **claims: Any
) -> dict[str, Any]:
    """A publish attestation of (name, digest), signed as the job ``claims`` describe."""
    from pypi_attestations import Attestation, Distribution
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    config = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
    config.force_tlog_version = 1
    token = IdentityToken(oidc.signer.sign(github_claims(aud="sigstore", **claims)))
    with SigningContext.from_trust_config(config).signer(token) as signer:
        attestation = Attestation.sign(signer, Distribution(name=name, digest=digest))
    result: dict[str, Any] = json.loads(attestation.model_dump_json())
    return result


def minted(pypi: PyPI, oidc: GitHubOIDC, **claims: Any) -> str:
    jwt = oidc.signer.sign(github_claims(aud="pypi", **claims))
    answer = requests.post(pypi.url + "_/oidc/mint-token", json={"token": jwt}, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def upload(pypi: PyPI, path: Path, token: str, attestations: list[Any] | None) -> requests.Response:
    """The POST twine's ``--attestations`` makes for one file."""
    info = dist_info(path.name)
    assert info is not None
    name, version, _ = info
    fields = {
        ":action": "file_upload",
        "protocol_version": "1",
        "name": name,
        "version": version,
        "filetype": "bdist_wheel" if path.name.endswith(".whl") else "sdist",
        "pyversion": "py3" if path.name.endswith(".whl") else "source",
        "metadata_version": "2.1",
        "sha256_digest": sha256(path),
    }
    if attestations is not None:
        fields["attestations"] = json.dumps(attestations)
    return requests.post(
        pypi.upload_url,
        data=fields,
        files={"content": (path.name, path.read_bytes())},
        auth=("__token__", token),
        timeout=60,
    )


def provenance(
    pypi: PyPI, filename: str, accept: str = "application/vnd.pypi.integrity.v1+json"
) -> requests.Response:
    info = dist_info(filename)
    assert info is not None
    project, version, _ = info
    url = f"{pypi.url}integrity/{project}/{version}/{filename}/provenance"
    return requests.get(url, headers={"Accept": accept}, timeout=30)


@pytest.fixture
def wheels(tmp_path: Path) -> tuple[Path, Path]:
    """Two wheels of one release: an attestation of one is not one of the other."""
    directory = tmp_path / "wheels"
    directory.mkdir()
    one = write_wheel(directory, "demo_pkg", "1.0")
    other = write_wheel(directory, "demo_pkg", "1.0", "py2.py3-none-any")
    return one, other


# --- the emulator checks attestations as Warehouse does ----------------------------------


def test_the_integrity_api_serves_what_the_index_accepted(
    oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, wheels: tuple[Path, Path]
) -> None:
    from pypi_attestations import Provenance

    wheel, plain = wheels
    attestation = sign(sigstore, oidc, wheel.name, sha256(wheel))
    assert upload(pypi, wheel, minted(pypi, oidc), [attestation]).status_code == 200
    assert upload(pypi, plain, minted(pypi, oidc), None).status_code == 200

    answer = provenance(pypi, wheel.name)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/vnd.pypi.integrity.v1+json"
    assert answer.json() == {
        "version": 1,
        "attestation_bundles": [
            {
                "publisher": {"kind": "GitHub", "repository": "octo-org/tally",
                              "workflow": "release.yml", "environment": "pypi"},
                "attestations": [attestation],
            }
        ],
    }  # fmt: skip
    Provenance.model_validate(answer.json())  # what pypi-attestations reads, too
    assert provenance(pypi, wheel.name, "application/json").status_code == 200
    assert provenance(pypi, wheel.name, "text/html").status_code == 406
    assert provenance(pypi, plain.name).status_code == 404  # uploaded without
    assert provenance(pypi, "demo_pkg-9.0-py3-none-any.whl").status_code == 404

    # The simple index points at it: PEP 740's data-provenance, and "provenance" in JSON.
    url = f"{pypi.url}integrity/demo-pkg/1.0/{wheel.name}/provenance"
    page = requests.get(pypi.index_url + "demo-pkg/", timeout=30).text
    assert f'data-provenance="{url}"' in page and page.count("data-provenance") == 1
    listing = requests.get(
        pypi.index_url + "demo-pkg/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
        timeout=30,
    ).json()
    assert {f["filename"]: f["provenance"] for f in listing["files"]} == {
        wheel.name: url,
        plain.name: None,
    }


def refused(answer: requests.Response, pypi: PyPI, path: Path) -> str:
    """The index's reason, once sure it refused with 400 and stored nothing."""
    assert answer.status_code == 400, answer.text
    assert path.name not in pypi.files() and path.name not in pypi.provenance
    assert provenance(pypi, path.name).status_code == 404
    return answer.reason


def test_a_tampered_attestation_is_refused(
    oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, wheels: tuple[Path, Path]
) -> None:
    wheel = wheels[0]
    attestation = sign(sigstore, oidc, wheel.name, sha256(wheel))
    signature = bytearray(base64.b64decode(attestation["envelope"]["signature"]))
    signature[-1] ^= 1
    attestation["envelope"]["signature"] = base64.b64encode(bytes(signature)).decode()
    reason = refused(upload(pypi, wheel, minted(pypi, oidc), [attestation]), pypi, wheel)
    assert reason.startswith(COULD_NOT_VERIFY), reason
    assert "Signature" in reason or "signature" in reason


def test_an_attestation_of_another_workflow_is_refused(
    oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, wheels: tuple[Path, Path]
) -> None:
    """The upload's token is the release.yml publisher's; the attestation, nightly.yml's."""
    wheel = wheels[0]
    attestation = sign(sigstore, oidc, wheel.name, sha256(wheel), workflow="nightly.yml")
    reason = refused(upload(pypi, wheel, minted(pypi, oidc), [attestation]), pypi, wheel)
    assert reason.startswith(COULD_NOT_VERIFY), reason
    assert "does not match expected Trusted Publisher (release.yml @ octo-org/tally)" in reason


def test_an_attestation_of_another_repository_is_refused(
    oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, wheels: tuple[Path, Path]
) -> None:
    wheel = wheels[0]
    attestation = sign(sigstore, oidc, wheel.name, sha256(wheel), repository="mallory/tally")
    reason = refused(upload(pypi, wheel, minted(pypi, oidc), [attestation]), pypi, wheel)
    assert reason.startswith(COULD_NOT_VERIFY) and "mallory/tally" in reason, reason


def test_an_attestation_with_another_digest_is_refused(
    oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, wheels: tuple[Path, Path]
) -> None:
    wheel = wheels[0]
    attestation = sign(sigstore, oidc, wheel.name, "0" * 64)
    reason = refused(upload(pypi, wheel, minted(pypi, oidc), [attestation]), pypi, wheel)
    assert reason == COULD_NOT_VERIFY + "subject does not match distribution digest"


def test_the_attestation_of_another_file_is_refused(
    oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, wheels: tuple[Path, Path]
) -> None:
    wheel, other = wheels
    attestation = sign(sigstore, oidc, other.name, sha256(other))
    reason = refused(upload(pypi, wheel, minted(pypi, oidc), [attestation]), pypi, wheel)
    assert reason == (
        COULD_NOT_VERIFY + f"subject does not match distribution name: {other.name} != {wheel.name}"
    )


def test_more_than_two_or_two_of_one_predicate_type_are_refused(
    oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, wheels: tuple[Path, Path]
) -> None:
    wheel = wheels[0]
    attestation = sign(sigstore, oidc, wheel.name, sha256(wheel))
    three = upload(pypi, wheel, minted(pypi, oidc), [attestation] * 3)
    assert refused(three, pypi, wheel) == (
        INVALID_ATTESTATIONS + "A maximum of 2 attestations per file are supported"
    )
    two = upload(pypi, wheel, minted(pypi, oidc), [attestation, attestation])
    assert refused(two, pypi, wheel) == (
        INVALID_ATTESTATIONS + f"Multiple attestations for the same predicate type: {PUBLISH_V1}"
    )
    none = upload(pypi, wheel, minted(pypi, oidc), [])
    assert refused(none, pypi, wheel).startswith(
        INVALID_ATTESTATIONS + "an empty attestation set is not permitted"
    )
    junk = upload(pypi, wheel, minted(pypi, oidc), [{"version": 1}])
    assert refused(junk, pypi, wheel).startswith(INVALID_ATTESTATIONS + "Malformed attestations")


def test_attestations_come_only_with_trusted_publishing(
    oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, wheels: tuple[Path, Path]
) -> None:
    wheel = wheels[0]
    pypi.api_tokens.add("pypi-an-api-token")
    attestation = sign(sigstore, oidc, wheel.name, sha256(wheel))
    reason = refused(upload(pypi, wheel, "pypi-an-api-token", [attestation]), pypi, wheel)
    assert reason == (
        INVALID_ATTESTATIONS + "Attestations are only supported when using Trusted Publishing"
    )


def test_without_a_trust_root_given_the_index_verifies_against_sigstores_production_root(
    oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, wheels: tuple[Path, Path]
) -> None:
    """As Warehouse: a signature of another Sigstore (the local one) does not verify."""
    wheel = wheels[0]
    attestation = sign(sigstore, oidc, wheel.name, sha256(wheel))
    pypi.sigstore_trust_config = None
    reason = refused(upload(pypi, wheel, minted(pypi, oidc), [attestation]), pypi, wheel)
    assert reason.startswith(COULD_NOT_VERIFY), reason


# --- publish reads the provenance back (item 2) -------------------------------------------


def test_publish_signs_uploads_and_verifies_the_provenance_then_a_rerun_verifies_again(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    attestations_on(release)
    proc = publish(release, pypi, oidc, sigstore)
    assert proc.returncode == 0, output_of(proc)
    assert "provenance: after the upload, each file's PEP 740 provenance is read back" in (
        proc.stdout
    )
    assert (
        "provenance: 2 file(s) verified on the Integrity API of " + pypi.index_url + ": "
        "publish attestations signed by octo-org/tally's release.yml"
    ) in proc.stdout
    recorded = release.record()["details"]["provenance"]
    assert recorded["workflow"] == "octo-org/tally's release.yml"
    assert recorded["not_verified_because"] is None
    for name in (WHEEL, SDIST):
        entry = recorded["files"][name]
        assert entry["status"] == "verified"
        assert entry["identity"] == identity(oidc)
        assert entry["publisher"] == "octo-org/tally's release.yml"
        assert entry["predicate"] == PUBLISH_V1
        log_index = release.record()["details"]["attestations"][name]["log_index"]
        assert entry["log_index"] == log_index

    # Again: everything is there; nothing is signed or uploaded, the provenance is read again.
    uploads, certificates = list(pypi.uploads), len(sigstore.issued)
    again = publish(release, pypi, oidc, sigstore)
    assert again.returncode == 0, output_of(again)
    assert pypi.uploads == uploads and len(sigstore.issued) == certificates
    assert "every file is on the index already: nothing to upload" in again.stdout
    assert release.record()["details"]["provenance"]["files"] == recorded["files"]


def test_a_file_present_without_provenance_is_reported_not_failed(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    """The wheel was uploaded with an API token (no attestations); publish adds the sdist."""
    attestations_on(release)
    pypi.api_tokens.add("pypi-an-api-token")
    answer = upload(pypi, release.dist / WHEEL, "pypi-an-api-token", None)
    assert answer.status_code == 200
    proc = publish(release, pypi, oidc, sigstore)
    assert proc.returncode == 0, output_of(proc)
    files = release.record()["details"]["provenance"]["files"]
    assert files[WHEEL] == {"status": "none on the index"}
    assert files[SDIST]["status"] == "verified"
    assert (
        "provenance: 1 file(s) with none on the index (uploaded before attestations, or with "
        f"an API token): {WHEEL}"
    ) in proc.stdout


def test_a_provenance_of_another_workflow_fails_the_stage(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    """The files went up from nightly.yml, a trusted publisher too, with its attestations;
    the release workflow finds them present, and their provenance is not its own."""
    attestations_on(release)
    pypi.publishers.append(NIGHTLY)
    for name in (WHEEL, SDIST):
        path = release.dist / name
        attestation = sign(sigstore, oidc, name, sha256(path), workflow="nightly.yml")
        answer = upload(pypi, path, minted(pypi, oidc, workflow="nightly.yml"), [attestation])
        assert answer.status_code == 200, answer.reason
    uploads = list(pypi.uploads)
    proc = publish(release, pypi, oidc, sigstore)
    said = output_of(proc)
    assert proc.returncode == 84, said
    assert "does not verify as a PEP 740 publish attestation of the file by octo-org/tally's " \
           "release.yml" in said  # fmt: skip
    assert "does not match expected Trusted Publisher (release.yml @ octo-org/tally)" in said
    assert "Another workflow or repository published them" in said
    assert "check the trusted publishers of the project on the index" in said
    assert pypi.uploads == uploads  # nothing uploaded, nothing signed
    assert release.record()["status"] == "failed"


def test_a_tampered_provenance_on_the_index_fails_the_stage(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    """What the index serves is not what was signed: the subject names other bytes."""
    attestations_on(release)
    assert publish(release, pypi, oidc, sigstore).returncode == 0
    other = sign(sigstore, oidc, WHEEL, "0" * 64)
    pypi.provenance[WHEEL]["attestations"] = [other]
    proc = publish(release, pypi, oidc, sigstore)
    assert proc.returncode == 84, output_of(proc)
    assert f"{WHEEL}: its subject's sha256 is not the file's" in output_of(proc)
    assert "report the provenance to the index's security contact" in output_of(proc)


# --- the index refusing an attestation, explained (item 4) ---------------------------------


def test_an_attestation_the_index_refuses_is_explained_and_nothing_is_stored(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    """Signed with the local Sigstore, checked by an index on the production root (as PyPI)."""
    attestations_on(release)
    pypi.sigstore_trust_config = None
    proc = publish(release, pypi, oidc, sigstore)
    said = output_of(proc)
    assert proc.returncode == 85, said
    assert f"the index refused {WHEEL} for its PEP 740 attestation" in said
    assert COULD_NOT_VERIFY in said
    assert "trust root the index uses" in said and "NOX_RELEASE_SIGSTORE_TRUST_CONFIG" in said
    assert pypi.files() == {}


@pytest.mark.parametrize(
    ("reason", "cause", "remedy"),
    [
        (
            "Could not verify the uploaded artifact using the included attestation: "
            "Verification failed: Certificate's Build Config URI (<ObjectIdentifier(oid="
            "1.3.6.1.4.1.57264.1.18)>) does not match expected Trusted Publisher (release.yml "
            "@ octo-org/tally)",
            "in a reusable workflow (jobs.<id>.uses) that is the caller",
            "not inside a reusable workflow",
        ),
        (
            "Could not verify the uploaded artifact using the included attestation: "
            "Verification failed: subject does not match distribution digest",
            "not of this file",
            f"delete {WHEEL}.publish.attestation",
        ),
        (
            "Attestations are only supported when using Trusted Publishing",
            "minted by trusted publishing",
            "attestations = false",
        ),
        (
            "Could not verify the uploaded artifact using the included attestation: "
            "Verification failed: invalid signing cert: expired at time of Rekor entry",
            "public-good production instance",
            "unset NOX_RELEASE_SIGSTORE_TRUST_CONFIG",
        ),
    ],
)
def test_each_refusal_of_an_attestation_says_what_to_change(
    reason: str, cause: str, remedy: str
) -> None:
    error = attestation_refused(WHEEL, f"400 Invalid attestations supplied during upload: {reason}")
    assert error.exit_code == 85
    assert reason in error.cause and cause in error.cause, error.cause
    assert remedy in error.remedy, error.remedy


def test_signing_in_a_reusable_workflow_is_refused_by_the_index_and_explained(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    """release.yml calls publish.yml (jobs.<id>.uses); the trusted publisher names publish.yml,
    the job's workflow, so the token is minted. The certificate's build config is the caller,
    release.yml: the attestation is not the publisher's, and the index refuses it."""
    attestations_on(release)
    called = "octo-org/tally/.github/workflows/publish.yml@refs/tags/v0.3.1"
    oidc.claims = github_claims(job_workflow_ref=called)
    pypi.publishers[:] = [TrustedPublisher("octo-org/tally", "1234567", "publish.yml", "pypi")]
    proc = publish(release, pypi, oidc, sigstore)
    said = output_of(proc)
    assert proc.returncode == 85, said
    assert "does not match expected Trusted Publisher (publish.yml @ octo-org/tally)" in said
    assert "in a reusable workflow (jobs.<id>.uses) that is the caller" in said
    assert "run publish in a job of the top-level workflow itself" in said
    assert pypi.files() == {}


def test_an_index_without_the_integrity_api_is_said_and_not_asked(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    """Not PyPI, and the config does not say it is a Warehouse: sha256 only, said and kept."""
    proc = publish(release, pypi, oidc, None)
    assert proc.returncode == 0, output_of(proc)
    assert f"provenance: {pypi.index_url} serves no Integrity API that nox-release knows" in (
        proc.stdout
    )
    recorded = release.record()["details"]["provenance"]
    assert recorded["integrity_api"] is False and recorded["files"] is None
    assert "verified by their sha256 only" in recorded["not_verified_because"]
    assert pypi.integrity_queries == []


def test_the_dry_run_says_its_local_index_serves_no_integrity_api(
    release: Release, pypi: PyPI
) -> None:
    attestations_on(release)
    proc = run_release(
        "publish", "--project", str(release.project), "--repository", pypi.upload_url,
        "--dry-run", env=FAST,
    )  # fmt: skip
    assert proc.returncode == 0, output_of(proc)
    said = "the rehearsal's local index (a pypiserver) serves no Integrity API: the rehearsal "
    assert "provenance: " + said in proc.stdout
    recorded = release.record()["details"]["provenance"]
    assert recorded["integrity_api"] is False and recorded["not_verified_because"].startswith(said)
    assert pypi.integrity_queries == []


def test_outside_github_actions_the_publisher_the_index_names_is_checked(
    oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore, wheels: tuple[Path, Path]
) -> None:
    """No GITHUB_REPOSITORY (a maintainer's machine): each attestation must still be the
    publisher's the index names, of the file, with the publish predicate."""
    wheel, plain = wheels
    attestation = sign(sigstore, oidc, wheel.name, sha256(wheel))
    assert upload(pypi, wheel, minted(pypi, oidc), [attestation]).status_code == 200
    assert upload(pypi, plain, minted(pypi, oidc), None).status_code == 200
    trust = sigstore.trust_config_path.read_text()
    results, not_verified = read_back.verify_provenance(
        {wheel.name: sha256(wheel), plain.name: sha256(plain)}, project="demo_pkg",
        version="1.0", index_url=pypi.index_url, workflow=None,
        sigstore=lambda: Sigstore(trust), http=Http(), console=Console(stream=io.StringIO()),
    )  # fmt: skip
    assert not_verified == ""
    entry = attestation["verification_material"]["transparency_entries"][0]
    assert results[wheel.name].record() == {
        "status": "verified",
        "identity": identity(oidc),
        "publisher": "octo-org/tally's release.yml",
        "predicate": PUBLISH_V1,
        "log_index": int(entry["logIndex"]),
    }
    assert results[plain.name].record() == {"status": "none on the index"}
    assert len(pypi.integrity_queries) == 2

    # Where sigstore-python cannot run (Python 3.9), the provenance is read and not verified,
    # and the reason is given.
    def unsupported() -> Sigstore:
        raise SigningUnsupportedError("sigstore-python needs Python 3.10 or newer", "use 3.11")

    results, not_verified = read_back.verify_provenance(
        {wheel.name: sha256(wheel)}, project="demo_pkg", version="1.0",
        index_url=pypi.index_url, workflow=None, sigstore=unsupported, http=Http(),
        console=Console(stream=io.StringIO()),
    )  # fmt: skip
    assert not_verified == "sigstore-python needs Python 3.10 or newer"
    assert results[wheel.name].record() == {"status": "not verified"}


def test_an_index_with_pep740_turned_off_is_said_not_failed(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, sigstore: LocalSigstore
) -> None:
    """Warehouse's DISABLE_PEP740: uploads' attestations are ignored, the Integrity API says
    403. The files are uploaded; their provenance is recorded as not verified, with why."""
    attestations_on(release)
    pypi.pep740_enabled = False
    proc = publish(release, pypi, oidc, sigstore)
    assert proc.returncode == 0, output_of(proc)
    why = "the index's Integrity API answers HTTP 403"
    assert f"provenance: not verified: {why}" in proc.stdout
    recorded = release.record()["details"]["provenance"]
    assert recorded["not_verified_because"].startswith(why)
    assert recorded["files"] == {key: {"status": "not verified"} for key in (WHEEL, SDIST)}
    assert set(pypi.files()) == {WHEEL, SDIST} and pypi.provenance == {}
