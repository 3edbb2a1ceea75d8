"""What a failed tool's output says the cause was, when it is a cause the user can name.

A build that fails deep inside cargo or CMake prints the reason somewhere in hundreds of
lines. The common machine-level causes are recognised here in the tail the runner keeps, and
the failure is reported as what it is, with its own remedy, instead of "read the output".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .errors import CommandFailedError, DiskFullError, ReleaseError

_DISK_FULL = re.compile(r"No space left on device|Disk quota exceeded|ENOSPC", re.IGNORECASE)


def diagnose(failure: CommandFailedError, tail: Sequence[str]) -> ReleaseError:
    """The error to raise for a failed command: ``failure`` itself unless the output names a
    cause of its own."""
    for line in tail:
        if _DISK_FULL.search(line):
            return DiskFullError(
                f"{failure.cause.rstrip('.')}: the disk is full ({line.strip()[:200]}).",
                "free some space (df -h shows where), or build on a disk with room; "
                "no artifact was delivered half-written.",
            )
    return failure
