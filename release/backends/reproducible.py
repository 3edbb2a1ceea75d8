"""What makes a rebuild byte-identical: one date for every file, taken from the commit built.

"Re-run all jobs" after a publish rebuilds every artifact. PyPI keeps the first upload of a
file name for ever, so a rebuild that differs in a single byte can never be uploaded again,
and the release is stuck. Build tools stamp the time of the build into archives (zip and tar
entry times, gzip headers) and binaries (the PE header) unless ``SOURCE_DATE_EPOCH`` tells
them which date to use (https://reproducible-builds.org/specs/source-date-epoch/).
"""

from __future__ import annotations

import gzip
import re
import tarfile
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..context import RunContext
from ..errors import ConfigValueError

VARIABLE = "SOURCE_DATE_EPOCH"
# Outside a git checkout (an unpacked sdist, a copied tree) there is no commit to ask; a fixed
# date still makes two builds of the same files match. 1980-01-01 is the earliest time a zip
# entry can hold, so no tool has to clamp it.
FALLBACK_EPOCH = 315532800
# 2107-12-31T23:59:59Z, the last time a zip entry's DOS date can hold.
LATEST_EPOCH = 4354819199

_COMMIT_LINE = re.compile(r"^(\d+) ([0-9a-f]{40,64})$", re.MULTILINE)


@dataclass(frozen=True)
class SourceDate:
    """The date every build tool is told to stamp, and where it came from."""

    epoch: int
    source: str

    def as_record(self) -> dict[str, Any]:
        utc = datetime.fromtimestamp(self.epoch, tz=timezone.utc)
        return {"value": self.epoch, "utc": utc.isoformat(), "source": self.source}


def source_date(ctx: RunContext) -> SourceDate:
    """``SOURCE_DATE_EPOCH`` when the user set it; else the commit time of HEAD in the
    project (the tagged commit in a release run); else :data:`FALLBACK_EPOCH`, saying why."""
    given = ctx.environ.get(VARIABLE, "").strip()
    if given:
        # ASCII only: str.isdigit() also holds for digits int() does not read ("\u00b2").
        if not (given.isascii() and given.isdigit()):
            raise ConfigValueError(
                f"{VARIABLE} is {given!r}, not a whole number of seconds since 1970.",
                f"unset {VARIABLE} (nox-release then takes the time of the commit being "
                "built), or set it to one, such as the output of git log -1 --format=%ct.",
            )
        if int(given) > LATEST_EPOCH:
            raise ConfigValueError(
                f"{VARIABLE} is {given!r}, later than 2107-12-31: a zip entry (and so a "
                "wheel) cannot hold a time after 2107.",
                f"unset {VARIABLE} (nox-release then takes the time of the commit being "
                "built), or set it to the output of git log -1 --format=%ct.",
            )
        return SourceDate(int(given), f"{VARIABLE} set in the environment")
    root = ctx.config.project_root
    if ctx.runner.which("git") is None:
        return _fallback("git is not on PATH")
    result = ctx.runner.run(
        ["git", "-C", str(root), "log", "-1", "--format=%ct %H"],
        check=False,
        quiet=True,
        record=False,
    )
    found = _COMMIT_LINE.search(result.output)
    if result.returncode != 0 or found is None:
        said = next((line for line in result.output.splitlines() if line.strip()), "")
        return _fallback(f"git log found no commit in {root}" + (f": {said}" if said else ""))
    return SourceDate(
        int(found[1]), f"the time of commit {found[2][:12]} (git log -1 --format=%ct in {root})"
    )


def _fallback(why: str) -> SourceDate:
    return SourceDate(
        FALLBACK_EPOCH,
        f"no commit to take it from ({why}); fixed at 1980-01-01 so that rebuilds of the same "
        f"files still match. Set {VARIABLE} to choose the date.",
    )


def with_source_date(ctx: RunContext, date: SourceDate) -> RunContext:
    """``ctx`` whose environment carries the date to the backends (and only to them)."""
    return replace(ctx, environ={**ctx.environ, VARIABLE: str(date.epoch)})


def source_date_env(ctx: RunContext) -> dict[str, str]:
    """The variables a build command gets on top of the environment: the build stage's
    date, when it chose one."""
    value = ctx.environ.get(VARIABLE)
    return {VARIABLE: value} if value else {}


def append_rustflags(environ: dict[str, str], target: str, flags: list[str]) -> dict[str, str]:
    """``environ`` with ``flags`` added to the rustc flags cargo uses for ``target``, keeping
    the user's own: cargo takes CARGO_ENCODED_RUSTFLAGS, else RUSTFLAGS, else the target's
    flags, so the flags go into whichever of these the user set, or into the target's."""
    env = dict(environ)
    if env.get("CARGO_ENCODED_RUSTFLAGS"):
        env["CARGO_ENCODED_RUSTFLAGS"] = "\x1f".join([env["CARGO_ENCODED_RUSTFLAGS"], *flags])
        return env
    name = "RUSTFLAGS"
    if not env.get(name):
        name = "CARGO_TARGET_" + re.sub(r"[^A-Za-z0-9]", "_", target).upper() + "_RUSTFLAGS"
    env[name] = " ".join([env[name], *flags]) if env.get(name) else " ".join(flags)
    return env


def clamp_sdist_times(sdist: Path, epoch: int) -> bool:
    """Rewrite ``sdist`` so that no time in it is later than ``epoch``; whether it changed.

    setuptools' sdist ignores SOURCE_DATE_EPOCH: it stores each file's modification time (a
    fresh checkout's: the time of the clone) and the time of the build in the gzip header.
    Clamping, as the reproducible-builds specification describes it, leaves names, order,
    contents and modes as the backend wrote them.
    """
    with tarfile.open(sdist) as source:
        entries = [
            (member, source.extractfile(member) if member.isfile() else None)
            for member in source.getmembers()
        ]
        header_time = int.from_bytes(sdist.read_bytes()[4:8], "little")
        later = header_time > epoch or any(
            member.mtime > epoch or _pax_times(member) for member, _ in entries
        )
        if not later:
            return False
        temporary = sdist.with_name(sdist.name + ".clamped")
        # The name inside the gzip header, as tarfile writes it: the archive's, less .gz.
        inner = sdist.name[: -len(".gz")]
        with (
            temporary.open("wb") as raw,
            gzip.GzipFile(inner, "wb", 9, raw, mtime=epoch) as packed,
            tarfile.open(fileobj=packed, mode="w", format=source.format) as clamped,
        ):
            for member, data in entries:
                member.mtime = min(int(member.mtime), epoch)
                member.pax_headers = {
                    key: value
                    for key, value in member.pax_headers.items()
                    if key not in ("mtime", "atime", "ctime")
                }
                clamped.addfile(member, data)
    temporary.replace(sdist)
    return True


def _pax_times(member: tarfile.TarInfo) -> list[str]:
    return [key for key in ("mtime", "atime", "ctime") if key in member.pax_headers]
