"""Archive integrity of wheels and sdists, and in-memory reads of their members.

``inspect_artifact`` is the ``integrity`` check of the validate stage: it reads each archive
once, front to back, hashing members as they stream past, and reports every problem it finds
as a :class:`Finding` instead of raising. The :class:`ArchiveInfo` it returns (names,
versions, tags, member list) is what the other checks build on, so they never open an
archive that could not be read.

Nothing here writes an archive member to disk: members are read into memory or hashed in
chunks, and member names are only ever compared, never used as paths.
"""

from __future__ import annotations

import base64
import csv
import email.parser
import gzip
import hashlib
import io
import posixpath
import re
import struct
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import IO

from packaging.tags import Tag, parse_tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from .config import parse_toml
from .errors import InvalidTomlError
from .records import Finding

CHECK = "integrity"
WHEEL = "wheel"
SDIST = "sdist"
WHEEL_SUFFIX = ".whl"
SDIST_SUFFIX = ".tar.gz"

# Beyond this many messages of one kind (RECORD mismatches, bad paths, ...) a single count
# says how many more there are: a wheel rebuilt wrongly can differ in every file.
MAX_MESSAGES_PER_KIND = 20
# Metadata files are read whole into memory; no honest METADATA, WHEEL, RECORD or PKG-INFO
# comes near this, and a hostile archive must not make us allocate gigabytes.
MAX_METADATA_BYTES = 32 << 20
CHUNK_BYTES = 1 << 16

# Formats a dist dir may hold that PyPI no longer accepts (PEP 527, PEP 625).
REJECTED_SUFFIXES = (".zip", ".egg", ".exe", ".msi", ".tar.bz2", ".tar.xz", ".tgz", ".tar")
# Signatures over RECORD cannot be listed in the RECORD they sign.
UNRECORDED_SIGNATURES = (".jws", ".p7s")
# MD5 and SHA-1 are forbidden in RECORD by the binary distribution format spec.
WEAK_HASHES = frozenset({"md5", "sha1"})

# What a damaged archive makes zipfile/tarfile/zlib raise; anything here becomes a finding.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,  # an unsupported compression method
    RuntimeError,  # an encrypted member
)
_TAR_ERRORS = (tarfile.TarError, zlib.error, EOFError, OSError, ValueError, UnicodeError)

_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ArchiveInfo:
    """What other checks need to know about one artifact.

    ``name`` is the distribution name from the file name, canonicalized (PEP 503, as
    packaging returns it), and ``filename_version`` the file name's version, normalized;
    both are None when the file name cannot be parsed. ``metadata_name`` and
    ``metadata_version`` are the ``Name`` and ``Version`` fields as written in METADATA
    (wheel) or PKG-INFO (sdist), None when absent or unreadable.
    """

    path: Path
    kind: str  # "wheel" | "sdist"
    name: str | None
    filename_version: str | None
    metadata_version: str | None
    metadata_name: str | None
    tags: frozenset[Tag] = frozenset()
    members: tuple[str, ...] = ()


def is_artifact(path: Path) -> bool:
    """True for a file name a release can publish: a wheel or a ``.tar.gz`` sdist."""
    return path.name.endswith((WHEEL_SUFFIX, SDIST_SUFFIX))


def artifact_kind(path: Path) -> str | None:
    if path.name.endswith(WHEEL_SUFFIX):
        return WHEEL
    if path.name.endswith(SDIST_SUFFIX):
        return SDIST
    return None


def stray_files(dist: Path) -> list[Finding]:
    """Findings for entries of the dist dir that are not wheels or sdists.

    Hidden entries (the ``.release`` records) are ours and skipped. Formats PyPI rejects are
    errors (someone expects them to be published); anything else is a warning, since publish
    ignores it.
    """
    findings: list[Finding] = []
    for entry in sorted(dist.iterdir()):
        if entry.name.startswith(".") or (entry.is_file() and is_artifact(entry)):
            continue
        if entry.is_dir():
            message = (
                "this is a directory; validate and publish look only at files directly in the "
                "dist dir: move its wheels and sdists up, or remove it"
            )
            findings.append(Finding("warning", CHECK, entry.name, message))
        elif entry.name.endswith(REJECTED_SUFFIXES):
            message = (
                "this is not a distribution PyPI accepts (only wheels and .tar.gz sdists are); "
                "remove it from the dist dir, and build a wheel or a .tar.gz sdist instead"
            )
            findings.append(Finding("error", CHECK, entry.name, message))
        else:
            message = "this is not a distribution (not a .whl or .tar.gz); it will not be published"
            findings.append(Finding("warning", CHECK, entry.name, message))
    return findings


def inspect_artifact(path: Path) -> tuple[ArchiveInfo, list[Finding]]:
    """Read one wheel or sdist once and report every integrity problem in it.

    Never raises for a damaged archive: a file that cannot be read is an error finding.
    """
    report = _Report(path.name)
    kind = artifact_kind(path)
    if kind == WHEEL:
        info = _inspect_wheel(path, report)
    elif kind == SDIST:
        info = _inspect_sdist(path, report)
    else:
        report.error(
            "this is not a distribution (only .whl wheels and .tar.gz sdists are); "
            "remove it from the dist dir"
        )
        info = ArchiveInfo(path, "unknown", None, None, None, None)
    return info, report.findings()


# --- findings ------------------------------------------------------------------------------


@dataclass
class _Report:
    """Findings for one file; messages of a noisy kind stop at a cap and end with a count."""

    file: str
    _items: list[Finding] = field(default_factory=list)
    _counts: Counter[str] = field(default_factory=Counter)

    def error(self, message: str, *, kind: str | None = None) -> None:
        self._add("error", message, kind)

    def warning(self, message: str, *, kind: str | None = None) -> None:
        self._add("warning", message, kind)

    def _add(self, level: str, message: str, kind: str | None) -> None:
        if kind is not None:
            self._counts[kind] += 1
            if self._counts[kind] > MAX_MESSAGES_PER_KIND:
                return
        self._items.append(Finding(level, CHECK, self.file, message))

    def findings(self) -> list[Finding]:
        summary = [
            Finding(
                "error",
                CHECK,
                self.file,
                f"{count - MAX_MESSAGES_PER_KIND} more {kind} problems not shown "
                f"(only the first {MAX_MESSAGES_PER_KIND} are listed)",
            )
            for kind, count in self._counts.items()
            if count > MAX_MESSAGES_PER_KIND
        ]
        return [*self._items, *summary]


# --- file names ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _FileName:
    """A parsed artifact file name, with the name and version parts exactly as written."""

    name: str  # canonicalized
    version: Version
    name_part: str
    version_part: str
    tags: frozenset[Tag]

    @property
    def stem(self) -> str:
        return f"{self.name_part}-{self.version_part}"


def _normal_name_part(name: str) -> str:
    return canonicalize_name(name).replace("-", "_")


def _parse_wheel_file_name(filename: str, report: _Report) -> _FileName | None:
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        report.error(
            f"the file name is not a valid wheel name ({exc}); a wheel must be named "
            "{name}-{version}[-{build}]-{python}-{abi}-{platform}.whl: rebuild it instead "
            "of renaming it"
        )
        return None
    parts = filename[: -len(WHEEL_SUFFIX)].split("-")
    parsed = _FileName(name, version, parts[0], parts[1], tags)
    normal = [_normal_name_part(parts[0]), str(version), *parts[2:]]
    _check_normalized(parsed, "-".join(normal) + WHEEL_SUFFIX, report)
    return parsed


def _parse_sdist_file_name(filename: str, report: _Report) -> _FileName | None:
    try:
        name, version = parse_sdist_filename(filename)
    except InvalidSdistFilename as exc:
        report.error(
            f"the file name is not a valid sdist name ({exc}); an sdist must be named "
            "{name}-{version}.tar.gz: rebuild it with the build backend"
        )
        return None
    name_part, _, version_part = filename[: -len(SDIST_SUFFIX)].rpartition("-")
    parsed = _FileName(name, version, name_part, version_part, frozenset())
    expected = f"{_normal_name_part(name_part)}-{version}{SDIST_SUFFIX}"
    _check_normalized(parsed, expected, report)
    return parsed


def _check_normalized(parsed: _FileName, expected_file: str, report: _Report) -> None:
    remedy = (
        f"the file should be named {expected_file}: rebuild it with an up-to-date build "
        "backend, which writes normalized names"
    )
    normal_name = _normal_name_part(parsed.name_part)
    if parsed.name_part != normal_name:
        report.error(
            f"the distribution name {parsed.name_part!r} in the file name is not normalized "
            f"(PEP 427/625 require {normal_name!r}); {remedy}"
        )
    if parsed.version_part != str(parsed.version):
        report.error(
            f"the version {parsed.version_part!r} in the file name is not normalized "
            f"(PEP 440 normal form: {str(parsed.version)!r}); {remedy}"
        )


# --- member paths --------------------------------------------------------------------------


def _path_problem(name: str) -> str | None:
    """Why a member name could land outside the install or unpack directory, if it could."""
    if not name:
        return "has an empty name"
    if "\x00" in name:
        return "contains a NUL character"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a Windows drive letter"
    if "\\" in name:
        return "contains a backslash, which Windows reads as a directory separator"
    if ".." in name.split("/"):
        return "has a '..' component that climbs out of the archive"
    return None


def _check_paths(names: Iterable[str], report: _Report, remedy: str) -> None:
    for name in names:
        problem = _path_problem(name)
        if problem is not None:
            report.error(f"member {name!r} {problem}; {remedy}", kind="path")


def _check_duplicates(names: Sequence[str], report: _Report, *, level: str) -> None:
    for name, count in Counter(names).items():
        if count > 1:
            message = (
                f"member {name!r} appears {count} times in the archive; which copy is used "
                "depends on the tool that reads it: rebuild the archive from a clean directory"
            )
            if level == "error":
                report.error(message, kind="duplicate")
            else:
                report.warning(message, kind="duplicate")


# --- metadata files ------------------------------------------------------------------------


def _parse_headers(data: bytes, what: str, report: _Report) -> Message | None:
    """An RFC 822 style metadata file (METADATA, PKG-INFO, WHEEL), or None with a finding."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.error(f"{what} is not valid UTF-8 ({exc}); rebuild with a current build backend")
        return None
    return email.parser.Parser().parsestr(text, headersonly=True)


def _check_core_metadata(
    data: bytes | None, what: str, parsed: _FileName | None, report: _Report
) -> tuple[str | None, str | None]:
    """Check METADATA/PKG-INFO against the file name; returns its (Name, Version)."""
    if data is None:
        report.error(
            f"{what} is missing; installers and PyPI read the project's name, version and "
            "dependencies from it: rebuild the archive with the build backend"
        )
        return None, None
    message = _parse_headers(data, what, report)
    if message is None:
        return None, None
    name, version = message.get("Name"), message.get("Version")
    if message.get("Metadata-Version") is None:
        report.error(f"{what} has no Metadata-Version field; rebuild with a current backend")
    if name is None:
        report.error(f"{what} has no Name field; rebuild the archive with the build backend")
    elif parsed is not None and canonicalize_name(name) != parsed.name:
        report.error(
            f"{what} says Name: {name}, but the file name says {parsed.name_part}; the file "
            "was renamed or built from another project: rebuild it"
        )
    if version is None:
        report.error(f"{what} has no Version field; rebuild the archive with the build backend")
    else:
        _compare_version(version, what, parsed, report)
    return name, version


def _compare_version(version: str, what: str, parsed: _FileName | None, report: _Report) -> None:
    try:
        meta_version = Version(version)
    except InvalidVersion:
        report.error(f"{what} has Version: {version}, which is not a PEP 440 version; fix it")
        return
    if parsed is not None and meta_version != parsed.version:
        report.error(
            f"{what} says Version: {version}, but the file name says {parsed.version_part}; "
            "the file was renamed or is left over from another build: rebuild it"
        )


def _read_limited(handle: IO[bytes], what: str) -> bytes:
    data = handle.read(MAX_METADATA_BYTES + 1)
    if len(data) > MAX_METADATA_BYTES:
        raise ValueError(f"{what} is larger than {MAX_METADATA_BYTES} bytes")
    return data


# --- wheels --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RecordEntry:
    algorithm: str
    digest: str
    size: str


@dataclass
class _WheelRead:
    """What one pass over a wheel's members kept: metadata bytes and what RECORD did not."""

    kept: dict[str, bytes] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)


def _inspect_wheel(path: Path, report: _Report) -> ArchiveInfo:
    parsed = _parse_wheel_file_name(path.name, report)
    members: tuple[str, ...] = ()
    metadata: tuple[str | None, str | None] = (None, None)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            members = tuple(info.filename for info in infos)
            metadata = _check_wheel(archive, infos, parsed, report)
    except _ZIP_ERRORS as exc:
        report.error(
            f"the wheel is not a readable zip archive ({exc}); it is truncated or damaged: "
            "build it again (or download the CI artifact again)"
        )
    return ArchiveInfo(
        path=path,
        kind=WHEEL,
        name=parsed.name if parsed else None,
        filename_version=str(parsed.version) if parsed else None,
        metadata_version=metadata[1],
        metadata_name=metadata[0],
        tags=parsed.tags if parsed else frozenset(),
        members=members,
    )


def _check_wheel(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    parsed: _FileName | None,
    report: _Report,
) -> tuple[str | None, str | None]:
    names = [info.filename for info in infos]
    _check_paths(names, report, "an installer could write it outside site-packages: fix the build")
    _check_duplicates(names, report, level="error")
    dist_info = _find_dist_info(names, parsed, report)
    if dist_info is None:
        return None, None
    _check_data_dir(names, dist_info, report)

    record_name = f"{dist_info}/RECORD"
    record = _read_record(archive, record_name, report)
    wanted = {f"{dist_info}/WHEEL", f"{dist_info}/METADATA"}
    read = _read_members(archive, infos, record, wanted, record_name=record_name, report=report)
    if record is not None:
        _check_record_coverage(record, read.seen, infos, record_name=record_name, report=report)

    _check_wheel_file(read.kept.get(f"{dist_info}/WHEEL"), parsed, report)
    return _check_core_metadata(
        read.kept.get(f"{dist_info}/METADATA"), f"{dist_info}/METADATA", parsed, report
    )


def _top_dirs(names: Iterable[str], suffix: str) -> list[str]:
    tops = {name.split("/", 1)[0] for name in names if "/" in name}
    return sorted(top for top in tops if top.endswith(suffix))


def _find_dist_info(names: Sequence[str], parsed: _FileName | None, report: _Report) -> str | None:
    found = _top_dirs(names, ".dist-info")
    if not found:
        report.error(
            "the wheel has no top-level .dist-info directory, so no installer can use it: "
            "rebuild it"
        )
        return None
    expected = f"{parsed.stem}.dist-info" if parsed else None
    if len(found) > 1:
        report.error(
            f"the wheel has {len(found)} .dist-info directories ({', '.join(found)}); a "
            "wheel has exactly one: rebuild it from a clean build directory"
        )
    matching = [d for d in found if parsed is not None and _dir_matches(d, parsed)]
    if parsed is not None and not matching:
        report.error(
            f"the wheel's .dist-info directory {found[0]!r} does not match the file name "
            f"(expected {expected!r}); the wheel was renamed or its metadata is from another "
            "build: rebuild it"
        )
    return matching[0] if matching else found[0]


def _dir_matches(directory: str, parsed: _FileName) -> bool:
    """Whether ``{name}-{version}.<suffix>`` names the same distribution as the file name."""
    stem = directory.rsplit(".", 1)[0]
    name, sep, version = stem.partition("-")
    if not sep:
        return False
    try:
        return canonicalize_name(name) == parsed.name and Version(version) == parsed.version
    except InvalidVersion:
        return False


def _check_data_dir(names: Sequence[str], dist_info: str, report: _Report) -> None:
    expected = dist_info[: -len(".dist-info")] + ".data"
    for data_dir in _top_dirs(names, ".data"):
        if data_dir != expected:
            report.error(
                f"the wheel has a data directory {data_dir!r}, but it must be named {expected!r} "
                "after the .dist-info directory; installers ignore it otherwise: rebuild it"
            )


def _read_record(
    archive: zipfile.ZipFile, record_name: str, report: _Report
) -> dict[str, _RecordEntry] | None:
    try:
        with archive.open(record_name) as handle:
            data = _read_limited(handle, record_name)
    except KeyError:
        report.error(
            f"{record_name} is missing; installers need it to verify and uninstall the "
            "wheel: rebuild it"
        )
        return None
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        report.error(f"{record_name} is not a readable UTF-8 CSV file ({exc}); rebuild the wheel")
        return None
    return _parse_record_rows(rows, record_name, report)


def _parse_record_rows(
    rows: list[list[str]], record_name: str, report: _Report
) -> dict[str, _RecordEntry]:
    entries: dict[str, _RecordEntry] = {}
    for number, row in enumerate(rows, start=1):
        if not row:
            continue
        if len(row) != 3:
            report.error(
                f"{record_name} line {number} has {len(row)} fields instead of 3 "
                "(path,hash,size); rebuild the wheel",
                kind="RECORD",
            )
            continue
        member, hash_field, size = row
        if member in entries:
            report.error(f"{record_name} lists {member!r} twice; rebuild the wheel", kind="RECORD")
        algorithm, _, digest = hash_field.partition("=")
        entries[member] = _RecordEntry(algorithm, digest.rstrip("="), size)
    return entries


def _read_members(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    record: dict[str, _RecordEntry] | None,
    wanted: set[str],
    *,
    record_name: str,
    report: _Report,
) -> _WheelRead:
    """One streaming pass over every member: zip CRCs, RECORD hashes and sizes, metadata."""
    read = _WheelRead()
    for info in infos:
        if info.is_dir() or info.filename == record_name:
            continue
        entry = record.get(info.filename) if record is not None else None
        algorithm = _usable_algorithm(entry, info.filename, record_name, report)
        try:
            digest, size, data = _stream_member(archive, info, algorithm, info.filename in wanted)
        except _ZIP_ERRORS as exc:
            report.error(
                f"member {info.filename!r} cannot be read ({exc}); the archive is damaged: "
                "build it again",
                kind="unreadable member",
            )
            continue
        read.seen.add(info.filename)
        if data is not None:
            read.kept[info.filename] = data
        if entry is not None:
            _compare_record(
                entry, digest, size, info.filename, record_name=record_name, report=report
            )
    return read


def _usable_algorithm(
    entry: _RecordEntry | None, member: str, record_name: str, report: _Report
) -> str | None:
    if entry is None:
        return None
    if not entry.algorithm or not entry.digest:
        report.error(
            f"{record_name} has no hash for {member!r}; every file but RECORD needs one: "
            "rebuild the wheel",
            kind="RECORD",
        )
        return None
    algorithm = entry.algorithm.lower()
    if algorithm in WEAK_HASHES or algorithm not in hashlib.algorithms_guaranteed:
        report.error(
            f"{record_name} hashes {member!r} with {entry.algorithm!r}; wheels must use "
            "sha256 or stronger: rebuild the wheel",
            kind="RECORD",
        )
        return None
    return algorithm


def _stream_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, algorithm: str | None, keep: bool
) -> tuple[str | None, int, bytes | None]:
    """Hash a member chunk by chunk (reading to the end also makes zipfile check its CRC)."""
    hasher = hashlib.new(algorithm) if algorithm else None
    size = 0
    chunks: list[bytes] = []
    with archive.open(info) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            size += len(chunk)
            if hasher is not None:
                hasher.update(chunk)
            if keep:
                if size > MAX_METADATA_BYTES:
                    raise ValueError(f"larger than {MAX_METADATA_BYTES} bytes")
                chunks.append(chunk)
    digest = _urlsafe_b64(hasher.digest()) if hasher is not None else None
    return digest, size, b"".join(chunks) if keep else None


def _urlsafe_b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _compare_record(
    entry: _RecordEntry,
    digest: str | None,
    size: int,
    member: str,
    *,
    record_name: str,
    report: _Report,
) -> None:
    remedy = (
        "the file changed after RECORD was written: rebuild the wheel (a tool that modifies "
        "wheels must rewrite RECORD)"
    )
    if digest is not None and digest != entry.digest:
        report.error(
            f"{record_name} says {member!r} has {entry.algorithm}={entry.digest}, but its "
            f"content hashes to {entry.algorithm}={digest}; {remedy}",
            kind="RECORD",
        )
    if not entry.size:
        report.error(
            f"{record_name} gives no size for {member!r}; rebuild the wheel", kind="RECORD"
        )
    elif entry.size != str(size):
        report.error(
            f"{record_name} says {member!r} is {entry.size} bytes, but it is {size} bytes; "
            f"{remedy}",
            kind="RECORD",
        )


def _check_record_coverage(
    record: dict[str, _RecordEntry],
    seen: set[str],
    infos: list[zipfile.ZipInfo],
    *,
    record_name: str,
    report: _Report,
) -> None:
    files = {info.filename for info in infos if not info.is_dir()}
    for member in sorted(seen - record.keys()):
        if member.startswith(record_name) and member.endswith(UNRECORDED_SIGNATURES):
            continue
        report.error(
            f"{member!r} is in the archive but not in {record_name}; installers would not "
            "remove it on uninstall: rebuild the wheel (a tool that adds files must rewrite "
            "RECORD)",
            kind="RECORD",
        )
    for member in sorted(record.keys() - files - {record_name}):
        report.error(
            f"{record_name} lists {member!r}, which is not in the archive; a file was removed "
            "after RECORD was written: rebuild the wheel",
            kind="RECORD",
        )


def _check_wheel_file(data: bytes | None, parsed: _FileName | None, report: _Report) -> None:
    if data is None:
        report.error(
            "the .dist-info/WHEEL file is missing; installers refuse a wheel without it: rebuild it"
        )
        return
    message = _parse_headers(data, "WHEEL", report)
    if message is None:
        return
    wheel_version = message.get("Wheel-Version")
    if wheel_version is None:
        report.error("WHEEL has no Wheel-Version field; rebuild the wheel")
    elif not wheel_version.strip().startswith("1."):
        report.error(
            f"WHEEL has Wheel-Version: {wheel_version}; installers understand only 1.x: "
            "rebuild with a current build backend"
        )
    if parsed is not None:
        _compare_tags(message.get_all("Tag") or [], parsed, report)


def _compare_tags(lines: list[str], parsed: _FileName, report: _Report) -> None:
    declared: set[Tag] = set()
    for line in lines:
        try:
            declared |= parse_tag(line.strip())
        except ValueError:
            report.error(f"WHEEL has an invalid Tag line {line!r}; rebuild the wheel")
    if declared == parsed.tags:
        return
    missing = sorted(str(tag) for tag in parsed.tags - declared)
    extra = sorted(str(tag) for tag in declared - parsed.tags)
    details = []
    if missing:
        details.append(f"in the file name but not in WHEEL: {', '.join(missing)}")
    if extra:
        details.append(f"in WHEEL but not in the file name: {', '.join(extra)}")
    report.error(
        f"the Tag lines in WHEEL disagree with the file name's tags ({'; '.join(details)}); "
        "the wheel was renamed or retagged without updating WHEEL: retag it with "
        "`wheel tags` or rebuild it"
    )


# --- sdists --------------------------------------------------------------------------------


@dataclass
class _SdistRead:
    names: list[str] = field(default_factory=list)
    kept: dict[str, bytes] = field(default_factory=dict)
    complete: bool = True


def _inspect_sdist(path: Path, report: _Report) -> ArchiveInfo:
    parsed = _parse_sdist_file_name(path.name, report)
    top = parsed.stem if parsed else None
    read = _read_sdist(path, top, report)
    metadata: tuple[str | None, str | None] = (None, None)
    if read.complete:
        _check_duplicates(read.names, report, level="warning")
        top = _check_single_top(read.names, top, report)
        if top is not None:
            metadata = _check_core_metadata(
                read.kept.get(f"{top}/PKG-INFO"), f"{top}/PKG-INFO", parsed, report
            )
            _check_pyproject(read.kept.get(f"{top}/pyproject.toml"), top, report)
    return ArchiveInfo(
        path=path,
        kind=SDIST,
        name=parsed.name if parsed else None,
        filename_version=str(parsed.version) if parsed else None,
        metadata_version=metadata[1],
        metadata_name=metadata[0],
        tags=frozenset(),
        members=tuple(read.names),
    )


def _read_sdist(path: Path, top: str | None, report: _Report) -> _SdistRead:
    """One streaming pass through the tar; draining the gzip stream checks its CRC and size."""
    read = _SdistRead()
    try:
        with path.open("rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            with tarfile.open(fileobj=unzipped, mode="r|") as archive:
                for member in archive:
                    read.names.append(member.name)
                    _check_tar_member(member, top, report)
                    if _is_sdist_metadata(member):
                        handle = archive.extractfile(member)
                        if handle is not None:
                            read.kept[member.name] = _read_limited(handle, member.name)
            while unzipped.read(CHUNK_BYTES):
                pass
    except _TAR_ERRORS as exc:
        read.complete = False
        report.error(
            f"the sdist is not a readable tar.gz archive ({exc or type(exc).__name__}); it is "
            "truncated or damaged: build it again (or download the CI artifact again)"
        )
    return read


def _is_sdist_metadata(member: tarfile.TarInfo) -> bool:
    # Kept for every top directory: which one is the sdist's is known only at the end.
    top, _, base = member.name.partition("/")
    return member.isfile() and base in ("PKG-INFO", "pyproject.toml") and bool(top)


def _check_tar_member(member: tarfile.TarInfo, top: str | None, report: _Report) -> None:
    problem = _path_problem(member.name)
    if problem is not None:
        report.error(
            f"member {member.name!r} {problem}; unpacking the sdist could write outside its "
            "directory: fix the sdist build configuration",
            kind="path",
        )
    if member.ischr() or member.isblk() or member.isfifo():
        report.error(
            f"member {member.name!r} is a device or FIFO; an sdist holds only files, "
            "directories and links inside it: remove it from the sdist",
            kind="special file",
        )
    elif member.issym() or member.islnk():
        _check_link(member, top, report)


def _check_link(member: tarfile.TarInfo, top: str | None, report: _Report) -> None:
    target = member.linkname
    kind = "symlink" if member.issym() else "hard link"
    if member.issym():
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), target))
    else:
        resolved = posixpath.normpath(target)
    root = top if top is not None else member.name.split("/", 1)[0]
    absolute = target.startswith("/") or bool(_DRIVE.match(target))
    if absolute or not (resolved == root or resolved.startswith(f"{root}/")):
        report.error(
            f"member {member.name!r} is a {kind} to {target!r}, outside the sdist's "
            f"top directory {root + '/'!r}; unpacking it could touch files elsewhere: "
            "replace the link with the file it points to",
            kind="link",
        )


def _check_single_top(names: list[str], expected: str | None, report: _Report) -> str | None:
    """The sdist's one top-level directory, or None (with a finding) when there is none."""
    tops = sorted({name.split("/", 1)[0] for name in names})
    if expected is None:
        if len(tops) == 1:
            return tops[0]
        report.error(
            f"the sdist has {len(tops)} top-level entries ({', '.join(tops[:5])}); an sdist holds "
            "exactly one directory {name}-{version}/: rebuild it with the build backend"
        )
        return None
    strays = [t for t in tops if t != expected]
    if strays:
        report.error(
            f"the sdist has top-level entries other than {expected + '/'!r}: "
            f"{', '.join(strays[:5])}; an sdist holds exactly one directory named like the "
            "file: rebuild it with the build backend"
        )
    if expected not in tops:
        return None
    return expected


def _check_pyproject(data: bytes | None, top: str, report: _Report) -> None:
    if data is None:
        report.error(
            f"{top}/pyproject.toml is missing; without it installers cannot know how to "
            "build the sdist: include pyproject.toml in the sdist"
        )
        return
    try:
        parse_toml(data, f"{top}/pyproject.toml")
    except InvalidTomlError as exc:
        report.error(f"{exc.cause} Fix it and rebuild")
