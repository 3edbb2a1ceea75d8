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
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .datamodel import FieldError, from_dict, to_dict
from .errors import DamagedRecordError, ReleaseError
from .fsio import records_dir_is_a_file, write_text_atomic

RECORD_DIR = ".release"

# Statuses a stage ends with.
OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"  # this host cannot build it; CI does
HOST_BUILD = "host build"  # built, but not the way CI builds it
NOT_SHIPPED = "not shipped"  # the configuration says the project has none (sdist = false)
INTERRUPTED = "interrupted"
# The dry run did not start the stage: one it needs failed (no record is written).
NOT_RUN = "not run"
# The key of a host build record's details that names the builds it could not make.
NOT_BUILT = "not_built"

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
    # Who wrote the record (record_origin): a verdict another run wrote is kept, not lost.
    origin: str | None = None
    tool_versions: dict[str, str] = field(default_factory=dict)
    commands: list[CommandRun] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    error: dict[str, Any] | None = None
    # Refused before it built anything: by a guard (the tag, whether this host can build) or
    # for want of a tool, which then never ran. It tried nothing of the sources and changed
    # nothing in the dist dir, so it does not supersede the record of the run that made the
    # files there.
    refused: bool = False
    details: dict[str, Any] = field(default_factory=dict)
    # --arch: the one architecture a build stage built, a job of the release workflow's
    # fan-out. Its record is <stage>.<arch>.json, so that the records of the jobs of one
    # stage, merged into one dist dir by validate's download, do not overwrite each other.
    arch: str | None = None
    # --python: the one Python (3.12) of a cibuildwheel build job split by Python; its record
    # is <stage>[.<arch>].cp312.json.
    python: str | None = None

    @property
    def name(self) -> str:
        """The record's file name without ``.json``: ``build-linux``, ``build-linux.aarch64``,
        ``build-linux.aarch64.cp312``."""
        return record_name(self.stage, self.arch, self.python)

    @property
    def run(self) -> str:
        """How messages name the run, as its nox arguments: ``build-linux -- --arch aarch64``
        (``nox -s {run}`` runs it again)."""
        options = (["--arch", self.arch] if self.arch else []) + (
            ["--python", self.python] if self.python else []
        )
        return " ".join([self.stage, "--", *options]) if options else self.stage

    def as_dict(self) -> dict[str, Any]:
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: object) -> StageRecord:
        # Newer nox-release versions may add keys; what this version knows must still fit.
        return from_dict(cls, data, allow_unknown=True)


@contextmanager
def guards(record: StageRecord) -> Iterator[None]:
    """The checks a stage makes before it builds anything (the tag, its tools, whether this
    host can build): an error in here refuses the stage (``record.refused``)."""
    try:
        yield
    except ReleaseError:
        record.refused = True
        raise


def record_name(stage: str, arch: str | None = None, python: str | None = None) -> str:
    parts = (
        [stage] + ([arch] if arch else []) + ([f"cp{python.replace('.', '')}"] if python else [])
    )
    return ".".join(parts)


def record_path(dist: Path, stage: str) -> Path:
    return dist / RECORD_DIR / f"{stage}.json"


def record_origin(environ: Mapping[str, str] | None = None) -> str:
    """Who writes records here: a GitHub Actions run (all its jobs and re-run attempts are
    one), else this host."""
    env = os.environ if environ is None else environ
    run = env.get("GITHUB_RUN_ID")
    if run:
        repository = env.get("GITHUB_REPOSITORY")
        return f"GitHub Actions run {run}" + (f" of {repository}" if repository else "")
    return f"host {socket.gethostname()}"


# Where a record that another run wrote goes when this run writes its own verdict.
KEPT_SUFFIX = ".kept.json"


def write_record(
    dist: Path,
    record: StageRecord,
    *,
    directory: Path | None = None,
    keep_other_runs: bool = False,
    say: Callable[[str], None] | None = None,
    environ: Mapping[str, str] | None = None,
    redact: Callable[[str], str] | None = None,
) -> Path:
    """Write ``record`` into ``<dist>/.release/`` (or ``directory``); returns its path.

    With ``keep_other_runs`` (a verdict such as validate's, not a build's record of the files
    it just made), a record there that another run wrote is not lost: it is copied to
    ``<stage>.kept.json`` and ``say`` is told where each is. This run's record takes the usual
    place in CI and locally alike, since the next stage here (publish) must follow the verdict
    just given here: another run's could not be replaced by running the stage again.
    ``redact`` masks the secrets the console knows, in every string of the record.
    """
    record.origin = record_origin(environ)
    path = (directory or dist / RECORD_DIR) / f"{record.name}.json"
    other = _written_elsewhere(path, record.origin) if keep_other_runs else None
    kept = path.with_name(record.name + KEPT_SUFFIX)
    if other is not None:
        # A copy, not a move: should this run's record fail to be written, the place still
        # holds the other run's record, as it was.
        write_text_atomic(kept, other[1])
    write_text_atomic(path, _serialized(record, redact))
    if other is not None and say is not None:
        say(
            f"{kept} is the {record.stage} record that {other[0]} wrote; it is kept, and this "
            f"run's record is {path}."
        )
    return path


def _written_elsewhere(path: Path, origin: str) -> tuple[str, str] | None:
    """Who wrote the record at ``path`` and its text, if another run or host did. A record
    without an origin (written before records carried one) or that cannot be read is
    replaced, as ever: nothing says it is another's."""
    try:
        text = path.read_text(encoding="utf-8")
        written_by = json.loads(text).get("origin")
    except (OSError, ValueError, AttributeError):
        return None
    if isinstance(written_by, str) and written_by != origin:
        return written_by, text
    return None


def _serialized(record: StageRecord, redact: Callable[[str], str] | None) -> str:
    data = record.as_dict()
    if redact is not None:
        data = redacted(data, redact)
    return json.dumps(data, indent=2) + "\n"


def redacted(data: Any, redact: Callable[[str], str]) -> Any:
    """``data`` with ``redact`` applied to every string in it, keys included.

    A record quotes what services said (an index echoing the token it refused, in
    ``error.cause``; a tool's output in ``error.tail``): any field can hold a secret, so
    every one is masked, on the way to the file rather than field by field where it is set.
    """
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {redacted(k, redact): redacted(v, redact) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [redacted(v, redact) for v in data]
    return data


def read_record(
    dist: Path,
    stage: str,
    *,
    directory: Path | None = None,
    arch: str | None = None,
    python: str | None = None,
) -> StageRecord | None:
    """The record a stage (with ``arch``, ``python``: its run for that architecture and
    Python) left in ``dist`` (or in ``directory``, where ``--record-dir`` put it); None when
    there is none.

    A record that exists but cannot be read is a :class:`DamagedRecordError`: the checks that
    rely on it must say they could not, not quietly stop applying.
    """
    records = directory or dist / RECORD_DIR
    if records.exists() and not records.is_dir():
        raise records_dir_is_a_file(records)  # said once, not as each record damaged
    wanted = StageRecord(stage, arch=arch, python=python)
    return _read_file(records / f"{wanted.name}.json", stage, wanted.name, wanted.run)


def _read_file(path: Path, stage: str, name: str, run: str) -> StageRecord | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _damaged(path, run, str(exc)) from None
    try:
        record = StageRecord.from_dict(json.loads(text))
    except ValueError as exc:  # JSONDecodeError and FieldError are ValueErrors
        detail = str(exc) if isinstance(exc, FieldError) else f"not valid JSON ({exc})"
        raise _damaged(path, run, detail) from None
    if record.stage != stage or record.name != name:
        raise _damaged(path, run, f"it is the record of {record.run!r}")
    return record


def read_stage_records(
    dist: Path, stages: Iterable[str], *, directory: Path | None = None
) -> tuple[dict[str, StageRecord], dict[str, DamagedRecordError]]:
    """Every record of ``stages`` in ``dist``: each stage's own, and those of its runs for one
    architecture or Python (``build-linux.aarch64.json``, one per job of the workflow's
    fan-out), keyed by :attr:`StageRecord.run`; the damaged ones apart."""
    records = directory or dist / RECORD_DIR
    if records.exists() and not records.is_dir():
        raise records_dir_is_a_file(records)
    found: dict[str, StageRecord] = {}
    damaged: dict[str, DamagedRecordError] = {}
    for stage in stages:
        paths = [records / f"{stage}.json"]
        if records.is_dir():
            paths += sorted(
                path
                for path in records.glob(f"{stage}.*.json")
                if not path.name.endswith(KEPT_SUFFIX)
            )
        for path in paths:
            name = path.name.removesuffix(".json")
            run = name if name == stage else f"{stage} ({path.name})"
            try:
                record = _read_file(path, stage, name, run)
            except DamagedRecordError as exc:
                damaged[run] = exc
                continue
            if record is not None:
                found[record.run] = record
    return found, damaged


def _damaged(path: Path, run: str, detail: str) -> DamagedRecordError:
    return DamagedRecordError(
        f"the {run} record {path} is damaged: {detail}.",
        f"download the CI artifact again, or rerun {run} (nox -s {run}) to write a new one.",
    )
