"""Cargo manifests as maturin reads them: the crate's Cargo.toml, its workspace, its version,
the pyo3 features that decide whether the wheel is abi3, and whether PyO3 makes the import
library a Windows link needs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from ..errors import ConfigValueError
from .pyproject import type_name
from .toml import read_toml

if TYPE_CHECKING:
    from ..config import ReleaseConfig

EXAMPLE_VERSION = "1.2.3"
_PYO3_CRATES = ("pyo3", "pyo3-ffi")
_ABI3_FEATURE = re.compile(r"abi3(?:-py(?P<major>\d)(?P<minor>\d+))?")


def shown_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it is inside it: shorter messages, same meaning."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def manifest_path(config: ReleaseConfig) -> Path:
    """The Cargo.toml maturin builds: ``[tool.maturin] manifest-path``, else the one beside
    the package's pyproject.toml."""
    manifest = config.package.tool("maturin").get("manifest-path")
    if isinstance(manifest, str):
        return (config.package_dir / manifest).resolve()
    return config.package_dir / "Cargo.toml"


def read_manifest(path: Path, config: ReleaseConfig) -> dict[str, Any]:
    """A Cargo.toml's contents; a missing file is a :class:`ConfigValueError` that says why
    it was looked for."""
    if not path.is_file():
        pyproject = shown_path(config.package.pyproject, config.project_root)
        raise ConfigValueError(
            f"maturin reads the crate from {shown_path(path, config.project_root)}, "
            "which does not exist.",
            f"point [tool.maturin] manifest-path in {pyproject} at the crate's Cargo.toml.",
        )
    return read_toml(path)


def find_workspace_root(manifest: Path, data: Mapping[str, Any]) -> Path | None:
    """The Cargo.toml with the ``[workspace]`` table this crate belongs to, as Cargo finds
    it: the manifest itself, ``package.workspace``, or the nearest parent directory's."""
    if isinstance(data.get("workspace"), dict):
        return manifest
    explicit = data.get("package", {}).get("workspace")
    if isinstance(explicit, str):
        candidate = (manifest.parent / explicit / "Cargo.toml").resolve()
        return candidate if candidate.is_file() else None
    directory = manifest.resolve().parent
    while directory != directory.parent:
        directory = directory.parent
        candidate = directory / "Cargo.toml"
        if candidate.is_file() and isinstance(read_toml(candidate).get("workspace"), dict):
            return candidate
    return None


def inherits_from_workspace(value: object) -> bool:
    """``key.workspace = true`` / ``key = { workspace = true }``."""
    return isinstance(value, dict) and value.get("workspace") is True


def crate_version(config: ReleaseConfig) -> tuple[str, str]:
    """The crate's semver version text and where it was found."""
    manifest = manifest_path(config)
    data = read_manifest(manifest, config)
    where = shown_path(manifest, config.project_root)
    package = data.get("package", {})
    value = package.get("version") if isinstance(package, dict) else None
    if isinstance(value, str):
        return value, f"{where} [package] version"
    if value is not None and not inherits_from_workspace(value):
        raise ConfigValueError(
            f"[package] version in {where} is {type_name(value)}; Cargo takes a version "
            'string ("1.0.0"), or version.workspace = true.',
            f'write it as a string with three numbers: version = "{_semver_of(value)}".',
        )
    if not inherits_from_workspace(value):
        raise ConfigValueError(
            f"{where} has no [package] version, and maturin takes the package version "
            'from it ([project] dynamic = ["version"]).',
            f'set version = "{EXAMPLE_VERSION}" in [package] of {where}, '
            "or a static [project] version.",
        )
    root = find_workspace_root(manifest, data)
    if root is None:
        raise ConfigValueError(
            f"{where} inherits its version (version.workspace = true), and no parent "
            "directory has a Cargo.toml with a [workspace] table.",
            f"run from a full checkout of the Cargo workspace, or set [package] version in "
            f"{where}.",
        )
    root_where = shown_path(root, config.project_root)
    inherited = read_toml(root).get("workspace", {}).get("package", {}).get("version")
    if not isinstance(inherited, str):
        raise ConfigValueError(
            f"{where} inherits its version from the workspace, and {root_where} has no "
            "[workspace.package] version.",
            f'set version = "{EXAMPLE_VERSION}" in [workspace.package] of {root_where}.',
        )
    return inherited, f"{where} via [workspace.package] of {root_where}"


def _semver_of(value: object) -> str:
    """What a version written as a number most likely meant: ``1`` -> ``1.0.0``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        parts = str(value).split(".")
        return ".".join([*parts, "0", "0"][:3])
    return EXAMPLE_VERSION


def cargo_to_pep440(semver: str) -> Version:
    """The PEP 440 version maturin gives a Cargo version.

    maturin (checked with 1.16) parses the semver text as a PEP 440 version, leniently:
    ``1.2.3-alpha.1`` -> ``1.2.3a1``, ``-beta.2`` -> ``b2``, ``-rc.1``/``-c.1``/``-pre.1`` ->
    ``rc1``, ``-dev`` -> ``.dev0``, ``-alpha.1.dev.2`` -> ``a1.dev2``, ``+build.5`` -> a local
    version. packaging's normalisation is the same one, so it is used as is.
    """
    try:
        return Version(semver)
    except InvalidVersion:
        raise ValueError(
            f'Cargo version "{semver}" has no PEP 440 equivalent (maturin maps only '
            "pre-release labels alpha/a, beta/b, rc/c/pre and dev, each with an optional "
            "number, like 1.2.3-alpha.1 or 1.2.3-rc.2)"
        ) from None


# --- pyo3 features -------------------------------------------------------------------------


def _dependency_features(
    name: str, manifest_data: Mapping[str, Any], workspace_data: Mapping[str, Any]
) -> list[str]:
    dependency = manifest_data.get("dependencies", {}).get(name)
    if not isinstance(dependency, dict):
        return []
    features = list(dependency.get("features", []))
    if inherits_from_workspace(dependency):
        inherited = workspace_data.get("workspace", {}).get("dependencies", {}).get(name)
        if isinstance(inherited, dict):
            features += inherited.get("features", [])
    return features


def _enabled_crate_features(
    manifest_data: Mapping[str, Any], requested: Iterable[str]
) -> list[str]:
    """The crate's own features that ``default`` and ``requested`` switch on, transitively,
    as Cargo resolves them (``abi3 = ["pyo3/abi3-py39"]``, ``default = ["abi3"]``)."""
    table = manifest_data.get("features", {})
    pending = ["default", *requested]
    enabled: list[str] = []
    while pending:
        feature = pending.pop()
        if feature in enabled:
            continue
        enabled.append(feature)
        pending += [f for f in table.get(feature, []) if isinstance(f, str)]
    return enabled


def pyo3_features(config: ReleaseConfig) -> tuple[list[str], str]:
    """Every pyo3/pyo3-ffi feature the build enables, and the manifest that says so."""
    manifest = manifest_path(config)
    data = read_manifest(manifest, config)
    root = find_workspace_root(manifest, data)
    workspace = read_toml(root) if root is not None else {}
    features = [f for crate in _PYO3_CRATES for f in _dependency_features(crate, data, workspace)]
    requested = [
        f for f in config.package.tool("maturin").get("features", []) if isinstance(f, str)
    ]
    for feature in _enabled_crate_features(data, requested):
        crate, _, crate_feature = feature.partition("/")
        if crate.rstrip("?") in _PYO3_CRATES and crate_feature:
            features.append(crate_feature)
    return features, shown_path(manifest, config.project_root)


def abi3_python_tag(config: ReleaseConfig) -> tuple[str | None, str]:
    """``("cp39", why)`` for an abi3 build with abi3-py39; ``("cp3*", ...)`` for plain abi3
    (maturin then tags the building interpreter's version); ``(None, why)`` without abi3."""
    features, manifest = pyo3_features(config)
    minimums = []
    bare = False
    for feature in features:
        match = _ABI3_FEATURE.fullmatch(feature)
        if match is None:
            continue
        if match["major"] is None:
            bare = True
        else:
            minimums.append((int(match["major"]), int(match["minor"])))
    if minimums:
        # pyo3's abi3-py38 switches on abi3-py39 and up: the lowest one decides the tag.
        major, minor = min(minimums)
        return f"cp{major}{minor}", f"pyo3 feature abi3-py{major}{minor} in {manifest}"
    if bare:
        return "cp3*", f"pyo3 feature abi3 in {manifest}"
    return None, f"no pyo3 abi3 feature in {manifest}"


_ABI3T_FEATURE = re.compile(r"abi3t(?:-py3(?P<minor>\d+))?")


def abi3t_feature(config: ReleaseConfig) -> tuple[int | None, str]:
    """``(15, why)`` when the pyo3 features build the free-threaded stable ABI (PyO3 0.29's
    ``abi3t``, ``abi3t-py315``; PEP 803, CPython 3.15 on): the CPython 3 minor the abi3t
    wheel is named for; ``(None, why)`` without it."""
    features, manifest = pyo3_features(config)
    minors = []
    for feature in features:
        match = _ABI3T_FEATURE.fullmatch(feature)
        if match is not None:
            minors.append(int(match["minor"]) if match["minor"] else 15)
    if minors:
        return min(minors), f"pyo3 feature abi3t in {manifest}"
    return None, f"no pyo3 abi3t feature in {manifest}"


# --- the import library a Windows link needs -----------------------------------------------

# PyO3 (0.16.5 and up; 0.16.4 called it generate-abi3-import-lib) makes the import library of
# python3.dll itself with this feature. Without it, a Windows link takes the one in a
# Windows Python's libs directory: a build on Windows has it, a cross build on Linux does not.
# From 0.29 on, pyo3-ffi links python3.dll by raw-dylib and needs no import library (the
# feature is a deprecated no-op there): maturin 1.16 cross-builds PyO3 0.30 without it.
IMPORT_LIB_FEATURE = "generate-import-lib"
_IMPORT_LIB_FEATURES = (IMPORT_LIB_FEATURE, "generate-abi3-import-lib")
RAW_DYLIB_PYO3 = Version("0.29")
_REQUIREMENT_FLOOR = re.compile(r"^\s*(?:\^|~|=)?\s*(\d+\.\d+(?:\.\d+)?)\s*$")


def _locked_pyo3(manifest: Path, data: Mapping[str, Any]) -> Version | None:
    """The oldest pyo3-ffi (else pyo3) Cargo.lock resolves, beside the workspace root or
    the crate; None without a lock that names one."""
    root = find_workspace_root(manifest, data)
    for directory in ([root.parent] if root is not None else []) + [manifest.parent]:
        lock = directory / "Cargo.lock"
        if not lock.is_file():
            continue
        packages = read_toml(lock).get("package", [])
        for crate in ("pyo3-ffi", "pyo3"):
            versions = []
            for package in packages if isinstance(packages, list) else []:
                if isinstance(package, dict) and package.get("name") == crate:
                    try:
                        versions.append(Version(str(package.get("version"))))
                    except InvalidVersion:
                        continue
            if versions:
                return min(versions)
    return None


def _required_pyo3(
    crate: str, manifest_data: Mapping[str, Any], workspace_data: Mapping[str, Any]
) -> Version | None:
    """The version a requirement like "0.23.5", "^0.23" or "=0.22.1" resolves to at least
    (for 0.x crates, its minor version decides); None for ranges (">=0.20") or none."""
    dependency = manifest_data.get("dependencies", {}).get(crate)
    if inherits_from_workspace(dependency):
        dependency = workspace_data.get("workspace", {}).get("dependencies", {}).get(crate)
    requirement = dependency.get("version") if isinstance(dependency, dict) else dependency
    match = _REQUIREMENT_FLOOR.match(requirement) if isinstance(requirement, str) else None
    return Version(match[1]) if match else None


@dataclass(frozen=True)
class ImportLibFix:
    """A PyO3 crate without the import-library feature, and the one line that adds it."""

    crate: str  # pyo3 or pyo3-ffi
    manifest: str  # the Cargo.toml to edit, as shown
    table: str  # the TOML table the line goes in
    line: str  # the dependency line (or its features line) with the feature added

    def instruction(self) -> str:
        return f"in {self.table} of {self.manifest}, write: {self.line}"


def missing_import_lib(config: ReleaseConfig) -> ImportLibFix | None:
    """What to add when the crate links PyO3 before 0.29 (by Cargo.lock, else the
    requirement) without ``generate-import-lib`` (directly, from ``[workspace.dependencies]``,
    through its own features or ``[tool.maturin] features``); None when it has it, does not
    need it, or does not use PyO3."""
    import tomlkit  # the line as the project wrote it, with the feature added
    from tomlkit.items import Array, InlineTable, Table

    features, shown = pyo3_features(config)
    if any(feature in _IMPORT_LIB_FEATURES for feature in features):
        return None
    manifest = manifest_path(config)
    data = read_manifest(manifest, config)
    root = find_workspace_root(manifest, data)
    workspace = read_toml(root) if root is not None else {}
    linked = _locked_pyo3(manifest, data)
    for name in _PYO3_CRATES:
        linked = linked or _required_pyo3(name, data, workspace)
    if linked is None or linked >= RAW_DYLIB_PYO3:
        return None  # raw-dylib, or a version nothing here pins: no claim either way
    document = tomlkit.parse(manifest.read_text(encoding="utf-8"))
    dependencies = document.get("dependencies")
    if not isinstance(dependencies, dict):
        return None
    crate = next((c for c in _PYO3_CRATES if c in dependencies), None)
    if crate is None:
        return None
    dependency = dependencies[crate]
    if isinstance(dependency, Table):  # [dependencies.pyo3]
        listed = dependency.get("features")
        if isinstance(listed, Array):
            listed.append(IMPORT_LIB_FEATURE)
            line = f"features = {listed.as_string()}"
        else:
            line = f'features = ["{IMPORT_LIB_FEATURE}"]'
        return ImportLibFix(crate, shown, f"[dependencies.{crate}]", line)
    if isinstance(dependency, InlineTable):
        listed = dependency.get("features")
        if isinstance(listed, Array):
            listed.append(IMPORT_LIB_FEATURE)
            table = dependency.as_string()
        else:  # tomlkit's own append spaces it oddly: written as the project would
            written = dependency.as_string().strip()
            end = " }" if written.startswith("{ ") else "}"
            added = f'features = ["{IMPORT_LIB_FEATURE}"]'
            table = f"{written[:-1].rstrip().rstrip(',')}, {added}{end}"
        return ImportLibFix(crate, shown, "[dependencies]", f"{crate} = {table}")
    version = str(dependency)  # pyo3 = "0.23"
    line = f'{crate} = {{ version = "{version}", features = ["{IMPORT_LIB_FEATURE}"] }}'
    return ImportLibFix(crate, shown, "[dependencies]", line)
