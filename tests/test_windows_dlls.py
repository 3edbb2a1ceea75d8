"""The windows-dlls check, on real PE files cross-compiled with mingw-w64 and real wheels.

Every binary is read by objdump and by pefile (release.checks.pe_imports); the regression
cases here are the ones objdump alone gets wrong: a DLL name stored outside .idata, an
import table in the header slack, delay imports, machines objdump has no support for.
"""

from __future__ import annotations

import io
import struct
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from packaging.tags import parse_tag
from pe_fixtures import (
    PEBuilder,
    c_exports,
    data_directory_offset,
    import_descriptor_offset,
    move_import_descriptors_into_headers,
    move_import_name_outside_idata,
    pyd_source,
    set_machine,
    write_wheel,
)

from release.checks import pe_imports
from release.checks.base import CheckContext
from release.checks.dll_policy import classify, interpreter_dlls_for, where_to_get
from release.checks.integrity import Integrity
from release.checks.windows_dlls import WindowsDllsCheck, binaries_in, scan_wheels
from release.config import WindowsConfig
from release.console import Console
from release.dists import Distribution, read_distribution
from release.errors import ToolNotFoundError
from release.records import Finding
from release.runner import Runner

HASHED = "libpq-16d00050fdffffeae97527f26415b111.dll"
MINGW_RUNTIME = "libgcc_s_seh-1.dll"
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
    mingw_ext: Path  # _ext.pyd -> MINGW_RUNTIME
    py39_ext: Path  # _ext.pyd -> python39.dll
    py313t_ext: Path  # _ext.pyd -> python313t.dll
    py3_ext: Path  # _ext.pyd -> python3.dll


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

    mingw = PEBuilder(root / "mingw")
    gcc_lib = mingw.import_lib(MINGW_RUNTIME, ["__gcc_helper"])
    mingw_ext = mingw.dll("_ext.pyd", pyd_source("_ext", ["__gcc_helper"]), link=[gcc_lib])

    interpreters = PEBuilder(root / "interpreters")
    py39_ext, py313t_ext, py3_ext = (
        interpreters.dll(
            f"_ext_{dll.split('.')[0]}.pyd",
            pyd_source("_ext", ["PyModule_Create2"]),
            link=[interpreters.import_lib(dll, ["PyModule_Create2"])],
        )
        for dll in ("python39.dll", "python313t.dll", "python3.dll")
    )

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
        mingw_ext,
        py39_ext,
        py313t_ext,
        py3_ext,
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


def wheel(
    tmp_path: Path,
    files: dict[str, bytes | Path],
    tag: str = AMD64,
    name: str = "pkg",
    compression: int = zipfile.ZIP_DEFLATED,
) -> Distribution:
    return read_distribution(
        write_wheel(tmp_path, name, "1.0", tag, files, compression=compression)
    )


def scan_one(dist: Distribution, runner: Runner, allow: tuple[str, ...] = ()) -> list[Finding]:
    findings = scan_wheels([dist], runner, allow)
    assert all(f.file == dist.filename for f in findings), findings
    return findings


def of(findings: list[Finding], dist: Distribution) -> list[Finding]:
    return [f for f in findings if f.file == dist.filename]


def only_error(findings: list[Finding]) -> Finding:
    assert [f.level for f in findings] == ["error"], findings
    assert findings[0].check == "windows-dlls"
    return findings[0]


def objdump_p(runner: Runner, tmp_path: Path, data: bytes, name: str = "probe.bin") -> str:
    """What real objdump prints for ``data``."""
    (tmp_path / name).write_bytes(data)
    return runner.run(["objdump", "-p", name], cwd=tmp_path, check=False).output


def listed_by_objdump(output: str) -> list[str]:
    return [
        line.split("DLL Name:", 1)[1].strip() for line in output.splitlines() if "DLL Name:" in line
    ]


# --- the cases of the issue ------------------------------------------------------------------


def test_clean_wheel_has_no_findings(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext, "pkg.libs/libfoo.dll": builds.libfoo})
    assert scan_wheels([dist], runner) == []
    assert binaries_in(dist) == 2
    assert objdump_argvs == [["objdump", "-p", "0.bin", "1.bin"]]


def test_an_abi3_wheel_linked_against_one_versions_dll_is_an_error(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    """PyO3 without abi3's import library links python39.dll: the wheel installs on every
    CPython from 3.9, and fails to import on 3.10 and later."""
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.py39_ext})
    error = only_error(scan_one(dist, runner))
    assert error.message == (
        "pkg/_ext.pyd imports python39.dll, but the wheel is tagged cp39-abi3, whose "
        "interpreters provide python3.dll; python39.dll is CPython 3.9's alone, so on any "
        'other version importing the module fails with "DLL load failed"'
    )
    assert error.remedy == (
        "link against python3.dll, the stable ABI's DLL (PyO3: the abi3 feature, with "
        "generate-import-lib to make its import library when cross-compiling); or, if it is "
        "meant for CPython 3.9 alone, tag the wheel cp39-cp39-win_amd64."
    )


def test_the_interpreter_dll_fits_the_version_specific_tag(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    # One version's DLL, or the stable ABI's, in a wheel of that version.
    for ext, tag in (
        (builds.py39_ext, "cp39-cp39-win_amd64"),
        (builds.py3_ext, "cp39-cp39-win_amd64"),
        (builds.py3_ext, AMD64),
        (builds.py313t_ext, "cp313-cp313t-win_amd64"),
    ):
        dist = wheel(tmp_path / tag / ext.name, {"pkg/_ext.pyd": ext}, tag=tag)
        assert scan_one(dist, runner) == [], (ext.name, tag)


def test_an_interpreter_dll_of_another_version_or_build_is_an_error(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(tmp_path / "a", {"pkg/_ext.pyd": builds.py39_ext}, tag="cp311-cp311-win_amd64")
    error = only_error(scan_one(dist, runner))
    assert "imports python39.dll, but the wheel is tagged cp311-cp311, whose interpreters " in (
        error.message
    )
    assert "provide python3.dll or python311.dll" in error.message
    assert error.remedy is not None
    assert error.remedy.startswith("link against python3.dll or python311.dll")
    assert error.remedy.endswith("tag the wheel cp39-cp39-win_amd64.")
    # The free-threaded build cannot load the stable ABI's python3.dll.
    dist = wheel(tmp_path / "b", {"pkg/_ext.pyd": builds.py3_ext}, tag="cp313-cp313t-win_amd64")
    error = only_error(scan_one(dist, runner))
    assert error.message == (
        "pkg/_ext.pyd imports python3.dll, but the wheel is tagged cp313-cp313t, whose "
        "interpreters provide python313t.dll or python3t.dll, not python3.dll, so importing "
        'the module fails with "DLL load failed"'
    )


def test_tags_that_do_not_name_a_cpython_build_leave_the_interpreter_dll_alone(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.py39_ext}, tag="pp39-pypy39_pp73-win_amd64")
    assert scan_one(dist, runner) == []


@pytest.mark.parametrize(
    ("tag", "provided"),
    [
        ("cp39-abi3-win_amd64", {"python3.dll"}),
        ("cp315-abi3t-win_amd64", {"python3t.dll"}),
        ("cp315-abi3.abi3t-win_amd64", {"python3.dll", "python3t.dll"}),
        ("cp312-cp312-win_amd64", {"python312.dll", "python3.dll"}),
        ("cp314-cp314t-win_amd64", {"python314t.dll", "python3t.dll"}),
        ("cp310-none-win_amd64", {"python310.dll", "python3.dll"}),
        ("py3-none-win_amd64", None),
        ("pp310-pypy310_pp73-win_amd64", None),
    ],
)
def test_interpreter_dlls_for_a_tag(tag: str, provided: set[str] | None) -> None:
    expected = None if provided is None else frozenset(provided)
    assert interpreter_dlls_for(parse_tag(tag)) == expected


def test_missing_bundled_dll_names_the_chain(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext})
    finding = only_error(scan_one(dist, runner))
    assert finding.file == dist.filename
    assert finding.message.startswith(
        "pkg/_ext.pyd -> libfoo.dll: not in the wheel and not a system DLL"
    )
    assert '"DLL load failed"' in finding.message
    # The cause is in the message, the advice in the remedy.
    assert "allow-dlls" not in finding.message
    assert finding.remedy is not None
    assert "delvewheel repair" in finding.remedy
    assert '"libfoo.dll" to [tool.release.windows] allow-dlls' in finding.remedy


def test_missing_dll_two_levels_down_shows_the_full_chain(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(
        tmp_path, {"pkg/_ext.pyd": builds.chain_ext, "pkg/libfoo.dll": builds.chain_libfoo}
    )
    finding = only_error(scan_one(dist, runner))
    assert finding.message.startswith(
        "pkg/_ext.pyd -> libfoo.dll -> libbar.dll: not in the wheel and not a system DLL"
    )
    assert finding.remedy is not None and '"libbar.dll"' in finding.remedy


def test_a_missing_mingw_runtime_dll_says_where_it_comes_from(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.mingw_ext})
    message = only_error(scan_one(dist, runner)).message
    assert message.startswith(f"pkg/_ext.pyd -> {MINGW_RUNTIME}: not in the wheel")
    hint = where_to_get(MINGW_RUNTIME)
    assert hint is not None and "MinGW-w64 runtime" in hint
    assert hint in message


def test_whole_chain_bundled_in_another_directory_passes(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    dist = wheel(
        tmp_path,
        {
            "pkg/_ext.pyd": builds.chain_ext,
            "pkg/libfoo.dll": builds.chain_libfoo,
            "pkg.libs/libbar.dll": builds.chain_libbar,
        },
    )
    assert scan_wheels([dist], runner) == []
    assert binaries_in(dist) == 3
    assert [len(argv) - 2 for argv in objdump_argvs] == [3]


def test_delay_loaded_dll_is_read_though_objdump_lists_none(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    data = builds.delay_ext.read_bytes()
    # The premise: this objdump prints no delay-import table; only pefile finds the DLL.
    assert "libdelayed.dll" not in objdump_p(runner, tmp_path, data)
    facts = pe_imports.read_pe(data)
    assert facts.delay_present
    assert facts.delay_imports == ["libdelayed.dll"]
    assert "libdelayed.dll" not in [name.lower() for name in facts.imports]


def test_delay_loaded_dll_bundled_passes(builds: Builds, runner: Runner, tmp_path: Path) -> None:
    dist = wheel(
        tmp_path, {"pkg/_ext.pyd": builds.delay_ext, "pkg/libdelayed.dll": builds.libdelayed}
    )
    assert scan_one(dist, runner) == []


def test_delay_loaded_dll_missing_is_an_error(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.delay_ext})
    message = only_error(scan_one(dist, runner)).message
    assert message.startswith("pkg/_ext.pyd -> libdelayed.dll: not in the wheel")


def test_hash_renamed_bundled_dll_passes(builds: Builds, runner: Runner, tmp_path: Path) -> None:
    assert HASHED in pe_imports.read_pe(builds.hashed_ext.read_bytes()).imports
    dist = wheel(
        tmp_path, {"pkg/_ext.pyd": builds.hashed_ext, f"pkg.libs/{HASHED}": builds.hashed_lib}
    )
    assert scan_one(dist, runner) == []


def test_i386_dll_in_amd64_wheel_is_a_machine_mismatch(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo_i386})
    finding = only_error(scan_one(dist, runner))
    assert finding.message.startswith(
        "pkg/libfoo.dll is built for i386 (PE machine 0x014c), but the wheel is tagged win_amd64, "
        "which needs x86-64"
    )
    assert "Windows will refuse to load it" in finding.message
    assert finding.remedy is not None and finding.remedy.startswith("build it for x86-64")


def test_i386_wheel_with_i386_binaries_passes(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    files: dict[str, bytes | Path] = {
        "pkg/_ext.pyd": builds.ext_i386,
        "pkg/libfoo.dll": builds.libfoo_i386,
    }
    assert scan_one(wheel(tmp_path, files, tag="cp39-abi3-win32"), runner) == []


def test_a_wheel_tagged_for_two_machines_takes_binaries_of_either(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    tag = "py3-none-win32.win_amd64"
    mixed = wheel(
        tmp_path / "mixed", {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo_i386}, tag
    )
    assert scan_one(mixed, runner) == []
    arm64 = set_machine(builds.libfoo.read_bytes(), pe_imports.MACHINE_ARM64)
    wrong = wheel(tmp_path / "wrong", {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": arm64}, tag)
    message = only_error(scan_one(wrong, runner)).message
    assert message.startswith(
        "pkg/libfoo.dll is built for arm64 (PE machine 0xaa64), but the wheel is tagged win32, "
        "win_amd64, "
        "which needs i386 or x86-64"
    )


def test_import_table_objdump_cannot_find_is_read_by_pefile(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    original = builds.ext.read_bytes()
    moved = move_import_descriptors_into_headers(original)
    # Real objdump on the real file: the import directory is there, no DLL is listed.
    output = objdump_p(runner, tmp_path, moved, "0.bin")
    assert "Import Directory" in output
    assert pe_imports.parse_objdump(output)["0.bin"].imports == []
    assert pe_imports.read_pe(moved).imports == pe_imports.read_pe(original).imports
    assert "libfoo.dll" in pe_imports.read_pe(moved).imports

    missing = wheel(tmp_path / "missing", {"pkg/_ext.pyd": moved})
    message = only_error(scan_one(missing, runner)).message
    assert message.startswith("pkg/_ext.pyd -> libfoo.dll: not in the wheel")
    bundled = wheel(tmp_path / "bundled", {"pkg/_ext.pyd": moved, "pkg/libfoo.dll": builds.libfoo})
    assert scan_one(bundled, runner) == []


def test_a_dll_name_outside_the_import_section_is_not_missed(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    """Repair tools (maturin) write renamed DLL names outside .idata, where objdump stops
    listing; a wheel missing that DLL must still fail."""
    original = builds.ext.read_bytes()
    last = len(pe_imports.read_pe(original).imports) - 1
    patched = move_import_name_outside_idata(original, last, "libmissing-1a2b3c4d.dll")
    binary = tmp_path / "patched.pyd"
    binary.write_bytes(patched)
    listed = subprocess.run(
        ["objdump", "-p", str(binary)], capture_output=True, text=True, check=True
    ).stdout
    # The precondition: objdump's own list is short, and silently so.
    assert "libmissing-1a2b3c4d.dll" not in listed
    assert "DLL Name:" in listed
    assert "libmissing-1a2b3c4d.dll" in pe_imports.read_pe(patched).imports
    dist = wheel(tmp_path, {"pkg/_ext.pyd": patched, "pkg.libs/libfoo.dll": builds.libfoo})
    message = only_error(scan_one(dist, runner)).message
    assert message.startswith("pkg/_ext.pyd -> libmissing-1a2b3c4d.dll: not in the wheel")


def test_empty_objdump_output_falls_back_to_pefile(
    builds: Builds, runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pe_imports.parse_objdump

    def without_dll_names(output: str) -> dict[str, pe_imports.ObjdumpImports]:
        dumps = real(output)
        for dump in dumps.values():
            dump.imports.clear()
        return dumps

    monkeypatch.setattr(pe_imports, "parse_objdump", without_dll_names)
    dist = wheel(
        tmp_path, {"pkg/_ext.pyd": builds.chain_ext, "pkg/libfoo.dll": builds.chain_libfoo}
    )
    message = only_error(scan_one(dist, runner)).message
    assert message.startswith("pkg/_ext.pyd -> libfoo.dll -> libbar.dll: not in the wheel")


def test_what_objdump_lists_counts_when_pefile_lists_nothing(
    builds: Builds, runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check judges the union: a DLL only objdump names is followed too."""
    real = pe_imports.read_pe

    def without_dll_names(data: bytes) -> pe_imports.PEFacts:
        facts = real(data)
        facts.imports.clear()
        return facts

    monkeypatch.setattr(pe_imports, "read_pe", without_dll_names)
    dist = wheel(
        tmp_path, {"pkg/_ext.pyd": builds.chain_ext, "pkg/libfoo.dll": builds.chain_libfoo}
    )
    message = only_error(scan_one(dist, runner)).message
    assert message.startswith("pkg/_ext.pyd -> libfoo.dll -> libbar.dll: not in the wheel")


def _far_directory(data: bytes, index: int) -> bytes:
    """``data`` with data directory ``index`` pointing far beyond the image."""
    out = bytearray(data)
    struct.pack_into("<I", out, data_directory_offset(data, index), 0x7FFF0000)
    return bytes(out)


def test_unreadable_import_table_is_an_error_not_a_pass(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    data = _far_directory(builds.libfoo.read_bytes(), 1)
    # Neither reader lists a DLL; pefile says why.
    assert listed_by_objdump(objdump_p(runner, tmp_path, data)) == []
    facts = pe_imports.read_pe(data)
    assert facts.import_present
    assert facts.imports == []
    assert facts.warnings
    dist = wheel(tmp_path, {"pkg/libfoo.dll": data})
    finding = only_error(scan_one(dist, runner))
    assert finding.message.startswith(
        "pkg/libfoo.dll: the import directory is present but unreadable: "
    )
    for warning in facts.warnings:
        assert warning in finding.message
    assert "the DLLs it needs are unknown" in finding.message
    assert finding.remedy is not None and "not damaged" in finding.remedy


def test_unreadable_delay_import_table_is_an_error_not_a_pass(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    data = _far_directory(builds.delay_ext.read_bytes(), 13)
    facts = pe_imports.read_pe(data)
    assert facts.delay_present
    assert facts.delay_imports == []
    # Bundling the DLL it would have named does not make the unread table pass.
    dist = wheel(tmp_path, {"pkg/_ext.pyd": data, "pkg/libdelayed.dll": builds.libdelayed})
    message = only_error(scan_one(dist, runner)).message
    assert message.startswith(
        "pkg/_ext.pyd: the delay-import directory is present but unreadable: "
    )
    assert "0x7fff0000" in message.lower()


def test_an_import_directory_whose_first_entry_is_empty_is_an_error(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    """No reader warns about a directory that points at the terminating descriptor, and
    neither lists a DLL: that is "unreadable", not "imports nothing"."""
    original = builds.libfoo.read_bytes()
    data = bytearray(original)
    entry = data_directory_offset(original, 1)
    rva, _size = struct.unpack_from("<II", original, entry)
    count = len(pe_imports.read_pe(original).imports)
    struct.pack_into("<I", data, entry, rva + 20 * count)  # the all-zero last descriptor
    assert pe_imports.read_pe(bytes(data)).imports == []
    assert listed_by_objdump(objdump_p(runner, tmp_path, bytes(data))) == []
    dist = wheel(tmp_path, {"pkg/libfoo.dll": bytes(data)})
    message = only_error(scan_one(dist, runner)).message
    assert message.startswith("pkg/libfoo.dll: the import directory is present but unreadable")
    assert "neither objdump nor pefile could list any DLL" in message


def test_objdump_calling_a_table_corrupt_that_pefile_cannot_list_is_an_error(
    builds: Builds, runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = builds.ext.read_bytes()
    data = bytearray(original)
    # Descriptor 1's name points at a zero byte: objdump prints an empty DLL name.
    rva, _size = struct.unpack_from("<II", original, data_directory_offset(original, 1))
    count = len(pe_imports.read_pe(original).imports)
    struct.pack_into("<I", data, import_descriptor_offset(original, 1) + 12, rva + 20 * count)
    output = objdump_p(runner, tmp_path, bytes(data), "0.bin")
    assert pe_imports.parse_objdump(output)["0.bin"].corrupt
    real = pe_imports.read_pe

    def lists_nothing(data: bytes) -> pe_imports.PEFacts:
        facts = real(data)
        facts.imports.clear()
        return facts

    monkeypatch.setattr(pe_imports, "read_pe", lists_nothing)
    dist = wheel(tmp_path, {"pkg/_ext.pyd": bytes(data), "pkg/libfoo.dll": builds.libfoo})
    messages = [f.message for f in scan_one(dist, runner)]
    assert messages == [
        "pkg/_ext.pyd: the import table has an entry neither reader can read, so the DLLs it "
        "needs are unknown and the wheel cannot be shown to load"
    ]


def test_a_binary_cut_short_in_its_headers_is_an_error_not_a_pass(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    """Cut off just before its import directory entry: objdump does not recognise the file,
    pefile warns that the optional header is corrupt. Windows cannot load it, and nobody
    read what it imports, so the check must not pass it."""
    data = builds.ext.read_bytes()
    cut = data[: data_directory_offset(data, 1)]
    assert "file format not recognized" in objdump_p(runner, tmp_path, cut)
    dist = wheel(tmp_path, {"pkg/_ext.pyd": cut, "pkg/libfoo.dll": builds.libfoo})
    findings = scan_one(dist, runner)
    assert [f.level for f in findings] == ["error"], findings
    assert findings[0].message.startswith("pkg/_ext.pyd")


def test_mixed_case_import_matches_bundled_file(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    assert "LIBFOO.DLL" in pe_imports.read_pe(builds.upper_ext.read_bytes()).imports
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.upper_ext, "pkg/libfoo.dll": builds.libfoo})
    assert scan_one(dist, runner) == []


def test_import_cycle_between_bundled_dlls_terminates(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(
        tmp_path,
        {
            "pkg/_ext.pyd": builds.cycle_ext,
            "pkg/libcyca.dll": builds.cyca,
            "pkg/libcycb.dll": builds.cycb,
        },
    )
    assert scan_one(dist, runner) == []
    assert binaries_in(dist) == 3


def test_import_cycle_with_a_missing_member_reports_it_once(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.cycle_ext, "pkg/libcyca.dll": builds.cyca})
    message = only_error(scan_one(dist, runner)).message
    assert message.startswith("pkg/_ext.pyd -> libcyca.dll -> libcycb.dll: ")


def test_allow_dlls_accepts_an_otherwise_missing_dll(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext})
    assert scan_one(dist, runner, allow=("LibFoo.DLL",)) == []
    # Only the DLL named: another missing one is still an error.
    other = wheel(
        tmp_path / "other",
        {"pkg/_ext.pyd": builds.chain_ext, "pkg/libfoo.dll": builds.chain_libfoo},
    )
    assert only_error(scan_one(other, runner, allow=("LibFoo.DLL",))).message.startswith(
        "pkg/_ext.pyd -> libfoo.dll -> libbar.dll: "
    )


def test_the_check_takes_allow_dlls_from_the_configuration(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext})
    check = WindowsDllsCheck()
    assert check.name == "windows-dlls"
    assert check.applies_to(dist)

    def run(allow: tuple[str, ...]) -> list[Finding]:
        config = SimpleNamespace(windows=WindowsConfig(allow_dlls=allow))
        ctx = cast(CheckContext, SimpleNamespace(config=config, runner=runner))
        return check.run([dist], ctx)

    assert run(("libfoo.dll",)) == []
    assert only_error(run(())).message.startswith("pkg/_ext.pyd -> libfoo.dll: ")


def test_missing_objdump_is_a_tool_error(
    builds: Builds, runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo})
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(ToolNotFoundError) as caught:
        scan_wheels([dist], runner)
    assert "binutils" in caught.value.remedy


# --- more ways a wheel can be wrong ----------------------------------------------------------


@pytest.mark.parametrize(
    ("machine", "tag"),
    [
        (pe_imports.MACHINE_ARM64, "cp311-cp311-win_arm64"),
        (pe_imports.MACHINE_IA64, "cp39-cp39-win_ia64"),
    ],
)
def test_binaries_objdump_cannot_read_are_read_by_pefile(
    builds: Builds, runner: Runner, tmp_path: Path, machine: int, tag: str
) -> None:
    # Debian's binutils has no aarch64 (or ia64) PE support; the machine field is all that
    # differs.
    ext = set_machine(builds.ext.read_bytes(), machine)
    libfoo = set_machine(builds.libfoo.read_bytes(), machine)
    clean = wheel(tmp_path, {"pkg/_ext.pyd": ext, "pkg/libfoo.dll": libfoo}, tag, "clean")
    missing = wheel(tmp_path, {"pkg/_ext.pyd": ext}, tag, "missing")
    # The premise: objdump really cannot read these.
    assert "file format not recognized" in objdump_p(runner, tmp_path, ext)
    assert pe_imports.read_pe(ext).machine == machine
    findings = scan_wheels([clean, missing], runner)
    assert of(findings, clean) == []
    assert only_error(of(findings, missing)).message.startswith("pkg/_ext.pyd -> libfoo.dll: ")


def test_a_windows_tag_for_an_unknown_machine_is_an_error(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    dist = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext}, tag="cp39-abi3-win_riscv64")
    assert WindowsDllsCheck().applies_to(dist)
    finding = only_error(scan_one(dist, runner))
    assert finding.message == (
        "its platform tag win_riscv64 names no Windows machine nox-release knows, so its "
        "DLLs were not checked"
    )
    assert finding.remedy is not None and "win_amd64" in finding.remedy
    assert objdump_argvs == []


def test_file_named_dll_that_is_not_pe_is_an_error(
    runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    lfs = b"version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 1\n"
    dist = wheel(tmp_path, {"pkg/libfoo.dll": lfs})
    finding = only_error(scan_one(dist, runner))
    assert finding.message.startswith(
        "pkg/libfoo.dll is named like a Windows binary, but it is not a PE file"
    )
    assert "Windows cannot load it" in finding.message
    assert finding.remedy is not None and "Git LFS pointer" in finding.remedy
    assert objdump_argvs == []  # nothing objdump could read


def test_not_pe_files_alone_need_no_objdump(
    runner: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = wheel(tmp_path, {"pkg/libfoo.dll": b"\x7fELF" + bytes(100)})
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert "is not a PE file" in only_error(scan_one(dist, runner)).message


def test_read_pe_refuses_what_is_not_pe() -> None:
    for data in (b"", b"MZ", b"\x7fELF" + bytes(100), b"version https://git-lfs"):
        with pytest.raises(pe_imports.NotPE):
            pe_imports.read_pe(data)


def test_broken_zip_is_left_to_the_integrity_check(runner: Runner, tmp_path: Path) -> None:
    path = tmp_path / "pkg-1.0-cp39-abi3-win_amd64.whl"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    dist = read_distribution(path)
    assert dist.read_problem is not None
    assert not WindowsDllsCheck().applies_to(dist)
    assert scan_wheels([dist], runner) == []  # and no crash
    assert "error" in [f.level for f in Integrity().inspect(dist)]


def test_damaged_member_is_left_to_the_integrity_check(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    path = write_wheel(
        tmp_path, "pkg", "1.0", AMD64, {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo}
    )
    _damage(path, "pkg/_ext.pyd")
    dist = read_distribution(path)
    assert next(m for m in dist.members if m.name == "pkg/_ext.pyd").error is not None
    assert scan_wheels([dist], runner) == []
    assert objdump_argvs == [["objdump", "-p", "0.bin"]]  # libfoo.dll only
    messages = [f.message for f in Integrity().inspect(dist) if f.level == "error"]
    assert any("'pkg/_ext.pyd' cannot be read" in m for m in messages), messages


def test_member_damaged_after_the_wheel_was_read_is_a_finding_not_a_crash(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    path = write_wheel(
        tmp_path, "pkg", "1.0", AMD64, {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo}
    )
    dist = read_distribution(path)
    _damage(path, "pkg/_ext.pyd")
    finding = only_error(scan_one(dist, runner))
    assert finding.message.startswith("pkg/_ext.pyd cannot be extracted")


def _damage(path: Path, member: str) -> None:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle : middle + 8] = bytes(8) if data[middle : middle + 8] != bytes(8) else b"\xff" * 8
    path.write_bytes(bytes(data))


def test_the_check_applies_only_to_readable_windows_wheels(builds: Builds, tmp_path: Path) -> None:
    check = WindowsDllsCheck()
    windows = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext})
    linux = wheel(tmp_path, {}, tag="cp39-abi3-manylinux_2_17_x86_64")
    pure = wheel(tmp_path, {}, tag="py3-none-any")
    assert check.applies_to(windows)
    assert not check.applies_to(linux)
    assert not check.applies_to(pure)


def test_scan_wheels_leaves_non_windows_wheels_alone(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    """scan_wheels gives "findings for every Windows wheel among dists": a .dll shipped as
    data in a Linux wheel is no Windows binary to judge."""
    linux = wheel(
        tmp_path, {"pkg/data/libfoo.dll": builds.libfoo}, tag="cp39-abi3-manylinux_2_17_x86_64"
    )
    windows = wheel(tmp_path, {"pkg/_ext.pyd": builds.ext})
    findings = scan_wheels([linux, windows], runner)
    assert of(findings, linux) == []
    assert only_error(of(findings, windows)).message.startswith("pkg/_ext.pyd -> libfoo.dll: ")


def test_findings_of_several_wheels_stay_apart(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    good = wheel(
        tmp_path, {"good/_ext.pyd": builds.ext, "good/libfoo.dll": builds.libfoo}, name="good"
    )
    bad = wheel(tmp_path, {"bad/_ext.pyd": builds.ext}, name="bad")
    findings = scan_wheels([good, bad], runner)
    assert of(findings, good) == []
    finding = only_error(of(findings, bad))
    assert finding.message.startswith("bad/_ext.pyd -> libfoo.dll: ")
    assert finding.file == bad.filename
    assert len(findings) == 1


def test_objdump_reads_many_files_per_process(
    builds: Builds,
    runner: Runner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    objdump_argvs: list[list[str]],
) -> None:
    monkeypatch.setattr(pe_imports, "CHUNK_FILES", 4)
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
    dist = wheel(
        tmp_path, {f"pkg/sub{i}/{binary.name}": binary for i, binary in enumerate(distinct)}
    )
    scan_wheels([dist], runner)
    assert binaries_in(dist) == 10
    assert sorted(len(argv) - 2 for argv in objdump_argvs) == [2, 4, 4]
    files = sorted(name for argv in objdump_argvs for name in argv[2:])
    assert files == sorted(f"{i}.bin" for i in range(10))


def test_a_binary_in_several_wheels_is_read_once(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    both: dict[str, bytes | Path] = {
        "pkg/_ext.pyd": builds.ext,
        "pkg.libs/libfoo.dll": builds.libfoo,
    }
    wheels = [
        wheel(tmp_path, both, "cp311-cp311-win_amd64"),
        wheel(tmp_path, both, "cp312-cp312-win_amd64"),
        wheel(tmp_path, {"pkg/_ext.pyd": builds.ext}, "cp313-cp313-win_amd64"),
    ]
    findings = scan_wheels(wheels, runner)
    assert objdump_argvs == [["objdump", "-p", "0.bin", "1.bin"]]
    assert [len(of(findings, w)) for w in wheels] == [0, 0, 1]
    assert [binaries_in(w) for w in wheels] == [2, 2, 1]


def test_binaries_are_recognised_by_content_not_by_how_they_are_stored(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    files: dict[str, bytes | Path] = {"pkg/_ext.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo}
    deflated = wheel(tmp_path, files, "cp311-cp311-win_amd64")
    stored = wheel(tmp_path, files, "cp312-cp312-win_amd64", compression=zipfile.ZIP_STORED)
    with zipfile.ZipFile(stored.path) as archive:
        assert archive.getinfo("pkg/_ext.pyd").compress_type == zipfile.ZIP_STORED
    assert scan_wheels([deflated, stored], runner) == []
    assert objdump_argvs == [["objdump", "-p", "0.bin", "1.bin"]]


def test_members_of_one_name_but_different_content_are_judged_apart(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    plain = wheel(
        tmp_path, {"pkg/_ext.pyd": builds.chain_ext, "pkg/libfoo.dll": builds.libfoo}, name="plain"
    )
    chain = wheel(
        tmp_path,
        {"pkg/_ext.pyd": builds.chain_ext, "pkg/libfoo.dll": builds.chain_libfoo},
        name="chain",
    )
    findings = scan_wheels([plain, chain], runner)
    assert of(findings, plain) == []
    assert only_error(of(findings, chain)).message.startswith(
        "pkg/_ext.pyd -> libfoo.dll -> libbar.dll: "
    )
    assert [len(argv) - 2 for argv in objdump_argvs] == [3]


def test_a_shared_binary_is_judged_against_each_wheels_platform(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    files: dict[str, bytes | Path] = {"pkg/libfoo.dll": builds.libfoo}
    amd64 = wheel(tmp_path, files, "cp39-abi3-win_amd64")
    win32 = wheel(tmp_path, files, "cp39-abi3-win32")
    findings = scan_wheels([amd64, win32], runner)
    assert objdump_argvs == [["objdump", "-p", "0.bin"]]
    assert of(findings, amd64) == []
    assert only_error(of(findings, win32)).message.startswith(
        "pkg/libfoo.dll is built for x86-64 (PE machine 0x8664), but the wheel is tagged win32, "
        "which needs i386"
    )


def test_archive_names_never_reach_the_disk(
    builds: Builds, runner: Runner, tmp_path: Path, objdump_argvs: list[list[str]]
) -> None:
    dist = wheel(tmp_path, {"../../evil.pyd": builds.ext, "pkg/libfoo.dll": builds.libfoo})
    assert zipfile.ZipFile(dist.path).namelist()[0] == "../../evil.pyd"
    scan_wheels([dist], runner)
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
    dumps = pe_imports.parse_objdump(output)
    assert sorted(dumps) == ["0.bin", "1.bin"]
    assert dumps["0.bin"].imports == ["KERNEL32.dll"]
    assert dumps["0.bin"].corrupt
    assert dumps["1.bin"].delay_imports == ["late.dll"]
    assert dumps["1.bin"].imports == []
    assert not dumps["1.bin"].corrupt


def test_objdump_and_pefile_agree_and_the_trimmed_copy_changes_no_import(
    builds: Builds, runner: Runner, tmp_path: Path
) -> None:
    binaries = [getattr(builds, name) for name in Builds.__dataclass_fields__]
    originals, trimmed = tmp_path / "original", tmp_path / "trimmed"
    originals.mkdir()
    trimmed.mkdir()
    for index, binary in enumerate(binaries):
        data = binary.read_bytes()
        (originals / f"{index}.bin").write_bytes(data)
        copy = pe_imports.copy_for_objdump(data)
        assert len(copy) == len(data)
        (trimmed / f"{index}.bin").write_bytes(copy)
        facts, copy_facts = pe_imports.read_pe(data), pe_imports.read_pe(copy)
        assert (copy_facts.imports, copy_facts.delay_imports) == (
            facts.imports,
            facts.delay_imports,
        ), binary
    names = [f"{index}.bin" for index in range(len(binaries))]
    full = runner.run(["objdump", "-p", *names], cwd=originals).output
    short = runner.run(["objdump", "-p", *names], cwd=trimmed).output
    full_dumps, short_dumps = pe_imports.parse_objdump(full), pe_imports.parse_objdump(short)
    for index, binary in enumerate(binaries):
        listed = full_dumps[f"{index}.bin"].imports
        assert listed, binary
        assert listed == pe_imports.read_pe(binary.read_bytes()).imports, binary
        assert short_dumps[f"{index}.bin"].imports == listed, binary
    for table in ("The Export Tables", "The Function Table", "PE File Base Relocations"):
        assert table in full
        assert table not in short
    assert len(short) < len(full)


def test_machine_and_directories_of_real_binaries(builds: Builds) -> None:
    amd64 = pe_imports.read_pe(builds.ext.read_bytes())
    i386 = pe_imports.read_pe(builds.ext_i386.read_bytes())
    assert amd64.machine == pe_imports.MACHINE_AMD64
    assert i386.machine == pe_imports.MACHINE_I386
    assert pe_imports.machine_name(amd64.machine) == "x86-64"
    assert pe_imports.machine_name(i386.machine) == "i386"
    assert pe_imports.machine_name(pe_imports.MACHINE_ARM64) == "arm64"
    assert pe_imports.machine_name(0x1234) == "unknown machine 0x1234"
    assert amd64.import_present
    assert not amd64.delay_present
    assert amd64.delay_imports == []
    assert amd64.warnings == []
    assert pe_imports.read_pe(builds.delay_ext.read_bytes()).delay_present
    assert sorted(n.lower() for n in amd64.imports) == sorted(
        ["libfoo.dll", "python3.dll", "kernel32.dll", "msvcrt.dll"]
    )
    assert sorted(n.lower() for n in i386.imports) == sorted(
        ["libfoo.dll", "kernel32.dll", "msvcrt.dll"]
    )


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
