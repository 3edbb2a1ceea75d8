"""publish as a release job runs it: ``python -m release publish`` against the emulated PyPI
(a real pypiserver behind Warehouse's trusted-publishing and upload rules) and GitHub's
emulated OIDC endpoint, on a real validated release (a wheel and an sdist).

Each diagnostic of the trusted-publishing exchange is provoked and asserted by its message;
re-runs end in the same verified state; the minted token never shows anywhere.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from conftest import PUBLISHER, Release, run_release
from emulators.github_oidc import GitHubOIDC
from emulators.jwt import Signer
from emulators.pypi import PyPI, TrustedPublisher
from packaging.version import Version
from wheel_factory import write_sdist

from release.console import Console
from release.errors import CommandFailedError, VerificationError
from release.publish.index import Listing
from release.publish.plan import (
    CLOSED,
    CONFLICT,
    PRESENT,
    UPLOAD,
    closes_old_releases,
    make_plan,
)
from release.publish.verify import problems, verify
from release.records import Artifact, CommandRun, Finding, StageRecord, write_record

WHEEL = "tiny-1.0-py3-none-any.whl"
SDIST = "tiny-1.0.tar.gz"
# The HTTP layer's waits, short: a retry after 50 ms, a lagging listing polled for 2 s.
FAST = {"NOX_RELEASE_RETRY_BACKOFF": "0.05", "NOX_RELEASE_LISTING_WAIT": "2"}


def publish(
    release: Release, pypi: PyPI, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return run_release(
        "publish", "--project", str(release.project), "--repository", pypi.upload_url, *args,
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", **FAST, **env},
    )  # fmt: skip


def upload_by_hand(pypi: PyPI, path: Path, token: str) -> None:
    """``twine upload`` by someone else (an API token): what the index already has."""
    proc = subprocess.run(
        ["twine", "upload", "--non-interactive", "--repository-url", pypi.upload_url, str(path)],
        env={**os.environ, "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": token},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def in_actions(oidc: GitHubOIDC, **extra: str) -> dict[str, str]:
    return {**oidc.env(), **extra}


def refused(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    # In Actions an error is one annotation, its lines joined with %0A (rendered as newlines).
    output = (proc.stdout + proc.stderr).replace("%0A", "\n").replace("%25", "%")
    assert proc.returncode == code, output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in output, output
    return output


# --- the happy path, and re-runs ------------------------------------------------------------


def test_trusted_publishing_uploads_and_verifies(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert pypi.files() == {WHEEL: release.sha256(WHEEL), SDIST: release.sha256(SDIST)}
    # Wheels first, the sdist last.
    assert [name for name, status in pypi.uploads] == [WHEEL, SDIST]
    record = release.record()
    assert record["status"] == "ok"
    assert record["details"]["files"] == {WHEEL: "uploaded", SDIST: "uploaded"}
    assert record["details"]["credentials"] == "trusted publishing (GitHub Actions)"
    assert record["details"]["verified"] is True
    assert record["details"]["index_url"] == pypi.index_url
    assert [m["code"] for m in pypi.mint_requests] == ["success"]
    # The plan is printed before anything is uploaded.
    assert proc.stdout.index("plan against") < proc.stdout.index("uploading 2 file(s)")


def test_a_rerun_with_everything_present_uploads_nothing(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    assert publish(release, pypi, in_actions(oidc)).returncode == 0
    uploads, queries, mints = len(pypi.uploads), pypi.index_queries, len(pypi.mint_requests)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert len(pypi.uploads) == uploads  # nothing posted
    assert len(pypi.mint_requests) == mints  # no credentials needed for nothing
    assert pypi.index_queries == queries + 1  # one query: the plan, which also verifies
    assert release.record()["details"]["files"] == {
        WHEEL: "already present",
        SDIST: "already present",
    }


def test_only_the_missing_file_is_uploaded(release: Release, oidc: GitHubOIDC, pypi: PyPI) -> None:
    token = "pypi-an-api-token-of-the-project"
    pypi.api_tokens.add(token)
    upload_by_hand(pypi, release.dist / WHEEL, token)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert [name for name, _ in pypi.uploads] == [WHEEL, SDIST]  # the wheel once, by us before
    assert release.record()["details"]["files"] == {WHEEL: "already present", SDIST: "uploaded"}


def wheel_with_other_content(release: Release) -> Path:
    """A wheel of the validated wheel's name whose bytes differ (a comment in each module)."""
    other = release.dist.parent / "other" / WHEEL
    other.parent.mkdir()
    with zipfile.ZipFile(release.dist / WHEEL) as src, zipfile.ZipFile(other, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info) + (b"#" if info.filename.endswith(".py") else b""))
    return other


def test_a_conflicting_file_stops_everything(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    token = "pypi-another-token"
    pypi.api_tokens.add(token)
    other = wheel_with_other_content(release)
    upload_by_hand(pypi, other, token)
    proc = publish(release, pypi, in_actions(oidc))
    output = refused(
        proc,
        51,
        f"{WHEEL}: the index has other content",
        "Nothing was uploaded",
        "bump the version",
    )
    assert SDIST not in pypi.files()
    assert [name for name, _ in pypi.uploads] == [WHEEL]  # only the other one, before us
    assert "conflict" in output


def test_a_conflict_on_a_rerun_attempt_says_what_most_likely_happened(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    """Attempt 1 published; "Re-run all jobs" rebuilt the files, which differ in bytes."""
    assert publish(release, pypi, in_actions(oidc)).returncode == 0
    with zipfile.ZipFile(release.dist / WHEEL, "a") as archive:
        archive.comment = b"rebuilt"  # the same wheel, other bytes
    validated = release.dist / ".release" / "validate.json"
    record = json.loads(validated.read_text())
    for artifact in record["artifacts"]:
        if artifact["name"] == WHEEL:
            artifact.update(
                sha256=release.sha256(WHEEL), size=(release.dist / WHEEL).stat().st_size
            )
    validated.write_text(json.dumps(record))
    output = refused(
        publish(release, pypi, in_actions(oidc, GITHUB_RUN_ATTEMPT="2")), 51,
        f"{WHEEL}: the index has other content", "This is attempt 2 of the workflow run",
        "rebuilt them (Re-run all jobs)", "differ in bytes", "re-run only the failed jobs",
    )  # fmt: skip
    assert "bump the version and build again" not in output
    # On a first attempt the conflict is told as before.
    output = refused(publish(release, pypi, in_actions(oidc, GITHUB_RUN_ATTEMPT="1")), 51)
    assert "Re-run" not in output and "bump the version and build again" in output


def test_the_plan_reads_an_html_only_index(release: Release, oidc: GitHubOIDC, pypi: PyPI) -> None:
    pypi.json_api = False
    assert publish(release, pypi, in_actions(oidc)).returncode == 0
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert "(html)" in proc.stdout
    assert release.record()["details"]["files"] == {
        WHEEL: "already present",
        SDIST: "already present",
    }


def test_a_second_sdist_for_the_version_is_a_conflict() -> None:
    artifacts = [Artifact(WHEEL, 10, "aa"), Artifact(SDIST, 10, "bb")]
    listing = Listing("u", {"tiny-1.0.zip": "cc"}, "json")
    plan = {s.artifact.name: (s.action, s.why) for s in make_plan(artifacts, listing)}
    assert plan[WHEEL] == (UPLOAD, "")
    assert plan[SDIST][0] == CONFLICT and "already has an sdist, tiny-1.0.zip" in plan[SDIST][1]
    listing = Listing("u", {SDIST: "bb", "tiny-0.9.tar.gz": "dd"}, "html")
    assert [s.action for s in make_plan(artifacts, listing)] == [UPLOAD, PRESENT]
    assert Version("1.0") == Version("1.0.0")  # the plan compares versions as PEP 440 does
    listing = Listing("u", {"tiny-1.0.0.tar.gz": "ee"}, "json")
    assert make_plan(artifacts, listing)[1].action == CONFLICT


def test_a_file_listed_without_a_hash_is_a_conflict_not_a_crash() -> None:
    artifacts = [Artifact(WHEEL, 10, "aa"), Artifact(SDIST, 10, "bb")]
    listing = Listing("u", {WHEEL: None}, "html")  # a PEP 503 link without #sha256=
    (wheel, sdist) = make_plan(artifacts, listing)
    assert (wheel.action, sdist.action) == (CONFLICT, UPLOAD)
    assert "without a sha256" in wheel.why


def test_the_plan_knows_a_release_older_than_14_days_takes_no_new_file() -> None:
    now = datetime.datetime(2026, 12, 5, tzinfo=datetime.timezone.utc)
    artifacts = [Artifact(WHEEL, 10, "aa"), Artifact(SDIST, 10, "bb")]
    times = {WHEEL: now - datetime.timedelta(days=15), "tiny-0.9.tar.gz": now}
    listing = Listing("u", {WHEEL: "aa", "tiny-0.9.tar.gz": "cc"}, "json", times)
    plan = {s.artifact.name: (s.action, s.why) for s in make_plan(artifacts, listing, now)}
    assert plan == {WHEEL: (PRESENT, "same sha256"),
                    SDIST: (CLOSED, "the release is 15 days old on the index")}  # fmt: skip
    # 13 days: still open. Another version's times do not count.
    times[WHEEL] = now - datetime.timedelta(days=13)
    assert [s.action for s in make_plan(artifacts, listing, now)] == [PRESENT, UPLOAD]
    listing = Listing(
        "u", {"tiny-0.9.tar.gz": "cc"}, "json", {"tiny-0.9.tar.gz": now.replace(year=2020)}
    )
    assert [s.action for s in make_plan(artifacts, listing, now)] == [UPLOAD, UPLOAD]


def test_the_14_day_rule_is_warehouses_alone() -> None:
    """PyPI's rule, not every index's: a devpi or Artifactory that gives upload times takes
    new files for an old release, and "PyPI takes no new files" would be false there."""
    now = datetime.datetime(2026, 12, 5, tzinfo=datetime.timezone.utc)
    artifacts = [Artifact(WHEEL, 10, "aa"), Artifact(SDIST, 10, "bb")]
    listing = Listing("u", {WHEEL: "aa"}, "json", {WHEEL: now - datetime.timedelta(days=40)})
    assert [s.action for s in make_plan(artifacts, listing, now)] == [PRESENT, CLOSED]
    assert [s.action for s in make_plan(artifacts, listing, now, closes_old=False)] == [
        PRESENT, UPLOAD
    ]  # fmt: skip
    warehouse = ["https://upload.pypi.org/legacy/", "https://test.pypi.org/legacy/",
                 "http://127.0.0.1:8080/legacy/"]  # fmt: skip
    others = ["https://devpi.example.org/alice/prod/", "http://127.0.0.1:8080/",
              "https://acme.jfrog.io/artifactory/api/pypi/pypi-local",
              "https://gitlab.example.com/api/v4/projects/7/packages/pypi"]  # fmt: skip
    assert [closes_old_releases(url) for url in warehouse] == [True] * 3
    assert [closes_old_releases(url) for url in others] == [False] * 4


def test_files_for_a_release_older_than_14_days_are_refused_before_any_upload(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, tmp_path: Path
) -> None:
    token = "pypi-token-of-an-old-release"
    pypi.api_tokens.add(token)
    upload_by_hand(pypi, release.dist / WHEEL, token)
    pypi.age_release("1.0", days=20)
    # The emulated index enforces the rule, as PyPI does since July 2026.
    proc = subprocess.run(
        ["twine", "upload", "--non-interactive", "--repository-url", pypi.upload_url,
         str(release.dist / SDIST)],
        env={**os.environ, "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": token},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode != 0 and "older than 14 days" in proc.stdout + proc.stderr
    before = list(pypi.uploads)
    output = refused(
        publish(release, pypi, in_actions(oidc)), 51,
        "has had tiny 1.0 for 20 days", "PyPI takes no new files for a release older than 14 days",
        f"{SDIST} cannot be added", "Nothing was uploaded", "release a new version",
    )  # fmt: skip
    assert "closed" in output
    assert pypi.uploads == before and pypi.mint_requests == []  # refused before anything
    assert SDIST not in pypi.files()


def test_an_old_release_with_every_file_there_is_fine(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    assert publish(release, pypi, in_actions(oidc)).returncode == 0
    pypi.age_release("1.0", days=30)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert "nothing to upload" in proc.stdout


# --- faults on the way ------------------------------------------------------------------------


def test_an_answer_lost_after_the_file_landed_is_not_uploaded_twice(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.drop_after_store(1)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert "but it is on the index: landed" in proc.stdout
    assert [name for name, _ in pypi.uploads] == [WHEEL, SDIST]  # no duplicate POST
    assert pypi.files() == {WHEEL: release.sha256(WHEEL), SDIST: release.sha256(SDIST)}


def test_a_dropped_connection_and_5xx_are_retried(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.drop_before_store(1)
    pypi.fail_uploads(1, status=503)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert "connection error" in proc.stdout and "503" in proc.stdout
    assert [status for _, status in pypi.uploads] == [503, 0, 200, 200]
    assert release.record()["details"]["attempts"] == 4


def test_a_rerun_after_a_partial_failure_completes(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    # The wheel lands; the sdist is refused for a reason a retry cannot change.
    original = pypi._upload

    def refuse_sdist(handler: object) -> None:
        if len(pypi.uploads) == 1:
            pypi.fail_uploads(1, status=400)
        original(handler)

    pypi._upload = refuse_sdist  # type: ignore[method-assign]
    proc_ok_then_refused = publish(release, pypi, in_actions(oidc))
    refused(proc_ok_then_refused, 55, f"the index refused {SDIST}")
    assert release.record()["details"]["files"] == {WHEEL: "uploaded", SDIST: "not uploaded"}
    pypi._upload = original  # type: ignore[method-assign]
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert release.record()["details"]["files"] == {WHEEL: "already present", SDIST: "uploaded"}
    assert pypi.files() == {WHEEL: release.sha256(WHEEL), SDIST: release.sha256(SDIST)}


def test_a_token_near_its_expiry_is_minted_again(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.token_lifetime = 200  # fewer than 5 minutes from the start
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert [m["code"] for m in pypi.mint_requests] == ["success", "success"]
    jtis = {m["claims"]["jti"] for m in pypi.mint_requests}
    assert len(jtis) == 2  # each mint with a fresh OIDC token
    assert release.record()["details"]["mints"] == 2


def test_a_reused_oidc_token_is_answered_once_with_a_fresh_one(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.token_lifetime = 200  # two mints: the second first gets the first's token again
    oidc.replay(1)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert [m["code"] for m in pypi.mint_requests] == ["success", "invalid-reuse-token", "success"]


# --- diagnostics ------------------------------------------------------------------------------


def test_actions_without_id_token_permission(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    env = in_actions(oidc, ACTIONS_ID_TOKEN_REQUEST_URL="", ACTIONS_ID_TOKEN_REQUEST_TOKEN="")
    output = refused(publish(release, pypi, env), 52, "lacks the id-token: write permission")
    assert "permissions:\n      id-token: write" in output
    assert "environment: pypi" in output
    assert pypi.uploads == []


def test_a_pull_request_from_a_fork(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, tmp_path: Path
) -> None:
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {"pull_request": {"head": {"repo": {"fork": True, "full_name": "someone/tally"}}}}
        )
    )
    env = in_actions(
        oidc, ACTIONS_ID_TOKEN_REQUEST_URL="", ACTIONS_ID_TOKEN_REQUEST_TOKEN="",
        GITHUB_EVENT_NAME="pull_request", GITHUB_EVENT_PATH=str(event),
    )  # fmt: skip
    refused(publish(release, pypi, env), 52, "pull request from a fork", "tag push in the upstream")


def test_pull_request_target_is_refused_before_minting(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    oidc.claims["event_name"] = "pull_request_target"
    refused(
        publish(release, pypi, in_actions(oidc)), 52, "pull_request_target event", "PyPI refuses"
    )
    assert pypi.mint_requests == []


def test_invalid_publisher_shows_the_claims_beside_what_pypi_must_say(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.publishers = [TrustedPublisher("octo-org/tally", "1234567", "publish.yml", "pypi")]
    # The workflow was renamed: the token says release.yml, the config says publish.yml too.
    pyproject = release.project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('workflow = "release.yml"', 'workflow = "publish.yml"')
    )
    output = refused(publish(release, pypi, in_actions(oidc)), 53, "invalid-publisher",
                     "Publisher with matching claims was not found")  # fmt: skip
    (row,) = [line for line in output.splitlines() if "workflow file" in line]
    assert "release.yml" in row and "publish.yml" in row and "<- differs" in row
    # The columns say what each is: the token's claims, and the configuration.
    (header,) = [line for line in output.splitlines()
                 if line.strip().startswith("the OIDC token's claims")]  # fmt: skip
    assert header.index("the OIDC token's claims") < header.index("[tool.release.publish]")
    assert row.index("release.yml") < row.index("publish.yml")
    # Nothing is said to be uploading when no token could be had.
    assert "uploading" not in output
    assert [line for line in output.splitlines() if line.strip().startswith("environment")]
    assert "<- differs" not in next(line for line in output.splitlines() if "repository  " in line)


def test_invalid_publisher_when_the_token_matches_the_config(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.publishers = [TrustedPublisher("octo-org/tally", "1234567", "release.yml", "release")]
    output = refused(publish(release, pypi, in_actions(oidc)), 53, "invalid-publisher")
    assert "the token matches [tool.release.publish]" in output
    assert "<- differs" not in output


def test_a_reusable_workflow_is_named(release: Release, oidc: GitHubOIDC, pypi: PyPI) -> None:
    oidc.claims["job_workflow_ref"] = "octo-org/shared/.github/workflows/pypi.yml@refs/heads/main"
    output = refused(publish(release, pypi, in_actions(oidc)), 53, "invalid-publisher")
    assert "reusable workflow (pypi.yml, called from release.yml)" in output


@pytest.mark.parametrize(
    ("setup", "code", "needles"),
    [
        ("not-enabled", 53, ("(not-enabled)", "PYPI_API_TOKEN")),
        ("expired", 53, ("(invalid-token)", "the OIDC token had expired (its exp is", "s ago")),
        # An exp no date can show (far before year 1): that was exit 70 in the message.
        ("expired-aeons-ago", 53, ("(invalid-token)", "the OIDC token had expired (its exp",
                                   "s ago")),
        ("unknown-key", 53, ("(invalid-token)",)),
        ("outage", 54, ("outage, this is not a refusal",)),
        ("no-trusted-publishing", 52, ("does not do trusted publishing", "PYPI_API_TOKEN")),
        ("unknown-issuer", 53, ("(invalid-payload)", "unknown trusted publishing issuer")),
    ],
)  # fmt: skip
def test_each_refusal_of_the_exchange_has_its_own_message(
    release: Release,
    oidc: GitHubOIDC,
    pypi: PyPI,
    *,
    setup: str,
    code: int,
    needles: tuple[str, ...],
) -> None:
    if setup == "not-enabled":
        pypi.enabled = False
    elif setup == "expired":
        oidc.lifetime = -120
    elif setup == "expired-aeons-ago":
        oidc.lifetime = -(10**20)
    elif setup == "unknown-key":
        pypi.issuer_jwks = Signer().jwks()  # GitHub rotated to a key PyPI does not know
    elif setup == "outage":
        pypi.outage = True
    elif setup == "unknown-issuer":
        oidc.claims["iss"] = "https://token.example.org"
    else:
        pypi.audience_status = 404
    refused(publish(release, pypi, in_actions(oidc)), code, *needles)
    assert pypi.uploads == []


def test_a_pending_publisher_for_an_existing_project(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    """The project was created with an API token; the pending publisher registered for it
    before that cannot be used any more."""
    token = "pypi-existing-owner"
    pypi.api_tokens.add(token)
    pypi.publishers = []
    pypi.pending_publishers = [("tiny", PUBLISHER)]
    upload_by_hand(pypi, release.dist / WHEEL, token)
    output = refused(publish(release, pypi, in_actions(oidc)), 53, "(invalid-pending-publisher)")
    assert "add the trusted publisher to the existing project" in output
    assert SDIST not in pypi.files()


def test_a_pending_publisher_under_another_name_is_said_once_and_whole(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    """The pending publisher was registered as "tiny-lib"; the files are "tiny". The mint
    succeeds (and makes "tiny-lib"), then PyPI refuses to create "tiny"."""
    pypi.publishers = []
    pypi.pending_publishers = [("tiny-lib", PUBLISHER)]
    output = refused(
        publish(release, pypi, in_actions(oidc)), 52,
        "registered under another project name than 'tiny'",
        "register a pending publisher for the project name 'tiny'",
    )  # fmt: skip
    troubleshooting = "https://docs.pypi.org/trusted-publishers/troubleshooting/"
    assert output.count("Non-user identities cannot create new projects") == 1
    assert output.count(troubleshooting) == 1  # whole, not cut mid-URL
    assert output.count("pending publisher was registered under another project name") == 1
    assert "fix the file" not in output
    assert pypi.files() == {}


def test_an_api_token_outside_ci_with_a_note(release: Release, pypi: PyPI) -> None:
    token = "pypi-plain-api-token-value"
    pypi.api_tokens.add(token)
    proc = publish(release, pypi, {"PYPI_API_TOKEN": token})
    assert proc.returncode == 0, proc.stdout
    assert "credentials: API token from $PYPI_API_TOKEN" in proc.stdout
    assert "trusted publishing needs no secret" in proc.stdout
    assert token not in proc.stdout + proc.stderr
    assert token not in json.dumps(release.record())


def test_no_credentials_at_all(release: Release, pypi: PyPI) -> None:
    refused(publish(release, pypi, {"PYPI_API_TOKEN": "", "TWINE_PASSWORD": ""}), 52,
            "no credentials to upload with", "PYPI_API_TOKEN")  # fmt: skip


# --- what may be published ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ("no-record", "there is no validate record"),
        ("failed", "validate did not pass"),
        ("changed", f"{WHEEL} changed since validate"),
        ("added", "tiny-1.0-py2-none-any.whl is in"),
        ("removed", f"{SDIST} is listed by validate but not in"),
        ("incomplete", "validate passed without 1 expected wheel(s)"),
    ],
)
def test_publish_refuses_what_validate_did_not_pass(
    release: Release, pypi: PyPI, change: str, needle: str
) -> None:
    token = "pypi-token-for-refusals"
    pypi.api_tokens.add(token)
    record_path = release.dist / ".release" / "validate.json"
    record = json.loads(record_path.read_text())
    if change == "no-record":
        record_path.unlink()
    elif change == "failed":
        record["status"] = "failed"
    elif change == "changed":
        with zipfile.ZipFile(release.dist / WHEEL, "a") as archive:
            archive.writestr("tiny/extra.py", "")
    elif change == "added":
        shutil.copy2(release.dist / WHEEL, release.dist / "tiny-1.0-py2-none-any.whl")
    elif change == "removed":
        (release.dist / SDIST).unlink()
    else:
        note = "the windows wheel x was not built here (build-windows was skipped)"
        record["findings"].append(
            {"level": "info", "check": "wheel-set", "file": None, "message": note}
        )
    if change in ("failed", "incomplete"):
        record_path.write_text(json.dumps(record))
    refused(publish(release, pypi, {"PYPI_API_TOKEN": token}), 50, needle)
    assert pypi.uploads == []


# --- the token never shows ----------------------------------------------------------------------


def test_the_minted_token_appears_nowhere(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    pypi.fail_uploads(1, status=503)  # an error path too
    proc = publish(release, pypi, in_actions(oidc, GITHUB_STEP_SUMMARY=str(summary)))
    assert proc.returncode == 0, proc.stdout
    secrets = [*pypi.minted, *oidc.issued]
    assert secrets and len(pypi.minted) == 1
    (minted,) = pypi.minted
    # The runner is asked to mask it before anything else can print it.
    assert f"::add-mask::{minted}" in proc.stdout
    shown = proc.stdout.replace(f"::add-mask::{minted}", "")
    for jwt in oidc.issued:
        shown = shown.replace(f"::add-mask::{jwt}", "")
    files = [p.read_text(errors="replace") for p in release.dist.rglob("*.json")]
    for secret in secrets:
        assert secret not in shown + proc.stderr
        assert secret not in summary.read_text()
        assert all(secret not in text for text in files)
    commands = release.record()["commands"]
    assert all(secret not in json.dumps(commands) for secret in secrets)


def test_the_token_stays_out_of_an_error_message(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.fail_uploads(10, status=403)  # the index refuses the (valid) token
    proc = publish(release, pypi, in_actions(oidc))
    output = refused(proc, 52, "the index refused the upload token")
    record = json.dumps(release.record())
    for secret in (*pypi.minted, *oidc.issued):
        assert secret not in output.replace(f"::add-mask::{secret}", "")
        assert secret not in record


@pytest.mark.parametrize("credentials", ["trusted publishing", "API token"])
def test_a_token_the_index_quotes_back_is_in_no_record(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, credentials: str
) -> None:
    """The index refuses the upload and quotes the token in its reason: the console masks
    it, and so must every file written, error.cause included."""
    api_token = "pypi-api-token-quoted-back"
    pypi.api_tokens.add(api_token)
    env = in_actions(oidc) if credentials == "trusted publishing" else {"PYPI_API_TOKEN": api_token}
    pypi.echo_token(1)
    proc = publish(release, pypi, env)
    output = refused(proc, 52, "Invalid API Token: '***'")
    secrets = [*pypi.minted, *oidc.issued] if credentials == "trusted publishing" else [api_token]
    assert secrets
    written = {p: p.read_text() for p in release.dist.rglob("*.json")}
    assert "Invalid API Token: '***'" in release.record()["error"]["cause"]
    for secret in secrets:
        assert secret not in output.replace(f"::add-mask::{secret}", "")
        for path, text in written.items():
            assert secret not in text, path


def test_every_field_of_a_written_record_is_masked(tmp_path: Path) -> None:
    """One place masks what is written: cause, remedy, tail, details, findings, commands."""
    secret = "pypi-AgEIcHlwaS5vcmc-a-secret"
    console = Console(stream=io.StringIO(), github=False)
    console.register_secret(secret)
    error = CommandFailedError(
        f"twine said {secret}", f"revoke {secret}", ["twine", secret], 1, [f"tail {secret}"]
    )
    record = StageRecord(
        stage="publish", status="failed", reason=f"why {secret}", error=error.as_dict(),
        details={"said": [f"detail {secret}"], secret: "as a key"},
        findings=[Finding("error", "x", f"{secret}.whl", f"found {secret}", f"do {secret}")],
        commands=[CommandRun(("twine", secret), str(tmp_path), 1, 0.1)],
    )  # fmt: skip
    path = write_record(tmp_path, record, redact=console.redact)
    text = path.read_text()
    assert secret not in text
    assert text.count("***") == 11


# --- the dry run ---------------------------------------------------------------------------


def test_a_dry_run_uploads_nothing_to_the_configured_index(release: Release, pypi: PyPI) -> None:
    proc = publish(release, pypi, {}, "--dry-run")
    assert proc.returncode == 0, proc.stdout
    assert pypi.uploads == [] and pypi.mint_requests == []
    assert pypi.index_queries == 1  # the plan against it
    details = release.record()["details"]
    assert details["plan"] == {WHEEL: "upload", SDIST: "upload"}
    rehearsal = details["rehearsal"]
    assert sorted(rehearsal["uploaded"]) == [WHEEL, SDIST]
    assert rehearsal["installed"] == WHEEL and rehearsal["imported"] == ["tiny"]


def test_a_dry_run_against_an_unreachable_index_says_so(release: Release) -> None:
    proc = run_release("publish", "--project", str(release.project), "--dry-run",
                       "--repository", "http://127.0.0.1:9/legacy/", env=FAST)  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    assert "no plan against http://127.0.0.1:9/simple/" in proc.stdout
    assert "cannot say what the real upload would find there" in proc.stdout
    assert release.record()["details"]["rehearsal"]["imported"] == ["tiny"]


def test_a_dry_run_fails_on_a_conflict_as_the_real_one_would(
    release: Release, pypi: PyPI, tmp_path: Path
) -> None:
    token = "pypi-dry-conflict"
    pypi.api_tokens.add(token)
    (tmp_path / "other").mkdir()
    other = write_sdist(tmp_path / "other", "tiny", "1.0")  # same name, other content
    upload_by_hand(pypi, other, token)
    refused(publish(release, pypi, {}, "--dry-run"), 51, f"{SDIST}: the index has other content")
    assert pypi.files()[SDIST] != release.sha256(SDIST)


# --- the HTTP layer: stalls, lagging listings, 409s, pages instead of answers --------------


def test_a_stalled_upload_that_landed_is_asked_about_not_waited_for(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.stall_uploads(1, seconds=60, store=True)  # stored, then no answer for a minute
    env = in_actions(oidc, NOX_RELEASE_UPLOAD_TIMEOUT="1")
    started = time.monotonic()
    proc = publish(release, pypi, env)
    assert proc.returncode == 0, proc.stdout
    assert time.monotonic() - started < 30  # not the stall's 60 s
    assert "no answer within 1s (a stalled upload), but it is on the index: landed" in proc.stdout
    assert [name for name, _ in pypi.uploads] == [WHEEL, SDIST]  # no second POST of the wheel
    assert release.record()["details"]["files"] == {WHEEL: "uploaded", SDIST: "uploaded"}


def test_a_stalled_upload_that_did_not_land_is_sent_again(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.stall_uploads(1, seconds=60, store=False)
    started = time.monotonic()
    proc = publish(release, pypi, in_actions(oidc, NOX_RELEASE_UPLOAD_TIMEOUT="1"))
    assert proc.returncode == 0, proc.stdout
    assert time.monotonic() - started < 30  # not the stall's 60 s
    assert [status for _, status in pypi.uploads] == [0, 200, 200]
    assert pypi.files() == {WHEEL: release.sha256(WHEEL), SDIST: release.sha256(SDIST)}


@pytest.mark.parametrize("existing_status", [409, 400])
def test_already_exists_after_a_lost_answer_is_checked_on_a_lagging_listing(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, existing_status: int
) -> None:
    """The first POST lands but its answer is lost; the listing does not show it for a
    second; the retry is answered 409 (pypiserver, devpi) or 400 "already exists". The file
    is there with our sha256: landed, not refused (55) nor "other content" (51)."""
    pypi.existing_status = existing_status
    pypi.listing_lag = 1.0
    pypi.drop_after_store(1)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert [status for _, status in pypi.uploads][:2] == [0, existing_status]
    assert "and the index lists it with the same sha256: landed" in proc.stdout
    assert release.record()["details"]["files"] == {WHEEL: "uploaded", SDIST: "uploaded"}


def test_already_exists_with_other_content_is_still_a_conflict(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    # Someone else's wheel of the same name lands between the plan and the upload.
    token = "pypi-a-racing-token"
    pypi.api_tokens.add(token)
    other = wheel_with_other_content(release)
    original = pypi._upload
    raced: list[bool] = []

    def race(handler: object) -> None:
        if not raced:  # our first POST: theirs lands first (their own POST passes here too)
            raced.append(True)
            upload_by_hand(pypi, other, token)
        original(handler)

    pypi._upload = race  # type: ignore[method-assign]
    refused(publish(release, pypi, in_actions(oidc)), 51, "already there with other content")


def test_verification_waits_for_a_lagging_listing(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.listing_lag = 1.0  # new files show a second after they land
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert release.record()["details"]["verified"] is True
    assert pypi.index_queries >= 3  # the plan, then the listing asked again while it lagged


def test_a_200_html_page_is_not_an_upload(release: Release, oidc: GitHubOIDC, pypi: PyPI) -> None:
    pypi.html_ok_uploads(1)  # a proxy's sign-in page, and nothing stored
    output = refused(publish(release, pypi, in_actions(oidc)), 55,
                     "answered the upload of tiny-1.0-py3-none-any.whl with 200 and an HTML page",
                     "the index does not list the file")  # fmt: skip
    assert "uploaded in" not in output
    assert release.record()["details"]["files"] == {WHEEL: "not uploaded", SDIST: "not uploaded"}


def test_a_429_is_retried_after_its_retry_after(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.fail_uploads(1, status=429, retry_after=1)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert "429 Service Unavailable; trying again in 1s" in proc.stdout
    assert [status for _, status in pypi.uploads] == [429, 200, 200]


def test_uploads_stop_after_five_attempts(release: Release, oidc: GitHubOIDC, pypi: PyPI) -> None:
    pypi.fail_uploads(8, status=503)  # an outage longer than the attempts
    refused(publish(release, pypi, in_actions(oidc)), 55,
            f"the upload of {WHEEL} to {pypi.upload_url} still fails after 5 attempts",
            "2 file(s) are not on the index")  # fmt: skip
    assert [status for _, status in pypi.uploads] == [503] * 5
    assert release.record()["details"]["attempts"] == 5


def test_an_index_outage_that_passes_is_waited_out(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.fail_index_queries(2, status=503)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert pypi.index_queries == 2 + 2  # the plan's after two outage pages, the verification
    assert "gave HTTP 503 Service Unavailable; trying again in 0s" in proc.stdout


def test_a_mint_outage_that_passes_is_retried_with_fresh_oidc_tokens(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.fail_mints(2, status=503)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert [m["code"] for m in pypi.mint_requests] == ["outage", "outage", "success"]
    assert len({m["claims"]["jti"] for m in pypi.mint_requests}) == 3  # a fresh JWT each try
    assert release.record()["details"]["mints"] == 3


@pytest.mark.parametrize("html", [False, True])
def test_an_id_token_endpoint_outage_that_passes_is_retried(
    release: Release, oidc: GitHubOIDC, pypi: PyPI, html: bool
) -> None:
    oidc.fail_requests(2, status=503, html=html)
    proc = publish(release, pypi, in_actions(oidc))
    assert proc.returncode == 0, proc.stdout
    assert [m["code"] for m in pypi.mint_requests] == ["success"]


def test_an_id_token_endpoint_down_for_good_is_an_outage_not_a_refusal(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    oidc.fail_requests(10, status=502, html=True)
    env = in_actions(oidc, NOX_RELEASE_RETRY_BACKOFF="0.01")  # ten tries: 2.5 s of waits
    output = refused(publish(release, pypi, env), 61,
                     "GitHub's OIDC token endpoint", "after 10 tries",
                     "an outage of GitHub, not a refusal", "githubstatus.com")  # fmt: skip
    assert "HTML page ('Unicorn! &middot; GitHub')" in output
    assert pypi.uploads == [] and pypi.mint_requests == []


def test_verify_names_a_file_listed_with_another_sha256() -> None:
    listing = Listing("u", {WHEEL: "aa" * 32, SDIST: "bb" * 32}, "json")
    assert problems(listing, {WHEEL: "aa" * 32, SDIST: "bb" * 32}) == []
    assert problems(listing, {WHEEL: "aa" * 32, SDIST: "cc" * 32}) == [
        f"{SDIST} is on the index with sha256 {'bb' * 32}, not {'cc' * 32}"
    ]
    with pytest.raises(VerificationError, match=f"{SDIST} is on the index with sha256"):
        verify(listing, {WHEEL: "aa" * 32, SDIST: "cc" * 32}, "the index")


def test_a_mint_outage_that_persists_is_told_apart_from_a_refusal(
    release: Release, oidc: GitHubOIDC, pypi: PyPI
) -> None:
    pypi.outage = True  # every mint: 503 with the CDN's HTML page
    refused(publish(release, pypi, in_actions(oidc)), 54, "outage, this is not a refusal")
    assert [m["status"] for m in pypi.mint_requests] == [503] * 5  # the layer's five tries
    assert len({m["claims"]["jti"] for m in pypi.mint_requests}) == 5
    assert pypi.uploads == []
