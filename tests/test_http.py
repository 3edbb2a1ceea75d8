"""The HTTP layer's own rules (release/http.py): its settings, the shapes it checks, and the
bounds of its retry loop, against the GitHub API emulator (a real server on 127.0.0.1)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from emulators.github_api import GitHubAPI

from release.errors import ConfigValueError
from release.http import Answer, Http, Policy, UnexpectedAnswer, checked_object, same_origin

FAST = Policy(backoff_s=0.01, read_s=1.0)


@pytest.fixture
def github() -> Iterator[GitHubAPI]:
    with GitHubAPI() as server:
        yield server
        assert not server.errors


def test_the_defaults_are_sensible_and_the_environment_sets_them() -> None:
    policy = Policy.from_environ({})
    assert (policy.connect_s, policy.read_s, policy.upload_read_s) == (10.0, 60.0, 300.0)
    assert [policy.backoff(n) for n in (1, 2, 3, 6)] == [1.0, 2.0, 4.0, 16.0]
    policy = Policy.from_environ({"NOX_RELEASE_UPLOAD_TIMEOUT": "2.5",
                                  "NOX_RELEASE_RETRY_BACKOFF": " 0 "})  # fmt: skip
    assert policy.upload_read_s == 2.5 and policy.backoff(3) == 0.0


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_setting_that_is_no_number_of_seconds_is_named(value: str) -> None:
    with pytest.raises(ConfigValueError, match="NOX_RELEASE_READ_TIMEOUT is"):
        Policy.from_environ({"NOX_RELEASE_READ_TIMEOUT": value})


def test_retry_after_in_seconds_or_as_a_date() -> None:
    policy = Policy()
    assert policy.retry_after({"retry-after": "7"}) == 7.0
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 < (policy.retry_after({"retry-after": later}) or 0) <= 30
    assert policy.retry_after({}) is None and policy.retry_after({"retry-after": "x"}) is None


def test_checked_objects() -> None:
    assert checked_object({"id": 1, "name": "a"}, "u", {"id": int}) == {"id": 1, "name": "a"}
    for data, found in [
        ([], "a JSON list"),
        ({}, "an object without 'id'"),
        ({"id": True}, "'id' = true, not a number"),  # a bool is no id
        ({"id": "7"}, "'id' = \"7\", not a number"),
    ]:
        with pytest.raises(UnexpectedAnswer, match=found):
            checked_object(data, "https://api.example/x", {"id": int})


@pytest.mark.parametrize(
    ("body", "found"),
    [
        (b"<!DOCTYPE html><html><title>Just a moment...</title></html>",
         "an HTML page ('Just a moment...')"),
        (b"\xff\xfe garbage", "text/plain that is not JSON"),
        (b"", "an empty body"),
    ],
)  # fmt: skip
def test_an_answer_that_is_not_json_is_named_with_its_url(body: bytes, found: str) -> None:
    answer = Answer("GET", "https://x.example/api", 200, {"content-type": "text/plain"}, body)
    with pytest.raises(UnexpectedAnswer, match=r"https://x\.example/api answered") as caught:
        answer.json()
    assert found in str(caught.value)


def test_origins() -> None:
    assert same_origin("https://api.github.com/a", "https://API.github.com:443/b")
    assert not same_origin("https://api.github.com/a", "http://api.github.com/a")
    assert not same_origin("http://127.0.0.1:80/a", "http://127.0.0.1:8080/a")


def test_outages_are_retried_within_the_attempts_and_a_refusal_is_not(github: GitHubAPI) -> None:
    http = Http(FAST)
    url = f"{github.url}/repos/{github.repository}/releases"
    auth = {"Authorization": f"Bearer {github.token}"}
    github.fail(2, status=503)
    answer = http.call("GET", url, headers=auth)
    assert answer.status == 200 and answer.attempt == 3 and http.requests == 3
    github.fail(FAST.attempts, status=502)  # one per try: none left over
    answer = http.call("GET", url, headers=auth)
    assert answer.status == 502 and answer.attempt == FAST.attempts
    assert answer.summary().startswith("HTTP 502 Bad Gateway with an HTML page")
    answer = http.call("GET", url, headers={"Authorization": "Bearer wrong"})
    assert answer.status == 401 and answer.attempt == 1  # no retry: it cannot help


def test_a_settled_post_is_not_sent_again(github: GitHubAPI) -> None:
    http = Http(FAST)
    github.fail(1, status=502)
    settled = Answer("POST", "u", 201)
    answer = http.call("POST", f"{github.url}/repos/{github.repository}/releases",
                       data=b"{}", expect=(201,), settle=lambda: settled)  # fmt: skip
    assert answer is settled and [m for m, _ in github.requests] == ["POST"]


def test_a_stall_is_a_lost_answer_after_the_read_timeout(github: GitHubAPI) -> None:
    github.stall(1, seconds=30)
    started = time.monotonic()
    answer = Http(FAST).send("GET", f"{github.url}/repos/{github.repository}/releases")
    assert answer.lost and answer.problem == "timed out after 1s without an answer"
    assert time.monotonic() - started < 5
    refused = Http(FAST).send("GET", "http://127.0.0.1:9/")
    assert refused.lost and refused.problem == "connection refused"
    assert Http(FAST).send("GET", "not-a-url").problem.startswith("not an http(s) URL")
