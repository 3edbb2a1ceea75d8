"""The integrity check on real wheels and sdists, good and broken in one way each."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.tags import Tag
from wheel_factory import (
    add_row,
    change_hash,
    change_size,
    char_device,
    corrupt_member,
    drop_row,
    hardlink,
    member,
    symlink,
    truncate,
    write_sdist,
    write_wheel,
)

from release.archives import (
    MAX_MESSAGES_PER_KIND,
    inspect_artifact,
    is_artifact,
    stray_files,
)
from release.records import Finding

DIST_INFO = "demo_pkg-1.0.dist-info"
RECORD = f"{DIST_INFO}/RECORD"


def only_finding(path: Path) -> Finding:
    """The single finding of ``path``, asserted to be an integrity error about that file."""
    _, findings = inspect_artifact(path)
    assert len(findings) == 1, findings
    assert_error(findings[0], path)
    return findings[0]


def assert_error(finding: Finding, path: Path) -> None:
    assert (finding.level, finding.check, finding.file) == ("error", "integrity", path.name)


def messages(path: Path) -> list[str]:
    _, findings = inspect_artifact(path)
    for finding in findings:
        assert finding.check == "integrity" and finding.file == path.name
    return [finding.message for finding in findings]


# --- good archives -------------------------------------------------------------------------


def test_good_wheel_has_no_findings_and_describes_itself(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, "Demo.Pkg", "1.0", "cp39-abi3-manylinux_2_17_x86_64")

    info, findings = inspect_artifact(path)

    assert findings == []
    assert path.name == "demo_pkg-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"
    assert info.path == path
    assert info.kind == "wheel"
    assert info.name == "demo-pkg"
    assert info.filename_version == "1.0"
    assert info.metadata_name == "Demo.Pkg"
    assert info.metadata_version == "1.0"
    assert info.tags == frozenset({Tag("cp39", "abi3", "manylinux_2_17_x86_64")})
    assert info.members == (
        "demo_pkg/__init__.py",
        f"{DIST_INFO}/METADATA",
        f"{DIST_INFO}/WHEEL",
        RECORD,
    )


def test_compressed_tag_set_matches_one_tag_line_per_tag(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, tag="py2.py3-none-any")

    info, findings = inspect_artifact(path)

    assert findings == []
    assert info.tags == frozenset({Tag("py2", "none", "any"), Tag("py3", "none", "any")})


def test_record_signatures_need_not_be_listed(tmp_path: Path) -> None:
    path = write_wheel(
        tmp_path,
        unrecorded=[(f"{DIST_INFO}/RECORD.jws", b"{}"), (f"{DIST_INFO}/RECORD.p7s", b"sig")],
    )

    assert messages(path) == []


def test_good_sdist_has_no_findings_and_describes_itself(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, "Demo.Pkg", "2.0rc1")

    info, findings = inspect_artifact(path)

    assert findings == []
    assert path.name == "demo_pkg-2.0rc1.tar.gz"
    assert info.kind == "sdist"
    assert info.name == "demo-pkg"
    assert info.filename_version == "2.0rc1"
    assert info.metadata_name == "Demo.Pkg"
    assert info.metadata_version == "2.0rc1"
    assert info.tags == frozenset()
    assert "demo_pkg-2.0rc1/PKG-INFO" in info.members
    assert "demo_pkg-2.0rc1/pyproject.toml" in info.members


def test_symlink_inside_the_sdist_is_fine(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[symlink("demo_pkg-1.0/README", "demo_pkg/__init__.py")])

    assert messages(path) == []


# --- damaged archives ----------------------------------------------------------------------


def test_truncated_wheel_is_one_clear_error(tmp_path: Path) -> None:
    path = truncate(write_wheel(tmp_path, files={"demo_pkg/data.bin": bytes(range(256)) * 64}))

    info, findings = inspect_artifact(path)

    assert len(findings) == 1, findings
    assert_error(findings[0], path)
    assert "the wheel is not a readable zip archive" in findings[0].message
    assert "truncated or damaged" in findings[0].message
    assert info.members == ()
    assert info.name == "demo-pkg"


def test_member_with_bad_crc_is_reported(tmp_path: Path) -> None:
    content = b"print('a module that will be damaged on disk')\n"
    path = write_wheel(tmp_path, files={"demo_pkg/mod.py": content}, compression=zipfile.ZIP_STORED)
    corrupt_member(path, content)

    finding = only_finding(path)

    assert "member 'demo_pkg/mod.py' cannot be read" in finding.message
    assert "CRC" in finding.message


def test_not_a_zip_at_all(tmp_path: Path) -> None:
    path = tmp_path / "demo_pkg-1.0-py3-none-any.whl"
    path.write_bytes(b"<html>404 Not Found</html>")

    assert "the wheel is not a readable zip archive" in only_finding(path).message


def test_truncated_sdist_is_one_clear_error(tmp_path: Path) -> None:
    files = {f"demo_pkg/m{i}.py": bytes(range(256)) * 8 * i for i in range(20)}
    path = truncate(write_sdist(tmp_path, files=files))

    finding = only_finding(path)

    assert "the sdist is not a readable tar.gz archive" in finding.message


def test_sdist_missing_only_its_gzip_trailer_is_truncated(tmp_path: Path) -> None:
    path = write_sdist(tmp_path)
    path.write_bytes(path.read_bytes()[:-4])  # the uncompressed size field of the trailer

    assert "the sdist is not a readable tar.gz archive" in only_finding(path).message


# --- RECORD --------------------------------------------------------------------------------


def test_record_hash_mismatch(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, record=change_hash("demo_pkg/__init__.py"))

    finding = only_finding(path)

    assert f"{RECORD} says 'demo_pkg/__init__.py' has sha256=" in finding.message
    assert "but its content hashes to sha256=" in finding.message


def test_record_size_mismatch(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, record=change_size("demo_pkg/__init__.py", 999))

    finding = only_finding(path)

    assert "'demo_pkg/__init__.py' is 999 bytes, but it is 10 bytes" in finding.message


def test_file_missing_from_record(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, record=drop_row("demo_pkg/__init__.py"))

    finding = only_finding(path)

    assert f"'demo_pkg/__init__.py' is in the archive but not in {RECORD}" in finding.message


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


def test_record_mismatches_are_capped_with_a_count(tmp_path: Path) -> None:
    files = {f"demo_pkg/m{i:02}.py": b"x = %d\n" % i for i in range(MAX_MESSAGES_PER_KIND + 10)}

    def wrong_everywhere(rows: list[list[str]]) -> list[list[str]]:
        for edit in (change_hash(name) for name in files):
            rows = edit(rows)
        return rows

    path = write_wheel(tmp_path, files=files, record=wrong_everywhere)

    found = messages(path)
    assert len(found) == MAX_MESSAGES_PER_KIND + 1
    assert all("but its content hashes to" in m for m in found[:-1])
    assert found[-1] == (
        f"10 more RECORD problems not shown (only the first {MAX_MESSAGES_PER_KIND} are listed)"
    )


# --- zip members ---------------------------------------------------------------------------


def test_duplicate_zip_entries(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, unrecorded=[("demo_pkg/__init__.py", b"VALUE = 1\n")])

    finding = only_finding(path)

    assert "member 'demo_pkg/__init__.py' appears 2 times in the archive" in finding.message


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("../evil.py", "has a '..' component"),
        ("demo_pkg/../../evil.py", "has a '..' component"),
        ("/abs.py", "is an absolute path"),
        ("C:/x.py", "starts with a Windows drive letter"),
        ("demo_pkg\\x.py", "contains a backslash"),
    ],
)
def test_escaping_wheel_paths(tmp_path: Path, name: str, phrase: str) -> None:
    path = write_wheel(tmp_path, files={"demo_pkg/__init__.py": b"", name: b"boom\n"})

    finding = only_finding(path)

    assert finding.message.startswith(f"member {name!r} {phrase}")
    assert "outside site-packages" in finding.message


def test_two_dist_info_directories(tmp_path: Path) -> None:
    path = write_wheel(
        tmp_path, files={"demo_pkg/__init__.py": b"", "old_pkg-0.9.dist-info/METADATA": b""}
    )

    finding = only_finding(path)

    assert "the wheel has 2 .dist-info directories (demo_pkg-1.0.dist-info, old_pkg-0.9" in (
        finding.message
    )


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


def test_non_normalized_wheel_name(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, "My.Package", filename="My.Package-1.0-py3-none-any.whl")

    info, findings = inspect_artifact(path)

    assert len(findings) == 1, findings
    assert_error(findings[0], path)
    assert "the distribution name 'My.Package' in the file name is not normalized" in (
        findings[0].message
    )
    assert "my_package-1.0-py3-none-any.whl" in findings[0].message
    assert info.name == "my-package"


def test_non_normalized_wheel_version(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, filename="demo_pkg-01.0-py3-none-any.whl")

    finding = only_finding(path)

    assert "the version '01.0' in the file name is not normalized" in finding.message
    assert "demo_pkg-1.0-py3-none-any.whl" in finding.message


def test_unparseable_wheel_name(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, filename="demo_pkg-py3.whl")

    info, findings = inspect_artifact(path)

    assert len(findings) == 1, findings
    assert_error(findings[0], path)
    assert "the file name is not a valid wheel name (Invalid wheel filename" in (
        findings[0].message
    )
    assert (info.name, info.filename_version, info.tags) == (None, None, frozenset())
    # The archive itself was still read: its metadata is there for other checks.
    assert info.metadata_version == "1.0"


def test_dist_info_mismatching_file_name(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, dist_info="other_pkg-1.0.dist-info")

    finding = only_finding(path)

    assert (
        "the wheel's .dist-info directory 'other_pkg-1.0.dist-info' does not match the file name"
        in (finding.message)
    )
    assert "expected 'demo_pkg-1.0.dist-info'" in finding.message


def test_dist_info_name_compared_canonically(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, dist_info="Demo.Pkg-1.0.dist-info")

    assert messages(path) == []


def test_metadata_version_disagrees_with_file_name(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, metadata="Metadata-Version: 2.1\nName: demo-pkg\nVersion: 2.0\n")

    info, findings = inspect_artifact(path)

    assert len(findings) == 1, findings
    assert_error(findings[0], path)
    assert "METADATA says Version: 2.0, but the file name says 1.0" in findings[0].message
    assert info.metadata_version == "2.0"


def test_metadata_name_disagrees_with_file_name(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, metadata="Metadata-Version: 2.1\nName: other\nVersion: 1.0\n")

    assert "METADATA says Name: other, but the file name says demo_pkg" in (
        only_finding(path).message
    )


def test_missing_metadata(tmp_path: Path) -> None:
    path = write_wheel(tmp_path, omit=["METADATA"])

    info, findings = inspect_artifact(path)

    assert len(findings) == 1, findings
    assert f"{DIST_INFO}/METADATA is missing" in findings[0].message
    assert info.metadata_version is None


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

    info, findings = inspect_artifact(path)

    assert len(findings) == 1, findings
    assert_error(findings[0], path)
    assert "demo_pkg-1.0/PKG-INFO is missing" in findings[0].message
    assert info.metadata_version is None


def test_sdist_missing_pyproject(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, omit=["pyproject.toml"])

    assert "demo_pkg-1.0/pyproject.toml is missing" in only_finding(path).message


def test_sdist_pkg_info_version_disagrees(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, pkg_info="Metadata-Version: 2.1\nName: demo_pkg\nVersion: 1.1\n")

    assert "PKG-INFO says Version: 1.1, but the file name says 1.0" in only_finding(path).message


def test_sdist_parent_directory_member(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[member("demo_pkg-1.0/../evil.py", b"boom\n")])

    finding = only_finding(path)

    assert "member 'demo_pkg-1.0/../evil.py' has a '..' component" in finding.message


def test_sdist_absolute_member(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[member("/etc/evil.py", b"boom\n")])

    found = messages(path)

    assert any("member '/etc/evil.py' is an absolute path" in m for m in found), found


def test_sdist_symlink_escaping_top_directory(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[symlink("demo_pkg-1.0/data", "../../etc/passwd")])

    finding = only_finding(path)

    assert "member 'demo_pkg-1.0/data' is a symlink to '../../etc/passwd'" in finding.message
    assert "outside the sdist's top directory 'demo_pkg-1.0/'" in finding.message


def test_sdist_absolute_symlink(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[symlink("demo_pkg-1.0/data", "/etc/passwd")])

    assert "is a symlink to '/etc/passwd', outside" in only_finding(path).message


def test_sdist_hardlink_escaping_top_directory(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[hardlink("demo_pkg-1.0/data", "etc/passwd")])

    assert "is a hard link to 'etc/passwd', outside" in only_finding(path).message


def test_sdist_device_file(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[char_device("demo_pkg-1.0/null")])

    assert "member 'demo_pkg-1.0/null' is a device or FIFO" in only_finding(path).message


def test_sdist_with_a_second_top_directory(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, extra=[member("stray/file.txt", b"x")])

    finding = only_finding(path)

    assert "the sdist has top-level entries other than 'demo_pkg-1.0/': stray" in finding.message


def test_sdist_duplicate_member_is_a_warning(tmp_path: Path) -> None:
    extra = [member("demo_pkg-1.0/x.txt", b"1"), member("demo_pkg-1.0/x.txt", b"2")]
    path = write_sdist(tmp_path, extra=extra)

    _, findings = inspect_artifact(path)

    assert [(f.level, f.check, f.file) for f in findings] == [("warning", "integrity", path.name)]
    assert "member 'demo_pkg-1.0/x.txt' appears 2 times in the archive" in findings[0].message


def test_sdist_top_directory_not_named_like_the_file(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, top="demo-pkg-1.0")

    found = messages(path)

    assert found == [
        "the sdist has top-level entries other than 'demo_pkg-1.0/': demo-pkg-1.0; an sdist holds "
        "exactly one directory named like the file: rebuild it with the build backend"
    ]


def test_non_normalized_sdist_name(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, "Demo.Pkg", filename="Demo.Pkg-1.0.tar.gz", top="Demo.Pkg-1.0")

    finding = only_finding(path)

    assert "the distribution name 'Demo.Pkg' in the file name is not normalized" in (
        finding.message
    )
    assert "demo_pkg-1.0.tar.gz" in finding.message


def test_unparseable_sdist_name(tmp_path: Path) -> None:
    path = write_sdist(tmp_path, filename="demo.tar.gz", top="demo")

    info, findings = inspect_artifact(path)

    assert len(findings) == 1, findings
    assert "the file name is not a valid sdist name (Invalid sdist filename" in (
        findings[0].message
    )
    assert info.name is None


# --- helpers for other checks --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a-1.0-py3-none-any.whl", True),
        ("a-1.0.tar.gz", True),
        ("a-1.0.zip", False),
        ("a-1.0-py3.9.egg", False),
        ("SHA256SUMS", False),
    ],
)
def test_is_artifact(name: str, expected: bool) -> None:
    assert is_artifact(Path(name)) is expected


def test_stray_files_in_dist_dir(tmp_path: Path) -> None:
    write_wheel(tmp_path)
    write_sdist(tmp_path)
    (tmp_path / ".release").mkdir()
    (tmp_path / "demo_pkg-1.0.zip").write_bytes(b"PK")
    (tmp_path / "notes.txt").write_text("x")

    found = stray_files(tmp_path)

    assert [(f.level, f.check, f.file) for f in found] == [
        ("error", "integrity", "demo_pkg-1.0.zip"),
        ("warning", "integrity", "notes.txt"),
    ]
    assert "this is not a distribution PyPI accepts" in found[0].message
    assert "it will not be published" in found[1].message


def test_inspecting_a_non_distribution_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "demo_pkg-1.0.zip"
    path.write_bytes(b"PK")

    info, findings = inspect_artifact(path)

    assert info.kind == "unknown"
    assert len(findings) == 1
    assert_error(findings[0], path)
    assert "this is not a distribution" in findings[0].message


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

    built = sorted(out.iterdir())
    assert [p.name for p in built] == ["tiny_pkg-0.1.0-py3-none-any.whl", "tiny_pkg-0.1.0.tar.gz"]
    for path in built:
        info, findings = inspect_artifact(path)
        assert findings == [], path.name
        assert (info.name, info.metadata_version) == ("tiny-pkg", "0.1.0")
