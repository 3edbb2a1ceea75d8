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
from .project.pyproject import PackageInfo, infer_backend, read_package, type_name
from .project.toml import parse_toml, read_toml
from .publish.repository import resolve as resolve_repository
from .regression import dropped_patterns, dropped_problem

__all__ = ["ReleaseConfig", "load_config", "parse_toml", "read_toml"]

BACKENDS = ("maturin", "cibuildwheel", "build")
# The platforms nox-release builds: the build stages and the generated workflows follow this.
PLATFORMS = ("linux", "windows")
# The platforms whose wheels [tool.release.wheels] lists and validate judges: macOS wheels are
# built on GitHub's macOS runners, not by a stage here, and validate judges them all the same.
WHEEL_PLATFORMS = (*PLATFORMS, "macos")


# --- the table, as written ------------------------------------------------------------------


@dataclass(frozen=True)
class LinuxConfig:
    manylinux: str = "2014"
    # Debian/Ubuntu packages the Linux build needs (m4 for GMP, a -dev library...): installed
    # with apt-get in GitHub Actions, checked (with the command to install them) elsewhere.
    apt_packages: tuple[str, ...] = ()
    # Replaces [tool.release] before-build for Linux wheels (None: that one applies).
    before_build: str | tuple[str, ...] | None = None

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
    linux: LinuxConfig = field(default_factory=LinuxConfig)
    windows: WindowsConfig = field(default_factory=WindowsConfig)
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
    subtables = {toml_key(f) for f in ("linux", "windows", "wheels", "publish", "ci")}
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
    return ReleaseConfig(
        project_root=project,
        pyproject=pyproject,
        package_dir=package_dir,
        package=package,
        backend=table.backend or infer_backend(package),
        backend_inferred=table.backend is None,
        table=table,
    )
