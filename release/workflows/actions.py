"""The actions a generated workflow uses, each pinned to a full commit SHA, and the nox it
installs. A tag built today and rebuilt next month runs the same code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    repository: str
    sha: str
    version: str

    @property
    def uses(self) -> str:
        return f"{self.repository}@{self.sha} # {self.version}"


CHECKOUT = Action("actions/checkout", "08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0")
SETUP_PYTHON = Action("actions/setup-python", "e797f83bcb11b83ae66e0230d6156d7c80228e7c", "v6.0.0")
UPLOAD_ARTIFACT = Action(
    "actions/upload-artifact", "ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"
)
DOWNLOAD_ARTIFACT = Action(
    "actions/download-artifact", "d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"
)
# The only actions a thin job uses; anything else is logic that belongs in a nox session.
ALLOWED = (CHECKOUT, SETUP_PYTHON, UPLOAD_ARTIFACT, DOWNLOAD_ARTIFACT)

NOX_VERSION = "2026.10.20"
PYTHON_VERSION = "3.12"
# uv beside nox: nox's "uv|virtualenv" backend finds it, and the sessions' installs are fast.
UV_VERSION = "0.13.9"
INSTALL_NOX = f"python -m pip install nox=={NOX_VERSION} uv=={UV_VERSION}"

# The publish job's: it publishes (trusted publishing), then runs provenance (signs with
# Sigstore, stores the attestation); contents: read to check out a private repository.
PUBLISH_JOB_PERMISSIONS = {"contents": "read", "id-token": "write", "attestations": "write"}

# What each permission a generated job holds is for, said beside it in the YAML shown when
# a job lacks one (check's findings, the runtime error when GitHub gave no OIDC token).
PERMISSION_WHY = {
    "id-token": "the OIDC token: trusted publishing, the Sigstore signing identity",
    "attestations": "storing the build provenance attestation",
    "contents": "the release and its assets",
}


def permissions_yaml(job: str, permissions: dict[str, str], environment: str | None = None) -> str:
    """The job-level ``permissions:`` block a job needs, as YAML to paste into the workflow:
    on that job only, never at the top, where every job would get it."""
    lines = ["jobs:", f"  {job}:"]
    if environment:
        lines.append(f"    environment: {environment}")
    lines.append("    permissions:")
    width = max(len(f"{key}: {value}") for key, value in permissions.items())
    for key, value in permissions.items():
        entry = f"{key}: {value}"
        why = PERMISSION_WHY.get(key) if value == "write" else None
        lines.append(f"      {entry.ljust(width)}   # {why}" if why else f"      {entry}")
    lines.append("    steps: ...")
    return "\n".join(lines)
