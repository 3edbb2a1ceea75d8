"""init reads the package's real source layout (issue 15 item 8): a CMake build or a Rust
crate that reads files from outside what the sdist packs gets ``sdist = false``, with the
reason in the config and in init's summary; what the backend does pack (maturin's path
dependencies outside the package dir) keeps the sdist.

Each case is a fixture of tests/repos.py with one file changed, as the real projects vary.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import repos
from conftest import REPO

from release.config import read_toml

# cmake-bindings without scikit-build-core's cmake.source-dir: the package dir has its own
# CMakeLists.txt, which pulls the library from the repository root.
_BINDINGS_CMAKE = """\
cmake_minimum_required(VERSION 3.18)
project(ringbuf_python LANGUAGES CXX)

# The C++ core is the repository itself.
{reach}

find_package(Python COMPONENTS Interpreter Development.Module REQUIRED)
python_add_library(_ringbuf MODULE WITH_SOABI csrc/module.cpp {source})
target_include_directories(_ringbuf PRIVATE {include})
install(TARGETS _ringbuf DESTINATION ringbuf)
"""


def _cmake_variant(reach: str, source: str, include: str) -> dict[str, str]:
    fixture = repos.by_name("cmake-bindings")
    pyproject = fixture.files["bindings/python/pyproject.toml"]
    pyproject = pyproject.replace('cmake.source-dir = "../.."\n', "")
    return {
        **fixture.files,
        "bindings/python/pyproject.toml": pyproject,
        "bindings/python/CMakeLists.txt": _BINDINGS_CMAKE.format(
            reach=reach, source=source, include=include
        ),
    }


def _crate_variant(path: str, text: str, extra: dict[str, str]) -> dict[str, str]:
    fixture = repos.by_name("gmp-workspace")
    return {**fixture.files, path: text, **extra}


_CORE_LIB = "crates/bigcount-core/src/lib.rs"


def adopt(name: str, files: dict[str, str], tmp_path: Path) -> tuple[dict[str, object], str, str]:
    """The fixture ``name`` with ``files``, adopted: its [tool.release], its pyproject.toml's
    text and init's output."""
    fixture = dataclasses.replace(repos.by_name(name), files=files)
    root = repos.make(fixture, tmp_path / name)
    done = subprocess.run(
        [sys.executable, "-m", "release", "init", "--project", str(root), "--from", str(REPO),
         "--force"],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = (root / "pyproject.toml").read_text()
    return read_toml(root / "pyproject.toml")["tool"]["release"], text, done.stdout


CASES = {
    "cmake-add-subdirectory-of-the-root": (
        "cmake-bindings",
        _cmake_variant("add_subdirectory(../.. ringbuf_core)", "", "../../include"),
        "bindings/python/CMakeLists.txt builds from ../.. (.), outside bindings/python",
    ),
    "cmake-source-above-the-current-dir": (
        "cmake-bindings",
        _cmake_variant(
            "# (the core's one file, compiled into the extension)",
            "${CMAKE_CURRENT_SOURCE_DIR}/../../src/ringbuf.cpp",
            "${CMAKE_CURRENT_SOURCE_DIR}/include",
        ),
        "bindings/python/CMakeLists.txt builds from ${CMAKE_CURRENT_SOURCE_DIR}/../../src/"
        "ringbuf.cpp (src/ringbuf.cpp), outside bindings/python",
    ),
    "crate-include-str-above-every-crate": (
        "gmp-workspace",
        _crate_variant(
            _CORE_LIB,
            repos.by_name("gmp-workspace").files[_CORE_LIB]
            + '\n/// The words counted.\npub const WORDS: &str = include_str!("../../../data/'
            'words.txt");\n',
            {"data/words.txt": "one two three\n"},
        ),
        "crates/bigcount-core/src/lib.rs reads ../../../data/words.txt (data/words.txt), "
        "outside every crate maturin packs into the sdist",
    ),
    "crate-build-script-source-above-every-crate": (
        "gmp-workspace",
        _crate_variant(
            "crates/bigcount-core/build.rs",
            'fn main() {\n    cc::Build::new().file("../../vendor/fast.c").compile("fast");\n}\n',
            {"vendor/fast.c": "int fast(void) { return 1; }\n"},
        ),
        "crates/bigcount-core/build.rs reads ../../vendor/fast.c (vendor/fast.c), outside "
        "every crate maturin packs",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_build_that_reads_outside_what_the_sdist_packs_ships_no_sdist(
    case: str, tmp_path: Path
) -> None:
    name, files, reason = CASES[case]
    table, text, output = adopt(name, files, tmp_path)
    assert table["sdist"] is False
    comment = " ".join(
        line.removeprefix("# ") for line in text.splitlines() if line.startswith("# ")
    )
    assert f"No sdist: {reason}" in comment
    assert "so the wheels are built from the checkout" in comment
    assert f"sdist: no, {reason}" in output


# What maturin packs itself, wherever it lies: the sdist stays.
KEPT = {
    # A path dependency outside the package dir, in the workspace (the fixture as it is).
    "path-dependency-outside-the-package-dir": repos.by_name("gmp-workspace").files,
    # include_str! of a file of its own crate, above its src/.
    "include-str-inside-its-crate": _crate_variant(
        _CORE_LIB,
        repos.by_name("gmp-workspace").files[_CORE_LIB]
        + '\npub const WORDS: &str = include_str!("../words.txt");\n',
        {"crates/bigcount-core/words.txt": "one two\n"},
    ),
}


@pytest.mark.parametrize("case", list(KEPT))
def test_what_maturin_packs_keeps_the_sdist(case: str, tmp_path: Path) -> None:
    table, _, output = adopt("gmp-workspace", KEPT[case], tmp_path)
    assert table["sdist"] is True
    assert "sdist: yes" in output
