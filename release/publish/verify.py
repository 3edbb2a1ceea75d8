"""After an upload: the index lists every planned file, each with the sha256 we hold."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import VerificationError
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


def verify(listing: Listing, expected: Mapping[str, str], where: str) -> None:
    found = problems(listing, expected)
    if found:
        raise VerificationError(
            f"after the upload, {where} does not hold the release as validated: "
            + "; ".join(found)
            + ".",
            "run publish again in a few minutes (an index can take a moment to list new "
            "files); it uploads only what is missing, and fails again if a file differs.",
        )
