"""provenance: one SLSA v1 build provenance attestation of every validated file, signed with
Sigstore as the release workflow and stored with GitHub's attestations API, so that
``gh attestation verify <file> --repo <owner>/<repo>`` works for each wheel and the sdist.

It runs in the publish job, after publish (the generated workflow's step ``nox -s
provenance``): that job already holds the OIDC token, behind the environment's reviewers, and
gets ``attestations: write`` too; no other job holds either. Safe to run again: an attestation
GitHub already holds for exactly these files, signed by this workflow, is reused, not made
twice. ``--dry-run`` says what it would do without signing or calling GitHub.
"""

from __future__ import annotations

from ..context import RunContext
from ..errors import CredentialsError, ProvenanceUnsupportedError, SigningRefusedError
from ..github import provenance as slsa
from ..github.rest import DEFAULT_API_URL, GitHub, api_base
from ..http import Http
from ..publish import attest
from ..publish import credentials as creds
from ..records import SKIPPED, StageRecord
from ..validated import validated_release
from ..workflows.actions import PUBLISH_JOB_PERMISSIONS, permissions_yaml


def provenance(ctx: RunContext, record: StageRecord) -> None:
    release = validated_release(ctx)
    record.artifacts = release.artifacts
    subjects = release.expected
    repository = ctx.environ.get("GITHUB_REPOSITORY", "")
    details = record.details
    details.update(predicate_type=slsa.SLSA_PROVENANCE_V1, subjects=subjects,
                   repository=repository or None, dry_run=ctx.dry_run)  # fmt: skip
    names = ", ".join(subjects)
    api_url = api_base(ctx.environ.get("GITHUB_API_URL", DEFAULT_API_URL))
    if ctx.dry_run:
        record.reason = (
            f"would sign one SLSA v1 build provenance attestation of {len(subjects)} file(s) "
            f"({names}) with Sigstore as the release workflow, and store it with GitHub's "
            f"attestations API in {repository or 'the repository GITHUB_REPOSITORY names'} "
            "(once: a run that finds it there stores nothing)"
        )
        return
    job = ctx.environ.get("GITHUB_JOB") or "publish"
    needed = permissions_yaml(job, PUBLISH_JOB_PERMISSIONS)
    if ctx.environ.get("GITHUB_ACTIONS") != "true":
        raise ProvenanceUnsupportedError(
            "provenance signs as the GitHub Actions workflow that released the files (the "
            "identity `gh attestation verify` checks), and this is not GitHub Actions.",
            "run it in the release workflow, after publish (nox-release workflows --write "
            "puts it in the publish job); here, --dry-run says what it would do.",
        )
    token = ctx.environ.get("GITHUB_TOKEN")
    if not token or not repository:
        missing = " and ".join(
            v for v, ok in (("GITHUB_TOKEN", token), ("GITHUB_REPOSITORY", repository)) if not ok
        )
        raise CredentialsError(
            f"provenance needs {missing} in the environment: GitHub's attestations API takes "
            "the job's token.",
            "on the step: env: GITHUB_TOKEN: ${{ github.token }}, and on the job:\n" + needed,
        )
    http = Http()
    jwt = creds.fetch_oidc_token(
        "sigstore", ctx.environ, ctx.config, http, permissions=PUBLISH_JOB_PERMISSIONS
    )
    if jwt is None:  # GitHub Actions hands one out or raises: only a bug gets here
        raise SigningRefusedError("GitHub Actions handed out no OIDC token for Sigstore.", needed)
    ctx.console.register_secret(jwt)
    claims = creds.decode_claims(jwt)
    not_here = slsa.unsupported_visibility(claims)
    if not_here is not None:
        record.status = SKIPPED
        record.reason = (
            f"no build provenance: {not_here}. For one, attest with GitHub's own "
            "actions/attest-build-provenance; or remove `nox -s provenance` from the publish "
            "job"
        )
        return
    missing_claims = slsa.missing_claims(claims)
    if missing_claims:
        raise SigningRefusedError(
            f"the OIDC token for Sigstore lacks the claims build provenance is made of "
            f"({', '.join(missing_claims)}): it is not a GitHub Actions job's token.",
            "run provenance in the release workflow on GitHub Actions.",
        )
    identity = attest.identity_of(jwt)
    sigstore = attest.Sigstore(attest.trust_config(ctx.environ))
    api = GitHub(api_url, token, repository, ctx.console)
    # Any subject finds it: one attestation covers all of them.
    lookup = subjects[min(subjects)]
    for stored in api.attestations_for(lookup):
        bundle = api.bundle_of(stored)
        if isinstance(bundle, dict) and not slsa.problem_with(bundle, subjects, identity, sigstore):
            made = slsa.Provenance(
                dict(subjects), identity, slsa.log_index_of(bundle), None,
                slsa.bundle_sha256(bundle), reused=True,
            )  # fmt: skip
            ctx.console.line(
                f"GitHub already holds this workflow's build provenance of these "
                f"{len(subjects)} file(s) (Rekor log index {made.log_index}): stored nothing"
            )
            break
    else:
        ctx.console.line(
            f"signing one SLSA v1 build provenance attestation of {len(subjects)} file(s) as "
            f"{identity}"
        )
        bundle = slsa.sign(
            slsa.statement(subjects, claims, ctx.environ.get("GITHUB_SERVER_URL")
                           or slsa.DEFAULT_SERVER_URL),
            jwt=jwt, identity=identity, subjects=subjects, sigstore=sigstore,
            console=ctx.console, policy=http.policy,
        )  # fmt: skip
        attestation_id = api.create_attestation(bundle, lookup)
        made = slsa.Provenance(
            dict(subjects), identity, slsa.log_index_of(bundle), attestation_id,
            slsa.bundle_sha256(bundle), reused=False,
        )  # fmt: skip
        ctx.console.line(
            f"stored on GitHub as attestation {attestation_id} (Rekor log index {made.log_index})"
        )
    details["provenance"] = made.record()
    details["api_requests"] = api.requests
    record.reason = (
        f"{len(subjects)} file(s) attested ({'already stored' if made.reused else 'stored'}); "
        f"check one with: gh attestation verify <file> --repo {repository}"
    )
