"""The integrity check on real wheels and sdists, good and broken in one way each, and the
model :func:`read_distribution` makes of them; the dist dir's strays."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from packaging.tags import Tag
from packaging.version import Version
from wheel_factory import (
    add_row,
    change_hash,
    change_size,
    char_device,
    corrupt_member,
    drop_row,
    hardlink,
    member,
    record_hash,
    symlink,
    truncate,
    write_sdist,
    write_wheel,
)

from release.checks.base import REBUILD, CheckContext
from release.checks.integrity import DAMAGED, FIX_SDIST, MAX_MESSAGES_PER_KIND, Integrity
from release.dists import (
    SDIST,
    WHEEL,
    Distribution,
    Stray,
    kind_of,
    read_distribution,
    scan_dist_dir,
)
from release.records import Finding, sha256_of

DIST_INFO = "demo_pkg-1.0.dist-info"
RECORD = f"{DIST_INFO}/RECORD"
INIT = "demo_pkg/__init__.py"


def inspect(path: Path) -> tuple[Distribution, list[Finding]]:
    """The model of ``path`` and its integrity findings. Every finding is the integrity
    check's, about that file, with a remedy; the advice is in the remedy, not the message."""
    dist = read_distribution(path)
    findings = Integrity().inspect(dist)
    for finding in findings:
        assert (finding.check, finding.file) == ("integrity", path.name), finding
        assert finding.remedy, finding
        assert "rebuild" not in finding.message.lower(), finding
    return dist, findings


def only_finding(path: Path, remedy: str = REBUILD) -> Finding:
    """The single finding of ``path``, asserted to be an error with ``remedy``."""
    _, findings = inspect(path)
    assert len(findings) == 1, findings
    assert findings[0].level == "error", findings
    assert findings[0].remedy == remedy
    return findings[0]


def messages(path: Path) -> list[str]:
    return [finding.message for finding in inspect(path)[1]]


def urlsafe_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def context(dist_dir: Path, strays: Sequence[Stray]) -> CheckContext:
    """A CheckContext carrying ``strays``; integrity reads nothing else of it."""
    unused = cast(Any, None)
    return CheckContext(
        config=unused,
        dist_dir=dist_dir,
        runner=unused,
        tag=None,
        strict=False,
        host="linux",
        build_records={},
        damaged_records={},
        expected=None,
        expected_problem=None,
        project_version=None,
        project_version_source="",
        project_problem=None,
        strays=tuple(strays),
    )


# --- good archives -------------------------------------------------------------------------


def test_good_wheel_has_no_findings_and_describes_itself(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, "Demo.Pkg", "1.0", "cp39-abi3-manylinux_2_17_x86_64")

    dist, findings = inspect(path)

    assert findings == []
    assert path.name == "demo_pkg-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"
    assert dist.path == path
    assert dist.filename == path.name
    assert dist.kind == WHEEL
    assert dist.is_wheel
    assert dist.readable
    assert (dist.read_problem, dist.name_problem) == (None, None)
    assert dist.size == path.stat().st_size
    assert dist.sha256 == sha256_of(path)
    assert dist.name == "demo-pkg"
    assert dist.version == Version("1.0")
    assert (dist.name_part, dist.version_part) == ("demo_pkg", "1.0")
    assert dist.tags == frozenset({Tag("cp39", "abi3", "manylinux_2_17_x86_64")})
    assert (dist.platform, dist.abi3) == ("linux", True)
    assert dist.dist_info == DIST_INFO
    assert dist.metadata_path == f"{DIST_INFO}/METADATA"
    metadata = dist.headers(f"{DIST_INFO}/METADATA")
    assert metadata is not None
    assert metadata["Name"] == "Demo.Pkg"
    assert dist.metadata_version == "1.0"
    assert [m.name for m in dist.members] == [
        INIT, f"{DIST_INFO}/METADATA", f"{DIST_INFO}/WHEEL", RECORD
    ]  # fmt: skip
    assert set(dist.kept) == {f"{DIST_INFO}/METADATA", f"{DIST_INFO}/WHEEL", RECORD}
    init = dist.members[0]
    assert (init.size, init.is_dir, init.error) == (10, False, None)
    assert init.sha256 == urlsafe_sha256(b"VALUE = 1\n")


def test_compressed_tag_set_matches_one_tag_line_per_tag(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, tag="py2.py3-none-any")

    dist, findings = inspect(path)

    assert findings == []
    assert dist.tags == frozenset({Tag("py2", "none", "any"), Tag("py3", "none", "any")})


def test_record_signatures_need_not_be_listed(tmp_path: Path) -> None:
    path = write_wheel(
        tmp_path,
        unrecorded=[(f"{DIST_INFO}/RECORD.jws", b"{}"), (f"{DIST_INFO}/RECORD.p7s", b"sig")],
    )

    assert messages(path) == []


def test_good_sdist_has_no_findings_and_describes_itself(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, "Demo.Pkg", "2.0rc1")

    dist, findings = inspect(path)

    assert findings == []
    assert path.name == "demo_pkg-2.0rc1.tar.gz"
    assert dist.kind == SDIST
    assert not dist.is_wheel
    assert dist.name == "demo-pkg"
    assert dist.version == Version("2.0rc1")
    assert dist.version_part == "2.0rc1"
    assert dist.sha256 == sha256_of(path)
    assert dist.tags == frozenset()
    assert dist.platform is None
    assert dist.sdist_top == "demo_pkg-2.0rc1"
    assert dist.metadata_path == "demo_pkg-2.0rc1/PKG-INFO"
    metadata = dist.headers("demo_pkg-2.0rc1/PKG-INFO")
    assert metadata is not None
    assert metadata["Name"] == "Demo.Pkg"
    assert dist.metadata_version == "2.0rc1"
    names = [m.name for m in dist.tar_members]
    assert "demo_pkg-2.0rc1/PKG-INFO" in names
    assert "demo_pkg-2.0rc1/pyproject.toml" in names
    assert set(dist.kept) == {"demo_pkg-2.0rc1/PKG-INFO", "demo_pkg-2.0rc1/pyproject.toml"}


def test_symlink_inside_the_sdist_is_fine(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[symlink("demo_pkg-1.0/README", INIT)])

    assert messages(path) == []


def test_field_validity_is_not_integritys_to_judge(tmp_path: Path) -> None:
    # Missing Metadata-Version, an invalid Version: the metadata check (twine, packaging)
    # reports those; integrity only ties Name and Version to the file name.
    path = write_wheel(tmp_path, metadata="Name: demo-pkg\nVersion: not a version\n")

    assert messages(path) == []


# --- damaged archives ----------------------------------------------------------------------


def test_truncated_wheel_is_one_clear_error(tmp_path: Path) -> None:
    path = truncate(write_wheel(tmp_path, files={"demo_pkg/data.bin": bytes(range(256)) * 64}))

    dist, _ = inspect(path)
    finding = only_finding(path, DAMAGED)

    assert finding.message.startswith("it is not a readable zip archive (")
    assert "truncated or damaged" in DAMAGED
    assert not dist.readable
    assert dist.read_problem == finding.message
    assert dist.members == ()
    assert dist.name == "demo-pkg"


def test_member_with_bad_crc_is_reported(tmp_path: Path) -> None:
    content = b"print('a module that will be damaged on disk')\n"
    path = write_wheel(tmp_path, files={"demo_pkg/mod.py": content}, compression=zipfile.ZIP_STORED)
    corrupt_member(path, content)

    dist, _ = inspect(path)
    finding = only_finding(path, DAMAGED)

    assert "member 'demo_pkg/mod.py' cannot be read" in finding.message
    assert "CRC" in finding.message
    damaged = next(m for m in dist.members if m.name == "demo_pkg/mod.py")
    assert damaged.sha256 is None
    assert damaged.error is not None and "CRC" in damaged.error


def test_not_a_zip_at_all(tmp_path: Path) -> None:
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    path.write_bytes(b"<html>404 Not Found</html>")

    assert "it is not a readable zip archive" in only_finding(path, DAMAGED).message


def test_truncated_sdist_is_one_clear_error(tmp_path: Path) -> None:
    files = {f"demo_pkg/m{i}.py": bytes(range(256)) * 8 * i for i in range(20)}
    path = truncate(write_sdist(tmp_path, files=files))

    finding = only_finding(path, DAMAGED)

    assert "it is not a readable tar.gz archive" in finding.message


def test_sdist_missing_only_its_gzip_trailer_is_truncated(tmp_path: Path) -> None:
    path = write_sdist(tmp_path)
    path.write_bytes(path.read_bytes()[:-4])  # the uncompressed size field of the trailer

    assert "it is not a readable tar.gz archive" in only_finding(path, DAMAGED).message


# --- RECORD --------------------------------------------------------------------------------


def test_record_hash_mismatch(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, record=change_hash(INIT))

    finding = only_finding(path)

    assert f"{RECORD} says {INIT!r} has sha256=" in finding.message
    content_hash = urlsafe_sha256(b"VALUE = 1\n")
    assert f"but its content hashes to sha256={content_hash}" in finding.message
    assert "the file changed after RECORD was written" in finding.message


def test_record_size_mismatch(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, record=change_size(INIT, 999))

    finding = only_finding(path)

    assert f"{INIT!r} is 999 bytes, but it is 10 bytes" in finding.message


def test_file_missing_from_record(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, record=drop_row(INIT))

    finding = only_finding(path)

    assert f"{INIT!r} is in the archive but not in {RECORD}" in finding.message


def test_unrecorded_extra_file(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, unrecorded=[("demo_pkg/_bundled.so", b"\x7fELF")])

    assert "'demo_pkg/_bundled.so' is in the archive but not in" in only_finding(path).message


def test_record_entry_missing_from_archive(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, record=add_row("demo_pkg/removed.py"))

    finding = only_finding(path)

    assert f"{RECORD} lists 'demo_pkg/removed.py', which is not in the archive" in finding.message


def test_weak_record_hash_is_rejected(tmp_path: Path) -> None:
    def use_md5(rows: list[list[str]]) -> list[list[str]]:
        return [[p, "md5=abc" if p.endswith(".py") else h, s] for p, h, s in rows]

    path = write_wheel(tmp_path, record=use_md5)

    assert "with 'md5'; wheels must use sha256 or stronger" in only_finding(path).message


def test_missing_record(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, omit=["RECORD"])

    assert f"{RECORD} is missing" in only_finding(path).message


def test_record_row_with_too_few_fields(tmp_path: Path) -> None:
    def two_fields(rows: list[list[str]]) -> list[list[str]]:
        return [[p, h] if p == INIT else [p, h, s] for p, h, s in rows]

    path = write_wheel(tmp_path, record=two_fields)

    found = messages(path)

    # The row is not usable, so the member it was for is also unrecorded.
    assert found == [
        f"{RECORD} line 1 has 2 fields instead of 3 (path,hash,size)",
        f"{INIT!r} is in the archive but not in {RECORD}; installers would not remove it on "
        "uninstall (a tool that adds files must rewrite RECORD)",
    ]


def test_bad_rows_are_each_reported(tmp_path: Path) -> None:
    def break_two(rows: list[list[str]]) -> list[list[str]]:
        return [[p] if p != RECORD else [p, h, s] for p, h, s in rows]

    path = write_wheel(tmp_path, record=break_two)

    found = messages(path)

    assert [m for m in found if "fields instead of 3" in m] == [
        f"{RECORD} line {n} has 1 fields instead of 3 (path,hash,size)" for n in (1, 2, 3)
    ]


@pytest.mark.parametrize(
    ("hash_text", "size", "issue"),
    [
        ("sha256=abc", "ten", "`size` cannot be non-integer"),
        ("nohash=abc", "10", "invalid hash algorithm 'nohash'"),
        ("sha256", "10", "`hash` does not follow the required format"),
    ],
)
def test_invalid_record_entry(tmp_path: Path, hash_text: str, size: str, issue: str) -> None:
    def spoil(rows: list[list[str]]) -> list[list[str]]:
        return [[p, hash_text, size] if p == INIT else [p, h, s] for p, h, s in rows]

    path = write_wheel(tmp_path, record=spoil)

    found = messages(path)

    assert f"{RECORD} has an invalid entry for {INIT!r}: {issue}" in found


def test_record_entry_without_a_size(tmp_path: Path) -> None:
    def no_size(rows: list[list[str]]) -> list[list[str]]:
        return [[p, h, ""] if p == INIT else [p, h, s] for p, h, s in rows]

    path = write_wheel(tmp_path, record=no_size)

    finding = only_finding(path)

    assert finding.message == (
        f"{RECORD} gives no size for {INIT!r}; every file but RECORD needs both"
    )


def test_record_entry_without_a_hash(tmp_path: Path) -> None:
    def no_hash(rows: list[list[str]]) -> list[list[str]]:
        return [[p, "", s] if p == INIT else [p, h, s] for p, h, s in rows]

    path = write_wheel(tmp_path, record=no_hash)

    finding = only_finding(path)

    assert finding.message == (
        f"{RECORD} gives no hash for {INIT!r}; every file but RECORD needs both"
    )


def test_record_listing_a_hash_for_itself(tmp_path: Path) -> None:
    def hash_itself(rows: list[list[str]]) -> list[list[str]]:
        return [[p, record_hash(b"x"), "1"] if p == RECORD else [p, h, s] for p, h, s in rows]

    path = write_wheel(tmp_path, record=hash_itself)

    assert only_finding(path).message == f"{RECORD} lists a hash or size for itself"


def test_record_listing_a_file_twice(tmp_path: Path) -> None:
    def twice(rows: list[list[str]]) -> list[list[str]]:
        return [rows[0], *rows]

    path = write_wheel(tmp_path, record=twice)

    assert only_finding(path).message == f"{RECORD} lists {INIT!r} twice"


def test_record_not_utf8(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, omit=["RECORD"])
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(RECORD, b"\xff\xfe not utf-8\n")

    found = messages(path)

    assert found[0].startswith(f"{RECORD} is not UTF-8 (")
    # Nothing could be read from it, so every member is unrecorded.
    assert len(found) == 4, found


def sha512_of(data: bytes) -> str:
    digest = hashlib.sha512(data).digest()
    return "sha512=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_other_strong_hash_is_verified(tmp_path: Path) -> None:
    def sha512(rows: list[list[str]]) -> list[list[str]]:
        return [[p, sha512_of(b"VALUE = 1\n"), s] if p == INIT else [p, h, s] for p, h, s in rows]

    assert messages(write_wheel(tmp_path, record=sha512)) == []


@pytest.mark.parametrize("algorithm", ["shake_128", "shake_256"])
def test_a_variable_length_record_hash_is_a_finding_not_a_crash(
    tmp_path: Path, algorithm: str
) -> None:
    # hashlib takes these names, but their digest() needs a length: the check crashed on
    # them (TypeError), and validate lost every other finding with it.
    digest = base64.urlsafe_b64encode(hashlib.new(algorithm, b"VALUE = 1\n").digest(16))
    value = f"{algorithm}={digest.rstrip(b'=').decode()}"

    def shake(rows: list[list[str]]) -> list[list[str]]:
        return [[p, value, s] if p == INIT else [p, h, s] for p, h, s in rows]

    finding = only_finding(write_wheel(tmp_path, record=shake))

    assert finding.message == (
        f"{RECORD} hashes {INIT!r} with {algorithm!r}, whose digest has no fixed length, so "
        "installers cannot verify it; wheels use sha256"
    )


def test_other_strong_hash_mismatch(tmp_path: Path) -> None:
    def sha512(rows: list[list[str]]) -> list[list[str]]:
        return [[p, sha512_of(b"other\n"), s] if p == INIT else [p, h, s] for p, h, s in rows]

    finding = only_finding(write_wheel(tmp_path, record=sha512))

    assert finding.message.startswith(
        f"{RECORD} says {INIT!r} has {sha512_of(b'other' + bytes([10]))}, but its content hashes "
        "to sha512="
    )


def test_record_mismatches_are_capped_with_a_count(tmp_path: Path) -> None:
    files = {f"demo_pkg/m{i:02}.py": b"x = %d\n" % i for i in range(MAX_MESSAGES_PER_KIND + 10)}

    def wrong_everywhere(rows: list[list[str]]) -> list[list[str]]:
        for edit in (change_hash(name) for name in files):
            rows = edit(rows)
        return rows

    path = write_wheel(tmp_path, files=files, record=wrong_everywhere)

    _, findings = inspect(path)
    assert len(findings) == MAX_MESSAGES_PER_KIND + 1
    assert all("but its content hashes to" in f.message for f in findings[:-1])
    assert findings[-1].message == (
        f"10 more RECORD problems not shown (only the first {MAX_MESSAGES_PER_KIND} are listed)"
    )
    assert {(f.level, f.remedy) for f in findings} == {("error", REBUILD)}


# --- zip members ---------------------------------------------------------------------------


def test_duplicate_zip_entries(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, unrecorded=[(INIT, b"VALUE = 1\n")])

    finding = only_finding(path)

    assert f"member {INIT!r} appears 2 times in the archive" in finding.message


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("../evil.py", "has a '..' component"),
        ("demo_pkg/../../evil.py", "has a '..' component"),
        ("/abs.py", "is an absolute path"),
        ("C:/x.py", "starts with a Windows drive letter"),
    ],
)
def test_escaping_wheel_paths(tmp_path: Path, name: str, phrase: str) -> None:
    path = write_wheel(tmp_path, files={INIT: b"", name: b"boom\n"})

    finding = only_finding(path)

    assert finding.message.startswith(f"member {name!r} {phrase}")
    assert "outside site-packages" in finding.message


def test_backslash_member_recorded_as_written_is_only_a_path_error(tmp_path: Path) -> None:
    # RECORD lists the member under exactly its name; nothing is unrecorded or removed.
    path = write_wheel(tmp_path, files={INIT: b"", "demo_pkg\\x.py": b"boom\n"})

    finding = only_finding(path)

    assert finding.message.startswith(
        "member 'demo_pkg\\\\x.py' contains a backslash, which Windows reads as a directory "
        "separator; an installer could write it outside site-packages"
    )


def test_two_dist_info_directories(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, files={INIT: b"", "old_pkg-0.9.dist-info/METADATA": b""})

    finding = only_finding(path)

    assert "the wheel has 2 .dist-info directories (demo_pkg-1.0.dist-info, old_pkg-0.9" in (
        finding.message
    )


def test_no_dist_info_directory(tmp_path: Path) -> None:
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(INIT, b"VALUE = 1\n")

    assert "the wheel has no top-level .dist-info directory" in only_finding(path).message


# --- WHEEL, METADATA, names ----------------------------------------------------------------


def test_wheel_tags_disagree_with_file_name(tmp_path: Path) -> None:
    path = write_wheel(
        tmp_path, tag="cp311-cp311-win_amd64", wheel_tags=["cp311-cp311-linux_x86_64"]
    )

    finding = only_finding(path)

    assert "the Tag lines in WHEEL disagree with the file name's tags" in finding.message
    assert "in the file name but not in WHEEL: cp311-cp311-win_amd64" in finding.message
    assert "in WHEEL but not in the file name: cp311-cp311-linux_x86_64" in finding.message


def test_wheel_file_missing_a_tag_of_a_compressed_set(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, tag="py2.py3-none-any", wheel_tags=["py3-none-any"])

    assert "in the file name but not in WHEEL: py2-none-any" in only_finding(path).message


def test_wheel_file_with_an_unknown_wheel_version(tmp_path: Path) -> None:
    wheel = b"Wheel-Version: 2.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    path = write_wheel(tmp_path, omit=["WHEEL"], files={INIT: b"", f"{DIST_INFO}/WHEEL": wheel})

    assert only_finding(path).message == (
        "WHEEL has Wheel-Version: 2.0; installers understand only 1.x"
    )


def test_non_normalized_wheel_name(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, "My.Package", filename="My.Package-1.0-py3-none-any.whl")

    dist, _ = inspect(path)
    finding = only_finding(path)

    assert "the distribution name 'My.Package' in the file name is not normalized" in (
        finding.message
    )
    assert "my_package-1.0-py3-none-any.whl" in finding.message
    assert dist.name == "my-package"
    assert dist.name_part == "My.Package"


def test_a_wheel_name_unnormalized_only_by_its_case(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, "Demo_Pkg", filename="Demo_Pkg-1.0-py3-none-any.whl")

    finding = only_finding(path)

    assert "the distribution name 'Demo_Pkg' in the file name is not normalized" in (
        finding.message
    )
    assert "demo_pkg-1.0-py3-none-any.whl" in finding.message


def test_non_normalized_wheel_version(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, filename="demo_pkg-01.0-py3-none-any.whl")

    finding = only_finding(path)

    assert "the version '01.0' in the file name is not normalized" in finding.message
    assert "demo_pkg-1.0-py3-none-any.whl" in finding.message


def test_unparseable_wheel_name(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, filename="demo_pkg-py3.whl")

    dist, _ = inspect(path)
    finding = only_finding(path)

    assert finding.message.startswith("the file name is not valid (Invalid wheel filename")
    assert "it must be {name}-{version}[-{build}]-{python}-{abi}-{platform}.whl" in (
        finding.message
    )
    assert (dist.name, dist.version, dist.tags) == (None, None, frozenset())
    assert dist.name_problem is not None
    # The archive itself was still read: its metadata is there for other checks.
    assert dist.readable
    assert dist.metadata_version == "1.0"


def test_dist_info_mismatching_file_name(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, dist_info="other_pkg-1.0.dist-info")

    finding = only_finding(path)

    assert (
        "the wheel's .dist-info directory 'other_pkg-1.0.dist-info' does not match the file name"
        in finding.message
    )
    assert "expected 'demo_pkg-1.0.dist-info'" in finding.message


def test_dist_info_name_compared_canonically(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, dist_info="Demo.Pkg-1.0.dist-info")

    assert messages(path) == []


def test_metadata_version_disagrees_with_file_name(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, metadata="Metadata-Version: 2.1\nName: demo-pkg\nVersion: 2.0\n")

    dist, _ = inspect(path)
    finding = only_finding(path)

    assert f"{DIST_INFO}/METADATA says Version: 2.0, but the file name says 1.0" in (
        finding.message
    )
    assert dist.metadata_version == "2.0"


def test_metadata_version_compared_as_a_version(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, metadata="Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0.0\n")

    assert messages(path) == []


def test_metadata_name_disagrees_with_file_name(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, metadata="Metadata-Version: 2.1\nName: other\nVersion: 1.0\n")

    assert "METADATA says Name: other, but the file name says demo_pkg" in (
        only_finding(path).message
    )


def test_missing_metadata(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, omit=["METADATA"])

    dist, _ = inspect(path)
    finding = only_finding(path)

    assert f"{DIST_INFO}/METADATA is missing" in finding.message
    assert dist.metadata_version is None


def test_metadata_not_utf8(tmp_path: Path) -> None:
    metadata = b"Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\nSummary: \xff\n"
    path = write_wheel(
        tmp_path, omit=["METADATA"], files={INIT: b"", f"{DIST_INFO}/METADATA": metadata}
    )

    dist, _ = inspect(path)

    assert only_finding(path).message == f"{DIST_INFO}/METADATA is not valid UTF-8"
    assert dist.metadata_version is None


def test_missing_wheel_file(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, omit=["WHEEL"])

    assert "the .dist-info/WHEEL file is missing" in only_finding(path).message


def test_misnamed_data_directory(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, files={"demo-1.0.data/scripts/run": b"#!python\n"})

    assert "the wheel has a data directory 'demo-1.0.data', but it must be named" in (
        only_finding(path).message
    )


# --- sdists --------------------------------------------------------------------------------


def test_sdist_missing_pkg_info(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, omit=["PKG-INFO"])

    dist, _ = inspect(path)
    finding = only_finding(path)

    assert "demo_pkg-1.0/PKG-INFO is missing" in finding.message
    assert dist.metadata_version is None


def test_sdist_missing_pyproject(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, omit=["pyproject.toml"])

    assert "demo_pkg-1.0/pyproject.toml is missing" in only_finding(path, FIX_SDIST).message


def test_sdist_invalid_pyproject(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, pyproject="[project\nname = 'demo_pkg'\n")

    finding = only_finding(path, "fix pyproject.toml and rebuild the sdist.")

    assert "pyproject.toml" in finding.message


def test_sdist_pkg_info_version_disagrees(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, pkg_info="Metadata-Version: 2.1\nName: demo_pkg\nVersion: 1.1\n")

    assert "PKG-INFO says Version: 1.1, but the file name says 1.0" in only_finding(path).message


def test_sdist_pkg_info_name_disagrees(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, pkg_info="Metadata-Version: 2.1\nName: other\nVersion: 1.0\n")

    assert "PKG-INFO says Name: other, but the file name says demo_pkg" in (
        only_finding(path).message
    )


def test_sdist_parent_directory_member(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[member("demo_pkg-1.0/../evil.py", b"boom\n")])

    finding = only_finding(path, FIX_SDIST)

    assert "member 'demo_pkg-1.0/../evil.py' has a '..' component" in finding.message


def test_sdist_absolute_member(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[member("/etc/evil.py", b"boom\n")])

    _, findings = inspect(path)

    absolute = [f for f in findings if "member '/etc/evil.py' is an absolute path" in f.message]
    assert [(f.level, f.remedy) for f in absolute] == [("error", FIX_SDIST)], findings


def test_sdist_symlink_escaping_top_directory(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[symlink("demo_pkg-1.0/data", "../../etc/passwd")])

    finding = only_finding(
        path, "replace the link with the file it points to, then rebuild the sdist."
    )

    assert "member 'demo_pkg-1.0/data' is a symlink to '../../etc/passwd'" in finding.message
    assert "outside the sdist's top directory 'demo_pkg-1.0/'" in finding.message


def test_sdist_symlink_into_a_sibling_named_like_the_top_directory(tmp_path: Path) -> None:
    # demo_pkg-1.0x/ starts with the characters of demo_pkg-1.0 but is another directory.
    path = write_sdist(tmp_path, extra=[symlink("demo_pkg-1.0/data", "../demo_pkg-1.0x/evil")])

    finding = only_finding(
        path, "replace the link with the file it points to, then rebuild the sdist."
    )

    assert "is a symlink to '../demo_pkg-1.0x/evil', outside the sdist's top directory" in (
        finding.message
    )


def test_sdist_symlink_to_the_top_directory_itself_is_fine(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[symlink("demo_pkg-1.0/sub/up", "..")])

    assert messages(path) == []


def test_sdist_absolute_symlink(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[symlink("demo_pkg-1.0/data", "/etc/passwd")])

    _, findings = inspect(path)

    assert len(findings) == 1, findings
    assert "is a symlink to '/etc/passwd', outside" in findings[0].message


def test_sdist_hardlink_escaping_top_directory(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[hardlink("demo_pkg-1.0/data", "etc/passwd")])

    _, findings = inspect(path)

    assert len(findings) == 1, findings
    assert "is a hard link to 'etc/passwd', outside" in findings[0].message


def test_sdist_hardlink_inside_top_directory_is_fine(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[hardlink("demo_pkg-1.0/copy.py", f"demo_pkg-1.0/{INIT}")])

    assert messages(path) == []


def test_sdist_device_file(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[char_device("demo_pkg-1.0/null")])

    finding = only_finding(path, FIX_SDIST)

    assert "member 'demo_pkg-1.0/null' is a device or FIFO" in finding.message


def test_sdist_with_a_second_top_directory(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[member("stray/file.txt", b"x")])

    finding = only_finding(path)

    assert "the sdist has top-level entries other than 'demo_pkg-1.0/': stray" in finding.message


def test_sdist_duplicate_member_is_a_warning(tmp_path: Path) -> None:
    extra = [member("demo_pkg-1.0/x.txt", b"1"), member("demo_pkg-1.0/x.txt", b"2")]
    path = write_sdist(tmp_path, extra=extra)

    _, findings = inspect(path)

    assert [(f.level, f.remedy) for f in findings] == [("warning", FIX_SDIST)]
    assert "member 'demo_pkg-1.0/x.txt' appears 2 times in the archive" in findings[0].message


def test_sdist_top_directory_not_named_like_the_file(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, top="demo-pkg-1.0")

    assert only_finding(path).message == (
        "the sdist has top-level entries other than 'demo_pkg-1.0/': demo-pkg-1.0; an sdist "
        "holds exactly one directory named like the file"
    )


def test_non_normalized_sdist_name(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, "Demo.Pkg", filename="Demo.Pkg-1.0.tar.gz", top="Demo.Pkg-1.0")

    finding = only_finding(path)

    assert "the distribution name 'Demo.Pkg' in the file name is not normalized" in (
        finding.message
    )
    assert "demo_pkg-1.0.tar.gz" in finding.message


def test_unparseable_sdist_name(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, filename="demo.tar.gz", top="demo")

    dist, _ = inspect(path)
    finding = only_finding(path)

    assert finding.message.startswith("the file name is not valid (Invalid sdist filename")
    assert "it must be {name}-{version}.tar.gz" in finding.message
    assert dist.name is None
    assert dist.sdist_top == "demo"


# --- the dist dir ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a-1.0-py3-none-any.whl", WHEEL),
        ("a-1.0.tar.gz", SDIST),
        ("a-1.0.zip", None),
        ("a-1.0-py3.9.egg", None),
        ("SHA256SUMS", None),
    ],
)
def test_kind_of(name: str, expected: str | None) -> None:
    assert kind_of(name) == expected


def test_reading_a_non_distribution_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "demo_pkg-1.0.zip"
    path.write_bytes(b"PK")

    with pytest.raises(ValueError, match=r"demo_pkg-1\.0\.zip is not a wheel or an sdist"):
        read_distribution(path)


def test_scan_dist_dir_sorts_distributions_from_strays(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path)
    sdist = write_sdist(tmp_path)
    (tmp_path / ".release").mkdir()
    (tmp_path / ".release" / "build-linux.json").write_text("{}")
    (tmp_path / ".gitignore").write_text("*\n")  # hidden, not a distribution: ignored
    (tmp_path / "demo_pkg-1.0.zip").write_bytes(b"PK")
    (tmp_path / "notes.txt").write_text("x")

    paths, strays = scan_dist_dir(tmp_path)

    assert paths == [wheel, sdist]
    assert [(s.name, s.refused) for s in strays] == [
        ("demo_pkg-1.0.zip", True),
        ("notes.txt", False),
    ]
    assert "is not a distribution PyPI accepts" in strays[0].problem
    assert "it will not be published" in strays[1].problem
    assert all(s.remedy for s in strays)


def test_scan_dist_dir_reports_hidden_wheels_directories_and_dangling_links(
    tmp_path: Path,
) -> None:
    hidden = write_wheel(tmp_path)
    hidden.rename(tmp_path / f".{hidden.name}")
    (tmp_path / "wheelhouse").mkdir()
    write_wheel(tmp_path / "wheelhouse")
    link = tmp_path / "demo_pkg-2.0-py3-none-any.whl"
    try:
        link.symlink_to(tmp_path / "gone.whl")
    except OSError:
        pytest.skip("cannot create symlinks here")

    paths, strays = scan_dist_dir(tmp_path)

    assert paths == []
    by_name = {s.name: s for s in strays}
    assert set(by_name) == {f".{hidden.name}", "wheelhouse", link.name}
    assert "is a hidden file" in by_name[f".{hidden.name}"].problem
    assert f"rename it to {hidden.name}" in by_name[f".{hidden.name}"].remedy
    assert not by_name[f".{hidden.name}"].refused
    assert "is a directory" in by_name["wheelhouse"].problem
    assert not by_name["wheelhouse"].refused
    assert "which does not exist" in by_name[link.name].problem
    assert by_name[link.name].refused  # a wheel someone expects to publish is not there


def test_strays_are_integrity_findings(tmp_path: Path) -> None:
    wheel = write_wheel(tmp_path, record=drop_row(INIT))
    (tmp_path / "demo_pkg-1.0.zip").write_bytes(b"PK")
    (tmp_path / "notes.txt").write_text("x")
    paths, strays = scan_dist_dir(tmp_path)

    found = Integrity().run([read_distribution(p) for p in paths], context(tmp_path, strays))

    assert [(f.level, f.check, f.file) for f in found] == [
        ("error", "integrity", "demo_pkg-1.0.zip"),
        ("warning", "integrity", "notes.txt"),
        ("error", "integrity", wheel.name),
    ]
    assert [(f.message, f.remedy) for f in found[:2]] == [(s.problem, s.remedy) for s in strays]
    assert "is in the archive but not in" in found[2].message


def test_strays_are_reported_without_any_distribution(tmp_path: Path) -> None:
    assert Integrity.runs_without_files
    stray = Stray("old.egg", "is not a distribution PyPI accepts", "remove it.", refused=True)

    found = Integrity().run([], context(tmp_path, [stray]))

    assert found == [
        Finding("error", "integrity", "old.egg", "is not a distribution PyPI accepts", "remove it.")
    ]


# --- a real build ----------------------------------------------------------------------------


def test_wheel_and_sdist_built_by_python_build_pass(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "src" / "tiny_pkg").mkdir(parents=True)
    (project / "src" / "tiny_pkg" / "__init__.py").write_text("VALUE = 1\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=70"]\nbuild-backend = "setuptools.build_meta"\n'
        '\n[project]\nname = "Tiny.Pkg"\nversion = "0.1.0"\n'
    )
    out = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out), str(project)],
        check=True,
        capture_output=True,
    )

    paths, strays = scan_dist_dir(out)
    assert strays == []
    assert [p.name for p in paths] == ["tiny_pkg-0.1.0-py3-none-any.whl", "tiny_pkg-0.1.0.tar.gz"]
    for path in paths:
        dist, findings = inspect(path)
        assert findings == [], path.name
        assert (dist.name, dist.metadata_version) == ("tiny-pkg", "0.1.0")
