"""The Windows DLL check of ``validate``: every DLL a wheel's binaries load must be findable.

For each ``.pyd`` and ``.dll`` in a Windows wheel the import and delay-import tables are read
with objdump and, because objdump can list a table only in part, with :mod:`release.pe` too,
and each imported DLL must be in the wheel (any directory, any case), the interpreter's, a
system DLL, or allowed by ``[tool.release.windows] allow-dlls``. Bundled DLLs are followed
to the whole transitive closure. A binary built for another machine than the wheel's
platform tag, a file named like a DLL that is not one, and an import table that cannot be
read are errors too.

It is built to be quick on a whole wheel set: a binary several wheels carry (the same
bundled DLL in every cp3X wheel) is inflated and read once, recognised by its compressed
bytes; the binaries are written to one scratch directory under numbered names (never
archive names); and objdump runs over many files per process, in chunks that keep the
command line short, the chunks in parallel.
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from . import pe
from .records import Finding
from .runner import Runner
from .windows_dlls import OTHER, classify, where_to_get

CHECK = "windows-dlls"

PLATFORM_MACHINES: dict[str, int] = {
    "win_amd64": pe.MACHINE_AMD64,
    "win32": pe.MACHINE_I386,
    "win_arm64": pe.MACHINE_ARM64,
}
BINARY_SUFFIXES = (".dll", ".pyd")

# One objdump process per chunk; argv stays well under every OS limit (Windows: 32k chars).
CHUNK_FILES = 100
CHUNK_CHARS = 30_000

# objdump -p also prints the export table, the .pdata function table and the base
# relocations: for a large extension module tens of thousands of lines, 98% of its output,
# all of it to be read and thrown away. The copy objdump reads has them hidden (their data
# directories zeroed, their sections renamed); the import tables, which objdump finds by
# address through data directories 1 and 13, stay byte for byte the same.
_HIDDEN_DIRECTORIES = (0, 3, 5)  # export, exception, base relocation
_HIDDEN_SECTIONS = frozenset({".edata", ".pdata", ".reloc"})

# The lines of objdump's output the scan needs: where each file's dump starts
# ("12.bin:     file format pei-x86-64"; the names are ours), the table headings, and
# the DLL names listed under them.
_OBJDUMP_LINES = re.compile(
    r"^(?:(?P<file>\d+\.bin):\s+file format \S+"
    r"|The (?P<table>Import|Delay Import) Tables\b.*"
    r"|(?P<other>The |PE File ).*"
    r"|\s*DLL Name: (?P<dll>.*?))\s*$",
    re.MULTILINE,
)


@dataclass
class WheelScan:
    """What the check found in one wheel, and how many PE binaries it read to find it."""

    wheel: str
    findings: list[Finding] = field(default_factory=list)
    binaries_scanned: int = 0


@dataclass
class WindowsScan:
    """The check's result over all Windows wheels, keyed by wheel file name.

    A wheel with no problems maps to [] in ``findings``; wheels that are not Windows wheels
    are in neither mapping.
    """

    findings: dict[str, list[Finding]]
    binaries_scanned: dict[str, int]


@dataclass
class _Wheel:
    path: Path
    platforms: tuple[str, ...]
    members_by_name: dict[str, list[str]] = field(default_factory=dict)
    candidates: list[zipfile.ZipInfo] = field(default_factory=list)
    binaries: dict[str, _Blob] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.findings.append(Finding("error", CHECK, self.path.name, message))


@dataclass
class _Blob:
    """One distinct binary; every member with the same compressed bytes shares it."""

    scratch_name: str
    wheel: _Wheel  # the wheel it is inflated from
    info: zipfile.ZipInfo
    header: pe.PEHeader | None = None
    problem: str | None = None  # why it is not a binary that can be checked
    imports: list[str] = field(default_factory=list)
    import_problems: list[str] = field(default_factory=list)


@dataclass
class ObjdumpImports:
    """What objdump printed about one file."""

    imports: list[str] = field(default_factory=list)
    delay_imports: list[str] = field(default_factory=list)
    corrupt: bool = False


# --- public API ------------------------------------------------------------------------------


def windows_platforms(wheel: Path) -> tuple[str, ...]:
    """The Windows platform tags of a wheel file name (empty for any other wheel)."""
    try:
        _name, _version, _build, tags = parse_wheel_filename(wheel.name)
        platforms = {tag.platform for tag in tags}
    except InvalidWheelFilename:
        # A malformed name is another check's finding; the platform part still says
        # whether the binaries inside are Windows binaries.
        platforms = set(wheel.name.removesuffix(".whl").rsplit("-", 1)[-1].split("."))
    return tuple(sorted(platforms & PLATFORM_MACHINES.keys()))


def scan_wheels(
    wheels: Sequence[Path], runner: Runner, allow_dlls: Sequence[str] = ()
) -> dict[str, WheelScan]:
    """Scan every Windows wheel in ``wheels`` (others are left out of the result)."""
    windows = [_Wheel(path, platforms) for path in wheels if (platforms := windows_platforms(path))]
    for wheel in windows:
        _list_members(wheel)
    blobs = _distinct_binaries(windows)
    with tempfile.TemporaryDirectory(prefix="nox-release-dlls-") as tmp:
        scratch = Path(tmp)
        _extract(blobs, scratch)
        readable = [blob for blob in blobs if blob.header is not None]
        dumps: dict[str, ObjdumpImports] = {}
        if readable:
            runner.require(
                "objdump", why="the validate stage reads the DLL imports of Windows wheels with it"
            )
            dumps = _run_objdump([blob.scratch_name for blob in readable], scratch, runner)
        for blob in readable:
            _read_imports(blob, dumps.get(blob.scratch_name), scratch)
    for wheel in windows:
        _check_wheel(wheel, allow_dlls)
    return {
        wheel.path.name: WheelScan(
            wheel.path.name,
            wheel.findings,
            sum(blob.header is not None for blob in wheel.binaries.values()),
        )
        for wheel in windows
    }


def scan_windows_wheels(
    wheels: Sequence[Path], runner: Runner, allow_dlls: Sequence[str] = ()
) -> WindowsScan:
    """Scan the Windows wheels among ``wheels``; see :class:`WindowsScan`."""
    scans = scan_wheels(wheels, runner, allow_dlls)
    return WindowsScan(
        findings={name: scan.findings for name, scan in scans.items()},
        binaries_scanned={name: scan.binaries_scanned for name, scan in scans.items()},
    )


# --- reading the wheels ----------------------------------------------------------------------


def _list_members(wheel: _Wheel) -> None:
    try:
        with zipfile.ZipFile(wheel.path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        wheel.error(
            f"cannot be read as a zip archive ({exc}), so its DLL imports were not checked; "
            "rebuild the wheel (the integrity check says more)."
        )
        return
    for info in members:
        basename = PurePosixPath(info.filename).name.lower()
        wheel.members_by_name.setdefault(basename, []).append(info.filename)
        if info.filename.lower().endswith(BINARY_SUFFIXES):
            wheel.candidates.append(info)


def _distinct_binaries(wheels: Sequence[_Wheel]) -> list[_Blob]:
    """One blob per distinct binary, shared by every member that holds it."""
    # Same CRC and sizes make a duplicate likely; same compressed bytes make it certain
    # (inflating them gives the same output), so only candidates are hashed.
    groups: dict[tuple[int, int, int, int], list[tuple[_Wheel, zipfile.ZipInfo]]] = {}
    for wheel in wheels:
        for info in wheel.candidates:
            key = (info.CRC, info.file_size, info.compress_size, info.compress_type)
            groups.setdefault(key, []).append((wheel, info))
    blobs: list[_Blob] = []
    for members in groups.values():
        by_content: dict[bytes, _Blob] = {}
        for wheel, info in members:
            content = _compressed_digest(wheel.path, info) if len(members) > 1 else b""
            blob = by_content.get(content)
            if blob is None:
                blob = _Blob(f"{len(blobs)}.bin", wheel, info)
                by_content[content or f"{len(blobs)}".encode()] = blob
                blobs.append(blob)
            wheel.binaries[info.filename] = blob
    return blobs


def _compressed_digest(path: Path, info: zipfile.ZipInfo) -> bytes:
    """A digest of a member's bytes as stored; empty when they cannot be located."""
    try:
        with path.open("rb") as fh:
            fh.seek(info.header_offset)
            local = fh.read(30)
            if len(local) < 30 or local[:4] != b"PK\x03\x04":
                return b""
            name_length, extra_length = struct.unpack("<HH", local[26:30])
            fh.seek(info.header_offset + 30 + name_length + extra_length)
            return hashlib.blake2b(fh.read(info.compress_size)).digest()
    except OSError:
        return b""


def _extract(blobs: Sequence[_Blob], scratch: Path) -> None:
    """Inflate each blob once, in parallel (zlib lets other threads run while it inflates)."""
    workers = _workers(len(blobs))
    by_wheel: dict[Path, list[_Blob]] = {}
    for blob in sorted(blobs, key=lambda blob: -blob.info.file_size):
        by_wheel.setdefault(blob.wheel.path, []).append(blob)
    # Each task opens the archive once; the largest members are dealt out first so the
    # threads finish together.
    tasks = [
        (path, share[start::workers])
        for path, share in by_wheel.items()
        for start in range(workers)
    ]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_extract_from, path, share, scratch) for path, share in tasks if share
        ]
        for future in futures:
            future.result()


def _extract_from(path: Path, blobs: Sequence[_Blob], scratch: Path) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        for blob in blobs:
            blob.problem = f"cannot be extracted ({exc}); rebuild the wheel."
        return
    with archive:
        for blob in blobs:
            _extract_blob(archive, blob, scratch)


def _extract_blob(archive: zipfile.ZipFile, blob: _Blob, scratch: Path) -> None:
    try:
        data = archive.read(blob.info)
    # Damaged data, a compression method zipfile lacks, or encryption: none of them in a
    # wheel that installs.
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        blob.problem = f"cannot be extracted ({exc}); rebuild the wheel."
        return
    try:
        blob.header = pe.parse_header(data)
    except pe.PEFormatError as exc:
        blob.problem = (
            f"is named like a Windows binary but is not a PE file ({exc}); Windows cannot "
            "load it. Put the real DLL in the wheel (a Git LFS pointer or a Linux build can "
            "end up here), or leave the file out."
        )
        return
    _write_for_objdump(scratch / blob.scratch_name, data, blob.header)


def _write_for_objdump(path: Path, data: bytes, header: pe.PEHeader) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        for index in _HIDDEN_DIRECTORIES:
            if index < header.directory_count:
                fh.seek(header.directories_offset + 8 * index)
                fh.write(bytes(8))
        for section in header.sections:
            if section.name in _HIDDEN_SECTIONS:
                fh.seek(section.header_offset)
                fh.write(b"_")


# --- objdump ---------------------------------------------------------------------------------


def _workers(jobs: int) -> int:
    return max(1, min(jobs, os.cpu_count() or 1))


def _chunks(names: Sequence[str]) -> list[list[str]]:
    chunks: list[list[str]] = []
    current: list[str] = []
    length = 0
    for name in names:
        if current and (len(current) >= CHUNK_FILES or length + len(name) + 1 > CHUNK_CHARS):
            chunks.append(current)
            current, length = [], 0
        current.append(name)
        length += len(name) + 1
    if current:
        chunks.append(current)
    return chunks


def _run_objdump(names: Sequence[str], scratch: Path, runner: Runner) -> dict[str, ObjdumpImports]:
    def dump(chunk: list[str]) -> str:
        # A file objdump cannot read makes it exit non-zero after dumping the others;
        # those files are then read by release.pe.
        result = runner.run(
            ["objdump", "-p", *chunk],
            cwd=scratch,
            why="reading the DLL imports of Windows binaries",
            check=False,
            quiet=True,
        )
        return result.output

    chunks = _chunks(names)
    dumps: dict[str, ObjdumpImports] = {}
    with ThreadPoolExecutor(max_workers=_workers(len(chunks))) as pool:
        for output in pool.map(dump, chunks):
            dumps.update(parse_objdump(output))
    return dumps


def parse_objdump(output: str) -> dict[str, ObjdumpImports]:
    """The DLL names ``objdump -p`` listed for each of our scratch files."""
    dumps: dict[str, ObjdumpImports] = {}
    current: ObjdumpImports | None = None
    table: list[str] | None = None
    for line in _OBJDUMP_LINES.finditer(output):
        if line["file"]:
            current = dumps.setdefault(line["file"], ObjdumpImports())
            table = None
        elif current is None:
            continue
        elif line["table"]:
            table = current.imports if line["table"] == "Import" else current.delay_imports
        elif line["other"]:
            table = None
        elif table is not None:
            name = line["dll"]
            if name and name != "<corrupt>":
                table.append(name)
            else:
                current.corrupt = True
    return dumps


# --- checks ----------------------------------------------------------------------------------


def _check_wheel(wheel: _Wheel, allow_dlls: Sequence[str]) -> None:
    for member, blob in wheel.binaries.items():
        if blob.problem is not None:
            wheel.error(f"{member} {blob.problem}")
            continue
        if blob.header is not None:
            _check_machine(wheel, member, blob.header)
        if blob.import_problems:
            wheel.error(
                f"{member}: its import table could not be read "
                f"({'; '.join(blob.import_problems)}), so the DLLs it needs are unknown and "
                "the wheel cannot be shown to load. Check that the file is not damaged, and "
                "rebuild it with a standard linker."
            )
    _check_closure(wheel, allow_dlls)


def _check_machine(wheel: _Wheel, member: str, header: pe.PEHeader) -> None:
    expected = {PLATFORM_MACHINES[platform] for platform in wheel.platforms}
    if header.machine in expected:
        return
    wanted = " or ".join(sorted(pe.machine_name(machine) for machine in expected))
    platforms = ", ".join(wheel.platforms)
    wheel.error(
        f"{member} is a {header.machine_name} binary, but the wheel is tagged "
        f"{platforms}, which needs {wanted}: Windows will refuse to load it. Build it for "
        f"{wanted}, or give the wheel the platform tag of the machine it was built for."
    )


def _read_imports(blob: _Blob, dump: ObjdumpImports | None, scratch: Path) -> None:
    """Every DLL the binary imports: what objdump listed, and what the tables hold.

    objdump is not enough on its own: it lists nothing from a table it cannot read, and it
    stops listing, without a word, at the first DLL name stored outside the import section,
    which is where repair tools (maturin's among them) write the names of the DLLs they
    rename. A shorter list would pass a wheel that does not load, so the tables are always
    read here too, and the union is checked.
    """
    assert blob.header is not None
    data = (scratch / blob.scratch_name).read_bytes()
    names: list[str] = []
    tables = (
        ("import", blob.header.import_directory, dump.imports if dump else [], pe.read_imports),
        (
            "delay-import",
            blob.header.delay_import_directory,
            dump.delay_imports if dump else [],
            pe.read_delay_imports,
        ),
    )
    for kind, directory, listed, reader in tables:
        names += listed
        if not directory.present:
            continue
        objdump_read_it = bool(listed) and not (dump and dump.corrupt)
        try:
            found = reader(data, blob.header)
        except pe.PEFormatError as exc:
            if not objdump_read_it:
                blob.import_problems.append(f"{kind} table: {exc}")
            continue
        if not found and not objdump_read_it:
            blob.import_problems.append(
                f"the {kind} directory is present but its first entry is empty"
            )
        names += found
    blob.imports = _unique(names)


def _unique(names: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    unique: list[str] = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            unique.append(name)
    return unique


def _check_closure(wheel: _Wheel, allow_dlls: Sequence[str]) -> None:
    """Follow imports through bundled DLLs, from the extension modules first."""
    roots = sorted(wheel.binaries, key=lambda member: (not member.lower().endswith(".pyd"), member))
    chains: dict[str, tuple[str, ...]] = {}
    for root in roots:
        if root in chains:
            continue
        chains[root] = (root,)
        queue = deque([root])
        while queue:
            member = queue.popleft()
            for dll in wheel.binaries[member].imports:
                bundled = wheel.members_by_name.get(dll.lower())
                if bundled:
                    for target in bundled:
                        if target in wheel.binaries and target not in chains:
                            chains[target] = (*chains[member], dll)
                            queue.append(target)
                elif classify(dll, allow_dlls) == OTHER:
                    wheel.error(_missing_message((*chains[member], dll)))


def _missing_message(chain: tuple[str, ...]) -> str:
    dll = chain[-1]
    origin = where_to_get(dll)
    return (
        f"{' -> '.join(chain)}: not in the wheel and not a system DLL, so importing the "
        f'module fails with "DLL load failed".{" " + origin + "." if origin else ""} '
        "Bundle it: building on Windows, put the directory that holds it on PATH (for MSYS2 "
        "packages, mingw64/bin) so the repair step copies it into the wheel (maturin "
        "cross-compiling on Linux looks only in the cargo:rustc-link-search directories); or "
        "run "
        "`delvewheel repair --add-path <dir>` on the wheel; or, if users are known to have "
        f'it, add "{dll}" to [tool.release.windows] allow-dlls.'
    )
