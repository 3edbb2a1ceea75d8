"""The package's own pyproject.toml: its name, version, build backend and tool tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigTypeError
from .setup_py import read_setup_py
from .toml import read_toml


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

    def tool(self, name: str) -> Mapping[str, Any]:
        """``[tool.<name>]``, or an empty table."""
        tools = self.raw.get("tool", {})
        table = tools.get(name, {}) if isinstance(tools, dict) else {}
        return table if isinstance(table, dict) else {}


def type_name(value: object) -> str:
    """How an error message names the TOML type of ``value``."""
    names = {bool: "a boolean", int: "an integer", float: "a float", str: "a string"}
    names.update({list: "a list", dict: "a table"})
    for kind, label in names.items():
        if type(value) is kind:
            return f"{label} ({value!r})" if kind in (bool, int, float) else label
    return type(value).__name__


def read_package(package_dir: Path) -> PackageInfo:
    pyproject = package_dir / "pyproject.toml"
    data = read_toml(pyproject)
    project = data.get("project", {})
    build_system = data.get("build-system", {})
    for table, value in (("project", project), ("build-system", build_system)):
        if not isinstance(value, dict):
            raise ConfigTypeError(
                f"[{table}] in {pyproject} must be a table, got {type_name(value)}.",
                f"write it as a [{table}] table.",
            )
    backend = build_system.get("build-backend")
    version = project.get("version")
    dynamic = project.get("dynamic", ())
    tools = data.get("tool", {})
    name = project.get("name") if isinstance(project.get("name"), str) else None
    if "project" not in data and (package_dir / "setup.py").is_file():
        # Without [project], setuptools takes the name from setup.py's setup(name=...).
        name = read_setup_py(package_dir / "setup.py").name
    return PackageInfo(
        pyproject=pyproject,
        name=name,
        version=version if isinstance(version, str) else None,
        dynamic=tuple(d for d in dynamic if isinstance(d, str))
        if isinstance(dynamic, list)
        else (),
        build_backend=backend if isinstance(backend, str) else None,
        has_cibuildwheel_table=isinstance(tools, dict) and "cibuildwheel" in tools,
        raw=data,
    )


def infer_backend(package: PackageInfo) -> str:
    backend = package.build_backend or ""
    if backend == "maturin" or backend.startswith("maturin."):
        return "maturin"
    if package.has_cibuildwheel_table:
        return "cibuildwheel"
    return "build"
