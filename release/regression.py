"""The regression guard: what the project's last release served that this release does not.

A wheel serves *slots*: a platform (operating system, architecture and, on Linux, libc) and
an interpreter. Both are named in cibuildwheel's words, so that a slot reads as a
cibuildwheel build identifier (``cp312-manylinux_aarch64``, ``cp314t-win_arm64``,
``pp310-macosx_x86_64``), and ``[tool.release] dropped`` takes cibuildwheel's ``skip``
patterns (``"*-manylinux_aarch64"``, ``"cp38-*"``).

- The platform of a tag leaves out its floor: ``manylinux_2_17_aarch64`` and
  ``manylinux_2_28_aarch64`` serve one slot, ``manylinux_aarch64``; a raised glibc, musl or
  macOS floor is a note, not a lost platform. ``universal2`` serves both macOS slots.
  ``any`` serves every platform.
- Whether a tag serves an interpreter is packaging's answer (``packaging.tags``): ``cp39-abi3``
  serves CPython 3.9 and every later CPython with the GIL, never a free-threaded one;
  ``cp314-cp314t`` serves 3.14 free-threaded alone; ``py3-none`` serves every Python 3.
- The interpreters compared are those either release names, and for a stable-ABI wheel every
  CPython from its baseline up to the newest one nox-release knows (:data:`NEWEST_CPYTHON`):
  an abi3 wheel that gave way to version-specific wheels stops serving the Pythons nobody
  built for. A generic ``py3`` wheel also serves ``py3``, "any Python 3" (PyPy, the next
  CPython), which only another generic wheel serves.

The release compared with is the highest version below this one with a wheel on the index,
yanked files left out (PEP 592: an installer passes over them): a final release, unless the
index has none (users installing without ``--pre`` get finals).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from .records import HOST_BUILD, NOT_BUILT, OK, SKIPPED, StageRecord

# The newest CPython released (3.15.0: October 2026). An abi3 wheel serves it; when a newer
# CPython ships, this moves with the nox-release that knows it.
NEWEST_CPYTHON = 15
# Free-threaded CPython exists from 3.13 on (PEP 703).
FIRST_FREE_THREADED = 13
GENERIC = "py3"  # "any Python 3": what only a generic (py3-none) wheel serves
ANY = "any"

# cibuildwheel's architecture words per platform (its `archs`), and PyPI's libc families.
LINUX_ARCHS = ("x86_64", "i686", "aarch64", "ppc64le", "s390x", "armv7l", "riscv64")
MUSL_ARCHS = (*LINUX_ARCHS, "loongarch64")
MACOS_ARCHS = ("x86_64", "arm64")
WINDOWS = ("win32", "win_amd64", "win_arm64")
KNOWN_PLATFORMS = (
    *(f"manylinux_{a}" for a in LINUX_ARCHS),
    *(f"musllinux_{a}" for a in MUSL_ARCHS),
    *(f"macosx_{a}" for a in MACOS_ARCHS),
    *WINDOWS,
    *(f"linux_{a}" for a in LINUX_ARCHS),  # not on PyPI, but on other indexes
    # cibuildwheel's mobile and web platforms, their OS or toolchain version left out.
    "ios_arm64_iphoneos",
    "ios_arm64_iphonesimulator",
    "ios_x86_64_iphonesimulator",
    "android_arm64_v8a",
    "android_x86_64",
    "pyodide_wasm32",
    ANY,
)
# What a typo is taken for: a plain linux tag is never what "linux-aarch64" meant.
_SUGGESTED_PLATFORMS = [p for p in KNOWN_PLATFORMS if not p.startswith("linux_")]
KNOWN_PYTHONS = (
    *(f"cp3{m}" for m in range(NEWEST_CPYTHON + 5)),
    *(f"cp3{m}t" for m in range(FIRST_FREE_THREADED, NEWEST_CPYTHON + 5)),
    *(f"pp3{m}" for m in range(NEWEST_CPYTHON + 5)),
    GENERIC,
)

_LINUX = re.compile(r"(manylinux|musllinux)_(\d+)_(\d+)_(\w+)")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_LEGACY = re.compile(r"(manylinux1|manylinux2010|manylinux2014)_(\w+)")
_MACOS = re.compile(r"macosx_(\d+)_(\d+)_(\w+)")
# ios_13_0_arm64_iphoneos, android_21_arm64_v8a, pyodide_2024_0_wasm32: version, then the rest.
_VERSIONED = re.compile(r"(ios|android|pyodide|emscripten)_(?:\d+_)+([a-z]\w*)")
# A macOS tag's binary format -> the architectures it holds (packaging.tags' formats, turned
# around: universal2 is arm64 + x86_64).
_MAC_FORMATS = {
    "universal2": ("arm64", "x86_64"),
    "intel": ("x86_64", "i386"),
    "fat64": ("x86_64", "ppc64"),
    "fat32": ("i386", "ppc"),
    "fat": ("i386", "ppc"),
    "fat3": ("x86_64", "i386", "ppc"),
    "universal": ("x86_64", "i386", "ppc64", "ppc"),
}
_CPYTHON = re.compile(r"cp3(\d+)")
_PYPY = re.compile(r"pp3(\d+)")
_THREADED_ABI = re.compile(r"cp3\d+t")
_CPYTHON_SLOT = re.compile(r"cp3\d+t?")
_FLOOR_NAMES = {"manylinux": "glibc", "musllinux": "musl", "macosx": "macOS"}


@dataclass(frozen=True, order=True)
class Slot:
    """What a wheel serves: ``platform`` and ``python`` in cibuildwheel's words."""

    platform: str
    python: str

    @property
    def identifier(self) -> str:
        """As cibuildwheel names the build: what a ``dropped`` pattern matches."""
        return f"{self.python}-{self.platform}"


def platform_slots(platform_tag: str) -> list[tuple[str, tuple[int, int] | None]]:
    """The slot platforms a platform tag serves, each with its floor (glibc, musl or macOS
    version; None where a tag has none)."""
    linux = _LINUX.fullmatch(platform_tag)
    if linux:
        libc, major, minor, arch = linux.groups()
        return [(f"{libc}_{arch}", (int(major), int(minor)))]
    legacy = _LEGACY.fullmatch(platform_tag)
    if legacy:
        return [(f"manylinux_{legacy.group(2)}", _LEGACY_MANYLINUX[legacy.group(1)])]
    macos = _MACOS.fullmatch(platform_tag)
    if macos:
        major, minor, binary_format = macos.groups()
        floor = (int(major), int(minor))
        archs = _MAC_FORMATS.get(binary_format, (binary_format,))
        # An arm64 slice cannot run before macOS 11, whatever a universal2 tag says.
        return [(f"macosx_{a}", max(floor, (11, 0)) if a == "arm64" else floor) for a in archs]
    versioned = _VERSIONED.fullmatch(platform_tag)
    if versioned:
        return [(f"{versioned.group(1)}_{versioned.group(2)}", None)]
    return [(platform_tag, None)]


def platform_words(platform: str) -> str:
    """``manylinux_aarch64`` -> "Linux aarch64 (manylinux)"."""
    libc, _, arch = platform.partition("_")
    if libc in ("manylinux", "musllinux"):
        return f"Linux {arch} ({libc})"
    if libc == "macosx":
        return f"macOS {arch}"
    windows = {"win32": "Windows x86", "win_amd64": "Windows AMD64", "win_arm64": "Windows ARM64"}
    if platform in windows:
        return windows[platform]
    if libc == "linux":
        return f"Linux {arch} (plain linux tag)"
    return "every platform (pure wheel)" if platform == ANY else platform


def _kind_and_version(python: str) -> tuple[str, str]:
    """``cp314t`` -> ("free-threaded CPython", "3.14"); ("", words) for the others."""
    found = re.fullmatch(r"(cp|pp)3(\d+)(t?)", python)
    if found is None:
        return "", "any Python 3 (PyPy, the next CPython)" if python == GENERIC else python
    implementation = "CPython" if found.group(1) == "cp" else "PyPy"
    kind = f"free-threaded {implementation}" if found.group(3) else implementation
    return kind, f"3.{found.group(2)}"


def python_words(pythons: Sequence[str]) -> str:
    """``["cp39", "cp310", "cp314t"]`` -> "CPython 3.9, 3.10, free-threaded CPython 3.14"."""
    said: list[str] = []
    last_kind = None
    for python in pythons:
        kind, version = _kind_and_version(python)
        said.append(f"{kind} {version}" if kind and kind != last_kind else version)
        last_kind = kind or None
    return ", ".join(said)


def python_version(python: str) -> Version | None:
    """The Python version a slot's interpreter is (None for ``py3`` and the unknown)."""
    found = re.fullmatch(r"(?:cp|pp)3(\d+)t?", python)
    return Version(f"3.{found.group(1)}") if found else None


# --- which interpreters a tag serves: packaging's answer ------------------------------------


@cache
def _accepted(python: str) -> frozenset[tuple[str, str]]:
    """The (interpreter, abi) pairs of the tags CPython ``python`` installs."""
    found = re.fullmatch(r"cp3(\d+)(t?)", python)
    if not found:
        return frozenset()
    minor, threaded = int(found.group(1)), found.group(2)
    # Before 3.8 the default build's ABI was the pymalloc one, cp37m.
    abis = [f"cp3{minor}{threaded}"] + ([f"cp3{minor}m"] if minor <= 7 and not threaded else [])
    tags = [
        *cpython_tags((3, minor), abis, ["p"]),
        *compatible_tags((3, minor), f"cp3{minor}", ["p"]),
    ]
    accepted = {(t.interpreter, t.abi) for t in tags}
    if threaded:
        # PEP 803's abi3t (3.15+), which packaging before 26 does not know (Python 3.9's
        # installs pin 25): a free-threaded 3.Y takes cp3X-abi3t for 15 <= X <= Y.
        accepted |= {(f"cp3{m}", "abi3t") for m in range(15, minor + 1)}
    return frozenset(accepted)


def _generic(tag: Tag) -> bool:
    return tag.abi == "none" and tag.interpreter.startswith("py")


def serves(tag: Tag, python: str) -> bool:
    """Whether a wheel with ``tag`` installs on ``python`` (its platform apart)."""
    if python == GENERIC:
        return _generic(tag)
    if _CPYTHON_SLOT.fullmatch(python):
        return (tag.interpreter, tag.abi) in _accepted(python)
    pypy = _PYPY.fullmatch(python)
    if pypy and _generic(tag):
        minor = int(pypy.group(1))
        generic = {t.interpreter for t in compatible_tags((3, minor), python, ["p"])}
        return tag.interpreter in generic
    return tag.interpreter == python or (_generic(tag) and tag.interpreter in ("py3", "py2.py3"))


def interpreters(tags: Iterable[Tag]) -> list[str]:
    """The interpreters compared: each one a tag names, and every CPython from the lowest
    one named up to the newest (an abi3 wheel serves them all)."""
    gil: set[int] = set()
    threaded: set[int] = set()
    others: set[str] = set()
    for tag in tags:
        cpython = _CPYTHON.fullmatch(tag.interpreter)
        if cpython:
            minor = int(cpython.group(1))
            if tag.abi == "abi3t" or _THREADED_ABI.fullmatch(tag.abi):
                threaded.add(max(minor, FIRST_FREE_THREADED))
            else:
                gil.add(minor)
        elif _generic(tag):
            others.add(GENERIC)
        else:
            others.add(tag.interpreter)
    newest = max([NEWEST_CPYTHON, *gil, *threaded])
    found = [f"cp3{m}" for m in range(min(gil), newest + 1)] if gil else []
    found += [f"cp3{m}t" for m in range(min(threaded), newest + 1)] if threaded else []
    return found + sorted(others)


def wheel_tags(filename: str) -> frozenset[Tag]:
    try:
        return parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return frozenset()


def served(wheels: Iterable[str], pythons: Sequence[str]) -> dict[Slot, list[str]]:
    """Every slot the wheels serve, among ``pythons``, with the wheels that serve it."""
    slots: dict[Slot, list[str]] = defaultdict(list)
    for wheel in wheels:
        for tag in wheel_tags(wheel):
            for platform, _floor in platform_slots(tag.platform):
                for python in pythons:
                    if serves(tag, python) and wheel not in slots[Slot(platform, python)]:
                        slots[Slot(platform, python)].append(wheel)
    return dict(slots)


def floors(wheels: Iterable[str]) -> dict[str, tuple[int, int]]:
    """The lowest floor each slot platform has among the wheels (a glibc, musl or macOS
    version)."""
    lowest: dict[str, tuple[int, int]] = {}
    for wheel in wheels:
        for tag in wheel_tags(wheel):
            for platform, floor in platform_slots(tag.platform):
                if floor is not None and (platform not in lowest or floor < lowest[platform]):
                    lowest[platform] = floor
    return lowest


# --- the release compared with, and the comparison -----------------------------------------


def previous_release(
    files: Iterable[str], version: Version, yanked: Iterable[str] = ()
) -> tuple[Version, list[str]] | None:
    """The highest version below ``version`` with a wheel (yanked files left out), and its
    wheels; a final release unless there is none."""
    passed_over = set(yanked)
    by_version: dict[Version, list[str]] = defaultdict(list)
    for name in files:
        if not name.endswith(".whl") or name in passed_over:
            continue
        try:
            wheel_version = parse_wheel_filename(name)[1]
        except InvalidWheelFilename:
            continue
        if wheel_version < version:
            by_version[wheel_version].append(name)
    finals = [v for v in by_version if not v.is_prerelease]
    pool = finals or list(by_version)
    if not pool:
        return None
    chosen = max(pool)
    return chosen, sorted(by_version[chosen])


@dataclass(frozen=True)
class Lost:
    """A slot the previous release served and this one does not."""

    slot: Slot
    had: tuple[str, ...]  # the previous release's wheels that served it
    dropped_by: str | None = None  # what says it is dropped on purpose; None: a regression


@dataclass(frozen=True)
class FloorRaised:
    platform: str
    before: tuple[int, int]
    now: tuple[int, int]

    def describe(self, previous: Version) -> str:
        kind = _FLOOR_NAMES.get(self.platform.partition("_")[0], "version")
        old, new = ".".join(map(str, self.before)), ".".join(map(str, self.now))
        return (
            f"{platform_words(self.platform)}: the {kind} floor rose from {old} ({previous}) to "
            f"{new}; systems with {kind} older than {new} now get no wheel of this release"
        )


@dataclass(frozen=True)
class Comparison:
    previous: Version | None
    previous_wheels: tuple[str, ...] = ()
    had: tuple[Slot, ...] = ()  # every slot the previous release served
    lost: tuple[Lost, ...] = ()
    floors_raised: tuple[FloorRaised, ...] = ()

    @property
    def regressions(self) -> list[Lost]:
        return [lost for lost in self.lost if lost.dropped_by is None]

    @property
    def dropped(self) -> list[Lost]:
        return [lost for lost in self.lost if lost.dropped_by is not None]


def compare(
    wheels: Sequence[str],
    version: Version,
    index_files: Iterable[str],
    *,
    yanked: Iterable[str] = (),
    dropped: Sequence[str] = (),
    requires_python: str | None = None,
) -> Comparison:
    """This release's ``wheels`` against the previous release among ``index_files``.

    A lost slot is dropped on purpose when a ``dropped`` pattern matches its identifier, or
    when this release's ``requires-python`` leaves its Python out (pip on that Python then
    keeps the last release that allowed it, and builds nothing from the sdist).
    """
    found = previous_release(index_files, version, yanked)
    if found is None:
        return Comparison(None)
    previous, before = found
    pythons = interpreters(tag for w in (*before, *wheels) for tag in wheel_tags(w))
    had = served(before, pythons)
    has = served(wheels, pythons)
    allowed = _specifier(requires_python)
    lost = []
    # In the order people read them: by platform, then CPython 3.9 before 3.10.
    for slot in sorted(had, key=lambda s: (s.platform, pythons.index(s.python))):
        if slot in has or Slot(ANY, slot.python) in has:
            continue
        lost.append(Lost(slot, tuple(had[slot]), _dropped_by(slot, dropped, allowed)))
    raised = []
    old_floors, new_floors = floors(before), floors(wheels)
    for platform in sorted(old_floors.keys() & new_floors.keys()):
        if new_floors[platform] > old_floors[platform]:
            raised.append(FloorRaised(platform, old_floors[platform], new_floors[platform]))
    return Comparison(previous, tuple(before), tuple(had), tuple(lost), tuple(raised))


def _specifier(text: str | None) -> SpecifierSet | None:
    if not text:
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None  # the metadata check reports it; here it excuses nothing


def _dropped_by(slot: Slot, dropped: Sequence[str], allowed: SpecifierSet | None) -> str | None:
    for pattern in dropped:
        if fnmatch.fnmatchcase(slot.identifier, pattern):
            return f'[tool.release] dropped "{pattern}"'
    version = python_version(slot.python)
    if allowed is not None and version is not None and not allowed.contains(version, True):
        return f'requires-python "{allowed}" leaves it out'
    return None


# --- a dist dir that is not the whole release ------------------------------------------------

_BUILD_PLATFORMS = {"manylinux": "linux", "musllinux": "linux", "linux": "linux", "macosx": "macos"}


def build_platform(platform: str) -> str:
    """The build stage's platform of a slot platform: ``manylinux_aarch64`` -> linux."""
    if platform.startswith("win"):
        return "windows"
    return _BUILD_PLATFORMS.get(platform.partition("_")[0], platform)


@dataclass(frozen=True)
class NotMadeHere:
    """What the build stages here could not make: every slot of a platform whose build was
    skipped, and the builds (cibuildwheel identifiers) a host build names as not made."""

    platforms: frozenset[str] = frozenset()
    identifiers: frozenset[str] = frozenset()
    by_host_builds: frozenset[str] = frozenset()  # those a host build could not make

    def covers(self, lost: Lost) -> bool:
        return (
            build_platform(lost.slot.platform) in self.platforms
            or lost.slot.identifier in self.identifiers
        )


def incomplete_builds(records: Mapping[str, StageRecord]) -> NotMadeHere:
    """What may be wheels only CI's build jobs make, as the wheel-set check says of the
    wheels themselves. A host build excuses only the builds it names, not its platform: a
    CPython missing here says nothing of an architecture the release leaves out."""
    platforms: set[str] = set()
    identifiers: set[str] = set()
    by_host: set[str] = set()
    for record in records.values():
        platform = record.stage.removeprefix("build-")
        if platform == record.stage:
            continue
        # A build names what it left (a host build's misses, the platforms it left to other
        # runners, a job of the fan-out skipped for its one architecture); a stage skipped
        # without naming any left its whole OS.
        named = record.details.get(NOT_BUILT)
        builds = [str(x) for x in named] if isinstance(named, list) else []
        if record.status == SKIPPED and not builds:
            platforms.add(platform)
        elif record.status in (SKIPPED, HOST_BUILD, OK):
            identifiers.update(builds)
            if record.status == HOST_BUILD:
                by_host.update(builds)
    return NotMadeHere(frozenset(platforms), frozenset(identifiers), frozenset(by_host))


# --- saying it ------------------------------------------------------------------------------


def _shown_files(files: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(files[:limit])
    return shown + (f" and {len(files) - limit} more" if len(files) > limit else "")


def by_platform(losts: Sequence[Lost]) -> dict[str, list[Lost]]:
    grouped: dict[str, list[Lost]] = defaultdict(list)
    for lost in losts:
        grouped[lost.slot.platform].append(lost)
    return dict(grouped)


def describe_lost(platform: str, losts: Sequence[Lost], previous: Version) -> str:
    """One platform's lost slots in words, with the previous release's wheels that served
    them: 'Linux aarch64 (manylinux), CPython 3.12: the last release, 1.2.0, had ...'."""
    pythons = python_words([lost.slot.python for lost in losts])
    files = sorted({f for lost in losts for f in lost.had})
    had = _shown_files(files)
    return f"{platform_words(platform)}, {pythons}: the last release, {previous}, had {had}"


def describe_dropped(platform: str, losts: Sequence[Lost]) -> str:
    reasons = sorted({str(lost.dropped_by) for lost in losts})
    pythons = python_words([lost.slot.python for lost in losts])
    return f"{platform_words(platform)}, {pythons}: dropped on purpose ({'; '.join(reasons)})"


def suggested_patterns(comparison: Comparison, lost: Sequence[Lost] | None = None) -> list[str]:
    """``dropped`` patterns that name the regressions, as broadly as they are true: a Python
    lost on every platform that had it is ``cpXY-*``, a platform lost for every Python it had
    is ``*-<platform>``, else one identifier each."""
    platforms_of: dict[str, set[str]] = defaultdict(set)
    pythons_of: dict[str, set[str]] = defaultdict(set)
    for slot in comparison.had:
        platforms_of[slot.python].add(slot.platform)
        pythons_of[slot.platform].add(slot.python)
    lost = comparison.regressions if lost is None else lost
    patterns: list[str] = []
    covered: set[Slot] = set()
    for python in sorted({x.slot.python for x in lost}):
        gone = {x.slot for x in lost if x.slot.python == python}
        if len(gone) > 1 and {s.platform for s in gone} >= platforms_of[python]:
            patterns.append(f"{python}-*")
            covered |= gone
    for platform, losts in by_platform([x for x in lost if x.slot not in covered]).items():
        if {x.slot.python for x in losts} >= pythons_of[platform]:
            patterns.append(f"*-{platform}")
        else:
            patterns += [x.slot.identifier for x in losts]
    return patterns


# --- [tool.release] dropped ------------------------------------------------------------------


def dropped_problem(entry: str) -> str | None:
    """Why a ``dropped`` entry is not a cibuildwheel-style ``python-platform`` pattern that
    matches a slot, with the closest valid form; None when it is one."""
    # Matched whole, as cibuildwheel matches skip: "pp*" and "*_i686" are patterns too.
    if any(fnmatch.fnmatchcase(identifier, entry) for identifier in _known_identifiers()):
        return None
    python, dash, platform = entry.partition("-")
    close = _closest(entry.replace("-", "_"), [*_SUGGESTED_PLATFORMS, *KNOWN_PYTHONS], 0.6)
    if close is None:
        hint = ""
    elif close in KNOWN_PYTHONS:
        hint = f'; did you mean "{close}-*"?'
    else:
        hint = f'; did you mean "*-{close}"?'

    if not dash or "-" in platform:
        return f"is not a python-platform pattern{hint}"
    if not any(fnmatch.fnmatchcase(p, python) for p in KNOWN_PYTHONS):
        near = _closest(python, KNOWN_PYTHONS, 0.6)
        return f"names no Python as {python!r}" + (
            f'; did you mean "{near}-{platform}"?' if near else hint
        )
    if not any(fnmatch.fnmatchcase(p, platform) for p in KNOWN_PLATFORMS):
        near = _closest(platform, _SUGGESTED_PLATFORMS, 0.5)
        why = ""
        if platform.endswith("universal2"):
            why = " (a universal2 wheel serves macosx_x86_64 and macosx_arm64: name those)"
        return f"names no platform as {platform!r}{why}" + (
            f'; did you mean "{python}-{near}"?' if near else ""
        )
    return None


@cache
def _known_identifiers() -> tuple[str, ...]:
    return tuple(f"{python}-{platform}" for python in KNOWN_PYTHONS for platform in KNOWN_PLATFORMS)


def _closest(word: str, candidates: Sequence[str], cutoff: float) -> str | None:
    """The candidate most like ``word``; on a tie the first listed (manylinux before
    musllinux: the libc most wheels are for)."""
    best = max(
        (difflib.SequenceMatcher(None, word, c).ratio(), -i, c) for i, c in enumerate(candidates)
    )
    return best[2] if best[0] >= cutoff else None


def dropped_patterns(value: str | Sequence[str]) -> list[str]:
    """``dropped`` as written: a list, or one string of space-separated patterns (as
    cibuildwheel's ``skip`` takes it)."""
    entries = [value] if isinstance(value, str) else list(value)
    return [pattern for entry in entries for pattern in entry.split()]


def requires_python_of(pyproject: Mapping[str, object]) -> str | None:
    """``[project] requires-python`` of the package's pyproject.toml, when it is there."""
    project = pyproject.get("project")
    value = project.get("requires-python") if isinstance(project, dict) else None
    return value if isinstance(value, str) else None


def remedy(comparison: Comparison, lost: Sequence[Lost] | None = None) -> str:
    """What to do about the regressions (``lost``, default all): build them, or say they are
    dropped on purpose."""
    patterns = ", ".join(f'"{p}"' for p in suggested_patterns(comparison, lost))
    from .config import PLATFORMS  # config reads dropped with this module's help

    losts = comparison.regressions if lost is None else lost
    unbuilt = sorted({build_platform(x.slot.platform) for x in losts} - set(PLATFORMS))
    how = "build the missing wheels (the expected wheel set and the release workflow's jobs)"
    if unbuilt:
        # No build stage makes these yet: the honest choices are to say so or keep the old way.
        how = (
            f"nox-release builds no {', '.join(unbuilt)} wheels yet: keep the workflow that "
            "built them for this release, or build the other missing wheels (the expected "
            "wheel set and the release workflow's jobs)"
        )
    return (
        f"{how}; or, if the release leaves them out on purpose, say so in pyproject.toml: "
        f"[tool.release] dropped = [{patterns}]."
    )
