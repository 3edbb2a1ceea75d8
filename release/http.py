"""The one HTTP layer every network call of nox-release goes through, on requests.

What it gives every caller (the index, trusted publishing, twine's uploads, GitHub):

- a timeout on every request: connecting, and waiting for an answer (longer for uploads);
  twine's own session gets the same timeouts by :func:`give_timeouts`;
- one bounded retry policy: a lost answer (no connection, a reset, a timeout), a 5xx or a
  429 is tried again after a backoff that doubles, or after the server's ``Retry-After``
  when that is within a bound; never more than ``attempts`` tries nor ``give_up_after_s``;
- credentials that never follow a redirect to another origin (scheme, host and port);
- one error, :class:`UnexpectedAnswer`, naming the URL, for an answer that is not the JSON
  expected (an HTML page, garbage, a list where an object belongs, a missing field).

The retry loop is ours rather than urllib3's ``Retry`` because what may be retried depends
on more than the status: before a POST is sent again, the caller asks whether the first one
took effect (``settle``), a mint needs a fresh OIDC token per try, and GitHub's rate limits
say how long to wait in their own headers. Callers turn a final answer into their own error
class (the index's, GitHub's), so the exit code says which service failed.

Timeouts and backoff come from the environment, so that tests (and a slow network) can set
them: ``NOX_RELEASE_CONNECT_TIMEOUT``, ``NOX_RELEASE_READ_TIMEOUT``,
``NOX_RELEASE_UPLOAD_TIMEOUT``, ``NOX_RELEASE_RETRY_BACKOFF`` (the first wait; it doubles)
and ``NOX_RELEASE_LISTING_WAIT`` (how long a lagging index listing is polled), in seconds.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import requests
import requests.adapters

from .errors import ConfigValueError

T = TypeVar("T")

ENVIRONMENT = {
    "connect_s": "NOX_RELEASE_CONNECT_TIMEOUT",
    "read_s": "NOX_RELEASE_READ_TIMEOUT",
    "upload_read_s": "NOX_RELEASE_UPLOAD_TIMEOUT",
    "backoff_s": "NOX_RELEASE_RETRY_BACKOFF",
    "listing_wait_s": "NOX_RELEASE_LISTING_WAIT",
}
USER_AGENT = "nox-release"
# Set (to anything but "", 0, false, no), validate asks no index: its regression check notes
# that it did not compare. publish needs the index, and asks it whatever this says.
OFFLINE = "NOX_RELEASE_OFFLINE"


@dataclass(frozen=True)
class Policy:
    """How long to wait for the network, and how often to try again."""

    connect_s: float = 10.0
    read_s: float = 60.0
    # An index answers an upload once it has stored and hashed the file: large files take long.
    upload_read_s: float = 300.0
    attempts: int = 5
    backoff_s: float = 1.0  # the first wait; it doubles with each try, up to max_backoff_s
    max_backoff_s: float = 16.0
    longest_wait_s: float = 120.0  # a Retry-After longer than this is not waited out
    give_up_after_s: float = 600.0
    listing_wait_s: float = 10.0  # an index's listing may lag an upload by a few seconds

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Policy:
        values: dict[str, float] = {}
        for name, variable in ENVIRONMENT.items():
            text = environ.get(variable, "").strip()
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if not value >= 0 or value == float("inf"):  # NaN fails the first test
                raise ConfigValueError(
                    f"{variable} is {text!r}, not a number of seconds.",
                    f"set {variable} to a number of seconds (like 30), or unset it for the "
                    "default.",
                )
            values[name] = value
        return cls(**values)  # type: ignore[arg-type]

    def backoff(self, attempt: int) -> float:
        """The wait after try number ``attempt`` (1 for the first) failed."""
        return float(min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s))

    def retry_after(self, headers: Mapping[str, str]) -> float | None:
        """The server's ``Retry-After`` in seconds (a number or an HTTP date), if any."""
        value = (headers.get("retry-after") or "").strip()
        if not value:
            return None
        if value.isdigit():
            return float(value)
        try:
            from email.utils import parsedate_to_datetime

            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None


class UnexpectedAnswer(Exception):
    """An answer that is not what the API documents: the service is broken or not the one
    the URL was meant to reach. Callers wrap it in their own error class."""

    def __init__(self, url: str, found: str, expected: str) -> None:
        self.url = url
        self.found = found
        self.expected = expected
        super().__init__(f"{url} answered {found}, not {expected}")


def _title(text: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    return " ".join(match.group(1).split())[:80] if match else ""


def looks_like_html(body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


@dataclass
class Answer:
    """One HTTP exchange: ``status`` 0 when no answer came (``problem`` says why)."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    final_url: str = ""
    reason: str = ""
    problem: str = ""
    attempt: int = 1  # which try of the call this answer is

    @property
    def lost(self) -> bool:
        return self.status == 0

    @property
    def outage(self) -> bool:
        """No answer, or the server's own failure: trying again may help."""
        return self.status == 0 or self.status >= 500

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";", 1)[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def is_json(self) -> bool:
        kind = self.content_type
        return kind == "application/json" or kind.endswith("+json")

    def describe(self) -> str:
        """``HTTP 503 Service Unavailable``, or ``no answer (timed out after 60s)``."""
        if self.lost:
            return f"no answer ({self.problem})"
        return f"HTTP {self.status}{' ' + self.reason if self.reason else ''}"

    def summary(self) -> str:
        """``no answer (...)``, or ``HTTP 503 Service Unavailable with an HTML page``."""
        return self.describe() if self.lost else f"{self.describe()} with {self.what_it_is()}"

    def what_it_is(self) -> str:
        """What the body is, in a few words, for a message about an unexpected answer."""
        if not self.body.strip():
            return "an empty body"
        if looks_like_html(self.body):
            title = _title(self.text)
            return f"an HTML page{f' ({title!r})' if title else ''}"
        excerpt = self.text.strip().splitlines()[0][:60]
        return f"{self.content_type or 'no content type'} that is not JSON ({excerpt!r})"

    def json(self) -> Any:
        """The body as JSON; :class:`UnexpectedAnswer` when it is anything else."""
        found = self.summary()
        if looks_like_html(self.body):
            raise UnexpectedAnswer(self.url, found, "the JSON expected")
        try:
            return json.loads(self.body)
        except ValueError:
            raise UnexpectedAnswer(self.url, found, "the JSON expected") from None

    def json_object(self, fields: Mapping[str, type] | None = None) -> dict[str, Any]:
        """The body as a JSON object holding each of ``fields`` with its type."""
        return checked_object(self.json(), self.url, fields)

    def json_list(self, fields: Mapping[str, type] | None = None) -> list[dict[str, Any]]:
        """The body as a JSON list of objects, each holding ``fields``."""
        data = self.json()
        if not isinstance(data, list):
            raise UnexpectedAnswer(self.url, f"a JSON {_kind(data)}", "the JSON list expected")
        return [checked_object(item, self.url, fields) for item in data]


_TYPE_NAMES = {dict: "object", list: "list", str: "string", bool: "boolean", int: "number",
               float: "number", type(None): "null"}  # fmt: skip


def _kind(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def checked_object(data: object, url: str, fields: Mapping[str, type] | None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise UnexpectedAnswer(url, f"a JSON {_kind(data)}", "the JSON object expected")
    for name, kind in (fields or {}).items():
        value = data.get(name)
        # bool is an int to Python, never to an API: {"id": true} is no id.
        wrong = value is None or isinstance(value, bool) != (kind is bool)
        if wrong or not isinstance(value, kind):
            found = f"an object without {name!r}" if value is None else (
                f"{name!r} = {json.dumps(value)[:40]}, not a {_TYPE_NAMES.get(kind, kind.__name__)}"
            )  # fmt: skip
            raise UnexpectedAnswer(url, found, "the JSON object expected")
    return data


def same_origin(first: str, second: str) -> bool:
    def origin(url: str) -> tuple[str, str, int | None]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port or {"http": 80, "https": 443}.get(scheme)
        except ValueError:
            port = -1
        return scheme, (parts.hostname or "").lower(), port

    return origin(first) == origin(second)


class _TimeoutAdapter(requests.adapters.HTTPAdapter):
    """Every request through it has a timeout, also those that set none (twine's)."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        # No retries below ours: one send is one try, so that a POST is never repeated
        # without the caller asking first whether it took effect.
        super().__init__(max_retries=0)
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class _Session(requests.Session):
    def should_strip_auth(self, old_url: str, new_url: str) -> bool:
        # requests keeps credentials on an http -> https upgrade of the same host; ours never
        # leave the origin they were given for: a redirect to storage must not carry them.
        return not same_origin(old_url, new_url)


def give_timeouts(session: requests.Session, timeout: tuple[float, float]) -> None:
    """Mount adapters that give every request of ``session`` ``timeout`` (connect, read)."""
    for scheme in ("http://", "https://"):
        session.mount(scheme, _TimeoutAdapter(timeout))


_CONNECTION_FAILURES = (
    "Connection refused",
    "Name or service not known",
    "Connection reset",
    "Remote end closed connection",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "Network is unreachable",
)


def _no_answer(exc: requests.RequestException, timeout: tuple[float, float]) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"could not connect within {timeout[0]:g}s"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"timed out after {timeout[1]:g}s without an answer"
    if isinstance(exc, requests.exceptions.SSLError):
        return f"TLS failed: {exc}"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        for known in _CONNECTION_FAILURES:
            if known in text:
                return known.lower()
        return "the connection failed"
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError,
                        requests.exceptions.ContentDecodingError)):  # fmt: skip
        return "the answer broke off"
    return type(exc).__name__


Announce = Callable[[Answer, float], None]


class _Lines(Protocol):
    def line(self, text: str) -> None: ...


def retry_line(console: _Lines) -> Announce:
    """Announce each retry as one line: ``  pypi.org answered HTTP 503; again in 2s``."""

    def announce(answer: Answer, delay: float) -> None:
        host = urlsplit(answer.url).netloc
        console.line(f"  {host} gave {answer.describe()}; trying again in {delay:.0f}s")

    return announce


class Http:
    """A session with the policy; one per client (the index, GitHub), closed with it."""

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        announce: Announce | None = None,
    ) -> None:
        self.policy = policy or Policy.from_environ(os.environ)
        self.session = _Session()
        self.session.headers["User-Agent"] = USER_AGENT
        give_timeouts(self.session, self.timeout())
        self.announce = announce
        self.requests = 0  # tries made

    def timeout(self, *, upload: bool = False) -> tuple[float, float]:
        policy = self.policy
        return policy.connect_s, policy.upload_read_s if upload else policy.read_s

    def close(self) -> None:
        self.session.close()

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        upload: bool = False,
        allow_redirects: bool = True,
    ) -> Answer:
        """One try; never raises for the network (``status`` 0 says there was no answer)."""
        timeout = self.timeout(upload=upload)
        self.requests += 1
        try:
            response = self.session.request(
                method, url, headers=dict(headers or {}), data=data, timeout=timeout,
                allow_redirects=allow_redirects,
            )  # fmt: skip
            body = response.content
        except requests.exceptions.InvalidURL as exc:
            return Answer(method, url, 0, problem=f"not a valid URL ({exc})")
        except (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema) as exc:
            return Answer(method, url, 0, problem=f"not an http(s) URL ({exc})")
        except requests.RequestException as exc:
            return Answer(method, url, 0, problem=_no_answer(exc, timeout))
        return Answer(
            method, url, response.status_code, response.headers, body, response.url,
            response.reason or "",
        )  # fmt: skip

    def wait_for(self, answer: Answer, attempt: int) -> float | None:
        """The default policy: how long to wait before trying again; None: do not."""
        if answer.outage or answer.status == 429:
            after = self.policy.retry_after(answer.headers)
            if after is not None and answer.status in (429, 503):
                return after if after <= self.policy.longest_wait_s else None
            return self.policy.backoff(attempt)
        return None

    def call(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | Callable[[], bytes] | None = None,
        expect: tuple[int, ...] | Callable[[Answer], bool] = (200,),
        upload: bool = False,
        wait: Callable[[Answer, int], float | None] | None = None,
        settle: Callable[[], Answer | None] | None = None,
        attempts: int | None = None,
    ) -> Answer:
        """Send until an answer in ``expect`` (or one not worth another try) comes, within
        the policy's bounds; the last answer either way: the caller judges it.

        ``expect`` is the statuses that end the call, or a test of the answer. ``data`` may
        be a function, called for each try (a fresh token in each). ``wait``
        replaces :meth:`wait_for`. ``settle`` runs before a try that follows a lost answer
        or a 5xx; an answer from it ends the call (the first try took effect after all).
        """
        policy = self.policy
        attempts = attempts or policy.attempts
        started = time.monotonic()
        for attempt in range(1, attempts + 1):
            body = data() if callable(data) else data
            answer = self.send(method, url, headers=headers, data=body, upload=upload)
            answer.attempt = attempt
            if expect(answer) if callable(expect) else answer.status in expect:
                return answer
            delay = (wait or self.wait_for)(answer, attempt)
            elapsed = time.monotonic() - started
            if delay is None or attempt == attempts or elapsed + delay > policy.give_up_after_s:
                return answer
            if self.announce is not None:
                self.announce(answer, delay)
            time.sleep(delay)
            if settle is not None and answer.outage:
                settled = settle()
                if settled is not None:
                    return settled
        raise AssertionError("unreachable: the last try returns")

    def poll(self, check: Callable[[], T | None], within_s: float | None = None) -> T | None:
        """``check()`` until it gives an answer or ``within_s`` (the listing wait) passes:
        for a listing that lags what was just uploaded."""
        deadline = time.monotonic() + (self.policy.listing_wait_s if within_s is None
                                       else within_s)  # fmt: skip
        attempt = 1
        while True:
            found = check()
            if found is not None:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            time.sleep(min(self.policy.backoff(attempt), left, 2.0))
            attempt += 1
