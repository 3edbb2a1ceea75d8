"""Whether an sdist of the package dir can hold everything its build reads: what a CMake
build or a Rust crate reaches outside of what the sdist packs.

What each backend packs, and so what is truly lost:
- scikit-build-core (and setuptools) pack the package dir; ``sdist.include`` patterns are
  relative to it, so no option brings in a file above it.
- maturin packs the crate of ``manifest-path`` and every path dependency, wherever they lie,
  with the workspace's Cargo.toml and Cargo.lock; its ``include`` refuses ``..``. What it
  loses is a file a crate reads from outside every packed crate: ``include_str!`` (and
  ``include_bytes!``, ``include!``) of a path above it, or a build script's ``../`` sources.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..project.toml import read_toml

# A CMake path argument that climbs: `../src`, `${CMAKE_CURRENT_SOURCE_DIR}/../..`.
_CMAKE_PATH = re.compile(
    r"""(?<![\w.$/}])(?P<path>(?:\$\{(?P<var>CMAKE_CURRENT_SOURCE_DIR|CMAKE_CURRENT_LIST_DIR|"""
    r"""PROJECT_SOURCE_DIR|CMAKE_SOURCE_DIR)\}/)?\.\.(?:[/\\][^\s"()]*)?)(?=[\s")]|$)"""
)
_CMAKE_COMMENT = re.compile(r"#.*$", re.MULTILINE)
# Rust: a file read into the crate at compile time.
_RUST_INCLUDE = re.compile(r"""\binclude(?:_str|_bytes)?!\s*\(\s*"(?P<path>[^"]+)"\s*\)""")
# A build script's string literal that climbs out of its crate: a source it compiles
# ("../../src/gmp.c"), or one it watches ("cargo:rerun-if-changed=../../src/gmp.c").
_BUILD_SCRIPT_PATH = re.compile(r""""(?:[\w:-]+=)?(?P<path>(?:\.\./)+[^"]*)\"""")


def _inside(path: Path, directories: list[Path]) -> bool:
    return any(path == d or d in path.parents for d in directories)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def cmake_reaches_outside(cmake_dir: Path, package_dir: Path, root: Path) -> str | None:
    """What ``cmake_dir``/CMakeLists.txt reads from outside ``package_dir``, as said in the
    config's reason; None when it reads nothing outside (or there is no CMakeLists.txt)."""
    cmake = cmake_dir / "CMakeLists.txt"
    try:
        text = _CMAKE_COMMENT.sub("", cmake.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    for match in _CMAKE_PATH.finditer(text):
        written = match["path"]
        relative = written.split("}/", 1)[1] if match["var"] else written
        # CMAKE_SOURCE_DIR and PROJECT_SOURCE_DIR are this file's dir when it is the top one.
        target = (cmake_dir / relative.replace("\\", "/")).resolve()
        if not _inside(target, [package_dir.resolve()]):
            return (
                f"{_shown(cmake, root)} builds from {written} ({_shown(target, root) or '.'}), "
                f"outside {_shown(package_dir, root) or '.'}"
            )
    return None


def _path_dependencies(manifest: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(name, spec) of the normal and build dependencies, target-specific ones included."""
    tables = [manifest]
    target = manifest.get("target")
    if isinstance(target, dict):
        tables += [t for t in target.values() if isinstance(t, dict)]
    for table in tables:
        for kind in ("dependencies", "build-dependencies"):
            deps = table.get(kind)
            if isinstance(deps, dict):
                yield from deps.items()


def _workspace_manifest(crate: Path, root: Path) -> tuple[Path, dict[str, Any]] | None:
    directory = crate.parent
    while True:
        candidate = directory / "Cargo.toml"
        if candidate.is_file():
            try:
                data = read_toml(candidate)
            except ConfigError:
                return None
            if isinstance(data.get("workspace"), dict):
                return candidate, data
        if directory == root or root not in directory.parents:
            return None
        directory = directory.parent


def packed_crates(manifest: Path, root: Path) -> list[Path]:
    """The crate dirs maturin's sdist packs: the crate of ``manifest`` and its path
    dependencies, transitively (a ``workspace = true`` one through the workspace's table)."""
    workspace = _workspace_manifest(manifest, root)
    shared: dict[str, Any] = {}
    if workspace is not None:
        table = workspace[1]["workspace"].get("dependencies")
        shared = table if isinstance(table, dict) else {}
    crates: list[Path] = []
    pending = [manifest.resolve()]
    while pending:
        current = pending.pop()
        if current.parent in crates or not current.is_file():
            continue
        crates.append(current.parent)
        try:
            data = read_toml(current)
        except ConfigError:
            continue
        for name, written in _path_dependencies(data):
            spec, base = written, current.parent
            if isinstance(written, dict) and written.get("workspace") is True and workspace:
                spec, base = shared.get(name), workspace[0].parent
            if isinstance(spec, dict) and isinstance(spec.get("path"), str):
                pending.append((base / spec["path"] / "Cargo.toml").resolve())
    return crates


def crate_reaches_outside(manifest: Path, root: Path) -> str | None:
    """A file the crate of ``manifest`` (or a path dependency) reads from outside every crate
    maturin packs, as said in the config's reason; None when there is none."""
    crates = packed_crates(manifest, root)
    for crate in crates:
        for source in sorted(crate.rglob("*.rs")):
            if "target" in source.relative_to(crate).parts:
                continue
            try:
                text = source.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            found = [(m["path"], source.parent) for m in _RUST_INCLUDE.finditer(text)]
            if source.name == "build.rs" and source.parent == crate:
                # A build script runs in its crate's dir: its relative paths start there.
                found += [(m["path"], crate) for m in _BUILD_SCRIPT_PATH.finditer(text)]
            for written, base in found:
                target = (base / written).resolve()
                if not _inside(target, crates):
                    return (
                        f"{_shown(source, root)} reads {written} ({_shown(target, root)}), "
                        "outside every crate maturin packs into the sdist (its include "
                        "refuses paths with ..)"
                    )
    return None
