"""The GitHub REST API, as far as releases and build provenance need it: ``$GITHUB_API_URL``
with ``GITHUB_TOKEN``.

On the HTTP layer (:mod:`release.http`: timeouts, bounded retries of outages, the token
never following a redirect to another origin such as the storage asset downloads go to).
GitHub's own rules on top: a primary rate limit waits until ``x-ratelimit-reset``, a
secondary one for ``retry-after`` (or a minute), both bounded; a POST whose answer was lost
is settled by looking before it is sent again. Every object the stage uses is checked for
the fields it needs, so a broken answer is a :class:`GitHubError` naming the URL. The token
travels in the Authorization header only and is registered with the console first, so it
is masked in Actions and redacted from everything printed.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from ..console import Console
from ..errors import GitHubError, ProvenanceRefusedError
from ..http import Answer, Http, UnexpectedAnswer
from ..workflows.actions import PUBLISH_JOB_PERMISSIONS, permissions_yaml

SECONDARY_WAIT_S = 60.0  # GitHub: without retry-after, wait a minute
API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"
# What the API's objects must hold for the stage to use them.
RELEASE_FIELDS: dict[str, type] = {"id": int, "tag_name": str, "upload_url": str}
ASSET_FIELDS: dict[str, type] = {"id": int, "name": str, "size": int, "url": str}
# A token's kind by its prefix (github.blog/2021-04-05-behind-githubs-new-authentication-
# token-formats): said in a message instead of anything of the token itself.
TOKEN_KINDS = {
    "ghs_": "an installation token, as a job's GITHUB_TOKEN is",
    "ghp_": "a classic personal access token",
    "github_pat_": "a fine-grained personal access token",
    "gho_": "an OAuth token",
    "ghu_": "a GitHub App user token",
}


def token_kind(token: str) -> str:
    return next((kind for prefix, kind in TOKEN_KINDS.items() if token.startswith(prefix)),
                "a token of unknown kind")  # fmt: skip


def _secondary_limit(answer: Answer) -> bool:
    return b"secondary rate limit" in answer.body.lower()


def api_base(url: str, variable: str = "GITHUB_API_URL") -> str:
    """``url`` without its trailing slash, once it is an http(s) URL with a host and a port
    that can be; else a :class:`GitHubError` naming ``variable``, where it came from."""
    parts = urllib.parse.urlsplit(url.strip())
    problem = ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "not an http(s) URL with a host"
    else:
        try:
            parts.port  # noqa: B018 - urllib checks the port when it is read
        except ValueError as exc:
            problem = f"its port is not one ({exc})"
    if problem:
        raise GitHubError(
            f"{variable} is {url!r}: {problem}.",
            f"unset {variable} (GitHub Actions sets it; the default is {DEFAULT_API_URL}), or "
            "set it to your GitHub Enterprise Server's API, like "
            "https://github.example.com/api/v3.",
        )
    return url.strip().rstrip("/")


def _message(answer: Answer) -> str:
    if answer.lost:
        return answer.problem
    try:
        data = json.loads(answer.body)
    except ValueError:
        return answer.what_it_is() if answer.body.strip() else f"HTTP {answer.status}"
    if isinstance(data, dict):
        errors = data.get("errors")
        codes = ", ".join(
            f"{e.get('resource', '')} {e.get('field', '')} {e.get('code', '')}".strip()
            for e in errors if isinstance(e, dict)
        ) if isinstance(errors, list) else ""  # fmt: skip
        return f"{data.get('message', '')}{' (' + codes + ')' if codes else ''}"
    return str(data)[:200]


def _settled(url: str, data: Mapping[str, Any]) -> Answer:
    """The answer a try that was lost would have given: what GitHub shows now."""
    return Answer("GET", url, 201, {"content-type": "application/json"},
                  json.dumps(data).encode(), url)  # fmt: skip


class GitHub:
    def __init__(
        self,
        api_url: str,
        token: str,
        repository: str,
        console: Console,
        *,
        token_source: str = "GITHUB_TOKEN",
        http: Http | None = None,
    ) -> None:
        self.api_url = api_base(api_url)
        self.default_api = self.api_url == DEFAULT_API_URL
        self.repository = repository
        self.console = console
        self._token = token
        self.token_source = token_source
        console.register_secret(token)
        self.http = http or Http(announce=self._announce)

    @property
    def requests(self) -> int:
        return self.http.requests

    def _announce(self, answer: Answer, delay: float) -> None:
        self.console.line(f"  GitHub answered {answer.status or 'nothing'}; again in {delay:.0f}s")

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
        before_retry: Callable[[], Answer | None] | None = None,
    ) -> Answer:
        """One API call, retried across rate limits and outages; a :class:`GitHubError`
        for any other answer than ``expect``. ``before_retry`` runs before each new try
        after an outage; an answer from it ends the call as if the try had succeeded."""
        # A path of the API, or a URL GitHub gave (an upload URL, a Link, an asset's url).
        url = f"{self.api_url}{path_or_url}" if path_or_url.startswith("/") else path_or_url
        body = data
        extra = dict(headers or {})
        if payload is not None:
            body = json.dumps(payload).encode()
            extra.setdefault("Content-Type", "application/json")
        answer = self.http.call(
            method, url, data=body, expect=expect, wait=self._wait, settle=before_retry,
            headers={
                "Accept": "application/vnd.github+json",
                "Authorization": f"Bearer {self._token}",
                "X-GitHub-Api-Version": API_VERSION,
                **extra,
            },
        )  # fmt: skip
        if answer.status not in expect:
            raise self._error(method, url, answer, what)
        return answer

    def _wait(self, answer: Answer, attempt: int) -> float | None:
        """How long to wait before trying again; None when trying again cannot help."""
        headers, policy = answer.headers, self.http.policy
        if answer.status in (403, 429):
            after = policy.retry_after(headers)
            if after is not None:  # a secondary rate limit
                return min(after, policy.longest_wait_s)
            if headers.get("x-ratelimit-remaining") == "0":
                try:
                    reset = float(headers.get("x-ratelimit-reset") or 0) - time.time()
                except ValueError:
                    return None
                return max(reset, 0.0) + 1.0 if reset <= policy.longest_wait_s else None
            if _secondary_limit(answer):
                return SECONDARY_WAIT_S
            return None
        return self.http.wait_for(answer, attempt)

    def _unexpected(self, exc: UnexpectedAnswer, doing: str) -> GitHubError:
        where = "" if self.default_api else f" ({self.api_url}, from GITHUB_API_URL)"
        return GitHubError(
            f"GitHub's API{where} answered {doing} with {exc.found}, not {exc.expected}: "
            f"{exc.url}.",
            "run the stage again later (https://www.githubstatus.com)"
            if self.default_api
            else "check that GITHUB_API_URL is the API of your GitHub (…/api/v3 on GitHub "
            "Enterprise Server), then run the stage again",
        )

    def _object(self, answer: Answer, fields: Mapping[str, type], doing: str) -> dict[str, Any]:
        try:
            return answer.json_object(fields)
        except UnexpectedAnswer as exc:
            raise self._unexpected(exc, doing) from None

    def _list(self, answer: Answer, fields: Mapping[str, type], doing: str) -> list[dict[str, Any]]:
        try:
            return answer.json_list(fields)
        except UnexpectedAnswer as exc:
            raise self._unexpected(exc, doing) from None

    def _error(self, method: str, url: str, answer: Answer, what: str) -> GitHubError:
        said = _message(answer)
        shown = url.replace(self.api_url, "") if url.startswith(self.api_url) else url
        doing = what or f"{method} {shown}"
        status = answer.status
        if status == 401:
            return GitHubError(
                f"GitHub refused the token while {doing}: {said}.",
                "in Actions, pass GITHUB_TOKEN: ${{ github.token }} to the step; elsewhere set "
                "GITHUB_TOKEN to a token with access to the repository.",
            )
        if status == 403 and answer.headers.get("x-ratelimit-remaining") == "0":
            reset = answer.headers.get("x-ratelimit-reset", "?")
            return GitHubError(
                f"GitHub's API rate limit is used up while {doing}; it resets at {reset} (unix "
                "time), too far ahead to wait for.",
                "run the stage again after the reset: it reuses what it created.",
            )
        if status in (403, 429) and _secondary_limit(answer):
            return GitHubError(
                f"GitHub's secondary rate limit stopped {doing}, again after waiting: {said}.",
                "run the stage again in a few minutes: it reuses what it created.",
            )
        if status in (403, 422) and "/attestations" in shown and method == "POST":
            return _attestation_refused(status, doing, said, self.repository)
        if status == 403 and "/attestations" in shown:
            return GitHubError(
                f"GitHub refused {doing} of {self.repository}: {said}.",
                "a job's GITHUB_TOKEN reads them with permissions: contents: read; a "
                "fine-grained token needs attestations: read.",
            )
        if status == 403:
            return GitHubError(
                f"GitHub refused {doing}: {said}.",
                "the job needs permissions: contents: write (on the github-release job alone).",
            )
        if status == 404 and shown.startswith(f"/repos/{self.repository}/releases?"):
            return GitHubError(
                f"GitHub answered 404 (Not Found) while {doing} of {self.repository} (from "
                f"GITHUB_REPOSITORY), with the token from {self.token_source} "
                f"({token_kind(self._token)}): the repository does not exist, or this token "
                "cannot see it.",
                "check that GITHUB_REPOSITORY is owner/name of the repository to release; a "
                "job's GITHUB_TOKEN reaches only the repository its workflow runs in: for "
                f"another one, set {self.token_source} to a token with access to it.",
            )
        if answer.outage:
            if answer.lost and not self.default_api:
                return GitHubError(
                    f"{self.api_url} (from GITHUB_API_URL) gave {answer.summary()} while "
                    f"{doing}, after {answer.attempt} tries.",
                    "check that GITHUB_API_URL is the API of your GitHub (host and port; "
                    "…/api/v3 on GitHub Enterprise Server), then run the stage again: it "
                    "reuses what it created.",
                )
            return GitHubError(
                f"GitHub did not answer {doing} after {answer.attempt} tries ({said}).",
                "run the stage again later (https://www.githubstatus.com); it reuses what it "
                "created.",
            )
        return GitHubError(
            f"GitHub refused {doing}: HTTP {status}: {said}.",
            "read GitHub's message; fix the request's cause and run again.",
        )

    # --- releases ----------------------------------------------------------------------

    def release_for_tag(self, tag: str) -> dict[str, Any] | None:
        """The release of ``tag``: the published one if there is one, else the newest draft.
        The tag endpoint shows published releases only, and a draft left by a failed run
        must be reused, not duplicated; GitHub lets drafts share a tag with each other and
        with the published release, and only the published one can take the version."""
        url = f"/repos/{self.repository}/releases?per_page=100"
        newest_draft = None
        doing = "listing the releases"
        for _page in range(20):
            answer = self.request("GET", url, what=doing)
            for release in self._list(answer, RELEASE_FIELDS, doing):  # newest first
                if release["tag_name"] != tag:
                    continue
                if not release.get("draft"):
                    return release
                newest_draft = newest_draft or release
            url = _next_link(answer.headers.get("Link", ""))
            if not url:
                break
        return newest_draft

    def create_release(self, tag: str, *, prerelease: bool) -> dict[str, Any]:
        url = f"/repos/{self.repository}/releases"

        def settle() -> Answer | None:
            # The answer may be lost after GitHub made the draft: a second would be a duplicate.
            made = self.release_for_tag(tag)
            return None if made is None else _settled(url, made)

        doing = f"creating the draft release {tag}"
        answer = self.request(
            "POST", url,
            payload={"tag_name": tag, "name": tag, "draft": True, "prerelease": prerelease,
                     "generate_release_notes": True},
            expect=(201,), what=doing, before_retry=settle,
        )  # fmt: skip
        return self._object(answer, RELEASE_FIELDS, doing)

    def assets(self, release: Mapping[str, Any]) -> list[dict[str, Any]]:
        url = f"/repos/{self.repository}/releases/{release['id']}/assets?per_page=100"
        found: list[dict[str, Any]] = []
        doing = "listing the release's assets"
        while url:
            answer = self.request("GET", url, what=doing)
            found += self._list(answer, ASSET_FIELDS, doing)
            url = _next_link(answer.headers.get("Link", ""))
        return found

    def download(self, asset: Mapping[str, Any]) -> bytes:
        answer = self.request(
            "GET", str(asset["url"]), headers={"Accept": "application/octet-stream"},
            what=f"downloading {asset['name']}",
        )  # fmt: skip
        return answer.body

    def delete_asset(self, asset: Mapping[str, Any]) -> None:
        self.request(
            "DELETE", f"/repos/{self.repository}/releases/assets/{asset['id']}",
            # 404: gone already (a retry after an answer that was lost)
            expect=(204, 404), what=f"deleting the unfinished asset {asset['name']}",
        )  # fmt: skip

    def upload(self, release: Mapping[str, Any], name: str, data: bytes) -> dict[str, Any]:
        template = str(release["upload_url"])
        url = template.split("{", 1)[0] + "?" + urllib.parse.urlencode({"name": name})

        def settle() -> Answer | None:
            # A failed upload can leave the asset behind: complete (the answer was lost) or
            # empty in state "starter", which makes every new try a 422 until deleted.
            for asset in self.assets(release):
                if asset["name"] != name:
                    continue
                if asset.get("state") == "uploaded" and same_content(asset, data) is not False:
                    return _settled(url, asset)
                self.delete_asset(asset)
            return None

        doing = f"uploading {name}"
        answer = self.request(
            "POST", url, data=data,
            headers={"Content-Type": "application/octet-stream",
                     "Content-Length": str(len(data))},
            expect=(201,), what=doing, before_retry=settle,
        )  # fmt: skip
        return self._object(answer, ASSET_FIELDS, doing)

    def publish(self, release: Mapping[str, Any], *, latest: bool) -> dict[str, Any]:
        doing = f"publishing the release {release.get('tag_name')}"
        answer = self.request(
            "PATCH", f"/repos/{self.repository}/releases/{release['id']}",
            payload={"draft": False, "make_latest": "true" if latest else "false"}, what=doing,
        )  # fmt: skip
        return self._object(answer, RELEASE_FIELDS, doing)

    # --- attestations (docs.github.com/rest/repos/attestations) ------------------------

    def attestations_for(self, sha256: str) -> list[dict[str, Any]]:
        """The attestations GitHub holds of the file with this sha256 (its Sigstore
        bundles, newest first); none is a 404 to GitHub, an empty list here."""
        url = f"/repos/{self.repository}/attestations/sha256:{sha256}?per_page=100"
        doing = "listing the attestations of a file"
        answer = self.request("GET", url, expect=(200, 404), what=doing)
        if answer.status == 404:
            return []
        found = self._object(answer, {"attestations": list}, doing)["attestations"]
        return [item for item in found if isinstance(item, dict)]

    def bundle_of(self, attestation: Mapping[str, Any]) -> dict[str, Any] | None:
        """An attestation's Sigstore bundle, from the list above: inline in ``bundle``, or,
        as GitHub answers since July 2026 whatever the API version, ``bundle: null`` and a
        ``bundle_url``: a pre-signed blob-storage URL serving snappy-compressed JSON (what
        ``gh attestation`` reads). That URL is asked without the token, which must not leave
        GitHub's API. None when neither gives a bundle."""
        inline = attestation.get("bundle")
        if isinstance(inline, dict):
            return inline
        url = attestation.get("bundle_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            return None
        answer = self.http.call("GET", url)
        if answer.status != 200:
            raise GitHubError(
                f"the attestation bundle GitHub points to could not be read: "
                f"{answer.status or answer.problem} from its storage.",
                "run the stage again later: nothing was stored twice meanwhile.",
            )
        return decode_bundle(answer.body)

    def create_attestation(self, bundle: Mapping[str, Any], sha256: str) -> int | None:
        """Store a Sigstore bundle as an attestation of the repository: its id. ``sha256``
        is one of its subjects', to look it up by when the answer to the POST was lost
        (then the id is unknown: GitHub's list does not give it)."""
        url = f"/repos/{self.repository}/attestations"

        def settle() -> Answer | None:
            stored = any(self.bundle_of(item) == bundle for item in self.attestations_for(sha256))
            return _settled(url, {"id": None}) if stored else None

        doing = "storing the build provenance attestation"
        answer = self.request(
            "POST", url, payload={"bundle": bundle}, expect=(201,), what=doing,
            before_retry=settle,
        )  # fmt: skip
        found = self._object(answer, {}, doing).get("id")
        return found if isinstance(found, int) else None


BUNDLE_MAX_BYTES = 16 << 20  # a Sigstore bundle is a few KiB: more is not one


def decode_bundle(data: bytes) -> dict[str, Any] | None:
    """A bundle as GitHub's storage serves it: snappy-compressed JSON (the raw block format,
    which gh reads; a framed stream too), or plain JSON. None when it is neither."""
    import cramjam

    candidates: list[bytes] = [data]
    if not data.lstrip().startswith(b"{"):
        for decompress in (_snappy_raw, cramjam.snappy.decompress):
            try:
                candidates.insert(0, bytes(decompress(data)))
                break
            except (cramjam.DecompressionError, ValueError):
                continue
    for candidate in candidates:
        try:
            bundle = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(bundle, dict):
            return bundle
    return None


def _snappy_raw(data: bytes) -> bytes:
    """A snappy block, refused before decompressing when it says it holds more than
    :data:`BUNDLE_MAX_BYTES` (its length is its leading varint)."""
    import cramjam

    length, shift = 0, 0
    for byte in data[:5]:
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    if length > BUNDLE_MAX_BYTES:
        raise ValueError(f"a snappy block of {length} bytes is no attestation bundle")
    return bytes(cramjam.snappy.decompress_raw(data))


def _attestation_refused(
    status: int, doing: str, said: str, repository: str
) -> ProvenanceRefusedError:
    if status == 403:
        return ProvenanceRefusedError(
            f"GitHub refused {doing} in {repository}: {said}. The job's token lacks "
            "attestations: write (or, for a private repository, its plan has no artifact "
            "attestations: they need GitHub Enterprise Cloud there).",
            "give the job that runs `nox -s provenance` the permissions (nox-release "
            "workflows --write does), and pass it GITHUB_TOKEN: ${{ github.token }}:\n"
            + permissions_yaml("publish", PUBLISH_JOB_PERMISSIONS),
        )
    return ProvenanceRefusedError(
        f"GitHub refused {doing} in {repository} as malformed (422): {said}. nox-release "
        "made it with sigstore-python and checked its signature before sending it.",
        "report it to nox-release with this message: GitHub expects another bundle than "
        "the one sigstore-python writes.",
    )


def same_content(asset: Mapping[str, Any], data: bytes) -> bool | None:
    """Whether an asset holds ``data`` by its ``digest``; None for an older asset without
    one whose size matches (only its bytes can tell), False when the size already differs.
    The asset's fields were checked when it was read (:data:`ASSET_FIELDS`)."""
    if asset["size"] != len(data):
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
