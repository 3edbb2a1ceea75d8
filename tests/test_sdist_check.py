"""The sdist stage proves that its sdist builds: a wheel is built from the unpacked sdist
alone, in isolation, as pip install from source does; an sdist that does not build is never
delivered."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_release

from release.errors import SdistBuildError

# A C++ project's shape: the CMake sources at the repository root, the Python package in
# bindings/python, whose scikit-build-core reaches them with cmake.source-dir = "../..".
# CMake installs a file from the root into the wheel; no compiler is needed to build it.
OUTSIDE_ROOT_PYPROJECT = """\
[tool.release]
package-dir = "bindings/python"
backend = "build"
sdist = true
"""
OUTSIDE_PACKAGE_PYPROJECT = """\
[build-system]
requires = ["scikit-build-core>=0.10"]
build-backend = "scikit_build_core.build"

[project]
name = "outside"
version = "0.1.0"
requires-python = ">=3.9"

[tool.scikit-build]
cmake.source-dir = "../.."
wheel.packages = ["src/outside"]
"""
OUTSIDE_CMAKELISTS = """\
cmake_minimum_required(VERSION 3.15)
project(outside LANGUAGES NONE)
install(FILES data/table.txt DESTINATION outside)
"""


def outside_project(parent: Path) -> Path:
    root = parent / "outside"
    package = root / "bindings" / "python"
    (package / "src" / "outside").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "pyproject.toml").write_text(OUTSIDE_ROOT_PYPROJECT)
    (root / "CMakeLists.txt").write_text(OUTSIDE_CMAKELISTS)
    (root / "data" / "table.txt").write_text("1 2 3\n")
    (package / "pyproject.toml").write_text(OUTSIDE_PACKAGE_PYPROJECT)
    (package / "src" / "outside" / "__init__.py").write_text('"""Outside."""\n')
    return root


@pytest.mark.e2e
def test_the_fixture_builds_from_its_checkout(tmp_path: Path) -> None:
    """The shape is sound: from the checkout, the wheel builds (the sdist is what fails)."""
    root = outside_project(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "wheels"), "."],
        cwd=root / "bindings" / "python", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [p.name for p in (tmp_path / "wheels").glob("outside-0.1.0-*.whl")]


@pytest.mark.e2e
def test_an_sdist_without_its_cmake_sources_is_refused(tmp_path: Path) -> None:
    root = outside_project(tmp_path)
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "keep.txt").write_text("not ours")
    proc = run_release("sdist", "--project", str(root), "--dist", str(dist))
    out = proc.stdout + proc.stderr
    assert proc.returncode == SdistBuildError.exit_code, out
    assert "outside-0.1.0.tar.gz does not build, so it is not delivered" in out
    assert 'cmake.source-dir = "../.." points outside the package dir' in out
    assert "sdist = false" in out  # the remedy
    # The tail of the build's own output is shown: CMake's complaint.
    assert "does not appear to contain CMakeLists.txt" in out
    assert "Traceback" not in out
    # Nothing delivered, nothing left behind.
    assert sorted(p.name for p in dist.iterdir()) == [".release", "keep.txt"]
    assert not (dist / ".release" / "tmp").exists()
    record = json.loads((dist / ".release" / "sdist.json").read_text())
    assert record["status"] == "failed"
    assert record["artifacts"] == []
    assert record["error"]["kind"] == "SdistBuildError"
    [check] = record["details"]["sdist_builds"]
    assert check["result"] == "failed" and check["duration_s"] > 0
    assert check["command"][1:4] == ["-m", "build", "--wheel"]


@pytest.mark.e2e
def test_the_tally_sdist_builds_and_is_delivered(tmp_path: Path) -> None:
    """maturin's sdist of a Cargo workspace member builds a wheel (compiling the Rust)."""
    dist = tmp_path / "dist"
    proc = run_release("sdist", "--project", str(EXAMPLES / "tally"), "--dist", str(dist))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [sdist] = dist.glob("*.tar.gz")
    assert sorted(p.name for p in dist.iterdir() if p.is_file()) == [sdist.name]  # no wheel
    record = json.loads((dist / ".release" / "sdist.json").read_text())
    [check] = record["details"]["sdist_builds"]
    assert check["result"] == "ok"
    assert [c["argv"][0] for c in record["commands"]] == ["maturin", sys.executable]
    with tarfile.open(sdist) as archive:
        assert any(name.endswith("/Cargo.lock") for name in archive.getnames())


@pytest.mark.e2e
def test_cvec_ships_no_sdist_so_nothing_is_checked(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    proc = run_release("sdist", "--project", str(EXAMPLES / "cvec"), "--dist", str(dist))
    assert proc.returncode == 0, proc.stdout
    record = json.loads((dist / ".release" / "sdist.json").read_text())
    assert record["status"] == "not shipped"
    assert "sdist_builds" not in record["details"]


def test_a_missing_file_is_named_as_the_likely_cause(tmp_path: Path) -> None:
    """Without a scikit-build-core source-dir to blame, the signs of a missing file."""
    from release.stages.build import _likely_cause

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    tail = ["error: failed to read `/tmp/x/../../core/Cargo.toml`", "No such file or directory"]
    assert _likely_cause(tail, tmp_path).startswith("a file the build needs is not in the sdist")
    assert "the sdist lacks a file" in _likely_cause(["error: something"], tmp_path)


def test_an_sdist_with_a_path_leaving_it_is_not_unpacked(tmp_path: Path) -> None:
    from release.errors import BuildOutputError
    from release.stages.build import _unpack_sdist

    sdist = tmp_path / "evil-1.0.tar.gz"
    payload = tmp_path / "payload"
    payload.write_text("x")
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(payload, arcname="evil-1.0/pyproject.toml")
        archive.add(payload, arcname="../escaped.txt")
    with pytest.raises(BuildOutputError, match=r"\.\./escaped\.txt"):
        _unpack_sdist(sdist, tmp_path / "into")
    assert not (tmp_path / "escaped.txt").exists()


def test_likely_cause_reads_the_source_dir_that_leaves_the_sdist(tmp_path: Path) -> None:
    from release.stages.build import _likely_cause

    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(OUTSIDE_PACKAGE_PYPROJECT).replace('"../.."', '"../native"')
    )
    assert _likely_cause(["CMake Error"], tmp_path).startswith(
        '[tool.scikit-build] cmake.source-dir = "../native" points outside the package dir'
    )
    (tmp_path / "pyproject.toml").write_text(
        OUTSIDE_PACKAGE_PYPROJECT.replace('"../.."', '"native"')
    )
    assert "source-dir" not in _likely_cause(["CMake Error"], tmp_path)


@pytest.mark.e2e
def test_sdist_check_false_delivers_without_the_proof_and_says_so(tmp_path: Path) -> None:
    root = outside_project(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "sdist-check = false\n")
    dist = tmp_path / "dist"
    proc = run_release("sdist", "--project", str(root), "--dist", str(dist))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [p.name for p in dist.glob("*.tar.gz")] == ["outside-0.1.0.tar.gz"]
    assert "Not proved that the sdist builds: sdist-check = false in pyproject.toml" in proc.stdout
    record = json.loads((dist / ".release" / "sdist.json").read_text())
    [check] = record["details"]["sdist_builds"]
    assert check["result"] == "not checked"
    assert [c["argv"][1:4] for c in record["commands"]] == [["-m", "build", "--sdist"]]


def test_sdist_check_is_validated_like_every_key(tmp_path: Path) -> None:
    from release.config import load_config
    from release.errors import ConfigTypeError, UnknownKeyError

    root = outside_project(tmp_path)
    pyproject = root / "pyproject.toml"
    base = pyproject.read_text()
    pyproject.write_text(base + 'sdist-check = "no"\n')
    with pytest.raises(ConfigTypeError, match=r"\[tool\.release\] sdist-check .* must be a bool"):
        load_config(root)
    pyproject.write_text(base + "sdist-checks = false\n")
    with pytest.raises(UnknownKeyError) as info:
        load_config(root)
    assert "did you mean 'sdist-check'" in info.value.remedy
    pyproject.write_text(base + "sdist-check = false\n")
    assert load_config(root).sdist_check is False
