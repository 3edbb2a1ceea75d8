"""Real wheels and sdists with chosen contents, correct by default or broken on purpose.

Tests import it with ``from wheel_factory import ...`` (pytest puts tests/ on sys.path).
Everything is written with zipfile/tarfile, the way build backends do, so the archives are
the real thing; each knob breaks exactly one property, leaving the rest consistent.

    write_wheel(tmp_path)                                    # a good demo_pkg-1.0 wheel
    write_wheel(tmp_path, record=change_hash("demo_pkg/__init__.py"))
    write_sdist(tmp_path, extra=[symlink("demo_pkg-1.0/link", "../../etc/passwd")])
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import tarfile
import warnings
import zipfile
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

from packaging.tags import parse_tag
from packaging.utils import canonicalize_name

RecordRows = list[list[str]]  # [path, "sha256=...", size] per row, RECORD's own row last
RecordEdit = Callable[[RecordRows], RecordRows]
TarExtra = tuple[tarfile.TarInfo, bytes]

# 1980-01-02: zip cannot store earlier times; fixed so that archives are reproducible.
FIXED_TIME = (1980, 1, 2, 0, 0, 0)
FIXED_MTIME = 315619200


def normal_name(name: str) -> str:
    """The file-name form of a distribution name (PEP 427/625)."""
    return canonicalize_name(name).replace("-", "_")


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


# --- wheels --------------------------------------------------------------------------------


def metadata_text(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: A demo.\n"


def wheel_text(tags: Sequence[str]) -> str:
    lines = ["Wheel-Version: 1.0", "Generator: wheel_factory", "Root-Is-Purelib: true"]
    return "\n".join([*lines, *(f"Tag: {tag}" for tag in tags)]) + "\n"


def write_wheel(
    directory: Path,
    name: str = "demo_pkg",
    version: str = "1.0",
    tag: str = "py3-none-any",
    *,
    files: Mapping[str, bytes] | None = None,
    filename: str | None = None,
    dist_info: str | None = None,
    metadata: str | None = None,
    wheel_tags: Sequence[str] | None = None,
    omit: Collection[str] = (),
    record: RecordEdit | None = None,
    unrecorded: Sequence[tuple[str, bytes]] = (),
    compression: int = zipfile.ZIP_DEFLATED,
) -> Path:
    """Write a wheel and return its path.

    files: package files (path in the archive -> bytes), listed in RECORD whatever their
      names; default one ``<pkg>/__init__.py``.
    filename, dist_info: override the file name / the .dist-info directory name (defaults
      are the normalized ``name``, ``version``, ``tag``).
    metadata, wheel_tags: override METADATA's text / WHEEL's Tag lines (default: the
      compressed ``tag`` expanded, one Tag line each).
    omit: dist-info file names ("METADATA", "WHEEL", "RECORD") to leave out entirely.
    record: edits RECORD's rows before it is written (see change_hash, change_size, ...).
    unrecorded: (name, bytes) entries appended after RECORD, not listed in it; names may
      repeat earlier ones (duplicate zip entries).
    """
    stem = f"{normal_name(name)}-{version}"
    filename = filename or f"{stem}-{tag}.whl"
    dist_info = dist_info or f"{stem}.dist-info"
    package = normal_name(name)
    files = files if files is not None else {f"{package}/__init__.py": b"VALUE = 1\n"}
    tags = wheel_tags if wheel_tags is not None else sorted(str(t) for t in parse_tag(tag))
    meta_files = {
        "METADATA": (metadata if metadata is not None else metadata_text(name, version)).encode(),
        "WHEEL": wheel_text(tags).encode(),
    }
    entries = dict(files)
    entries.update(
        {f"{dist_info}/{base}": data for base, data in meta_files.items() if base not in omit}
    )
    rows = [[member, record_hash(data), str(len(data))] for member, data in entries.items()]
    record_name = f"{dist_info}/RECORD"
    rows.append([record_name, "", ""])
    if record is not None:
        rows = record(rows)

    path = directory / filename
    with zipfile.ZipFile(path, "w", compression=compression) as archive, warnings.catch_warnings():
        # zipfile warns on a repeated name; writing one is the point of ``unrecorded``.
        warnings.simplefilter("ignore", UserWarning)
        for member, data in entries.items():
            archive.writestr(zipfile.ZipInfo(member, FIXED_TIME), data, compression)
        if "RECORD" not in omit:
            archive.writestr(zipfile.ZipInfo(record_name, FIXED_TIME), _csv(rows), compression)
        for member, data in unrecorded:
            archive.writestr(zipfile.ZipInfo(member, FIXED_TIME), data, compression)
    return path


def _csv(rows: RecordRows) -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue().encode()


def change_hash(member: str) -> RecordEdit:
    """RECORD gives ``member`` the hash of other content (its size stays right)."""
    wrong = record_hash(b"not the content")
    return lambda rows: [[p, wrong, s] if p == member else [p, h, s] for p, h, s in rows]


def change_size(member: str, size: int) -> RecordEdit:
    return lambda rows: [[p, h, str(size)] if p == member else [p, h, s] for p, h, s in rows]


def drop_row(member: str) -> RecordEdit:
    """RECORD forgets ``member`` although the archive holds it."""
    return lambda rows: [row for row in rows if row[0] != member]


def add_row(member: str, data: bytes = b"gone\n") -> RecordEdit:
    """RECORD lists ``member`` although the archive does not hold it."""
    return lambda rows: [[member, record_hash(data), str(len(data))], *rows]


# --- sdists --------------------------------------------------------------------------------


def pkg_info_text(name: str, version: str) -> str:
    return metadata_text(name, version)


def pyproject_text(name: str, version: str) -> str:
    return (
        '[build-system]\nrequires = ["setuptools>=70"]\nbuild-backend = "setuptools.build_meta"\n'
        f'\n[project]\nname = "{name}"\nversion = "{version}"\n'
    )


def write_sdist(
    directory: Path,
    name: str = "demo_pkg",
    version: str = "1.0",
    *,
    files: Mapping[str, bytes] | None = None,
    filename: str | None = None,
    top: str | None = None,
    pkg_info: str | None = None,
    pyproject: str | None = None,
    omit: Collection[str] = (),
    extra: Sequence[TarExtra] = (),
) -> Path:
    """Write a .tar.gz sdist and return its path.

    files: paths relative to the top directory -> bytes (default one ``<pkg>/__init__.py``).
    filename, top: override the file name / the top directory (default ``<name>-<version>``
      normalized).
    pkg_info, pyproject: override PKG-INFO's / pyproject.toml's text.
    omit: "PKG-INFO" or "pyproject.toml" to leave out.
    extra: raw (TarInfo, bytes) members appended as they are, names not prefixed (see
      symlink, hardlink, char_device, member).
    """
    stem = f"{normal_name(name)}-{version}"
    filename = filename or f"{stem}.tar.gz"
    top = top or stem
    contents = dict(
        files if files is not None else {f"{normal_name(name)}/__init__.py": b"VALUE = 1\n"}
    )
    if "PKG-INFO" not in omit:
        contents["PKG-INFO"] = (pkg_info or pkg_info_text(name, version)).encode()
    if "pyproject.toml" not in omit:
        contents["pyproject.toml"] = (pyproject or pyproject_text(name, version)).encode()

    path = directory / filename
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        top_info = tarfile.TarInfo(top)
        top_info.type = tarfile.DIRTYPE
        top_info.mode = 0o755
        top_info.mtime = FIXED_MTIME
        archive.addfile(top_info)
        for relative, data in contents.items():
            info, payload = member(f"{top}/{relative}", data)
            archive.addfile(info, io.BytesIO(payload))
        for info, payload in extra:
            archive.addfile(info, io.BytesIO(payload) if info.isfile() else None)
    return path


def member(name: str, data: bytes) -> TarExtra:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = FIXED_MTIME
    return info, data


def symlink(name: str, target: str) -> TarExtra:
    return _link(name, target, tarfile.SYMTYPE)


def hardlink(name: str, target: str) -> TarExtra:
    return _link(name, target, tarfile.LNKTYPE)


def _link(name: str, target: str, kind: bytes) -> TarExtra:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    info.mtime = FIXED_MTIME
    return info, b""


def char_device(name: str) -> TarExtra:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    info.mtime = FIXED_MTIME
    return info, b""


# --- damage --------------------------------------------------------------------------------


def truncate(path: Path, keep: float = 0.5) -> Path:
    """Cut the file to the first ``keep`` fraction of its bytes, like an interrupted copy."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def corrupt_member(path: Path, content: bytes) -> Path:
    """Flip one byte of ``content`` where it is stored uncompressed (a ZIP_STORED wheel)."""
    data = bytearray(path.read_bytes())
    at = data.index(content)
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))
    return path
