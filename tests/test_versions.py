"""The ``version`` check on real project directories: tag, project version, artifacts."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_text
from packaging.version import Version

from release.config import ReleaseConfig, load_config
from release.errors import ConfigValueError, TagError
from release.records import Finding
from release.versions import (
    ArtifactVersion,
    cargo_to_pep440,
    check_versions,
    parse_tag,
    project_version,
)

WHEEL = "tally-0.3.1-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
SDIST = "tally-0.3.1.tar.gz"


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


def artifacts(version: str = "0.3.1") -> list[ArtifactVersion]:
    return [
        ArtifactVersion(WHEEL.replace("0.3.1", version), version, version),
        ArtifactVersion(SDIST.replace("0.3.1", version), version, version),
    ]


def errors(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if f.level == "error"]


def problems(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level != "info"]


# --- agreement and each place of disagreement ----------------------------------------------


def test_everything_agrees(tmp_path: Path) -> None:
    config = static_project(tmp_path)
    findings = check_versions(config, "v0.3.1", artifacts())
    assert findings == []


def test_project_version_differs_from_tag(tmp_path: Path) -> None:
    config = static_project(tmp_path, version="0.3.2")
    findings = check_versions(config, "v0.3.1", artifacts())
    assert len(errors(findings)) == 1
    message = errors(findings)[0]
    assert "the project version (pyproject.toml [project] version) is 0.3.2" in message
    assert "the tag v0.3.1 says 0.3.1" in message
    assert "push the tag v0.3.2" in message


def test_wheel_metadata_differs_from_tag(tmp_path: Path) -> None:
    config = static_project(tmp_path)
    findings = check_versions(
        config, "v0.3.1", [ArtifactVersion(WHEEL, "0.3.1", "0.3.2"), *artifacts()[1:]]
    )
    assert len(errors(findings)) == 1
    (finding,) = problems(findings)
    assert finding.file == WHEEL
    assert finding.check == "version"
    assert finding.message.startswith(f"METADATA of {WHEEL} says 0.3.2, the tag v0.3.1 says 0.3.1")


def test_sdist_pkg_info_differs_from_tag(tmp_path: Path) -> None:
    config = static_project(tmp_path)
    findings = check_versions(
        config, "v0.3.1", [artifacts()[0], ArtifactVersion(SDIST, "0.3.1", "0.3.0")]
    )
    assert errors(findings) == [
        f"PKG-INFO of {SDIST} says 0.3.0, the tag v0.3.1 says 0.3.1; rebuild the artifacts "
        "from the tagged commit (is an old file left in the dist dir?)"
    ]


def test_file_name_differs_from_tag(tmp_path: Path) -> None:
    config = static_project(tmp_path)
    stale = WHEEL.replace("0.3.1", "0.3.0")
    findings = check_versions(config, "v0.3.1", [ArtifactVersion(stale, "0.3.0", "0.3.1")])
    (message,) = errors(findings)
    assert message.startswith(f"the file name {stale} says 0.3.0, the tag v0.3.1 says 0.3.1")


def test_each_mismatch_is_its_own_finding(tmp_path: Path) -> None:
    config = static_project(tmp_path, version="0.4.0")
    findings = check_versions(config, "v0.3.1", artifacts("0.2.0"))
    # project; wheel file name and METADATA; sdist file name and PKG-INFO
    assert len(errors(findings)) == 5
    assert {f.file for f in findings} == {
        None,
        WHEEL.replace("0.3.1", "0.2.0"),
        "tally-0.2.0.tar.gz",
    }


def test_unparseable_artifact_version_is_an_error(tmp_path: Path) -> None:
    config = static_project(tmp_path)
    findings = check_versions(config, "v0.3.1", [ArtifactVersion(WHEEL, "0.3.1", "zero.three")])
    (message,) = errors(findings)
    assert f'METADATA of {WHEEL} says "zero.three", which is not a PEP 440 version' in message


# --- PEP 440 semantics ---------------------------------------------------------------------


def test_pep440_equality_of_short_tag(tmp_path: Path) -> None:
    config = static_project(tmp_path, version="1.2.0")
    findings = check_versions(
        config, "v1.2", [ArtifactVersion("tally-1.2.0.tar.gz", "1.2.0", "1.2")]
    )
    assert findings == []


def test_prerelease_refused_then_allowed(tmp_path: Path) -> None:
    config = static_project(tmp_path / "refused", version="1.0.0rc1")
    findings = check_versions(config, "v1.0.0rc1", artifacts("1.0.0rc1"))
    messages = errors(findings)
    # the tag, the wheel and the sdist: one finding each
    assert len(messages) == 3
    assert all("a pre-release (1.0.0rc1)" in m and "prereleases = true" in m for m in messages)

    allowed = static_project(tmp_path / "allowed", version="1.0.0rc1", release="prereleases = true")
    assert check_versions(allowed, "v1.0.0rc1", artifacts("1.0.0rc1")) == []


def test_dev_release_refused(tmp_path: Path) -> None:
    config = static_project(tmp_path, version="1.0.0.dev3")
    findings = check_versions(config, "v1.0.0.dev3", artifacts("1.0.0.dev3"))
    assert errors(findings)
    assert all("a development release (1.0.0.dev3)" in m for m in errors(findings))


def test_local_version_refused_even_with_prereleases(tmp_path: Path) -> None:
    config = static_project(tmp_path, version="1.0.0+ubuntu1", release="prereleases = true")
    findings = check_versions(config, "v1.0.0+ubuntu1", artifacts("1.0.0+ubuntu1"))
    messages = errors(findings)
    assert len(messages) == 3
    assert all("local version label (1.0.0+ubuntu1)" in m and "PyPI refuses" in m for m in messages)
    assert "remove '+ubuntu1'" in messages[0]


def test_local_version_in_one_artifact_only(tmp_path: Path) -> None:
    config = static_project(tmp_path)
    findings = check_versions(config, None, [ArtifactVersion(WHEEL, "0.3.1+dirty", "0.3.1+dirty")])
    messages = errors(findings)
    # file name and METADATA disagree with the project, and the local label is refused once
    assert len(messages) == 3
    assert sum("local version label" in m for m in messages) == 1


# --- the tag -------------------------------------------------------------------------------


def test_tag_not_matching_pattern(tmp_path: Path) -> None:
    config = static_project(tmp_path, version="1.2.3")
    findings = check_versions(config, "1.2.3", [])
    assert errors(findings) == [
        'tag "1.2.3" does not match tag-pattern "v{version}"; push a tag like v1.2.3'
    ]


def test_custom_tag_pattern(tmp_path: Path) -> None:
    config = static_project(tmp_path, version="0.3.1", release='tag-pattern = "release-{version}"')
    assert check_versions(config, "release-0.3.1", artifacts()) == []
    findings = check_versions(config, "v0.3.1", artifacts())
    assert errors(findings) == [
        'tag "v0.3.1" does not match tag-pattern "release-{version}"; push a tag like release-0.3.1'
    ]


def test_pattern_literals_are_escaped() -> None:
    assert parse_tag("py.1.0", "py.{version}") == Version("1.0")
    with pytest.raises(TagError):
        parse_tag("pyx1.0", "py.{version}")


def test_tag_with_unparseable_version() -> None:
    with pytest.raises(TagError) as caught:
        parse_tag("vnext", "v{version}")
    assert caught.value.cause == 'tag "vnext" names version "next", which is not a PEP 440 version'
    assert caught.value.remedy == "push a tag like v1.2.3"


def test_bad_tag_still_checks_artifacts_against_project(tmp_path: Path) -> None:
    config = static_project(tmp_path)
    findings = check_versions(config, "0.3.1", [ArtifactVersion(WHEEL, "0.3.1", "0.3.5")])
    messages = errors(findings)
    assert len(messages) == 2
    assert "does not match tag-pattern" in messages[0]
    assert "the project version (pyproject.toml [project] version) is 0.3.1" in messages[1]


# --- no tag --------------------------------------------------------------------------------


def test_no_tag_checks_artifacts_against_project(tmp_path: Path) -> None:
    config = static_project(tmp_path)
    findings = check_versions(config, None, [*artifacts(), ArtifactVersion("x", None, "0.3.0")])
    infos = [f.message for f in findings if f.level == "info"]
    assert infos == [
        "no tag given (--tag or GITHUB_REF=refs/tags/...); checked that the artifacts agree "
        "with version 0.3.1"
    ]
    (message,) = errors(findings)
    assert message.startswith(
        "PKG-INFO of x says 0.3.0, the project version (pyproject.toml [project] version) is 0.3.1"
    )


def test_no_tag_and_a_prerelease_project(tmp_path: Path) -> None:
    config = static_project(tmp_path, version="2.0b1")
    (message,) = errors(check_versions(config, None, []))
    assert "the project version (pyproject.toml [project] version) is a pre-release" in message


# --- where the project version comes from --------------------------------------------------


def test_dynamic_version_of_other_backend_relies_on_artifacts(tmp_path: Path) -> None:
    write_text(
        tmp_path / "pyproject.toml",
        '[build-system]\nrequires = ["setuptools", "setuptools-scm"]\n'
        'build-backend = "setuptools.build_meta"\n'
        '[project]\nname = "tally"\ndynamic = ["version"]\n[tool.release]\n',
    )
    config = load_config(tmp_path)
    assert project_version(config) == (
        None,
        "the version is dynamic in pyproject.toml and computed by setuptools.build_meta",
    )
    findings = check_versions(config, "v0.3.1", [ArtifactVersion(WHEEL, "0.3.1", "0.3.2")])
    infos = [f.message for f in findings if f.level == "info"]
    assert infos == [
        "no version from source: the version is dynamic in pyproject.toml and computed by "
        "setuptools.build_meta; relying on the artifacts"
    ]
    assert len(errors(findings)) == 1

    # without a tag the artifacts are held against each other
    findings = check_versions(
        config, None, [artifacts()[0], ArtifactVersion(SDIST, "0.3.1", "0.3.9")]
    )
    (message,) = errors(findings)
    assert message.startswith(f"PKG-INFO of {SDIST} says 0.3.9, METADATA of {WHEEL} says 0.3.1")


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
    assert project_version(config) == (
        Version("0.3.1"),
        "crates/tally-python/Cargo.toml via [workspace.package] of Cargo.toml",
    )
    assert check_versions(config, "v0.3.1", artifacts()) == []
    (message,) = errors(check_versions(config, "v0.3.2", artifacts("0.3.2")))
    assert message.startswith(
        "the project version (crates/tally-python/Cargo.toml via [workspace.package] of "
        "Cargo.toml) is 0.3.1, the tag v0.3.2 says 0.3.2"
    )


def test_workspace_member_without_workspace_is_reported(tmp_path: Path) -> None:
    write_text(
        tmp_path / "crates/tally-python/Cargo.toml",
        '[package]\nname = "tally-python"\nversion = { workspace = true }\n',
    )
    config = maturin_project(tmp_path)
    with pytest.raises(ConfigValueError):
        project_version(config)
    (message,) = errors(check_versions(config, "v0.3.1", artifacts()))
    assert "inherits its version (version.workspace = true)" in message
    assert "no parent directory has a Cargo.toml with a [workspace] table" in message


def test_manifest_path_and_semver_prerelease(tmp_path: Path) -> None:
    write_text(tmp_path / "rust/Cargo.toml", '[package]\nname = "tally"\nversion = "2.0.0-rc.1"\n')
    write_text(
        tmp_path / "crates/tally-python/Cargo.toml",
        '[package]\nname = "decoy"\nversion = "9.9.9"\n',
    )
    config = maturin_project(
        tmp_path, package_extra='[tool.maturin]\nmanifest-path = "../../rust/Cargo.toml"\n'
    )
    assert project_version(config) == (Version("2.0.0rc1"), "rust/Cargo.toml [package] version")
    findings = check_versions(config, "v2.0.0-rc.1", artifacts("2.0.0rc1"))
    messages = errors(findings)
    assert len(messages) == 3
    assert all("a pre-release (2.0.0rc1)" in m for m in messages)


def test_missing_cargo_toml_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    config = maturin_project(tmp_path)
    (message,) = errors(check_versions(config, "v0.3.1", artifacts()))
    assert message == (
        "maturin reads the crate from crates/tally-python/Cargo.toml, which does not exist; "
        "point [tool.maturin] manifest-path in crates/tally-python/pyproject.toml at the "
        "crate's Cargo.toml"
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
        ("1.2.3-alpha", "1.2.3a0"),
        ("1.2.3-dev", "1.2.3.dev0"),
        ("1.2.3-dev.3", "1.2.3.dev3"),
        ("1.2.3-alpha.1.dev.2", "1.2.3a1.dev2"),
    ],
)
def test_semver_to_pep440_like_maturin(semver: str, pep440: str) -> None:
    assert str(cargo_to_pep440(semver)) == pep440


def test_unconvertible_cargo_version_is_reported(tmp_path: Path) -> None:
    write_text(
        tmp_path / "crates/tally-python/Cargo.toml",
        '[package]\nname = "t"\nversion = "1.0.0-nightly.2"\n',
    )
    config = maturin_project(tmp_path)
    (message,) = errors(check_versions(config, None, []))
    assert 'Cargo version "1.0.0-nightly.2" has no PEP 440 equivalent' in message
    assert message.startswith("crates/tally-python/Cargo.toml [package] version: ")


def test_tag_with_spaces_is_refused() -> None:
    with pytest.raises(TagError, match="spaces"):
        parse_tag("v 0.3.1", "v{version}")
