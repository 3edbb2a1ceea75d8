"""A stage refused before it starts (a wrong tag, a missing tool) changes nothing in the dist
dir, its records included: the record of the run that built the files stands, and validate
still judges the files against it. A build that fails once it has started is another matter:
the sources no longer build, so the files of an earlier build are no longer taken as this
release's (validate says so)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, Built, Release, check_context, run_release, tiny_project

from release.checks.build_record import BuildRecordCheck
from release.config import load_config
from release.errors import CommandFailedError, ConfigValueError, TagError, ToolNotFoundError
from release.records import read_record


def tree(dist: Path) -> dict[str, bytes]:
    """Every file under ``dist``, records included, but the validate record (validate runs
    between the steps of these tests)."""
    return {
        str(p.relative_to(dist)): p.read_bytes()
        for p in sorted(dist.rglob("*"))
        if p.is_file() and not p.name.startswith("validate.")
    }


def validate_passes(project: Path, dist: Path) -> None:
    proc = run_release("validate", "--project", str(project), "--dist", str(dist))
    assert proc.returncode == 0, proc.stdout
    record = json.loads((dist / ".release" / "validate.json").read_text())
    assert record["status"] == "ok"
    assert not [f for f in record["findings"] if f["check"] == "build-record"], record


# --- the tiny pure project: its real wheel and sdist (python -m build) ------------------


@pytest.mark.parametrize("stage", ["build-linux", "sdist"])
def test_a_wrong_tag_keeps_the_files_and_the_record_that_built_them(
    release: Release, stage: str
) -> None:
    before = tree(release.dist)
    proc = run_release(stage, "--project", str(release.project), "--tag", "v9.9.9")
    assert proc.returncode == TagError.exit_code, proc.stdout
    assert "the tag v9.9.9 says 9.9.9" in proc.stdout
    assert tree(release.dist) == before
    validate_passes(release.project, release.dist)
    # Said once, on the console: the refusal changed nothing, and which record stands.
    record = release.dist / ".release" / f"{stage}.json"
    assert (
        f"the earlier run's record stands, and validate judges the files by it: {record} (ok, "
        in proc.stdout
    )


def test_a_refusal_with_no_earlier_record_is_recorded_as_one(tmp_path: Path) -> None:
    root = tiny_project(tmp_path)
    proc = run_release("build-linux", "--project", str(root), "--tag", "v9.9.9")
    assert proc.returncode == TagError.exit_code, proc.stdout
    record = json.loads((root / "dist/.release/build-linux.json").read_text())
    assert record["status"] == "failed" and record["refused"] is True
    assert record["error"]["kind"] == "TagError"
    # A second refusal says nothing about any file either: it replaces the first.
    proc = run_release("build-linux", "--project", str(root), "--tag", "v8.8.8")
    assert proc.returncode == TagError.exit_code, proc.stdout
    record = json.loads((root / "dist/.release/build-linux.json").read_text())
    assert "v8.8.8" in record["error"]["cause"]
    # validate would stop at an empty dist dir ("run the build stages first"); its
    # build-record check says the stage was refused, and why.
    config = load_config(root)
    records = {"build-linux": read_record(root / "dist", "build-linux")}
    found = BuildRecordCheck().run([], check_context(config, build_records=records))
    assert [f.message for f in found] == [
        "build-linux was refused (the tag v8.8.8 says 8.8.8, and the project version "
        "(pyproject.toml [project] version) is 1.0); it built none of the files of its "
        "platform in the dist dir"
    ]
    assert found[0].remedy == (
        "set the version to 8.8.8 there, or push the tag v1.0 instead; then run build-linux "
        "again (nox -s build-linux), then validate."
    )


def test_a_build_that_fails_once_started_voids_the_earlier_files(release: Release) -> None:
    # The sources changed and no longer build: the earlier wheel is not this release's.
    pyproject = release.project / "pyproject.toml"
    text = pyproject.read_text()
    assert 'build-backend = "setuptools.build_meta"' in text
    pyproject.write_text(text.replace("setuptools.build_meta", "no_such_backend"))
    files = {p.name: p.read_bytes() for p in release.dist.iterdir() if p.is_file()}
    proc = run_release("build-linux", "--project", str(release.project))
    assert proc.returncode == CommandFailedError.exit_code, proc.stdout
    assert "record stands" not in proc.stdout
    assert {p.name: p.read_bytes() for p in release.dist.iterdir() if p.is_file()} == files
    record = json.loads((release.dist / ".release/build-linux.json").read_text())
    assert record["status"] == "failed" and record["refused"] is False
    proc = run_release("validate", "--project", str(release.project))
    assert proc.returncode != 0
    assert "[build-record] build-linux failed (" in proc.stdout
    assert "are not from this build" in proc.stdout


def test_the_dry_run_with_a_wrong_tag_leaves_the_dist_dir_and_its_records(
    release: Release,
) -> None:
    before = tree(release.dist)
    proc = run_release("release", "--project", str(release.project), "--tag", "v9.9.9")
    assert proc.returncode == TagError.exit_code, proc.stdout
    assert tree(release.dist) == before
    validate_passes(release.project, release.dist)


# --- the C example, built for real (cibuildwheel's host build) ----------------------------


def path_without(tmp_path: Path, tool: str) -> str:
    """PATH as it is, but with no ``tool`` on it: the venv's other tools stay, as links."""
    venv_bin = Path(sys.executable).parent
    shims = tmp_path / "bin"
    shims.mkdir()
    for entry in venv_bin.iterdir():
        if entry.name != tool:
            (shims / entry.name).symlink_to(entry)
    kept = [d for d in os.environ["PATH"].split(os.pathsep) if shutil.which(tool, path=d) is None]
    return os.pathsep.join([str(shims), *kept])


@pytest.mark.e2e
@pytest.mark.parametrize("refusal", ["wrong tag", "no cibuildwheel", "image of another floor"])
def test_cvec_wheel_survives_a_refused_build(tmp_path: Path, refusal: str) -> None:
    project, dist = EXAMPLES / "cvec", tmp_path / "dist"
    # build-windows and build-macos: skipped here, each record says why (validate needs them
    # to name the wheels not built here)
    for stage in ("build-linux", "build-windows", "build-macos"):
        proc = run_release(stage, "--project", str(project), "--dist", str(dist))
        assert proc.returncode == 0, proc.stdout
    assert list(dist.glob("cvec_demo-*-manylinux*.whl")), proc.stdout
    validate_passes(project, dist)
    before = tree(dist)
    if refusal == "wrong tag":
        args, env, code = ["--tag", "v9.9.9"], {}, TagError.exit_code
        cause = "the tag v9.9.9 says 9.9.9"
    elif refusal == "no cibuildwheel":
        args, env, code = [], {"PATH": path_without(tmp_path, "cibuildwheel")}, 20
        cause = "cibuildwheel is not on PATH"
        assert code == ToolNotFoundError.exit_code
    else:  # found only once the backend has listed what it builds: still nothing was built
        args, env, code = [], {"CIBW_MANYLINUX_X86_64_IMAGE": "manylinux_2_28"}, 17
        cause = "CIBW_MANYLINUX_X86_64_IMAGE"
        assert code == ConfigValueError.exit_code
    stages = (
        ["build-linux"] if refusal == "image of another floor" else ["build-linux", "build-windows"]
    )
    for stage in stages:
        proc = run_release(stage, "--project", str(project), "--dist", str(dist), *args, env=env)
        assert proc.returncode == code, proc.stdout
        assert cause in proc.stdout
        if refusal != "image of another floor":
            assert "$ " not in proc.stdout  # refused before any build command
    assert tree(dist) == before
    validate_passes(project, dist)


# --- the Rust example: the build whose rebuild the maintainer waited for -----------


@pytest.mark.e2e
@pytest.mark.parametrize("refusal", ["wrong tag", "no maturin"])
def test_tally_wheels_survive_a_refused_build(
    tally_release: Built, tmp_path: Path, refusal: str
) -> None:
    built, original = tally_release
    assert built.returncode == 0, built.stdout
    dist = tmp_path / "dist"
    shutil.copytree(original, dist)
    project = EXAMPLES / "tally"
    validate_passes(project, dist)
    before = tree(dist)
    if refusal == "wrong tag":
        args, env, code = ["--tag", "v9.9.9"], {}, TagError.exit_code
    else:
        args, env = [], {"PATH": path_without(tmp_path, "maturin")}
        code = ToolNotFoundError.exit_code
    outputs = []
    for stage in ("build-linux", "build-windows", "sdist"):
        proc = run_release(stage, "--project", str(project), "--dist", str(dist), *args, env=env)
        assert proc.returncode == code, proc.stdout
        outputs.append(proc.stdout)
    assert tree(dist) == before
    validate_passes(project, dist)
    assert all("record stands" in output for output in outputs)
