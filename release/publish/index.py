"""The simple index of one project: PEP 691 JSON, else PEP 503 HTML with ``#sha256=`` links.

One query answers the publish plan (which files the index already has, with what content) and
another verifies the upload. A missing project (404) is a new project, not an error.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

from packaging.utils import canonicalize_name

from ..errors import IndexUnavailableError
from ..http import Http, UnexpectedAnswer

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
# JSON first; HTML from indexes that only speak PEP 503 (pypiserver, devpi's older versions).
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


@dataclass(frozen=True)
class Listing:
    """What the index holds for the project: file name -> sha256 (None when not given)."""

    url: str
    files: dict[str, str | None]
    form: str  # "json" | "html" | "absent" (404: a new project)
    # When each file was uploaded, where the index says (PEP 700, JSON only).
    upload_times: dict[str, datetime.datetime] = field(default_factory=dict)
    # The files yanked (PEP 592): still there, but installers pass over them.
    yanked: frozenset[str] = frozenset()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[tuple[str, bool]] = []  # (href, yanked)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            found = dict(attrs)
            href = found.get("href")
            if href:
                # PEP 592: data-yanked, with or without a reason, marks a yanked file.
                self.hrefs.append((href, "data-yanked" in found))


def _html_files(text: str, base: str) -> tuple[dict[str, str | None], frozenset[str]]:
    parser = _Links()
    parser.feed(text)
    files: dict[str, str | None] = {}
    yanked = set()
    for href, is_yanked in parser.hrefs:
        url = urljoin(base, href)
        parts = urlsplit(url)
        name = unquote(parts.path.rsplit("/", 1)[-1])
        algorithm, _, digest = parts.fragment.partition("=")
        files[name] = digest.lower() if algorithm == "sha256" and digest else None
        if is_yanked:
            yanked.add(name)
    return files, frozenset(yanked)


def _json_files(data: object) -> dict[str, str | None]:
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise ValueError("no files list")
    files: dict[str, str | None] = {}
    for entry in data["files"]:
        hashes = entry.get("hashes") or {}
        files[str(entry["filename"])] = hashes.get("sha256")
    return files


def _json_yanked(data: object) -> frozenset[str]:
    """The files PEP 691 marks ``yanked``: true, or a reason (a string); false is not."""
    entries = data.get("files") if isinstance(data, dict) else None
    return frozenset(
        str(entry.get("filename"))
        for entry in (entries if isinstance(entries, list) else [])
        if isinstance(entry, dict) and entry.get("yanked") not in (None, False)
    )


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


def query(index_url: str, project: str, http: Http | None = None) -> Listing:
    """The index's listing for ``project``; :class:`IndexUnavailableError` when it cannot be
    read (the HTTP layer retries a lost answer, a 5xx and a 429 a bounded number of times)."""
    url = project_url(index_url, project)
    own = http is None
    client = http or Http()
    try:
        answer = client.call("GET", url, headers={"Accept": ACCEPT, "Cache-Control": "no-cache"},
                             expect=(200, 404))  # fmt: skip
    finally:
        if own:
            client.close()
    if answer.status == 404:
        return Listing(url, {}, "absent")
    problem = answer.describe() if answer.status != 200 else ""
    if not problem:
        try:
            if answer.content_type in (JSON_TYPE, "application/json"):
                data = answer.json()
                return Listing(url, _json_files(data), "json", _json_upload_times(data),
                               _json_yanked(data))  # fmt: skip
            if answer.content_type in ("text/html", "application/vnd.pypi.simple.v1+html"):
                files, yanked = _html_files(answer.text, answer.final_url or url)
                return Listing(url, files, "html", yanked=yanked)
            problem = f"{answer.what_it_is()}, not a simple index page"
        except UnexpectedAnswer as exc:
            problem = f"{exc.found}, not a simple index page"
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problem = f"JSON that is not a simple index page ({type(exc).__name__}: {exc})"
    raise IndexUnavailableError(
        f"the index {url} could not be read: {problem}.",
        "check the index URL ([tool.release.publish] index-url or repository) and your "
        "network; if the index is down, run the stage again later: it uploads only what is "
        "missing.",
    )
