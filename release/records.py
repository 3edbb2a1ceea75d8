"""Stage records: ``<dist>/.release/<stage>.json``, what a stage did and what it produced.

Records are how stages in different CI jobs talk to each other: the build jobs' records
travel with their artifacts, ``validate`` reads them (a skipped build turns missing wheels into
notes), and ``publish`` uploads only what a passing validate record lists. The JSON shape is
the dataclasses below, field for field (:mod:`release.datamodel`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .datamodel import FieldError, from_dict, to_dict
from .errors import DamagedRecordError
from .fsio import records_dir_is_a_file, write_text_atomic

RECORD_DIR = ".release"

# Statuses a stage ends with.
OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"  # this host cannot build it; CI does
HOST_BUILD = "host build"  # built, but not the way CI builds it
NOT_SHIPPED = "not shipped"  # the configuration says the project has none (sdist = false)
INTERRUPTED = "interrupted"

ERROR = "error"
WARNING = "warning"
INFO = "info"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Artifact:
    name: str
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path) -> Artifact:
        return cls(path.name, path.stat().st_size, sha256_of(path))


@dataclass(frozen=True)
class Finding:
    """One thing a check found. ``remedy`` says what to do; several findings of one cause
    share the same remedy text, so it is written once, where the cause is known."""

    level: str  # ERROR | WARNING | INFO
    check: str
    file: str | None
    message: str
    remedy: str | None = None


@dataclass(frozen=True)
class CommandRun:
    """What the stage record keeps of one command."""

    argv: tuple[str, ...]
    cwd: str
    returncode: int
    duration_s: float


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class StageRecord:
    stage: str
    status: str = OK
    reason: str | None = None
    started: str = field(default_factory=_now)
    duration_s: float = 0.0
    backend: str | None = None
    nox_release: str = __version__
    tool_versions: dict[str, str] = field(default_factory=dict)
    commands: list[CommandRun] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    error: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: object) -> StageRecord:
        # Newer nox-release versions may add keys; what this version knows must still fit.
        return from_dict(cls, data, allow_unknown=True)


def record_path(dist: Path, stage: str) -> Path:
    return dist / RECORD_DIR / f"{stage}.json"


def write_record(dist: Path, record: StageRecord, *, directory: Path | None = None) -> Path:
    """Write ``record`` into ``<dist>/.release/`` (or ``directory``); returns its path."""
    path = (directory or dist / RECORD_DIR) / f"{record.stage}.json"
    write_text_atomic(path, json.dumps(record.as_dict(), indent=2) + "\n")
    return path


def read_record(dist: Path, stage: str, *, directory: Path | None = None) -> StageRecord | None:
    """The record a stage left in ``dist`` (or in ``directory``, where ``--record-dir`` put
    it); None when there is none.

    A record that exists but cannot be read is a :class:`DamagedRecordError`: the checks that
    rely on it must say they could not, not quietly stop applying.
    """
    records = directory or dist / RECORD_DIR
    if records.exists() and not records.is_dir():
        raise records_dir_is_a_file(records)  # said once, not as each record damaged
    path = records / f"{stage}.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _damaged(path, stage, str(exc)) from None
    try:
        record = StageRecord.from_dict(json.loads(text))
    except ValueError as exc:  # JSONDecodeError and FieldError are ValueErrors
        detail = str(exc) if isinstance(exc, FieldError) else f"not valid JSON ({exc})"
        raise _damaged(path, stage, detail) from None
    if record.stage != stage:
        raise _damaged(path, stage, f"it is the record of {record.stage!r}")
    return record


def _damaged(path: Path, stage: str, detail: str) -> DamagedRecordError:
    return DamagedRecordError(
        f"the {stage} record {path} is damaged: {detail}.",
        f"download the CI artifact again, or rerun {stage} (nox -s {stage}) to write a new one.",
    )
