"""The Windows DLL check, on real PE files cross-compiled with mingw-w64 and real wheels."""

from __future__ import annotations

import io
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from pe_fixtures import (
    PEBuilder,
    c_exports,
    data_directory_offset,
    move_import_descriptors_into_headers,
    move_import_name_outside_idata,
    pyd_source,
    set_machine,
    write_wheel,
)

from release import dllscan, pe
from release.console import Console
from release.errors import ToolNotFoundError
from release.records import Finding
from release.runner import Runner
from release.windows_dlls import classify

HASHED = "libpq-16d00050fdffffeae97527f26415b111.dll"
AMD64 = "cp39-abi3-win_amd64"


@dataclass(frozen=True)
class Builds:
    """Every binary the tests pack into wheels, compiled once per session."""

    ext: Path  # _ext.pyd -> libfoo.dll, python3.dll
    libfoo: Path  # -> system DLLs only
    chain_ext: Path  # _ext.pyd -> libfoo.dll
    chain_libfoo: Path  # libfoo.dll -> libbar.dll
    chain_libbar: Path
    delay_ext: Path  # _ext.pyd -(delay)-> libdelayed.dll
    libdelayed: Path
    hashed_ext: Path  # _ext.pyd -> HASHED
    hashed_lib: Path
    upper_ext: Path  # _ext.pyd -> LIBFOO.DLL
    cycle_ext: Path  # _ext.pyd -> libcyca.dll <-> libcycb.dll
    cyca: Path
    cycb: Path
    ext_i386: Path  # win32 _ext.pyd -> libfoo.dll
    libfoo_i386: Path


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    root = tmp_path_factory.mktemp("pe")

    plain = PEBuilder(root / "plain")
    python3 = plain.import_lib("python3.dll", ["PyModule_Create2"])
    libfoo = plain.dll("libfoo.dll", c_exports(["foo"]))
    ext = plain.dll(
        "_ext.pyd", pyd_source("_ext", ["foo", "PyModule_Create2"]), link=["libfoo.dll.a", python3]
    )

    chain = PEBuilder(root / "chain")
    chain_libbar = chain.dll("libbar.dll", c_exports(["bar"]))
    chain_libfoo = chain.dll("libfoo.dll", c_exports(["foo"], ["bar"]), link=["libbar.dll.a"])
    chain_ext = chain.dll("_ext.pyd", pyd_source("_ext", ["foo"]), link=["libfoo.dll.a"])

    delay = PEBuilder(root / "delay")
    libdelayed = delay.dll("libdelayed.dll", c_exports(["delayed"]))
    delay_lib = delay.import_lib("libdelayed.dll", ["delayed"], delay=True)
    delay_ext = delay.dll("_ext.pyd", pyd_source("_ext", ["delayed"]), delay_libs=[delay_lib])

    hashed = PEBuilder(root / "hashed")
    hashed_lib = hashed.dll(HASHED, c_exports(["pq"]))
    hashed_ext = hashed.dll("_ext.pyd", pyd_source("_ext", ["pq"]), link=[f"{HASHED}.a"])

    upper = PEBuilder(root / "upper")
    upper_lib = upper.import_lib("LIBFOO.DLL", ["foo"])
    upper_ext = upper.dll("_ext.pyd", pyd_source("_ext", ["foo"]), link=[upper_lib])

    cycle = PEBuilder(root / "cycle")
    cycb_lib = cycle.import_lib("libcycb.dll", ["cycb"], lib_name="cycb-first.a")
    cyca = cycle.dll("libcyca.dll", c_exports(["cyca"], ["cycb"]), link=[cycb_lib])
    cycb = cycle.dll("libcycb.dll", c_exports(["cycb"], ["cyca"]), link=["libcyca.dll.a"])
    cycle_ext = cycle.dll("_ext.pyd", pyd_source("_ext", ["cyca"]), link=["libcyca.dll.a"])

    i386 = PEBuilder(root / "i386", arch="i686")
    libfoo_i386 = i386.dll("libfoo.dll", c_exports(["foo"]))
    ext_i386 = i386.dll("_ext.pyd", pyd_source("_ext", ["foo"]), link=["libfoo.dll.a"])

    return Builds(
        ext,
        libfoo,
        chain_ext,
        chain_libfoo,
        chain_libbar,
        delay_ext,
        libdelayed,
        hashed_ext,
        hashed_lib,
        upper_ext,
        cycle_ext,
        cyca,
        cycb,
        ext_i386,
        libfoo_i386,
    )


@pytest.fixture
def runner() -> Runner:
    return Runner(Console(github=False, stream=io.StringIO()))


@pytest.fixture
def objdump_argvs(runner: Runner, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every command the runner is asked to run, in order."""
    argvs: list[list[str]] = []
    real_run = runner.run

    def recording_run(argv: list[str], **kwargs: object) -> object:
        argvs.append(list(argv))
        return real_run(argv, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "run", recording_run)
    return argvs


def wheel(tmp_path: Path, files: dict[str, bytes | Path], tag: str = AMD64) -> Path:
    return write_wheel(tmp_path, "pkg", "1.0", tag, files)


def scan_one(path: Path, runner: Runner, allow: tuple[str, ...] = ()) -> list[Finding]:
    return dllscan.scan_windows_wheels([path], runner, allow).findings[path.name]


def only_error(findings: list[Finding]) -> str:
    assert [f.level for f in findings] == ["error"], findings
    assert findings[0].check == "windows-dlls"
    return findings[0].message


# --- the cases of the issue ------------------------------------------------------------------


def test_clean_wheel_has_no_findings(builds: Builds, runner: Runner, tmp_path: Path) -> None:
    path = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext, "pkg.libs/libfoo.dll": builds.libfoo})
    scans = dllscan.scan_wheels([path], runner)
    assert scans[path.name].findings == []
    assert scans[path.name].binaries_scanned == 2


def test_missing_bundled_dll_names_the_chain(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    path = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext})
    message = only_error(scan_one(path, runner))
    assert message.startswith("pkg/_ext.pyd -> libfoo.dll: not in the wheel and not a system DLL")
    assert "allow-dlls" in message
    assert "delvewheel repair" in message


def test_missing_dll_two_levels_down_shows_the_full_chain(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    path = wheel(
        tmp_path, {"pkg/_ext.pyd": builds.chain_ext, "pkg/libfoo.dll": builds.chain_libfoo}
    )
    message = only_error(scan_one(path, runner))
    assert message.startswith(
        "pkg/_ext.pyd -> libfoo.dll -> libbar.dll: not in the wheel and not a system DLL"
    )


def test_whole_chain_bundled_in_another_directory_passes(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    path = wheel(
        tmp_path,
        {
            "pkg/_ext.pyd": builds.chain_ext,
            "pkg/libfoo.dll": builds.chain_libfoo,
            "pkg.libs/libbar.dll": builds.chain_libbar,
        },
    )
    assert dllscan.scan_wheels([path], runner)[path.name] == dllscan.WheelScan(path.name, [], 3)


def test_delay_loaded_dll_is_read(builds: Builds) -> None:
    data = builds.delay_ext.read_bytes()
    assert pe.read_delay_imports(data) == ["libdelayed.dll"]
    assert "libdelayed.dll" not in [name.lower() for name in pe.read_imports(data)]


def test_delay_loaded_dll_bundled_passes(builds: Builds, runner: Runner, tmp_path: Path) -> None:
    path = wheel(
        tmp_path, {"pkg/_ext.pyd": builds.delay_ext, "pkg/libdelayed.dll": builds.libdelayed}
    )
    assert scan_one(path, runner) == []


def test_delay_loaded_dll_missing_is_an_error(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    path = wheel(tmp_path, {"pkg/_ext.pyd": builds.delay_ext})
    assert only_error(scan_one(path, runner)).startswith("pkg/_ext.pyd -> libdelayed.dll: ")


def test_hash_renamed_bundled_dll_passes(builds: Builds, runner: Runner, tmp_path: Path) -> None:
    assert HASHED in pe.read_imports(builds.hashed_ext.read_bytes())
    path = wheel(
        tmp_path, {"pkg/_ext.pyd": builds.hashed_ext, f"pkg.libs/{HASHED}": builds.hashed_lib}
    )
    assert scan_one(path, runner) == []


def test_i386_dll_in_amd64_wheel_is_a_machine_mismatch(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    path = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo_i386})
    message = only_error(scan_one(path, runner))
    assert message.startswith("pkg/libfoo.dll is a i386 binary, but the wheel is tagged win_amd64")
    assert "x86-64" in message


def test_i386_wheel_with_i386_binaries_passes(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    files: dict[str, bytes | Path] = {
        "pkg/_ext.pyd": builds.ext_i386,
        "pkg/libfoo.dll": builds.libfoo_i386,
    }
    path = wheel(tmp_path, files, tag="cp39-abi3-win32")
    assert scan_one(path, runner) == []


def test_import_table_objdump_cannot_find_is_read_by_our_reader(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    moved = move_import_descriptors_into_headers(builds.ext.read_bytes())
    # Real objdump on the real file: the import directory is there, no DLL is listed.
    probe = tmp_path / "0.bin"
    probe.write_bytes(moved)
    output = runner.run(["objdump", "-p", probe.name], cwd=tmp_path, check=False).output
    assert "Import Directory" in output
    assert dllscan.parse_objdump(output)["0.bin"].imports == []
    assert pe.read_imports(moved) == pe.read_imports(builds.ext.read_bytes())

    missing = wheel(tmp_path / "missing", {"pkg/_ext.pyd": moved})
    assert only_error(scan_one(missing, runner)).startswith("pkg/_ext.pyd -> libfoo.dll: ")
    bundled = wheel(tmp_path / "bundled", {"pkg/_ext.pyd": moved, "pkg/libfoo.dll": builds.libfoo})
    assert scan_one(bundled, runner) == []


def test_empty_objdump_output_falls_back_to_our_reader(
    builds: Builds, runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = dllscan.parse_objdump

    def without_dll_names(output: str) -> dict[str, dllscan.ObjdumpImports]:
        dumps = real(output)
        for dump in dumps.values():
            dump.imports.clear()
        return dumps

    monkeypatch.setattr(dllscan, "parse_objdump", without_dll_names)
    path = wheel(
        tmp_path, {"pkg/_ext.pyd": builds.chain_ext, "pkg/libfoo.dll": builds.chain_libfoo}
    )
    assert only_error(scan_one(path, runner)).startswith("pkg/_ext.pyd -> libfoo.dll -> libbar.dll")


def test_unreadable_import_table_is_an_error_not_a_pass(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    data = bytearray(builds.libfoo.read_bytes())
    entry = data_directory_offset(bytes(data), 1)
    data[entry : entry + 4] = (0x7FFF0000).to_bytes(4, "little")
    path = wheel(tmp_path, {"pkg/libfoo.dll": bytes(data)})
    message = only_error(scan_one(path, runner))
    assert message.startswith("pkg/libfoo.dll: its import table could not be read")


def test_mixed_case_import_matches_bundled_file(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    assert "LIBFOO.DLL" in pe.read_imports(builds.upper_ext.read_bytes())
    path = wheel(tmp_path, {"pkg/_ext.pyd": builds.upper_ext, "pkg/libfoo.dll": builds.libfoo})
    assert scan_one(path, runner) == []


def test_import_cycle_between_bundled_dlls_terminates(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    path = wheel(
        tmp_path,
        {
            "pkg/_ext.pyd": builds.cycle_ext,
            "pkg/libcyca.dll": builds.cyca,
            "pkg/libcycb.dll": builds.cycb,
        },
    )
    assert dllscan.scan_wheels([path], runner)[path.name] == dllscan.WheelScan(path.name, [], 3)


def test_import_cycle_with_a_missing_member_reports_it_once(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    path = wheel(tmp_path, {"pkg/_ext.pyd": builds.cycle_ext, "pkg/libcyca.dll": builds.cyca})
    message = only_error(scan_one(path, runner))
    assert message.startswith("pkg/_ext.pyd -> libcyca.dll -> libcycb.dll: ")


def test_allow_dlls_accepts_an_otherwise_missing_dll(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    path = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext})
    assert scan_one(path, runner, allow=("LibFoo.DLL",)) == []


def test_missing_objdump_is_a_tool_error(
    builds: Builds, runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo})
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ToolNotFoundError) as caught:
        dllscan.scan_windows_wheels([path], runner)
    assert "binutils" in caught.value.remedy


# --- more ways a wheel can be wrong ----------------------------------------------------------


def test_arm64_binaries_objdump_cannot_read_are_read_by_our_reader(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    # Debian's binutils has no aarch64 PE support; the machine field is all that differs.
    ext = set_machine(builds.ext.read_bytes(), pe.MACHINE_ARM64)
    libfoo = set_machine(builds.libfoo.read_bytes(), pe.MACHINE_ARM64)
    tag = "cp311-cp311-win_arm64"
    clean = write_wheel(
        tmp_path, "clean", "1.0", tag, {"pkg/_ext.pyd": ext, "pkg/libfoo.dll": libfoo}
    )
    missing = write_wheel(tmp_path, "missing", "1.0", tag, {"pkg/_ext.pyd": ext})
    # The premise: objdump really cannot read these.
    (tmp_path / "arm64.bin").write_bytes(ext)
    probe = runner.run(["objdump", "-p", "arm64.bin"], cwd=tmp_path, check=False)
    assert "file format not recognized" in probe.output
    result = dllscan.scan_windows_wheels([clean, missing], runner).findings
    assert result[clean.name] == []
    assert only_error(result[missing.name]).startswith("pkg/_ext.pyd -> libfoo.dll: ")


def test_file_named_dll_that_is_not_pe_is_an_error(runner: Runner, tmp_path: Path) -> None:
    lfs = b"version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n"
    path = wheel(tmp_path, {"pkg/libfoo.dll": lfs})
    message = only_error(scan_one(path, runner))
    assert message.startswith("pkg/libfoo.dll is named like a Windows binary but is not a PE file")
    assert dllscan.scan_wheels([path], runner)[path.name].binaries_scanned == 0


def test_broken_zip_is_a_finding_not_a_crash(runner: Runner, tmp_path: Path) -> None:
    path = tmp_path / "pkg-1.0-cp39-abi3-win_amd64.whl"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    assert "cannot be read as a zip archive" in only_error(scan_one(path, runner))


def test_damaged_member_is_a_finding_not_a_crash(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    path = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo})
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("pkg/_ext.pyd")
    data = bytearray(path.read_bytes())
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle : middle + 8] = bytes(8) if data[middle : middle + 8] != bytes(8) else b"\xff" * 8
    path.write_bytes(bytes(data))
    message = only_error(scan_one(path, runner))
    assert message.startswith("pkg/_ext.pyd cannot be extracted")


def test_non_windows_wheels_are_not_scanned(builds: Builds, runner: Runner, tmp_path: Path) -> None:
    linux = write_wheel(tmp_path, "pkg", "1.0", "cp39-abi3-manylinux_2_17_x86_64", {})
    windows = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo})
    scan = dllscan.scan_windows_wheels([linux, windows], runner)
    assert scan.findings == {windows.name: []}
    assert scan.binaries_scanned == {windows.name: 2}


def test_findings_of_several_wheels_stay_apart(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    good = write_wheel(
        tmp_path,
        "good",
        "1.0",
        AMD64,
        {"good/_ext.pyd": builds.ext, "good/libfoo.dll": builds.libfoo},
    )
    bad = write_wheel(tmp_path, "bad", "1.0", AMD64, {"bad/_ext.pyd": builds.ext})
    result = dllscan.scan_windows_wheels([good, bad], runner).findings
    assert result[good.name] == []
    assert only_error(result[bad.name]).startswith("bad/_ext.pyd -> libfoo.dll: ")
    assert result[bad.name][0].file == bad.name


def test_objdump_reads_many_files_per_process(
    builds: Builds,
    runner: Runner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    objdump_argvs: list[list[str]],
) -> None:
    monkeypatch.setattr(dllscan, "CHUNK_FILES", 4)
    distinct = [
        builds.ext,
        builds.libfoo,
        builds.chain_ext,
        builds.chain_libfoo,
        builds.chain_libbar,
        builds.delay_ext,
        builds.libdelayed,
        builds.hashed_ext,
        builds.hashed_lib,
        builds.cyca,
    ]
    path = wheel(
        tmp_path, {f"pkg/sub{i}/{binary.name}": binary for i, binary in enumerate(distinct)}
    )
    assert dllscan.scan_wheels([path], runner)[path.name].binaries_scanned == 10
    assert sorted(len(argv) - 2 for argv in objdump_argvs) == [2, 4, 4]


def test_a_binary_in_several_wheels_is_read_once(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    both = {"pkg/_ext.pyd": builds.ext, "pkg.libs/libfoo.dll": builds.libfoo}
    wheels = [
        write_wheel(tmp_path, "pkg", "1.0", "cp311-cp311-win_amd64", both),
        write_wheel(tmp_path, "pkg", "1.0", "cp312-cp312-win_amd64", both),
        write_wheel(tmp_path, "pkg", "1.0", "cp313-cp313-win_amd64", {"pkg/_ext.pyd": builds.ext}),
    ]
    scan = dllscan.scan_windows_wheels(wheels, runner)
    assert objdump_argvs == [["objdump", "-p", "0.bin", "1.bin"]]
    assert [len(scan.findings[w.name]) for w in wheels] == [0, 0, 1]
    assert [scan.binaries_scanned[w.name] for w in wheels] == [2, 2, 1]


def test_archive_names_never_reach_the_disk(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    path = wheel(tmp_path, {"../../evil.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo})
    assert zipfile.ZipFile(path).namelist()[0] == "../../evil.pyd"
    dllscan.scan_windows_wheels([path], runner)
    assert objdump_argvs == [["objdump", "-p", "0.bin", "1.bin"]]
    assert not (tmp_path.parent / "evil.pyd").exists()


def test_parse_objdump_marks_corrupt_names() -> None:
    output = (
        "\n0.bin:     file format pei-x86-64\n\nThe Import Tables (interpreted .idata section)\n"
        "\tDLL Name: KERNEL32.dll\n\tDLL Name: <corrupt>\n\nThe Export Tables\n"
        "\tDLL Name: not-an-import.dll\n"
        "\n1.bin:     file format pei-i386\n\nThe Delay Import Tables\n\tDLL Name: late.dll\n"
        "objdump: 2.bin: file format not recognized\n"
    )
    dumps = dllscan.parse_objdump(output)
    assert sorted(dumps) == ["0.bin", "1.bin"]
    assert dumps["0.bin"].imports == ["KERNEL32.dll"]
    assert dumps["0.bin"].corrupt
    assert dumps["1.bin"].delay_imports == ["late.dll"]
    assert not dumps["1.bin"].corrupt


def test_objdump_and_our_reader_agree_and_the_trimmed_copy_changes_no_import(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    binaries = [getattr(builds, name) for name in Builds.__dataclass_fields__]
    originals, trimmed = tmp_path / "original", tmp_path / "trimmed"
    originals.mkdir()
    trimmed.mkdir()
    for index, binary in enumerate(binaries):
        data = binary.read_bytes()
        (originals / f"{index}.bin").write_bytes(data)
        dllscan._write_for_objdump(trimmed / f"{index}.bin", data, pe.parse_header(data))
    names = [f"{index}.bin" for index in range(len(binaries))]
    full = runner.run(["objdump", "-p", *names], cwd=originals).output
    short = runner.run(["objdump", "-p", *names], cwd=trimmed).output
    for index, binary in enumerate(binaries):
        listed = dllscan.parse_objdump(full)[f"{index}.bin"].imports
        assert listed == pe.read_imports(binary.read_bytes()), binary
        assert dllscan.parse_objdump(short)[f"{index}.bin"].imports == listed, binary
    for table in ("The Export Tables", "The Function Table", "PE File Base Relocations"):
        assert table in full
        assert table not in short


# --- the policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dll", "kind"),
    [
        ("api-ms-win-crt-runtime-l1-1-0.dll", "system"),
        ("API-MS-WIN-CORE-SYNCH-L1-2-0.DLL", "system"),
        ("ext-ms-win-ntuser-window-l1-1-0.dll", "system"),
        ("KERNEL32.dll", "system"),
        ("bcryptprimitives.dll", "system"),
        ("VCRUNTIME140.dll", "system"),
        ("vcruntime140_1.dll", "system"),
        ("python311.dll", "interpreter"),
        ("python313t.dll", "interpreter"),
        ("libpypy3.10-c.dll", "interpreter"),
        ("python3.dll", "interpreter"),
        ("PYTHON39.DLL", "interpreter"),
        ("MSVCP140.dll", "other"),
        ("libgcc_s_seh-1.dll", "other"),
        ("libwinpthread-1.dll", "other"),
        ("libgmp-10.dll", "other"),
        ("python.dll", "other"),
    ],
)
def test_classify(dll: str, kind: str) -> None:
    assert classify(dll) == kind


def test_classify_allow_list_is_case_insensitive() -> None:
    assert classify("nvcuda.dll") == "other"
    assert classify("nvcuda.dll", ["NVCUDA.DLL"]) == "system"


def test_machine_and_directories_of_real_binaries(builds: Builds) -> None:
    amd64 = pe.parse_header(builds.ext.read_bytes())
    i386 = pe.parse_header(builds.ext_i386.read_bytes())
    assert (amd64.machine_name, amd64.pe32_plus) == ("x86-64", True)
    assert (i386.machine_name, i386.pe32_plus) == ("i386", False)
    assert amd64.import_directory.present
    assert not amd64.delay_import_directory.present
    assert pe.parse_header(builds.delay_ext.read_bytes()).delay_import_directory.present
    assert sorted(n.lower() for n in pe.read_imports(builds.ext.read_bytes())) == sorted(
        ["libfoo.dll", "python3.dll", "kernel32.dll", "msvcrt.dll"]
    )
    assert not pe.is_pe(b"\x7fELF" + bytes(100))


def test_a_dll_name_outside_the_import_section_is_not_missed(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    """Repair tools (maturin) write renamed DLL names outside .idata, where objdump stops
    listing; a wheel missing that DLL must still fail."""
    original = Path(builds.ext).read_bytes()
    last = len(pe.read_imports(original)) - 1
    patched = move_import_name_outside_idata(original, last, "libmissing-1a2b3c4d.dll")
    binary = tmp_path / "patched.pyd"
    binary.write_bytes(patched)
    listed = subprocess.run(
        ["objdump", "-p", str(binary)], capture_output=True, text=True, check=True
    ).stdout
    # The precondition: objdump's own list is short, and silently so.
    assert "libmissing-1a2b3c4d.dll" not in listed
    assert "DLL Name:" in listed
    assert "libmissing-1a2b3c4d.dll" in pe.read_imports(patched)
    path = wheel(tmp_path, {"pkg/_ext.pyd": patched, "pkg.libs/libfoo.dll": builds.libfoo})
    message = only_error(scan_one(path, runner))
    assert message.startswith("pkg/_ext.pyd -> libmissing-1a2b3c4d.dll: not in the wheel")
