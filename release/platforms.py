"""The platform model: which machines a release's wheels are for, and which runners build them.

A platform is an operating system, an architecture and, on Linux, a libc, named in
cibuildwheel's words so that it reads as the platform half of a build identifier
(``manylinux_aarch64``, ``musllinux_x86_64``, ``macosx_universal2``, ``win_arm64``):

- Linux: ``x86_64 i686 aarch64 ppc64le s390x armv7l riscv64``, each ``manylinux`` or
  ``musllinux`` (the floor, ``manylinux_2_17`` or ``musllinux_1_2``, is the configuration's:
  one floor per libc for every architecture);
- macOS: ``x86_64 arm64 universal2`` (universal2 is one wheel holding both), with a
  deployment target, the oldest macOS the wheels load on;
- Windows: ``AMD64 x86 ARM64`` (cibuildwheel's words; the wheel tags are ``win_amd64``,
  ``win32``, ``win_arm64``).

Where the configuration comes from (release/config.py reads it, this module names it):

- cibuildwheel says everything itself: its ``archs`` (``[tool.cibuildwheel.<os>] archs``,
  ``CIBW_ARCHS[_<OS>]``), ``build``/``skip`` (libc, Pythons, free-threaded) and ``enable``
  (PyPy, prereleases). The expected set is what ``cibuildwheel --print-build-identifiers
  --platform <os> --archs <list>`` prints, with ``<list>`` the project's archs resolved
  across the release's runners (:func:`resolve_archs`): ``auto`` means what each runner of
  that OS builds by default, so the set does not depend on the machine asking.
  ``[tool.release.<os>] archs``, ``musllinux`` and ``free-threaded`` are refused for it.
- maturin has no list of targets in pyproject.toml, so ``[tool.release.linux] archs`` and
  ``musllinux``, ``[tool.release.windows] archs``, ``[tool.release.macos] archs`` and
  ``deployment-target`` and ``[tool.release] free-threaded`` say it; abi3 comes from the
  crate's pyo3 features, the Pythons from ``requires-python`` (one wheel per CPython it
  allows when the crate is not abi3), each platform's Rust target from :attr:`Platform.rust_target`
  (Windows keeps the project's toolchain: MSVC unless MSYS2 libraries are linked).
  The defaults are what nox-release built before platforms were configurable (Linux x86_64
  manylinux, Windows for ``[tool.release.windows] target``, no macOS, no free-threaded),
  so a project ships more only when its build jobs (the workflow fan-out) can build it.

Builds: each platform has a native runner (:func:`native_runner`), the GitHub-hosted
runner, named exactly, that builds it without emulation. The build stages ask, per (os,
arch), how the host builds it: ``native``, ``cross`` (a compiler for another architecture:
maturin's ``--zig`` for aarch64 Linux, Xcode for the other macOS arch, cibuildwheel's ARM64
on x64 Windows) or ``container`` (cibuildwheel's manylinux/musllinux images); a platform
the host cannot build is ``skipped`` naming that runner. The release workflow (issue 16
item 4) fans out one build job per (runner, arch) from :data:`RUNNERS`, and ``check``
compares the jobs with the expected set's platforms.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from .regression import NEWEST_CPYTHON

OS = Literal["linux", "macos", "windows"]
Libc = Literal["manylinux", "musllinux"]
BuildMethod = Literal["native", "cross", "container"]

OPERATING_SYSTEMS: tuple[OS, ...] = ("linux", "macos", "windows")
LIBCS: tuple[Libc, ...] = ("manylinux", "musllinux")

# cibuildwheel's architecture names (architecture.py of cibuildwheel 4.2), per OS.
ARCHS: dict[OS, tuple[str, ...]] = {
    "linux": ("x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l", "riscv64"),
    "macos": ("x86_64", "arm64", "universal2"),
    "windows": ("AMD64", "x86", "ARM64"),
}
# cibuildwheel's words for "decided by the machine"; resolved across the release's runners.
ARCH_WORDS = ("auto", "auto64", "auto32", "native", "all")
_BITS_32 = frozenset({"i686", "armv7l", "x86"})

# The oldest CPython cibuildwheel 4.2 builds (its build-platforms.toml starts at cp39): older
# ones are past their end of life, and no runner image or manylinux image has them.
OLDEST_CPYTHON = 9
# Free-threaded CPython builds from 3.14 on: cibuildwheel 4 removed 3.13t, and 3.14 is the
# first where it is supported (PEP 779).
FIRST_FREE_THREADED = 14
# The first CPython with the free-threaded stable ABI, abi3t (PEP 803).
FIRST_ABI3T = 15

# musllinux floors auditwheel has a policy for.
MUSLLINUX_FLOORS = ((1, 1), (1, 2))

_MACOS_TAG_ARCH = {"x86_64": "x86_64", "arm64": "arm64", "universal2": "universal2"}
_WINDOWS_TAG = {"AMD64": "win_amd64", "x86": "win32", "ARM64": "win_arm64"}
_RUST_LINUX_ARCH = {
    "x86_64": "x86_64",
    "i686": "i686",
    "aarch64": "aarch64",
    "ppc64le": "powerpc64le",
    "s390x": "s390x",
    "armv7l": "armv7",
    "riscv64": "riscv64gc",
}
_RUST_MACOS_ARCH = {"x86_64": "x86_64", "arm64": "aarch64", "universal2": "universal2"}
_RUST_WINDOWS_ARCH = {"AMD64": "x86_64", "x86": "i686", "ARM64": "aarch64"}


@dataclass(frozen=True)
class Platform:
    """One platform wheels are built for: an OS, an architecture in cibuildwheel's words,
    and on Linux a libc."""

    os: OS
    arch: str
    libc: Libc | None = None

    @property
    def name(self) -> str:
        """The platform half of a cibuildwheel identifier: ``manylinux_aarch64``,
        ``macosx_universal2``, ``win_arm64``; what ``[tool.release] dropped`` patterns
        and the regression guard's slots use too."""
        if self.os == "linux":
            return f"{self.libc or 'manylinux'}_{self.arch}"
        if self.os == "macos":
            return f"macosx_{_MACOS_TAG_ARCH[self.arch]}"
        return _WINDOWS_TAG[self.arch]

    @property
    def tag_pattern(self) -> str:
        """A pattern for the wheel's platform tag, any floor: ``manylinux*_x86_64`` matches
        ``manylinux_2_17_x86_64`` and ``manylinux2014_x86_64``; ``macosx_*_arm64`` any
        deployment target. The checks judge the floor, once, naming it."""
        if self.os == "linux":
            return f"{self.libc or 'manylinux'}*_{self.arch}"
        if self.os == "macos":
            return f"macosx_*_{_MACOS_TAG_ARCH[self.arch]}"
        return _WINDOWS_TAG[self.arch]

    def rust_target(self, windows_target: str | None = None, msys2: bool = False) -> str:
        """The Rust target maturin builds this platform with (``--target``).

        ``windows_target``: the project's ``[tool.release.windows] target``, whose toolchain
        (MSVC or MinGW) the other Windows architectures keep; ARM64 has no MinGW GCC, so a
        GNU project builds it with ``-gnullvm`` (LLVM MinGW, MSYS2's clangarm64) when it links
        MSYS2 libraries, and with MSVC when it does not.
        """
        if self.os == "linux":
            arch = _RUST_LINUX_ARCH[self.arch]
            if self.libc == "musllinux":
                return f"{arch}-unknown-linux-musl{'eabihf' if arch == 'armv7' else ''}"
            return f"{arch}-unknown-linux-gnu{'eabihf' if arch == 'armv7' else ''}"
        if self.os == "macos":
            return f"{_RUST_MACOS_ARCH[self.arch]}-apple-darwin"
        arch = _RUST_WINDOWS_ARCH[self.arch]
        if windows_target is not None and windows_target.split("-", 1)[0] == arch:
            return windows_target  # the project's own, for its architecture
        toolchain = "msvc"
        if windows_target is not None and windows_target.endswith("-windows-gnu"):
            toolchain = "gnu"
            if self.arch == "ARM64":
                toolchain = "gnullvm" if msys2 else "msvc"
        return f"{arch}-pc-windows-{toolchain}"

    @property
    def sort_key(self) -> tuple[int, str, str]:
        """OS, libc, then cibuildwheel's order of the architectures."""
        return (
            OPERATING_SYSTEMS.index(self.os),
            self.libc or "",
            f"{ARCHS[self.os].index(self.arch):02}",
        )

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Runner:
    """A GitHub-hosted runner, by its exact label (never a ``-latest`` alias, which moves to
    another image, and for macOS once to another architecture), and its machine."""

    label: str
    os: OS
    arch: str  # the machine's architecture, in cibuildwheel's words for its OS

    @property
    def auto_archs(self) -> tuple[str, ...]:
        """cibuildwheel's ``archs = "auto"`` on this runner: its own architecture, and on
        x64 Windows also 32-bit x86 (architecture.py, ``auto_archs``)."""
        return (self.arch, "x86") if (self.os, self.arch) == ("windows", "AMD64") else (self.arch,)

    def bitness_archs(self, bits: Literal["32", "64"]) -> tuple[str, ...]:
        """``auto64``/``auto32``: 64-bit x86_64 Linux runs i686, x64 Windows runs x86. An
        aarch64 Linux machine runs armv7l only when its CPU has AArch32 at EL0, which
        cibuildwheel probes at run time; GitHub's arm64 runners are not counted on for it."""
        if bits == "64":
            return (self.arch,)
        thirty_two = {("linux", "x86_64"): "i686", ("windows", "AMD64"): "x86"}
        found = thirty_two.get((self.os, self.arch))
        return (found,) if found else ()


# The runners the release fans out to, one per (OS, machine architecture). Linux and Windows
# arm64 runners are free for public repositories since 2025-08-07; macos-15-intel is the last
# x86_64 macOS image (available until August 2027), macos-15 its arm64 counterpart.
RUNNERS: tuple[Runner, ...] = (
    Runner("ubuntu-24.04", "linux", "x86_64"),
    Runner("ubuntu-24.04-arm", "linux", "aarch64"),
    Runner("windows-2025", "windows", "AMD64"),
    Runner("windows-11-arm", "windows", "ARM64"),
    Runner("macos-15-intel", "macos", "x86_64"),
    Runner("macos-15", "macos", "arm64"),
)


def runners_for(os: OS) -> tuple[Runner, ...]:
    return tuple(runner for runner in RUNNERS if runner.os == os)


def native_runner(platform: Platform) -> Runner | None:
    """The runner that builds ``platform`` without emulation: the one of its architecture;
    32-bit x86 on the x86_64 one (Linux in an i686 container, Windows natively); universal2
    on the arm64 Mac (it can also test the x86_64 half under Rosetta). None for the Linux
    architectures GitHub has no runner of (ppc64le, s390x, armv7l, riscv64): only QEMU
    builds those with cibuildwheel."""
    machine = {"i686": "x86_64", "x86": "AMD64", "universal2": "arm64"}.get(
        platform.arch, platform.arch
    )
    for runner in runners_for(platform.os):
        if runner.arch == machine:
            return runner
    return None


# --- architecture names as written -----------------------------------------------------------


class ArchError(ValueError):
    """An architecture name that is not one of its OS; ``close`` is the nearest valid one."""

    def __init__(self, os: OS, word: str, close: str | None) -> None:
        super().__init__(word)
        self.os = os
        self.word = word
        self.close = close


def canonical_arch(os: OS, word: str) -> str:
    """``word`` as cibuildwheel spells it for ``os``, case-insensitively as cibuildwheel 4.1.1
    takes it (``arm64`` on Windows is ``ARM64``, ``amd64`` is ``AMD64``); maturin's and
    Rust's names are taken too (``aarch64`` on macOS and Windows, ``x64``)."""
    aliases = {
        "macos": {"aarch64": "arm64"},
        "windows": {"aarch64": "ARM64", "x86_64": "AMD64", "x64": "AMD64", "i686": "x86"},
        "linux": {"arm64": "aarch64", "amd64": "x86_64", "x86": "i686", "armv7": "armv7l"},
    }
    lowered = word.strip().lower()
    for arch in ARCHS[os]:
        if arch.lower() == lowered:
            return arch
    alias = aliases[os].get(lowered)
    if alias is not None:
        return alias
    close = difflib.get_close_matches(word, ARCHS[os], n=1, cutoff=0.5)
    raise ArchError(os, word, close[0] if close else None)


def split_archs(value: str | Sequence[str]) -> list[str]:
    """``archs`` as cibuildwheel reads it: a string of names separated by spaces or commas,
    or a list of them."""
    entries = [value] if isinstance(value, str) else list(value)
    return [word for entry in entries for word in re.split(r"[\s,]+", entry) if word]


def resolve_archs(os: OS, words: Iterable[str]) -> tuple[str, ...]:
    """cibuildwheel's ``archs`` for ``os``, with the words that depend on the machine
    (``auto``, ``native``, ``auto64``, ``auto32``) resolved for every runner of ``os`` the
    release builds on: what the fan-out builds in all, whichever machine asks. ``all`` is
    every architecture of the OS. In cibuildwheel's order."""
    wanted: set[str] = set()
    for word in words:
        lowered = word.lower()
        runners = runners_for(os)
        if lowered == "auto":
            wanted.update(a for r in runners for a in r.auto_archs)
        elif lowered == "native":
            wanted.update(r.arch for r in runners)
        elif lowered in ("auto64", "auto32"):
            bits = cast(Literal["32", "64"], lowered[-2:])
            wanted.update(a for r in runners for a in r.bitness_archs(bits))
        elif lowered == "all":
            wanted.update(ARCHS[os])
        else:
            wanted.add(canonical_arch(os, word))
    return tuple(arch for arch in ARCHS[os] if arch in wanted)


# --- identifiers ---------------------------------------------------------------------------------

_IDENTIFIER_PLATFORM = re.compile(r"(?P<libc>manylinux|musllinux)_(?P<arch>\w+)")


def platform_of_identifier(identifier: str) -> Platform | None:
    """``cp313-musllinux_aarch64`` -> Platform("linux", "aarch64", "musllinux"); None for a
    platform outside Linux, macOS and Windows (iOS, Android, Pyodide)."""
    plat = identifier.partition("-")[2]
    match = _IDENTIFIER_PLATFORM.fullmatch(plat)
    if match is not None and match["arch"] in ARCHS["linux"]:
        return Platform("linux", match["arch"], cast(Libc, match["libc"]))
    if plat.startswith("macosx_") and plat[len("macosx_") :] in ARCHS["macos"]:
        return Platform("macos", plat[len("macosx_") :])
    for arch, tag in _WINDOWS_TAG.items():
        if plat == tag:
            return Platform("windows", arch)
    return None


# --- Pythons ---------------------------------------------------------------------------------


def cpython_minors(requires_python: str | None, *, free_threaded: bool = False) -> list[int]:
    """The CPython 3 minor versions a version-specific build makes wheels for: those from
    :data:`OLDEST_CPYTHON` (free-threaded: :data:`FIRST_FREE_THREADED`) to the newest
    released that ``requires-python`` allows; an unreadable one allows them all (the
    metadata check reports it)."""
    try:
        allowed = SpecifierSet(requires_python or "")
    except InvalidSpecifier:
        allowed = SpecifierSet()
    first = FIRST_FREE_THREADED if free_threaded else OLDEST_CPYTHON
    return [
        minor
        for minor in range(first, NEWEST_CPYTHON + 1)
        if allowed.contains(Version(f"3.{minor}"), prereleases=True)
    ]


# --- macOS deployment target and musllinux floor ------------------------------------------------

_MACOS_VERSION = re.compile(r"(?P<major>\d+)\.(?P<minor>\d+)")


def macos_version(value: str) -> tuple[int, int] | None:
    """``"11.0"`` -> (11, 0); None when it is not a macOS version a wheel tag can carry:
    10.9 to 10.15, then 11 to 15 and 26 on (minor 0 from 11 on, as PyPI takes them)."""
    match = _MACOS_VERSION.fullmatch(value.strip())
    if match is None:
        return None
    major, minor = int(match["major"]), int(match["minor"])
    if major == 10 and 9 <= minor <= 15:
        return major, minor
    if (11 <= major <= 15 or major >= 26) and minor == 0:
        return major, minor
    return None


def musllinux_floor(value: str) -> tuple[int, int] | None:
    """``"1_2"``, ``"musllinux_1_2"`` -> (1, 2); None for a floor auditwheel has no policy of."""
    text = value.strip().lower().removeprefix("musllinux").lstrip("_")
    match = re.fullmatch(r"(\d+)_(\d+)", text)
    if match is None:
        return None
    floor = int(match.group(1)), int(match.group(2))
    return floor if floor in MUSLLINUX_FLOORS else None
