"""Stage records: ``<dist>/.release/<stage>.json``, what a stage did and what it produced.

Records are how stages in different CI jobs talk to each other: the build jobs' records
travel with their artifacts, ``validate`` reads them (a skipped build turns missing wheels into
warnings), and ``publish`` uploads only what a passing validate record lists.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__

RECORD_DIR = ".release"
# Which files nox-release moved into this dist dir, on which machine: the dry run clears
# only those, unchanged, so that a folder copied from CI is never emptied by mistake. Kept
# out of <dist>/.release/*.json, which holds stage records only.
LEDGER = Path("local") / "delivered.json"

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"
HOST_BUILD = "host build"


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

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class Finding:
    level: str  # "error" | "warning" | "info"
    check: str
    file: str | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "level": self.level,
            "check": self.check,
            "file": self.file,
            "message": self.message,
        }


@dataclass
class StageRecord:
    stage: str
    status: str = OK
    reason: str | None = None
    started: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    )
    duration_s: float = 0.0
    backend: str | None = None
    tool_versions: dict[str, str] = field(default_factory=dict)
    commands: list[dict[str, object]] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    error: dict[str, object] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "status": self.status,
            "reason": self.reason,
            "started": self.started,
            "duration_s": round(self.duration_s, 3),
            "backend": self.backend,
            "nox_release": __version__,
            "tool_versions": self.tool_versions,
            "commands": self.commands,
            "artifacts": [a.as_dict() for a in self.artifacts],
            "findings": [f.as_dict() for f in self.findings],
            "error": self.error,
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageRecord:
        known = {
            "stage",
            "status",
            "reason",
            "started",
            "duration_s",
            "backend",
            "nox_release",
            "tool_versions",
            "commands",
            "artifacts",
            "findings",
            "error",
        }
        return cls(
            stage=data["stage"],
            status=data["status"],
            reason=data.get("reason"),
            started=data.get("started", ""),
            duration_s=float(data.get("duration_s", 0.0)),
            backend=data.get("backend"),
            tool_versions=dict(data.get("tool_versions", {})),
            commands=list(data.get("commands", [])),
            artifacts=[Artifact(a["name"], int(a["size"]), a["sha256"]) for a in data["artifacts"]],
            findings=[
                Finding(f["level"], f["check"], f.get("file"), f["message"])
                for f in data.get("findings", [])
            ],
            error=data.get("error"),
            extra={k: v for k, v in data.items() if k not in known},
        )


def record_path(dist: Path, stage: str) -> Path:
    return dist / RECORD_DIR / f"{stage}.json"


def write_record(dist: Path, record: StageRecord) -> Path:
    path = record_path(dist, record.stage)
    write_text_atomic(path, json.dumps(record.as_dict(), indent=2) + "\n")
    return path


def read_record(dist: Path, stage: str) -> StageRecord | None:
    """The record a stage left in ``dist``, or None; a damaged record is treated as absent."""
    path = record_path(dist, stage)
    try:
        return StageRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return None


def write_text_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        # mkstemp makes files private; records are shared with CI artifacts and other users.
        Path(tmp).chmod(0o644)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _ledger_key(dist: Path) -> str:
    return f"{socket.gethostname()}:{dist.resolve()}"


def note_delivered(dist: Path, artifacts: list[Artifact]) -> None:
    path = dist / RECORD_DIR / LEDGER
    try:
        ledger = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        ledger = {}
    entries = ledger.setdefault(_ledger_key(dist), {})
    entries.update({a.name: a.sha256 for a in artifacts})
    write_text_atomic(path, json.dumps(ledger, indent=2, sort_keys=True) + "\n")


def delivered_here(dist: Path) -> dict[str, str]:
    """name -> sha256 of the files nox-release delivered into ``dist`` on this machine."""
    try:
        ledger = json.loads((dist / RECORD_DIR / LEDGER).read_text(encoding="utf-8"))
        return dict(ledger.get(_ledger_key(dist), {}))
    except (FileNotFoundError, ValueError, AttributeError):
        return {}
