"""``nox-release init`` on the fixture repositories of tests/repos.py: the ``[tool.release]`` it
writes, field by field, against each fixture's ``Expected`` (issue 15 items 7, 9, 10, 14, 16,
17), and the version the version check reads being the one init reports.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import repos
from conftest import REPO, write_text

from release.config import ReleaseTable, load_config, manylinux_glibc, read_toml
from release.errors import ConfigValueError
from release.init.native import native_build
from release.init.system_needs import msys2_installs, system_needs
from release.project.pyproject import read_package
from release.project.version import project_version

_VERSION_LINE = re.compile(r"^\s+version (?P<version>.+?): ", re.MULTILINE)
_WORKDIR: list[Path] = []


def _init(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "release", "init", "--project", str(root), "--from", str(REPO),
         *args],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@functools.cache
def adopted(name: str) -> tuple[Path, dict[str, Any], str | None]:
    """The fixture made and adopted with ``init --force`` once per session: its root, the
    [tool.release] written and the version init reported."""
    root = repos.make(repos.by_name(name), _WORKDIR[0] / name)
    done = _init(root, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    table = read_toml(root / "pyproject.toml")["tool"]["release"]
    match = _VERSION_LINE.search(done.stdout)
    version = match["version"] if match and not match["version"].startswith("(") else None
    return root, table, version


@pytest.fixture(scope="session", autouse=True)
def _workdir(tmp_path_factory: pytest.TempPathFactory) -> None:
    if not _WORKDIR:
        _WORKDIR.append(tmp_path_factory.mktemp("adopted"))


def written(table: dict[str, Any], key: str, *, default: bool = True) -> Any:
    """A dotted key as written, or (``default``) its default when init left it out; ABSENT
    for none."""
    value = repos.written(table, key)
    if value is not repos.ABSENT or not default or key == "wheels":
        return value
    fallback: Any = ReleaseTable()
    for attribute in key.split("."):
        fallback = getattr(fallback, attribute.replace("-", "_"))
    return repos.ABSENT if fallback is None else fallback


def normal(key: str, value: Any) -> Any:
    if value is repos.ABSENT:
        return value
    if key == "linux.manylinux":
        return manylinux_glibc(str(value))
    if isinstance(value, (list, tuple)):
        return tuple(sorted(map(str, value))) if key != "wheels" else tuple(map(tuple, value))
    return value


@pytest.mark.parametrize(
    ("name", "key"),
    [(f.name, key) for f in repos.FIXTURES for key in repos.FIELDS],
    ids=[f"{f.name}-{key}" for f in repos.FIXTURES for key in repos.FIELDS],
)
def test_init_writes_the_expected_field(name: str, key: str) -> None:
    _, table, version = adopted(name)
    wanted = repos.by_name(name).expected.fields()[key]
    if key == "version":
        got = version if version is not None else repos.ABSENT
    else:  # a key that must stay unwritten is right only when it is
        got = written(table, key, default=wanted is not repos.ABSENT)
    assert normal(key, got) == normal(key, wanted), f"{name}: {key}"


@pytest.mark.parametrize("name", [f.name for f in repos.FIXTURES])
def test_the_version_check_reads_what_init_reports(name: str) -> None:
    """validate's version check and init read the version from the same place."""
    root, _, version = adopted(name)
    read, _ = project_version(load_config(root))
    assert str(read) == version == repos.by_name(name).expected.version


COMPILED = ["setuptools-c", "cython-bare-tags", "meson-submodules", "setup-py-only",
            "setuptools-rust", "cmake-bindings"]  # fmt: skip


@pytest.mark.parametrize("name", COMPILED)
def test_a_package_that_compiles_never_gets_a_pure_wheel(name: str) -> None:
    _, table, _ = adopted(name)
    assert table["backend"] == "cibuildwheel"
    assert "wheels" not in table  # cibuildwheel's identifiers, not py3-none-any


def test_init_asks_when_it_cannot_tell_whether_setup_py_compiles(tmp_path: Path) -> None:
    root = tmp_path / "dynamic"
    write_text(root / "pyproject.toml", '[build-system]\nrequires = ["setuptools"]\n'
               'build-backend = "setuptools.build_meta"\n')  # fmt: skip
    write_text(root / "setup.py", "from setuptools import setup\nfrom conf import ARGS\n"
               "setup(**ARGS)\n")  # fmt: skip
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    before = (root / "pyproject.toml").read_bytes()
    refused = _init(root, "--force")
    assert refused.returncode == 17, refused.stdout + refused.stderr
    said = refused.stdout + refused.stderr
    assert "cannot tell whether" in said and "setup(**...)" in said
    assert "[tool.cibuildwheel]" in said and 'backend = "build"' in said
    assert (root / "pyproject.toml").read_bytes() == before
    # The one missing fact, given in [tool.release], is the answer.
    write_text(root / "pyproject.toml", before.decode() + '\n[tool.release]\nbackend = "build"\n')
    assert _init(root, "--force").returncode == 0


def test_setuptools_attr_version_is_read_from_the_module_it_names(tmp_path: Path) -> None:
    root = tmp_path / "attr"
    write_text(root / "pyproject.toml", '[build-system]\nrequires = ["setuptools"]\n'
               'build-backend = "setuptools.build_meta"\n[project]\nname = "attrpkg"\n'
               'dynamic = ["version"]\n[tool.setuptools.dynamic]\n'
               'version = {attr = "attrpkg.__version__"}\n[tool.release]\n')  # fmt: skip
    write_text(root / "src/attrpkg/__init__.py", "from ._version import __version__\n")
    write_text(root / "src/attrpkg/_version.py", '__version__ = "2.5.0rc1"\n')
    version, why = project_version(load_config(root))
    assert str(version) == "2.5.0rc1"
    assert "src/attrpkg/_version.py" in why


def test_system_packages_from_yum_apt_and_an_msys2_block(tmp_path: Path) -> None:
    write_text(
        tmp_path / ".github/workflows/wheels.yml",
        """\
jobs:
  linux:
    steps:
      - uses: pypa/cibuildwheel@v2
        env:
          CIBW_BEFORE_ALL_LINUX: dnf install -y zlib-devel mpfr-devel && make
  windows:
    runs-on: windows-latest
    steps:
      - uses: msys2/setup-msys2@v2
        with:
          msystem: MINGW64
          install: >-
            mingw-w64-x86_64-gmp
            mingw-w64-x86_64-mpfr
      - run: sudo apt-get install -y --no-install-recommends m4
""",
    )
    needs = system_needs(tmp_path, tmp_path)
    assert needs.apt == ("libmpfr-dev", "m4", "zlib1g-dev")
    assert needs.msys2 == ("mingw-w64-x86_64-gmp", "mingw-w64-x86_64-mpfr")
    assert needs.needs_msys2
    assert msys2_installs("- uses: msys2/setup-msys2@v2\n  with:\n    install: a b\n") == ["a", "b"]


def test_a_setuptools_scm_version_is_the_latest_tag(tmp_path: Path) -> None:
    root = tmp_path / "scm"
    write_text(root / "pyproject.toml", '[build-system]\nrequires = ["setuptools", '
               '"setuptools-scm>=8"]\nbuild-backend = "setuptools.build_meta"\n[project]\n'
               'name = "scmpkg"\ndynamic = ["version"]\n[tool.setuptools_scm]\n')  # fmt: skip
    write_text(root / "scmpkg/__init__.py", "")
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "first"],
                 ["tag", "-a", "v1.7.3", "-m", "1.7.3"]):  # fmt: skip
        subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                        *argv], check=True)  # fmt: skip
    done = _init(root, "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "version 1.7.3: " in done.stdout and "setuptools-scm" in done.stdout
    # validate relies on the tag itself: no second source to disagree with it
    assert project_version(load_config(root))[0] is None


@pytest.mark.parametrize(
    ("line", "floor"),
    [('          manylinux: "2_28"', "2_28"), ("          manylinux: auto", None),
     ("          CIBW_MANYLINUX_X86_64_IMAGE: manylinux2010", "2010"),
     ("          CIBW_MANYLINUX_X86_64_IMAGE: quay.io/pypa/manylinux_2_34_x86_64", "2_34")],
)  # fmt: skip
def test_the_manylinux_floor_of_the_old_workflow(tmp_path: Path, line: str, floor: str) -> None:
    write_text(tmp_path / ".github/workflows/wheels.yml",
               "jobs:\n  linux:\n    steps:\n      - uses: PyO3/maturin-action@v1\n"
               f"        with:\n{line}\n")  # fmt: skip
    assert system_needs(tmp_path, tmp_path).manylinux == floor


@pytest.mark.parametrize(
    ("tables", "backend"),
    [('build-backend = "flit_core.buildapi"\n', "build"),
     ('build-backend = "hatchling.build"\n[tool.hatch.build.hooks.vcs]\n'
      'version-file = "p/_v.py"\n', "build"),
     ('build-backend = "mesonpy"\n', "cibuildwheel"),
     ('build-backend = "setuptools.build_meta"\n[tool.setuptools]\n'
      'ext-modules = [{name = "p._c", sources = ["p/_c.c"]}]\n', "cibuildwheel"),
     ('build-backend = "hatchling.build"\n[tool.hatch.build.targets.wheel.hooks.scikit-build]\n',
      None),
     ('build-backend = "in_tree"\nbackend-path = ["."]\n', None)],
)  # fmt: skip
def test_the_backend_from_the_build_configuration(
    tmp_path: Path, tables: str, backend: str | None
) -> None:
    write_text(tmp_path / "pyproject.toml",
               f'[project]\nname = "p"\nversion = "1.0"\n[build-system]\n{tables}')  # fmt: skip
    package = read_package(tmp_path)
    if backend is None:  # it cannot tell: it asks, it does not guess pure
        with pytest.raises(ConfigValueError, match="cannot tell whether"):
            native_build(package, tmp_path, "pyproject.toml", [])
        assert native_build(package, tmp_path, "pyproject.toml", [], "build").backend == "build"
    else:
        assert native_build(package, tmp_path, "pyproject.toml", []).backend == backend


def test_apt_packages_from_cibuildwheels_before_all(tmp_path: Path) -> None:
    before_all = '["yum install -y gmp-devel openssl-devel", "make deps"]'
    table = f"[tool.cibuildwheel.linux]\nbefore-all = {before_all}\n"
    write_text(tmp_path / "pyproject.toml", table)
    needs = system_needs(tmp_path, tmp_path)
    assert needs.apt == ("libgmp-dev", "libssl-dev")
    assert needs.apt_why == (
        "[tool.cibuildwheel.linux] before-all installs gmp-devel (libgmp-dev), "
        "openssl-devel (libssl-dev)",
    )
    assert not needs.needs_msys2


def test_cibuildwheel_selectors_only_in_the_old_workflow_are_named(tmp_path: Path) -> None:
    write_text(tmp_path / "pyproject.toml", '[build-system]\nbuild-backend = "mesonpy"\n'
               '[project]\nname = "p"\nversion = "1.0"\nrequires-python = ">=3.10"\n')  # fmt: skip
    workflow = tmp_path / ".github/workflows/wheels.yml"
    write_text(workflow, "jobs:\n  w:\n    steps:\n      - uses: pypa/cibuildwheel@v2\n"
               "        env:\n          CIBW_BUILD: cp312-*\n")  # fmt: skip
    native = native_build(read_package(tmp_path), tmp_path, "pyproject.toml",
                          [(workflow, workflow.read_text())])  # fmt: skip
    assert native.backend == "cibuildwheel"
    assert 'requires-python ">=3.10"' in native.wheels_why
    assert "CIBW_BUILD: cp312-* in wheels.yml applies only if moved to [tool.cibuildwheel]" in (
        native.wheels_why
    )
