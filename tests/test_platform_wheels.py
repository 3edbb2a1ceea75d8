"""validate on real wheels from PyPI for platforms this host does not build: Linux aarch64
(manylinux), musllinux x86_64 and aarch64, Windows arm64, free-threaded CPython 3.14t and
abi3, judged by the real auditwheel, objdump, llvm-objdump and abi3audit; and copies of them
made bad the way releases go wrong, each refused with the file and the fix.

The wheels (tests/pypi_wheels.py) are pinned by version and sha256 and cached between runs.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import check_context, run_context, run_release, write_text
from packaging.utils import parse_wheel_filename
from pypi_wheels import GLIBC_2_34_AARCH64, WHEELS, PinnedWheel, by_project, copy_wheels, fetch
from wheel_factory import write_wheel

from release.checks import pe_imports
from release.checks.abi_tags import AbiTagsCheck
from release.checks.manylinux import ManylinuxCheck
from release.config import load_config
from release.console import Console
from release.dists import read_distribution
from release.records import Finding
from release.runner import Runner
from release.stages.check import _tools

VERSIONS = {"markupsafe": "3.0.4", "msgpack": "1.2.4", "bcrypt": "5.0.0"}

needs_auditwheel_json = pytest.mark.skipif(
    sys.version_info < (3, 10),
    reason="auditwheel for Python 3.9 (6.4.2, the last) has no show --json: the manylinux "
    "check runs on 3.10+, as the README says; the tests session runs this",
)


def first_tag(filename: str) -> str:
    """The wheel's file-name tag with its first platform: ``cp314-cp314-manylinux2014_aarch64``."""
    python, abi, platforms = filename.removesuffix(".whl").split("-")[-3:]
    return f"{python}-{abi}-{platforms.split('.')[0]}"


def project(root: Path, name: str, wheels: list[str], manylinux: str = "2014") -> Path:
    """A project releasing exactly ``wheels`` (file names), its floor what they claim."""
    linux = [first_tag(w) for w in wheels if "linux" in w]
    windows = [first_tag(w) for w in wheels if "-win" in w]
    write_text(
        root / "pyproject.toml",
        f"""\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{VERSIONS[name]}"

[tool.release]
backend = "build"

[tool.release.linux]
manylinux = "{manylinux}"

[tool.release.wheels]
linux = {json.dumps(linux)}
windows = {json.dumps(windows)}
""",
    )
    return root


def validate(root: Path, dist: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = run_release("validate", "--project", str(root), "--dist", str(dist))
    return proc, json.loads((dist / ".release" / "validate.json").read_text())


def errors(record: dict) -> list[dict]:
    return [f for f in record["findings"] if f["level"] == "error"]


def retag(
    wheel: Path, tag: str, out: Path, rename: Callable[[str], str] = lambda member: member
) -> Path:
    """The same wheel, consistently re-tagged (file name, WHEEL tags, RECORD) and its members
    renamed by ``rename``, as someone editing a built wheel makes it; the binaries untouched."""
    name, version, _, _ = parse_wheel_filename(wheel.name)
    with zipfile.ZipFile(wheel) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    dist_info = next(n.split("/")[0] for n in members if n.endswith(".dist-info/METADATA"))
    written = {f"{dist_info}/{base}" for base in ("METADATA", "WHEEL", "RECORD")}
    # maturin writes directory entries, which RECORD does not list.
    files = {
        rename(n): data for n, data in members.items() if not n.endswith("/") and n not in written
    }
    out.mkdir(parents=True, exist_ok=True)
    return write_wheel(
        out, str(name), str(version), tag, files=files,
        metadata=members[f"{dist_info}/METADATA"].decode(), dist_info=dist_info,
    )  # fmt: skip


def wheel_named(fragment: str) -> PinnedWheel:
    (found,) = [w for w in WHEELS if fragment in w.filename]
    return found


# --- the real wheels pass ----------------------------------------------------------------------


def test_the_pinned_set_has_two_projects_for_each_platform() -> None:
    def projects(*fragments: str) -> set[str]:
        return {w.project for w in WHEELS if all(f in w.filename for f in fragments)}

    assert len(projects("manylinux", "_aarch64")) >= 2
    assert len(projects("musllinux_1_2_x86_64")) >= 2
    assert len(projects("win_arm64")) >= 2
    assert len(projects("-cp314t-")) >= 2


@needs_auditwheel_json
@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_validate_passes_the_real_wheels(name: str, tmp_path: Path) -> None:
    wheels = copy_wheels(by_project(name), tmp_path / "dist")
    root = project(tmp_path / "project", name, [w.name for w in wheels])
    proc, record = validate(root, tmp_path / "dist")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert errors(record) == [] and record["status"] == "ok"
    checks = record["details"]["checks"]
    for wheel in wheels:
        ran = checks[wheel.name]
        assert "abi-tags" in ran
        assert ("manylinux" if "linux" in wheel.name else "windows-dlls") in ran, ran
        assert ("abi3" in ran) == ("-abi3-" in wheel.name)
    # The ARM64 binaries were read by an objdump that reads them, not by pefile alone.
    readers = [c["argv"][0] for c in record["commands"] if c["argv"][1:2] == ["-p"]]
    assert "llvm-objdump" in readers, record["commands"]
    assert record["tool_versions"]["llvm-objdump"].startswith("llvm-objdump ")


@needs_auditwheel_json
def test_musllinux_wheels_are_judged_by_their_own_tag_not_the_hosts_musl(
    tmp_path: Path,
) -> None:
    """musl versions no symbols: auditwheel names the host's musl (or, on a glibc host, the
    newest it knows, musllinux_1_2) for any musl binary; a real musllinux_1_1 wheel passes."""
    wheel = fetch(wheel_named("musllinux_1_1_aarch64"))
    config = load_config(project(tmp_path / "p", "bcrypt", [wheel.name]))
    ctx = check_context(config)
    assert ManylinuxCheck().run([read_distribution(wheel)], ctx) == []


# --- the bad copies are refused ----------------------------------------------------------------


@needs_auditwheel_json
def test_an_aarch64_elf_needing_a_newer_glibc_than_its_tag_is_refused(tmp_path: Path) -> None:
    built_on_2_34 = fetch(GLIBC_2_34_AARCH64)
    bad = retag(built_on_2_34, "cp39-abi3-manylinux2014_aarch64.manylinux_2_17_aarch64",
                tmp_path / "dist")  # fmt: skip
    root = project(tmp_path / "project", "bcrypt", [bad.name])
    proc, record = validate(root, tmp_path / "dist")
    assert proc.returncode == 30, proc.stdout
    (error,) = errors(record)
    assert error["check"] == "manylinux" and error["file"] == bad.name
    assert error["message"] == (
        "claims manylinux2014_aarch64, manylinux_2_17_aarch64, but its binaries "
        "(bcrypt/_bcrypt.abi3.so) need at least manylinux_2_34_aarch64 (libc.so.6 GLIBC_2.34)"
    )
    assert "manylinux_2_17 image of its architecture" in error["remedy"]
    assert bad.name in proc.stdout


@needs_auditwheel_json
def test_an_aarch64_module_named_for_x86_64_is_refused(tmp_path: Path) -> None:
    """An aarch64 ELF under the name the build machine's x86_64 Python gave it: auditwheel
    passes the ELF, and CPython on aarch64 never finds the module."""
    real = fetch(wheel_named("msgpack-1.2.4-cp314-cp314-manylinux"))
    tag = "cp314-cp314-manylinux2014_aarch64.manylinux_2_17_aarch64"
    bad = retag(real, tag, tmp_path / "dist", lambda n: n.replace("-aarch64-", "-x86_64-"))
    root = project(tmp_path / "project", "msgpack", [bad.name])
    proc, record = validate(root, tmp_path / "dist")
    assert proc.returncode == 30, proc.stdout
    (error,) = errors(record)
    assert error["check"] == "manylinux" and error["file"] == bad.name
    assert error["message"] == (
        "msgpack/_cmsgpack.cpython-314-x86_64-linux-gnu.so is named for x86_64, but the wheel "
        "is tagged manylinux2014_aarch64, manylinux_2_17_aarch64: CPython there imports "
        ".cpython-314-aarch64-linux-gnu.so, .abi3.so or .so, so the module is never found "
        "(ModuleNotFoundError)"
    )
    assert "ubuntu-24.04-arm" in error["remedy"]


def test_an_arm64_pe_tagged_win_amd64_is_refused(tmp_path: Path) -> None:
    arm64 = fetch(wheel_named("markupsafe-3.0.4-cp314-cp314-win_arm64"))
    bad = retag(arm64, "cp314-cp314-win_amd64", tmp_path / "dist")
    root = project(tmp_path / "project", "markupsafe", [bad.name])
    proc, record = validate(root, tmp_path / "dist")
    assert proc.returncode == 30, proc.stdout
    (error,) = errors(record)  # one cause, said once
    assert error["check"] == "windows-dlls" and error["file"] == bad.name
    assert error["message"] == (
        "markupsafe/_speedups.cp314-win_arm64.pyd is built for arm64 (PE machine 0xaa64), but "
        "the wheel is tagged win_amd64, which needs x86-64: Windows will refuse to load it"
    )
    assert error["remedy"].startswith("build it for x86-64, or give the wheel the platform tag")


def test_an_arm64_module_named_for_win_amd64_is_refused(tmp_path: Path) -> None:
    """What setuptools cross-compiling on x64 without SETUPTOOLS_EXT_SUFFIX makes: the right
    machine, the build host's module name, which CPython on arm64 never imports."""
    arm64 = fetch(wheel_named("markupsafe-3.0.4-cp314-cp314-win_arm64"))
    bad = retag(arm64, "cp314-cp314-win_arm64", tmp_path / "dist",
                lambda n: n.replace("win_arm64.pyd", "win_amd64.pyd"))  # fmt: skip
    root = project(tmp_path / "project", "markupsafe", [bad.name])
    proc, record = validate(root, tmp_path / "dist")
    assert proc.returncode == 30, proc.stdout
    (error,) = errors(record)
    assert error["check"] == "windows-dlls" and error["file"] == bad.name
    assert error["message"] == (
        "markupsafe/_speedups.cp314-win_amd64.pyd is named for win_amd64, but the wheel is "
        "tagged win_arm64: CPython there imports .cp314-win_arm64.pyd or a plain .pyd, so the "
        "module is never found (ModuleNotFoundError)"
    )
    assert "SETUPTOOLS_EXT_SUFFIX=.cp314-win_arm64.pyd" in error["remedy"]


# --- ARM64 PE files are read by an objdump ---------------------------------------------------


def test_arm64_binaries_are_read_by_llvm_objdump_as_pefile_reads_them(tmp_path: Path) -> None:
    runner = Runner(Console(github=False, stream=io.StringIO()))
    binaries: dict[str, bytes] = {}
    for pinned in WHEELS:
        if pinned.filename.endswith("win_arm64.whl"):
            with zipfile.ZipFile(fetch(pinned)) as archive:
                binaries.update(
                    {f"{pinned.filename}!{n}": archive.read(n) for n in archive.namelist()
                     if n.endswith((".pyd", ".dll"))}
                )  # fmt: skip
    assert len(binaries) >= 6
    for index, (where, data) in enumerate(binaries.items()):
        facts = pe_imports.read_pe(data)
        assert facts.machine == pe_imports.MACHINE_ARM64, where
        scratch = f"{index}.bin"
        (tmp_path / scratch).write_bytes(pe_imports.copy_for_objdump(data))
        reader = pe_imports.objdump_for(facts.machine)
        dumps = pe_imports.run_objdump([scratch], tmp_path, runner, 1, program=reader)
        assert dumps[scratch].imports == facts.imports and facts.imports, where
        # GNU objdump (Debian's binutils 2.40) lists nothing: "file format not recognized".
        assert pe_imports.run_objdump([scratch], tmp_path, runner, 1).get(scratch) is None


# --- abi3, free-threaded, and the modules' names ------------------------------------------------


def abi_findings(wheel: Path) -> list[Finding]:
    return AbiTagsCheck().judge(read_distribution(wheel))


def test_a_gil_build_retagged_free_threaded_is_refused(tmp_path: Path) -> None:
    gil = fetch(wheel_named("msgpack-1.2.4-cp314-cp314-manylinux"))
    bad = retag(gil, "cp314-cp314t-manylinux2014_aarch64", tmp_path)
    findings = abi_findings(bad)
    assert findings and all(f.level == "error" and f.file == bad.name for f in findings)
    assert findings[0].message.startswith(
        "msgpack/_cmsgpack.cpython-314-aarch64-linux-gnu.so is named for CPython 3.14 alone "
        "(.cpython-314-aarch64-linux-gnu.so), but the wheel is tagged "
        "cp314-cp314t-manylinux2014_aarch64: free-threaded CPython 3.14t installs it and "
        "cannot import the module"
    )


def test_an_abi3_module_in_a_free_threaded_wheel_is_refused(tmp_path: Path) -> None:
    abi3 = fetch(wheel_named("bcrypt-5.0.0-cp39-abi3-musllinux_1_2_x86_64"))
    bad = retag(abi3, "cp314-cp314t-musllinux_1_2_x86_64", tmp_path)
    (error,) = abi_findings(bad)
    assert error.message.startswith(
        "bcrypt/_bcrypt.abi3.so is named for the stable ABI (abi3) (.abi3.so), but the wheel "
        "is tagged cp314-cp314t-musllinux_1_2_x86_64: free-threaded CPython 3.14t installs it"
    )
    assert error.remedy is not None and error.remedy.startswith("free-threaded CPython has no abi3")


def test_a_free_threaded_module_in_an_abi3_wheel_is_refused(tmp_path: Path) -> None:
    free = fetch(wheel_named("markupsafe-3.0.4-cp314-cp314t-win_arm64"))
    bad = retag(free, "cp39-abi3-win_arm64", tmp_path)
    (error,) = abi_findings(bad)
    assert "markupsafe/_speedups.cp314t-win_arm64.pyd is named for CPython 3.14t" in error.message
    assert "tagged cp39-abi3-win_arm64: CPython 3.9 and later (GIL builds)" in error.message


@pytest.mark.parametrize(
    ("tag", "said"),
    [
        ("cp314t-cp314t-manylinux_2_17_x86_64", 'its python tag cp314t has a "t"'),
        ("cp314-abi3t-manylinux_2_17_x86_64", "the free-threaded stable ABI begins with 3.15"),
        ("cp313-cp314t-manylinux_2_17_x86_64", "names CPython 3.13 and the ABI of 3.14t"),
        ("cp314-abi3.cp314t-manylinux_2_17_x86_64", "tagged both abi3"),
    ],
)
def test_tags_no_installer_or_binary_can_meet_are_refused(
    tag: str, said: str, tmp_path: Path
) -> None:
    wheel = write_wheel(tmp_path, "demo_pkg", "1.0", tag, files={"demo_pkg/_m.so": b"\x7fELF"})
    (error,) = abi_findings(wheel)
    assert said in error.message and error.remedy


@pytest.mark.parametrize(
    ("tag", "module"),
    [
        ("cp314-cp314t-manylinux_2_17_x86_64", "_m.cpython-314t-x86_64-linux-gnu.so"),
        ("cp314-cp314-manylinux_2_17_x86_64", "_m.abi3.so"),  # abi3 loads on a GIL build
        ("cp39-abi3-win_amd64", "_m.pyd"),
        ("cp315-abi3.abi3t-manylinux_2_17_x86_64", "_m.abi3t.so"),
        ("cp314-cp314t-win_amd64", "_m.cp314t-win_amd64.pyd"),
        ("cp314-cp314t-manylinux_2_17_x86_64", "libfoo-1a2b.so.1"),  # not a module
    ],
)
def test_modules_named_for_their_tag_pass(tag: str, module: str, tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path, "demo_pkg", "1.0", tag, files={f"demo_pkg/{module}": b"x"})
    assert abi_findings(wheel) == []


def test_check_names_llvm_objdump_when_win_arm64_wheels_are_expected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_binutils = tmp_path / "bin"
    only_binutils.mkdir()
    objdump = shutil.which("objdump")
    assert objdump, "binutils' objdump is needed (Debian/Ubuntu: apt-get install binutils)"
    (only_binutils / "objdump").symlink_to(objdump)
    monkeypatch.setenv("PATH", str(only_binutils))
    arm64 = ["markupsafe-3.0.4-cp314-cp314-win_arm64.whl"]
    amd64 = ["markupsafe-3.0.4-cp314-cp314-win_amd64.whl"]
    found = _tools(run_context(load_config(project(tmp_path / "arm64", "markupsafe", arm64))))
    (error,) = [f for f in found if "llvm-objdump" in f.message]
    assert error.message.startswith("llvm-objdump is not on PATH; validate reads the DLL imports")
    assert error.remedy is not None and "apt-get install llvm" in error.remedy
    found = _tools(run_context(load_config(project(tmp_path / "amd64", "markupsafe", amd64))))
    assert not [f for f in found if "llvm-objdump" in f.message]
