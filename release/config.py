"""``[tool.release]`` in the project's pyproject.toml, read into frozen dataclasses.

The schema below is the single description of the table: the loader checks every key against
it (unknown keys name the closest valid one; wrong types name the key, the file and the type
expected), and the dataclasses are filled from it. The package itself may live in a
subdirectory (``package-dir``) with a pyproject.toml of its own; that file decides the
backend when ``backend`` is absent.
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import (
    ConfigTypeError,
    ConfigValueError,
    InvalidTomlError,
    NoPyprojectError,
    NoReleaseTableError,
    PackageDirError,
    UnknownBackendError,
    UnknownKeyError,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

BACKENDS = ("maturin", "cibuildwheel", "build")
PLATFORMS = ("linux", "windows")

# (python type, name of the type for error messages). Lists are lists of strings.
_STR = (str, "a string")
_BOOL = (bool, "a boolean (true or false)")
_STRLIST = (list, "a list of strings")

SCHEMA: dict[str, dict[str, tuple[type, str]]] = {
    "tool.release": {
        "package-dir": _STR,
        "backend": _STR,
        "sdist": _BOOL,
        "dist-dir": _STR,
        "tag-pattern": _STR,
        "prereleases": _BOOL,
    },
    "tool.release.linux": {"manylinux": _STR},
    "tool.release.windows": {
        "target": _STR,
        "msys2-packages": _STRLIST,
        "allow-dlls": _STRLIST,
    },
    "tool.release.wheels": {"linux": _STRLIST, "windows": _STRLIST},
    "tool.release.publish": {
        "repository": _STR,
        "environment": _STR,
        "workflow": _STR,
    },
}
_SUBTABLES = {name.rsplit(".", 1)[1] for name in SCHEMA if name != "tool.release"}


@dataclass(frozen=True)
class LinuxConfig:
    manylinux: str = "2014"

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


@dataclass(frozen=True)
class WheelsConfig:
    """The expected wheel set, ``python-abi-platform`` patterns with ``*`` wildcards."""

    linux: tuple[str, ...] = ()
    windows: tuple[str, ...] = ()

    def for_platform(self, platform: str) -> tuple[str, ...]:
        return self.linux if platform == "linux" else self.windows


@dataclass(frozen=True)
class PublishConfig:
    repository: str = "pypi"
    environment: str | None = None
    workflow: str = "release.yml"


@dataclass(frozen=True)
class PackageInfo:
    """What the package's own pyproject.toml says, as far as nox-release needs it."""

    pyproject: Path
    name: str | None
    version: str | None
    dynamic: tuple[str, ...]
    build_backend: str | None
    has_cibuildwheel_table: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)


@dataclass(frozen=True)
class ReleaseConfig:
    project_root: Path
    pyproject: Path
    package_dir: Path
    package: PackageInfo
    backend: str
    backend_inferred: bool
    sdist: bool = True
    dist_dir: Path = Path("dist")
    tag_pattern: str = "v{version}"
    prereleases: bool = False
    linux: LinuxConfig = field(default_factory=LinuxConfig)
    windows: WindowsConfig = field(default_factory=WindowsConfig)
    wheels: WheelsConfig | None = None
    publish: PublishConfig = field(default_factory=PublishConfig)


_MANYLINUX_ALIASES = {"1": (2, 5), "2010": (2, 12), "2014": (2, 17)}


def manylinux_glibc(value: str) -> tuple[int, int]:
    """``"2014"``, ``"manylinux2014"``, ``"2_28"``, ``"manylinux_2_28"`` -> glibc version."""
    text = value.strip().lower().removeprefix("manylinux").lstrip("_")
    if text in _MANYLINUX_ALIASES:
        return _MANYLINUX_ALIASES[text]
    match = re.fullmatch(r"(\d+)_(\d+)", text)
    if not match:
        raise ConfigValueError(
            f"[tool.release.linux] manylinux = {value!r} is not a manylinux floor.",
            'use "2014" (glibc 2.17), "2_28", or another PEP 600 form "2_<minor>".',
        )
    return int(match.group(1)), int(match.group(2))


def read_toml(path: Path) -> dict[str, Any]:
    return parse_toml(path.read_bytes(), str(path))


def parse_toml(data: bytes, where: str) -> dict[str, Any]:
    """TOML from bytes; ``where`` names the file in the error."""
    try:
        # tomllib decodes before parsing, so bad UTF-8 would escape TOMLDecodeError.
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidTomlError(
            f"{where} is not valid TOML: it is not UTF-8 ({exc}).", "save the file as UTF-8."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidTomlError(
            f"{where} is not valid TOML: {exc}.", "fix the syntax at the position shown."
        ) from exc


def _check_table(table: Mapping[str, Any], name: str, path: Path) -> None:
    allowed = SCHEMA[name]
    for key, value in table.items():
        if name == "tool.release" and key in _SUBTABLES:
            if not isinstance(value, dict):
                raise ConfigTypeError(
                    f"[tool.release] {key} in {path} must be a table, got {_type_name(value)}.",
                    f"write it as a [tool.release.{key}] table.",
                )
            _check_table(value, f"tool.release.{key}", path)
            continue
        if key not in allowed:
            valid = sorted(allowed) + (sorted(_SUBTABLES) if name == "tool.release" else [])
            close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UnknownKeyError(
                f"unknown key {key!r} in [{name}] of {path}.",
                f"{hint}valid keys in [{name}]: {', '.join(valid)}.",
            )
        expected, type_name = allowed[key]
        ok = isinstance(value, expected)
        if expected is list:
            ok = ok and all(isinstance(item, str) for item in value)
        if expected is not bool and isinstance(value, bool):
            ok = False
        if not ok:
            got = _type_name(value)
            if expected is list and isinstance(value, list):
                # "got a list" would not say what is wrong with it.
                got += f" holding {_type_name(next(v for v in value if not isinstance(v, str)))}"
            raise ConfigTypeError(
                f"[{name}] {key} in {path} must be {type_name}, got {got}.",
                f"change {key} in {path} to {type_name}.",
            )


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names.update({list: "a list", dict: "a table"})
    for kind, label in names.items():
        if type(value) is kind:
            return f"{label} ({value!r})" if kind in (bool, int, float) else label
    return type(value).__name__


def find_pyproject(project: Path) -> Path:
    path = project / "pyproject.toml"
    if not project.is_dir():
        raise NoPyprojectError(
            f"project directory {project} does not exist.",
            "pass --project with the directory that holds the project's pyproject.toml.",
        )
    if not path.is_file():
        raise NoPyprojectError(
            f"no pyproject.toml in {project}.",
            "run from the project root, or pass --project DIR (or set RELEASE_PROJECT).",
        )
    return path


def read_package(package_dir: Path) -> PackageInfo:
    pyproject = package_dir / "pyproject.toml"
    data = read_toml(pyproject)
    project = data.get("project", {})
    build_system = data.get("build-system", {})
    for table, value in (("project", project), ("build-system", build_system)):
        if not isinstance(value, dict):
            raise ConfigTypeError(
                f"[{table}] in {pyproject} must be a table, got {_type_name(value)}.",
                f"write it as a [{table}] table.",
            )
    backend = build_system.get("build-backend")
    version = project.get("version")
    return PackageInfo(
        pyproject=pyproject,
        name=project.get("name"),
        version=version if isinstance(version, str) else None,
        dynamic=tuple(project.get("dynamic", ())),
        build_backend=backend if isinstance(backend, str) else None,
        has_cibuildwheel_table="cibuildwheel" in data.get("tool", {}),
        raw=data,
    )


def infer_backend(package: PackageInfo) -> str:
    backend = package.build_backend or ""
    if backend == "maturin" or backend.startswith("maturin."):
        return "maturin"
    if package.has_cibuildwheel_table:
        return "cibuildwheel"
    return "build"


def load_config(project: Path) -> ReleaseConfig:
    project = project.resolve()
    pyproject = find_pyproject(project)
    data = read_toml(pyproject)
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigTypeError(
            f"tool in {pyproject} must be a table, got {_type_name(tool)}.",
            "write tool settings as [tool.<name>] tables.",
        )
    table = tool.get("release")
    if table is None:
        raise NoReleaseTableError(
            f"{pyproject} has no [tool.release] table.",
            'add one; the smallest is:  [tool.release]  (with package-dir = "..." '
            "when the package lives in a subdirectory).",
        )
    if not isinstance(table, dict):
        raise ConfigTypeError(
            f"tool.release in {pyproject} must be a table, got {_type_name(table)}.",
            "write it as a [tool.release] table.",
        )
    _check_table(table, "tool.release", pyproject)

    package_dir = (project / table.get("package-dir", ".")).resolve()
    if not package_dir.is_dir():
        raise PackageDirError(
            f"package-dir {table.get('package-dir')!r} in {pyproject} does not exist "
            f"({package_dir}).",
            "set package-dir to the directory of the package's own pyproject.toml, "
            "relative to the project root.",
        )
    if not (package_dir / "pyproject.toml").is_file():
        raise PackageDirError(
            f"package-dir {table.get('package-dir')!r} has no pyproject.toml ({package_dir}).",
            "point package-dir at the directory that holds the package's pyproject.toml.",
        )
    package = read_package(package_dir)

    backend = table.get("backend")
    if backend is not None and backend not in BACKENDS:
        close = difflib.get_close_matches(backend, BACKENDS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownBackendError(
            f"unknown backend {backend!r} in [tool.release] of {pyproject}.",
            f"{hint}use one of: {', '.join(BACKENDS)}; or remove the key to infer it.",
        )

    linux = table.get("linux", {})
    windows = table.get("windows", {})
    publish = table.get("publish", {})
    wheels = table.get("wheels")
    config = ReleaseConfig(
        project_root=project,
        pyproject=pyproject,
        package_dir=package_dir,
        package=package,
        backend=backend or infer_backend(package),
        backend_inferred=backend is None,
        sdist=table.get("sdist", True),
        dist_dir=project / table.get("dist-dir", "dist"),
        tag_pattern=table.get("tag-pattern", "v{version}"),
        prereleases=table.get("prereleases", False),
        linux=LinuxConfig(**_snake(linux)),
        windows=WindowsConfig(
            target=windows.get("target"),
            msys2_packages=tuple(windows.get("msys2-packages", ())),
            allow_dlls=tuple(windows.get("allow-dlls", ())),
        ),
        wheels=None
        if wheels is None
        else WheelsConfig(tuple(wheels.get("linux", ())), tuple(wheels.get("windows", ()))),
        publish=PublishConfig(**_snake(publish)),
    )
    config.linux.glibc  # noqa: B018 - reject a bad manylinux value now, not mid-build
    if "{version}" not in config.tag_pattern:
        raise ConfigValueError(
            f"tag-pattern {config.tag_pattern!r} in {pyproject} has no {{version}} placeholder.",
            'write it like "v{version}" or "release-{version}".',
        )
    return config


def _snake(table: Mapping[str, Any]) -> dict[str, Any]:
    return {key.replace("-", "_"): value for key, value in table.items()}
