"""Uploading with twine: non-interactive, wheels first and the sdist last, the token only in
the environment; a connection error or a 5xx is retried after asking the index what landed.

One twine process uploads every remaining file in order (twine stops at the first failure);
after a failure the index says which files landed, and only the others are tried again,
with backoff, a bounded number of times within a bounded time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..context import RunContext
from ..errors import CommandFailedError, CredentialsError, UploadConflictError, UploadFailedError
from ..runner import child_env
from .credentials import Credentials
from .index import Listing
from .repository import Repository

ATTEMPTS = 5
BACKOFF_S = (1.0, 2.0, 4.0, 8.0)
GIVE_UP_AFTER_S = 600.0

_STATUS = re.compile(r"HTTPError: (?P<status>\d{3})")
_CONNECTION = re.compile(
    r"ConnectionError|RemoteDisconnected|Connection aborted|Connection reset|"
    r"Max retries exceeded|Read timed out|ConnectTimeout|ProtocolError|IncompleteRead"
)


@dataclass
class Outcome:
    uploaded: list[str] = field(default_factory=list)
    attempts: int = 0
    retried_for: list[str] = field(default_factory=list)  # why each retry happened


def _classify(tail: Sequence[str]) -> tuple[str, int | None]:
    """``("retry", status)`` for what a retry may fix, else ``("fail", status)``."""
    text = "\n".join(tail)
    match = _STATUS.search(text)
    status = int(match["status"]) if match else None
    if status is not None:
        return ("retry" if status >= 500 or status == 429 else "fail"), status
    return ("retry" if _CONNECTION.search(text) else "fail"), None


def upload(
    ctx: RunContext,
    files: Sequence[Path],
    repository: Repository,
    *,
    credentials: Credentials,
    landed: Callable[[], Listing],
    expected: dict[str, str],
) -> Outcome:
    """Upload ``files`` (in this order); ``landed`` asks the index what it holds now and
    ``expected`` is each file's sha256. Returns what was uploaded."""
    outcome = Outcome()
    remaining = list(files)
    started = time.monotonic()
    while remaining:
        outcome.attempts += 1
        env = child_env(
            extra={
                "TWINE_USERNAME": "__token__",
                "TWINE_PASSWORD": credentials.token(),
                "TWINE_NON_INTERACTIVE": "1",
                "COLUMNS": "4000",
                "NO_COLOR": "1",
            }
        )
        try:
            ctx.runner.run(
                ["twine", "--no-color", "upload", "--non-interactive", "--disable-progress-bar",
                 "--repository-url", repository.upload_url, *map(str, remaining)],
                env=env,
                why=f"uploading {len(remaining)} file(s) to {repository.upload_url}",
            )  # fmt: skip
            outcome.uploaded += [p.name for p in remaining]
            return outcome
        except CommandFailedError as failure:
            verdict, status = _classify(failure.tail)
            # Some files may have landed before the failure (or even the failing one,
            # with its answer lost): the index says which.
            there = landed().files
            done = [p for p in remaining if there.get(p.name) == expected[p.name]]
            outcome.uploaded += [p.name for p in done]
            remaining = [p for p in remaining if p not in done]
            if not remaining:
                return outcome
            if verdict == "fail":
                raise _refusal(failure, status, remaining[0].name) from None
            elapsed = time.monotonic() - started
            if outcome.attempts >= ATTEMPTS or elapsed > GIVE_UP_AFTER_S:
                last = failure.tail[-1] if failure.tail else "no output"
                raise UploadFailedError(
                    f"the upload to {repository.upload_url} still fails after "
                    f"{outcome.attempts} attempts ({last}); {len(remaining)} file(s) are not on "
                    "the index.",
                    "run the stage again later: it uploads only what is missing.",
                ) from None
            delay = BACKOFF_S[min(outcome.attempts - 1, len(BACKOFF_S) - 1)]
            reason = f"HTTP {status}" if status else "connection error"
            outcome.retried_for.append(reason)
            ctx.console.line(
                f"  {reason}; {len(done)} file(s) landed anyway; retrying the other "
                f"{len(remaining)} in {delay:.0f}s"
            )
            time.sleep(delay)
    return outcome


def _refusal(failure: CommandFailedError, status: int | None, name: str) -> Exception:
    said = next((line.strip() for line in failure.tail if "HTTPError" in line), "")
    detail = " ".join(line.strip() for line in failure.tail[-3:])
    if status == 400 and "already exists" in detail:
        return UploadConflictError(
            f"the index refused {name}: a file of that name is already there with other "
            f"content ({said or detail}); it appeared after the plan was made.",
            "bump the version and release again: a file name once used can never be reused.",
        )
    if status in (401, 403):
        return CredentialsError(
            f"the index refused the upload token ({said or detail}).",
            "the token is not for this project or index: check the trusted publisher (or the "
            "API token's scope) on the index.",
        )
    return UploadFailedError(
        f"the index refused {name}: {said or detail}.",
        "read the index's reason above, fix the file (nox -s validate judges it again) and "
        "run publish again.",
    )
