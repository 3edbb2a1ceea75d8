"""Fixture repositories: the shapes of real native projects that adopt nox-release (issue 15),
written in our own words, each with the answer init should give on it.

Every shape is a ``Fixture``: its files, its git history (default branch, tags, ``origin``),
and ``Expected``: the ``[tool.release]`` init should write, field by field, the version it
should read, which workflows are the project's own (their bytes must survive init, with or
without ``--force``) and which one is the old publisher (the one workflow init may take over).

``make(fixture, directory)`` writes a shape into ``directory`` and makes it a git repository
with one commit. Each package is small but builds with its own backend where this machine
has the compiler (Rust through maturin or setuptools-rust, C and C++ through setuptools,
scikit-build-core and meson-python).
"""

from __future__ import annotations

import os
import subprocess
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

LOCKS = Path(__file__).parent / "repo_locks"


class _Absent:
    """The key must not be written: its default (or what the backend derives) is right."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()


def written(table: dict[str, Any] | None, key: str) -> Any:
    """The value of a dotted ``[tool.release]`` key as init wrote it; ``ABSENT`` when not.
    ``wheels`` is the pair (linux, windows)."""
    if table is None:
        return ABSENT
    if key == "wheels":
        wheels = table.get("wheels")
        if not isinstance(wheels, dict):
            return ABSENT
        return (tuple(wheels.get("linux", ())), tuple(wheels.get("windows", ())))
    value: Any = table
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return ABSENT
        value = value[part]
    return value


# The fields every fixture's answer names, as dotted [tool.release] keys. "version" is not a
# key: it is the version init reports reading (statically, item 16).
FIELDS = (
    "backend",
    "package-dir",
    "sdist",
    "tag-pattern",
    "linux.manylinux",
    "linux.apt-packages",
    "windows.target",
    "windows.msys2-packages",
    "wheels",
    "publish.workflow",
    "publish.environment",
    "before-build",
    "version",
)


@dataclass(frozen=True)
class Expected:
    """What adopting nox-release should make of a fixture (issue 15 items 1-21)."""

    backend: str
    package_dir: str
    sdist: bool
    tag_pattern: str
    version: str  # read statically: what init should report, not "computed at build time"
    publish_workflow: str
    publish_environment: str
    manylinux: str | None = "2014"  # None: a pure package, the floor does not apply
    apt_packages: tuple[str, ...] = ()
    windows_target: str | None = None  # maturin only
    msys2_packages: tuple[str, ...] = ()
    # None: derived by the backend (abi3, cibuildwheel's identifiers), no [tool.release.wheels];
    # else the table's (linux, windows) entries.
    wheels: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    # The project's own workflows: init must leave their bytes as they were.
    foreign_workflows: tuple[str, ...] = ()
    # The workflow that publishes this package today: the one init may take over.
    old_publisher: str | None = None
    # What the project runs before building (item 18), as [tool.release] before-build.
    before_build: tuple[str, ...] = ()
    # maturin + PyO3 before 0.29 without generate-import-lib: the Cargo.toml line that adds it,
    # which a Windows wheel cross-compiled on Linux needs (init and check give it then, item 11).
    # PyO3 0.29 and later link python3.dll by raw-dylib and need no import library.
    windows_import_lib: str | None = None

    def fields(self) -> dict[str, object]:
        """The answer per field of ``FIELDS``; ABSENT where the key must stay unwritten."""
        return {
            "backend": self.backend,
            "package-dir": self.package_dir,
            "sdist": self.sdist,
            "tag-pattern": self.tag_pattern,
            "linux.manylinux": ABSENT if self.manylinux is None else self.manylinux,
            "linux.apt-packages": self.apt_packages,
            "windows.target": ABSENT if self.windows_target is None else self.windows_target,
            "windows.msys2-packages": self.msys2_packages,
            "wheels": ABSENT if self.wheels is None else self.wheels,
            "publish.workflow": self.publish_workflow,
            "publish.environment": self.publish_environment,
            "before-build": self.before_build,
            "version": self.version,
        }


@dataclass(frozen=True)
class Fixture:
    name: str
    shape: str  # the real shape it stands for, in one line
    owner: str
    repository: str
    branch: str
    tags: tuple[str, ...]
    files: dict[str, str]
    expected: Expected
    submodules: tuple[tuple[str, str], ...] = ()  # (path, url), declared in .gitmodules only
    locks: dict[str, str] = field(default_factory=dict)  # path in repo -> file in repo_locks/
    # What a dry run here needs beyond this checkout's venv; "" when nothing.
    dry_run_needs: str = ""
    # Python that imports the built package and uses its compiled code.
    smoke: str = ""

    @property
    def remote(self) -> str:
        return f"https://github.com/{self.owner}/{self.repository}.git"


def _d(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# --- pieces several shapes share ------------------------------------------------------------

_PYO3_MODULE = _d("""
    use pyo3::prelude::*;

    /// Sum of the decimal digits of n.
    #[pyfunction]
    fn digit_sum(n: u64) -> u64 {
        let mut rest = n;
        let mut total = 0;
        while rest > 0 {
            total += rest % 10;
            rest /= 10;
        }
        total
    }

    #[pymodule]
    fn {module}(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add_function(wrap_pyfunction!(digit_sum, m)?)?;
        Ok(())
    }
""")

_C_EXTENSION = _d("""
    #define PY_SSIZE_T_CLEAN
    #include <Python.h>

    /* Count the bytes of a bytes object equal to a given value. */
    static PyObject *count_byte(PyObject *self, PyObject *args) {
        Py_buffer data;
        int wanted;
        if (!PyArg_ParseTuple(args, "y*i", &data, &wanted)) {
            return NULL;
        }
        Py_ssize_t found = 0;
        const unsigned char *bytes = data.buf;
        for (Py_ssize_t i = 0; i < data.len; i++) {
            found += bytes[i] == (unsigned char)wanted;
        }
        PyBuffer_Release(&data);
        return PyLong_FromSsize_t(found);
    }

    static PyMethodDef methods[] = {
        {"count_byte", count_byte, METH_VARARGS, "Count one byte value in a bytes object."},
        {NULL, NULL, 0, NULL},
    };

    static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "{module}", NULL, -1, methods};

    PyMODINIT_FUNC PyInit_{module}(void) { return PyModule_Create(&module); }
""")


def _c_extension(module: str) -> str:
    return _C_EXTENSION.replace("{module}", module)


def _pyo3_module(module: str) -> str:
    return _PYO3_MODULE.replace("{module}", module)


# --- 1. Cargo workspace, maturin in crates/<name>-python, GMP through a -sys crate ------------

BIGCOUNT = Fixture(
    name="gmp-workspace",
    smoke="import bigcount; assert bigcount.multiples(10, 5) == 2",
    shape="Cargo workspace, maturin package in crates/bigcount-python, gmp-mpfr-sys in "
    "Cargo.lock, an old maturin-action publisher (linux/windows/macos, gmp-devel, MSYS2 gmp, "
    "trusted publishing), its own ci.yml with cargo test, pytest and coverage",
    owner="lattice-lab",
    repository="bigcount",
    branch="main",
    tags=("v0.3.0", "v0.4.0"),
    locks={"Cargo.lock": "bigcount.Cargo.lock"},
    dry_run_needs="m4 (apt) for the GMP build the configuration asks for",
    files={
        "Cargo.toml": _d("""
            [workspace]
            members = ["crates/bigcount-core", "crates/bigcount-python"]
            resolver = "2"

            [workspace.package]
            version = "0.4.0"
            edition = "2021"
        """),
        "crates/bigcount-core/Cargo.toml": _d("""
            [package]
            name = "bigcount-core"
            version.workspace = true
            edition.workspace = true

            [features]
            # Arbitrary precision through GMP; the wheels build without it until the counting
            # code needs numbers beyond u64.
            gmp = ["dep:gmp-mpfr-sys"]

            [dependencies]
            gmp-mpfr-sys = { version = "1.6", default-features = false, optional = true }
        """),
        "crates/bigcount-core/src/lib.rs": _d("""
            //! Counting helpers shared by the Python bindings and the command line.

            #[cfg(feature = "gmp")]
            pub use gmp_mpfr_sys::gmp;

            /// How many of the numbers up to n are divisible by d.
            pub fn multiples(n: u64, d: u64) -> u64 {
                if d == 0 { 0 } else { n / d }
            }

            #[cfg(test)]
            mod tests {
                #[test]
                fn counts_multiples() {
                    assert_eq!(super::multiples(10, 3), 3);
                }
            }
        """),
        "crates/bigcount-python/Cargo.toml": _d("""
            [package]
            name = "bigcount-python"
            version.workspace = true
            edition.workspace = true
            publish = false

            [lib]
            name = "_bigcount"
            crate-type = ["cdylib"]

            [dependencies]
            bigcount-core = { path = "../bigcount-core" }
            pyo3 = { version = "0.30.1", features = ["abi3-py39"] }
        """),
        "crates/bigcount-python/src/lib.rs": _d("""
            use pyo3::prelude::*;

            /// How many of the numbers up to n are divisible by d.
            #[pyfunction]
            fn multiples(n: u64, d: u64) -> u64 {
                bigcount_core::multiples(n, d)
            }

            #[pymodule]
            fn _bigcount(m: &Bound<'_, PyModule>) -> PyResult<()> {
                m.add_function(wrap_pyfunction!(multiples, m)?)?;
                Ok(())
            }
        """),
        "crates/bigcount-python/pyproject.toml": _d("""
            [build-system]
            requires = ["maturin>=1.5,<2"]
            build-backend = "maturin"

            [project]
            name = "bigcount"
            dynamic = ["version"]
            description = "Count multiples, fast."
            readme = "README.md"
            requires-python = ">=3.9"

            [tool.maturin]
            module-name = "bigcount._bigcount"
            python-source = "python"
        """),
        "crates/bigcount-python/README.md": "# bigcount\n\nCount multiples from Python.\n",
        "crates/bigcount-python/python/bigcount/__init__.py": _d("""
            from bigcount._bigcount import multiples

            __all__ = ["multiples"]
        """),
        "crates/bigcount-python/tests/test_bigcount.py": _d("""
            import bigcount


            def test_multiples():
                assert bigcount.multiples(10, 5) == 2
        """),
        ".gitignore": "target/\ndist/\n",
        ".github/workflows/wheels.yml": _d("""
            name: wheels

            on:
              push:
                tags: ["v*"]

            jobs:
              linux:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: PyO3/maturin-action@v1
                    with:
                      working-directory: crates/bigcount-python
                      target: x86_64
                      manylinux: "2014"
                      args: --release --out dist
                      before-script-linux: |
                        yum install -y gmp-devel
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-linux
                      path: crates/bigcount-python/dist

              windows:
                runs-on: windows-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: msys2/setup-msys2@v2
                    with:
                      msystem: MINGW64
                      path-type: inherit
                      install: mingw-w64-x86_64-gmp
                  - uses: PyO3/maturin-action@v1
                    with:
                      working-directory: crates/bigcount-python
                      target: x86_64-pc-windows-gnu
                      args: --release --out dist
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-windows
                      path: crates/bigcount-python/dist

              macos:
                runs-on: macos-14
                steps:
                  - uses: actions/checkout@v4
                  - run: brew install gmp
                  - uses: PyO3/maturin-action@v1
                    with:
                      working-directory: crates/bigcount-python
                      target: aarch64
                      args: --release --out dist
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-macos
                      path: crates/bigcount-python/dist

              sdist:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: PyO3/maturin-action@v1
                    with:
                      working-directory: crates/bigcount-python
                      command: sdist
                      args: --out dist
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-sdist
                      path: crates/bigcount-python/dist

              publish:
                needs: [linux, windows, macos, sdist]
                runs-on: ubuntu-latest
                environment: pypi
                permissions:
                  id-token: write
                steps:
                  - uses: actions/download-artifact@v4
                    with:
                      pattern: wheels-*
                      merge-multiple: true
                      path: dist
                  - uses: pypa/gh-action-pypi-publish@release/v1
        """),
        ".github/workflows/ci.yml": _d("""
            name: ci

            on:
              push:
                branches: [main]
              pull_request:

            jobs:
              rust:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - run: sudo apt-get install -y m4
                  - run: cargo test --workspace --all-features

              python:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: actions/setup-python@v5
                    with:
                      python-version: "3.12"
                  - run: pip install maturin pytest coverage
                  - run: maturin build -m crates/bigcount-python/Cargo.toml --out wheels
                  - run: pip install wheels/*.whl
                  - run: coverage run -m pytest crates/bigcount-python/tests
                  - run: coverage report
        """),
    },
    expected=Expected(
        backend="maturin",
        package_dir="crates/bigcount-python",
        sdist=True,
        tag_pattern="v{version}",
        version="0.4.0",
        manylinux="2014",
        # m4 for gmp-mpfr-sys (Cargo.lock); libgmp-dev for the old workflow's gmp-devel.
        apt_packages=("libgmp-dev", "m4"),
        # The project needs MSYS2's GMP: MinGW it is.
        windows_target="x86_64-pc-windows-gnu",
        msys2_packages=("mingw-w64-x86_64-gmp",),
        publish_workflow="wheels.yml",
        publish_environment="pypi",
        foreign_workflows=(".github/workflows/ci.yml",),
        old_publisher=".github/workflows/wheels.yml",
    ),
)


# --- 2. C++/CMake with scikit-build-core and cibuildwheel in bindings/python ------------------

_CPP_MATRIX_JOBS = "\n".join(
    f"""
  {os_}-{compiler}-{build_type.lower()}:
    runs-on: {runner}
    steps:
      - uses: actions/checkout@v4
      - name: configure
        run: cmake -S . -B build -DCMAKE_BUILD_TYPE={build_type} -DCMAKE_CXX_COMPILER={compiler}
      - name: build
        run: cmake --build build --parallel
      - name: test
        run: ctest --test-dir build --output-on-failure"""
    for os_, runner in (("linux", "ubuntu-latest"), ("macos", "macos-14"))
    for compiler in ("g++", "clang++")
    for build_type in ("Debug", "Release", "RelWithDebInfo")
)

RINGBUF = Fixture(
    name="cmake-bindings",
    smoke="import ringbuf; assert ringbuf.tail_mean([1.0, 2.0, 3.0, 4.0], 2) == 3.5",
    shape="C++/CMake library, scikit-build-core + cibuildwheel in bindings/python with "
    "cmake.source-dir = ../.., manylinux_2_28, publish-python.yml with an environment, "
    "default branch master, a long C++ test matrix in ci.yml",
    owner="signal-lab",
    repository="ringbuf",
    branch="master",
    tags=("v2.0.0", "v2.1.0"),
    dry_run_needs="a container engine, or python3.12 for a host build",
    files={
        "CMakeLists.txt": _d("""
            cmake_minimum_required(VERSION 3.18)
            project(ringbuf VERSION 2.1.0 LANGUAGES CXX)

            set(CMAKE_CXX_STANDARD 17)
            set(CMAKE_CXX_STANDARD_REQUIRED ON)

            add_library(ringbuf_core STATIC src/ringbuf.cpp)
            target_include_directories(ringbuf_core PUBLIC include)
            set_target_properties(ringbuf_core PROPERTIES POSITION_INDEPENDENT_CODE ON)

            if(SKBUILD)
              # The Python extension, built by scikit-build-core from bindings/python.
              find_package(Python COMPONENTS Interpreter Development.Module REQUIRED)
              python_add_library(_ringbuf MODULE WITH_SOABI bindings/python/csrc/module.cpp)
              target_link_libraries(_ringbuf PRIVATE ringbuf_core)
              install(TARGETS _ringbuf DESTINATION ringbuf)
            else()
              enable_testing()
              add_executable(ringbuf_test tests/ringbuf_test.cpp)
              target_link_libraries(ringbuf_test PRIVATE ringbuf_core)
              add_test(NAME ringbuf_test COMMAND ringbuf_test)
            endif()
        """),
        "include/ringbuf/ringbuf.hpp": _d("""
            #pragma once
            #include <cstddef>

            namespace ringbuf {
            // The mean of the last `window` values of `values` (all of them when fewer).
            double tail_mean(const double *values, std::size_t count, std::size_t window);
            }
        """),
        "src/ringbuf.cpp": _d("""
            #include "ringbuf/ringbuf.hpp"

            namespace ringbuf {
            double tail_mean(const double *values, std::size_t count, std::size_t window) {
                if (count == 0 || window == 0) return 0.0;
                std::size_t start = count > window ? count - window : 0;
                double total = 0.0;
                for (std::size_t i = start; i < count; ++i) total += values[i];
                return total / static_cast<double>(count - start);
            }
            }
        """),
        "tests/ringbuf_test.cpp": _d("""
            #include "ringbuf/ringbuf.hpp"
            #include <cstdlib>

            int main() {
                const double values[] = {1.0, 2.0, 3.0, 4.0};
                return ringbuf::tail_mean(values, 4, 2) == 3.5 ? EXIT_SUCCESS : EXIT_FAILURE;
            }
        """),
        "bindings/python/pyproject.toml": _d("""
            [build-system]
            requires = ["scikit-build-core>=0.10"]
            build-backend = "scikit_build_core.build"

            [project]
            # Not "ringbuf": PyPI has a project of that name with a 2.1.0 of its own, and
            # the dry run rightly refuses to publish a version that is already there.
            name = "tailring"
            version = "2.1.0"
            description = "Windowed means over a ring buffer (C++ core)."
            requires-python = ">=3.9"

            [tool.scikit-build]
            # The C++ library is the repository itself: build from its root CMakeLists.txt.
            cmake.source-dir = "../.."
            wheel.packages = ["src/ringbuf"]

            [tool.cibuildwheel]
            build = ["cp312-manylinux_x86_64", "cp312-win_amd64"]
            manylinux-x86_64-image = "manylinux_2_28"
            test-command = 'python -c "import ringbuf; assert ringbuf.tail_mean([1.0, 3.0], 1)"'
        """),
        "bindings/python/src/ringbuf/__init__.py": _d("""
            from ringbuf._ringbuf import tail_mean

            __all__ = ["tail_mean"]
        """),
        "bindings/python/csrc/module.cpp": _d("""
            #define PY_SSIZE_T_CLEAN
            #include <Python.h>
            #include <vector>
            #include "ringbuf/ringbuf.hpp"

            static PyObject *tail_mean(PyObject *, PyObject *args) {
                PyObject *sequence;
                Py_ssize_t window;
                if (!PyArg_ParseTuple(args, "On", &sequence, &window)) return nullptr;
                PyObject *fast = PySequence_Fast(sequence, "expected a sequence of floats");
                if (fast == nullptr) return nullptr;
                std::vector<double> values;
                for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast); ++i) {
                    values.push_back(PyFloat_AsDouble(PySequence_Fast_GET_ITEM(fast, i)));
                }
                Py_DECREF(fast);
                if (PyErr_Occurred()) return nullptr;
                return PyFloat_FromDouble(
                    ringbuf::tail_mean(values.data(), values.size(), static_cast<size_t>(window)));
            }

            static PyMethodDef methods[] = {
                {"tail_mean", tail_mean, METH_VARARGS, "Mean of the last `window` values."},
                {nullptr, nullptr, 0, nullptr},
            };

            static PyModuleDef module = {PyModuleDef_HEAD_INIT, "_ringbuf", nullptr, -1, methods};

            PyMODINIT_FUNC PyInit__ringbuf(void) { return PyModule_Create(&module); }
        """),
        ".github/workflows/publish-python.yml": _d("""
            name: publish-python

            on:
              push:
                tags: ["v*"]

            jobs:
              wheels:
                strategy:
                  matrix:
                    os: [ubuntu-latest, windows-latest]
                runs-on: ${{ matrix.os }}
                steps:
                  - uses: actions/checkout@v4
                  - uses: pypa/cibuildwheel@v2.21
                    with:
                      package-dir: bindings/python
                      output-dir: wheelhouse
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-${{ matrix.os }}
                      path: wheelhouse/*.whl

              upload:
                needs: wheels
                runs-on: ubuntu-latest
                environment:
                  name: publish
                  url: https://pypi.org/p/tailring
                permissions:
                  id-token: write
                steps:
                  - uses: actions/download-artifact@v4
                    with:
                      pattern: wheels-*
                      merge-multiple: true
                      path: dist
                  - uses: pypa/gh-action-pypi-publish@release/v1
        """),
        ".github/workflows/ci.yml": "name: ci\n\non:\n  push:\n    branches: [master]\n"
        "  pull_request:\n\njobs:" + _CPP_MATRIX_JOBS + "\n",
    },
    expected=Expected(
        backend="cibuildwheel",
        package_dir="bindings/python",
        # cmake.source-dir = "../..": an sdist of bindings/python holds no C++ sources.
        sdist=False,
        tag_pattern="v{version}",
        version="2.1.0",
        manylinux="2_28",
        publish_workflow="publish-python.yml",
        publish_environment="publish",
        foreign_workflows=(".github/workflows/ci.yml",),
        old_publisher=".github/workflows/publish-python.yml",
    ),
)


# --- 3. a setuptools C extension (setup.py ext_modules, a [project] table) --------------------

CHECKSUM8 = Fixture(
    name="setuptools-c",
    smoke="import checksum8; assert checksum8.count_byte(b'abca', 97) == 2",
    shape="setuptools C extension: setup.py ext_modules, a [project] table, its own tests.yml",
    owner="byteworks",
    repository="checksum8",
    branch="main",
    tags=("v1.2.0", "v1.3.0"),
    dry_run_needs="a C compiler",
    files={
        "pyproject.toml": _d("""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "checksum8"
            version = "1.3.0"
            description = "Byte counting in C."
            requires-python = ">=3.9"

            [tool.setuptools.packages.find]
            where = ["src"]
        """),
        "setup.py": _d("""
            from setuptools import Extension, setup

            setup(ext_modules=[Extension("checksum8._native", ["src/checksum8/_native.c"])])
        """),
        "src/checksum8/__init__.py": _d("""
            from checksum8._native import count_byte

            __all__ = ["count_byte"]
        """),
        "src/checksum8/_native.c": _c_extension("_native"),
        "tests/test_checksum8.py": _d("""
            import checksum8


            def test_count_byte():
                assert checksum8.count_byte(b"abca", ord("a")) == 2
        """),
        ".github/workflows/tests.yml": _d("""
            name: tests
            on: [push, pull_request]
            jobs:
              test:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: actions/setup-python@v5
                    with:
                      python-version: "3.12"
                  - run: pip install . pytest
                  - run: pytest tests
        """),
    },
    expected=Expected(
        backend="cibuildwheel",
        package_dir=".",
        sdist=True,
        tag_pattern="v{version}",
        version="1.3.0",
        publish_workflow="release.yml",
        publish_environment="pypi",
        foreign_workflows=(".github/workflows/tests.yml",),
    ),
)


# --- 4. a PyO3 crate at the root without generate-import-lib (abi3) ----------------------------

ROWHASH = Fixture(
    name="pyo3-no-import-lib",
    smoke="import rowhash; assert rowhash.digit_sum(123) == 6",
    shape="PyO3 0.23 abi3 crate at the root without generate-import-lib; MSVC wheels from a "
    "maturin-action release.yml that uploads with maturin (trusted publishing)",
    owner="quillworks",
    repository="rowhash",
    branch="main",
    tags=("v0.9.0", "v1.0.0"),
    locks={"Cargo.lock": "rowhash.Cargo.lock"},
    files={
        "Cargo.toml": _d("""
            [package]
            name = "rowhash"
            version = "1.0.0"
            edition = "2021"

            [lib]
            name = "rowhash"
            crate-type = ["cdylib"]

            [dependencies]
            pyo3 = { version = "0.23.5", features = ["extension-module", "abi3-py38"] }
        """),
        "src/lib.rs": _pyo3_module("rowhash"),
        "pyproject.toml": _d("""
            [build-system]
            requires = ["maturin>=1.4,<2"]
            build-backend = "maturin"

            [project]
            name = "rowhash"
            dynamic = ["version"]
            requires-python = ">=3.8"
        """),
        ".gitignore": "target/\n",
        ".github/workflows/release.yml": _d("""
            name: release

            on:
              push:
                tags: ["v*"]

            jobs:
              build:
                strategy:
                  matrix:
                    include:
                      - os: ubuntu-latest
                        target: x86_64
                      - os: windows-latest
                        target: x64
                      - os: macos-14
                        target: aarch64
                runs-on: ${{ matrix.os }}
                steps:
                  - uses: actions/checkout@v4
                  - uses: PyO3/maturin-action@v1
                    with:
                      target: ${{ matrix.target }}
                      manylinux: auto
                      args: --release --out dist
                  - uses: actions/upload-artifact@v4
                    with:
                      name: dist-${{ matrix.os }}
                      path: dist

              upload:
                needs: build
                runs-on: ubuntu-latest
                environment: pypi
                permissions:
                  id-token: write
                steps:
                  - uses: actions/download-artifact@v4
                    with:
                      pattern: dist-*
                      merge-multiple: true
                      path: dist
                  - uses: PyO3/maturin-action@v1
                    with:
                      command: upload
                      args: --non-interactive --skip-existing dist/*
        """),
    },
    expected=Expected(
        backend="maturin",
        package_dir=".",
        sdist=True,
        tag_pattern="v{version}",
        version="1.0.0",
        # It ships MSVC wheels and needs no MSYS2 library: it keeps MSVC (item 14).
        windows_target="x86_64-pc-windows-msvc",
        publish_workflow="release.yml",
        publish_environment="pypi",
        old_publisher=".github/workflows/release.yml",
        windows_import_lib='pyo3 = { version = "0.23.5", features = ["extension-module", '
        '"abi3-py38", "generate-import-lib"] }',
    ),
)


# --- 5. its own ci.yml and docs.yml full of zizmor findings, and a twine publisher -------------

LEDGERFMT = Fixture(
    name="zizmor-findings",
    smoke="import ledgerfmt; assert ledgerfmt.columns([[1]], 3) == ['1  ']",
    shape="pure package whose ci.yml and docs.yml are full of zizmor findings (unpinned "
    "actions, pull_request_target, template injection), and an old twine-with-a-token publisher",
    owner="counting-house",
    repository="ledgerfmt",
    branch="main",
    tags=("v0.7.1", "v0.7.2"),
    files={
        "pyproject.toml": _d("""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "ledgerfmt"
            version = "0.7.2"
            description = "Format ledger columns."
            requires-python = ">=3.9"
        """),
        "ledgerfmt/__init__.py": _d("""
            def columns(rows, width=12):
                \"\"\"Each row's cells padded to ``width``.\"\"\"
                return ["".join(str(cell).ljust(width) for cell in row) for row in rows]
        """),
        ".github/workflows/ci.yml": _d("""
            name: ci

            on:
              push:
              pull_request_target:
                types: [opened, synchronize]

            jobs:
              test:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@main
                    with:
                      ref: ${{ github.event.pull_request.head.sha }}
                  - uses: actions/setup-python@v5
                  - name: greet
                    run: echo "testing ${{ github.event.pull_request.title }}"
                  - run: pip install . pytest && pytest
              label:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/labeler@v5
                    with:
                      repo-token: ${{ secrets.GITHUB_TOKEN }}
        """),
        ".github/workflows/docs.yml": _d("""
            name: docs

            on:
              push:
                branches: [main]
              pull_request:

            permissions: write-all

            jobs:
              build:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: actions/setup-python@v5
                  - run: echo "building docs for ${{ github.head_ref }}"
                  - run: pip install sphinx && sphinx-build docs site
                  - uses: peaceiris/actions-gh-pages@v4
                    with:
                      github_token: ${{ secrets.GITHUB_TOKEN }}
                      publish_dir: site
        """),
        ".github/workflows/publish.yml": _d("""
            name: publish

            on:
              release:
                types: [published]

            jobs:
              upload:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: actions/setup-python@v5
                    with:
                      python-version: "3.12"
                  - run: pip install build twine
                  - run: python -m build
                  - run: twine upload dist/*
                    env:
                      TWINE_USERNAME: __token__
                      TWINE_PASSWORD: ${{ secrets.PYPI_TOKEN }}
        """),
    },
    expected=Expected(
        backend="build",
        package_dir=".",
        sdist=True,
        tag_pattern="v{version}",
        version="0.7.2",
        manylinux=None,
        wheels=(("py3-none-any",), ()),
        publish_workflow="publish.yml",
        publish_environment="pypi",
        foreign_workflows=(".github/workflows/ci.yml", ".github/workflows/docs.yml"),
        old_publisher=".github/workflows/publish.yml",
    ),
)


# --- 6. the corpus shapes ---------------------------------------------------------------------

SPLITLINE = Fixture(
    name="setuptools-rust",
    smoke="import splitline; assert splitline.digit_sum(123) == 6",
    shape="setuptools-rust extension ([tool.setuptools-rust] ext-modules), [tool.cibuildwheel] "
    "in pyproject.toml, a cibuildwheel publisher wheels.yml",
    owner="textkit",
    repository="splitline",
    branch="main",
    tags=("v0.5.0",),
    locks={"Cargo.lock": "splitline.Cargo.lock"},
    dry_run_needs="python3.10-3.12 for a host build (the cibuildwheel selectors), or a "
    "container engine",
    files={
        "pyproject.toml": _d("""
            [build-system]
            requires = ["setuptools>=68", "setuptools-rust>=1.9"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "splitline"
            version = "0.5.0"
            requires-python = ">=3.10"

            [tool.setuptools]
            packages = ["splitline"]
            package-dir = {"" = "python"}

            [[tool.setuptools-rust.ext-modules]]
            target = "splitline._splitline"
            path = "Cargo.toml"
            binding = "PyO3"

            [tool.cibuildwheel]
            build = "cp310-* cp311-* cp312-*"
            skip = "*-musllinux_* *-win32"
            before-all = "curl -sSf https://sh.rustup.rs | sh -s -- -y"
            environment = { PATH = "$HOME/.cargo/bin:$PATH" }
        """),
        "Cargo.toml": _d("""
            [package]
            name = "splitline"
            version = "0.5.0"
            edition = "2021"

            [lib]
            name = "_splitline"
            crate-type = ["cdylib"]

            [dependencies]
            pyo3 = "0.30.1"
        """),
        "src/lib.rs": _pyo3_module("_splitline"),
        # setuptools-rust puts no Rust sources into the sdist itself: its README's MANIFEST.in.
        "MANIFEST.in": "include Cargo.toml Cargo.lock\nrecursive-include src *\n",
        "python/splitline/__init__.py": _d("""
            from splitline._splitline import digit_sum

            __all__ = ["digit_sum"]
        """),
        ".gitignore": "target/\nbuild/\n",
        ".github/workflows/wheels.yml": _d("""
            name: wheels

            on:
              push:
                tags: ["v*"]

            jobs:
              build:
                strategy:
                  matrix:
                    os: [ubuntu-latest, windows-latest, macos-14]
                runs-on: ${{ matrix.os }}
                steps:
                  - uses: actions/checkout@v4
                  - uses: pypa/cibuildwheel@v2.21
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-${{ matrix.os }}
                      path: wheelhouse/*.whl

              publish:
                needs: build
                runs-on: ubuntu-latest
                environment: pypi
                permissions:
                  id-token: write
                steps:
                  - uses: actions/download-artifact@v4
                    with:
                      pattern: wheels-*
                      merge-multiple: true
                      path: dist
                  - uses: pypa/gh-action-pypi-publish@release/v1
        """),
        ".github/workflows/test.yml": _d("""
            name: test
            on: [push, pull_request]
            jobs:
              test:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: actions/setup-python@v5
                    with:
                      python-version: "3.12"
                  - run: pip install .
                  - run: python -c "import splitline; assert splitline.digit_sum(123) == 6"
        """),
    },
    expected=Expected(
        backend="cibuildwheel",
        package_dir=".",
        sdist=True,
        tag_pattern="v{version}",
        version="0.5.0",
        publish_workflow="wheels.yml",
        publish_environment="pypi",
        foreign_workflows=(".github/workflows/test.yml",),
        old_publisher=".github/workflows/wheels.yml",
    ),
)

FASTBLOOM = Fixture(
    name="cython-bare-tags",
    smoke="import fastbloom; assert fastbloom.popcount(7) == 3",
    shape="Cython extension whose C is generated by `make cython` before building (the old "
    "workflow runs it before cibuildwheel), version by setuptools attr:, tags without a v "
    "(0.9.2), a cibuildwheel publisher build.yml triggered by those tags",
    owner="filterco",
    repository="fastbloom",
    branch="main",
    tags=("0.9.1", "0.9.2"),
    dry_run_needs="a C compiler",
    files={
        "pyproject.toml": _d("""
            [build-system]
            requires = ["setuptools>=68"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "fastbloom"
            dynamic = ["version"]
            requires-python = ">=3.9"

            [tool.setuptools]
            packages = ["fastbloom"]

            [tool.setuptools.dynamic]
            version = {attr = "fastbloom.__version__"}
        """),
        "setup.py": _d("""
            from setuptools import Extension, setup

            # fastbloom/_bits.c is generated from _bits.pyx by `make cython`; the sdist ships it,
            # so building from the sdist needs no Cython.
            setup(ext_modules=[Extension("fastbloom._bits", ["fastbloom/_bits.c"])])
        """),
        "Makefile": _d("""
            cython:
            \tpython -m cython -3 fastbloom/_bits.pyx

            .PHONY: cython
        """),
        # The generated C, which the sdist's build compiles, and its Cython source beside it.
        "MANIFEST.in": "include fastbloom/_bits.c fastbloom/*.pyx\n",
        "fastbloom/__init__.py": _d("""
            __version__ = "0.9.2"

            from fastbloom._bits import popcount

            __all__ = ["popcount"]
        """),
        "fastbloom/_bits.pyx": _d("""
            def popcount(unsigned long long value):
                \"\"\"How many bits of value are set.\"\"\"
                cdef int count = 0
                while value:
                    value &= value - 1
                    count += 1
                return count
        """),
        ".gitignore": "build/\n*.c\n",
        ".github/workflows/build.yml": _d("""
            name: build

            on:
              push:
                tags: ["[0-9]+.[0-9]+.[0-9]+"]

            jobs:
              wheels:
                strategy:
                  matrix:
                    os: [ubuntu-latest, windows-latest]
                runs-on: ${{ matrix.os }}
                steps:
                  - uses: actions/checkout@v4
                  - uses: actions/setup-python@v5
                    with:
                      python-version: "3.12"
                  - name: Generate the C sources
                    run: |
                      python -m pip install --upgrade pip
                      python -m pip install "cython>=3"
                      make cython
                  - uses: pypa/cibuildwheel@v2.21
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-${{ matrix.os }}
                      path: wheelhouse/*.whl

              publish:
                needs: wheels
                runs-on: ubuntu-latest
                environment: pypi
                permissions:
                  id-token: write
                steps:
                  - uses: actions/download-artifact@v4
                    with:
                      pattern: wheels-*
                      merge-multiple: true
                      path: dist
                  - uses: pypa/gh-action-pypi-publish@release/v1
        """),
    },
    expected=Expected(
        backend="cibuildwheel",
        package_dir=".",
        sdist=True,
        tag_pattern="{version}",
        version="0.9.2",
        publish_workflow="build.yml",
        publish_environment="pypi",
        old_publisher=".github/workflows/build.yml",
        before_build=('python -m pip install "cython>=3"', "make cython"),
    ),
)

QUICKSTATS = Fixture(
    name="meson-submodules",
    smoke="import quickstats; assert quickstats.count_byte(b'aa', 97) == 2",
    shape="meson-python C extension, a submodule declared in .gitmodules, its own ci.yml "
    "(tests, submodules checked out), no publisher yet",
    owner="numerics-guild",
    repository="quickstats",
    branch="main",
    tags=("v0.2.0",),
    submodules=(("subprojects/testdata", "https://github.com/numerics-guild/quickstats-data.git"),),
    dry_run_needs="a C compiler",
    files={
        "pyproject.toml": _d("""
            [build-system]
            requires = ["meson-python>=0.15"]
            build-backend = "mesonpy"

            [project]
            # Not "quickstats": PyPI has a quickstats 0.2.0 of its own, and the dry run
            # rightly refuses to publish other files under its names.
            name = "bytetally"
            version = "0.2.0"
            requires-python = ">=3.9"
        """),
        "meson.build": _d("""
            project('quickstats', 'c', version: '0.2.0')

            py = import('python').find_installation(pure: false)

            py.extension_module(
              '_stats',
              'src/quickstats/_stats.c',
              install: true,
              subdir: 'quickstats',
            )
            py.install_sources('src/quickstats/__init__.py', subdir: 'quickstats')
        """),
        "src/quickstats/__init__.py": _d("""
            from quickstats._stats import count_byte

            __all__ = ["count_byte"]
        """),
        "src/quickstats/_stats.c": _c_extension("_stats"),
        ".github/workflows/ci.yml": _d("""
            name: ci
            on:
              push:
                branches: [main]
              pull_request:
            jobs:
              test:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                    with:
                      submodules: recursive
                  - uses: actions/setup-python@v5
                    with:
                      python-version: "3.12"
                  - run: pip install .
                  - run: python -c "import quickstats; assert quickstats.count_byte(b'aa', 97) == 2"
        """),
    },
    expected=Expected(
        backend="cibuildwheel",
        package_dir=".",
        sdist=True,
        tag_pattern="v{version}",
        version="0.2.0",
        publish_workflow="release.yml",
        publish_environment="pypi",
        foreign_workflows=(".github/workflows/ci.yml",),
    ),
)

TERMCOUNT = Fixture(
    name="setup-py-only",
    smoke="import termcount; assert termcount.count_byte(b'aba', 97) == 2",
    shape="setup.py only: no [project] table (pyproject.toml has [build-system] alone), the "
    "version read from termcount/version.py by a regex, a C extension, a tests workflow",
    owner="oldschool-dev",
    repository="termcount",
    branch="main",
    tags=("v3.4.0", "v3.4.1"),
    dry_run_needs="a C compiler",
    files={
        "pyproject.toml": _d("""
            [build-system]
            requires = ["setuptools>=61", "wheel"]
            build-backend = "setuptools.build_meta"
        """),
        "setup.py": _d("""
            import re
            from pathlib import Path

            from setuptools import Extension, setup

            VERSION = re.search(
                r'^__version__ = "([^"]+)"',
                Path(__file__).with_name("termcount").joinpath("version.py").read_text(),
                re.M,
            ).group(1)

            setup(
                name="termcount",
                version=VERSION,
                packages=["termcount"],
                python_requires=">=3.9",
                ext_modules=[Extension("termcount._count", ["termcount/_count.c"])],
            )
        """),
        "termcount/version.py": '__version__ = "3.4.1"\n',
        "termcount/__init__.py": _d("""
            from termcount._count import count_byte
            from termcount.version import __version__

            __all__ = ["__version__", "count_byte"]
        """),
        "termcount/_count.c": _c_extension("_count"),
        ".github/workflows/python-package.yml": _d("""
            name: python package
            on: [push, pull_request]
            jobs:
              build:
                strategy:
                  matrix:
                    python-version: ["3.9", "3.10", "3.11", "3.12"]
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: actions/setup-python@v5
                    with:
                      python-version: ${{ matrix.python-version }}
                  - run: pip install .
                  - run: python -c "import termcount; print(termcount.__version__)"
        """),
    },
    expected=Expected(
        backend="cibuildwheel",
        package_dir=".",
        sdist=True,
        tag_pattern="v{version}",
        version="3.4.1",
        publish_workflow="release.yml",
        publish_environment="pypi",
        foreign_workflows=(".github/workflows/python-package.yml",),
    ),
)

TINYGLOB = Fixture(
    name="uppercase-ci",
    smoke="import tinyglob; assert tinyglob.digit_sum(99) == 18",
    shape="maturin at the root with a CI.yml (upper case) that tests on pushes and publishes "
    "MSVC, manylinux and macOS wheels on tags with maturin upload",
    owner="pathfinders",
    repository="tinyglob",
    branch="main",
    tags=("v0.1.0", "v0.2.0"),
    locks={"Cargo.lock": "tinyglob.Cargo.lock"},
    files={
        "Cargo.toml": _d("""
            [package]
            name = "tinyglob"
            version = "0.2.0"
            edition = "2021"

            [lib]
            name = "tinyglob"
            crate-type = ["cdylib"]

            [dependencies]
            pyo3 = { version = "0.30.1", features = ["abi3-py39"] }
        """),
        "src/lib.rs": _pyo3_module("tinyglob"),
        "pyproject.toml": _d("""
            [build-system]
            requires = ["maturin>=1.7,<2"]
            build-backend = "maturin"

            [project]
            name = "tinyglob"
            dynamic = ["version"]
            requires-python = ">=3.9"

            [tool.maturin]
            features = ["pyo3/extension-module"]
        """),
        ".gitignore": "target/\n",
        ".github/workflows/CI.yml": _d("""
            name: CI

            on:
              push:
                branches: [main]
                tags: ["*"]
              pull_request:
              workflow_dispatch:

            permissions:
              contents: read

            jobs:
              linux:
                runs-on: ubuntu-latest
                strategy:
                  matrix:
                    target: [x86_64, aarch64]
                steps:
                  - uses: actions/checkout@v4
                  - uses: PyO3/maturin-action@v1
                    with:
                      target: ${{ matrix.target }}
                      args: --release --out dist
                      manylinux: auto
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-linux-${{ matrix.target }}
                      path: dist

              windows:
                runs-on: windows-latest
                strategy:
                  matrix:
                    target: [x64, x86]
                steps:
                  - uses: actions/checkout@v4
                  - uses: PyO3/maturin-action@v1
                    with:
                      target: ${{ matrix.target }}
                      args: --release --out dist
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-windows-${{ matrix.target }}
                      path: dist

              macos:
                runs-on: macos-14
                steps:
                  - uses: actions/checkout@v4
                  - uses: PyO3/maturin-action@v1
                    with:
                      target: aarch64
                      args: --release --out dist
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-macos
                      path: dist

              sdist:
                runs-on: ubuntu-latest
                steps:
                  - uses: actions/checkout@v4
                  - uses: PyO3/maturin-action@v1
                    with:
                      command: sdist
                      args: --out dist
                  - uses: actions/upload-artifact@v4
                    with:
                      name: wheels-sdist
                      path: dist

              release:
                name: Release
                runs-on: ubuntu-latest
                if: startsWith(github.ref, 'refs/tags/')
                needs: [linux, windows, macos, sdist]
                environment: pypi
                permissions:
                  id-token: write
                steps:
                  - uses: actions/download-artifact@v4
                  - uses: PyO3/maturin-action@v1
                    with:
                      command: upload
                      args: --non-interactive --skip-existing wheels-*/*
        """),
    },
    expected=Expected(
        backend="maturin",
        package_dir=".",
        sdist=True,
        tag_pattern="v{version}",
        version="0.2.0",
        windows_target="x86_64-pc-windows-msvc",
        publish_workflow="CI.yml",
        publish_environment="pypi",
        old_publisher=".github/workflows/CI.yml",
    ),
)

FIXTURES: tuple[Fixture, ...] = (
    BIGCOUNT,
    RINGBUF,
    CHECKSUM8,
    ROWHASH,
    LEDGERFMT,
    SPLITLINE,
    FASTBLOOM,
    QUICKSTATS,
    TERMCOUNT,
    TINYGLOB,
)


# --- making one ---------------------------------------------------------------------------------

# A fixed author and date: the same fixture makes the same commit.
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Fixture Maintainer",
    "GIT_AUTHOR_EMAIL": "maintainer@example.org",
    "GIT_COMMITTER_NAME": "Fixture Maintainer",
    "GIT_COMMITTER_EMAIL": "maintainer@example.org",
    "GIT_AUTHOR_DATE": "2026-01-15T12:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-01-15T12:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(directory: Path, *args: str) -> str:
    env = {**os.environ, **_GIT_ENV, "GIT_CONFIG_GLOBAL": os.devnull}
    result = subprocess.run(
        ["git", "-C", str(directory), *args],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return result.stdout


def gitmodules(fixture: Fixture) -> str:
    return "".join(
        f'[submodule "{path}"]\n\tpath = {path}\n\turl = {url}\n'
        for path, url in fixture.submodules
    )


def make(fixture: Fixture, directory: Path) -> Path:
    """Write ``fixture`` into ``directory`` (made if needed, expected empty) as a git repository
    on its default branch with one commit, its tags, and its ``origin``; return the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    files = dict(fixture.files)
    for target, lock in fixture.locks.items():
        files[target] = (LOCKS / lock).read_text(encoding="utf-8")
    if fixture.submodules:
        files[".gitmodules"] = gitmodules(fixture)
    for relative, text in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as file:
            file.write(text)
    _git(directory, "init", "-q", "-b", fixture.branch)
    # The earlier releases' tags on an earlier commit, the current version's on the last one.
    *earlier, current = fixture.tags
    if earlier:
        _git(directory, "commit", "-q", "--allow-empty", "-m", "the releases before")
        for tag in earlier:
            _git(directory, "tag", "-a", tag, "-m", f"release {tag}")
    _git(directory, "add", "-A")
    _git(directory, "commit", "-q", "-m", f"{fixture.repository}: the project as it is")
    _git(directory, "tag", "-a", current, "-m", f"release {current}")
    _git(directory, "remote", "add", "origin", fixture.remote)
    return directory


def by_name(name: str) -> Fixture:
    for fixture in FIXTURES:
        if fixture.name == name:
            return fixture
    raise KeyError(f"no fixture named {name!r}: {', '.join(f.name for f in FIXTURES)}")
