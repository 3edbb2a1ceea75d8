"""The GitHub REST API, as far as releases need it: ``$GITHUB_API_URL`` with ``GITHUB_TOKEN``.

Rate limits are honoured (a primary limit waits until ``x-ratelimit-reset``, a secondary one
for ``retry-after``), 5xx answers are retried with backoff; both bounded in count and time.
The token travels in the Authorization header only and is registered with the console
first, so it is masked in Actions and redacted from everything printed.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

from ..console import Console
from ..errors import GitHubError

ATTEMPTS = 5
BACKOFF_S = (1.0, 2.0, 4.0, 8.0)
LONGEST_WAIT_S = 120.0
SECONDARY_WAIT_S = 60.0  # a rate limit that resets later than this is reported, not waited out
TIMEOUT_S = 60.0
API_VERSION = "2022-11-28"


@dataclass
class Response:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _secondary_limit(response: Response) -> bool:
    return b"secondary rate limit" in response.body.lower()


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port


class _TokenStaysHome(urllib.request.HTTPRedirectHandler):
    """Redirects keep the token only on the API's own origin: an asset download goes on to
    signed storage URLs, which refuse (400) a request that also carries a token, and must
    never see it anyway."""

    def redirect_request(  # noqa: PLR0917 - the signature of the method it overrides
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(newurl) != _origin(req.full_url):
            new.remove_header("Authorization")
        return new


_OPENER = urllib.request.build_opener(_TokenStaysHome)


def _message(response: Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.body[:200].decode("utf-8", "replace").strip() or f"HTTP {response.status}"
    if isinstance(data, dict):
        errors = data.get("errors")
        codes = ", ".join(
            f"{e.get('resource', '')} {e.get('field', '')} {e.get('code', '')}".strip()
            for e in errors if isinstance(e, dict)
        ) if isinstance(errors, list) else ""  # fmt: skip
        return f"{data.get('message', '')}{' (' + codes + ')' if codes else ''}"
    return str(data)[:200]


class GitHub:
    def __init__(self, api_url: str, token: str, repository: str, console: Console) -> None:
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self.console = console
        self._token = token
        console.register_secret(token)
        self.requests = 0

    def _send(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]
    ) -> Response:
        request = urllib.request.Request(url, data=body, method=method, headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self._token}",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "nox-release",
            **headers,
        })  # fmt: skip
        self.requests += 1
        try:
            with _OPENER.open(request, timeout=TIMEOUT_S) as answer:
                return Response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as exc:
            return Response(exc.code, exc.headers, exc.read())

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        payload: object = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (200,),
        what: str = "",
        before_retry: Callable[[], Response | None] | None = None,
    ) -> Response:
        """One API call, retried across rate limits and outages; a :class:`GitHubError`
        for any other answer than ``expect``. ``before_retry`` runs before each new try
        after an outage; an answer from it ends the call as if the try had succeeded."""
        url = path_or_url if "://" in path_or_url else f"{self.api_url}{path_or_url}"
        extra = dict(headers or {})
        body = data
        if payload is not None:
            body = json.dumps(payload).encode()
            extra.setdefault("Content-Type", "application/json")
        started = time.monotonic()
        for attempt in range(1, ATTEMPTS + 1):
            try:
                response = self._send(method, url, body, extra)
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                response = Response(0, Message(), str(getattr(exc, "reason", exc)).encode())
            if response.status in expect:
                return response
            wait = self._wait(response, attempt)
            if wait is None or attempt == ATTEMPTS or time.monotonic() - started + wait > 600:
                raise self._error(method, url, response, what)
            self.console.line(
                f"  GitHub answered {response.status or 'nothing'}; again in {wait:.0f}s"
            )
            time.sleep(wait)
            outage = response.status == 0 or response.status >= 500
            if outage and before_retry is not None:
                settled = before_retry()
                if settled is not None:
                    return settled
        raise AssertionError("unreachable")

    def _wait(self, response: Response, attempt: int) -> float | None:
        """How long to wait before trying again; None when trying again cannot help."""
        headers = response.headers
        if response.status in (403, 429):
            if headers.get("retry-after"):  # a secondary rate limit
                return min(float(headers["retry-after"]), LONGEST_WAIT_S)
            if headers.get("x-ratelimit-remaining") == "0":
                reset = float(headers.get("x-ratelimit-reset") or 0) - time.time()
                return max(reset, 0.0) + 1.0 if reset <= LONGEST_WAIT_S else None
            if _secondary_limit(response):
                return SECONDARY_WAIT_S  # GitHub: without retry-after, wait a minute
            return None
        if response.status == 0 or response.status >= 500:
            return BACKOFF_S[min(attempt - 1, len(BACKOFF_S) - 1)]
        return None

    def _error(self, method: str, url: str, response: Response, what: str) -> GitHubError:
        said = _message(response)
        shown = url.replace(self.api_url, "") if url.startswith(self.api_url) else url
        doing = what or f"{method} {shown}"
        if response.status == 401:
            return GitHubError(
                f"GitHub refused the token while {doing}: {said}.",
                "in Actions, pass GITHUB_TOKEN: ${{ github.token }} to the step; elsewhere set "
                "GITHUB_TOKEN to a token with access to the repository.",
            )
        if response.status == 403 and response.headers.get("x-ratelimit-remaining") == "0":
            reset = response.headers.get("x-ratelimit-reset", "?")
            return GitHubError(
                f"GitHub's API rate limit is used up while {doing}; it resets at {reset} (unix "
                "time), too far ahead to wait for.",
                "run the stage again after the reset: it reuses what it created.",
            )
        if response.status in (403, 429) and _secondary_limit(response):
            return GitHubError(
                f"GitHub's secondary rate limit stopped {doing}, again after waiting: {said}.",
                "run the stage again in a few minutes: it reuses what it created.",
            )
        if response.status == 403:
            return GitHubError(
                f"GitHub refused {doing}: {said}.",
                "the job needs permissions: contents: write (on the github-release job alone).",
            )
        if response.status == 0 or response.status >= 500:
            return GitHubError(
                f"GitHub did not answer {doing} after {ATTEMPTS} tries ({said}).",
                "run the stage again later (https://www.githubstatus.com); it reuses what it "
                "created.",
            )
        return GitHubError(
            f"GitHub refused {doing}: HTTP {response.status}: {said}.",
            "read GitHub's message; fix the request's cause and run again.",
        )

    # --- releases ----------------------------------------------------------------------

    def release_for_tag(self, tag: str) -> dict[str, Any] | None:
        """The release of ``tag``: the published one if there is one, else the newest draft.
        The tag endpoint shows published releases only, and a draft left by a failed run
        must be reused, not duplicated; GitHub lets drafts share a tag with each other and
        with the published release, and only the published one can take the version."""
        url = f"{self.api_url}/repos/{self.repository}/releases?per_page=100"
        newest_draft = None
        for _page in range(20):
            response = self.request("GET", url, what="listing the releases")
            for release in response.json() or []:  # newest first
                if release.get("tag_name") != tag:
                    continue
                if not release.get("draft"):
                    return dict(release)
                newest_draft = newest_draft or dict(release)
            url = _next_link(response.headers.get("Link", ""))
            if not url:
                break
        return newest_draft

    def create_release(self, tag: str, *, prerelease: bool) -> dict[str, Any]:
        def settle() -> Response | None:
            # The answer may be lost after GitHub made the draft: a second would be a duplicate.
            made = self.release_for_tag(tag)
            return None if made is None else Response(201, Message(), json.dumps(made).encode())

        response = self.request(
            "POST",
            f"/repos/{self.repository}/releases",
            payload={"tag_name": tag, "name": tag, "draft": True, "prerelease": prerelease,
                     "generate_release_notes": True},
            expect=(201,),
            what=f"creating the draft release {tag}",
            before_retry=settle,
        )  # fmt: skip
        return dict(response.json())

    def assets(self, release: Mapping[str, Any]) -> list[dict[str, Any]]:
        url = f"{self.api_url}/repos/{self.repository}/releases/{release['id']}/assets?per_page=100"
        found: list[dict[str, Any]] = []
        while url:
            response = self.request("GET", url, what="listing the release's assets")
            found += [dict(a) for a in response.json() or []]
            url = _next_link(response.headers.get("Link", ""))
        return found

    def download(self, asset: Mapping[str, Any]) -> bytes:
        response = self.request(
            "GET", str(asset["url"]), headers={"Accept": "application/octet-stream"},
            what=f"downloading {asset['name']}",
        )  # fmt: skip
        return response.body

    def delete_asset(self, asset: Mapping[str, Any]) -> None:
        self.request(
            "DELETE", f"/repos/{self.repository}/releases/assets/{asset['id']}",
            # 404: gone already (a retry after an answer that was lost)
            expect=(204, 404), what=f"deleting the unfinished asset {asset['name']}",
        )  # fmt: skip

    def upload(self, release: Mapping[str, Any], name: str, data: bytes) -> dict[str, Any]:
        template = str(release["upload_url"])
        url = template.split("{", 1)[0] + "?" + urllib.parse.urlencode({"name": name})

        def settle() -> Response | None:
            # A failed upload can leave the asset behind: complete (the answer was lost) or
            # empty in state "starter", which makes every new try a 422 until deleted.
            for asset in self.assets(release):
                if asset.get("name") != name:
                    continue
                if asset.get("state") == "uploaded" and same_content(asset, data) is not False:
                    return Response(201, Message(), json.dumps(asset).encode())
                self.delete_asset(asset)
            return None

        response = self.request(
            "POST", url, data=data,
            headers={"Content-Type": "application/octet-stream",
                     "Content-Length": str(len(data))},
            expect=(201,), what=f"uploading {name}", before_retry=settle,
        )  # fmt: skip
        return dict(response.json())

    def publish(self, release: Mapping[str, Any], *, latest: bool) -> dict[str, Any]:
        response = self.request(
            "PATCH", f"/repos/{self.repository}/releases/{release['id']}",
            payload={"draft": False, "make_latest": "true" if latest else "false"},
            what=f"publishing the release {release.get('tag_name')}",
        )  # fmt: skip
        return dict(response.json())


def same_content(asset: Mapping[str, Any], data: bytes) -> bool | None:
    """Whether an asset holds ``data`` by its ``digest``; None for an older asset without
    one whose size matches (only its bytes can tell), False when the size already differs."""
    if int(asset.get("size", -1)) != len(data):
        return False
    digest = str(asset.get("digest") or "")
    if digest.startswith("sha256:"):
        return digest == f"sha256:{hashlib.sha256(data).hexdigest()}"
    return None


def _next_link(header: str) -> str:
    for part in header.split(","):
        if 'rel="next"' in part:
            return part.split(";", 1)[0].strip().strip("<>")
    return ""
