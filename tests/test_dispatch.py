"""A release dispatched by hand or by another workflow (issue 15, item 4).

A tag pushed with GITHUB_TOKEN starts no workflow, so projects whose tags another workflow
makes dispatch the release instead: the run is on a branch (GITHUB_REF is refs/heads/...),
the tag comes from the workflow's ``tag`` input, which every job passes as RELEASE_TAG. The
OIDC token then says ``event_name: workflow_dispatch`` and ``ref: refs/heads/<branch>``; the
emulated PyPI checks what Warehouse checks (the publisher's workflow file at the token's ref,
the environment), so a passing publish here is the one PyPI would accept.
"""

from __future__ import annotations

from conftest import Release, run_release
from emulators.github_oidc import GitHubOIDC
from emulators.pypi import PyPI
from test_publish import FAST, SDIST, WHEEL, publish, refused

from release.config import load_config
from release.workflows.audit import read_workflow
from release.workflows.generate import workflows

BRANCH = "refs/heads/master"


def dispatched(oidc: GitHubOIDC, tag: str) -> dict[str, str]:
    """A job of the release workflow run by ``workflow_dispatch`` on master for ``tag``."""
    oidc.claims.update(
        event_name="workflow_dispatch",
        ref=BRANCH,
        ref_type="branch",
        workflow_ref=f"octo-org/tally/.github/workflows/release.yml@{BRANCH}",
        job_workflow_ref=f"octo-org/tally/.github/workflows/release.yml@{BRANCH}",
    )
    return {**oidc.env(), "RELEASE_TAG": tag}


def validate(release: Release, env: dict[str, str]) -> str:
    proc = run_release("validate", "--project", str(release.project), env=env)
    return proc.stdout + proc.stderr if proc.returncode else ""


def test_a_dispatched_release_validates_and_publishes_with_its_input_tag(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    env = dispatched(oidc, "v1.0")
    assert env["GITHUB_REF"] == BRANCH  # no tag in the ref: the input is the only tag
    assert validate(release, env) == ""
    record = release.record("validate")
    assert record["status"] == "ok"
    assert record["details"]["tag"] == "v1.0"  # judged against the input, not "no tag given"

    proc = publish(release, pypi, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert pypi.files() == {WHEEL: release.sha256(WHEEL), SDIST: release.sha256(SDIST)}
    assert [m["code"] for m in pypi.mint_requests] == ["success"]


def test_a_dispatched_input_that_is_not_the_version_is_refused(
    release: Release, oidc: GitHubOIDC
) -> None:
    proc = run_release(
        "validate", "--project", str(release.project), env={**dispatched(oidc, "v9.9.9"), **FAST}
    )
    refused(proc, 30, "the tag v9.9.9 says 9.9.9", "push the tag v1.0 instead")


def test_a_dispatch_from_another_workflow_file_is_not_the_publisher(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    env = dispatched(oidc, "v1.0")
    # The workflow that made the tag dispatched its own file, not the registered release.yml.
    oidc.claims["job_workflow_ref"] = f"octo-org/tally/.github/workflows/tag.yml@{BRANCH}"
    oidc.claims["workflow_ref"] = oidc.claims["job_workflow_ref"]
    refused(publish(release, pypi, env), 53, "invalid-publisher")


def test_the_release_workflow_passes_the_tag_input_to_every_stage(release: Release) -> None:
    config = load_config(release.project)
    path = next(p for p in workflows(config) if p.name == "release.yml")
    document, problem = read_workflow(path)
    assert problem is None, problem
    triggers = document["on"]
    assert "tag" in triggers["workflow_dispatch"]["inputs"]
    jobs = document["jobs"]
    stages = 0
    # Every step that runs a stage knows the tag; its job checks out the tag, not the branch.
    for name, job in jobs.items():
        steps = job.get("steps", [])
        for step in steps:
            if str(step.get("run", "")).startswith("nox "):
                stages += 1
                assert step.get("env", {}).get("RELEASE_TAG") == "${{ inputs.tag }}", name
                checkout = next(
                    s for s in steps if str(s.get("uses", "")).startswith("actions/checkout")
                )
                assert "inputs.tag" in str(checkout["with"].get("ref", "")), name
    assert stages >= 3  # build, sdist, validate, publish at least
