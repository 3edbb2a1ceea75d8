"""macos-dylibs: every macOS wheel's binaries load on each Mac its platform tags name.

Each ``.so`` and ``.dylib`` of a macOS wheel is read with macholib (every slice of a fat
file), and three things are judged, per slice:

- each library it loads (``LC_LOAD_DYLIB``, ``LC_LOAD_WEAK_DYLIB``, ``LC_REEXPORT_DYLIB``)
  is a system library (``/usr/lib/``, ``/System/``) or a file of the wheel, reached through
  ``@loader_path`` or through ``@rpath`` and the binary's own ``LC_RPATH`` entries;
  ``@executable_path`` is the interpreter for an extension, and libpython or
  Python.framework must never be linked nor bundled (the interpreter that imports the module
  is the one it must use);
- its minimum macOS (``LC_BUILD_VERSION`` ``minos``, or ``LC_VERSION_MIN_MACOSX``) is not
  newer than the tag's version for that architecture (arm64 Macs start at macOS 11, so a
  ``universal2`` tag of 10.x asks 11.0 of the arm64 slice);
- the slices include each architecture a tag names (``universal2`` is x86_64 and arm64).
  A wheel with several tags (maturin writes ``macosx_10_12_x86_64.macosx_11_0_arm64.
  macosx_10_12_universal2``) meets each one: pip installs it on any Mac one of them names.

A binary several wheels carry is read once (by its sha256). macholib reads the load commands
only; nothing runs, so this works on any host.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import posixpath
import re
import struct
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dists import MACOS, Distribution, Member
from ..errors import ToolNotFoundError
from ..records import ERROR, Finding
from ..runner import Runner
from .base import Check, CheckContext, readable

CHECK = "macos-dylibs"
BINARY_SUFFIXES = (".so", ".dylib")
# Mach-O CPU types (mach/machine.h): CPU_ARCH_ABI64 | CPU_TYPE_X86 and | CPU_TYPE_ARM.
CPU_ARCHES = {0x01000007: "x86_64", 0x0100000C: "arm64"}
# An arm64e slice (pointer authentication, CPU_SUBTYPE_ARM64E) is another architecture: an
# arm64 Python cannot load it.
_ARM64E_SUBTYPE = 2
TAG_ARCHES = {"x86_64": ("x86_64",), "arm64": ("arm64",), "universal2": ("x86_64", "arm64")}
# The first macOS that runs on Apple silicon.
ARM64_FIRST_MACOS = (11, 0)
_MACOSX_TAG = re.compile(r"macosx_(\d+)_(\d+)_(\w+)")
_SYSTEM_PREFIXES = ("/usr/lib/", "/System/")
_LIBPYTHON = re.compile(r"(^|/)(libpython\d[^/]*|Python\.framework/|PythonT\.framework/)")
# LC_BUILD_VERSION's platform for macOS (mach-o/loader.h PLATFORM_MACOS).
PLATFORM_MACOS = 1
_PLATFORM_NAMES = {2: "iOS", 3: "tvOS", 4: "watchOS", 6: "Mac Catalyst", 7: "the iOS simulator",
                   11: "visionOS"}  # fmt: skip
# What macholib raises on a file that is not Mach-O, or one cut short.
_MACHO_ERRORS = (ValueError, struct.error, KeyError, IndexError, EOFError, OSError)

Version = tuple[int, int]


@dataclass(frozen=True)
class Slice:
    """What one architecture of a Mach-O file says about loading it."""

    arch: str  # x86_64, arm64, or the CPU type in hex for another
    minos: Version | None  # None: no version load command (old linkers)
    platform: int | None  # LC_BUILD_VERSION's; None with LC_VERSION_MIN_MACOSX
    dylibs: tuple[str, ...]
    rpaths: tuple[str, ...]


@dataclass
class MachFile:
    member: str  # an archive name it was read from (the first wheel's)
    slices: tuple[Slice, ...] = ()
    problem: str | None = None  # why it is not a Mach-O file that can be judged


@dataclass
class _Wheel:
    dist: Distribution
    names: frozenset[str]
    findings: list[Finding] = field(default_factory=list)

    def error(self, message: str, remedy: str) -> None:
        self.findings.append(Finding(ERROR, CHECK, self.dist.filename, message, remedy))


class MacosDylibsCheck(Check):
    name = CHECK
    tools = ("macholib",)

    def applies_to(self, dist: Distribution) -> bool:
        return dist.is_wheel and readable(dist) and MACOS in dist.families

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        return scan_wheels(dists)

    def tool_version(self, tool: str, runner: Runner) -> str:
        # The macholib that reads the files is the one this Python imports.
        try:
            return f"macholib {importlib.metadata.version('macholib')}"
        except importlib.metadata.PackageNotFoundError:
            return "not found"


def scan_wheels(dists: Sequence[Distribution]) -> list[Finding]:
    """Findings for every macOS wheel among ``dists``."""
    if importlib.util.find_spec("macholib") is None:
        raise ToolNotFoundError(
            f"macholib is not installed in the Python that runs nox-release ({sys.executable}); "
            "macOS wheels' binaries are read with it.",
            f"{sys.executable} -m pip install macholib, or run nox -s validate, which installs it.",
        )
    read: dict[str, MachFile] = {}  # by sha256
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="nox-release-dylibs-") as tmp:
        scratch = Path(tmp)
        for dist in dists:
            requirements, problems = tag_requirements(dist.platforms)
            wheel = _Wheel(dist, frozenset(m.name for m in dist.members if not m.is_dir))
            for tag, problem in problems:
                wheel.error(
                    f"its platform tag {tag} {problem}, so its binaries were not checked "
                    "against it",
                    "tag the wheel macosx_<version>_x86_64, _arm64 or _universal2 for the "
                    "architectures its binaries hold.",
                )
            binaries = [
                m for m in dist.members
                if not m.is_dir and m.name.lower().endswith(BINARY_SUFFIXES) and m.sha256
            ]  # fmt: skip
            _read_new(dist.path, [m for m in binaries if m.sha256 not in read], read, scratch)
            for name in sorted(wheel.names):
                shipped = name.lower().endswith(BINARY_SUFFIXES) or ".framework/" in name
                if shipped and _LIBPYTHON.search(name):
                    wheel.error(
                        f"{name} is a Python library bundled in the wheel: an extension module "
                        "must use the interpreter that imports it, never a copy",
                        "leave it out: link the extension with -undefined dynamic_lookup "
                        "(setuptools, maturin and PyO3 do) so that no repair step bundles "
                        "libpython, then rebuild.",
                    )
            for member in binaries:
                assert member.sha256 is not None
                judge_binary(wheel, member.name, read[member.sha256], requirements)
            findings += wheel.findings
    return findings


# --- the tags --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """A slice that must be there, and the newest macOS it may ask for."""

    arch: str
    macos: Version
    tag: str


def tag_requirements(platforms: frozenset[str]) -> tuple[list[Requirement], list[tuple[str, str]]]:
    """What the wheel's macOS tags ask of each binary; and the tags that cannot be judged."""
    requirements: list[Requirement] = []
    problems: list[tuple[str, str]] = []
    for tag in sorted(platforms):
        match = _MACOSX_TAG.fullmatch(tag)
        if match is None:
            if tag.startswith("macosx"):
                problems.append((tag, "is not macosx_<major>_<minor>_<arch>"))
            continue
        version = int(match[1]), int(match[2])
        arches = TAG_ARCHES.get(match[3])
        if arches is None:
            problems.append(
                (tag, f"names {match[3]}, an architecture no supported macOS Python runs on")
            )
            continue
        for arch in arches:
            floor = max(version, ARM64_FIRST_MACOS) if arch == "arm64" else version
            requirements.append(Requirement(arch, floor, tag))
    return requirements, problems


# --- reading ---------------------------------------------------------------------------------


def _read_new(
    wheel: Path, members: Sequence[Member], read: dict[str, MachFile], scratch: Path
) -> None:
    if not members:
        return
    with zipfile.ZipFile(wheel) as archive:
        for member in members:
            if member.sha256 is None or member.sha256 in read:
                continue  # the same binary twice in one wheel
            try:
                data = archive.read(member.name)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                    RuntimeError) as exc:  # fmt: skip
                read[member.sha256] = MachFile(member.name, problem=f"cannot be extracted ({exc})")
                continue
            # macholib reads a path; a numbered name, never the archive's.
            path = scratch / f"{len(read)}.bin"
            path.write_bytes(data)
            read[member.sha256] = read_macho(path, member.name)
            path.unlink()


def read_macho(path: Path, member: str) -> MachFile:
    """Every slice of the Mach-O file at ``path``, as macholib reads it."""
    from macholib import mach_o  # type: ignore[import-untyped]
    from macholib.MachO import MachO  # type: ignore[import-untyped]

    try:
        # Load commands newer than this macholib (a newer Xcode's) are kept, not refused:
        # the ones judged here are decades old.
        macho = MachO(str(path), allow_unknown_load_commands=True)
        slices = tuple(_slice(header, mach_o) for header in macho.headers)
    except _MACHO_ERRORS as exc:
        return MachFile(member, problem=f"is not a Mach-O file macholib can read ({exc})")
    if not slices:
        return MachFile(member, problem="is a fat file with no architecture in it")
    return MachFile(member, slices)


def _slice(header: Any, mach_o: Any) -> Slice:
    from macholib.ptypes import sizeof  # type: ignore[import-untyped]

    cputype = int(header.header.cputype)
    dylibs: list[str] = []
    rpaths: list[str] = []
    minos: Version | None = None
    platform: int | None = None
    loads = (mach_o.LC_LOAD_DYLIB, mach_o.LC_LOAD_WEAK_DYLIB, mach_o.LC_REEXPORT_DYLIB)
    for load, command, data in header.commands:
        if load.cmd in loads:
            dylibs.append(_string(load, command, data, int(command.name), sizeof))
        elif load.cmd == mach_o.LC_RPATH:
            rpaths.append(_string(load, command, data, int(command.path), sizeof))
        elif load.cmd == mach_o.LC_BUILD_VERSION:
            minos, platform = _version(int(command.minos)), int(command.platform)
        elif load.cmd == mach_o.LC_VERSION_MIN_MACOSX and minos is None:
            minos = _version(int(command.version))
    arch = CPU_ARCHES.get(cputype, f"CPU type {cputype:#x}")
    if arch == "arm64" and int(header.header.cpusubtype) & 0xFF == _ARM64E_SUBTYPE:
        arch = "arm64e"
    return Slice(arch, minos, platform, tuple(dylibs), tuple(rpaths))


def _string(load: Any, command: Any, data: bytes, offset: int, sizeof: Any) -> str:
    """A load command's string: ``offset`` counts from the command's start, ``data`` is what
    follows its fixed part (as macholib's own walkRelocatables reads it)."""
    start = offset - sizeof(load.__class__) - sizeof(command.__class__)
    end = data.find(b"\x00", start)
    return data[start : end if end >= 0 else len(data)].decode("utf-8", "replace")


def _version(encoded: int) -> Version:
    """``xxxx.yy.zz`` nibbles: major in the top 16 bits, minor in the next 8 (the patch
    level is left out: a wheel tag cannot name one)."""
    return encoded >> 16, (encoded >> 8) & 0xFF


# --- judging ---------------------------------------------------------------------------------


def judge_binary(
    wheel: _Wheel, member: str, macho: MachFile, requirements: Sequence[Requirement]
) -> None:
    if macho.problem is not None:
        wheel.error(
            f"{member} {macho.problem}: macOS cannot load it",
            "put the real binary in the wheel (a Git LFS pointer or another platform's build "
            "can end up here), or leave the file out; then rebuild.",
        )
        return
    by_arch = {s.arch: s for s in macho.slices}
    _judge_arches(wheel, member, by_arch, requirements)
    said: set[tuple[str, str]] = set()
    for piece in macho.slices:
        for dylib in piece.dylibs:
            problem = dylib_problem(member, dylib, piece.rpaths, wheel.names)
            if problem is not None and (dylib, problem[0]) not in said:
                said.add((dylib, problem[0]))
                wheel.error(f"{member} links {dylib}, {problem[0]}", problem[1])


def _judge_arches(
    wheel: _Wheel, member: str, by_arch: dict[str, Slice], requirements: Sequence[Requirement]
) -> None:
    has = ", ".join(sorted(by_arch)) or "none"
    missing: dict[str, list[str]] = {}
    too_new: dict[tuple[str, Version], list[Requirement]] = {}
    for need in requirements:
        piece = by_arch.get(need.arch)
        if piece is None:
            missing.setdefault(need.arch, []).append(need.tag)
        elif piece.platform is not None and piece.platform != PLATFORM_MACOS:
            continue  # said once below, per slice
        elif piece.minos is not None and piece.minos > need.macos:
            too_new.setdefault((need.arch, piece.minos), []).append(need)
    for arch, tags in missing.items():
        macs = "Apple silicon" if arch == "arm64" else "Intel"
        wheel.error(
            f"{member} has no {arch} slice (it holds {has}), but its tag {' and '.join(tags)} "
            f"names {arch}: importing it fails on {macs} Macs",
            f"build the {arch} slice too: cibuildwheel archs (CIBW_ARCHS_MACOS = "
            '"universal2", or "x86_64 arm64" for one wheel each), ARCHFLAGS="-arch x86_64 '
            '-arch arm64" for setuptools, maturin --target universal2-apple-darwin; or tag '
            f"the wheel for the architecture it holds ({has}).",
        )
    for (arch, minos), needs in too_new.items():
        promised = min(need.macos for need in needs)
        named = " and ".join(need.tag for need in needs)
        wheel.error(
            f"{member}: its {arch} slice needs macOS {_shown(minos)}, newer than the macOS "
            f"{_shown(promised)} its tag {named} promises, so pip installs it on Macs where "
            "it fails to load",
            f"build it (and every library bundled with it) with MACOSX_DEPLOYMENT_TARGET="
            f"{_shown(promised)}; or, if macOS {_shown(minos)} is the floor you mean, set "
            f"MACOSX_DEPLOYMENT_TARGET={_shown(minos)} so the wheel is tagged for it "
            "(cibuildwheel and delocate-wheel tag from it).",
        )
    for arch, piece in sorted(by_arch.items()):
        if piece.platform is not None and piece.platform != PLATFORM_MACOS:
            built_for = _PLATFORM_NAMES.get(piece.platform, f"platform {piece.platform}")
            wheel.error(
                f"{member}: its {arch} slice is built for {built_for}, not macOS",
                "build the macOS wheel with the macOS SDK (no -target for another platform), "
                "then rebuild.",
            )


def dylib_problem(
    member: str, dylib: str, rpaths: Sequence[str], names: frozenset[str]
) -> tuple[str, str] | None:
    """Why ``dylib``, loaded by ``member``, may not be there when Python imports it: the
    problem and its remedy; None when it is a system library or a file of the wheel."""
    if _LIBPYTHON.search(dylib):
        return (
            "the Python library: the module then runs against that Python, not the one that "
            "imports it, and fails or crashes wherever the path differs",
            "do not link libpython: link the extension with -undefined dynamic_lookup "
            "(setuptools, maturin and PyO3 do; for CMake use Python_add_library's MODULE "
            "form), then rebuild.",
        )
    loader = posixpath.dirname(member)
    if dylib.startswith(_SYSTEM_PREFIXES):
        return None
    if dylib.startswith("@loader_path/"):
        target = _inside(loader, dylib.removeprefix("@loader_path/"))
        if target in names:
            return None
        return f"which is not in the wheel ({target or 'outside it'})", _bundle_remedy(dylib)
    if dylib.startswith("@rpath/"):
        rest = dylib.removeprefix("@rpath/")
        for rpath in rpaths:
            if rpath.startswith(_SYSTEM_PREFIXES):
                # Swift's runtime lives in /usr/lib/swift; any other library found through a
                # system rpath is one no Mac ships, and the wheel must bring it.
                if posixpath.basename(rest).startswith("libswift"):
                    return None
                continue
            if rpath == "@loader_path" or rpath.startswith("@loader_path/"):
                base = rpath.removeprefix("@loader_path").lstrip("/")
                target = _inside(loader, posixpath.join(base, rest) if base else rest)
                if target in names:
                    return None
        searched = ", ".join(rpaths) if rpaths else "it has no LC_RPATH"
        return f"which no LC_RPATH finds in the wheel ({searched})", _bundle_remedy(dylib)
    if dylib.startswith("@executable_path/"):
        return (
            "a path from the executable, which for an extension module is the Python "
            "interpreter, not the wheel",
            _bundle_remedy(dylib),
        )
    return (
        "which is outside the wheel and not a macOS system library (/usr/lib, /System): "
        "importing it fails on every Mac without that file",
        _bundle_remedy(dylib),
    )


def _inside(directory: str, relative: str) -> str | None:
    """The wheel path ``relative`` names from ``directory``; None when it leaves the wheel."""
    joined = posixpath.normpath(posixpath.join(directory, relative))
    return None if joined.startswith("../") or joined == ".." else joined


def _bundle_remedy(dylib: str) -> str:
    name = posixpath.basename(dylib)
    return (
        f"bundle {name}: run delocate-wheel on the wheel on macOS (cibuildwheel's default "
        "repair-wheel-command does), which copies it into the wheel and rewrites the path to "
        "@loader_path; maturin bundles what it finds at build time. Or link it statically."
    )


def _shown(version: Version) -> str:
    return f"{version[0]}.{version[1]}"
