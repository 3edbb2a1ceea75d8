"""End to end: the dry run of both examples, built for real with maturin, zig, MinGW-w64,
python -m build and auditwheel, checked from the outside (file names, tags, records)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import EXAMPLES, NO_INDEX, REPO, Built, run_release
from packaging.utils import parse_sdist_filename, parse_wheel_filename

from release.records import sha256_of

pytestmark = pytest.mark.e2e

# tally's abi3 wheel of this machine's platform, among every platform the dry run builds.
TALLY_LINUX = "*-cp39-abi3-manylinux*_x86_64.whl"
# What the dry run of tally builds on x86_64 Linux: the abi3 wheel natively; by
# cross-compiling (maturin --zig, maturin's bundled sysconfig for each Python) abi3, 3.14t
# and 3.15t for manylinux aarch64 and musllinux x86_64 and aarch64, and with MinGW for
# win_amd64. Not here: macOS, win_arm64 (MSVC), and 3.14t/3.15t for manylinux x86_64,
# which the host build makes only with those interpreters installed.
TALLY_BUILT_HERE = {
    f"tally-0.3.1-{python}-{platform}.whl"
    for python in ("cp39-abi3", "cp314-cp314t", "cp315-cp315t")
    for platform in (
        "manylinux2014_aarch64.manylinux_2_17_aarch64",
        "musllinux_1_2_x86_64",
        "musllinux_1_2_aarch64",
        "win_amd64",
    )
} | {"tally-0.3.1-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"}


def tags_of(wheel: Path) -> set[str]:
    return {str(tag) for tag in parse_wheel_filename(wheel.name)[3]}


def records_of(dist: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in (dist / ".release").glob("*.json")}


def assert_records_match_files(dist: Path) -> None:
    seen = 0
    for stage, record in records_of(dist).items():
        for artifact in record["artifacts"]:
            path = dist / artifact["name"]
            assert path.is_file(), f"{stage} lists {artifact['name']}, which is not in {dist}"
            assert artifact["sha256"] == sha256_of(path), f"{stage}: sha256 of {path.name}"
            assert artifact["size"] == path.stat().st_size
            seen += 1
    assert seen > 0


def run_in_fresh_venv(tmp: Path, wheel: Path, tests: Path) -> subprocess.CompletedProcess[str]:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel), "pytest"], check=True)
    # From an empty directory, so the source tree cannot be imported instead of the wheel.
    workdir = tmp / "run"
    workdir.mkdir()
    return subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(workdir),
            str(tests),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )


def test_tally_dry_run_succeeds_with_summary(
    tally_release: Built,
) -> None:
    proc, _dist = tally_release
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = proc.stdout[proc.stdout.index("Release dry run summary") :]
    for header in ("stage", "status", "duration", "artifacts"):
        assert header in summary
    for stage in ("build-linux", "build-windows", "build-macos", "sdist"):
        assert stage in summary
    assert "KiB)" in summary  # artifact sizes


def test_tally_dry_run_builds_every_platform_this_host_can(tally_release: Built) -> None:
    """Before, it built manylinux x86_64 and win_amd64 only (abi3): the project shipped
    nothing else. The rest is left to named runners, each said where its stage says why."""
    proc, dist = tally_release
    built = {p.name for p in dist.glob("*.whl")}
    assert built >= TALLY_BUILT_HERE, proc.stdout
    assert built - TALLY_BUILT_HERE <= {
        f"tally-0.3.1-{py}-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
        for py in ("cp314-cp314t", "cp315-cp315t")
    }
    records = records_of(dist)
    methods = {p["platform"]: p["method"] for p in records["build-linux"]["details"]["platforms"]}
    assert methods == {
        "manylinux_x86_64": "native",
        "manylinux_aarch64": "cross",
        "musllinux_x86_64": "cross",
        "musllinux_aarch64": "cross",
    }
    windows = records["build-windows"]["details"]["platforms"]
    assert [(p["platform"], p["method"], p.get("runner")) for p in windows] == [
        ("win_amd64", "cross", None),
        ("win_arm64", None, "windows-11-arm"),
    ]
    assert records["build-windows"]["details"]["not_built"] == [
        "cp39-win_arm64", "cp314t-win_arm64", "cp315t-win_arm64"
    ]  # fmt: skip
    macos = records["build-macos"]
    assert macos["status"] == "skipped"
    assert "macos-15" in macos["reason"] and "macos-15-intel" in macos["reason"]
    # validate: every wheel here passes; every one not built here is a note naming its stage
    validate = records["validate"]
    assert validate["status"] == "ok"
    assert not [f for f in validate["findings"] if f["level"] != "info"]
    notes = [f["message"] for f in validate["findings"] if "was not built here" in f["message"]]
    assert len(notes) == 24 - len(built)
    assert sum("build-macos was skipped" in n for n in notes) == 6


def test_the_cross_built_aarch64_and_musllinux_wheels_pass_validate_for_real(
    tally_release: Built,
) -> None:
    """auditwheel reads the aarch64 ELF files (manylinux_2_17 met, nothing outside the
    wheel); the musllinux ones, which link musl's libc as libc.so, pass too."""
    _, dist = tally_release
    checks = records_of(dist)["validate"]["details"]["checks"]
    cross = sorted(dist.glob("*aarch64*.whl")) + sorted(dist.glob("*musllinux_1_2_x86_64.whl"))
    assert len(cross) == 9
    for wheel in cross:
        assert "manylinux" in checks[wheel.name], wheel.name  # auditwheel judged it
        with zipfile.ZipFile(wheel) as archive:
            (member,) = [n for n in archive.namelist() if n.endswith(".so")]
            elf = archive.read(member)
        machine = int.from_bytes(elf[18:20], "little")  # e_machine: 183 AArch64, 62 x86-64
        assert machine == (183 if "aarch64" in wheel.name else 62), wheel.name
    (aarch64,) = dist.glob("*-cp39-abi3-manylinux*_aarch64.whl")
    shown = subprocess.run(
        ["auditwheel", "show", "--json", str(aarch64)], capture_output=True, text=True, check=True
    )
    report = json.loads(shown.stdout[shown.stdout.index("{") :])
    assert report["overall_tag"] == "manylinux_2_17_aarch64"
    assert report["external_libs"] == {}


def test_tally_linux_wheel_meets_manylinux_2014(
    tally_release: Built,
) -> None:
    _, dist = tally_release
    (wheel,) = dist.glob(TALLY_LINUX)
    assert "cp39-abi3-manylinux_2_17_x86_64" in tags_of(wheel)
    shown = subprocess.run(
        ["auditwheel", "show", "--json", str(wheel)], capture_output=True, text=True, check=True
    )
    report = json.loads(shown.stdout[shown.stdout.index("{") :])
    assert report["external_libs"] == {}
    # The floor is met: the most compatible tag auditwheel allows is no newer than glibc 2.17.
    overall = report["overall_tag"]
    assert overall.startswith("manylinux_2_")
    assert int(overall.split("_")[2]) <= 17


def test_tally_windows_wheel_is_cross_compiled_pe(
    tally_release: Built,
) -> None:
    _, dist = tally_release
    wheels = dist.glob("*win_amd64.whl")
    assert {tag for wheel in wheels for tag in tags_of(wheel)} == {
        "cp39-abi3-win_amd64", "cp314-cp314t-win_amd64", "cp315-cp315t-win_amd64"
    }  # fmt: skip
    record = records_of(dist)["build-windows"]
    assert record["status"] == "ok"
    assert any("x86_64-pc-windows-gnu" in cmd["argv"] for cmd in record["commands"])


def test_tally_sdist_and_records(tally_release: Built) -> None:
    _, dist = tally_release
    (sdist,) = dist.glob("*.tar.gz")
    assert parse_sdist_filename(sdist.name)[0] == "tally"
    assert_records_match_files(dist)
    records = records_of(dist)
    assert records["build-linux"]["status"] == "ok"
    assert "maturin" in records["build-linux"]["tool_versions"]
    linux_argv = records["build-linux"]["commands"][0]["argv"]
    assert "--zig" in linux_argv and "--auditwheel" in linux_argv
    assert linux_argv[linux_argv.index("--compatibility") + 1] == "manylinux_2_17"


def test_tally_wheel_imports_and_passes_its_tests(tally_release: Built, tmp_path: Path) -> None:
    _, dist = tally_release
    (wheel,) = dist.glob(TALLY_LINUX)
    result = run_in_fresh_venv(tmp_path, wheel, EXAMPLES / "tally/crates/tally-python/tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_cvec_host_build_is_marked_with_reason(
    cvec_release: Built,
) -> None:
    proc, dist = cvec_release
    records = records_of(dist)
    linux = records["build-linux"]
    # No container engine on this machine: the host-build path, said in record and summary.
    assert linux["status"] == "host build", proc.stdout
    assert "container engine" in linux["reason"]
    assert "host build" in proc.stdout[proc.stdout.index("Release dry run summary") :]
    argv = [c["argv"] for c in linux["commands"]]
    assert any(a[1:4] == ["-m", "build", "--wheel"] for a in argv)
    assert any(a[:2] == ["auditwheel", "repair"] and "manylinux_2_17_x86_64" in a for a in argv)
    # What it did not build, each said once: musllinux_x86_64 (a host build makes CPython
    # manylinux wheels only) by the host build, aarch64 by the plan, naming its runner.
    platforms = {p["platform"]: p for p in linux["details"]["platforms"]}
    assert {name: p["method"] for name, p in platforms.items()} == {
        "manylinux_x86_64": "native",
        "manylinux_aarch64": None,
        "musllinux_x86_64": None,
        "musllinux_aarch64": None,
    }
    assert platforms["manylinux_aarch64"]["runner"] == "ubuntu-24.04-arm"
    assert sorted(linux["details"]["not_built"]) == [
        "cp311-manylinux_aarch64", "cp311-musllinux_aarch64", "cp311-musllinux_x86_64"
    ]  # fmt: skip
    assert "Not built here: cp311-musllinux_x86_64." in linux["reason"]
    assert "cp311-manylinux_aarch64" not in linux["reason"]


def test_cvec_windows_skipped_and_no_sdist(
    cvec_release: Built,
) -> None:
    proc, dist = cvec_release
    records = records_of(dist)
    assert records["build-windows"]["status"] == "skipped"
    assert "Windows runner" in records["build-windows"]["reason"]
    assert records["build-macos"]["status"] == "skipped"
    assert "macOS runner" in records["build-macos"]["reason"]
    assert records["sdist"]["status"] == "not shipped"
    assert not list(dist.glob("*.tar.gz"))
    # The missing Windows wheel is a note of validate that points at build-windows; the
    # skip's reason is said once, under build-windows, and the summary points to it.
    assert records["validate"]["status"] == "ok"
    notes = [f["message"] for f in records["validate"]["findings"] if f["level"] == "info"]
    for platform in ("win_amd64", "win_arm64", "macosx_x86_64", "macosx_arm64"):
        assert any(platform in n and "not built here" in n for n in notes), platform
    reason = records["build-windows"]["reason"]
    assert proc.stdout.count(reason) == 1
    assert "warning" not in proc.stdout.replace("0 warning(s)", "")
    summary = proc.stdout[proc.stdout.index("Release dry run summary") :]
    assert (
        "build-linux, build-windows, build-macos: see the reason under each stage above" in summary
    )


def test_cvec_wheel_tags_and_runtime_library(cvec_release: Built, tmp_path: Path) -> None:
    _, dist = cvec_release
    (wheel,) = dist.glob("*.whl")
    py = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert f"{py}-{py}-manylinux_2_17_x86_64" in tags_of(wheel)
    assert_records_match_files(dist)
    result = run_in_fresh_venv(tmp_path, wheel, EXAMPLES / "cvec/bindings/python/tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_nox_release_releases_itself(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    proc = run_release("release", "--project", str(REPO), "--dist", str(dist))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    names = sorted(p.name for p in dist.iterdir() if p.is_file())
    assert names == ["nox_release-0.1.0-py3-none-any.whl", "nox_release-0.1.0.tar.gz"]
    assert_records_match_files(dist)


def test_failed_real_build_leaves_dist_as_it_was(tmp_path: Path) -> None:
    project = tmp_path / "tally"
    shutil.copytree(EXAMPLES / "tally", project, ignore=shutil.ignore_patterns("target", "dist"))
    lib = project / "crates/tally-python/src/lib.rs"
    lib.write_text(lib.read_text() + "\nfn broken( {\n")
    dist = tmp_path / "dist"
    dist.mkdir()
    keep = dist / "tally-0.3.0-cp39-abi3-manylinux_2_17_x86_64.whl"
    keep.write_bytes(b"an earlier release, not ours to touch")
    before = {p.name: p.read_bytes() for p in dist.iterdir()}
    # Reuse the example's compiled dependencies: only the broken crate is recompiled.
    env = {"CARGO_TARGET_DIR": str(EXAMPLES / "tally/target")}
    proc = run_release("build-linux", "--project", str(project), "--dist", str(dist), env=env)
    assert proc.returncode == 21, proc.stdout
    assert "maturin exited with status" in proc.stdout
    assert "error" in proc.stdout.split("maturin exited with status")[0]  # the tail is shown
    assert "Traceback" not in proc.stdout + proc.stderr
    after = {p.name: p.read_bytes() for p in dist.iterdir() if p.is_file()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".build-linux-")]
    record = json.loads((dist / ".release/build-linux.json").read_text())
    assert record["status"] == "failed"
    assert record["error"]["kind"] == "CommandFailedError" and record["error"]["tail"]


@pytest.mark.parametrize("example", ["tally", "cvec"])
def test_the_dry_run_installs_and_imports_from_a_throwaway_index(
    example: str, tally_release: Built, cvec_release: Built
) -> None:
    proc, dist = tally_release if example == "tally" else cvec_release
    assert proc.returncode == 0, proc.stdout
    record = records_of(dist)["publish"]
    assert record["status"] == "ok"
    rehearsal = record["details"]["rehearsal"]
    module = "tally" if example == "tally" else "cvec"
    assert rehearsal["imported"] == [module]
    assert rehearsal["installed"] in {p.name for p in dist.glob("*.whl")}
    assert sorted(rehearsal["uploaded"]) == sorted(p.name for p in dist.iterdir() if p.is_file())
    assert rehearsal["index"].startswith("http://127.0.0.1:")
    # The summary has a publish row.
    summary = proc.stdout[proc.stdout.index("Release dry run summary") :]
    assert re.search(r"^publish\s+ok\s", summary, re.MULTILINE)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="sigstore-python is pinned from 3.11")
@pytest.mark.parametrize("example", ["tally", "cvec"])
def test_the_examples_dry_run_rehearses_signing_offline(
    example: str, tally_release: Built, cvec_release: Built, tmp_path: Path
) -> None:
    """publish --dry-run on each example's real files signs every one against the run's
    local Sigstore, verifies it, and keeps it under .release/, never beside the files.

    The examples publish to PyPI, where the dry run signs (README's dry run); the tests ask no
    index (NO_INDEX), whose uploads would get no attestations, so this copy says it wants them
    there: the same signing, with no network."""
    _, built = tally_release if example == "tally" else cvec_release
    project = tmp_path / example
    shutil.copytree(EXAMPLES / example, project,
                    ignore=shutil.ignore_patterns("target", "dist", "build"))  # fmt: skip
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text()
    assert "[tool.release.publish]\n" in text and "attestations" not in text
    pyproject.write_text(text.replace("[tool.release.publish]\n",
                                      "[tool.release.publish]\nattestations = true\n"))  # fmt: skip
    dist = tmp_path / "dist"
    shutil.copytree(built, dist)
    (dist / ".release" / "publish.json").unlink()
    proc = run_release("publish", "--dry-run", "--project", str(project), "--dist", str(dist),
                       *NO_INDEX)  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    rehearsal = records_of(dist)["publish"]["details"]["rehearsal"]
    assert rehearsal["not_signed_because"] is None
    files = sorted(p.name for p in dist.iterdir() if p.is_file())
    assert sorted(rehearsal["attestations"]) == sorted(rehearsal["uploaded"]) == files
    identity = rehearsal["signing_identity"]
    assert identity.startswith("https://github.com/") and ".github/workflows/" in identity
    kept = dist / ".release" / "rehearsal-attestations"
    for name, signed in rehearsal["attestations"].items():
        assert signed["identity"] == identity and not signed["reused"]
        path = kept / signed["attestation"]
        assert path.name == f"{name}.publish.attestation"
        assert sha256_of(path) == signed["sha256"]
    assert not list(dist.glob("*.attestation"))
    assert f"signed as the rehearsal's own identity, {identity}" in proc.stdout


PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
NOT_HERE = "3.13" if sys.version_info[:2] != (3, 13) else "3.12"


def cvec_selecting(parent: Path, linux_identifier: str) -> Path:
    """examples/cvec whose cibuildwheel selectors name ``linux_identifier`` for Linux."""
    project = parent / "cvec"
    shutil.copytree(EXAMPLES / "cvec", project, ignore=shutil.ignore_patterns("dist", "build"))
    package = project / "bindings/python/pyproject.toml"
    text = package.read_text()
    old = 'build = ["cp311-*"]'
    assert old in text
    package.write_text(text.replace(old, f'build = ["{linux_identifier}", "cp311-win_amd64"]'))
    return project


def no_container_engine(parent: Path) -> str:
    """PATH whose docker and podman answer as a client without a daemon does."""
    shims = parent / "no-engine"
    shims.mkdir()
    for name in ("docker", "podman"):
        (shims / name).write_text(
            f"#!/bin/sh\necho 'Cannot connect to the {name} daemon'\nexit 1\n"
        )
        (shims / name).chmod(0o755)
    return f"{shims}{os.pathsep}{os.environ['PATH']}"


@pytest.mark.skipif(
    not list(PYENV_ROOT.glob(f"versions/{NOT_HERE}*/bin/python{NOT_HERE}")),
    reason=f"pyenv holds no Python {NOT_HERE} here",
)
def test_cvec_host_build_with_the_pyenv_interpreter_the_selectors_name(tmp_path: Path) -> None:
    """The selectors name a Python that is not the running one; pyenv has it: it builds."""
    tag = "cp" + NOT_HERE.replace(".", "")
    project = cvec_selecting(tmp_path, f"{tag}-manylinux_x86_64")
    dist = tmp_path / "dist"
    env = {"PATH": no_container_engine(tmp_path), "PYENV_ROOT": str(PYENV_ROOT)}
    proc = run_release("build-linux", "--project", str(project), "--dist", str(dist), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = dist.glob("*.whl")
    assert f"{tag}-{tag}-manylinux_2_17_x86_64" in tags_of(wheel)
    record = records_of(dist)["build-linux"]
    assert record["status"] == "host build"
    assert "from pyenv" in record["reason"]
    [pip] = [c["argv"] for c in record["commands"] if c["argv"][1:4] == ["-m", "pip", "wheel"]]
    assert Path(pip[0]).name == f"python{NOT_HERE}"
    assert Path(pip[0]).is_relative_to(PYENV_ROOT)


def test_cvec_host_build_without_the_named_interpreter_says_how_to_get_it(
    tmp_path: Path,
) -> None:
    # A Python cibuildwheel knows and this machine has not installed (neither pyenv nor uv).
    project = cvec_selecting(tmp_path, "cp314-manylinux_x86_64")
    dist = tmp_path / "dist"
    empty = tmp_path / "none-installed"
    empty.mkdir()
    env = {
        "PATH": no_container_engine(tmp_path),
        "PYENV_ROOT": str(empty),
        "UV_PYTHON_INSTALL_DIR": str(empty),
    }
    proc = run_release("build-linux", "--project", str(project), "--dist", str(dist), env=env)
    assert proc.returncode == 23, proc.stdout + proc.stderr
    assert "no interpreter the project's cibuildwheel selectors name" in proc.stdout
    assert "python3.14: not on PATH" in proc.stdout
    for way in ("--force-python 3.14", "uv python install 3.14", "pyenv install 3.14"):
        assert way in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not list(dist.glob("*.whl"))
