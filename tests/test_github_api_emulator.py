"""The GitHub releases emulator answers as GitHub does, asked by real HTTP clients.

Each test talks HTTP to the emulator with ``requests`` (what a stage would use), ``urllib``
or ``http.client`` (for requests the others will not send), and compares status codes,
headers and bodies with what docs.github.com documents for releases and release assets.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from emulators.github_api import IMMUTABLE_UPLOAD, GitHubAPI, asset_name

REPO = "octo-org/tally"
RATE_HEADERS = (
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-ratelimit-used",
    "x-ratelimit-resource",
    "x-github-request-id",
)


# --- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def github() -> Iterator[GitHubAPI]:
    with GitHubAPI(REPO) as server:
        yield server
        assert not server.errors


def session_for(api: GitHubAPI, token: str | None = None) -> requests.Session:
    """A requests session as a stage would set one up."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token if token is not None else api.token}"
    session.headers["Accept"] = "application/vnd.github+json"
    session.headers["X-GitHub-Api-Version"] = "2022-11-28"
    return session


@pytest.fixture
def gh(github: GitHubAPI) -> Iterator[requests.Session]:
    with session_for(github) as session:
        yield session


def releases_url(api: GitHubAPI) -> str:
    return f"{api.url}/repos/{REPO}/releases"


def create(gh: requests.Session, api: GitHubAPI, **payload: Any) -> dict[str, Any]:
    response = gh.post(releases_url(api), json=payload)
    assert response.status_code == 201, response.text
    release: dict[str, Any] = response.json()
    return release


def upload_url(release: dict[str, Any]) -> str:
    """upload_url with its RFC 6570 ``{?name,label}`` part taken off (expanded by params)."""
    template = str(release["upload_url"])
    assert template.endswith("/assets{?name,label}")
    return template[: template.index("{")]


def upload(
    gh: requests.Session,
    release: dict[str, Any],
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
) -> requests.Response:
    return gh.post(
        upload_url(release),
        params={"name": name},
        data=data,
        headers={"Content-Type": content_type},
    )


def call(
    url: str,
    *,
    method: str = "GET",
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, bytes]:
    """(status, headers, body) of a urllib request, HTTP errors included."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def auth(api: GitHubAPI, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {api.token}", "Accept": "application/vnd.github+json"}


# --- the release flow ---------------------------------------------------------------------


def test_draft_assets_publish_latest(github: GitHubAPI, gh: requests.Session) -> None:
    """The flow a release stage follows: draft, assets, check, publish, latest."""
    assert gh.get(f"{releases_url(github)}/latest").status_code == 404
    draft = create(gh, github, tag_name="v0.3.1", name="tally 0.3.1", body="Notes.", draft=True)
    assert draft["draft"] is True
    assert draft["published_at"] is None
    assert draft["assets"] == []
    assert draft["tag_name"] == "v0.3.1"
    assert draft["url"] == f"{releases_url(github)}/{draft['id']}"
    assert draft["assets_url"] == f"{releases_url(github)}/{draft['id']}/assets"
    assert draft["upload_url"] == (
        f"{github.url}/uploads/repos/{REPO}/releases/{draft['id']}/assets{{?name,label}}"
    )
    assert "/releases/tag/untagged-" in draft["html_url"]  # drafts do not own their tag
    assert draft["node_id"].startswith("RE_")
    assert github.latest_id is None

    wheel = b"PK\x03\x04 a wheel"
    response = upload(gh, draft, "tally-0.3.1-py3-none-any.whl", wheel, "application/zip")
    assert response.status_code == 201, response.text
    asset = response.json()
    assert asset["name"] == "tally-0.3.1-py3-none-any.whl"
    assert asset["state"] == "uploaded"
    assert asset["content_type"] == "application/zip"
    assert asset["size"] == len(wheel)
    assert asset["digest"] == "sha256:" + hashlib.sha256(wheel).hexdigest()
    assert asset["download_count"] == 0
    assert asset["label"] is None
    assert asset["url"] == f"{releases_url(github)}/assets/{asset['id']}"
    assert asset["node_id"].startswith("RA_")

    # The second one through urllib, with a label, the template expanded by hand.
    sdist = b"\x1f\x8b an sdist"
    status, _, body = call(
        upload_url(draft) + "?name=tally-0.3.1.tar.gz&label=Source",
        method="POST",
        data=sdist,
        headers={**auth(github, "token"), "Content-Type": "application/gzip"},
    )
    assert status == 201, body
    assert json.loads(body)["label"] == "Source"

    listed = gh.get(draft["assets_url"]).json()
    assert [a["name"] for a in listed] == ["tally-0.3.1-py3-none-any.whl", "tally-0.3.1.tar.gz"]
    assert gh.get(draft["url"]).json()["assets"] == listed
    assert [r["id"] for r in gh.get(releases_url(github)).json()] == [draft["id"]]
    assert github.asset_bytes[asset["id"]] == wheel

    response = gh.patch(draft["url"], json={"draft": False})
    assert response.status_code == 200, response.text
    published = response.json()
    assert published["draft"] is False
    assert published["published_at"] is not None
    assert published["html_url"].endswith("/releases/tag/v0.3.1")
    assert published["assets"][0]["browser_download_url"].endswith(
        "/releases/download/v0.3.1/tally-0.3.1-py3-none-any.whl"
    )
    assert published["immutable"] is False
    assert github.latest_id == draft["id"]
    latest = gh.get(f"{releases_url(github)}/latest")
    assert latest.status_code == 200
    assert latest.json()["id"] == draft["id"]
    assert github.releases == [published]


def test_generated_release_notes(github: GitHubAPI, gh: requests.Session) -> None:
    first = create(gh, github, tag_name="v0.3.0", generate_release_notes=True)
    assert first["name"] == "v0.3.0"  # the tag, when no name is given
    assert first["body"].startswith("## What's Changed\n* Count the votes by @octocat in ")
    assert first["body"].endswith(f"**Full Changelog**: {github.url}/{REPO}/commits/v0.3.0")

    second = create(gh, github, tag_name="v0.3.1", body="Intro.", generate_release_notes=True)
    lines = second["body"].splitlines()
    assert lines[0] == "Intro."  # the body given comes before the generated notes
    assert "## What's Changed" in lines
    assert lines[-1] == f"**Full Changelog**: {github.url}/{REPO}/compare/v0.3.0...v0.3.1"

    notes = gh.post(f"{releases_url(github)}/generate-notes", json={"tag_name": "v0.4.0"})
    assert notes.status_code == 200
    assert notes.json()["name"] == "v0.4.0"
    assert notes.json()["body"].endswith("compare/v0.3.1...v0.4.0")


def test_tag_endpoint_finds_published_releases_only(
    github: GitHubAPI, gh: requests.Session
) -> None:
    draft = create(gh, github, tag_name="v1.0.0", draft=True)
    response = gh.get(f"{releases_url(github)}/tags/v1.0.0")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"
    assert response.json()["status"] == "404"
    assert gh.get(draft["url"]).status_code == 200  # by id, drafts are found
    gh.patch(draft["url"], json={"draft": False}).raise_for_status()
    found = gh.get(f"{releases_url(github)}/tags/v1.0.0")
    assert found.status_code == 200
    assert found.json()["id"] == draft["id"]
    assert gh.get(f"{releases_url(github)}/tags/v9.9.9").status_code == 404


def test_second_published_release_for_a_tag_is_refused(
    github: GitHubAPI, gh: requests.Session
) -> None:
    create(gh, github, tag_name="v1.0.0")
    response = gh.post(releases_url(github), json={"tag_name": "v1.0.0"})
    assert response.status_code == 422
    answer = response.json()
    assert answer["message"] == "Validation Failed"
    assert answer["errors"] == [
        {"resource": "Release", "code": "already_exists", "field": "tag_name"}
    ]
    assert answer["documentation_url"].startswith("https://docs.github.com/")
    # A draft for that tag is accepted (GitHub's drafts do not own tags), but cannot be
    # published while the published one exists.
    draft = create(gh, github, tag_name="v1.0.0", draft=True)
    response = gh.patch(draft["url"], json={"draft": False})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "already_exists"
    assert len(github.releases_for("v1.0.0")) == 2


def test_drafts_share_a_tag_unless_told_otherwise(github: GitHubAPI, gh: requests.Session) -> None:
    one = create(gh, github, tag_name="v2.0.0", draft=True)
    two = create(gh, github, tag_name="v2.0.0", draft=True)  # a rerun's second draft
    assert one["id"] != two["id"]
    assert {r["id"] for r in gh.get(releases_url(github)).json()} == {one["id"], two["id"]}
    # Publishing either works; the other cannot follow.
    assert gh.patch(two["url"], json={"draft": False}).status_code == 200
    assert gh.patch(one["url"], json={"draft": False}).status_code == 422

    with GitHubAPI(REPO, drafts_reserve_tags=True) as strict, session_for(strict) as session:
        create(session, strict, tag_name="v2.0.0", draft=True)
        response = session.post(releases_url(strict), json={"tag_name": "v2.0.0", "draft": True})
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"resource": "Release", "code": "already_exists", "field": "tag_name"}
        ]
        assert not strict.errors


def test_make_latest(github: GitHubAPI, gh: requests.Session) -> None:
    first = create(gh, github, tag_name="v1.0.0")
    assert github.latest_id == first["id"]
    create(gh, github, tag_name="v1.1.0", make_latest="false")
    assert github.latest_id == first["id"]
    create(gh, github, tag_name="v2.0.0rc1", prerelease=True)
    assert github.latest_id == first["id"]  # prereleases are never latest
    draft = create(gh, github, tag_name="v0.9.0", draft=True)
    gh.patch(draft["url"], json={"draft": False, "make_latest": "legacy"}).raise_for_status()
    latest = gh.get(f"{releases_url(github)}/latest").json()
    assert latest["tag_name"] == "v1.1.0"  # legacy: the highest version, not the newest
    older = gh.patch(draft["url"], json={"make_latest": "true"})
    assert older.status_code == 200
    assert github.latest_id == draft["id"]

    response = gh.post(releases_url(github), json={"tag_name": "v3.0.0", "make_latest": True})
    assert response.status_code == 422  # make_latest is a string, not a boolean
    assert response.json()["message"] == (
        "Invalid request.\n\nFor 'properties/make_latest', true is not a string."
    )


def test_request_bodies_are_validated(github: GitHubAPI, gh: requests.Session) -> None:
    missing = gh.post(releases_url(github), json={"name": "no tag"})
    assert missing.status_code == 422
    assert missing.json()["message"] == 'Invalid request.\n\n"tag_name" wasn\'t supplied.'
    wrong = gh.post(releases_url(github), json={"tag_name": "v1", "draft": "yes"})
    assert wrong.status_code == 422
    assert "'properties/draft', \"yes\" is not a boolean" in wrong.json()["message"]
    broken = gh.post(
        releases_url(github), data=b"{tag_name:", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["message"] == "Problems parsing JSON"
    assert github.releases == []


# --- assets -------------------------------------------------------------------------------


def test_duplicate_asset_is_refused(github: GitHubAPI, gh: requests.Session) -> None:
    draft = create(gh, github, tag_name="v1.0.0", draft=True)
    assert upload(gh, draft, "tally-1.0.0.tar.gz", b"one").status_code == 201
    again = upload(gh, draft, "tally-1.0.0.tar.gz", b"two")
    assert again.status_code == 422
    assert again.json()["message"] == "Validation Failed"
    assert again.json()["errors"] == [
        {"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}
    ]
    # The check is on the name GitHub gives the asset: "a b" is stored as "a.b".
    assert upload(gh, draft, "notes 1.txt", b"x").json()["name"] == "notes.1.txt"
    assert upload(gh, draft, "notes.1.txt", b"y").status_code == 422
    assert [a["name"] for a in gh.get(draft["assets_url"]).json()] == [
        "tally-1.0.0.tar.gz",
        "notes.1.txt",
    ]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("tally-0.3.1-cp39-abi3-manylinux_2_17_x86_64.whl", None),
        ("tally-0.3.1+local.tar.gz", None),
        ("My App 1.0.0 Setup.exe", "My.App.1.0.0.Setup.exe"),
        ("tobwen-1.1.0-1~buster_amd64.deb", "tobwen-1.1.0-1.buster_amd64.deb"),
        ("app.prod-v1.3.0-(15-5)-6064eac.apk", "app.prod-v1.3.0-.15-5.-6064eac.apk"),
        ("erick%%%%%!!!zhao.txt", "erick.zhao.txt"),
        ("café.txt", "cafe.txt"),
    ],
)
def test_asset_names_are_renamed_like_github(given: str, stored: str | None) -> None:
    assert asset_name(given) == (stored or given)


def test_a_raw_plus_in_the_query_is_a_space(github: GitHubAPI, gh: requests.Session) -> None:
    draft = create(gh, github, tag_name="v1.0.0", draft=True)
    encoded = upload(gh, draft, "tally-1.0+local.tar.gz", b"x")  # requests sends %2B
    assert encoded.json()["name"] == "tally-1.0+local.tar.gz"
    raw = gh.post(
        upload_url(draft) + "?name=tally-1.1+local.tar.gz",
        data=b"x",
        headers={"Content-Type": "application/gzip"},
    )
    assert raw.json()["name"] == "tally-1.1.local.tar.gz"


def test_upload_needs_length_type_name_and_bytes(github: GitHubAPI, gh: requests.Session) -> None:
    draft = create(gh, github, tag_name="v1.0.0", draft=True)
    target = urlsplit(upload_url(draft) + "?name=a.whl")
    connection = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
    try:
        connection.putrequest("POST", f"{target.path}?{target.query}")
        connection.putheader("Authorization", f"token {github.token}")
        connection.putheader("Content-Type", "application/zip")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 411
        response.read()
    finally:
        connection.close()

    connection = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
    try:
        connection.putrequest("POST", f"{target.path}?{target.query}")
        connection.putheader("Authorization", f"token {github.token}")
        connection.putheader("Content-Type", "application/zip")
        connection.putheader("Content-Length", "many")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 400
        assert json.loads(response.read())["message"] == "Bad Content-Length: many"
    finally:
        connection.close()

    chunked = gh.post(
        upload_url(draft),
        params={"name": "a.whl"},
        data=iter([b"chunk one", b"chunk two"]),  # a generator: Transfer-Encoding: chunked
        headers={"Content-Type": "application/zip"},
    )
    assert chunked.status_code == 411

    empty = upload(gh, draft, "empty.txt", b"")
    assert empty.status_code == 422
    assert empty.json()["errors"] == [
        {
            "resource": "ReleaseAsset",
            "code": "custom",
            "field": "size",
            "message": "size must be greater than or equal to 1",
        }
    ]
    nameless = gh.post(upload_url(draft), data=b"x", headers={"Content-Type": "text/plain"})
    assert nameless.status_code == 422
    assert nameless.json()["errors"][0]["field"] == "name"
    untyped = gh.post(upload_url(draft), params={"name": "a.txt"}, data=b"x")
    assert "Content-Type" not in untyped.request.headers
    assert untyped.status_code == 422
    assert gh.get(draft["assets_url"]).json() == []


def test_a_failed_upload_leaves_a_starter_asset(github: GitHubAPI, gh: requests.Session) -> None:
    draft = create(gh, github, tag_name="v1.0.0", draft=True)
    github.fail_uploads(1)
    first = upload(gh, draft, "tally.whl", b"wheel")
    assert first.status_code == 502
    assert first.headers["Content-Type"].startswith("text/html")
    (starter,) = gh.get(draft["assets_url"]).json()
    assert starter["state"] == "starter"
    assert starter["size"] == 0
    assert upload(gh, draft, "tally.whl", b"wheel").status_code == 422  # the name is taken
    assert gh.delete(starter["url"]).status_code == 204
    assert upload(gh, draft, "tally.whl", b"wheel").status_code == 201


def test_asset_download_redirects_to_storage(github: GitHubAPI, gh: requests.Session) -> None:
    release = create(gh, github, tag_name="v1.0.0", draft=True)
    data = bytes(range(256)) * 64
    asset = upload(gh, release, "tally-1.0.0.tar.gz", data, "application/gzip").json()
    octet = {"Accept": "application/octet-stream"}

    redirect = gh.get(asset["url"], headers=octet, allow_redirects=False)
    assert redirect.status_code == 302
    location = redirect.headers["Location"]
    assert location.startswith(f"{github.storage_url}/download/{asset['id']}/tally-1.0.0.tar.gz?")
    assert "X-Amz-Signature=" in location
    assert urlsplit(location).port != urlsplit(github.url).port  # another origin
    stored = requests.get(location, timeout=30)  # no token: a signed URL needs none
    assert stored.status_code == 200
    assert stored.content == data
    assert stored.headers["Content-Type"] == "application/octet-stream"
    # Like GitHub's storage, it refuses the token next to the signature.
    with_token = requests.get(location, headers={"Authorization": f"Bearer {github.token}"})
    assert with_token.status_code == 400
    assert b"Only one auth mechanism allowed" in with_token.content
    tampered = requests.get(location.replace("X-Amz-Expires=300", "X-Amz-Expires=9999"))
    assert tampered.status_code == 403

    # requests follows the redirect and drops the token, the origin having changed ...
    followed = gh.get(asset["url"], headers=octet)
    assert followed.status_code == 200
    assert followed.content == data
    assert [r.status_code for r in followed.history] == [302]
    assert "Authorization" not in followed.request.headers
    # ... urllib follows it keeping the token, which storage refuses, as GitHub's does.
    status, _, body = call(asset["url"], headers={**auth(github), **octet})
    assert status == 400
    assert b"InvalidArgument" in body

    # Without asking for the bytes, the asset's JSON.
    assert gh.get(asset["url"]).json()["id"] == asset["id"]
    # browser_download_url: only with access while a draft, for anyone once published.
    assert requests.get(asset["browser_download_url"], timeout=30).status_code == 404
    published = gh.patch(release["url"], json={"draft": False}).json()
    link = published["assets"][0]["browser_download_url"]
    assert link == f"{github.url}/{REPO}/releases/download/v1.0.0/tally-1.0.0.tar.gz"
    anonymous = requests.get(link, timeout=30)
    assert anonymous.content == data
    assert anonymous.history[0].headers["Location"].startswith(github.storage_url)
    assert gh.get(asset["url"]).json()["download_count"] == 3


def test_storage_urls_expire(github: GitHubAPI, gh: requests.Session) -> None:
    release = create(gh, github, tag_name="v1.0.0", draft=True)
    asset = upload(gh, release, "a.whl", b"wheel").json()
    github.download_lifetime = -1  # every URL handed out from now on has expired already
    octet = {"Accept": "application/octet-stream"}
    location = gh.get(asset["url"], headers=octet, allow_redirects=False).headers["Location"]
    expired = requests.get(location, timeout=30)
    assert expired.status_code == 403
    assert b"Request has expired" in expired.content
    github.download_lifetime = 300
    assert gh.get(asset["url"], headers=octet).content == b"wheel"  # a fresh URL works


# --- immutable releases -------------------------------------------------------------------


def test_immutable_release_refuses_asset_changes() -> None:
    with GitHubAPI(REPO, immutable=True) as github, session_for(github) as gh:
        draft = create(gh, github, tag_name="v1.0.0", draft=True)
        assert draft["immutable"] is False
        asset = upload(gh, draft, "tally-1.0.0.tar.gz", b"sdist").json()  # a draft takes assets
        published = gh.patch(draft["url"], json={"draft": False}).json()
        assert published["immutable"] is True

        late = upload(gh, published, "tally-1.0.0-py3-none-any.whl", b"wheel")
        assert late.status_code == 422
        assert late.json()["message"] == IMMUTABLE_UPLOAD
        assert "immutable" in late.json()["message"]
        assert gh.delete(asset["url"]).status_code == 422
        assert gh.patch(asset["url"], json={"label": "new"}).status_code == 422
        assert [a["name"] for a in gh.get(published["assets_url"]).json()] == ["tally-1.0.0.tar.gz"]
        # The title and notes may change; the tag and the draft state may not.
        assert gh.patch(published["url"], json={"name": "Tally 1", "body": "New."}).ok
        assert gh.patch(published["url"], json={"tag_name": "v1.0.1"}).status_code == 422
        assert gh.patch(published["url"], json={"draft": True}).status_code == 422

        # Published directly, it is immutable before it has any asset.
        direct = create(gh, github, tag_name="v1.1.0")
        assert upload(gh, direct, "late.whl", b"wheel").status_code == 422

        # Deleting an immutable release frees nothing: its tag cannot be released again.
        assert gh.delete(published["url"]).status_code == 204
        again = gh.post(releases_url(github), json={"tag_name": "v1.0.0"})
        assert again.status_code == 422
        assert again.json()["errors"][0]["message"] == "tag_name was used by an immutable release"
        assert not github.errors


def test_mutable_release_takes_assets_after_publishing(
    github: GitHubAPI, gh: requests.Session
) -> None:
    release = create(gh, github, tag_name="v1.0.0")
    assert release["immutable"] is False
    asset = upload(gh, release, "late.whl", b"wheel")
    assert asset.status_code == 201
    assert gh.delete(asset.json()["url"]).status_code == 204
    assert github.asset_bytes == {}


# --- credentials and permissions ----------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ghs_wrong", "token ", "Basic dXNlcjpwYXNz", "{token}", "Bearer{token}"],
)
def test_bad_credentials(github: GitHubAPI, authorization: str | None) -> None:
    headers = (
        {} if authorization is None else {"Authorization": authorization.format(token=github.token)}
    )
    status, response_headers, body = call(releases_url(github), headers=headers)
    assert status == 401
    assert json.loads(body)["message"] == "Bad credentials"
    assert json.loads(body)["documentation_url"].startswith("https://docs.github.com/")
    assert response_headers["x-ratelimit-limit"]


@pytest.mark.parametrize("scheme", ["Bearer", "token", "bearer"])
def test_token_schemes(github: GitHubAPI, scheme: str) -> None:
    status, _, body = call(releases_url(github), headers=auth(github, scheme))
    assert status == 200
    assert json.loads(body) == []


def test_read_only_token_cannot_write() -> None:
    with GitHubAPI(REPO) as writable, session_for(writable) as session:
        release = create(session, writable, tag_name="v1.0.0", draft=True)
        asset = upload(session, release, "a.whl", b"x").json()
        writable.read_only = True
        attempts = [
            session.post(releases_url(writable), json={"tag_name": "v2.0.0"}),
            session.patch(release["url"], json={"draft": False}),
            session.delete(release["url"]),
            upload(session, release, "b.whl", b"y"),
            session.patch(asset["url"], json={"label": "x"}),
            session.delete(asset["url"]),
        ]
        for response in attempts:
            assert response.status_code == 403, response.request.method
            assert response.json()["message"] == "Resource not accessible by integration"
        assert session.get(releases_url(writable)).status_code == 200  # reading still works
        assert session.get(asset["url"]).status_code == 200
        assert len(writable.releases) == 1
        assert writable.releases[0]["draft"] is True
        assert not writable.errors


def test_other_repositories_are_not_found(github: GitHubAPI, gh: requests.Session) -> None:
    assert gh.get(f"{github.url}/repos/octo-org/other/releases").status_code == 404
    assert (
        gh.post(f"{github.url}/repos/someone/tally/releases", json={"tag_name": "v1"}).status_code
        == 404
    )
    assert gh.get(f"{github.url}/repos/Octo-Org/Tally/releases").status_code == 200  # any case
    assert gh.get(f"{github.url}/repositories/{github.repository_id}/releases").status_code == 200
    assert gh.get(f"{github.url}/repositories/1/releases").status_code == 404
    assert gh.get(f"{releases_url(github)}/424242").status_code == 404
    assert gh.get(f"{github.url}/repos/{REPO}/pulls").status_code == 404


def test_unsupported_api_version(github: GitHubAPI, gh: requests.Session) -> None:
    response = gh.get(releases_url(github), headers={"X-GitHub-Api-Version": "2099-01-01"})
    assert response.status_code == 400
    assert response.json()["message"] == "API version 2099-01-01 is not supported."


# --- rate limits and faults ---------------------------------------------------------------


def test_every_api_response_has_the_rate_limit_headers(
    github: GitHubAPI, gh: requests.Session
) -> None:
    release = create(gh, github, tag_name="v1.0.0", draft=True)
    github.fail(1, 502)
    responses = [
        gh.get(releases_url(github)),  # 502
        gh.get(releases_url(github)),  # 200
        gh.get(f"{releases_url(github)}/latest"),  # 404
        gh.post(releases_url(github), json={}),  # 422
        upload(gh, release, "a.whl", b"x"),  # 201
        requests.get(releases_url(github), timeout=30),  # 401
        gh.delete(release["url"]),  # 204
    ]
    assert [r.status_code for r in responses] == [502, 200, 404, 422, 201, 401, 204]
    ids = set()
    for response in responses:
        for name in RATE_HEADERS:
            assert name in response.headers, (response.status_code, name)
        assert response.headers["x-ratelimit-resource"] == "core"
        limit = int(response.headers["x-ratelimit-limit"])
        used = int(response.headers["x-ratelimit-used"])
        assert int(response.headers["x-ratelimit-remaining"]) == limit - used
        ids.add(response.headers["x-github-request-id"])
    assert len(ids) == len(responses)
    counts = [int(r.headers["x-ratelimit-used"]) for r in responses]
    assert counts == sorted(counts)


def test_primary_rate_limit(github: GitHubAPI, gh: requests.Session) -> None:
    github.rate_limit(2, reset_in=5)
    before = int(time.time())
    for _ in range(2):
        response = gh.get(releases_url(github))
        assert response.status_code == 403
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert response.headers["x-ratelimit-used"] == response.headers["x-ratelimit-limit"]
        assert before + 5 <= int(response.headers["x-ratelimit-reset"]) <= int(time.time()) + 5
        assert response.json()["message"].startswith("API rate limit exceeded for ")
        assert "retry-after" not in response.headers
    after = gh.get(releases_url(github))
    assert after.status_code == 200
    assert int(after.headers["x-ratelimit-remaining"]) > 0


def test_secondary_rate_limit(github: GitHubAPI) -> None:
    github.secondary_limit(1, retry_after=7)
    status, headers, body = call(releases_url(github), headers=auth(github))
    assert status == 429
    assert headers["retry-after"] == "7"
    assert int(headers["x-ratelimit-remaining"]) > 0  # not the primary limit
    assert json.loads(body)["message"].startswith("You have exceeded a secondary rate limit")
    assert call(releases_url(github), headers=auth(github))[0] == 200


def test_fail_answers_the_front_s_html(github: GitHubAPI, gh: requests.Session) -> None:
    github.fail(2)
    for _ in range(2):
        status, headers, body = call(releases_url(github), headers=auth(github))
        assert status == 502
        assert headers["Content-Type"].startswith("text/html")
        assert b"<title>Unicorn! &middot; GitHub</title>" in body
    assert call(releases_url(github), headers=auth(github))[0] == 200
    github.fail(1, status=503)
    unavailable = gh.post(releases_url(github), json={"tag_name": "v1.0.0"})
    assert unavailable.status_code == 503
    assert b"No server is currently available" in unavailable.content
    assert github.releases == []  # a failed request changes nothing
    github.fail(1, status=500)
    assert gh.get(releases_url(github)).json() == {"message": "Internal Server Error"}


def test_faults_come_in_the_order_they_were_set(github: GitHubAPI, gh: requests.Session) -> None:
    github.fail(1)
    github.rate_limit(1)
    github.secondary_limit(1)
    statuses = [gh.get(releases_url(github)).status_code for _ in range(4)]
    assert statuses == [502, 403, 429, 200]


# --- pagination and observation ----------------------------------------------------------


def test_pagination_link_header(github: GitHubAPI, gh: requests.Session) -> None:
    created = [create(gh, github, tag_name=f"v1.{i}.0", draft=i % 2 == 0)["id"] for i in range(7)]
    first = gh.get(releases_url(github), params={"per_page": 3})
    assert first.links["next"]["url"].endswith("per_page=3&page=2")
    assert first.links["last"]["url"].endswith("per_page=3&page=3")
    assert "prev" not in first.links
    assert 'rel="next"' in first.headers["Link"]

    seen = [r["id"] for r in first.json()]
    page = first
    while "next" in page.links:
        page = gh.get(page.links["next"]["url"])
        assert page.status_code == 200
        seen += [r["id"] for r in page.json()]
    assert seen == created[::-1]  # newest first, drafts included
    assert "next" not in page.links
    assert page.links["prev"]["url"].endswith("page=2")
    assert page.links["first"]["url"].endswith("page=1")

    everything = gh.get(releases_url(github))  # default per_page is 30: one page
    assert len(everything.json()) == 7
    assert "Link" not in everything.headers
    beyond = gh.get(releases_url(github), params={"per_page": 3, "page": 9})
    assert beyond.json() == []
    capped = gh.get(releases_url(github), params={"per_page": 500})
    assert len(capped.json()) == 7  # capped at 100, not refused


def test_requests_are_logged_without_query(github: GitHubAPI, gh: requests.Session) -> None:
    release = create(gh, github, tag_name="v1.0.0", draft=True)
    upload(gh, release, "a.whl", b"x")
    gh.get(releases_url(github), params={"per_page": 1})
    assert github.requests == [
        ("POST", f"/repos/{REPO}/releases"),
        ("POST", f"/uploads/repos/{REPO}/releases/{release['id']}/assets"),
        ("GET", f"/repos/{REPO}/releases"),
    ]


def test_concurrent_uploads(github: GitHubAPI, gh: requests.Session) -> None:
    release = create(gh, github, tag_name="v1.0.0", draft=True)
    statuses: list[int] = []

    def send(index: int) -> None:
        with session_for(github) as session:
            statuses.append(upload(session, release, f"part-{index}.bin", b"x" * index).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(1, 13)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [201] * 12
    assets = gh.get(release["assets_url"], params={"per_page": 100}).json()
    assert len({a["id"] for a in assets}) == 12
    assert sorted(a["size"] for a in assets) == list(range(1, 13))


def test_env_and_clean_shutdown() -> None:
    with GitHubAPI(REPO) as github:
        env = github.env()
        assert env["GITHUB_API_URL"] == github.url
        assert not github.url.endswith("/")
        assert env["GITHUB_REPOSITORY"] == REPO
        assert env["GITHUB_TOKEN"] == github.token
        ports = [urlsplit(github.url).port, urlsplit(github.storage_url).port]
        assert all(ports)
        open_connection = socket.create_connection(("127.0.0.1", ports[0]), timeout=5)
    started = time.monotonic()
    for port in ports:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    open_connection.close()
    assert time.monotonic() - started < 5


def test_answer_with_replaces_the_next_matching_answer_once(
    github: GitHubAPI, gh: requests.Session
) -> None:
    github.answer_with("<html><title>Proxy</title></html>", content_type="text/html",
                       method="POST", path=rf"/repos/{REPO}/releases")  # fmt: skip
    assert gh.get(releases_url(github)).json() == []  # a GET does not match
    answer = gh.post(releases_url(github), json={"tag_name": "v1.0", "draft": True})
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/html"
    assert "x-ratelimit-remaining" in answer.headers  # still GitHub's front
    assert github.releases == []
    assert (
        gh.post(releases_url(github), json={"tag_name": "v1.0", "draft": True}).status_code == 201
    )
    github.answer_with([{"id": "not a number"}])
    assert gh.get(releases_url(github)).json() == [{"id": "not a number"}]


def test_a_stall_says_nothing_then_hangs_up(github: GitHubAPI, gh: requests.Session) -> None:
    github.stall(1, seconds=5)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        gh.get(releases_url(github), timeout=(5, 0.5))
    assert time.monotonic() - started < 2
    assert gh.get(releases_url(github), timeout=5).status_code == 200
    assert github.requests[0] == ("GET", f"/repos/{REPO}/releases")
