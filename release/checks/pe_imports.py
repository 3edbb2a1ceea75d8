"""The DLLs a Windows binary imports, read twice: with objdump, and with pefile.

objdump is the first reader, the tool a maintainer would run by hand. GNU objdump reads only
the PE machines its build targets (Debian's and MSYS2's: i386 and x86-64; ARM64 is "file
format not recognized"), so ARM binaries are read by llvm-objdump, which reads every COFF
machine and prints the import tables as GNU objdump does (its ``-p`` prints no delay-import
table: pefile reads that one). It is not enough on its
own: it lists nothing from a table it cannot read, and it stops listing, without a word, at
the first DLL name stored outside the import section, which is where repair tools (maturin's
among them) write the names of the DLLs they rename. So every binary is also read with
pefile, and the union is what the check judges. pefile also gives the PE header facts (the
machine, which directories exist); what it warns about while reading an import directory
makes that directory "present but unreadable", never "no imports".
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pefile  # type: ignore[import-untyped]

from ..runner import Runner

IMPORT_DIRECTORY = pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_IMPORT"]
DELAY_IMPORT_DIRECTORY = pefile.DIRECTORY_ENTRY["IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT"]

MACHINE_I386 = pefile.MACHINE_TYPE["IMAGE_FILE_MACHINE_I386"]
MACHINE_AMD64 = pefile.MACHINE_TYPE["IMAGE_FILE_MACHINE_AMD64"]
MACHINE_ARM64 = pefile.MACHINE_TYPE["IMAGE_FILE_MACHINE_ARM64"]
MACHINE_IA64 = pefile.MACHINE_TYPE["IMAGE_FILE_MACHINE_IA64"]
_MACHINE_NAMES = {MACHINE_I386: "i386", MACHINE_AMD64: "x86-64", MACHINE_ARM64: "arm64",
                  MACHINE_IA64: "ia64", 0x01C4: "arm (thumb-2)", 0xA641: "arm64ec"}  # fmt: skip

# objdump -p also prints the export table, the .pdata function table and the base
# relocations: for a large extension module tens of thousands of lines, 98% of its output,
# all of it to be read and thrown away. The copy objdump reads has them hidden (their data
# directories zeroed, their sections renamed); the import tables, which objdump finds by
# address through data directories 1 and 13, stay byte for byte the same.
_HIDDEN_DIRECTORIES = tuple(
    pefile.DIRECTORY_ENTRY[name]
    for name in (
        "IMAGE_DIRECTORY_ENTRY_EXPORT",
        "IMAGE_DIRECTORY_ENTRY_EXCEPTION",
        "IMAGE_DIRECTORY_ENTRY_BASERELOC",
    )
)
_HIDDEN_SECTIONS = frozenset({b".edata", b".pdata", b".reloc"})

# One objdump process per chunk; argv stays well under every OS limit (Windows: 32k chars).
CHUNK_FILES = 100
CHUNK_CHARS = 30_000

# The lines of objdump's output we need: where each file's dump starts ("12.bin:     file
# format pei-x86-64"; the names are ours), the table headings, and the DLL names under them.
_OBJDUMP_LINES = re.compile(
    r"^(?:(?P<file>\d+\.bin):\s+file format \S+"
    r"|The (?P<table>Import|Delay Import) Tables\b.*"
    r"|(?P<other>The |PE File ).*"
    r"|\s*DLL Name:[ \t]*(?P<dll>.*?))\s*$",
    re.MULTILINE,
)


def machine_name(machine: int) -> str:
    return _MACHINE_NAMES.get(machine, f"unknown machine 0x{machine:04x}")


LLVM_OBJDUMP = "llvm-objdump"
_GNU_OBJDUMP_MACHINES = frozenset({MACHINE_I386, MACHINE_AMD64})


def objdump_for(machine: int) -> str:
    """The objdump that reads binaries of ``machine``."""
    return "objdump" if machine in _GNU_OBJDUMP_MACHINES else LLVM_OBJDUMP


class NotPE(ValueError):
    """The bytes are not a PE file Windows could load; the message says why, as a clause
    ("it is not a PE file (...)", "it is cut short ...")."""


@dataclass
class PEFacts:
    """What pefile read of one binary."""

    machine: int
    imports: list[str] = field(default_factory=list)
    delay_imports: list[str] = field(default_factory=list)
    import_present: bool = False
    delay_present: bool = False
    warnings: list[str] = field(default_factory=list)


def _directory_present(pe: Any, index: int) -> bool:
    directories = pe.OPTIONAL_HEADER.DATA_DIRECTORY
    if index >= len(directories):
        return False
    entry = directories[index]
    # Either field set means the linker meant a table to be there.
    return bool(entry.VirtualAddress or entry.Size)


def _dll_names(entries: Sequence[Any]) -> list[str]:
    return [e.dll.decode("ascii", "replace") for e in entries if getattr(e, "dll", None)]


def read_pe(data: bytes) -> PEFacts:
    """Machine and imported DLL names of a PE binary, read with pefile; NotPE if it is none."""
    try:
        pe = pefile.PE(data=data, fast_load=True)
    except pefile.PEFormatError as exc:
        raise NotPE(
            f"it is not a PE file ({exc.value if hasattr(exc, 'value') else exc})"
        ) from None
    # pefile reads on past the end of a truncated file, filling in zeros, and only warns:
    # a file cut short must not pass as one without imports.
    headers = pe.OPTIONAL_HEADER.SizeOfHeaders
    needed = max([headers, *(s.PointerToRawData + s.SizeOfRawData for s in pe.sections)])
    if needed > len(data):
        raise NotPE(
            f"it is cut short: it has {len(data)} bytes, its headers and sections need {needed}"
        )
    if len(pe.sections) != pe.FILE_HEADER.NumberOfSections:
        raise NotPE(
            f"its section table is damaged: pefile read {len(pe.sections)} of the "
            f"{pe.FILE_HEADER.NumberOfSections} sections it declares"
        )
    try:
        before = len(pe.get_warnings())
        pe.parse_data_directories(
            directories=[IMPORT_DIRECTORY, DELAY_IMPORT_DIRECTORY], import_dllnames_only=True
        )
        warnings = list(pe.get_warnings()[before:])
    except (pefile.PEFormatError, ValueError, IndexError, struct.error) as exc:
        warnings = [f"pefile could not parse the import directories: {exc}"]
    return PEFacts(
        machine=pe.FILE_HEADER.Machine,
        imports=_dll_names(getattr(pe, "DIRECTORY_ENTRY_IMPORT", [])),
        delay_imports=_dll_names(getattr(pe, "DIRECTORY_ENTRY_DELAY_IMPORT", [])),
        import_present=_directory_present(pe, IMPORT_DIRECTORY),
        delay_present=_directory_present(pe, DELAY_IMPORT_DIRECTORY),
        warnings=warnings,
    )


def copy_for_objdump(data: bytes) -> bytes:
    """``data`` with the export, exception and relocation tables hidden from objdump."""
    pe = pefile.PE(data=data, fast_load=True)
    out = bytearray(data)
    directories = pe.OPTIONAL_HEADER.DATA_DIRECTORY
    for index in _HIDDEN_DIRECTORIES:
        if index < len(directories):
            at = directories[index].get_file_offset()
            out[at : at + 8] = bytes(8)
    for section in pe.sections:
        if section.Name.rstrip(b"\0") in _HIDDEN_SECTIONS:
            out[section.get_file_offset()] = ord("_")
    return bytes(out)


# --- objdump ---------------------------------------------------------------------------------


@dataclass
class ObjdumpImports:
    """What objdump printed about one file."""

    imports: list[str] = field(default_factory=list)
    delay_imports: list[str] = field(default_factory=list)
    corrupt: bool = False


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


def run_objdump(
    names: Sequence[str], scratch: Path, runner: Runner, workers: int, program: str = "objdump"
) -> dict[str, ObjdumpImports]:
    """``objdump -p`` (or ``program -p``: llvm-objdump) over the scratch files ``names``,
    many per process, chunks in parallel."""

    def dump(chunk: list[str]) -> str:
        # A file objdump cannot read makes it exit non-zero after dumping the others; pefile
        # reads that one.
        result = runner.run(
            [program, "-p", *chunk],
            cwd=scratch,
            why="reading the DLL imports of Windows binaries",
            check=False,
            quiet=True,
        )
        return result.output

    chunks = _chunks(names)
    dumps: dict[str, ObjdumpImports] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(chunks)))) as pool:
        for output in pool.map(dump, chunks):
            dumps.update(parse_objdump(output))
    return dumps
