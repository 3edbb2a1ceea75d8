"""provenance (issue 17 item 3): one SLSA v1 build provenance attestation of every released
file, signed with the REAL sigstore-python against the local Sigstore (tests/emulators/
sigstore.py) as the job the GitHub OIDC emulator vouches for, and stored through the emulated
GitHub attestations API. What a user then runs, ``gh attestation verify <file> --repo
owner/repo``, is done here as gh does it: the attestations listed by the file's digest, each
bundle verified with sigstore-python's own ``Verifier`` against the local trust root, under
gh's policy for ``--repo`` (the repository's workflow identity, the issuer, SLSA v1, the
file's digest among the subjects).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import Release, run_release
from emulators.github_api import GitHubAPI
from emulators.github_oidc import GitHubOIDC
from emulators.sigstore import LocalSigstore

from release.errors import (
    CredentialsError,
    GitHubError,
    ProvenanceRefusedError,
    ProvenanceUnsupportedError,
    SigningUnavailableError,
)

REPO = "octo-org/tally"  # the OIDC emulator's default claims and the API emulator's
SLSA_V1 = "https://slsa.dev/provenance/v1"
ISSUER = "https://token.actions.githubusercontent.com"
FILES = ("tiny-1.0-py3-none-any.whl", "tiny-1.0.tar.gz")
FAST = {"NOX_RELEASE_RETRY_BACKOFF": "0.05"}

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="sigstore 4.5.1 is installed from Python 3.11 only (tests/sigstore-requirements.txt)",
)


@pytest.fixture
def sigstore(oidc: GitHubOIDC) -> Iterator[LocalSigstore]:
    with LocalSigstore(oidc.signer) as server:
        yield server
        assert not server.errors


@pytest.fixture
def github() -> Iterator[GitHubAPI]:
    with GitHubAPI(REPO) as server:
        yield server
        assert not server.errors


def provenance(
    release: Release,
    github: GitHubAPI,
    oidc: GitHubOIDC | None,
    sigstore: LocalSigstore,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """The stage as the publish job's step runs it: the job's variables, its OIDC endpoint
    (None: a job without id-token: write), GITHUB_TOKEN, the local Sigstore's trust config."""
    job = oidc.env() if oidc is not None else {"GITHUB_ACTIONS": "true", "CI": "true"}
    return run_release(
        "provenance", "--project", str(release.project),
        env={**job, **github.env(), "GITHUB_SERVER_URL": "https://github.com",
             "GITHUB_JOB": "publish", **FAST,
             "NOX_RELEASE_SIGSTORE_TRUST_CONFIG": str(sigstore.trust_config_path), **env},
    )  # fmt: skip


def output_of(proc: subprocess.CompletedProcess[str]) -> str:
    return (proc.stdout + proc.stderr).replace("%0A", "\n").replace("%25", "%")


def ok(proc: subprocess.CompletedProcess[str], *secrets: str) -> str:
    output = output_of(proc)
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    # ::add-mask::<secret> is how Actions is told to mask it: the one place it may appear.
    shown = "\n".join(line for line in output.splitlines() if not line.startswith("::add-mask::"))
    for secret in secrets:
        assert secret not in shown
    return output


def refused(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    output = output_of(proc)
    assert proc.returncode == code, output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in output, output
    return output


# --- gh attestation verify <file> --repo owner/repo, as gh does it --------------------------


class NotVerified(Exception):
    pass


def _repository_san(repository: str) -> Any:
    """gh's --repo: the certificate's SAN must match ^https://github.com/<owner>/<repo>/."""
    from cryptography.x509 import SubjectAlternativeName
    from sigstore.errors import VerificationError
    from sigstore.verify.policy import UniformResourceIdentifier

    class SanInRepository:
        def verify(self, cert: Any) -> None:
            names = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
            uris = names.get_values_for_type(UniformResourceIdentifier)
            prefix = f"https://github.com/{repository}/".lower()
            if not any(uri.lower().startswith(prefix) for uri in uris):
                raise VerificationError(f"SAN {uris} is not a workflow of {repository}")

    return SanInRepository()


def stored_bundle(item: dict[str, Any]) -> dict[str, Any]:
    """An attestation's bundle as gh reads it: inline, or (GitHub since July 2026) from
    its ``bundle_url``, without the token, snappy-decompressed."""
    import cramjam

    if item["bundle"] is not None:
        return dict(item["bundle"])
    answer = requests.get(item["bundle_url"], timeout=10)
    answer.raise_for_status()
    assert answer.headers["Content-Type"] == "application/x-snappy"
    return dict(json.loads(bytes(cramjam.snappy.decompress_raw(answer.content))))


def gh_attestation_verify(
    path: Path, repository: str, github: GitHubAPI, sigstore: LocalSigstore
) -> dict[str, Any]:
    """The verified statement of ``path``, or :class:`NotVerified` saying why."""
    from sigstore.errors import VerificationError
    from sigstore.models import Bundle, ClientTrustConfig
    from sigstore.verify import Verifier, policy

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    answer = requests.get(
        f"{github.url}/repos/{REPO}/attestations/sha256:{digest}",
        headers={"Authorization": f"Bearer {github.token}"}, timeout=10,
    )  # fmt: skip
    if answer.status_code == 404:
        raise NotVerified("no attestations found")
    answer.raise_for_status()
    trust = ClientTrustConfig.from_json(sigstore.trust_config_path.read_text())
    verifier = Verifier(trusted_root=trust.trusted_root)
    gh_policy = policy.AllOf([
        policy.OIDCIssuerV2(ISSUER),
        policy.OIDCSourceRepositoryURI(f"https://github.com/{repository}"),
        _repository_san(repository),
    ])  # fmt: skip
    problems = []
    for item in answer.json()["attestations"]:
        try:
            bundle = Bundle.from_json(json.dumps(stored_bundle(item)))
            payload_type, payload = verifier.verify_dsse(bundle, gh_policy)
        except (VerificationError, ValueError) as exc:
            problems.append(f"does not verify: {exc}")
            continue
        statement: dict[str, Any] = json.loads(payload)
        if payload_type != "application/vnd.in-toto+json":
            problems.append(f"payload type {payload_type}")
        elif statement["predicateType"] != SLSA_V1:
            problems.append(f"predicate type {statement['predicateType']}")
        elif not any(s["digest"].get("sha256") == digest for s in statement["subject"]):
            problems.append("the file's digest is not among the subjects")
        else:
            return statement
    raise NotVerified("; ".join(problems))


# --- what the stage makes ---------------------------------------------------------------------


def expected_predicate(claims: dict[str, Any]) -> dict[str, Any]:
    """actions/toolkit's buildSLSAProvenancePredicate for these claims, written out."""
    server = "https://github.com"
    return {
        "buildDefinition": {
            "buildType": "https://actions.github.io/buildtypes/workflow/v1",
            "externalParameters": {"workflow": {
                "ref": claims["ref"], "repository": f"{server}/{REPO}",
                "path": ".github/workflows/release.yml"}},
            "internalParameters": {"github": {
                "event_name": claims["event_name"], "repository_id": claims["repository_id"],
                "repository_owner_id": claims["repository_owner_id"],
                "runner_environment": claims["runner_environment"]}},
            "resolvedDependencies": [{"uri": f"git+{server}/{REPO}@{claims['ref']}",
                                      "digest": {"gitCommit": claims["sha"]}}],
        },
        "runDetails": {
            "builder": {"id": f"{server}/{claims['job_workflow_ref']}"},
            "metadata": {"invocationId": f"{server}/{REPO}/actions/runs/{claims['run_id']}"
                                         f"/attempts/{claims['run_attempt']}"},
        },
    }  # fmt: skip


def test_one_attestation_covers_every_file_and_gh_verify_accepts_each(
    release: Release, github: GitHubAPI, oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    proc = provenance(release, github, oidc, sigstore)
    ok(proc, github.token, *oidc.issued)
    # One attestation, one signature, one log entry for all the files.
    (stored,) = github.attestations
    assert sorted(stored["digests"]) == sorted(release.sha256(name) for name in FILES)
    assert len(sigstore.issued) == 1 and len(sigstore.entries) == 1
    assert "sigstore" in oidc.audiences
    for name in FILES:
        statement = gh_attestation_verify(release.dist / name, REPO, github, sigstore)
        assert statement["_type"] == "https://in-toto.io/Statement/v1"
        assert statement["subject"] == [
            {"name": n, "digest": {"sha256": release.sha256(n)}} for n in sorted(FILES)
        ]
        assert statement["predicate"] == expected_predicate(oidc.claims)
    record = release.record("provenance")
    assert record["status"] == "ok"
    made = record["details"]["provenance"]
    assert made["subjects"] == {name: release.sha256(name) for name in FILES}
    assert made["attestation_id"] == stored["id"]
    assert made["log_index"] == sigstore.entries[0].log_index
    assert made["identity"] == f"https://github.com/{oidc.claims['job_workflow_ref']}"
    assert made["reused"] is False
    written = json.dumps(record)
    assert github.token not in written and not any(jwt in written for jwt in oidc.issued)
    assert f"gh attestation verify <file> --repo {REPO}" in record["reason"]


def test_gh_verify_refuses_another_file_a_tampered_bundle_and_another_repository(
    release: Release,
    github: GitHubAPI,
    oidc: GitHubOIDC,
    sigstore: LocalSigstore,
    tmp_path: Path,
) -> None:
    ok(provenance(release, github, oidc, sigstore))
    wheel = release.dist / FILES[0]
    gh_attestation_verify(wheel, REPO, github, sigstore)  # the baseline: it verifies

    # A file that is not in the release: GitHub holds nothing for its digest.
    other = tmp_path / FILES[0]
    other.write_bytes(wheel.read_bytes() + b"\0")
    with pytest.raises(NotVerified, match="no attestations found"):
        gh_attestation_verify(other, REPO, github, sigstore)

    # Another repository's identity: the signer is octo-org/tally's workflow, not theirs.
    with pytest.raises(NotVerified, match="does not verify"):
        gh_attestation_verify(wheel, "octo-org/other", github, sigstore)

    # A tampered bundle: the statement now names the other file's digest, the signature
    # (over the original payload) no longer matches.
    (stored,) = github.attestations
    original = copy.deepcopy(stored["bundle"])
    envelope = stored["bundle"]["dsseEnvelope"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(other.read_bytes()).hexdigest()
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    with pytest.raises(NotVerified, match="does not verify"):
        gh_attestation_verify(wheel, REPO, github, sigstore)
    stored["bundle"] = original
    gh_attestation_verify(wheel, REPO, github, sigstore)


def test_a_rerun_stores_no_second_attestation(
    release: Release, github: GitHubAPI, oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    ok(provenance(release, github, oidc, sigstore))
    first_id = github.attestations[0]["id"]
    entries = len(sigstore.entries)
    output = ok(provenance(release, github, oidc, sigstore))
    assert [a["id"] for a in github.attestations] == [first_id]
    assert len(sigstore.entries) == entries  # nothing signed again
    assert "already holds this workflow's build provenance" in output
    made = release.record("provenance")["details"]["provenance"]
    assert made["reused"] is True
    assert made["log_index"] == sigstore.entries[0].log_index
    assert [m for m, p in github.requests if p.endswith("/attestations")] == ["POST"]


def test_an_attestation_of_other_files_is_not_taken_for_this_one(
    release: Release, github: GitHubAPI, oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    ok(provenance(release, github, oidc, sigstore))
    # An earlier attestation that names the wheel but not the sdist (another run's set).
    (stored,) = github.attestations
    envelope = stored["bundle"]["dsseEnvelope"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["subject"] = statement["subject"][:1]
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    ok(provenance(release, github, oidc, sigstore))
    assert len(github.attestations) == 2
    assert release.record("provenance")["details"]["provenance"]["reused"] is False


def test_a_token_without_attestations_write_is_explained(
    release: Release, oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    with GitHubAPI(REPO, attestations_write=False) as github:
        proc = provenance(release, github, oidc, sigstore)
        assert github.attestations == []
    refused(
        proc, ProvenanceRefusedError.exit_code,
        "GitHub refused storing the build provenance attestation in octo-org/tally",
        "Resource not accessible by integration",
        "lacks attestations: write",
        "permissions:\n      contents: read\n      id-token: write",
        "attestations: write   # storing the build provenance attestation",
    )  # fmt: skip


def test_a_token_that_cannot_list_attestations_is_told_what_reads_them(
    release: Release, github: GitHubAPI, oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    github.answer_with(
        {"message": "Resource not accessible by integration"}, status=403, method="GET",
        path=f"/repos/{REPO}/attestations/sha256:[0-9a-f]{{64}}",
    )  # fmt: skip
    refused(
        provenance(release, github, oidc, sigstore), GitHubError.exit_code,
        "GitHub refused listing the attestations of a file of octo-org/tally",
        "permissions: contents: read; a fine-grained token needs attestations: read",
    )  # fmt: skip
    assert github.attestations == [] and sigstore.entries == []


def test_an_attestation_github_calls_malformed_is_explained(
    release: Release, github: GitHubAPI, oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    github.answer_with(
        {"message": "Invalid bundle: unsupported bundle media type"}, status=422,
        method="POST", path=f"/repos/{REPO}/attestations",
    )  # fmt: skip
    refused(
        provenance(release, github, oidc, sigstore), ProvenanceRefusedError.exit_code,
        "as malformed (422): Invalid bundle: unsupported bundle media type",
        "checked its signature before sending it",
    )  # fmt: skip
    assert github.attestations == []


@pytest.mark.parametrize("service", ["fulcio", "rekor"])
def test_a_sigstore_outage_is_retried_then_told_apart_from_a_refusal(
    release: Release,
    github: GitHubAPI,
    oidc: GitHubOIDC,
    sigstore: LocalSigstore,
    service: str,
) -> None:
    sigstore.fail_requests(service, 2)
    output = ok(provenance(release, github, oidc, sigstore))
    assert "Sigstore gave HTTP 503; trying again" in output
    assert len(github.attestations) == 1
    sigstore.fail_requests(service, 100)
    with GitHubAPI(REPO) as empty:  # a repository that holds none yet
        proc = provenance(release, empty, oidc, sigstore)
        assert empty.attestations == []
    refused(proc, SigningUnavailableError.exit_code,
            "still gave HTTP 503 after 4 attempts: an outage, not a refusal")  # fmt: skip


def test_a_job_without_id_token_is_shown_the_permissions(
    release: Release, github: GitHubAPI, sigstore: LocalSigstore
) -> None:
    proc = provenance(release, github, None, sigstore)
    refused(
        proc, CredentialsError.exit_code,
        "ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN are not set",
        "add it to the job publish (job level, not the top of the workflow):\njobs:\n"
        "  publish:\n    environment: pypi\n    permissions:\n      contents: read\n"
        "      id-token: write",
        "      attestations: write   # storing the build provenance attestation",
    )  # fmt: skip
    assert github.attestations == []


def test_a_private_repository_is_skipped_with_the_reason(
    release: Release, github: GitHubAPI, oidc: GitHubOIDC, sigstore: LocalSigstore
) -> None:
    oidc.claims["repository_visibility"] = "private"
    output = ok(provenance(release, github, oidc, sigstore))
    assert github.attestations == [] and sigstore.entries == []
    record = release.record("provenance")
    assert record["status"] == "skipped"
    assert "octo-org/tally is private" in record["reason"]
    assert "fulcio.githubapp.com" in record["reason"]
    # In Actions a skipped stage is a warning: something to change in the workflow.
    assert "::warning" in output


def test_outside_github_actions_it_refuses(
    release: Release, github: GitHubAPI, sigstore: LocalSigstore
) -> None:
    proc = run_release(
        "provenance", "--project", str(release.project),
        env={**github.env(), "NOX_RELEASE_SIGSTORE_TRUST_CONFIG": str(sigstore.trust_config_path)},
    )  # fmt: skip
    refused(proc, ProvenanceUnsupportedError.exit_code, "this is not GitHub Actions", "--dry-run")
    assert github.attestations == []


def test_the_dry_run_says_what_it_would_attest(release: Release, github: GitHubAPI) -> None:
    proc = run_release("provenance", "--project", str(release.project), "--dry-run",
                       env=github.env())  # fmt: skip
    ok(proc)
    reason = release.record("provenance")["reason"]
    files = ", ".join(sorted(FILES))
    assert f"would sign one SLSA v1 build provenance attestation of 2 file(s) ({files})" in reason
    assert github.requests == []


# --- the emulated attestations API checks what GitHub checks ---------------------------------


def test_the_emulator_refuses_what_is_not_a_sigstore_bundle_of_a_statement(
    github: GitHubAPI,
) -> None:
    url = f"{github.url}/repos/{REPO}/attestations"
    headers = {"Authorization": f"Bearer {github.token}"}
    statement = {"_type": "https://in-toto.io/Statement/v1",
                 "subject": [{"name": "a", "digest": {"sha256": "ab" * 32}}]}  # fmt: skip
    good = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": "AA=="}, "tlogEntries": []},
        "dsseEnvelope": {"payload": base64.b64encode(json.dumps(statement).encode()).decode(),
                         "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": "AA=="}]},
    }  # fmt: skip
    bad = {
        "no bundle": {},
        "no envelope": {"bundle": {k: v for k, v in good.items() if k != "dsseEnvelope"}},
        "no material": {"bundle": {k: v for k, v in good.items() if k != "verificationMaterial"}},
        "other media type": {"bundle": {**good, "mediaType": "application/json"}},
        "no subjects": {"bundle": {**good, "dsseEnvelope": {
            **good["dsseEnvelope"],
            "payload": base64.b64encode(b'{"subject": []}').decode()}}},
    }  # fmt: skip
    for name, body in bad.items():
        answer = requests.post(url, json=body, headers=headers, timeout=10)
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["message"].startswith("Invalid bundle"), name
    assert requests.get(f"{url}/sha256:{'ab' * 32}", headers=headers, timeout=10).status_code == 404
    answer = requests.post(url, json={"bundle": good}, headers=headers, timeout=10)
    assert answer.status_code == 201
    listed = requests.get(f"{url}/sha256:{'ab' * 32}", headers=headers, timeout=10).json()
    # By reference, as GitHub answers now: the storage URL serves it, to no token.
    assert [item["bundle"] for item in listed["attestations"]] == [None]
    assert [stored_bundle(item) for item in listed["attestations"]] == [good]
    (item,) = listed["attestations"]
    assert requests.get(item["bundle_url"], headers=headers, timeout=10).status_code == 400
    assert requests.get(item["bundle_url"].split("?")[0], timeout=10).status_code == 403
    github.bundles_by_reference = False
    listed = requests.get(f"{url}/sha256:{'ab' * 32}", headers=headers, timeout=10).json()
    assert [item["bundle"] for item in listed["attestations"]] == [good]
    # Without the token, nothing.
    assert requests.post(url, json={"bundle": good}, timeout=10).status_code == 401
