"""Whether a package compiles code, read from its build configuration, and so which backend
builds its wheels: maturin for maturin, cibuildwheel for every other compiled build (setuptools
extensions, Cython, setuptools-rust, scikit-build-core, meson-python), ``build`` for a pure one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigValueError
from ..project.pyproject import PackageInfo
from ..project.setup_py import read_setup_py

# Build backends that exist to compile: a package built by one is native.
COMPILING_BACKENDS = {
    "scikit_build_core.build": "scikit-build-core",
    "mesonpy": "meson-python",
    "py_build_cmake.build": "py-build-cmake",
    "enscons": "enscons",
}
# Build backends that only pack Python files (unless a build hook compiles, handled below).
PURE_BACKENDS = ("flit_core.buildapi", "flit.buildapi", "hatchling.build", "pdm.backend",
                 "pdm.pep517.api", "poetry.core.masonry.api", "poetry.masonry.api", "uv_build",
                 "whey")  # fmt: skip


@dataclass(frozen=True)
class Native:
    backend: str  # "maturin", "cibuildwheel" or "build"
    why: str
    wheels_why: str


def _cibuildwheel_selectors(package: PackageInfo) -> str | None:
    table = package.tool("cibuildwheel")
    selectors = {k: v for k, v in table.items() if k in ("build", "skip", "archs")}
    if selectors:
        shown = ", ".join(f"{k} = {json.dumps(v)}" for k, v in selectors.items())
        return f"[tool.cibuildwheel] {shown}"
    return None


def _workflow_selectors(workflows: list[tuple[Path, str]]) -> str | None:
    """CIBW_BUILD/SKIP/ARCHS an old workflow sets: the build reads only the package's
    [tool.cibuildwheel], so they are named, with where they belong."""
    for path, text in workflows:
        for line in text.splitlines():
            key, _, value = line.strip().partition(":")
            if key in ("CIBW_BUILD", "CIBW_SKIP", "CIBW_ARCHS"):
                return f"{key}: {value.strip()} in {path.name}"
    return None


def python_versions(package: PackageInfo, setup_requires: str | None = None) -> str:
    """Which CPython versions cibuildwheel builds without selectors: those of its release
    that requires-python (or setup.py's python_requires) allows."""
    project = package.raw.get("project", {})
    spec = project.get("requires-python") if isinstance(project, dict) else None
    spec = spec if isinstance(spec, str) else setup_requires
    if not spec:
        return "every CPython its release builds (no requires-python)"
    return f'the CPython versions its release builds that requires-python "{spec}" allows'


def _setuptools_compiles(package: PackageInfo, root: Path, shown: str) -> tuple[bool | None, str]:
    setuptools = package.tool("setuptools")
    if setuptools.get("ext-modules"):
        return True, f"[tool.setuptools] ext-modules in {shown}"
    rust: Mapping[str, Any] = package.tool("setuptools-rust")
    if rust.get("ext-modules") or rust.get("bins"):
        return True, f"[tool.setuptools-rust] in {shown} (setuptools-rust)"
    setup_py = root / "setup.py"
    if setup_py.is_file():
        setup = read_setup_py(setup_py)
        return setup.compiles, setup.compiles_why
    return False, f"no setup.py and no ext-modules in {shown}"


# hatch build hooks that only write Python files (a version file, metadata).
_PURE_HOOKS = frozenset({"vcs", "version", "fancy-pypi-readme"})


def _hatch_hooks(build: object) -> set[str]:
    """The build hooks named under [tool.hatch.build] (and its targets), at any depth."""
    found: set[str] = set()
    if isinstance(build, dict):
        for key, value in build.items():
            if key == "hooks" and isinstance(value, dict):
                found |= set(value)
            else:
                found |= _hatch_hooks(value)
    return found


def _pure_backend_compiles(
    package: PackageInfo, build_backend: str, shown: str
) -> tuple[bool | None, str]:
    """A backend that packs Python files compiles only through a build hook or script."""
    hooks = _hatch_hooks(package.tool("hatch").get("build")) - _PURE_HOOKS
    if build_backend == "hatchling.build" and hooks:
        return None, f"hatch build hooks in {shown} ({', '.join(sorted(hooks))})"
    poetry_build = package.tool("poetry").get("build")
    if build_backend.startswith("poetry") and poetry_build:
        return True, f"[tool.poetry] build script in {shown}, built by poetry-core"
    return False, f'build-backend = "{build_backend}" in {shown}'


def native_build(
    package: PackageInfo,
    root: Path,
    shown: str,
    workflows: list[tuple[Path, str]],
    chosen: str | None = None,
) -> Native:
    """The backend for the package at ``root``, and why. When it cannot be told whether the
    package compiles code, the backend ``chosen`` in [tool.release] answers; without one it
    raises: a guess of pure would ship one wrong wheel."""
    build_backend = package.build_backend or ""
    if build_backend == "maturin" or build_backend.startswith("maturin."):
        return Native("maturin", f'build-backend = "{build_backend}" in {shown}', "")
    compiles: bool | None
    if package.has_cibuildwheel_table:
        compiles, why = True, f"[tool.cibuildwheel] in {shown}"
    elif build_backend in COMPILING_BACKENDS:
        compiles = True
        tool = COMPILING_BACKENDS[build_backend]
        why = f'build-backend = "{build_backend}" in {shown} ({tool} compiles)'
    elif build_backend.startswith("setuptools") or not build_backend:
        compiles, why = _setuptools_compiles(package, root, shown)
        why = f"{why}, built by setuptools" if compiles else why
    elif build_backend in PURE_BACKENDS:
        compiles, why = _pure_backend_compiles(package, build_backend, shown)
    else:
        compiles = None
        why = f'the build backend "{build_backend}" in {shown} is not one init knows'
    if compiles is None and chosen is not None:
        why = f"[tool.release] backend in pyproject.toml ({why})"
        return Native(chosen, why, "cibuildwheel's build identifiers")
    if compiles is None:
        raise ConfigValueError(
            f"init cannot tell whether the package in {root} compiles code: {why}. A guess of "
            "pure would ship one py3-none-any wheel for a package that needs one per platform.",
            "say which it is: add an empty [tool.cibuildwheel] table to its pyproject.toml if "
            'it compiles code, or [tool.release] backend = "build" if it is pure Python; '
            "then run init again.",
        )
    if not compiles:
        return Native("build", f"{why}, and no native build tool configured", "")
    selectors = _cibuildwheel_selectors(package)
    if selectors is None:
        setup_requires = None
        if (root / "setup.py").is_file() and "project" not in package.raw:
            setup_requires = read_setup_py(root / "setup.py").python_requires
        selectors = f"no selectors: {python_versions(package, setup_requires)}"
        in_workflow = _workflow_selectors(workflows)
        if in_workflow is not None:
            selectors += (
                f"; the old workflow's {in_workflow} applies only if moved to "
                f"[tool.cibuildwheel] in {shown}"
            )
    return Native("cibuildwheel", why, f"cibuildwheel's build identifiers ({selectors})")
