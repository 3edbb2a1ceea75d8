"""A PyO3 crate without ``generate-import-lib`` cannot be cross-compiled for Windows on Linux
(issue 15 item 11): the one reading of Cargo.toml that finds it, and init, check and the
failed build each naming the feature and the line to write.

The build failures are real: maturin refusing the cross build, and the MinGW linker missing
libpython3, both run here.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import repos
from conftest import REPO, release_project, run_context, write_text

from release.backends.maturin import MaturinBackend
from release.config import ReleaseConfig, load_config
from release.console import Console
from release.context import RunContext
from release.diagnose import diagnose
from release.errors import CommandFailedError
from release.project.cargo import missing_import_lib
from release.records import ERROR
from release.runner import Runner
from release.stages.check import IMPORT_LIB, _windows_import_lib

MATURIN = """\
[build-system]
requires = ["maturin>=1.5,<2"]
build-backend = "maturin"

[project]
name = "demo"
dynamic = ["version"]
"""
CRATE = '[package]\nname = "demo"\nversion = "1.0.0"\n\n[lib]\ncrate-type = ["cdylib"]\n\n'
MINGW = '[tool.release.windows]\ntarget = "x86_64-pc-windows-gnu"\n'
FEATURE = "generate-import-lib"


def crate(
    tmp_path: Path, dependencies: str, *, release: str = MINGW, workspace: str = ""
) -> ReleaseConfig:
    root = tmp_path / "project"
    if workspace:
        write_text(root / "Cargo.toml", workspace)
    write_text(root / "pkg" / "Cargo.toml", CRATE + dependencies)
    return release_project(root, release, MATURIN)


# --- the one reading of Cargo.toml ----------------------------------------------------------


@pytest.mark.parametrize(
    ("dependencies", "table", "line"),
    [
        (
            '[dependencies]\npyo3 = { version = "0.23.5", features = ["abi3-py38"] }\n',
            "[dependencies]",
            'pyo3 = { version = "0.23.5", features = ["abi3-py38", "generate-import-lib"] }',
        ),
        (
            '[dependencies]\npyo3 = "0.23.5"\n\n[features]\ndefault = ["pyo3/abi3-py39"]\n',
            "[dependencies]",
            'pyo3 = { version = "0.23.5", features = ["generate-import-lib"] }',
        ),
        (
            '[dependencies]\npyo3 = { version = "0.23.5" }\n',
            "[dependencies]",
            'pyo3 = { version = "0.23.5", features = ["generate-import-lib"] }',
        ),
        (
            '[dependencies.pyo3]\nversion = "0.23.5"\nfeatures = ["abi3"]\n',
            "[dependencies.pyo3]",
            'features = ["abi3", "generate-import-lib"]',
        ),
        (
            '[dependencies]\npyo3-ffi = { version = "0.23.5", features = ["abi3"] }\n',
            "[dependencies]",
            'pyo3-ffi = { version = "0.23.5", features = ["abi3", "generate-import-lib"] }',
        ),
    ],
)
def test_the_line_that_adds_the_feature(
    dependencies: str, table: str, line: str, tmp_path: Path
) -> None:
    fix = missing_import_lib(crate(tmp_path, dependencies))
    assert fix is not None
    assert (fix.manifest, fix.table, fix.line) == ("pkg/Cargo.toml", table, line)
    assert fix.instruction() == f"in {table} of pkg/Cargo.toml, write: {line}"


@pytest.mark.parametrize(
    "dependencies",
    [
        '[dependencies]\npyo3 = { version = "0.23", features = ["abi3", "generate-import-lib"] }\n',
        # the name PyO3 0.16.4 gave it
        '[dependencies]\npyo3 = { version = "0.16.4", features = ["generate-abi3-import-lib"] }\n',
        # the crate's own default feature switches it on
        '[dependencies]\npyo3 = "0.23"\n\n[features]\ndefault = ["win"]\n'
        'win = ["pyo3/generate-import-lib"]\n',
        # no PyO3 at all (cffi, uniffi)
        '[dependencies]\nlibc = "0.2"\n',
    ],
)
def test_no_fix_when_pyo3_makes_it_or_is_not_used(dependencies: str, tmp_path: Path) -> None:
    assert missing_import_lib(crate(tmp_path, dependencies)) is None


LOCKED = """\
version = 4

[[package]]
name = "pyo3"
version = "{version}"

[[package]]
name = "pyo3-ffi"
version = "{version}"
"""


@pytest.mark.parametrize(
    ("requirement", "locked", "needs_it"),
    [
        # 0.29 and later link python3.dll by raw-dylib (maturin 1.16 cross-builds 0.30.1
        # without the feature, tried here): nothing to add.
        ('"0.30.1"', None, False),
        ('"^0.29"', None, False),
        ('"=0.28.2"', None, True),
        # Cargo.lock says what is linked, whatever the requirement allows.
        ('">=0.20"', "0.23.5", True),
        ('">=0.20"', "0.30.1", False),
        ('"0.23"', "0.23.5", True),
        # a range and no lock: nothing here says which PyO3 it gets, so no claim
        ('">=0.20"', None, False),
    ],
)
def test_only_pyo3_before_raw_dylib_needs_the_feature(
    requirement: str, locked: str | None, needs_it: bool, tmp_path: Path
) -> None:
    config = crate(tmp_path, f"[dependencies]\npyo3 = {{ version = {requirement} }}\n")
    if locked is not None:
        write_text(config.package_dir / "Cargo.lock", LOCKED.format(version=locked))
    assert (missing_import_lib(config) is not None) == needs_it


def test_the_feature_from_maturins_own_features(tmp_path: Path) -> None:
    config = crate(tmp_path, '[dependencies]\npyo3 = "0.23"\n')
    write_text(
        config.package_dir / "pyproject.toml",
        MATURIN + '\n[tool.maturin]\nfeatures = ["pyo3/generate-import-lib"]\n',
    )
    assert missing_import_lib(load_config(config.project_root)) is None


WORKSPACE = '[workspace]\nmembers = ["pkg"]\n\n[workspace.dependencies]\n'


def test_a_dependency_inherited_from_the_workspace(tmp_path: Path) -> None:
    inherited = '[dependencies]\npyo3 = { workspace = true, features = ["abi3-py39"] }\n'
    with_it = WORKSPACE + 'pyo3 = { version = "0.23", features = ["generate-import-lib"] }\n'
    assert missing_import_lib(crate(tmp_path / "a", inherited, workspace=with_it)) is None
    without = WORKSPACE + 'pyo3 = { version = "0.23", features = ["extension-module"] }\n'
    fix = missing_import_lib(crate(tmp_path / "b", inherited, workspace=without))
    assert fix is not None
    # the workspace's Cargo.lock, beside its root manifest, decides the version
    config = crate(tmp_path / "c", inherited, workspace=without)
    write_text(config.project_root / "Cargo.lock", LOCKED.format(version="0.30.1"))
    assert missing_import_lib(config) is None
    # The member's line: features add up with the workspace's.
    assert fix.line == (
        'pyo3 = { workspace = true, features = ["abi3-py39", "generate-import-lib"] }'
    )


# --- check -------------------------------------------------------------------------------------

NO_FEATURE = '[dependencies]\npyo3 = { version = "0.23.5", features = ["abi3-py38"] }\n'


def test_check_errs_when_linux_cross_compiles_the_windows_wheel(tmp_path: Path) -> None:
    (finding,) = _windows_import_lib(crate(tmp_path, NO_FEATURE))
    assert (finding.level, finding.check, finding.file) == (ERROR, IMPORT_LIB, "pkg/Cargo.toml")
    assert FEATURE in finding.message and "cross-compiled on Linux" in finding.message
    assert finding.remedy is not None
    assert (
        'in [dependencies] of pkg/Cargo.toml, write: pyo3 = { version = "0.23.5", features = '
        '["abi3-py38", "generate-import-lib"] }' in finding.remedy
    )


@pytest.mark.parametrize(
    "release",
    [
        # MSVC, built on a Windows runner: the Windows Python there has the import library.
        '[tool.release.windows]\ntarget = "x86_64-pc-windows-msvc"\n',
        "",  # the default target is MSVC
        # MinGW with MSYS2's libraries: built on Windows only, never cross-compiled.
        MINGW + 'msys2-packages = ["mingw-w64-x86_64-gmp"]\n',
    ],
)
def test_check_says_nothing_when_windows_builds_it(release: str, tmp_path: Path) -> None:
    assert _windows_import_lib(crate(tmp_path, NO_FEATURE, release=release)) == []


# --- the failure's signature -------------------------------------------------------------------


def _failure(*tail: str) -> CommandFailedError:
    return CommandFailedError(
        "maturin exited with status 1 while cross-compiling for x86_64-pc-windows-gnu.",
        "generic", ["maturin"], 1, list(tail),
    )  # fmt: skip


@pytest.mark.parametrize(
    "line",
    [
        # maturin 1.16, no interpreter given (what build-windows runs)
        "  Caused by: Need a Python interpreter to compile for Windows without PyO3's "
        "`generate-import-lib` feature",
        # maturin 1.16, -i python3.12 (found only in its bundled sysconfig)
        '  Caused by: Interpreters ["CPython 3.12"] were found in maturin\'s bundled sysconfig, '
        "but compiling for Windows without an interpreter requires PyO3's "
        "`generate-import-lib` feature",
        # the MinGW linker, when maturin was given a Linux interpreter
        "          /usr/bin/x86_64-w64-mingw32-ld: cannot find -lpython3: "
        "No such file or directory",
    ],
)
def test_the_missing_import_library_is_named_with_the_feature(line: str) -> None:
    error = diagnose(_failure("💥 maturin failed", line), ["💥 maturin failed", line])
    assert isinstance(error, CommandFailedError)
    assert FEATURE in error.cause and "python3.dll" in error.cause
    assert FEATURE in error.remedy
    assert "libpython3-dev" not in error.remedy  # not a -dev package to install
    assert "above" not in error.remedy


def test_a_linux_libpython_is_not_the_windows_import_library() -> None:
    line = "/usr/bin/ld: cannot find -lpython3.11: No such file or directory"
    error = diagnose(_failure(line), [line])
    assert FEATURE not in error.cause
    assert "libpython3.11" in error.cause


@pytest.mark.skipif(shutil.which("x86_64-w64-mingw32-gcc") is None, reason="needs mingw-w64")
def test_the_real_mingw_linker_without_libpython3(tmp_path: Path) -> None:
    source = write_text(tmp_path / "ext.c", "int PyInit_ext(void) { return 0; }\n")
    runner = Runner(Console(github=False, stream=io.StringIO(), environ={}))
    with pytest.raises(CommandFailedError) as info:
        runner.run(
            ["x86_64-w64-mingw32-gcc", "-shared", str(source), "-o", str(tmp_path / "ext.pyd"),
             "-lpython3"],
            why="linking the extension",
        )  # fmt: skip
    assert FEATURE in info.value.cause
    assert FEATURE in info.value.remedy


# --- the fixtures: init and check on real shapes ------------------------------------------------


def _init(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "release", "init", "--project", str(root), "--from", str(REPO),
         "--force"],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


MATURIN_FIXTURES = [f for f in repos.FIXTURES if f.expected.backend == "maturin"]


@pytest.mark.parametrize("fixture", MATURIN_FIXTURES, ids=lambda f: f.name)
def test_init_names_the_feature_only_for_a_linux_cross_build(
    fixture: repos.Fixture, tmp_path: Path
) -> None:
    root = repos.make(fixture, tmp_path / fixture.name)
    done = _init(root)
    assert done.returncode == 0, done.stdout + done.stderr
    config = load_config(root)
    fix = missing_import_lib(config)
    assert (fix.line if fix else None) == fixture.expected.windows_import_lib
    # Each of them builds its Windows wheel on Windows (MSVC, or MinGW with MSYS2's GMP), or
    # links PyO3 0.30, which needs no import library.
    assert FEATURE not in done.stdout
    assert FEATURE not in (root / "pyproject.toml").read_text(encoding="utf-8")
    assert _windows_import_lib(config) == []


def _before_its_first_windows_wheel(tmp_path: Path) -> Path:
    """pyo3-no-import-lib before it shipped Windows wheels: init chooses MinGW, which Linux
    cross-compiles."""
    root = repos.make(repos.by_name("pyo3-no-import-lib"), tmp_path / "rowhash")
    (root / ".github" / "workflows" / "release.yml").unlink()
    return root


def test_init_gives_the_line_and_promises_no_cross_build(tmp_path: Path) -> None:
    root = _before_its_first_windows_wheel(tmp_path)
    done = _init(root)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = repos.by_name("pyo3-no-import-lib").expected.windows_import_lib
    assert expected is not None
    steps = done.stdout[done.stdout.index("next steps:") :]
    assert f"In [dependencies] of Cargo.toml, write:\n       {expected}\n" in steps
    assert f"links it only with its {FEATURE} feature" in steps
    table = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert 'target = "x86_64-pc-windows-gnu"' in table
    comment = " ".join(line.lstrip("# ") for line in table.splitlines() if line.startswith("#"))
    assert "so the dry run builds it too" not in comment
    assert f"only once pyo3 has the {FEATURE} feature" in comment

    # check says the same, as an error; the line as given makes it go away.
    checked = subprocess.run(
        [sys.executable, "-m", "release", "check", "--project", str(root)],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert checked.returncode != 0
    assert f"[{IMPORT_LIB}] Cargo.toml:" in checked.stdout + checked.stderr
    assert expected in checked.stdout + checked.stderr
    _write_line(root, expected)
    config = load_config(root)
    assert missing_import_lib(config) is None
    assert _windows_import_lib(config) == []


def _write_line(root: Path, line: str) -> None:
    """The pyo3 line of the fixture's Cargo.toml replaced by ``line``, as a maintainer would."""
    cargo = root / "Cargo.toml"
    lines = cargo.read_text(encoding="utf-8").splitlines()
    cargo.write_text(
        "\n".join(line if old.startswith("pyo3 = ") else old for old in lines) + "\n",
        encoding="utf-8",
    )


# --- a real cross build ------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("x86_64-w64-mingw32-gcc") is None, reason="needs mingw-w64")
def test_the_failed_cross_build_names_the_feature_in_its_record(tmp_path: Path) -> None:
    root = _before_its_first_windows_wheel(tmp_path)
    assert _init(root).returncode == 0
    if MaturinBackend(load_config(root)).unavailable("windows", _context(root)) is not None:
        pytest.skip("the x86_64-pc-windows-gnu Rust target is not installed")
    built = subprocess.run(
        [sys.executable, "-m", "release", "build-windows", "--project", str(root)],
        cwd=root, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert built.returncode == 21, built.stdout + built.stderr
    expected = repos.by_name("pyo3-no-import-lib").expected.windows_import_lib
    said = built.stdout + built.stderr
    assert f"which PyO3 before 0.29 makes only with its {FEATURE} feature" in said
    assert f"in [dependencies] of Cargo.toml, write: {expected}" in said
    record = json.loads((root / "dist" / ".release" / "build-windows.json").read_text())
    error = record["error"]
    assert FEATURE in error["cause"]
    assert expected in error["remedy"]
    assert "above" not in error["cause"] + error["remedy"]
    assert any(FEATURE in line for line in error["tail"])  # maturin's own words, kept

    # The line as given is the fix: the same cross build now makes the wheel.
    _write_line(root, expected)
    built = subprocess.run(
        [sys.executable, "-m", "release", "build-windows", "--project", str(root)],
        cwd=root, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    assert [p.name for p in (root / "dist").glob("*.whl")] == [
        "rowhash-1.0.0-cp38-abi3-win_amd64.whl"
    ]


def _context(root: Path) -> RunContext:
    return run_context(load_config(root))
