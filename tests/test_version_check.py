"""The ``version`` check on real project directories and real files, and what it stands on:
the tag (:mod:`release.tag`) and the project version (:mod:`release.project`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import check_context, write_text
from packaging.version import Version
from wheel_factory import metadata_text, write_sdist, write_wheel

from release.checks.integrity import Integrity
from release.checks.version import STALE, VersionCheck
from release.config import ReleaseConfig, load_config
from release.dists import Distribution, read_distribution
from release.errors import ConfigValueError, TagError
from release.project.cargo import (
    cargo_to_pep440,
    crate_version,
    find_workspace_root,
    manifest_path,
    read_manifest,
)
from release.project.toml import read_toml
from release.project.version import project_version
from release.records import ERROR, INFO, Finding
from release.report import findings_markdown
from release.tag import parse_tag, release_kind_problem, tag_mismatch, tag_regex

TAG = "cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"
WHEEL = f"tally-0.3.1-{TAG}.whl"
SDIST = "tally-0.3.1.tar.gz"
STATIC_SOURCE = "pyproject.toml [project] version"


# --- projects, files and the context validate gives the check --------------------------------


def static_project(root: Path, version: str = "0.3.1", release: str = "") -> ReleaseConfig:
    write_text(
        root / "pyproject.toml",
        f'[project]\nname = "tally"\nversion = "{version}"\n\n[tool.release]\n{release}',
    )
    return load_config(root)


def maturin_project(root: Path, *, package_extra: str = "", release: str = "") -> ReleaseConfig:
    """A Cargo workspace shaped like examples/tally: the package in crates/tally-python."""
    write_text(
        root / "pyproject.toml",
        f'[tool.release]\npackage-dir = "crates/tally-python"\n{release}',
    )
    write_text(
        root / "crates/tally-python/pyproject.toml",
        '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n\n'
        '[project]\nname = "tally"\ndynamic = ["version"]\n' + package_extra,
    )
    return load_config(root)


def setuptools_scm_project(root: Path) -> ReleaseConfig:
    write_text(
        root / "pyproject.toml",
        '[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n'
        'build-backend = "setuptools.build_meta"\n'
        '[project]\nname = "tally"\ndynamic = ["version"]\n[tool.release]\n',
    )
    return load_config(root)


def wheel(directory: Path, version: str = "0.3.1", *, metadata: str | None = None) -> Distribution:
    """A real wheel of tally ``version``, read the way validate reads it."""
    directory.mkdir(parents=True, exist_ok=True)
    return read_distribution(write_wheel(directory, "tally", version, TAG, metadata=metadata))


def sdist(directory: Path, version: str = "0.3.1", *, pkg_info: str | None = None) -> Distribution:
    directory.mkdir(parents=True, exist_ok=True)
    return read_distribution(write_sdist(directory, "tally", version, pkg_info=pkg_info))


def files(directory: Path, version: str = "0.3.1") -> list[Distribution]:
    """A wheel and an sdist of tally ``version``, each in its own directory."""
    return [wheel(directory / f"w-{version}", version), sdist(directory / f"s-{version}", version)]


def check(config: ReleaseConfig, tag: str | None, dists: list[Distribution]) -> list[Finding]:
    findings = VersionCheck().run(dists, check_context(config, tag=tag))
    assert {f.check for f in findings} <= {"version"}
    return findings


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == ERROR]


def notes(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if f.level == INFO]


def cause(finding: Finding) -> str:
    """The message without a closing period: whether it has one is not what these tests are
    about (test_messages_have_no_closing_period is)."""
    return finding.message.rstrip(".")


# --- agreement, and each place of disagreement ---------------------------------------------


def test_everything_agrees(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p")
    assert check(config, "v0.3.1", files(tmp_path)) == []


def test_a_wrong_tag_is_one_error_not_one_per_file(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p")
    findings = check(config, "v0.3.2", files(tmp_path))
    # The files agree with the project they were built from: the tag alone is wrong.
    assert len(findings) == 1
    (finding,) = errors(findings)
    assert finding.file is None
    assert cause(finding) == (
        f"the tag v0.3.2 says 0.3.2, and the project version ({STATIC_SOURCE}) is 0.3.1"
    )
    assert finding.remedy == "set the version to 0.3.2 there, or push the tag v0.3.1 instead."


def test_files_are_compared_with_the_project_not_the_tag(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p", version="0.3.2")
    findings = check(config, "v0.3.1", files(tmp_path))
    tag_error, *file_errors = errors(findings)
    assert tag_error.file is None
    assert "the tag v0.3.1 says 0.3.1" in tag_error.message
    assert "push the tag v0.3.2 instead" in str(tag_error.remedy)
    # The 0.3.1 files agree with the tag, and still were not built from this 0.3.2 checkout.
    assert [(f.file, f.message, f.remedy) for f in file_errors] == [
        (name, f"the file name says 0.3.1, the project version ({STATIC_SOURCE}) is 0.3.2", STALE)
        for name in (WHEEL, SDIST)
    ]


def test_stale_file_name(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p")
    stale = wheel(tmp_path / "old", "0.3.0")
    findings = check(config, "v0.3.1", [*files(tmp_path), stale])
    assert findings == [
        Finding(
            ERROR,
            "version",
            WHEEL.replace("0.3.1", "0.3.0"),
            f"the file name says 0.3.0, the project version ({STATIC_SOURCE}) is 0.3.1",
            STALE,
        )
    ]


def test_each_stale_file_is_its_own_finding(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p", version="0.4.0")
    findings = check(config, "v0.3.1", files(tmp_path, "0.2.0"))
    # the tag; the wheel; the sdist
    assert len(errors(findings)) == 3
    assert [f.file for f in findings] == [
        None,
        WHEEL.replace("0.3.1", "0.2.0"),
        "tally-0.2.0.tar.gz",
    ]


def test_metadata_version_is_the_integrity_checks_finding(tmp_path: Path) -> None:
    """Files are compared by their names; a METADATA/PKG-INFO that disagrees with the name
    is reported by integrity, once, and not again here."""
    config = static_project(tmp_path / "p")
    bad_wheel = wheel(tmp_path / "w", metadata=metadata_text("tally", "0.3.2"))
    bad_sdist = sdist(tmp_path / "s", pkg_info=metadata_text("tally", "0.3.0"))
    assert bad_wheel.metadata_version == "0.3.2"
    assert bad_sdist.metadata_version == "0.3.0"
    assert check(config, "v0.3.1", [bad_wheel, bad_sdist]) == []

    integrity = [cause(f) for d in (bad_wheel, bad_sdist) for f in errors(Integrity().inspect(d))]
    wheel_says = "tally-0.3.1.dist-info/METADATA says Version: 0.3.2, but the file name says 0.3.1"
    assert any(m.startswith(wheel_says) for m in integrity)
    assert any(
        m.startswith("tally-0.3.1/PKG-INFO says Version: 0.3.0, but the file name says 0.3.1")
        for m in integrity
    )


def test_file_whose_name_does_not_parse_is_left_to_integrity(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p")
    directory = tmp_path / "odd"
    directory.mkdir()
    odd = read_distribution(write_wheel(directory, filename="tally.whl"))
    assert odd.version is None
    assert odd.name_problem is not None
    assert check(config, "v0.3.1", [*files(tmp_path), odd]) == []
    assert any(f.file == "tally.whl" for f in errors(Integrity().inspect(odd)))


def test_only_the_file_name_matters(tmp_path: Path) -> None:
    """Distributions built by hand, without an archive behind them, are judged the same."""
    config = static_project(tmp_path / "p")
    named = [
        Distribution(path=Path(WHEEL), kind="wheel", version=Version("0.3.1")),
        Distribution(path=Path("tally-0.3.0.tar.gz"), kind="sdist", version=Version("0.3.0")),
    ]
    (finding,) = check(config, "v0.3.1", named)
    assert finding.file == "tally-0.3.0.tar.gz"


# --- PEP 440 semantics ---------------------------------------------------------------------


def test_pep440_equality_of_short_tag(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p", version="1.2.0")
    assert (
        check(config, "v1.2", [sdist(tmp_path / "a", "1.2.0"), sdist(tmp_path / "b", "1.2")]) == []
    )


def test_prerelease_refused_once_then_allowed(tmp_path: Path) -> None:
    config = static_project(tmp_path / "refused", version="1.0.0rc1")
    findings = check(config, "v1.0.0rc1", files(tmp_path / "d", "1.0.0rc1"))
    # one cause, one finding: not one for the tag and again for each file
    (finding,) = findings
    assert finding.level == ERROR
    assert finding.file is None
    assert cause(finding) == (
        "the tag v1.0.0rc1 is a pre-release (1.0.0rc1), and [tool.release] prereleases is false"
    )
    assert finding.remedy == (
        "release a final version, or set prereleases = true in [tool.release] to publish it."
    )

    allowed = static_project(tmp_path / "allowed", version="1.0.0rc1", release="prereleases = true")
    assert check(allowed, "v1.0.0rc1", files(tmp_path / "d", "1.0.0rc1")) == []


def test_dev_release_refused(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p", version="1.0.0.dev3")
    (finding,) = check(config, "v1.0.0.dev3", files(tmp_path, "1.0.0.dev3"))
    assert cause(finding).startswith("the tag v1.0.0.dev3 is a development release (1.0.0.dev3)")


def test_local_version_refused_even_with_prereleases(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p", version="1.0.0+ubuntu1", release="prereleases = true")
    (finding,) = check(config, "v1.0.0+ubuntu1", files(tmp_path, "1.0.0+ubuntu1"))
    assert cause(finding) == (
        "the tag v1.0.0+ubuntu1 has a local version label (1.0.0+ubuntu1), and PyPI refuses "
        "local versions"
    )
    assert finding.remedy == "remove '+ubuntu1' from the version and rebuild."


def test_local_version_in_one_file_only(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p")
    dirty = wheel(tmp_path / "w", "0.3.1+dirty")
    findings = check(config, None, [dirty])
    # The file was not built from this checkout: said once, naming the label.
    assert [(f.file, f.message) for f in errors(findings)] == [
        (
            dirty.filename,
            f"the file name says 0.3.1+dirty, the project version ({STATIC_SOURCE}) is 0.3.1",
        )
    ]


def test_no_tag_and_a_prerelease_project(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p", version="2.0b1")
    (finding,) = errors(check(config, None, []))
    assert finding.file is None
    assert cause(finding) == (
        "version 2.0b1 is a pre-release (2.0b1), and [tool.release] prereleases is false"
    )


# --- the tag -------------------------------------------------------------------------------


def test_tag_not_matching_pattern(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p", version="0.3.1")
    (finding,) = check(config, "0.3.1", [])
    assert finding.level == ERROR
    assert cause(finding) == 'tag "0.3.1" does not match tag-pattern "v{version}"'
    # the example is the version the project builds
    assert finding.remedy == "push a tag like v0.3.1."


def test_custom_tag_pattern(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p", release='tag-pattern = "release-{version}"')
    assert check(config, "release-0.3.1", files(tmp_path)) == []
    (finding,) = check(config, "v0.3.1", files(tmp_path))
    assert cause(finding) == 'tag "v0.3.1" does not match tag-pattern "release-{version}"'
    assert finding.remedy == "push a tag like release-0.3.1."


def test_bad_tag_still_checks_files_against_project(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p")
    findings = check(config, "0.3.1", [wheel(tmp_path, "0.3.5")])
    tag_error, file_error = errors(findings)
    assert "does not match tag-pattern" in tag_error.message
    assert file_error.message == (
        f"the file name says 0.3.5, the project version ({STATIC_SOURCE}) is 0.3.1"
    )


def test_bad_tag_without_project_version_holds_files_against_each_other(tmp_path: Path) -> None:
    config = setuptools_scm_project(tmp_path / "p")
    first, odd = wheel(tmp_path / "a", "0.3.1"), sdist(tmp_path / "b", "0.3.2")
    findings = check(config, "vnext", [first, odd])
    tag_error, file_error = errors(findings)
    assert cause(tag_error) == ('tag "vnext" names version "next", which is not a PEP 440 version')
    assert tag_error.remedy == "push a tag like v1.2.3."  # no project version to show
    assert (file_error.file, file_error.message) == (
        odd.filename,
        f"the file name says 0.3.2, {first.filename} says 0.3.1",
    )


def test_tag_with_spaces_is_refused(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p")
    (finding,) = check(config, "v 0.3.1", files(tmp_path))
    assert cause(finding) == 'tag "v 0.3.1" has spaces around its version'


# --- no tag --------------------------------------------------------------------------------


def test_no_tag_checks_files_against_project(tmp_path: Path) -> None:
    config = static_project(tmp_path / "p")
    stale = sdist(tmp_path / "old", "0.3.0")
    findings = check(config, None, [*files(tmp_path), stale])
    assert notes(findings) == [
        "no tag given (--tag, RELEASE_TAG or GITHUB_REF=refs/tags/...); checked that the "
        "files agree "
        "with version 0.3.1"
    ]
    (finding,) = errors(findings)
    assert (finding.file, finding.message) == (
        stale.filename,
        f"the file name says 0.3.0, the project version ({STATIC_SOURCE}) is 0.3.1",
    )


def test_no_tag_no_project_version_and_no_files(tmp_path: Path) -> None:
    config = setuptools_scm_project(tmp_path / "p")
    findings = check(config, None, [])
    assert errors(findings) == []
    assert notes(findings)[-1] == (
        "no tag given (--tag, RELEASE_TAG or GITHUB_REF=refs/tags/...); checked that the "
        "files agree "
        "with one version"
    )


# --- where the project version comes from --------------------------------------------------


def test_dynamic_version_of_other_backend_relies_on_files(tmp_path: Path) -> None:
    config = setuptools_scm_project(tmp_path / "p")
    assert project_version(config) == (
        None,
        "the version is dynamic in pyproject.toml: setuptools-scm takes it from the git tag",
    )
    findings = check(config, "v0.3.1", [wheel(tmp_path / "w", "0.3.2")])
    assert notes(findings) == [
        "the version is dynamic in pyproject.toml: setuptools-scm takes it from the git tag; "
        "relying on the files"
    ]
    # with no project version, the tag is what the files must agree with
    (finding,) = errors(findings)
    assert finding.message == "the file name says 0.3.2, the tag v0.3.1 says 0.3.1"

    # without a tag the files are held against the first one
    first, odd = wheel(tmp_path / "a", "0.3.1"), sdist(tmp_path / "b", "0.3.9")
    findings = check(config, None, [first, odd])
    assert "checked that the files agree with version 0.3.1" in notes(findings)[-1]
    (finding,) = errors(findings)
    assert (finding.file, finding.message) == (
        odd.filename,
        f"the file name says 0.3.9, {first.filename} says 0.3.1",
    )


def test_cargo_workspace_inheritance(tmp_path: Path) -> None:
    write_text(
        tmp_path / "Cargo.toml",
        '[workspace]\nmembers = ["crates/tally-python"]\n\n'
        '[workspace.package]\nversion = "0.3.1"\n',
    )
    write_text(
        tmp_path / "crates/tally-python/Cargo.toml",
        '[package]\nname = "tally-python"\nversion.workspace = true\n',
    )
    config = maturin_project(tmp_path)
    source = "crates/tally-python/Cargo.toml via [workspace.package] of Cargo.toml"
    assert project_version(config) == (Version("0.3.1"), source)
    assert check(config, "v0.3.1", files(tmp_path / "d")) == []
    (finding,) = check(config, "v0.3.2", files(tmp_path / "d"))
    assert (
        cause(finding) == f"the tag v0.3.2 says 0.3.2, and the project version ({source}) is 0.3.1"
    )


def test_workspace_member_without_workspace_is_reported(tmp_path: Path) -> None:
    write_text(
        tmp_path / "crates/tally-python/Cargo.toml",
        '[package]\nname = "tally-python"\nversion = { workspace = true }\n',
    )
    config = maturin_project(tmp_path)
    with pytest.raises(ConfigValueError):
        project_version(config)
    (finding,) = errors(check(config, "v0.3.1", files(tmp_path / "d")))
    assert finding.file is None
    assert "inherits its version (version.workspace = true)" in finding.message
    assert "no parent directory has a Cargo.toml with a [workspace] table" in finding.message
    assert finding.remedy == (
        "run from a full checkout of the Cargo workspace, or set [package] version in "
        "crates/tally-python/Cargo.toml."
    )


def test_manifest_path_and_semver_prerelease(tmp_path: Path) -> None:
    write_text(tmp_path / "rust/Cargo.toml", '[package]\nname = "tally"\nversion = "2.0.0-rc.1"\n')
    write_text(
        tmp_path / "crates/tally-python/Cargo.toml",
        '[package]\nname = "decoy"\nversion = "9.9.9"\n',
    )
    config = maturin_project(
        tmp_path, package_extra='[tool.maturin]\nmanifest-path = "../../rust/Cargo.toml"\n'
    )
    assert manifest_path(config) == (tmp_path / "rust/Cargo.toml").resolve()
    assert project_version(config) == (Version("2.0.0rc1"), "rust/Cargo.toml [package] version")
    # the semver tag names the same version; the pre-release is refused once
    (finding,) = check(config, "v2.0.0-rc.1", files(tmp_path / "d", "2.0.0rc1"))
    assert "a pre-release (2.0.0rc1)" in finding.message


def test_missing_cargo_toml_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    config = maturin_project(tmp_path)
    (finding,) = errors(check(config, "v0.3.1", files(tmp_path / "d")))
    assert cause(finding) == (
        "maturin reads the crate from crates/tally-python/Cargo.toml, which does not exist"
    )
    assert finding.remedy == (
        "point [tool.maturin] manifest-path in crates/tally-python/pyproject.toml at the "
        "crate's Cargo.toml."
    )


def test_unreadable_project_version_still_checks_files_against_the_tag(tmp_path: Path) -> None:
    config = maturin_project(tmp_path)
    stale = wheel(tmp_path / "w", "0.3.0")
    project_error, file_error = errors(check(config, "v0.3.1", [stale]))
    assert "which does not exist" in project_error.message
    assert (file_error.file, file_error.message) == (
        stale.filename,
        "the file name says 0.3.0, the tag v0.3.1 says 0.3.1",
    )


@pytest.mark.parametrize(
    ("semver", "pep440"),
    [
        ("1.2.3", "1.2.3"),
        ("1.2.3-alpha.1", "1.2.3a1"),
        ("1.2.3-a.1", "1.2.3a1"),
        ("1.2.3-beta.2", "1.2.3b2"),
        ("1.2.3-b2", "1.2.3b2"),
        ("1.2.3-rc.1", "1.2.3rc1"),
        ("1.2.3-c.1", "1.2.3rc1"),
        ("1.2.3-pre.1", "1.2.3rc1"),
        ("1.2.3-alpha", "1.2.3a0"),
        ("1.2.3-dev", "1.2.3.dev0"),
        ("1.2.3-dev.3", "1.2.3.dev3"),
        ("1.2.3-alpha.1.dev.2", "1.2.3a1.dev2"),
        ("1.2.3+build.5", "1.2.3+build.5"),
    ],
)
def test_semver_to_pep440_like_maturin(semver: str, pep440: str) -> None:
    assert str(cargo_to_pep440(semver)) == pep440


def test_unconvertible_semver_says_what_maturin_maps() -> None:
    with pytest.raises(ValueError, match=r'Cargo version "1\.0\.0-nightly\.2" has no PEP 440'):
        cargo_to_pep440("1.0.0-nightly.2")


def test_unconvertible_cargo_version_is_reported(tmp_path: Path) -> None:
    write_text(
        tmp_path / "crates/tally-python/Cargo.toml",
        '[package]\nname = "t"\nversion = "1.0.0-nightly.2"\n',
    )
    config = maturin_project(tmp_path)
    (finding,) = errors(check(config, None, []))
    assert finding.message.startswith(
        'crates/tally-python/Cargo.toml [package] version: Cargo version "1.0.0-nightly.2" '
        "has no PEP 440 equivalent"
    )
    assert finding.remedy == "use a Cargo version like 1.2.3 or 1.2.3-rc.1."


def test_static_version_that_is_not_pep440(tmp_path: Path) -> None:
    config = static_project(tmp_path, version="banana")
    with pytest.raises(ConfigValueError) as caught:
        project_version(config)
    assert (
        caught.value.cause == 'pyproject.toml [project] version "banana" is not a PEP 440 version.'
    )
    assert caught.value.remedy == 'write it like "1.2.3".'


def test_no_version_at_all(tmp_path: Path) -> None:
    write_text(tmp_path / "pyproject.toml", '[project]\nname = "tally"\n[tool.release]\n')
    config = load_config(tmp_path)
    with pytest.raises(ConfigValueError) as caught:
        project_version(config)
    assert "'version' is not in [project] dynamic" in caught.value.cause
    (finding,) = errors(check(config, None, []))
    assert finding.remedy == 'add version = "1.2.3" to [project] in pyproject.toml.'


# --- Cargo manifests (release/project/cargo.py) --------------------------------------------


def test_crate_without_package_version(tmp_path: Path) -> None:
    write_text(tmp_path / "crates/tally-python/Cargo.toml", '[package]\nname = "t"\n')
    config = maturin_project(tmp_path)
    with pytest.raises(ConfigValueError) as caught:
        crate_version(config)
    assert caught.value.cause.startswith(
        "crates/tally-python/Cargo.toml has no [package] version, and maturin takes"
    )


def test_workspace_without_package_version(tmp_path: Path) -> None:
    write_text(tmp_path / "Cargo.toml", '[workspace]\nmembers = ["crates/*"]\n')
    write_text(
        tmp_path / "crates/tally-python/Cargo.toml",
        '[package]\nname = "t"\nversion.workspace = true\n',
    )
    config = maturin_project(tmp_path)
    with pytest.raises(ConfigValueError) as caught:
        crate_version(config)
    assert caught.value.cause == (
        "crates/tally-python/Cargo.toml inherits its version from the workspace, and "
        "Cargo.toml has no [workspace.package] version."
    )
    assert caught.value.remedy == 'set version = "1.2.3" in [workspace.package] of Cargo.toml.'


def test_read_manifest_of_a_missing_file(tmp_path: Path) -> None:
    config = maturin_project(tmp_path)
    assert manifest_path(config) == config.package_dir / "Cargo.toml"
    with pytest.raises(ConfigValueError, match="which does not exist"):
        read_manifest(manifest_path(config), config)
    write_text(manifest_path(config), '[package]\nname = "t"\nversion = "1.0.0"\n')
    assert read_manifest(manifest_path(config), config)["package"]["version"] == "1.0.0"


def test_workspace_root_as_cargo_finds_it(tmp_path: Path) -> None:
    # the manifest is its own workspace root
    root = write_text(tmp_path / "a/Cargo.toml", '[workspace]\n[package]\nname = "a"\n')
    assert find_workspace_root(root, read_toml(root)) == root

    # the nearest parent with a [workspace] table; a parent Cargo.toml without one is passed
    top = write_text(tmp_path / "b/Cargo.toml", '[workspace]\nmembers = ["x/y"]\n')
    write_text(tmp_path / "b/x/Cargo.toml", '[package]\nname = "x"\n')
    member = write_text(tmp_path / "b/x/y/Cargo.toml", '[package]\nname = "y"\n')
    assert find_workspace_root(member, read_toml(member)) == top

    # package.workspace names it explicitly, and must exist
    elsewhere = write_text(tmp_path / "c/ws/Cargo.toml", "[workspace]\n")
    explicit = write_text(
        tmp_path / "c/crate/Cargo.toml", '[package]\nname = "c"\nworkspace = "../ws"\n'
    )
    assert find_workspace_root(explicit, read_toml(explicit)) == elsewhere.resolve()
    gone = write_text(tmp_path / "d/Cargo.toml", '[package]\nname = "d"\nworkspace = "../nope"\n')
    assert find_workspace_root(gone, read_toml(gone)) is None


# --- the tag (release/tag.py) --------------------------------------------------------------


def test_pattern_literals_are_escaped() -> None:
    assert parse_tag("py.1.0", "py.{version}") == Version("1.0")
    with pytest.raises(TagError):
        parse_tag("pyx1.0", "py.{version}")


def test_a_repeated_placeholder_must_repeat_the_version() -> None:
    regex = tag_regex("{version}/v{version}")
    match = regex.fullmatch("1.0/v1.0")
    assert match is not None
    assert match["version"] == "1.0"
    assert regex.fullmatch("1.0/v2.0") is None
    assert parse_tag("1.0/v1.0", "{version}/v{version}") == Version("1.0")


def test_tag_with_unparseable_version() -> None:
    with pytest.raises(TagError) as caught:
        parse_tag("vnext", "v{version}")
    assert caught.value.cause == 'tag "vnext" names version "next", which is not a PEP 440 version.'
    assert caught.value.remedy == "push a tag like v1.2.3."
    with pytest.raises(TagError) as caught:
        parse_tag("vnext", "v{version}", example="0.3.1")
    assert caught.value.remedy == "push a tag like v0.3.1."


@pytest.mark.parametrize("tag", ["v 0.3.1", "v0.3.1 ", "v"])
def test_tag_with_spaces_or_no_version(tag: str) -> None:
    with pytest.raises(TagError):
        parse_tag(tag, "v{version}")


@pytest.mark.parametrize(
    ("version", "prereleases", "expected"),
    [
        ("1.0", False, None),
        ("1.0.post1", False, None),
        ("1.0rc1", True, None),
        ("1.0rc1", False, "x is a pre-release (1.0rc1)"),
        ("1.0.dev1", False, "x is a development release (1.0.dev1)"),
        ("1.0+local", True, "x has a local version label (1.0+local)"),
        # PyPI refuses the local label whatever else the version is: that is said first
        ("1.0rc1+local", False, "x has a local version label (1.0rc1+local)"),
    ],
)
def test_release_kind_problem(version: str, prereleases: bool, expected: str | None) -> None:
    problem = release_kind_problem(Version(version), "x", prereleases)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert problem[0].startswith(expected)


def test_tag_mismatch() -> None:
    assert tag_mismatch("v1.2", Version("1.2"), Version("1.2.0"), "here", "v{version}") is None
    mismatch = tag_mismatch("r-1.3", Version("1.3"), Version("1.2"), "here", "r-{version}")
    assert mismatch is not None
    assert mismatch.cause == "the tag r-1.3 says 1.3, and the project version (here) is 1.2."
    assert mismatch.remedy == "set the version to 1.3 there, or push the tag r-1.2 instead."


# --- how findings read ---------------------------------------------------------------------


def test_messages_have_no_closing_period(tmp_path: Path) -> None:
    """A finding's message is a cause without its period: the step summary adds one
    (``findings_markdown``), and validate strips it from the errors it turns into findings.

    The version check hands on TagError and ConfigError causes, which end with one."""
    static = static_project(tmp_path / "static")
    broken = maturin_project(tmp_path / "broken")
    findings = [
        *check(static, "0.3.1", []),  # tag-pattern
        *check(static, "vnext", []),  # not PEP 440
        *check(static, "v0.3.2", []),  # tag against the project
        *check(broken, None, []),  # the project version cannot be read
    ]
    assert len(errors(findings)) == 4
    assert [f.message for f in findings if f.message.endswith(".")] == []
    markdown = findings_markdown("validate", ["file"], [], findings)
    assert not re.search(r"[^.]\.\.(\s|$)", markdown), markdown
