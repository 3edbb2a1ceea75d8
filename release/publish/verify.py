"""After an upload: the index lists every planned file, each with the sha256 we hold.

An index's listing may lag an upload by a few seconds (a CDN in front of it): while files
are only missing, the listing is asked again for the HTTP layer's listing wait. A file
listed with another sha256 fails at once: waiting cannot change a file once stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..errors import VerificationError
from ..http import Http
from .index import Listing


def problems(listing: Listing, expected: Mapping[str, str]) -> list[str]:
    found = []
    for name, sha256 in expected.items():
        there = listing.files.get(name, "absent")
        if there == "absent":
            found.append(f"{name} is not on the index")
        elif there != sha256:
            found.append(f"{name} is on the index with sha256 {there}, not {sha256}")
    return found


def _only_missing(listing: Listing, expected: Mapping[str, str]) -> bool:
    return all(listing.files.get(name, "absent") in ("absent", sha256)
               for name, sha256 in expected.items())  # fmt: skip


def verify(
    listing: Listing,
    expected: Mapping[str, str],
    where: str,
    *,
    again: Callable[[], Listing] | None = None,
    http: Http | None = None,
) -> None:
    """:class:`VerificationError` unless ``listing`` holds every file of ``expected``;
    ``again`` asks the index anew, for a listing that lags."""
    if problems(listing, expected) and again is not None and _only_missing(listing, expected):
        latest = [listing]

        def complete() -> Listing | None:
            latest[0] = again()
            done = not problems(latest[0], expected)
            return latest[0] if done or not _only_missing(latest[0], expected) else None

        (http or Http()).poll(complete)
        listing = latest[0]
    found = problems(listing, expected)
    if found:
        raise VerificationError(
            f"after the upload, {where} does not hold the release as validated: "
            + "; ".join(found)
            + ".",
            "run publish again in a few minutes (an index can take a moment to list new "
            "files); it uploads only what is missing, and fails again if a file differs.",
        )
