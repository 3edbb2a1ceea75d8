"""The simple index of one project: PEP 691 JSON, else PEP 503 HTML with ``#sha256=`` links.

One query answers the publish plan (which files the index already has, with what content) and
another verifies the upload. A missing project (404) is a new project, not an error.
"""

from __future__ import annotations

import datetime
import http.client
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

from packaging.utils import canonicalize_name

from ..errors import IndexUnavailableError

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
# JSON first; HTML from indexes that only speak PEP 503 (pypiserver, devpi's older versions).
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
TIMEOUT_S = 30.0
ATTEMPTS = 3


@dataclass(frozen=True)
class Listing:
    """What the index holds for the project: file name -> sha256 (None when not given)."""

    url: str
    files: dict[str, str | None]
    form: str  # "json" | "html" | "absent" (404: a new project)
    # When each file was uploaded, where the index says (PEP 700, JSON only).
    upload_times: dict[str, datetime.datetime] = field(default_factory=dict)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _html_files(text: str, base: str) -> dict[str, str | None]:
    parser = _Links()
    parser.feed(text)
    files: dict[str, str | None] = {}
    for href in parser.hrefs:
        url = urljoin(base, href)
        parts = urlsplit(url)
        name = unquote(parts.path.rsplit("/", 1)[-1])
        algorithm, _, digest = parts.fragment.partition("=")
        files[name] = digest.lower() if algorithm == "sha256" and digest else None
    return files


def _json_files(data: object) -> dict[str, str | None]:
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ValueError("no files list")
    files: dict[str, str | None] = {}
    for entry in data["files"]:
        hashes = entry.get("hashes") or {}
        files[str(entry["filename"])] = hashes.get("sha256")
    return files


def _json_upload_times(data: object) -> dict[str, datetime.datetime]:
    """File name -> ``upload-time`` (PEP 700), for the entries that give a readable one."""
    times: dict[str, datetime.datetime] = {}
    entries = data.get("files") if isinstance(data, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        stamp = entry.get("upload-time") if isinstance(entry, dict) else None
        if not isinstance(stamp, str):
            continue
        try:
            # PEP 700: ISO 8601 in UTC, with a Z (which fromisoformat reads from 3.11 on).
            when = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            continue
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        times[str(entry.get("filename"))] = when
    return times


def project_url(index_url: str, project: str) -> str:
    return f"{index_url.rstrip('/')}/{canonicalize_name(project)}/"


def query(index_url: str, project: str) -> Listing:
    """The index's listing for ``project``; :class:`IndexUnavailableError` when it cannot be
    read after a few tries (connection errors and 5xx are retried, with a short backoff)."""
    url = project_url(index_url, project)
    problem = ""
    for attempt in range(ATTEMPTS):
        if attempt:
            time.sleep(2**attempt)
        request = urllib.request.Request(
            url, headers={"Accept": ACCEPT, "Cache-Control": "no-cache"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                body = response.read().decode("utf-8", "replace")
                content_type = response.headers.get_content_type()
                final = response.geturl()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return Listing(url, {}, "absent")
            problem = f"HTTP {exc.code} {exc.reason}"
            if exc.code < 500 and exc.code != 429:
                break
            continue
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            problem = f"no answer ({reason})"
            continue
        try:
            if content_type in (JSON_TYPE, "application/json"):
                data = json.loads(body)
                return Listing(url, _json_files(data), "json", _json_upload_times(data))
            return Listing(url, _html_files(body, final), "html")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            # AttributeError: JSON whose entries or hashes are not objects ({"files": [1]}).
            problem = f"an answer that is not a simple index page ({type(exc).__name__}: {exc})"
            break
    raise IndexUnavailableError(
        f"the index {url} could not be read: {problem}.",
        "check the index URL ([tool.release.publish] index-url or repository) and your "
        "network; if the index is down, run the stage again later: it uploads only what is "
        "missing.",
    )
