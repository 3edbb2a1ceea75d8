"""A small reader for the headers and import tables of Windows PE files (.dll, .pyd).

objdump reads import tables for the DLL scan; this module reads what objdump does not tell
reliably: the machine a binary was built for, whether an import or delay-import directory
exists at all, and, when objdump listed nothing from a directory that exists (or cannot read
the file, e.g. an arm64 DLL with a binutils built without aarch64 PE support), the DLL names
themselves. It reads bytes only and never runs anything.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MACHINE_I386 = 0x014C
MACHINE_AMD64 = 0x8664
MACHINE_ARM64 = 0xAA64

MACHINE_NAMES: dict[int, str] = {
    MACHINE_I386: "i386",
    MACHINE_AMD64: "x86-64",
    MACHINE_ARM64: "arm64",
    0x01C4: "arm (thumb-2)",
    0xA641: "arm64ec",
    0xA64E: "arm64x",
    0x0200: "ia64",
}

_PE32_MAGIC = 0x10B
_PE32_PLUS_MAGIC = 0x20B
_IMPORT_DIRECTORY = 1
_DELAY_IMPORT_DIRECTORY = 13
_IMPORT_DESCRIPTOR_SIZE = 20
_DELAY_DESCRIPTOR_SIZE = 32
_DELAY_ATTR_RVA = 0x1
# Far beyond any real binary; only there so a damaged table cannot make the reader loop on.
_MAX_DESCRIPTORS = 10_000
# Windows limits a module name to MAX_PATH.
_MAX_NAME = 260


class PEFormatError(ValueError):
    """The bytes are not a PE file, or a table in it points outside the file."""


@dataclass(frozen=True)
class Section:
    name: str
    header_offset: int  # where its entry in the section table is in the file
    virtual_address: int
    virtual_size: int
    raw_pointer: int
    raw_size: int


@dataclass(frozen=True)
class DataDirectory:
    rva: int
    size: int

    @property
    def present(self) -> bool:
        # Either field set means the linker meant a table to be there.
        return self.rva != 0 or self.size != 0


@dataclass(frozen=True)
class PEHeader:
    machine: int
    pe32_plus: bool
    image_base: int
    size_of_headers: int
    sections: tuple[Section, ...]
    import_directory: DataDirectory
    delay_import_directory: DataDirectory
    directories_offset: int  # where data directory 0 is in the file
    directory_count: int

    @property
    def machine_name(self) -> str:
        return machine_name(self.machine)


def machine_name(machine: int) -> str:
    return MACHINE_NAMES.get(machine, f"unknown machine 0x{machine:04x}")


def is_pe(data: bytes) -> bool:
    try:
        parse_header(data)
    except PEFormatError:
        return False
    return True


def _unpack(fmt: str, data: bytes, offset: int, what: str) -> tuple[int, ...]:
    if offset < 0 or offset + struct.calcsize(fmt) > len(data):
        raise PEFormatError(f"the {what} lies outside the file")
    return struct.unpack_from(fmt, data, offset)


def parse_header(data: bytes) -> PEHeader:
    """The COFF and optional headers, the section table and the two import directories."""
    if data[:2] != b"MZ":
        raise PEFormatError("no MZ signature at the start")
    (pe_offset,) = _unpack("<I", data, 0x3C, "PE header pointer")
    if data[pe_offset : pe_offset + 4] != b"PE\0\0":
        raise PEFormatError("no PE signature where the DOS header points")
    coff = pe_offset + 4
    machine, section_count = _unpack("<HH", data, coff, "COFF header")
    (optional_size,) = _unpack("<H", data, coff + 16, "COFF header")
    optional = coff + 20
    (magic,) = _unpack("<H", data, optional, "optional header")
    if magic == _PE32_PLUS_MAGIC:
        (image_base,) = _unpack("<Q", data, optional + 24, "optional header")
        directory_count_at, directories_at = optional + 108, optional + 112
    elif magic == _PE32_MAGIC:
        (image_base,) = _unpack("<I", data, optional + 28, "optional header")
        directory_count_at, directories_at = optional + 92, optional + 96
    else:
        raise PEFormatError(f"unknown optional header magic 0x{magic:x}")
    (size_of_headers,) = _unpack("<I", data, optional + 60, "optional header")
    (directory_count,) = _unpack("<I", data, directory_count_at, "optional header")

    def directory(index: int) -> DataDirectory:
        at = directories_at + 8 * index
        if index >= directory_count or at + 8 > optional + optional_size:
            return DataDirectory(0, 0)
        rva, size = _unpack("<II", data, at, "data directory")
        return DataDirectory(rva, size)

    sections = _sections(data, optional + optional_size, section_count)
    return PEHeader(
        machine=machine,
        pe32_plus=magic == _PE32_PLUS_MAGIC,
        image_base=image_base,
        size_of_headers=size_of_headers,
        sections=sections,
        import_directory=directory(_IMPORT_DIRECTORY),
        delay_import_directory=directory(_DELAY_IMPORT_DIRECTORY),
        directories_offset=directories_at,
        directory_count=max(
            0, min(directory_count, (optional + optional_size - directories_at) // 8)
        ),
    )


def _sections(data: bytes, offset: int, count: int) -> tuple[Section, ...]:
    table = data[offset : offset + 40 * count]
    if offset < 0 or len(table) < 40 * count:
        raise PEFormatError("the section table lies outside the file")
    return tuple(
        Section(
            name=raw_name.rstrip(b"\0").decode("ascii", "replace"),
            header_offset=offset + 40 * index,
            virtual_address=virtual_address,
            virtual_size=virtual_size,
            raw_pointer=raw_pointer,
            raw_size=raw_size,
        )
        for index, (raw_name, virtual_size, virtual_address, raw_size, raw_pointer) in enumerate(
            struct.iter_unpack("<8sIIII16x", table)
        )
    )


def rva_to_offset(header: PEHeader, rva: int) -> int:
    """Where the byte the loader maps at ``rva`` is in the file."""
    for section in header.sections:
        if section.virtual_address <= rva < section.virtual_address + section.raw_size:
            return section.raw_pointer + (rva - section.virtual_address)
    # The loader maps the headers too; a table placed in their slack is still valid.
    if rva < header.size_of_headers:
        return rva
    raise PEFormatError(f"RVA 0x{rva:x} is in no section with data in the file")


def _c_string(data: bytes, header: PEHeader, rva: int) -> str:
    offset = rva_to_offset(header, rva)
    end = data.find(b"\0", offset, offset + _MAX_NAME + 1)
    if end < 0:
        raise PEFormatError(f"the name at RVA 0x{rva:x} is not terminated")
    raw = data[offset:end]
    if not raw or not all(0x20 < byte < 0x7F for byte in raw):
        raise PEFormatError(f"the name at RVA 0x{rva:x} is not a DLL name: {raw[:40]!r}")
    return raw.decode("ascii")


def read_imports(data: bytes, header: PEHeader | None = None) -> list[str]:
    """DLL names in the import table, in table order; [] when there is no import directory."""
    header = header or parse_header(data)
    directory = header.import_directory
    if not directory.present:
        return []
    names: list[str] = []
    for index in range(_MAX_DESCRIPTORS):
        at = rva_to_offset(header, directory.rva + index * _IMPORT_DESCRIPTOR_SIZE)
        _lookup, _stamp, _chain, name_rva, first_thunk = _unpack(
            "<IIIII", data, at, "import descriptor"
        )
        # The loader stops at the first descriptor without a name or an address table.
        if name_rva == 0 or first_thunk == 0:
            return names
        names.append(_c_string(data, header, name_rva))
    raise PEFormatError("the import table has no terminating descriptor")


def read_delay_imports(data: bytes, header: PEHeader | None = None) -> list[str]:
    """DLL names in the delay-load import table; [] when there is no delay-import directory."""
    header = header or parse_header(data)
    directory = header.delay_import_directory
    if not directory.present:
        return []
    # Only tools read this directory (the delay-load helper is handed its descriptor
    # directly), so its size is the bound; GNU toolchains put code right after the array.
    count = directory.size // _DELAY_DESCRIPTOR_SIZE if directory.size else _MAX_DESCRIPTORS
    names: list[str] = []
    for index in range(min(count, _MAX_DESCRIPTORS)):
        at = rva_to_offset(header, directory.rva + index * _DELAY_DESCRIPTOR_SIZE)
        attributes, name_address = _unpack("<II", data, at, "delay-import descriptor")
        if name_address == 0:
            break
        names.append(_c_string(data, header, _delay_rva(header, attributes, name_address)))
    return names


def _delay_rva(header: PEHeader, attributes: int, address: int) -> int:
    # Descriptors from Visual C++ 6 and older hold virtual addresses instead of RVAs.
    if attributes & _DELAY_ATTR_RVA or address < header.image_base:
        return address
    return address - header.image_base
