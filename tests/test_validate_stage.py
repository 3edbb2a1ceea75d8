"""validate as a user runs it: on real artifacts of the examples, and on real ELF and PE
binaries built here and packed into wheels, through ``python -m release validate``."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import EXAMPLES, FORCED_COLOUR, Built, run_release, tiny_project
from packaging.utils import parse_wheel_filename
from wheel_factory import change_hash, write_sdist, write_wheel

from release.records import sha256_of

pytestmark = pytest.mark.e2e

TALLY = str(EXAMPLES / "tally")
CVEC = str(EXAMPLES / "cvec")
# tally's abi3 wheel of this machine's platform, among every platform the dry run builds.
TALLY_LINUX = "*-cp39-abi3-manylinux*_x86_64.whl"


def copy_artifacts(src: Path, dst: Path, *, records: bool = False) -> Path:
    """A folder of artifacts as downloaded from CI: the files, and the records if asked."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.iterdir():
        if path.is_file():
            shutil.copy2(path, dst / path.name)
    if records:
        shutil.copytree(src / ".release", dst / ".release", dirs_exist_ok=True)
        (dst / ".release" / "validate.json").unlink(missing_ok=True)
    return dst


def validate(
    project: str, dist: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = run_release("validate", "--project", project, "--dist", str(dist), *args, env=env)
    record = json.loads((dist / ".release" / "validate.json").read_text())
    return proc, record


def findings(record: dict, check: str, level: str = "error") -> list[dict]:
    return [f for f in record["findings"] if f["check"] == check and f["level"] == level]


def retag(wheel: Path, platform: str, out: Path) -> Path:
    """The same wheel, consistently re-tagged: new file name, WHEEL tags and RECORD."""
    name, version, _, tags = parse_wheel_filename(wheel.name)
    tag = next(iter(tags))
    with zipfile.ZipFile(wheel) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    dist_info = next(n.split("/")[0] for n in members if n.endswith(".dist-info/METADATA"))
    metadata = members[f"{dist_info}/METADATA"].decode()
    files = {
        n: data
        for n, data in members.items()
        if n.split("/")[-1] not in ("METADATA", "WHEEL", "RECORD") or not n.startswith(dist_info)
    }
    return write_wheel(
        out,
        str(name),
        str(version),
        f"{tag.interpreter}-{tag.abi}-{platform}",
        files=files,
        metadata=metadata,
    )


def test_clean_release_passes_and_record_lists_every_file(
    tally_release: Built, tmp_path: Path
) -> None:
    _, built = tally_release
    dist = copy_artifacts(built, tmp_path / "downloaded", records=True)
    proc, record = validate(TALLY, dist, "--tag", "v0.3.1")
    assert proc.returncode == 0, proc.stdout
    assert record["status"] == "ok"
    listed = {a["name"]: a["sha256"] for a in record["artifacts"]}
    assert listed == {p.name: sha256_of(p) for p in dist.iterdir() if p.is_file()}
    # abi3, 3.14t and 3.15t for manylinux aarch64, musllinux x86_64 and aarch64 and
    # win_amd64; abi3 for manylinux x86_64 (3.14t and 3.15t are not installed here); the sdist
    assert len(listed) >= 14
    assert not [f for f in record["findings"] if f["level"] != "info"]
    checks = record["details"]["checks"]
    (win,) = [n for n in checks if n.endswith("-cp39-abi3-win_amd64.whl")]
    linux = [n for n in checks if "linux" in n]
    assert len(linux) >= 10
    assert {"integrity", "version", "metadata", "windows-dlls", "abi3", "wheel-set"} <= set(
        checks[win]
    )
    for name in linux:
        assert {"integrity", "version", "metadata", "manylinux", "wheel-set"} <= set(checks[name])
    # The table per artifact: file, size, checks passed, findings.
    assert "checks passed" in proc.stdout and "10/10" in proc.stdout
    # The versions of the tools that judged the files are part of the evidence.
    versions = record["tool_versions"]
    assert set(versions) == {"twine", "objdump", "llvm-objdump", "auditwheel", "abi3audit"}
    assert re.fullmatch(r"twine \d+\.\d+\S*", versions["twine"]), versions
    assert all(v[:1].isalpha() and "not found" not in v for v in versions.values()), versions


def test_tag_mismatch_and_tag_from_github_ref(tally_release: Built, tmp_path: Path) -> None:
    _, built = tally_release
    # With the build records: the wheels left to other runners are notes, not errors.
    dist = copy_artifacts(built, tmp_path / "d", records=True)
    proc, record = validate(TALLY, dist, "--tag", "v0.3.2")
    assert proc.returncode == 30
    # One cause, said once: the tag disagrees with the project; the files agree with it.
    (error,) = [f for f in record["findings"] if f["level"] == "error"]
    assert error["check"] == "version"
    assert "v0.3.2 says 0.3.2" in error["message"] and "0.3.1" in error["message"]
    assert "push the tag v0.3.1" in error["remedy"]
    assert proc.stdout.count("v0.3.2 says") == 1
    # In Actions, on a tag push, the tag comes from GITHUB_REF; errors become annotations.
    summary = tmp_path / "summary.md"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REF": "refs/tags/v9.9.9",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    proc, record = validate(TALLY, dist, env=env)
    assert proc.returncode == 30
    assert record["details"]["tag"] == "v9.9.9" and record["details"]["strict"] is True
    assert "::error" in proc.stdout and "9.9.9" in proc.stdout
    assert "checks passed" in summary.read_text()


def test_skipped_windows_build_is_a_note_and_strict_requires_it(
    cvec_release: Built, tmp_path: Path
) -> None:
    _, built = cvec_release
    dist = copy_artifacts(built, tmp_path / "d", records=True)
    proc, record = validate(CVEC, dist)
    assert proc.returncode == 0, proc.stdout
    notes = [
        f["message"]
        for f in findings(record, "wheel-set", "info")
        if "was not built here" in f["message"]
    ]
    # every platform but this machine's: 7 of cvec's 8 wheels
    assert len(notes) == 7
    (note,) = [n for n in notes if "win_amd64" in n]
    assert "build-windows was skipped" in note
    assert any("macosx_arm64" in n and "build-macos was skipped" in n for n in notes)
    # The skip's reason belongs to build-windows; validate points to it, it does not repeat it.
    reason = json.loads((dist / ".release" / "build-windows.json").read_text())["reason"]
    assert reason not in proc.stdout
    assert not findings(record, "wheel-set", "warning")
    proc, record = validate(CVEC, dist, "--strict")
    assert proc.returncode == 30
    assert any("win_amd64" in f["message"] for f in findings(record, "wheel-set"))


def test_linux_x86_64_tag_is_refused_with_the_tag_it_could_have(
    tally_release: Built, tmp_path: Path
) -> None:
    _, built = tally_release
    dist = tmp_path / "d"
    dist.mkdir()
    (wheel,) = built.glob(TALLY_LINUX)
    retagged = retag(wheel, "linux_x86_64", dist)
    assert retagged.name == "tally-0.3.1-cp39-abi3-linux_x86_64.whl"
    proc, record = validate(TALLY, dist)
    assert proc.returncode == 30
    assert any("linux_x86_64" in f["message"] for f in findings(record, "pypi-tags"))
    # auditwheel read the real ELF file and says what the wheel could be repaired to.
    (info,) = findings(record, "manylinux", "info")
    assert "manylinux_2_17_x86_64" in info["message"]
    # Missing from the expected set too, and the stray wheel named.
    assert any(
        "retagged" not in f["message"] and "linux_x86_64" in f["message"]
        for f in findings(record, "wheel-set")
    )


def test_a_wheel_tagged_another_floor_than_configured(tally_release: Built, tmp_path: Path) -> None:
    """tally's floor is 2014. Tagged 2010 (older than its symbols need) or 2_28 (newer than
    the floor): one error each, from the manylinux check, naming the tag and the floor; the
    wheel-set takes the wheel, and auditwheel's own verdict says nothing else to fix."""
    _, built = tally_release
    (wheel,) = built.glob(TALLY_LINUX)
    for platform, said in [
        ("manylinux2010_x86_64", "it is tagged manylinux2010_x86_64, not the floor of"),
        ("manylinux_2_28_x86_64", "it is tagged manylinux_2_28_x86_64, a newer floor than"),
    ]:
        dist = tmp_path / platform
        dist.mkdir()
        retagged = retag(wheel, platform, dist)
        proc, record = validate(TALLY, dist)
        assert proc.returncode == 30
        errors = [f for f in record["findings"] if f["level"] == "error"]
        # every other platform's wheels are missing (only this one is here), and nothing
        # else: the re-tagged wheel is the manylinux x86_64 one the set expects
        missing = [f["message"] for f in errors if f["check"] == "wheel-set"]
        assert "the windows wheel cp39-abi3-win_amd64 is missing" in missing
        assert all(m.endswith(" is missing") for m in missing)
        assert not any("cp39-abi3-manylinux" in m and "x86_64" in m for m in missing)
        (error,) = [f for f in errors if f["check"] != "wheel-set"]
        assert (error["check"], error["file"]) == ("manylinux", retagged.name)
        assert error["message"].startswith(said)
        assert '[tool.release.linux] manylinux = "2014" (manylinux_2_17)' in error["message"]


def build_so(tmp: Path, name: str, source: str, *args: str) -> bytes:
    src = tmp / f"{name}.c"
    src.write_text(source)
    out = tmp / name
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(out), str(src), *args], check=True)
    return out.read_bytes()


def abi3_linux_release(tmp_path: Path, extension: bytes) -> Path:
    """A dist dir holding one tally abi3 manylinux wheel around the given extension module."""
    dist = tmp_path / "d"
    dist.mkdir()
    write_wheel(
        dist,
        "tally",
        "0.3.1",
        "cp39-abi3-manylinux_2_17_x86_64",
        files={"tally/__init__.py": b"", "tally/_ext.abi3.so": extension},
    )
    return dist


def test_library_outside_the_policy_and_not_bundled(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    build_so(build, "libouter.so", "int outer(void) { return 42; }\n")
    ext = build_so(
        build,
        "_ext.abi3.so",
        "int outer(void);\nint call(void) { return outer(); }\n",
        f"-L{build}",
        "-louter",
        f"-Wl,-rpath,{build}",
    )
    proc, record = validate(TALLY, abi3_linux_release(tmp_path, ext))
    assert proc.returncode == 30
    assert any("libouter.so" in f["message"] for f in findings(record, "manylinux"))


@pytest.mark.parametrize("colour", [{}, FORCED_COLOUR], ids=["plain", "colour-forced"])
def test_stable_abi_violation_in_an_abi3_wheel(tmp_path: Path, colour: dict[str, str]) -> None:
    build = tmp_path / "build"
    build.mkdir()
    # _PyObject_Dump is a private CPython function: not part of the stable ABI.
    ext = build_so(
        build,
        "_ext.abi3.so",
        "void _PyObject_Dump(void *);\nvoid PyInit__ext(void) { _PyObject_Dump(0); }\n",
    )
    proc, record = validate(TALLY, abi3_linux_release(tmp_path, ext), env=colour)
    assert proc.returncode == 30
    (error,) = findings(record, "abi3")
    assert "_PyObject_Dump" in error["message"]
    # auditwheel's report was read too: the wheel's only other finding is its own.
    assert findings(record, "manylinux") == []


def test_every_finding_at_once_and_nothing_extracted(tally_release: Built, tmp_path: Path) -> None:
    _, built = tally_release
    dist = copy_artifacts(built, tmp_path / "d")
    # Three broken things in three files; all must be reported in one run.
    (linux,) = dist.glob(TALLY_LINUX)
    linux.write_bytes(linux.read_bytes()[: linux.stat().st_size // 2])
    (sdist,) = dist.glob("*.tar.gz")
    sdist.unlink()
    write_sdist(dist, "tally", "0.3.2")
    write_wheel(
        dist,
        "tally",
        "0.3.1",
        "cp39-abi3-win_amd64",
        files={"../escape.py": b"x = 1\n", "tally/__init__.py": b""},
        filename="tally-0.3.1-cp39-abi3-win_amd64.whl",
    )
    before = sorted(p.name for p in tmp_path.rglob("*"))
    proc, record = validate(TALLY, dist)
    assert proc.returncode == 30
    files_with_errors = {f["file"] for f in record["findings"] if f["level"] == "error"}
    assert linux.name in files_with_errors
    assert "tally-0.3.2.tar.gz" in files_with_errors
    assert "tally-0.3.1-cp39-abi3-win_amd64.whl" in files_with_errors
    assert "Traceback" not in proc.stdout + proc.stderr
    # validate wrote its record and nothing else: no member was extracted anywhere.
    after = sorted(p.name for p in tmp_path.rglob("*"))
    assert set(after) - set(before) <= {"validate.json", ".release"}


def test_windows_wheel_with_missing_dll_fails_with_the_chain(
    tally_release: Built, tmp_path: Path
) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (build / "libdep.c").write_text("int dep(void) { return 1; }\n")
    subprocess.run(
        [
            "x86_64-w64-mingw32-gcc",
            "-shared",
            "-o",
            str(build / "libdep.dll"),
            str(build / "libdep.c"),
            f"-Wl,--out-implib,{build / 'libdep.a'}",
        ],
        check=True,
    )
    (build / "ext.c").write_text(
        "int dep(void);\n__declspec(dllexport) int PyInit__tally(void) { return dep(); }\n"
    )
    subprocess.run(
        [
            "x86_64-w64-mingw32-gcc",
            "-shared",
            "-o",
            str(build / "_tally.pyd"),
            str(build / "ext.c"),
            f"-L{build}",
            "-ldep",
        ],
        check=True,
    )
    dist = tmp_path / "d"
    dist.mkdir()
    write_wheel(
        dist,
        "tally",
        "0.3.1",
        "cp39-abi3-win_amd64",
        files={"tally/__init__.py": b"", "tally/_tally.pyd": (build / "_tally.pyd").read_bytes()},
    )
    proc, record = validate(TALLY, dist)
    assert proc.returncode == 30
    (error,) = findings(record, "windows-dlls")
    assert "tally/_tally.pyd -> libdep.dll" in error["message"]
    assert "::error" not in proc.stdout  # locally: plain output


@pytest.mark.parametrize(
    ("platform", "policy"),
    [
        ("manylinux1_x86_64", ("manylinux", (2, 5))),
        ("manylinux2010_i686", ("manylinux", (2, 12))),
        ("manylinux2014_aarch64", ("manylinux", (2, 17))),
        ("manylinux_2_28_x86_64", ("manylinux", (2, 28))),
        ("musllinux_1_2_x86_64", ("musllinux", (1, 2))),
        ("linux_x86_64", None),
        ("win_amd64", None),
    ],
)
def test_policy_of_a_platform_tag(
    platform: str, policy: tuple[str, tuple[int, int]] | None
) -> None:
    from release.checks.manylinux import policy_version

    assert policy_version(platform) == policy


def test_validate_without_cibuildwheel_still_reports_every_other_check(
    cvec_release: Built, tmp_path: Path
) -> None:
    """Deriving a cibuildwheel project's wheel set runs cibuildwheel; without it, that is
    one finding of the wheel-set check, and every other check still judges the files."""
    _, built = cvec_release
    dist = copy_artifacts(built, tmp_path / "d", records=True)
    # A PATH with every tool validate uses but cibuildwheel.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("twine", "auditwheel", "abi3audit", "objdump"):
        found = shutil.which(tool)
        assert found, f"{tool} is installed for the tests"
        (bin_dir / tool).symlink_to(found)
    proc, record = validate(CVEC, dist, env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert proc.returncode == 30, proc.stdout
    (error,) = findings(record, "wheel-set")
    assert "cibuildwheel is not on PATH" in error["message"]
    assert "nox -s" in error["remedy"]
    (wheel,) = [n for n in record["details"]["checks"] if n.endswith(".whl")]
    assert {"integrity", "version", "metadata", "manylinux"} <= set(
        record["details"]["checks"][wheel]
    )
    assert [f for f in record["findings"] if f["level"] == "error"] == [error]


# --- a check's bug, a check with nothing to compare, one cause said once ---------------------


def tiny_dist(tmp_path: Path, tag: str = "py3-none-any") -> tuple[Path, Path, Path]:
    """The tiny project and a dist dir holding one wheel of it, written here (no build)."""
    root = tiny_project(tmp_path)
    dist = root / "dist"
    dist.mkdir()
    wheel = write_wheel(dist, "tiny", "1.0", tag, files={"tiny/__init__.py": b"VALUE = 1\n"})
    return root, dist, wheel


def validate_here(root: Path, dist: Path, *, verbose: bool = False) -> tuple[str, int, dict]:
    """validate in this process (so that a test can break one check), as run_stage runs it."""
    from release.config import load_config
    from release.console import Console
    from release.context import RunContext
    from release.pipeline import run_stage
    from release.runner import Runner

    console = Console(github=False, verbose=verbose, stream=io.StringIO(), environ={})
    ctx = RunContext(
        config=load_config(root), dist=dist, console=console, runner=Runner(console), tag=None,
        strict=False, environ={"NOX_RELEASE_OFFLINE": "1"},  # validate asks no index
    )  # fmt: skip
    _record, error = run_stage(ctx, "validate")
    record = json.loads((dist / ".release" / "validate.json").read_text())
    output = console.stream.getvalue()  # type: ignore[attr-defined]
    return output, error.exit_code if error else 0, record


def test_a_bug_in_one_check_is_its_error_and_every_other_check_still_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # linux_x86_64: a pypi-tags error, found by another check than the broken one.
    root, dist, wheel = tiny_dist(tmp_path, "py3-none-linux_x86_64")

    def broken(*args: object) -> None:
        raise TypeError("digest() missing required argument 'length' (pos 1)")

    monkeypatch.setattr("release.checks.integrity._check_wheel", broken)
    output, code, record = validate_here(root, dist)
    # A bug of nox-release: exit 70, after every finding was reported and recorded.
    assert code == 70, output
    (bug,) = findings(record, "integrity")
    assert bug["message"] == (
        "the check stopped on a bug in nox-release (TypeError: digest() missing required "
        "argument 'length' (pos 1)); it judged none of its files"
    )
    assert "--verbose" in bug["remedy"]
    (tag,) = findings(record, "pypi-tags")
    assert tag["file"] == wheel.name
    assert "the integrity check stopped on a bug in nox-release" in output
    assert "linux_x86_64" in output
    assert record["status"] == "failed"
    # The broken check judged nothing: it does not count as passed in the table.
    assert "integrity" in record["details"]["checks"][wheel.name]
    ran = len(record["details"]["checks"][wheel.name])
    errors = [f for f in record["findings"] if f["level"] == "error"]
    failed = {f["check"] for f in errors if f["file"] == wheel.name} | {"integrity"}
    assert f" {ran - len(failed)}/{ran}" in output
    assert "Traceback" not in output
    # --verbose shows where the bug is.
    output, code, _ = validate_here(root, dist, verbose=True)
    assert code == 70
    assert "Traceback (most recent call last)" in output and "in broken" in output


def test_without_build_records_build_record_says_it_did_not_run(tmp_path: Path) -> None:
    """Files copied out of an artifact, without .release/: nothing to compare with."""
    root, dist, wheel = tiny_dist(tmp_path)
    proc = run_release("validate", "--project", str(root))
    record = json.loads((dist / ".release" / "validate.json").read_text())
    reason = (
        f"no build records in {dist / '.release'}, so the files were not compared with what "
        "their build stages made"
    )
    assert record["details"]["not_run"] == {"build-record": reason}
    assert "build-record" not in record["details"]["checks"][wheel.name]
    assert f"build-record: not run: {reason}" in proc.stdout
    ran = len(record["details"]["checks"][wheel.name])
    assert f"{ran}/{ran}, 1 not run" in proc.stdout


def test_an_edited_wheel_names_its_one_build_stage_and_each_cause_once(tmp_path: Path) -> None:
    from release.checks.base import REBUILD
    from release.records import Artifact, StageRecord, write_record

    root, dist, wheel = tiny_dist(tmp_path)
    built = StageRecord("build-linux", artifacts=[Artifact.of(wheel)])
    write_record(dist, built)
    # Edited by hand after the build: a member changed, RECORD not rewritten.
    write_wheel(
        dist, "tiny", "1.0", "py3-none-any", files={"tiny/__init__.py": b"VALUE = 1\n"},
        record=change_hash("tiny/__init__.py"),
    )  # fmt: skip
    proc = run_release("validate", "--project", str(root))
    record = json.loads((dist / ".release" / "validate.json").read_text())
    assert proc.returncode == 30, proc.stdout
    (integrity,) = findings(record, "integrity")
    (build,) = findings(record, "build-record")
    assert integrity["remedy"] == REBUILD
    assert build["message"] == (
        "it is not the file build-linux made: its sha256 differs from the one build-linux recorded"
    )
    # The one stage whose record lists the file, and not integrity's advice again.
    assert build["remedy"] == "run build-linux again (nox -s build-linux), then validate."
    assert proc.stdout.count(REBUILD) == 1
