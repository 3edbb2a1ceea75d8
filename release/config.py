"""``[tool.release]`` in the project's pyproject.toml, read into frozen dataclasses.

The dataclasses below are the schema: each field is a key (``package_dir`` is
``package-dir``), its annotation the type expected, its default the default. Unknown keys
name the closest valid one; wrong types name the key, the file and the type expected; values
that cannot work (a manylinux floor of "banana", a wheel pattern of "|||", a package-dir
outside the project) are refused here, before any stage runs. The package itself may live in
a subdirectory (``package-dir``) with a pyproject.toml of its own; that file decides the
backend when ``backend`` is absent.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from .datamodel import FieldError, UnknownKey, WrongType, from_dict, plural
from .errors import (
    ConfigError,
    ConfigTypeError,
    ConfigValueError,
    NoPyprojectError,
    NoReleaseTableError,
    PackageDirError,
    ProjectDirError,
    UnknownBackendError,
    UnknownKeyError,
)
from .platforms import (
    ARCH_WORDS,
    ARCHS,
    OS,
    ArchError,
    Libc,
    Platform,
    canonical_arch,
    macos_version,
    musllinux_floor,
)
from .project.pyproject import PackageInfo, infer_backend, read_package, type_name
from .project.toml import parse_toml, read_toml
from .publish.repository import resolve as resolve_repository
from .regression import dropped_patterns, dropped_problem

__all__ = ["ReleaseConfig", "load_config", "parse_toml", "read_toml"]

BACKENDS = ("maturin", "cibuildwheel", "build")
# The operating systems nox-release builds, one build stage each (build-macos runs on
# GitHub's macOS runners: this host has no Mac), and whose wheels validate judges.
PLATFORMS = ("linux", "windows", "macos")
WHEEL_PLATFORMS = PLATFORMS


# --- the table, as written ------------------------------------------------------------------


@dataclass(frozen=True)
class LinuxConfig:
    manylinux: str = "2014"
    # Debian/Ubuntu packages the Linux build needs (m4 for GMP, a -dev library...): installed
    # with apt-get in GitHub Actions, checked (with the command to install them) elsewhere.
    apt_packages: tuple[str, ...] = ()
    # Replaces [tool.release] before-build for Linux wheels (None: that one applies).
    before_build: str | tuple[str, ...] | None = None
    # maturin: the architectures built, in cibuildwheel's words (None: x86_64). cibuildwheel
    # says it itself ([tool.cibuildwheel.linux] archs), so it is refused there.
    archs: tuple[str, ...] | None = None
    # maturin: also musllinux wheels, at this floor ("1_2"); None: manylinux only.
    musllinux: str | None = None

    @property
    def glibc(self) -> tuple[int, int]:
        return manylinux_glibc(self.manylinux)

    @property
    def policy(self) -> str:
        """The PEP 600 name of the floor, e.g. ``manylinux_2_17``."""
        major, minor = self.glibc
        return f"manylinux_{major}_{minor}"


@dataclass(frozen=True)
class WindowsConfig:
    target: str | None = None
    msys2_packages: tuple[str, ...] = ()
    allow_dlls: tuple[str, ...] = ()
    # Replaces [tool.release] before-build for Windows wheels (None: that one applies).
    before_build: str | tuple[str, ...] | None = None
    # maturin: AMD64, x86, ARM64 (None: the architecture of target, AMD64 by default).
    archs: tuple[str, ...] | None = None


@dataclass(frozen=True)
class MacosConfig:
    # maturin: x86_64, arm64, universal2 (None: no macOS wheels; cibuildwheel: its archs).
    archs: tuple[str, ...] | None = None
    # maturin: MACOSX_DEPLOYMENT_TARGET, the oldest macOS the wheels load on ("11.0");
    # None: each Rust target's own (10.12 for x86_64, 11.0 for arm64).
    deployment_target: str | None = None


@dataclass(frozen=True)
class WheelsConfig:
    """The expected wheel set, ``python-abi-platform`` patterns with ``*`` wildcards."""

    linux: tuple[str, ...] = ()
    windows: tuple[str, ...] = ()
    macos: tuple[str, ...] = ()

    def for_platform(self, platform: str) -> tuple[str, ...]:
        lists = {"linux": self.linux, "windows": self.windows, "macos": self.macos}
        return lists[platform]


@dataclass(frozen=True)
class PublishConfig:
    repository: str = "pypi"  # pypi | testpypi | an upload URL
    environment: str | None = None  # the GitHub environment of the trusted publisher
    workflow: str = "release.yml"  # the workflow file registered as trusted publisher
    index_url: str | None = None  # the simple index checked before and after uploading
    # PEP 740 attestations with trusted publishing: None signs for PyPI and TestPyPI only;
    # true also for another index (a Warehouse that takes them); false never.
    attestations: bool | None = None


@dataclass(frozen=True)
class CIConfig:
    """What the generated dry-run workflow runs on pushes and pull requests."""

    # nox session groups run on Linux first, one job each ("lint", "system-packages tests").
    sessions: tuple[str, ...] = ()
    # Projects (relative to the root) whose dry run runs on Linux and Windows.
    dry_run: tuple[str, ...] = (".",)
    # The Pythons set up for the session jobs; the last is the one that runs nox.
    python: tuple[str, ...] = ("3.12",)
    # Its file, apart from the project's own CI (most projects' ci.yml), and the branch whose
    # pushes run it: the repository's default branch, which init reads from git.
    workflow: str = "release-dry-run.yml"
    branch: str = "main"
    # How the release workflow spreads the builds: one job per runner and architecture
    # ("arch"), or also per Python ("python": a large cibuildwheel set as a wider matrix).
    split_builds: str = "arch"


@dataclass(frozen=True)
class CheckConfig:
    # zizmor and the workflow schema judge every workflow, not only nox-release's own: their
    # findings in the project's other workflows become errors of check too.
    audit_all_workflows: bool = False


@dataclass(frozen=True)
class ReleaseTable:
    """``[tool.release]`` exactly as the user wrote it (defaults filled in)."""

    package_dir: str = "."
    backend: str | None = None
    sdist: bool = True
    # Build a wheel from the sdist to prove it builds (costs a full build: Rust compiles).
    sdist_check: bool = True
    dist_dir: str = "dist"
    tag_pattern: str = "v{version}"
    prereleases: bool = False
    # What the last release on the index had and this one leaves out on purpose, as
    # cibuildwheel's skip patterns ("*-manylinux_aarch64", "cp38-*"): the regression guard
    # notes these instead of refusing the release (release/regression.py).
    dropped: str | tuple[str, ...] = ()
    # Commands run in the project root before each build stage's backend (make cython): one
    # command, or a list run in order; cibuildwheel's form, without a shell (see
    # before_build_commands).
    before_build: str | tuple[str, ...] = ()
    # maturin: also free-threaded wheels (3.14t on; None: none). cibuildwheel builds them
    # unless its skip says otherwise ("cp3??t-*"), so it is refused there.
    free_threaded: bool | None = None
    linux: LinuxConfig = field(default_factory=LinuxConfig)
    windows: WindowsConfig = field(default_factory=WindowsConfig)
    macos: MacosConfig = field(default_factory=MacosConfig)
    wheels: WheelsConfig | None = None
    publish: PublishConfig = field(default_factory=PublishConfig)
    ci: CIConfig = field(default_factory=CIConfig)
    check: CheckConfig = field(default_factory=CheckConfig)


def toml_key(name: str) -> str:
    return name.replace("_", "-")


# --- the configuration a run uses -------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseConfig:
    project_root: Path
    pyproject: Path
    package_dir: Path
    package: PackageInfo
    backend: str
    backend_inferred: bool
    table: ReleaseTable = field(default_factory=ReleaseTable)

    @property
    def sdist(self) -> bool:
        return self.table.sdist

    @property
    def sdist_check(self) -> bool:
        return self.table.sdist_check

    @property
    def dist_dir(self) -> Path:
        return self.project_root / self.table.dist_dir

    @property
    def tag_pattern(self) -> str:
        return self.table.tag_pattern

    @property
    def prereleases(self) -> bool:
        return self.table.prereleases

    @property
    def dropped(self) -> list[str]:
        """``[tool.release] dropped``, one pattern each."""
        return dropped_patterns(self.table.dropped)

    @property
    def linux(self) -> LinuxConfig:
        return self.table.linux

    @property
    def windows(self) -> WindowsConfig:
        return self.table.windows

    @property
    def macos(self) -> MacosConfig:
        return self.table.macos

    @property
    def free_threaded(self) -> bool:
        return bool(self.table.free_threaded)

    @property
    def platforms(self) -> tuple[Platform, ...]:
        """The platforms ``[tool.release]`` selects for the backends that cannot say it
        themselves (maturin): Linux archs x libcs, Windows archs, macOS archs. cibuildwheel
        derives its own from its configuration (release/backends/cibuildwheel.py)."""
        return configured_platforms(self.table)

    @property
    def wheels(self) -> WheelsConfig | None:
        return self.table.wheels

    @property
    def publish(self) -> PublishConfig:
        return self.table.publish

    @property
    def ci(self) -> CIConfig:
        return self.table.ci

    def before_build(self, platform: str | None) -> BeforeBuild:
        """What the build stage of ``platform`` runs first (None: the sdist stage)."""
        return before_build(self.table, platform, self.pyproject)

    def shown(self, path: Path) -> str:
        """``path`` as messages show it: relative to the project root when inside it."""
        try:
            return path.relative_to(self.project_root).as_posix() or "."
        except ValueError:
            return str(path)


# --- values that must make sense -----------------------------------------------------------------

_MANYLINUX_ALIASES = {"1": (2, 5), "2010": (2, 12), "2014": (2, 17)}
# glibc 2.44 is the newest release (2026-08); a floor beyond every glibc is a typo. When a
# newer glibc ships, this moves with the nox-release that knows it.
NEWEST_GLIBC = (2, 44)
_OLDEST_GLIBC = (2, 5)


def manylinux_glibc(value: str) -> tuple[int, int]:
    """``"2014"``, ``"manylinux2014"``, ``"2_28"``, ``"manylinux_2_28"`` -> glibc version."""
    text = value.strip().lower().removeprefix("manylinux").lstrip("_")
    remedy = 'use "2014" (glibc 2.17, the default), "2_28", or another PEP 600 form "2_<minor>".'
    if text in _MANYLINUX_ALIASES:
        return _MANYLINUX_ALIASES[text]
    match = re.fullmatch(r"(\d+)_(\d+)", text)
    if not match:
        raise ConfigValueError(
            f"[tool.release.linux] manylinux = {value!r} is not a manylinux floor.", remedy
        )
    glibc = int(match.group(1)), int(match.group(2))
    if not _OLDEST_GLIBC <= glibc <= NEWEST_GLIBC:
        raise ConfigValueError(
            f"[tool.release.linux] manylinux = {value!r} names glibc {glibc[0]}.{glibc[1]}, "
            f"which does not exist (glibc runs from 2.5 to {NEWEST_GLIBC[0]}.{NEWEST_GLIBC[1]}).",
            remedy,
        )
    return glibc


_PATTERN_PART = re.compile(r"[A-Za-z0-9_.*]+")
_WINDOWS_PLATFORM = re.compile(r"win[_a-z0-9]*|\*")
_LINUX_PLATFORM = re.compile(r"(many|musl)?linux[_a-z0-9*]*|\*")
_MACOS_PLATFORM = re.compile(r"macosx[_a-z0-9*]*|\*")
_PLATFORM_TAGS = {"linux": _LINUX_PLATFORM, "windows": _WINDOWS_PLATFORM, "macos": _MACOS_PLATFORM}


def check_wheel_pattern(entry: str, platform: str, pyproject: Path) -> None:
    """One ``[tool.release.wheels]`` entry: ``python-abi-platform`` alternatives, ``a|b``."""
    where = f"[tool.release.wheels] {platform} entry {entry!r} in {pyproject}"
    example = {
        "linux": "cp39-abi3-manylinux_2_17_x86_64",
        "windows": "cp39-abi3-win_amd64",
        "macos": "cp39-abi3-macosx_11_0_arm64",
    }
    remedy = (
        f'write each entry as python-abi-platform, like "{example[platform]}" ("*" matches '
        'anything, "a|b" gives alternatives).'
    )
    for alternative in entry.split("|"):
        parts = alternative.split("-")
        if len(parts) != 3 or not all(_PATTERN_PART.fullmatch(part) for part in parts):
            raise ConfigValueError(
                f"{where}: {alternative!r} is not a python-abi-platform pattern.", remedy
            )
        plat = parts[2]
        if "*" not in plat and plat != "any" and not _PLATFORM_TAGS[platform].fullmatch(plat):
            raise ConfigValueError(
                f"{where}: platform {plat!r} is not a {platform} platform tag.",
                f"list {plat} wheels under the platform they are built for, or fix the tag; "
                + remedy,
            )


def check_dropped(value: str | tuple[str, ...], pyproject: Path) -> None:
    """Each ``dropped`` pattern names a slot: a typo would excuse nothing, and the release
    it was meant for would be refused with the pattern seemingly there."""
    for pattern in dropped_patterns(value):
        problem = dropped_problem(pattern)
        if problem is not None:
            raise ConfigValueError(
                f"[tool.release] dropped entry {pattern!r} in {pyproject} {problem}"
                + ("" if problem.endswith("?") else "."),
                'write each entry as cibuildwheel names builds, python-platform with "*" '
                'wildcards: "*-manylinux_aarch64" (a platform, every Python), "cp38-*" (a '
                'Python, every platform), "cp313t-*" (free-threaded), "*-musllinux_*", '
                '"*-win32", "*-macosx_x86_64".',
            )


# A {...} field of a tag-pattern; only {version} is one.
_FIELD = re.compile(r"\{([^{}]*)\}")
# Characters git refuses in a tag name (git check-ref-format).
_BAD_REF = re.compile(r"[\s~^:?*\[\\{}]|\.\.|@\{|^/|/$|\.lock$")


def check_tag_pattern(pattern: str, pyproject: Path) -> None:
    where = f"tag-pattern {pattern!r} in {pyproject}"
    if "{{version}}" in pattern:
        raise ConfigValueError(
            f"{where} writes the placeholder as {{{{version}}}}; it is {{version}}.",
            'write it like "v{version}".',
        )
    for field_text in _FIELD.findall(pattern):
        if field_text == "version":
            continue
        # Not str.format: "{version:>10}" would pad tags, "{version!r}" quote them.
        if re.match(r"\s*version\b", field_text, re.IGNORECASE):
            raise ConfigValueError(
                f"{where} writes the placeholder as {{{field_text}}}: tag-pattern takes "
                "{version} exactly, without format spec, conversion, spaces or capitals (the "
                "version goes into the tag as it is).",
                'write {version} instead, like "v{version}".',
            )
        raise ConfigValueError(
            f"{where} has a placeholder {{{field_text}}} that tag-pattern does not know; "
            "{version} is the only one.",
            'write the rest literally, like "v{version}" or "mypkg-v{version}".',
        )
    if "{version}" not in pattern:
        raise ConfigValueError(
            f"{where} has no {{version}} placeholder.",
            'write it like "v{version}" or "release-{version}".',
        )
    literal = pattern.replace("{version}", "1.2.3")
    bad = _BAD_REF.search(literal)
    if bad is not None:
        raise ConfigValueError(
            f"{where} makes tags git refuses ({bad.group()!r} is not allowed in a tag name).",
            'use letters, digits, ".", "-", "_" and "/" around {version}, like "v{version}".',
        )


# --- platforms: OS x architecture (x libc) -------------------------------------------------------


def _arch_lists(table: ReleaseTable) -> dict[OS, tuple[str, ...] | None]:
    return {"linux": table.linux.archs, "macos": table.macos.archs, "windows": table.windows.archs}


def check_archs(table: ReleaseTable, pyproject: Path) -> None:
    """Each ``archs`` entry is an architecture of its OS, named as cibuildwheel names it."""
    for os, archs in _arch_lists(table).items():
        key = f"[tool.release.{os}] archs in {pyproject}"
        valid = ", ".join(ARCHS[os])
        for word in archs or ():
            if word.lower() in ARCH_WORDS:
                raise ConfigValueError(
                    f"{key} has {word!r}, which means what the building machine is: the "
                    "release builds on several machines, so the wheels it must contain would "
                    "depend on which one asks.",
                    f"name the architectures to ship: {valid}.",
                )
            try:
                canonical_arch(os, word)
            except ArchError as exc:
                hint = f"did you mean {exc.close!r}? " if exc.close else ""
                raise ConfigValueError(
                    f"{key} has {word!r}, which is not a {os} architecture.",
                    f"{hint}valid architectures (cibuildwheel's names): {valid}.",
                ) from None


def check_platform_values(table: ReleaseTable, pyproject: Path) -> None:
    check_archs(table, pyproject)
    if table.linux.musllinux is not None and musllinux_floor(table.linux.musllinux) is None:
        raise ConfigValueError(
            f"[tool.release.linux] musllinux = {table.linux.musllinux!r} in {pyproject} is not "
            "a musllinux floor.",
            'use "1_2" (musl 1.2, what Alpine and every musllinux image has) or "1_1".',
        )
    target = table.macos.deployment_target
    if target is not None and macos_version(target) is None:
        raise ConfigValueError(
            f"[tool.release.macos] deployment-target = {target!r} in {pyproject} is not a "
            "macOS version a wheel tag can name.",
            'write it as MACOSX_DEPLOYMENT_TARGET takes it: "10.13" (10.9 to 10.15), or '
            '"11.0" to "15.0" and "26.0" (minor 0 from macOS 11 on).',
        )


# The keys that say what cibuildwheel's own configuration says, and where it says it.
_CIBUILDWHEEL_SAYS = {
    "[tool.release.linux] archs": "[tool.cibuildwheel.linux] archs",
    "[tool.release.linux] musllinux": '[tool.cibuildwheel] build/skip ("*-musllinux_*")',
    "[tool.release.windows] archs": "[tool.cibuildwheel.windows] archs",
    "[tool.release.macos] archs": "[tool.cibuildwheel.macos] archs",
    "[tool.release.macos] deployment-target": (
        "[tool.cibuildwheel.macos] environment (MACOSX_DEPLOYMENT_TARGET)"
    ),
    "[tool.release] free-threaded": '[tool.cibuildwheel] skip ("cp3??t-*" to leave them out)',
}


def check_platform_keys(table: ReleaseTable, backend: str, pyproject: Path) -> None:
    """The platform keys are maturin's: cibuildwheel says each itself (and is asked), and
    the build backend builds the host's wheel only; there, such a key would be ignored."""
    if backend == "maturin":
        return
    given = {
        "[tool.release.linux] archs": table.linux.archs,
        "[tool.release.linux] musllinux": table.linux.musllinux,
        "[tool.release.windows] archs": table.windows.archs,
        "[tool.release.macos] archs": table.macos.archs,
        "[tool.release.macos] deployment-target": table.macos.deployment_target,
        "[tool.release] free-threaded": table.free_threaded,
    }
    for key, value in given.items():
        if value is None:
            continue
        if backend == "cibuildwheel":
            raise ConfigValueError(
                f"{key} in {pyproject} repeats what cibuildwheel's own configuration says, "
                f"and nox-release reads it from there ({_CIBUILDWHEEL_SAYS[key]}).",
                f"remove {key}, and say it in {_CIBUILDWHEEL_SAYS[key]} of the package's "
                "pyproject.toml.",
            )
        raise ConfigValueError(
            f"{key} in {pyproject} selects platforms, but the {backend} backend builds the "
            "wheel of the machine it runs on only.",
            f"remove {key}; list the wheels each platform ships in [tool.release.wheels].",
        )


def configured_platforms(table: ReleaseTable) -> tuple[Platform, ...]:
    """The platforms of the table's ``archs``, ``musllinux`` and Windows ``target``, with
    the defaults of what nox-release built before they were configurable."""
    linux = table.linux.archs if table.linux.archs is not None else ("x86_64",)
    libcs: tuple[Libc, ...] = (
        ("manylinux", "musllinux") if table.linux.musllinux else ("manylinux",)
    )
    windows = table.windows.archs
    if windows is None:
        target_arch = (table.windows.target or "x86_64").split("-", 1)[0]
        windows = (target_arch,)
    found: list[Platform] = []
    for libc in libcs:
        found += [Platform("linux", canonical_arch("linux", a), libc) for a in linux]
    found += [Platform("macos", canonical_arch("macos", a)) for a in table.macos.archs or ()]
    found += [Platform("windows", canonical_arch("windows", a)) for a in windows]
    return tuple(dict.fromkeys(found))


# --- before-build: commands, not shell lines ----------------------------------------------------


@dataclass(frozen=True)
class BeforeBuild:
    """The commands a build stage runs before its backend, and the key they were read from."""

    commands: tuple[tuple[str, ...], ...]
    key: str  # "[tool.release] before-build", or a platform's table that replaces it


_OPERATORS = frozenset(";&|<>()")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


def shell_syntax(command: str) -> str | None:
    """What in ``command`` only a shell would act on (nox-release starts the program itself,
    so it would reach the program as literal text, or be lost), or None."""
    quote = ""
    word_start = True
    for char in command:
        if quote:
            if char == quote:
                quote = ""
            elif char in "$`" and quote == '"':
                return f"{char!r} (a shell would expand it inside double quotes)"
            continue
        if char in "'\"":
            quote = char
        elif char in _OPERATORS:
            return f"{char!r} (a shell operator: pipe, redirection, list or subshell)"
        elif char in "$`":
            return f"{char!r} (a shell expansion: variable or command substitution)"
        elif char in "*?":
            return f"{char!r} (a shell glob)"
        elif char == "~" and word_start:
            return "'~' (a shell home-directory expansion)"
        word_start = char.isspace()
    first = command.split(maxsplit=1)[0] if command.split() else ""
    if _ASSIGNMENT.match(first):
        return f"{first!r} (a shell variable assignment)"
    return None


def before_build_commands(raw: str | tuple[str, ...], key: str, pyproject: Path) -> BeforeBuild:
    """``before-build`` as cibuildwheel takes it (a command, or a list run in order), each
    command split into its argv as a POSIX shell would, but run without one: the same argv
    runs on Linux and Windows (cibuildwheel's would meet sh there and cmd here), the stage
    record and the log show exactly what ran, and what only a shell does is refused here."""
    commands = (raw,) if isinstance(raw, str) else raw
    where = f"{key} in {pyproject}"
    remedy = (
        'write each command as a program and its arguments, like "make cython" or "python '
        'tools/generate.py"; several commands are a list run in order; for pipes, variables '
        "or globs, put the steps in a script and run the script."
    )
    parsed = []
    for command in commands:
        if not command.strip():
            raise ConfigValueError(f"{where} has an empty command.", remedy)
        if "\\" in command:
            raise ConfigValueError(
                f"{where}: {command!r} has a backslash, which the command would get or lose "
                "depending on the system.",
                "write paths with / (Windows takes it too) and quote arguments with '...' "
                "instead of escaping.",
            )
        found = shell_syntax(command)
        if found is not None:
            raise ConfigValueError(
                f"{where}: {command!r} uses {found}; nox-release runs each command without "
                "a shell, the same way on Linux and Windows.",
                remedy,
            )
        try:
            argv = tuple(shlex.split(command))
        except ValueError as exc:  # an unclosed quote
            cause = f"{where}: {command!r} cannot be split into words: {exc}."
            raise ConfigValueError(cause, remedy) from None
        parsed.append(argv)
    return BeforeBuild(tuple(parsed), key)


def before_build(table: ReleaseTable, platform: str | None, pyproject: Path) -> BeforeBuild:
    """The before-build of ``platform``'s wheels (its table's, when set, replaces the top
    level one, as cibuildwheel's overrides do); the sdist (None) takes the top-level one."""
    scoped = {"linux": table.linux.before_build, "windows": table.windows.before_build}
    own = scoped.get(platform or "")
    if own is not None:
        return before_build_commands(own, f"[tool.release.{platform}] before-build", pyproject)
    return before_build_commands(table.before_build, "[tool.release] before-build", pyproject)


# --- loading -----------------------------------------------------------------------------------


_SESSIONS = re.compile(r"[^\s;&|`$<>\\\"']+( [^\s;&|`$<>\\\"']+)*")
_PROJECT = re.compile(r"[\w.-]+(/[\w.-]+)*")
_PYTHON = re.compile(r"3\.\d+t?")
_BRANCH = re.compile(r"[\w.-]+(/[\w.-]+)*")


SPLIT_BUILDS = ("arch", "python")


def check_ci(ci: CIConfig, pyproject: Path) -> None:
    """[tool.release.ci] goes into ci.yml's job ids and run: lines: what would break them is
    refused here, not found in a workflow that GitHub will not run."""
    table = f"[tool.release.ci] in {pyproject}"
    for sessions in ci.sessions:
        if not _SESSIONS.fullmatch(sessions):
            raise ConfigValueError(
                f"sessions entry {sessions!r} of {table} is not a list of nox session names.",
                'write each entry as the sessions one job runs, space-separated: "lint", '
                '"system-packages tests" (no quotes or shell characters).',
            )
    for project in ci.dry_run:
        if not _PROJECT.fullmatch(project) or ".." in project.split("/"):
            raise ConfigValueError(
                f"dry-run entry {project!r} of {table} is not a directory inside the project.",
                'write a relative path with / (".", "examples/tally"), without spaces or "..".',
            )
    if not ci.python or any(not _PYTHON.fullmatch(v) for v in ci.python):
        raise ConfigValueError(
            f"python = {list(ci.python)!r} of {table} is not a list of Python versions.",
            'write versions as setup-python takes them: ["3.9", "3.12"] (the last runs nox).',
        )
    if ci.split_builds not in SPLIT_BUILDS:
        raise ConfigValueError(
            f"split-builds = {ci.split_builds!r} of {table} is not one of "
            f"{', '.join(repr(v) for v in SPLIT_BUILDS)}.",
            '"arch" (the default) makes one build job per runner and architecture; "python" '
            "one per runner, architecture and Python (cibuildwheel projects).",
        )
    if not _BRANCH.fullmatch(ci.branch):
        raise ConfigValueError(
            f"branch = {ci.branch!r} of {table} is not a branch name.",
            'write the default branch\'s name as git has it: "main", "master".',
        )
    if not _WORKFLOW_NAME.fullmatch(ci.workflow) or ci.workflow.startswith("."):
        raise ConfigValueError(
            f"workflow = {ci.workflow!r} of {table} is not the name of a file in "
            ".github/workflows.",
            'write the file name alone: "release-dry-run.yml".',
        )


_WORKFLOW_NAME = re.compile(r"[\w.-]+\.ya?ml")


def check_workflow_name(name: str, pyproject: Path) -> None:
    """The release workflow is a file in .github/workflows (GitHub runs no other, and PyPI's
    trusted publisher names the file alone): a path would be written outside it."""
    if not _WORKFLOW_NAME.fullmatch(name) or name.startswith("."):
        raise ConfigValueError(
            f"[tool.release.publish] workflow = {name!r} in {pyproject} is not the name of a "
            "file in .github/workflows.",
            'write the file name alone, as PyPI\'s trusted publisher has it: "release.yml".',
        )


def find_project_root(start: Path) -> Path:
    """The nearest directory from ``start`` upward whose pyproject.toml has [tool.release];
    ``start`` itself when there is none (its own error then says what is missing)."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                tool = read_toml(candidate).get("tool")
            except ConfigError:
                return directory
            if isinstance(tool, dict) and "release" in tool:
                return directory
    return start


def find_pyproject(project: Path) -> Path:
    if project.exists() and not project.is_dir():
        raise ProjectDirError(
            f"--project {project} is a file, not a directory.",
            "pass --project with the directory that holds the project's pyproject.toml.",
        )
    if not project.is_dir():
        raise NoPyprojectError(
            f"project directory {project} does not exist.",
            "pass --project with the directory that holds the project's pyproject.toml.",
        )
    path = project / "pyproject.toml"
    if path.is_dir():
        raise NoPyprojectError(
            f"{path} is a directory, not a file.",
            f"remove or rename the directory {path}; the project's pyproject.toml goes there.",
        )
    if not path.is_file():
        raise NoPyprojectError(
            f"no pyproject.toml in {project}.",
            "run from the project root, or pass --project DIR (or set RELEASE_PROJECT).",
        )
    return path


def _read_table(table: dict[str, Any], pyproject: Path) -> ReleaseTable:
    try:
        return from_dict(ReleaseTable, table, key=toml_key)
    except UnknownKey as exc:
        *parents, key = exc.path
        name = ".".join(["tool.release", *parents])
        valid = list(exc.valid)
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownKeyError(
            f"unknown key {key!r} in [{name}] of {pyproject}.",
            f"{hint}valid keys in [{name}]: {', '.join(valid)}.",
        ) from None
    except WrongType as exc:
        raise _type_error(exc, table, pyproject) from None
    except FieldError as exc:  # pragma: no cover - every field has a default
        raise ConfigValueError(f"[tool.release] in {pyproject}: {exc}.", "fix it.") from None


def _type_error(exc: WrongType, table: dict[str, Any], pyproject: Path) -> ConfigTypeError:
    path = list(exc.path)
    element = path[-1].startswith("[")
    if element:
        path.pop()
    *parents, key = path
    name = ".".join(["tool.release", *parents])
    subtables = {toml_key(f) for f in ("linux", "windows", "macos", "wheels", "publish", "ci")}
    if not parents and key in subtables:
        return ConfigTypeError(
            f"[tool.release] {key} in {pyproject} must be a table, got {type_name(exc.value)}.",
            f"write it as a [tool.release.{key}] table.",
        )
    if element:
        expected = f"a list of {plural(exc.expected)}"
        got = f"a list holding {type_name(exc.value)}"
    else:
        expected, got = exc.expected, type_name(exc.value)
    return ConfigTypeError(
        f"[{name}] {key} in {pyproject} must be {expected}, got {got}.",
        f"change {key} in {pyproject} to {expected}.",
    )


def _package_dir(project: Path, table: ReleaseTable, pyproject: Path) -> Path:
    raw = table.package_dir
    remedy = (
        "set package-dir to the directory of the package's own pyproject.toml, relative to "
        'the project root (leave it out, or write ".", for the root itself).'
    )
    if not raw.strip():
        raise PackageDirError(f"package-dir in {pyproject} is empty.", remedy)
    if PurePath(raw).is_absolute() or re.match(r"^[A-Za-z]:", raw):
        raise PackageDirError(
            f"package-dir {raw!r} in {pyproject} is an absolute path; the project would "
            "build another checkout than this one.",
            remedy,
        )
    package_dir = (project / raw).resolve()
    if package_dir != project and project not in package_dir.parents:
        raise PackageDirError(
            f"package-dir {raw!r} in {pyproject} points outside the project root ({package_dir}).",
            remedy,
        )
    if not package_dir.is_dir():
        raise PackageDirError(
            f"package-dir {raw!r} in {pyproject} does not exist ({package_dir}).", remedy
        )
    if not (package_dir / "pyproject.toml").is_file():
        raise PackageDirError(
            f"package-dir {raw!r} has no pyproject.toml ({package_dir}).",
            "point package-dir at the directory that holds the package's pyproject.toml.",
        )
    return package_dir


def load_config(project: Path, pyproject_text: str | None = None) -> ReleaseConfig:
    """The configuration of ``project``; from ``pyproject_text`` instead of its
    pyproject.toml when given (init: the configuration it is about to write)."""
    project = project.resolve()
    if pyproject_text is None:
        pyproject = find_pyproject(project)
        data = read_toml(pyproject)
    else:
        pyproject = project / "pyproject.toml"
        data = parse_toml(pyproject_text.encode("utf-8"), str(pyproject))
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigTypeError(
            f"tool in {pyproject} must be a table, got {type_name(tool)}.",
            "write tool settings as [tool.<name>] tables.",
        )
    raw = tool.get("release")
    if raw is None:
        raise NoReleaseTableError(
            f"{pyproject} has no [tool.release] table.",
            'add one; the smallest is:  [tool.release]  (with package-dir = "..." '
            "when the package lives in a subdirectory).",
        )
    if not isinstance(raw, dict):
        raise ConfigTypeError(
            f"tool.release in {pyproject} must be a table, got {type_name(raw)}.",
            "write it as a [tool.release] table.",
        )
    table = _read_table(raw, pyproject)
    if table.backend is not None and table.backend not in BACKENDS:
        close = difflib.get_close_matches(table.backend, BACKENDS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownBackendError(
            f"unknown backend {table.backend!r} in [tool.release] of {pyproject}.",
            f"{hint}use one of: {', '.join(BACKENDS)}; or remove the key to infer it.",
        )
    table.linux.glibc  # noqa: B018 - a bad floor is refused now, not mid-build
    check_platform_values(table, pyproject)
    check_tag_pattern(table.tag_pattern, pyproject)
    check_dropped(table.dropped, pyproject)
    if table.wheels is not None:
        for platform in WHEEL_PLATFORMS:
            for entry in table.wheels.for_platform(platform):
                check_wheel_pattern(entry, platform, pyproject)
    if not table.dist_dir.strip():
        raise ConfigValueError(
            f"dist-dir in {pyproject} is empty.", 'leave it out for "dist", or name a directory.'
        )
    check_ci(table.ci, pyproject)
    for scope in (None, *PLATFORMS):
        before_build(table, scope, pyproject)  # a shell line is refused before any build
    check_workflow_name(table.publish.workflow, pyproject)
    if table.ci.workflow.lower() == table.publish.workflow.lower():
        raise ConfigValueError(
            f"[tool.release.ci] workflow and [tool.release.publish] workflow in {pyproject} "
            f"name one file ({table.ci.workflow!r}; on macOS and Windows case does not count).",
            'give the dry run its own file: leave ci.workflow out ("release-dry-run.yml").',
        )
    # Where publish uploads: refused now, not when the release is built and validated.
    resolve_repository(table.publish.repository, table.publish.index_url)
    package_dir = _package_dir(project, table, pyproject)
    package = read_package(package_dir)
    backend = table.backend or infer_backend(package)
    check_platform_keys(table, backend, pyproject)
    if table.ci.split_builds == "python" and backend != "cibuildwheel":
        raise ConfigValueError(
            f'[tool.release.ci] split-builds = "python" in {pyproject}: the {backend} backend '
            "builds a platform's Pythons in one run, which a job per Python cannot divide.",
            "leave split-builds out; it spreads a cibuildwheel project's identifiers.",
        )
    return ReleaseConfig(
        project_root=project,
        pyproject=pyproject,
        package_dir=package_dir,
        package=package,
        backend=backend,
        backend_inferred=table.backend is None,
        table=table,
    )
