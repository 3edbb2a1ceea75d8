"""Build provenance: one SLSA v1 attestation of every released file, made as
actions/attest-build-provenance makes it (../shared/reference/attestations.md §5), so that
``gh attestation verify <file> --repo <owner>/<repo>`` works for each wheel and the sdist.

One in-toto statement whose subjects are the files and their sha256; its predicate is built
from the job's OIDC token claims field for field as ``@actions/attest``'s
``buildSLSAProvenancePredicate``; it is signed with sigstore-python (``sign_dsse``, Rekor v1,
the trust config, identity checks and error classes of :mod:`release.publish.attest`) and
verified before it is stored through GitHub's attestations API.

Public repositories only: for a private or internal one GitHub signs with its own Fulcio and
a timestamp authority, no Rekor, which sigstore-python can neither sign with nor verify; the
stage says so and skips (see :func:`unsupported_visibility`).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..console import Console
from ..errors import AttestationInvalidError, SigningRefusedError, SigningUnavailableError
from ..http import Policy
from ..publish.attest import (
    GITHUB_ISSUER,
    SIGN_ATTEMPTS,
    Sigstore,
    outage_of,
    said,
    signing_context,
    sigstore_identity,
)

SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"
INTOTO_STATEMENT_V1 = "https://in-toto.io/Statement/v1"
DEFAULT_SERVER_URL = "https://github.com"


def predicate(claims: Mapping[str, Any], server_url: str) -> dict[str, Any]:
    """The SLSA v1 provenance predicate of this job, from its OIDC token's claims."""
    repository = str(claims["repository"])
    # owner/repo/.github/workflows/release.yml@refs/tags/v1 -> .github/workflows/release.yml
    workflow_path = str(claims["workflow_ref"]).replace(f"{repository}/", "", 1).split("@")[0]
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {
                "workflow": {
                    "ref": claims["ref"],
                    "repository": f"{server_url}/{repository}",
                    "path": workflow_path,
                }
            },
            "internalParameters": {
                "github": {
                    "event_name": claims["event_name"],
                    "repository_id": claims["repository_id"],
                    "repository_owner_id": claims["repository_owner_id"],
                    "runner_environment": claims["runner_environment"],
                }
            },
            "resolvedDependencies": [
                {
                    "uri": f"git+{server_url}/{repository}@{claims['ref']}",
                    "digest": {"gitCommit": claims["sha"]},
                }
            ],
        },
        "runDetails": {
            "builder": {"id": f"{server_url}/{claims['job_workflow_ref']}"},
            "metadata": {
                "invocationId": f"{server_url}/{repository}/actions/runs/{claims['run_id']}"
                f"/attempts/{claims['run_attempt']}"
            },
        },
    }


# What the predicate is built from: a token without one is not a GitHub Actions job token.
CLAIMS = ("repository", "workflow_ref", "ref", "event_name", "repository_id",
          "repository_owner_id", "runner_environment", "sha", "job_workflow_ref", "run_id",
          "run_attempt")  # fmt: skip


def missing_claims(claims: Mapping[str, Any]) -> list[str]:
    return [name for name in CLAIMS if not isinstance(claims.get(name), str) or not claims[name]]


def unsupported_visibility(claims: Mapping[str, Any]) -> str | None:
    """Why this repository's build provenance cannot be made here, or None (public)."""
    visibility = str(claims.get("repository_visibility") or "public")
    if visibility == "public":
        return None
    return (
        f"{claims.get('repository')} is {visibility}: GitHub signs the attestations of "
        "private and internal repositories with its own Sigstore (fulcio.githubapp.com and "
        "a timestamp authority, no public transparency log, GitHub Enterprise Cloud only), "
        "which sigstore-python cannot sign with; signing with the public-good Sigstore "
        "would publish the repository's name and workflow in Rekor for everyone to read"
    )


def statement(subjects: Mapping[str, str], claims: Mapping[str, Any], server_url: str) -> Any:
    """The in-toto statement: every file (name -> sha256) a subject, one predicate."""
    from sigstore.dsse import DigestSet, StatementBuilder, Subject

    files = [Subject(name=name, digest=DigestSet(root={"sha256": sha256}))
             for name, sha256 in subjects.items()]  # fmt: skip
    return (
        StatementBuilder()
        .subjects(files)
        .predicate_type(SLSA_PROVENANCE_V1)
        .predicate(predicate(claims, server_url))
        .build()
    )


@dataclass(frozen=True)
class Provenance:
    """The attestation, as the stage's record gives it (never the token or the key)."""

    subjects: dict[str, str]
    identity: str
    log_index: int
    attestation_id: int | None  # None: stored by an earlier run, or the POST's answer lost
    bundle_sha256: str
    reused: bool

    def record(self) -> dict[str, object]:
        return {
            "predicate_type": SLSA_PROVENANCE_V1,
            "subjects": self.subjects,
            "identity": self.identity,
            "log_index": self.log_index,
            "attestation_id": self.attestation_id,
            "bundle_sha256": self.bundle_sha256,
            "reused": self.reused,
        }


def problem_with(
    bundle: Mapping[str, Any], subjects: Mapping[str, str], identity: str, sigstore: Sigstore
) -> str:
    """Why ``bundle`` is not this identity's SLSA provenance of exactly these files under
    this trust root; '' when it is."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.errors import VerificationError
    from sigstore.models import Bundle
    from sigstore.verify import policy

    try:
        loaded = Bundle.from_json(json.dumps(bundle))
        _type, payload = sigstore.verifier.verify_dsse(
            loaded, policy.Identity(identity=identity, issuer=GITHUB_ISSUER)
        )
    except (VerificationError, SigstoreError, ValueError) as exc:
        return f"its signature does not verify for {identity} ({str(exc)[:200]})"
    try:
        found = json.loads(payload)
        predicate_type = found["predicateType"]
        named = {s["name"]: s["digest"]["sha256"] for s in found["subject"]}
    except (ValueError, KeyError, TypeError):
        return "its statement is not an in-toto statement with sha256 subjects"
    if predicate_type != SLSA_PROVENANCE_V1:
        return f"its predicate type is {predicate_type!r}, not SLSA provenance v1"
    if named != dict(subjects):
        return "its subjects are other files than this release's"
    return ""


def log_index_of(bundle: Mapping[str, Any]) -> int:
    entries = bundle.get("verificationMaterial", {}).get("tlogEntries") or [{}]
    return int(entries[0].get("logIndex", -1))


def bundle_sha256(bundle: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(bundle, sort_keys=True).encode()).hexdigest()


def sign(
    signed_statement: Any,
    *,
    jwt: str,
    identity: str,
    subjects: Mapping[str, str],
    sigstore: Sigstore,
    console: Console,
    policy: Policy,
) -> dict[str, Any]:
    """The statement signed (DSSE, Rekor v1) and verified: the bundle as GitHub stores it.
    Outages of Fulcio or Rekor are retried within bounds, as publish's signing is."""
    identity_token = sigstore_identity(jwt)
    context = signing_context(sigstore, (policy.connect_s, policy.read_s))
    for attempt in range(1, SIGN_ATTEMPTS + 1):
        try:
            # cache=True even for one signature: sigstore-python 4.5.1's uncached signer makes
            # a new key at each use, so the certificate's key is not the one that signs.
            with context.signer(identity_token, cache=True) as signer:
                made = json.loads(signer.sign_dsse(signed_statement).to_json())
            break
        except Exception as exc:  # sigstore-python's errors have no common base
            outage = outage_of(exc)
            if outage is None:
                raise SigningRefusedError(
                    f"Sigstore refused to sign the build provenance: {said(exc)}.",
                    "check that the job's OIDC token is GitHub's (id-token: write) and that "
                    "Sigstore accepts it.",
                ) from None
            if attempt == SIGN_ATTEMPTS:
                raise SigningUnavailableError(
                    f"Sigstore (Fulcio or Rekor) still gave {outage} after {attempt} attempts: "
                    "an outage, not a refusal. No build provenance was stored.",
                    "run provenance again later (https://status.sigstore.dev).",
                ) from None
            delay = policy.backoff(attempt)
            console.line(f"  Sigstore gave {outage}; trying again in {delay:.0f}s")
            time.sleep(delay)
    problem = problem_with(made, subjects, identity, sigstore)
    if problem:
        raise AttestationInvalidError(
            f"the build provenance just signed does not verify: {problem}. Nothing was "
            "stored on GitHub.",
            "run provenance again; if it happens again, Sigstore's trust root and its "
            "services disagree (https://status.sigstore.dev).",
        )
    return dict(made)
