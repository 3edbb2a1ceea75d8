"""The version the package is built with, read from where its build backend reads it.

Statically wherever the backend's source can be read without building: [project] version,
Cargo.toml for maturin, setuptools' ``attr:`` (the module's ``__version__`` by its syntax
tree, as setuptools itself tries first), ``file:``, hatch's version ``path``, and setup.py
(a literal, or the ``version.py`` it reads). init reports it and validate's version check
compares it with the tag: both call :func:`project_version`, so they read the same thing.
"""

from __future__ import annotations

import ast
import configparser
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from ..errors import ConfigValueError
from .cargo import EXAMPLE_VERSION, cargo_to_pep440, crate_version, shown_path
from .setup_py import read_setup_py, version_in_file

if TYPE_CHECKING:
    from ..config import ReleaseConfig

# Backends (and plugins) that take the version from the git tag when they build.
_FROM_TAG = ("setuptools-scm", "hatch-vcs", "versioningit")


def built_by_maturin(config: ReleaseConfig) -> bool:
    build_backend = config.package.build_backend or ""
    return config.backend == "maturin" or build_backend.split(".")[0] == "maturin"


def _pep440(text: str, where: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise ConfigValueError(
            f'{where} "{text}" is not a PEP 440 version.', f'write it like "{EXAMPLE_VERSION}".'
        ) from None


def _assigned_string(tree: ast.Module, attribute: str) -> str | None:
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        named = any(isinstance(t, ast.Name) and t.id == attribute for t in targets)
        if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def _module_file(root: Path, module: str, package_dirs: Mapping[str, Any]) -> Path | None:
    """Where setuptools finds ``module`` (dotted): its package-dir mapping, else the root or
    src/ layout."""
    parts = module.split(".")
    bases: list[tuple[Path, list[str]]] = []
    mapped, everything = package_dirs.get(parts[0]), package_dirs.get("")
    if isinstance(mapped, str):
        bases.append((root / mapped, parts[1:]))
    if isinstance(everything, str):
        bases.append((root / everything, parts))
    bases += [(root, parts), (root / "src", parts)]
    for base, rest in bases:
        path = base.joinpath(*rest)
        for candidate in (path / "__init__.py", path.with_suffix(".py")):
            if candidate.is_file():
                return candidate
    return None


def attr_version(root: Path, spec: str, package_dirs: Mapping[str, Any]) -> tuple[str, Path] | None:
    """setuptools' ``attr: package.module.__version__``, read from the module's syntax tree,
    following one ``from .x import __version__``."""
    module, _, attribute = spec.strip().rpartition(".")
    path = _module_file(root, module, package_dirs) if module else None
    if path is None:
        return None
    tree = _syntax_tree(path)
    found = _assigned_string(tree, attribute) if tree else None
    if tree is None or found is not None:
        return None if found is None else (found, path)
    for node in tree.body:
        if not (isinstance(node, ast.ImportFrom) and node.level == 1 and node.module):
            continue
        if any(alias.name == attribute for alias in node.names):
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            inner = _module_file(root, f"{package}.{node.module}", package_dirs)
            inner_tree = _syntax_tree(inner) if inner is not None else None
            found = _assigned_string(inner_tree, attribute) if inner_tree else None
            if found is not None and inner is not None:
                return found, inner
    return None


def _syntax_tree(path: Path) -> ast.Module | None:
    """The module's syntax tree; None when it is not valid Python (setuptools would import
    it, and fail, or find the attribute some other way: not a static version)."""
    try:
        return ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    except (SyntaxError, ValueError):
        return None


def _setuptools_version(config: ReleaseConfig, root: Path) -> tuple[str, str] | None:
    setuptools = config.package.tool("setuptools")
    dynamic = setuptools.get("dynamic")
    spec = dynamic.get("version") if isinstance(dynamic, dict) else None
    package_dirs = setuptools.get("package-dir")
    package_dirs = package_dirs if isinstance(package_dirs, dict) else {}
    where = "[tool.setuptools.dynamic] version"
    if spec is None and (root / "setup.cfg").is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(root / "setup.cfg", encoding="utf-8")
            value = parser.get("metadata", "version", fallback="").strip()
        except configparser.Error:
            value = ""
        if value.startswith("attr:"):
            spec, where = {"attr": value.removeprefix("attr:").strip()}, "setup.cfg version"
        elif value.startswith("file:"):
            spec, where = {"file": value.removeprefix("file:").strip()}, "setup.cfg version"
        elif value:
            return value, "setup.cfg [metadata] version"
    if not isinstance(spec, dict):
        return None
    if isinstance(spec.get("attr"), str):
        found = attr_version(root, spec["attr"], package_dirs)
        if found is not None:
            shown = found[1].relative_to(root).as_posix()
            return found[0], f'{where} = attr "{spec["attr"]}": __version__ in {shown}'
    file = spec.get("file")
    if isinstance(file, str) and (root / file).is_file():
        text = (root / file).read_text(encoding="utf-8", errors="replace").strip()
        return text, f'{where} = file "{file}"'
    return None


def _hatch_version(config: ReleaseConfig, root: Path) -> tuple[str, str] | None:
    table = config.package.tool("hatch").get("version")
    path = table.get("path") if isinstance(table, dict) else None
    if isinstance(path, str):
        version = version_in_file(root / path)
        if version is not None:
            return version, f'[tool.hatch.version] path = "{path}"'
    return None


def version_from_tag(config: ReleaseConfig) -> str | None:
    """The plugin that takes the version from the git tag, when one is configured."""
    requires = config.package.raw.get("build-system", {}).get("requires", [])
    requires = requires if isinstance(requires, list) else []
    named = " ".join(r for r in requires if isinstance(r, str)).replace("_", "-")
    tools = config.package.raw.get("tool", {})
    tools = tools if isinstance(tools, dict) else {}
    for plugin in _FROM_TAG:
        if plugin in named or plugin.replace("-", "_") in tools or plugin in tools:
            return plugin
    return None


def project_version(config: ReleaseConfig) -> tuple[Version | None, str]:
    """The version the package is built with, and where it comes from.

    ``(None, why)`` only when it is computed when the package builds (from the git tag, or by
    code that runs then). Unreadable or missing sources raise :class:`ConfigError` with a
    remedy.
    """
    package = config.package
    root = package.pyproject.parent
    pyproject = shown_path(package.pyproject, config.project_root)
    if package.version is not None:
        return _pep440(package.version, f"{pyproject} [project] version"), (
            f"{pyproject} [project] version"
        )
    setup_py = root / "setup.py"
    if "project" not in package.raw and setup_py.is_file():
        # Without [project], setuptools takes the metadata from setup.py (and setup.cfg).
        found = _setuptools_version(config, root)
        if found is not None:
            return _pep440(found[0], found[1]), found[1]
        setup = read_setup_py(setup_py)
        if setup.version is not None:
            return _pep440(setup.version, setup.version_why), setup.version_why
        return None, f"{setup.version_why} (no [project] table in {pyproject})"
    if "version" not in package.dynamic:
        raise ConfigValueError(
            f"{pyproject} has no [project] version, and 'version' is not in [project] dynamic.",
            f'add version = "{EXAMPLE_VERSION}" to [project] in {pyproject}.',
        )
    if built_by_maturin(config):
        semver, where = crate_version(config)
        try:
            return cargo_to_pep440(semver), where
        except ValueError as exc:
            raise ConfigValueError(
                f"{where}: {exc}.", "use a Cargo version like 1.2.3 or 1.2.3-rc.1."
            ) from None
    for reader in (_setuptools_version, _hatch_version):
        found = reader(config, root)
        if found is not None:
            return _pep440(found[0], found[1]), found[1]
    plugin = version_from_tag(config)
    if plugin is not None:
        return None, f"the version is dynamic in {pyproject}: {plugin} takes it from the git tag"
    backend = package.build_backend or "the build backend"
    return None, f"the version is dynamic in {pyproject} and computed by {backend} when it builds"
