"""After an upload: each file's PEP 740 provenance, read back from the index's Integrity API.

PyPI serves, for each file uploaded with attestations, the bundles it accepted
(``GET /integrity/<project>/<version>/<file>/provenance``, reference §1). publish asks for the
provenance of every file of the release, uploaded in this run or found present, and requires
one attestation that

- verifies under Sigstore's trust root (the public-good one; the tests' local one through
  ``NOX_RELEASE_SIGSTORE_TRUST_CONFIG``, as signing does) with a certificate of this
  repository's release workflow: GitHub's issuer, ``https://github.com/<repository>`` as
  the source repository and the workflow file as the build config, which is what PyPI checks
  against the trusted publisher (pypi-attestations' ``GitHubPublisher`` policy);
- has the file itself as its one subject (its name and sha256);
- has PyPI's publish predicate.

A file without provenance (404) is reported, not failed: a release from before attestations,
or a file uploaded with an API token. A provenance that is there and does not verify is
:class:`ProvenanceInvalidError`: someone else's workflow published the file, or what the index
serves is not what was signed.

Only PyPI, TestPyPI and a Warehouse the config says takes attestations serve the Integrity
API; pypiserver and devpi do not, and the dry run's local index is a pypiserver: its
rehearsal verifies its attestations itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote, urljoin

from packaging.utils import canonicalize_name

from ..console import Console
from ..errors import IndexUnavailableError, ProvenanceInvalidError, SigningUnsupportedError
from ..http import Http, UnexpectedAnswer
from .attest import PUBLISH_V1, Sigstore

INTEGRITY_JSON = "application/vnd.pypi.integrity.v1+json"
NONE_ON_THE_INDEX: Final = "none on the index"
# The workflow file in GITHUB_WORKFLOW_REF (``owner/repo/.github/workflows/<file>@<ref>``).
_WORKFLOW_FILE = re.compile(r"/\.github/workflows/([^/@]+)@")

NOT_VERIFIED: Final = "not verified"
Status = Literal["verified", "none on the index", "not verified"]


@dataclass(frozen=True)
class Workflow:
    """This repository's release workflow: the trusted publisher its files must come from."""

    repository: str  # owner/name
    workflow: str  # the workflow file name, as a trusted publisher names it

    def describe(self) -> str:
        return f"{self.repository}'s {self.workflow}"


def release_workflow(environ: Mapping[str, str]) -> Workflow | None:
    """The workflow this job runs in, from GitHub Actions' environment; None elsewhere."""
    repository = environ.get("GITHUB_REPOSITORY", "")
    found = _WORKFLOW_FILE.search(environ.get("GITHUB_WORKFLOW_REF", ""))
    if not repository or found is None:
        return None
    return Workflow(repository, found.group(1))


def integrity_url(index_url: str, project: str, version: str, filename: str) -> str:
    """The Integrity API URL of a file: at the root of the index's host, as on PyPI."""
    path = "/".join(quote(part) for part in (canonicalize_name(project), version, filename))
    return urljoin(index_url, f"/integrity/{path}/provenance")


@dataclass(frozen=True)
class FileProvenance:
    """What was verified of one file's provenance, as publish.json records it."""

    file: str
    status: Status
    identity: str = ""  # the certificate's SAN: https://github.com/<job_workflow_ref>
    publisher: str = ""  # the trusted publisher the index names: owner/repo's workflow
    predicate: str = ""
    log_index: int | None = None

    def record(self) -> dict[str, object]:
        if self.status != "verified":
            return {"status": self.status}
        return {
            "status": self.status,
            "identity": self.identity,
            "publisher": self.publisher,
            "predicate": self.predicate,
            "log_index": self.log_index,
        }


class IntegrityOff(Exception):
    """The index answers its Integrity API with 403: PEP 740 is turned off there for now."""


def fetch(url: str, http: Http) -> dict[str, Any] | None:
    """The provenance object at ``url``, None for none (404); IndexUnavailableError when the
    index cannot be read (the HTTP layer retries a lost answer, a 5xx and a 429)."""
    answer = http.call("GET", url, headers={"Accept": INTEGRITY_JSON}, expect=(200, 403, 404))
    if answer.status == 404:
        return None
    if answer.status == 403:
        raise IntegrityOff(answer.describe())
    problem = answer.summary() if answer.status != 200 else ""
    if not problem:
        try:
            return answer.json_object({"attestation_bundles": list})
        except UnexpectedAnswer as exc:
            problem = exc.found
    raise IndexUnavailableError(
        f"the index's provenance of a file could not be read at {url}: {problem}.",
        "run publish again later: the files are on the index, and it reads their provenance again.",
    )


def _problems(
    provenance: dict[str, Any],
    filename: str,
    sha256: str,
    workflow: Workflow | None,
    sigstore: Sigstore,
) -> tuple[FileProvenance | None, list[str]]:
    """The verified provenance of the file, or why none of its attestations is one."""
    from pydantic import ValidationError
    from pypi_attestations import AttestationBundle, GitHubPublisher

    problems: list[str] = []
    for raw in provenance["attestation_bundles"]:
        try:
            bundle = AttestationBundle.model_validate(raw)
        except ValidationError as exc:
            problems.append(f"a bundle is not PEP 740's ({str(exc).splitlines()[0]})")
            continue
        named = bundle.publisher
        if workflow is None:
            # Outside GitHub Actions: as the publisher the index names (GitLab's too), by
            # pypi-attestations' own policy for its kind.
            policy = named._as_policy()
        elif isinstance(named, GitHubPublisher):
            # pypi-attestations' own policy for a GitHub trusted publisher: issuer, source
            # repository, and the build config URI naming the workflow file at the cert's ref.
            mine = GitHubPublisher(repository=workflow.repository, workflow=workflow.workflow)
            policy = mine._as_policy()
        else:
            problems.append(f"its publisher is a {named.kind} one, not this GitHub workflow")
            continue
        for attestation in bundle.attestations:
            problem = sigstore.verify_with(attestation, filename, sha256, policy)
            if problem:
                problems.append(problem)
                continue
            entry = attestation.verification_material.transparency_entries[0]
            return FileProvenance(
                file=filename,
                status="verified",
                identity=_signer_identity(attestation),
                publisher=_describe(named),
                predicate=PUBLISH_V1,
                log_index=int(entry["logIndex"]),
            ), []
    return None, problems or ["it holds no attestation"]


def _describe(publisher: Any) -> str:
    """The trusted publisher the index names: ``owner/repo's release.yml`` for GitHub."""
    from pypi_attestations import GitHubPublisher

    if isinstance(publisher, GitHubPublisher):
        return Workflow(publisher.repository, publisher.workflow).describe()
    return f"a {publisher.kind} trusted publisher of {getattr(publisher, 'repository', '?')}"


def _signer_identity(attestation: Any) -> str:
    from cryptography import x509

    certificate = attestation.to_bundle().signing_certificate
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    uris = names.value.get_values_for_type(x509.UniformResourceIdentifier)
    return str(uris[0]) if uris else ""


def verify_provenance(
    expected: Mapping[str, str],
    *,
    project: str,
    version: str,
    index_url: str,
    workflow: Workflow | None,
    sigstore: Callable[[], Sigstore],
    http: Http,
    console: Console,
) -> tuple[dict[str, FileProvenance], str]:
    """Each file's verified provenance (or none on the index), and why nothing could be
    verified ('' when it was); :class:`ProvenanceInvalidError` for a provenance that is
    there and does not verify. ``expected`` maps each file to its sha256; ``workflow`` is
    this repository's release workflow (None outside GitHub Actions: then each attestation
    is checked against the publisher the index names)."""
    found: dict[str, dict[str, Any] | None] = {}
    try:
        for name in expected:
            found[name] = fetch(integrity_url(index_url, project, version, name), http)
    except IntegrityOff as exc:
        # Warehouse's admin switch for PEP 740: nothing to read; the upload stands.
        why = f"the index's Integrity API answers {exc}: its PEP 740 support is turned off now"
        return {name: FileProvenance(name, NOT_VERIFIED) for name in expected}, why
    results = {name: FileProvenance(name, NONE_ON_THE_INDEX) for name, p in found.items()
               if p is None}  # fmt: skip
    held = {name: p for name, p in found.items() if p is not None}
    if held:
        try:
            verifier = sigstore()
        except SigningUnsupportedError as exc:
            # An older Python, or no sigstore-python: said, and the upload stands.
            results.update({name: FileProvenance(name, NOT_VERIFIED) for name in held})
            return {name: results[name] for name in expected}, exc.cause
        failed: list[str] = []
        for name, provenance in held.items():
            verified, problems = _problems(provenance, name, expected[name], workflow, verifier)
            if verified is None:
                failed.append(f"{name}: {'; '.join(problems)}")
            else:
                results[name] = verified
        if failed:
            raise _invalid(failed, index_url, workflow)
    _say(console, results, workflow, index_url)
    return {name: results[name] for name in expected}, ""


# pypi-attestations' policy says so when the certificate is another workflow's or repository's.
_OTHER_SIGNER = ("does not match expected Trusted Publisher", "Source Repository")


def _invalid(failed: list[str], index_url: str, workflow: Workflow | None) -> Exception:
    who = workflow.describe() if workflow else "the trusted publisher the index names"
    cause = (
        f"the provenance the index ({index_url}) serves for {len(failed)} file(s) does not "
        f"verify as a PEP 740 publish attestation of the file by {who}: "
        + " | ".join(failed)
        + ". The files are on the index as they are."
    )
    if all(any(words in problem for words in _OTHER_SIGNER) for problem in failed):
        return ProvenanceInvalidError(
            cause + " Another workflow or repository published them.",
            f"check the trusted publishers of the project on the index: publish from {who}, "
            "the one that signs, and remove the others; files published from elsewhere cannot "
            "be vouched for by this workflow (release a new version from it).",
        )
    return ProvenanceInvalidError(
        cause + " What the index serves is not a signature of these files as they are.",
        "do not announce this release: compare the files with the dist dir, report the "
        "provenance to the index's security contact, and yank the files.",
    )


def _say(
    console: Console, results: Mapping[str, FileProvenance], workflow: Workflow | None,
    index_url: str,
) -> None:  # fmt: skip
    verified = [r for r in results.values() if r.status == "verified"]
    none = sorted(n for n, r in results.items() if r.status == NONE_ON_THE_INDEX)
    who = workflow.describe() if workflow else "the trusted publisher the index names"
    if verified:
        console.line(f"provenance: {len(verified)} file(s) verified on the Integrity API of "
                     f"{index_url}: publish attestations signed by {who}")  # fmt: skip
    if none:
        console.line(f"provenance: {len(none)} file(s) with none on the index (uploaded before "
                     "attestations, or with an API token): " + ", ".join(none))  # fmt: skip
