"""Real Windows binaries and real wheels for tests: cross-compiled with mingw-w64.

Tests import this module by name (``from pe_fixtures import ...``): pytest puts tests/ on
sys.path in its default import mode. Everything here runs the real compilers; a missing
compiler fails the test instead of skipping it.

- :class:`PEBuilder` compiles DLLs and extension modules (``.pyd``) whose import tables name
  other DLLs you build, import libraries from .def files (plain or delay-load), and
  sets the delay-import directory GNU ld leaves empty.
- :func:`write_wheel` packs files into a valid wheel (WHEEL, METADATA, RECORD with sha256
  and sizes), so the same wheels pass an integrity check.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import struct
import subprocess
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.tags import parse_tag

TRIPLETS = {"x86_64": "x86_64-w64-mingw32", "i686": "i686-w64-mingw32"}

# A fixed timestamp keeps the fixture wheels byte-for-byte reproducible.
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(
            f"{name} is not on PATH; the tests cross-compile real PE files "
            "(Debian/Ubuntu: apt-get install mingw-w64)"
        )
    return found


def _run(argv: Sequence[str], cwd: Path) -> None:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{proc.stdout}{proc.stderr}")


def c_exports(functions: Sequence[str], calls: Sequence[str] = ()) -> str:
    """C source exporting ``functions``, each calling the imported ``calls``."""
    lines = [f"__declspec(dllimport) int {name}(void);" for name in calls]
    body = " + ".join([f"{name}()" for name in calls] or ["0"])
    lines += [f"__declspec(dllexport) int {name}(void) {{ return {body}; }}" for name in functions]
    return "\n".join(lines) + "\n"


def pyd_source(module: str, calls: Sequence[str] = ()) -> str:
    """An extension module: exports PyInit_<module> (no Python headers needed to link)."""
    return c_exports([f"PyInit_{module}"], calls)


class PEBuilder:
    """Builds DLLs for one architecture in ``workdir``; import libraries live beside them."""

    def __init__(self, workdir: Path, arch: str = "x86_64") -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.arch = arch
        self.gcc = _tool(f"{TRIPLETS[arch]}-gcc")
        self.dlltool = _tool(f"{TRIPLETS[arch]}-dlltool")
        self.nm = _tool(f"{TRIPLETS[arch]}-nm")

    def dll(
        self,
        file_name: str,
        source: str,
        *,
        link: Sequence[str] = (),
        delay_libs: Sequence[str] = (),
    ) -> Path:
        """Compile ``source`` into ``file_name``, linked against import libraries.

        ``link`` and ``delay_libs`` are import library file names made by this builder
        (``<dll>.a`` for a built DLL, or from :meth:`import_lib`). The DLL's own import
        library is written as ``<file_name>.a``.
        """
        stem = file_name.rsplit(".", 1)[0]
        source_file = self.workdir / f"{stem}.c"
        source_file.write_text(source, encoding="utf-8")
        # Stripped files keep the tests fast; the delay-load descriptors are found by symbol.
        strip = [] if delay_libs else ["-s"]
        argv = [
            self.gcc,
            "-shared",
            "-O1",
            *strip,
            "-o",
            file_name,
            source_file.name,
            f"-Wl,--out-implib,{file_name}.a",
            *(f"-l:{lib}" for lib in (*link, *delay_libs)),
            "-L.",
        ]
        _run(argv, self.workdir)
        path = self.workdir / file_name
        if delay_libs:
            set_delay_import_directory(path, self._delay_descriptors(path))
        return path

    def import_lib(
        self, dll_name: str, exports: Sequence[str], *, delay: bool = False, lib_name: str = ""
    ) -> str:
        """An import library for ``dll_name`` (which need not exist) from a .def file."""
        lib = lib_name or f"{dll_name}.{'delay.' if delay else ''}a"
        def_file = self.workdir / f"{lib}.def"
        def_file.write_text(
            f"LIBRARY {dll_name}\nEXPORTS\n" + "".join(f"{name}\n" for name in exports),
            encoding="utf-8",
        )
        output = "--output-delaylib" if delay else "--output-lib"
        _run([self.dlltool, output, lib, "-D", dll_name, "-d", def_file.name], self.workdir)
        return lib

    def _delay_descriptors(self, binary: Path) -> tuple[int, int]:
        """(RVA of the first delay-load descriptor, size of the descriptor array)."""
        proc = subprocess.run(
            [self.nm, binary.name], cwd=self.workdir, capture_output=True, text=True, check=True
        )
        addresses = sorted(
            int(line.split()[0], 16)
            for line in proc.stdout.splitlines()
            if "__DELAY_IMPORT_DESCRIPTOR_" in line
        )
        if not addresses:
            raise RuntimeError(f"no delay-load descriptor in {binary}")
        image_base = _image_base(binary.read_bytes())
        # dlltool's descriptors are 32 bytes each and laid out one after another.
        return addresses[0] - image_base, 32 * len(addresses)


def _optional_header(data: bytes) -> tuple[int, bool]:
    pe_offset = struct.unpack_from("<I", data, 0x3C)[0]
    optional = pe_offset + 24
    return optional, struct.unpack_from("<H", data, optional)[0] == 0x20B


def _image_base(data: bytes) -> int:
    optional, plus = _optional_header(data)
    if plus:
        return int(struct.unpack_from("<Q", data, optional + 24)[0])
    return int(struct.unpack_from("<I", data, optional + 28)[0])


def data_directory_offset(data: bytes, index: int) -> int:
    """File offset of data directory entry ``index`` (1 = import, 13 = delay import)."""
    optional, plus = _optional_header(data)
    return optional + (112 if plus else 96) + 8 * index


def set_delay_import_directory(path: Path, directory: tuple[int, int]) -> None:
    # GNU ld links delay-load descriptors but leaves data directory 13 empty; MSVC fills it,
    # and readers (objdump, dumpbin, our scanner) find delay imports only through it.
    data = bytearray(path.read_bytes())
    struct.pack_into("<II", data, data_directory_offset(bytes(data), 13), *directory)
    path.write_bytes(bytes(data))


def move_import_descriptors_into_headers(data: bytes) -> bytes:
    """The same binary with its import descriptor array moved into the header padding.

    Valid for the Windows loader (it maps the headers), but objdump only looks for the
    import table inside sections, so it prints no DLL names for this file.
    """
    out = bytearray(data)
    entry = data_directory_offset(data, 1)
    rva, _size = struct.unpack_from("<II", data, entry)
    pe_offset = struct.unpack_from("<I", data, 0x3C)[0]
    sections = struct.unpack_from("<H", data, pe_offset + 6)[0]
    optional_size = struct.unpack_from("<H", data, pe_offset + 20)[0]
    section_table = pe_offset + 24 + optional_size
    headers_end = section_table + 40 * sections
    raw_pointers = [
        struct.unpack_from("<I", data, section_table + 40 * i + 20)[0] for i in range(sections)
    ]
    first_raw = min(pointer for pointer in raw_pointers if pointer)  # .bss has none
    offset = _rva_to_offset(data, rva)
    descriptors = bytearray()
    while True:
        descriptor = data[offset : offset + 20]
        descriptors += descriptor
        offset += 20
        if descriptor == bytes(20):
            break
    place = (headers_end + 15) & ~15
    if place + len(descriptors) > first_raw:
        raise RuntimeError("no room for the import descriptors in the header padding")
    out[place : place + len(descriptors)] = descriptors
    struct.pack_into("<II", out, entry, place, len(descriptors))
    return bytes(out)


def _rva_to_offset(data: bytes, rva: int) -> int:
    pe_offset = struct.unpack_from("<I", data, 0x3C)[0]
    sections = struct.unpack_from("<H", data, pe_offset + 6)[0]
    optional_size = struct.unpack_from("<H", data, pe_offset + 20)[0]
    table = pe_offset + 24 + optional_size
    for i in range(sections):
        _vsize, address, raw_size, raw_pointer = struct.unpack_from(
            "<IIII", data, table + 40 * i + 8
        )
        if address <= rva < address + raw_size:
            return int(raw_pointer + rva - address)
    raise ValueError(f"RVA 0x{rva:x} is in no section")


def set_machine(data: bytes, machine: int) -> bytes:
    out = bytearray(data)
    pe_offset = struct.unpack_from("<I", data, 0x3C)[0]
    struct.pack_into("<H", out, pe_offset + 4, machine)
    return bytes(out)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def write_wheel(
    dest: Path,
    name: str,
    version: str,
    tag: str,
    files: Mapping[str, bytes | Path],
    *,
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """A valid wheel ``{name}-{version}-{tag}.whl`` in ``dest`` holding ``files``.

    ``files`` maps archive paths to contents (bytes, or a file to read them from); every
    member is stored with ``compression``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    dist_info = f"{name}-{version}.dist-info"
    tag_lines = "".join(f"Tag: {t}\n" for t in sorted(str(t) for t in parse_tag(tag)))
    contents = {
        path: (value.read_bytes() if isinstance(value, Path) else value)
        for path, value in files.items()
    }
    contents[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    ).encode()
    contents[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: pe_fixtures\nRoot-Is-Purelib: false\n" + tag_lines
    ).encode()
    record = "".join(
        f"{path},{_record_hash(data)},{len(data)}\n" for path, data in contents.items()
    )
    record += f"{dist_info}/RECORD,,\n"
    contents[f"{dist_info}/RECORD"] = record.encode()
    wheel = dest / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in contents.items():
            info = zipfile.ZipInfo(path, date_time=_ZIP_DATE)
            info.compress_type = compression
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return wheel


def move_import_name_outside_idata(data: bytes, index: int, new_name: str) -> bytes:
    """Rename import ``index`` the way maturin's repair does: the new DLL name is written
    into another section's slack (.data/.rdata) and the descriptor pointed at it. GNU
    objdump stops listing imports at such a name, without saying so.

    Plain struct work on the headers, so the fixture does not lean on the reader it tests.
    """
    patched = bytearray(data)
    rva, _size = struct.unpack_from("<II", data, data_directory_offset(data, 1))
    sections = _section_table(data)
    idata = next(
        s for s in sections if s.virtual_address <= rva < s.virtual_address + s.virtual_size
    )
    needed = len(new_name) + 1
    target = next(
        s
        for s in sections
        if s is not idata and s.name in (".data", ".rdata") and s.raw_size - s.virtual_size > needed
    )
    offset = target.raw_pointer + target.virtual_size
    patched[offset : offset + needed] = new_name.encode() + b"\0"
    # Grow the section's VirtualSize so that the name is mapped.
    struct.pack_into("<I", patched, target.header_offset + 8, target.virtual_size + needed)
    descriptor = import_descriptor_offset(data, index)
    struct.pack_into("<I", patched, descriptor + 12, target.virtual_address + target.virtual_size)
    return bytes(patched)


def import_descriptor_offset(data: bytes, index: int) -> int:
    """File offset of import descriptor ``index`` (20 bytes; its Name RVA is at +12)."""
    rva, _size = struct.unpack_from("<II", data, data_directory_offset(data, 1))
    return _rva_to_offset(data, rva) + 20 * index


@dataclass(frozen=True)
class _Section:
    name: str
    header_offset: int  # where its entry in the section table is
    virtual_size: int
    virtual_address: int
    raw_size: int
    raw_pointer: int


def _section_table(data: bytes) -> list[_Section]:
    pe_offset = struct.unpack_from("<I", data, 0x3C)[0]
    count = struct.unpack_from("<H", data, pe_offset + 6)[0]
    optional_size = struct.unpack_from("<H", data, pe_offset + 20)[0]
    table = pe_offset + 24 + optional_size
    sections = []
    for i in range(count):
        at = table + 40 * i
        name, vsize, vaddr, raw_size, raw_pointer = struct.unpack_from("<8sIIII", data, at)
        sections.append(
            _Section(name.rstrip(b"\0").decode("ascii"), at, vsize, vaddr, raw_size, raw_pointer)
        )
    return sections
