"""github-release against the emulated GitHub REST API (tests/emulators/github_api.py), run
as a user runs it: ``python -m release github-release`` in a child process, with the
variables a GitHub Actions job has.

The release is created as a draft, gets every validated file and SHA256SUMS, then is
published; a re-run changes nothing; a draft a failed run left is reused; other content
under a validated file's name is refused before anything is uploaded; rate limits, outages
and an upload that left an unfinished asset are ridden out; the token is never printed.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import Release, run_release, validated_tiny_project
from emulators.github_api import GitHubAPI
from emulators.jwt import Signer
from emulators.pypi import PyPI
from test_github_api_emulator import create, upload

from release.errors import (
    CredentialsError,
    GitHubError,
    IndexUnavailableError,
    ReleaseAssetConflictError,
    TagError,
)
from release.publish.index import JSON_TYPE as SIMPLE_JSON

REPO = "octo-org/tally"  # the emulator helpers' repository
TAG = "v1.0"
WHEEL = "tiny-1.0-py3-none-any.whl"
SDIST = "tiny-1.0.tar.gz"
SUMS = "SHA256SUMS"
FAST = {"NOX_RELEASE_RETRY_BACKOFF": "0.05"}  # the HTTP layer's backoff, short


@pytest.fixture
def github() -> Iterator[GitHubAPI]:
    with GitHubAPI(REPO) as server:
        yield server
        assert not server.errors


INDEX_TOKEN = "pypi-token-of-the-index-of-these-tests"


def upload_to(index: PyPI, *paths: Path) -> None:
    """What publish did before github-release: the files on the index."""
    proc = subprocess.run(
        ["twine", "upload", "--non-interactive", "--repository-url", index.upload_url,
         *map(str, paths)],
        env={**os.environ, "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": INDEX_TOKEN},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def point_at_again(project: Path, index_url: str) -> None:
    pyproject = project / "pyproject.toml"
    lines = pyproject.read_text().splitlines(keepends=True)
    pyproject.write_text("".join(line for line in lines if not line.startswith("index-url")))
    point_at(project, index_url)


def point_at(project: Path, index_url: str) -> None:
    """[tool.release.publish] index-url: the index github-release compares with."""
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        text.replace(
            'workflow = "release.yml"\n', f'workflow = "release.yml"\nindex-url = "{index_url}"\n'
        )
    )


@pytest.fixture(scope="module")
def index(validated: Release, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PyPI]:
    """The index after publish: it holds the validated files of tiny 1.0."""
    with PyPI(Signer(), packages=tmp_path_factory.mktemp("index")) as server:
        server.api_tokens.add(INDEX_TOKEN)
        upload_to(server, validated.dist / WHEEL, validated.dist / SDIST)
        yield server
        assert not server.errors


@pytest.fixture
def release(release: Release, index: PyPI) -> Release:
    """The validated release, published on ``index`` (github-release compares with it)."""
    point_at(release.project, index.index_url)
    return release


@pytest.fixture
def gh(github: GitHubAPI) -> Iterator[requests.Session]:
    """Someone else's hands on the same repository (a maintainer, an earlier run)."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {github.token}"
        yield session


def github_release(
    release: Release, github: GitHubAPI, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_release(
        "github-release", "--project", str(release.project), "--tag", TAG, *args,
        env={**github.env(), **FAST, **(env or {})},
    )  # fmt: skip


def ok(proc: subprocess.CompletedProcess[str], github: GitHubAPI) -> str:
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    assert github.token not in output
    return output


def refused(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    output = proc.stdout + proc.stderr
    assert proc.returncode == code, output
    assert "Traceback" not in output
    for needle in needles:
        assert needle in output, output
    return output


def released(github: GitHubAPI) -> dict[str, Any]:
    (only,) = github.releases_for(TAG)
    return only


def contents(github: GitHubAPI, gh_release: dict[str, Any]) -> dict[str, bytes]:
    return {a["name"]: github.asset_bytes[a["id"]] for a in gh_release["assets"]}


def asset_id(github: GitHubAPI, gh_release: dict[str, Any], name: str) -> int:
    assets = github.release(gh_release["id"])["assets"]  # type: ignore[index]
    return int(next(a["id"] for a in assets if a["name"] == name))


def writes(github: GitHubAPI) -> list[tuple[str, str]]:
    return [(m, p) for m, p in github.requests if m != "GET"]


def expected_files(release: Release) -> dict[str, bytes]:
    files = {name: (release.dist / name).read_bytes() for name in (WHEEL, SDIST)}
    files[SUMS] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items()
    ).encode()
    return files


# --- the release, and running it again -------------------------------------------------------


def test_a_draft_gets_every_file_then_is_published_latest(
    release: Release, github: GitHubAPI
) -> None:
    output = ok(github_release(release, github), github)
    gh_release = released(github)
    assert gh_release["draft"] is False and gh_release["prerelease"] is False
    assert github.latest_id == gh_release["id"]
    assert contents(github, gh_release) == expected_files(release)
    # Draft first, assets, then publishing: nothing is public before every file is there.
    kinds = [(m, p.split("/")[1]) for m, p in writes(github)]
    assert kinds == [("POST", "repos"), ("POST", "uploads"), ("POST", "uploads"),
                     ("POST", "uploads"), ("PATCH", "repos")]  # fmt: skip
    assert gh_release["body"]  # generated release notes
    record = release.record("github-release")
    assert record["status"] == "ok"
    assert record["details"]["assets"] == {WHEEL: "uploaded", SDIST: "uploaded", SUMS: "uploaded"}
    assert record["details"]["published"] is True
    assert record["details"]["url"].endswith(f"/releases/tag/{TAG}")
    assert github.token not in json.dumps(record)
    assert f"published {TAG} as the latest release" in output


def test_running_it_again_changes_nothing(release: Release, github: GitHubAPI) -> None:
    ok(github_release(release, github), github)
    before = len(writes(github))
    output = ok(github_release(release, github), github)
    assert len(writes(github)) == before
    assert len(github.releases) == 1
    assert f"reusing the published release {TAG}" in output
    assert output.count("already there, same sha256") == 3
    assert release.record("github-release")["details"]["api_requests"] <= 3


def test_a_draft_a_failed_run_left_is_reused(
    release: Release, github: GitHubAPI, gh: requests.Session
) -> None:
    draft = create(gh, github, tag_name=TAG, draft=True)
    assert upload(gh, draft, WHEEL, (release.dist / WHEEL).read_bytes()).status_code == 201
    output = ok(github_release(release, github), github)
    gh_release = released(github)
    assert gh_release["id"] == draft["id"] and gh_release["draft"] is False
    assert contents(github, gh_release) == expected_files(release)
    assert f"{WHEEL}: already there, same sha256" in output


def test_the_published_release_wins_over_a_newer_draft_of_its_tag(
    release: Release, github: GitHubAPI, gh: requests.Session
) -> None:
    ok(github_release(release, github), github)
    published = released(github)
    stray = create(gh, github, tag_name=TAG, draft=True)  # drafts may share a tag
    output = ok(github_release(release, github), github)
    assert f"reusing the published release {TAG}" in output
    assert github.release(stray["id"])["assets"] == []  # type: ignore[index]
    assert github.release(published["id"])["draft"] is False  # type: ignore[index]


def test_a_pre_release_is_not_made_latest(tmp_path: Path, github: GitHubAPI, index: PyPI) -> None:
    rc = validated_tiny_project(tmp_path, version="1.1rc1")
    upload_to(index, *sorted(rc.dist.glob("tiny-1.1rc1*")))
    point_at(rc.project, index.index_url)
    proc = run_release(
        "github-release", "--project", str(rc.project), "--tag", "v1.1rc1", env=github.env()
    )
    output = ok(proc, github)
    (gh_release,) = github.releases_for("v1.1rc1")
    assert gh_release["prerelease"] is True and gh_release["draft"] is False
    assert github.latest_id is None
    assert "published v1.1rc1 as a pre-release" in output


def test_an_asset_compared_by_its_bytes_is_fetched_without_the_token(
    release: Release, github: GitHubAPI, gh: requests.Session
) -> None:
    # Assets from before GitHub kept digests: only the bytes, behind a signed storage URL
    # that refuses a request which also carries the token, can tell.
    draft = create(gh, github, tag_name=TAG, draft=True)
    assert upload(gh, draft, WHEEL, (release.dist / WHEEL).read_bytes()).status_code == 201
    for asset in github.release(draft["id"])["assets"]:  # type: ignore[index]
        asset["digest"] = None
    output = ok(github_release(release, github), github)
    assert f"{WHEEL}: already there, same sha256" in output
    assert [p for _, p in github.requests if p.startswith("/download/")] == [
        f"/download/{asset_id(github, draft, WHEEL)}/{WHEEL}"
    ]


# --- conflicts and refusals ----------------------------------------------------------------


def test_other_content_under_a_validated_name_is_refused_before_any_upload(
    release: Release, github: GitHubAPI, gh: requests.Session
) -> None:
    draft = create(gh, github, tag_name=TAG, draft=True)
    assert upload(gh, draft, SDIST, b"\x1f\x8b not the validated sdist").status_code == 201
    before = len(writes(github))
    refused(
        github_release(release, github), ReleaseAssetConflictError.exit_code,
        f"the release {TAG} already has {SDIST} with other content", "nothing was uploaded",
        "delete the stray asset(s) on GitHub",
    )  # fmt: skip
    assert len(writes(github)) == before
    assert github.release(draft["id"])["draft"] is True  # type: ignore[index]


def test_same_size_other_content_is_refused_too(
    release: Release, github: GitHubAPI, gh: requests.Session
) -> None:
    """A stray asset of the validated file's exact size: only the sha256 can tell."""
    sdist = (release.dist / SDIST).read_bytes()
    stray = sdist[:-1] + bytes([sdist[-1] ^ 0xFF])
    draft = create(gh, github, tag_name=TAG, draft=True)
    assert upload(gh, draft, SDIST, stray).status_code == 201
    before = len(writes(github))
    refused(github_release(release, github), ReleaseAssetConflictError.exit_code,
            f"the release {TAG} already has {SDIST} with other content")  # fmt: skip
    assert len(writes(github)) == before
    # An asset from before GitHub kept digests: compared by its bytes, just as strictly.
    for asset in github.release(draft["id"])["assets"]:  # type: ignore[index]
        asset["digest"] = None
    refused(github_release(release, github), ReleaseAssetConflictError.exit_code,
            f"the release {TAG} already has {SDIST} with other content")  # fmt: skip
    assert len(writes(github)) == before


def test_files_other_than_the_index_holds_are_refused_before_any_request(
    release: Release, github: GitHubAPI, tmp_path: Path
) -> None:
    """Attempt 1 published; Re-run all jobs rebuilt the sdist, which differs in bytes."""
    with PyPI(Signer(), packages=tmp_path / "other-index") as other:
        other.api_tokens.add(INDEX_TOKEN)
        published = tmp_path / "published" / SDIST
        published.parent.mkdir()
        rebuilt = (release.dist / SDIST).read_bytes()
        published.write_bytes(rebuilt[:-1] + bytes([rebuilt[-1] ^ 0xFF]))
        upload_to(other, release.dist / WHEEL, published)
        point_at_again(release.project, other.index_url)
        output = refused(
            github_release(release, github), ReleaseAssetConflictError.exit_code,
            f"the validated files are not what {other.index_url} holds for tiny 1.0",
            f"{SDIST} (the index has other content) differ", "Nothing was uploaded to GitHub",
            "Re-run only the failed jobs",
        )  # fmt: skip
        assert WHEEL not in output.split("holds for tiny 1.0")[1].split("differ")[0]
        assert github.requests == []
        assert not other.errors


def test_a_version_the_index_does_not_hold_is_not_released(
    release: Release, github: GitHubAPI, pypi: PyPI
) -> None:
    point_at_again(release.project, pypi.index_url)  # an index without the project
    refused(
        github_release(release, github), ReleaseAssetConflictError.exit_code,
        f"{WHEEL}, {SDIST} not on the index", "publish 1.0 first",
    )  # fmt: skip
    assert github.requests == []


def test_an_index_that_does_not_answer_stops_the_release_before_github(
    release: Release, github: GitHubAPI
) -> None:
    """Going on from the validated files would let a rebuild (Re-run all jobs) reach the
    release page while the index holds other bytes: the two would disagree for ever where
    releases are immutable. publish itself stops when the index cannot be read."""
    point_at_again(release.project, "http://127.0.0.1:9/simple/")
    refused(
        github_release(release, github), IndexUnavailableError.exit_code,
        "the index http://127.0.0.1:9/simple/tiny/ could not be read",
        "nothing was uploaded to GitHub", "run the stage again later",
    )  # fmt: skip
    assert github.requests == []


class _Answers(http.server.BaseHTTPRequestHandler):
    """An index that answers every GET with ``body`` as ``content_type``."""

    body = b""
    content_type = ""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize(
    "body", [b'{"files": [1]}', b'{"files": [{"filename": "x", "hashes": ["sha256"]}]}']
)
def test_json_that_is_no_listing_is_the_index_unavailable_not_a_crash(
    release: Release, github: GitHubAPI, body: bytes
) -> None:
    handler = type("Garbage", (_Answers,), {"body": body, "content_type": SIMPLE_JSON})
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            point_at_again(release.project, f"http://127.0.0.1:{server.server_address[1]}/simple/")
            refused(
                github_release(release, github), IndexUnavailableError.exit_code,
                "JSON that is not a simple index page",
            )  # fmt: skip
        finally:
            server.shutdown()
    assert github.requests == []


def test_the_dry_run_names_the_repository_of_the_origin_remote(
    release: Release, github: GitHubAPI
) -> None:
    subprocess.run(["git", "init", "-q", str(release.project)], check=True)
    subprocess.run(["git", "-C", str(release.project), "remote", "add", "origin",
                    "https://github.com/octo-org/tally.git"], check=True)  # fmt: skip
    proc = run_release(
        "github-release", "--project", str(release.project), "--dry-run",
        env={**github.env(), "GITHUB_REPOSITORY": ""},
    )  # fmt: skip
    output = ok(proc, github)
    assert "the release v1.0 of octo-org/tally (the origin remote" in output
    assert "this repository" not in output


def test_an_immutable_release_missing_a_file_says_a_new_version_is_needed(
    release: Release, gh: requests.Session
) -> None:
    with GitHubAPI(REPO, immutable=True) as github:
        gh.headers["Authorization"] = f"Bearer {github.token}"
        published = create(gh, github, tag_name=TAG, draft=True)
        assert upload(gh, published, WHEEL, (release.dist / WHEEL).read_bytes()).status_code == 201
        assert gh.patch(published["url"], json={"draft": False}).status_code == 200
        refused(
            github_release(release, github), GitHubError.exit_code,
            f"the release {TAG} was published without {SDIST}",
            f"the releases of {REPO} are immutable", "release a new version",
        )  # fmt: skip
        assert not github.errors


def test_a_read_only_token_is_told_which_permission(release: Release) -> None:
    with GitHubAPI(REPO, read_only=True) as github:
        refused(github_release(release, github), GitHubError.exit_code,
                "permissions: contents: write")  # fmt: skip


def test_a_bad_token_is_refused_with_what_to_pass(release: Release, github: GitHubAPI) -> None:
    output = refused(
        github_release(release, github, env={"GITHUB_TOKEN": "ghs_not-the-token"}),
        GitHubError.exit_code, "GitHub refused the token", "GITHUB_TOKEN: ${{ github.token }}",
    )  # fmt: skip
    assert "ghs_not-the-token" not in output


def test_a_token_github_quotes_back_is_in_no_record(release: Release, github: GitHubAPI) -> None:
    github.echo_token(1)
    output = refused(github_release(release, github), GitHubError.exit_code, "Bad credentials")
    assert github.token not in output
    record = (release.dist / ".release" / "github-release.json").read_text()
    assert "Bad credentials: '***'" in json.loads(record)["error"]["cause"]
    assert github.token not in record


def test_no_token_is_said_before_any_request(release: Release, github: GitHubAPI) -> None:
    refused(
        github_release(release, github, env={"GITHUB_TOKEN": ""}), CredentialsError.exit_code,
        "github-release needs GITHUB_TOKEN", "contents: write on the job",
    )  # fmt: skip
    assert github.requests == []


def test_no_tag_is_refused(release: Release, github: GitHubAPI) -> None:
    proc = run_release("github-release", "--project", str(release.project), env=github.env())
    refused(proc, TagError.exit_code, "github-release needs the tag", "--tag v1.2.3")
    assert github.requests == []


def test_the_dry_run_calls_nothing(release: Release, github: GitHubAPI) -> None:
    proc = run_release(
        "github-release", "--project", str(release.project), "--dry-run", env=github.env()
    )
    output = ok(proc, github)
    # The real run first compares with the index; the rehearsal says it will.
    assert "would check that http://127.0.0.1:" in output
    assert "holds exactly these files for 1.0 (publish puts them there), then create" in output
    assert f"create (or reuse) the release {TAG} of {REPO}" in output
    assert f"upload 3 file(s) ({WHEEL}, {SDIST}, {SUMS})" in output
    assert github.requests == []


# --- GitHub having a bad moment ---------------------------------------------------------------


def test_rate_limits_and_outages_are_waited_out(release: Release, github: GitHubAPI) -> None:
    github.rate_limit(1, reset_in=1)
    github.secondary_limit(1, retry_after=1)
    github.fail(1, status=502)
    output = ok(github_release(release, github), github)
    assert "GitHub answered 403; again in" in output
    assert "GitHub answered 429; again in 1s" in output
    assert "GitHub answered 502; again in" in output
    assert contents(github, released(github)) == expected_files(release)


def test_an_upload_that_left_an_unfinished_asset_is_done_again(
    release: Release, github: GitHubAPI
) -> None:
    github.fail_uploads(1)  # a 502, and an empty "starter" asset left under the name
    ok(github_release(release, github), github)
    gh_release = released(github)
    assert contents(github, gh_release) == expected_files(release)
    assert all(a["state"] == "uploaded" for a in gh_release["assets"])
    assert [m for m, p in github.requests if "/releases/assets/" in p] == ["DELETE"]


def test_a_rate_limit_reset_far_ahead_is_reported_not_waited(
    release: Release, github: GitHubAPI
) -> None:
    github.rate_limit(1, reset_in=3600)
    refused(github_release(release, github), GitHubError.exit_code,
            "rate limit is used up", "run the stage again after the reset")  # fmt: skip


def test_github_down_for_good_is_an_outage_with_a_status_page(
    release: Release, github: GitHubAPI
) -> None:
    github.fail(5, status=503)
    refused(github_release(release, github), GitHubError.exit_code,
            "GitHub did not answer", "githubstatus.com")  # fmt: skip
    assert github.releases == []


def test_a_tag_of_another_version_is_refused_before_any_request(
    release: Release, github: GitHubAPI
) -> None:
    proc = run_release(
        "github-release", "--project", str(release.project), "--tag", "v9.9.9", env=github.env()
    )
    refused(proc, TagError.exit_code, "the tag v9.9.9 says 9.9.9", "the validated files")
    assert github.requests == []


# --- answers that are not what the API documents, and GITHUB_API_URL -------------------------

RELEASES = rf"/repos/{REPO}/releases"
ASSETS = rf"/repos/{REPO}/releases/\d+/assets"
BROKEN_ANSWERS = {
    "html": (RELEASES, "GET", "<!DOCTYPE html><html><head><title>Sign in</title></head></html>",
             "text/html", "an HTML page ('Sign in')"),
    "garbage": (RELEASES, "GET", "\x00\x01 not json", "application/json",
                "that is not JSON"),
    "list-for-object": (RELEASES, "POST", [{"id": 1}], "application/json",
                        "a JSON list, not the JSON object expected"),
    "no-id": (RELEASES, "GET", [{}], "application/json", "an object without 'id'"),
    "size-not-a-number": (ASSETS, "GET", [{"id": 7, "name": WHEEL, "size": "1 KB",
                                           "url": "http://x/7"}], "application/json",
                          "'size' = \"1 KB\", not a number"),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(BROKEN_ANSWERS))
def test_an_answer_that_is_not_the_json_expected_is_named_with_its_url(
    release: Release, github: GitHubAPI, kind: str
) -> None:
    path, method, body, content_type, needle = BROKEN_ANSWERS[kind]
    status = 201 if method == "POST" else 200  # what GitHub answers a create with
    github.answer_with(body, status=status, content_type=content_type, method=method, path=path)
    url = github.url + path.split("/\\d")[0]  # the URL asked, up to its ids and query
    output = refused(github_release(release, github), GitHubError.exit_code, needle, url)
    assert "nox-release failed unexpectedly" not in output


@pytest.mark.parametrize(
    ("api_url", "needle"),
    [
        ("not-a-url", "GITHUB_API_URL is 'not-a-url': not an http(s) URL with a host"),
        ("http://127.0.0.1:99999", "GITHUB_API_URL is 'http://127.0.0.1:99999': its port"),
        ("http://127.0.0.1:9", "http://127.0.0.1:9 (from GITHUB_API_URL) gave no answer"),
    ],
)
def test_a_bad_github_api_url_is_named(
    release: Release, github: GitHubAPI, api_url: str, needle: str
) -> None:
    output = refused(github_release(release, github, env={"GITHUB_API_URL": api_url}),
                     GitHubError.exit_code, needle, "GITHUB_API_URL")  # fmt: skip
    assert "githubstatus.com" not in output
    assert "not-a-urlnot-a-url" not in output


def test_the_dry_run_refuses_a_bad_github_api_url_as_the_real_run_would(
    release: Release, github: GitHubAPI
) -> None:
    proc = run_release(
        "github-release", "--project", str(release.project), "--dry-run",
        env={**github.env(), "GITHUB_API_URL": "not-a-url"},
    )  # fmt: skip
    refused(proc, GitHubError.exit_code, "GITHUB_API_URL is 'not-a-url'")
    assert github.requests == []


def test_a_404_listing_releases_names_the_repository_and_the_token(
    release: Release, github: GitHubAPI
) -> None:
    output = refused(
        github_release(release, github, env={"GITHUB_REPOSITORY": "octo-org/elsewhere"}),
        GitHubError.exit_code, "404", "octo-org/elsewhere (from GITHUB_REPOSITORY)",
        "the token from GITHUB_TOKEN (an installation token, as a job's GITHUB_TOKEN is)",
    )  # fmt: skip
    assert github.token not in output


def test_a_stalled_api_call_is_timed_out_and_retried(release: Release, github: GitHubAPI) -> None:
    github.stall(1, seconds=60)
    started = time.monotonic()
    output = ok(github_release(release, github, env={"NOX_RELEASE_READ_TIMEOUT": "1"}), github)
    assert time.monotonic() - started < 30
    assert "GitHub answered nothing; again in" in output
    assert contents(github, released(github)) == expected_files(release)


def test_files_of_the_version_the_run_did_not_validate_are_named_as_such(
    release: Release, github: GitHubAPI, tmp_path: Path
) -> None:
    """The index holds one more wheel of 1.0 (uploaded by another workflow): nothing was
    rebuilt, so "Re-run only the failed jobs" would send the maintainer the wrong way."""
    with PyPI(Signer(), packages=tmp_path / "other-index") as other:
        other.api_tokens.add(INDEX_TOKEN)
        extra = tmp_path / "elsewhere" / "tiny-1.0-py3-none-win_amd64.whl"
        extra.parent.mkdir()
        extra.write_bytes((release.dist / WHEEL).read_bytes())
        upload_to(other, release.dist / WHEEL, release.dist / SDIST, extra)
        point_at_again(release.project, other.index_url)
        output = refused(
            github_release(release, github), ReleaseAssetConflictError.exit_code,
            f"{extra.name} on the index but not validated",
            "download the other files of 1.0 from the index into the dist dir",
        )  # fmt: skip
        assert "Re-run only the failed jobs" not in output
        assert "built again" not in output
        assert github.requests == []


def test_an_index_that_gives_no_sha256_is_said_so(
    release: Release, github: GitHubAPI, tmp_path: Path
) -> None:
    """A static PEP 503 index (hashes are optional there) served by a real HTTP server."""
    page = tmp_path / "static" / "simple" / "tiny" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        "<!DOCTYPE html><html><body>"
        + "".join(f'<a href="../../files/{name}">{name}</a>' for name in (WHEEL, SDIST))
        + "</body></html>"
    )
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "static")
    )
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            index_url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
            point_at_again(release.project, index_url)
            output = refused(
                github_release(release, github), ReleaseAssetConflictError.exit_code,
                f"{WHEEL}, {SDIST} listed without a sha256",
                "index-url to an index that gives each file's sha256",
            )  # fmt: skip
        finally:
            server.shutdown()
    assert "Re-run only the failed jobs" not in output
    assert "differ" not in output.split("Nothing was uploaded")[0].split("holds for")[1]
    assert github.requests == []
