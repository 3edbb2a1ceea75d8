"""One parsed model of each distribution file in a dist dir, made once and passed to every check.

A :class:`Distribution` holds what its file name says (name, version, tags, platform family,
abi3) and what one front-to-back read of the archive found (members with their size and
sha256, the small metadata files, why the archive could not be read). Checks judge this
model; none of them parses a file name or opens an archive for the same facts again.

Nothing here writes an archive member to disk: members are hashed in chunks as they stream
past, and only metadata files (bounded in size) are kept in memory.
"""

from __future__ import annotations

import base64
import email.parser
import gzip
import hashlib
import re
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import IO

from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from .records import sha256_of

WHEEL = "wheel"
SDIST = "sdist"
WHEEL_SUFFIX = ".whl"
SDIST_SUFFIX = ".tar.gz"

# Platform families, as the stages and the configuration name them.
LINUX = "linux"
WINDOWS = "windows"
MACOS = "macos"
ANY = "any"
UNKNOWN = "unknown"
# The families a release ships, each a key of [tool.release.wheels].
RELEASE_PLATFORMS = (LINUX, WINDOWS, MACOS)

# Metadata files are kept whole in memory; no honest METADATA, WHEEL, RECORD or PKG-INFO comes
# near this, and a hostile archive must not make us allocate gigabytes.
MAX_METADATA_BYTES = 32 << 20
CHUNK_BYTES = 1 << 16
BINARY_SUFFIXES = (".so", ".pyd", ".dll", ".dylib")

# What a damaged archive makes zipfile/tarfile/zlib raise.
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

_PLATFORM_FAMILIES = (
    (re.compile(r"win(32|_\w+)"), WINDOWS),
    (re.compile(r"(many|musl)linux\w*|linux_\w+"), LINUX),
    (re.compile(r"macosx_\w+"), MACOS),
    (re.compile(r"ios_\w+"), "ios"),
    (re.compile(r"android_\w+"), "android"),
    (re.compile(r"(py)?emscripten_\w+"), "emscripten"),
)


def platform_family(platform_tag: str) -> str:
    """``win_amd64`` -> windows, ``manylinux_2_17_x86_64`` -> linux, ``any`` -> any, ..."""
    if platform_tag == "any":
        return ANY
    for pattern, family in _PLATFORM_FAMILIES:
        if pattern.fullmatch(platform_tag):
            return family
    return UNKNOWN


@dataclass(frozen=True)
class Member:
    """One member of a wheel, as the single read found it."""

    name: str
    size: int
    is_dir: bool
    sha256: str | None = None  # urlsafe base64, unpadded, as RECORD writes it
    error: str | None = None  # why its data could not be read (bad CRC, unsupported method)


@dataclass(frozen=True)
class TarMember:
    name: str
    kind: str  # file | dir | symlink | hardlink | device | fifo | other
    linkname: str = ""


@dataclass(frozen=True)
class Distribution:
    path: Path
    kind: str  # WHEEL | SDIST
    size: int = 0
    sha256: str = ""  # of the whole file, hex, as records and indexes write it
    # From the file name; None when it does not parse (``name_problem`` says why).
    name: NormalizedName | None = None
    version: Version | None = None
    name_part: str | None = None  # as written in the file name
    version_part: str | None = None
    tags: frozenset[Tag] = frozenset()
    name_problem: str | None = None
    # From reading the archive.
    read_problem: str | None = None
    members: tuple[Member, ...] = ()
    tar_members: tuple[TarMember, ...] = ()
    kept: Mapping[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def is_wheel(self) -> bool:
        return self.kind == WHEEL

    @property
    def readable(self) -> bool:
        """The archive could be read; checks that look inside need this."""
        return self.read_problem is None

    @property
    def platforms(self) -> frozenset[str]:
        return frozenset(tag.platform for tag in self.tags)

    @property
    def families(self) -> frozenset[str]:
        return frozenset(platform_family(p) for p in self.platforms)

    @property
    def platform(self) -> str | None:
        """The wheel's platform family (linux, windows, macos, any, unknown), "mixed" for a
        tag set spanning several, None for an sdist or an unparseable name."""
        families = self.families
        if not families:
            return None
        return next(iter(families)) if len(families) == 1 else "mixed"

    @property
    def abi3(self) -> bool:
        return any(tag.abi == "abi3" for tag in self.tags)

    @property
    def tag_strings(self) -> list[str]:
        """``python-abi-platform`` for each tag the file name expands to, sorted."""
        return sorted(str(tag) for tag in self.tags)

    @property
    def binaries(self) -> list[Member]:
        return [
            m for m in self.members
            if not m.is_dir and (m.name.lower().endswith(BINARY_SUFFIXES) or ".so." in m.name)
        ]  # fmt: skip

    # --- metadata ------------------------------------------------------------------------

    @property
    def dist_info(self) -> str | None:
        """The wheel's ``.dist-info`` directory: the one named like the file, else the first."""
        found = self.dist_info_dirs
        stem = f"{self.name_part}-{self.version_part}.dist-info"
        return stem if stem in found else (found[0] if found else None)

    @property
    def dist_info_dirs(self) -> list[str]:
        return top_dirs([m.name for m in self.members], ".dist-info")

    @property
    def sdist_top(self) -> str | None:
        """The sdist's top directory: named like the file, else the only one there is."""
        tops = sorted({m.name.split("/", 1)[0] for m in self.tar_members})
        expected = f"{self.name_part}-{self.version_part}" if self.name_part else None
        if expected in tops:
            return expected
        return tops[0] if len(tops) == 1 and expected is None else None

    @property
    def metadata_path(self) -> str | None:
        """Where the core metadata is: ``<dist-info>/METADATA`` or ``<top>/PKG-INFO``."""
        if self.is_wheel:
            return f"{self.dist_info}/METADATA" if self.dist_info else None
        return f"{self.sdist_top}/PKG-INFO" if self.sdist_top else None

    @property
    def metadata_bytes(self) -> bytes | None:
        path = self.metadata_path
        return self.kept.get(path) if path else None

    @property
    def metadata_version(self) -> str | None:
        """The ``Version`` field of the core metadata, as written (None when unreadable)."""
        path = self.metadata_path
        message = self.headers(path) if path else None
        return message.get("Version") if message is not None else None

    def headers(self, member: str) -> Message | None:
        """A kept RFC 822 style file (METADATA, PKG-INFO, WHEEL), or None when absent or not
        UTF-8 (the integrity check reports why)."""
        data = self.kept.get(member)
        if data is None:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return email.parser.Parser().parsestr(text, headersonly=True)


def top_dirs(names: list[str], suffix: str) -> list[str]:
    tops = {name.split("/", 1)[0] for name in names if "/" in name}
    return sorted(top for top in tops if top.endswith(suffix))


# --- the dist dir ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Stray:
    """An entry of the dist dir that is not a distribution validate can read."""

    name: str
    problem: str
    remedy: str
    refused: bool = False  # a format PyPI rejects: someone expects it to be published


# Formats a dist dir may hold that PyPI no longer accepts (PEP 527, PEP 625).
REJECTED_SUFFIXES = (".zip", ".egg", ".exe", ".msi", ".tar.bz2", ".tar.xz", ".tgz", ".tar")


def kind_of(name: str) -> str | None:
    if name.endswith(WHEEL_SUFFIX):
        return WHEEL
    if name.endswith(SDIST_SUFFIX):
        return SDIST
    return None


# What publish writes beside each file it signs (release.publish.attest.SUFFIX).
ATTESTATION_SUFFIX = ".publish.attestation"


def scan_dist_dir(dist: Path) -> tuple[list[Path], list[Stray]]:
    """The distribution files directly in ``dist``, and everything else found there.

    ``.release`` (the stage records) is ours and not listed. Hidden files are never
    published, so a hidden wheel is a stray that says so rather than a wheel.
    """
    files: list[Path] = []
    strays: list[Stray] = []
    for entry in sorted(dist.iterdir()):
        name = entry.name
        if name == ".release":
            continue
        kind = kind_of(name)
        if entry.is_symlink() and not entry.exists():
            strays.append(Stray(
                name,
                f"is a symbolic link to {entry.readlink()}, which does not exist",
                "remove the link, or put the file it should point to in its place.",
                refused=kind is not None,
            ))  # fmt: skip
        elif name.startswith("."):
            if kind is not None:
                strays.append(Stray(
                    name,
                    "is a hidden file (its name starts with '.'); validate and publish "
                    "leave hidden files alone",
                    f"rename it to {name.lstrip('.')} if it belongs to the release, or "
                    "remove it.",
                ))  # fmt: skip
        elif entry.is_dir():
            strays.append(Stray(
                name,
                "is a directory; validate and publish look only at files directly in "
                "the dist dir",
                "move its wheels and sdists up into the dist dir, or remove it.",
            ))  # fmt: skip
        elif kind is not None:
            files.append(entry)
        elif name.endswith(ATTESTATION_SUFFIX) and kind_of(name[: -len(ATTESTATION_SUFFIX)]):
            continue  # publish's PEP 740 attestation of a file: uploaded with it, not alone
        elif name.endswith(REJECTED_SUFFIXES):
            strays.append(Stray(
                name,
                "is not a distribution PyPI accepts (only wheels and .tar.gz sdists are)",
                "remove it from the dist dir; build a wheel or a .tar.gz sdist instead.",
                refused=True,
            ))  # fmt: skip
        else:
            strays.append(Stray(
                name,
                "is not a distribution (not a .whl or .tar.gz); it will not be published",
                "remove it from the dist dir if it is not needed there.",
            ))  # fmt: skip
    return files, strays


# --- reading one file --------------------------------------------------------------------------


def read_distribution(path: Path) -> Distribution:
    """The model of one wheel or sdist; never raises for a damaged file."""
    kind = kind_of(path.name)
    if kind == WHEEL:
        return _read_wheel(path)
    if kind == SDIST:
        return _read_sdist(path)
    raise ValueError(f"{path.name} is not a wheel or an sdist")  # scan_dist_dir sorts these out


def describe_file(path: Path) -> Distribution:
    """What the file name says, and the file's size and sha256, without opening the archive:
    enough for publish, which uploads files validate has already read."""
    kind = kind_of(path.name)
    if kind is None:
        raise ValueError(f"{path.name} is not a wheel or an sdist")
    parsed = _wheel_name(path) if kind == WHEEL else _sdist_name(path)
    return _distribution(path, kind, parsed, read_problem=None, kept={})


@dataclass(frozen=True)
class _FileName:
    name: NormalizedName | None = None
    version: Version | None = None
    name_part: str | None = None
    version_part: str | None = None
    tags: frozenset[Tag] = frozenset()
    problem: str | None = None


def _wheel_name(path: Path) -> _FileName:
    try:
        name, version, _build, tags = parse_wheel_filename(path.name)
    except InvalidWheelFilename as exc:
        return _FileName(problem=str(exc))
    parts = path.name[: -len(WHEEL_SUFFIX)].split("-")
    return _FileName(name, version, parts[0], parts[1], tags)


def _distribution(
    path: Path,
    kind: str,
    parsed: _FileName,
    *,
    read_problem: str | None,
    kept: dict[str, bytes],
    members: tuple[Member, ...] = (),
    tar_members: tuple[TarMember, ...] = (),
) -> Distribution:
    return Distribution(
        path,
        kind,
        size=path.stat().st_size,
        sha256=sha256_of(path),
        name=parsed.name,
        version=parsed.version,
        name_part=parsed.name_part,
        version_part=parsed.version_part,
        tags=parsed.tags,
        name_problem=parsed.problem,
        read_problem=read_problem,
        members=members,
        tar_members=tar_members,
        kept=kept,
    )


def _is_kept(name: str) -> bool:
    top, _, base = name.partition("/")
    return top.endswith(".dist-info") and base in ("METADATA", "WHEEL", "RECORD")


def _read_wheel(path: Path) -> Distribution:
    facts = _wheel_name(path)
    members: list[Member] = []
    kept: dict[str, bytes] = {}
    problem = None
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                members.append(_read_member(archive, info, kept))
    except _ZIP_ERRORS as exc:
        problem = f"it is not a readable zip archive ({exc or type(exc).__name__})"
    return _distribution(
        path, WHEEL, facts, read_problem=problem, members=tuple(members), kept=kept
    )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, kept: dict[str, bytes]) -> Member:
    if info.is_dir():
        return Member(info.filename, 0, True)
    keep = _is_kept(info.filename)
    hasher = hashlib.sha256()
    size = 0
    chunks: list[bytes] = []
    try:
        # Reading to the end also makes zipfile check the CRC.
        with archive.open(info) as handle:
            while chunk := handle.read(CHUNK_BYTES):
                size += len(chunk)
                hasher.update(chunk)
                if keep:
                    if size > MAX_METADATA_BYTES:
                        raise ValueError(f"larger than {MAX_METADATA_BYTES} bytes")
                    chunks.append(chunk)
    except _ZIP_ERRORS as exc:
        return Member(info.filename, info.file_size, False, error=str(exc) or type(exc).__name__)
    if keep:
        kept[info.filename] = b"".join(chunks)
    digest = hasher.digest()
    return Member(info.filename, size, False, sha256=urlsafe_b64(digest))


def urlsafe_b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _sdist_name(path: Path) -> _FileName:
    try:
        name, version = parse_sdist_filename(path.name)
    except InvalidSdistFilename as exc:
        return _FileName(problem=str(exc))
    name_part, _, version_part = path.name[: -len(SDIST_SUFFIX)].rpartition("-")
    return _FileName(name, version, name_part, version_part)


def _tar_kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "dir"
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.ischr() or member.isblk():
        return "device"
    if member.isfifo():
        return "fifo"
    return "file" if member.isfile() else "other"


def _read_sdist(path: Path) -> Distribution:
    facts = _sdist_name(path)
    members: list[TarMember] = []
    kept: dict[str, bytes] = {}
    problem = None
    try:
        with path.open("rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            with tarfile.open(fileobj=unzipped, mode="r|") as archive:
                for member in archive:
                    members.append(TarMember(member.name, _tar_kind(member), member.linkname))
                    top, _, base = member.name.partition("/")
                    if member.isfile() and top and base in ("PKG-INFO", "pyproject.toml"):
                        handle = archive.extractfile(member)
                        if handle is not None:
                            kept[member.name] = _read_limited(handle, member.name)
            # Draining the gzip stream checks its CRC and size.
            while unzipped.read(CHUNK_BYTES):
                pass
    except _TAR_ERRORS as exc:
        problem = f"it is not a readable tar.gz archive ({exc or type(exc).__name__})"
    return _distribution(
        path, SDIST, facts, read_problem=problem, tar_members=tuple(members), kept=kept
    )


def _read_limited(handle: IO[bytes], what: str) -> bytes:
    data = handle.read(MAX_METADATA_BYTES + 1)
    if len(data) > MAX_METADATA_BYTES:
        raise ValueError(f"{what} is larger than {MAX_METADATA_BYTES} bytes")
    return data
