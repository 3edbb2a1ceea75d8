"""The ``wheel-set`` and ``pypi-tags`` checks; cibuildwheel derivation runs the real CLI."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import release_project, write_text

from release.console import Console
from release.records import Finding
from release.runner import Runner
from release.wheelset import (
    Expected,
    check_pypi_tags,
    check_wheel_set,
    entry_for_identifier,
    expected_wheels,
)

LINUX_ABI3 = "tally-0.3.1-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WINDOWS_ABI3 = "tally-0.3.1-cp39-abi3-win_amd64.whl"


def runner() -> Runner:
    return Runner(Console(github=False, stream=io.StringIO(), environ={}))


def by_level(findings: list[Finding], level: str) -> list[str]:
    return [f.message for f in findings if f.level == level]


def summary(findings: list[Finding]) -> str:
    (message,) = [m for m in by_level(findings, "info") if m.startswith("expected ")]
    return message


EXPLICIT = """
[tool.release.wheels]
linux = ["cp39-abi3-manylinux_2_17_x86_64"]
windows = ["cp39-abi3-win_amd64"]
"""
PLAIN_PACKAGE = '[project]\nname = "tally"\nversion = "0.3.1"\n'


# --- the wheel set -------------------------------------------------------------------------


def test_explicit_patterns_match(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    expected, source = expected_wheels(config, runner())
    assert source == "[tool.release.wheels] in pyproject.toml"
    assert expected == [
        Expected("linux", ("cp39-abi3-manylinux_2_17_x86_64",)),
        Expected("windows", ("cp39-abi3-win_amd64",)),
    ]
    findings = check_wheel_set(
        expected, [LINUX_ABI3, WINDOWS_ABI3], skipped_platforms={}, strict=False, source=source
    )
    assert findings == [
        Finding(
            "info",
            "wheel-set",
            None,
            "expected 2 wheels, found 2; expected set from [tool.release.wheels] in pyproject.toml",
        )
    ]


def test_alternatives_in_one_pattern(tmp_path: Path) -> None:
    config = release_project(
        tmp_path,
        '[tool.release.wheels]\nlinux = ["cp311-cp311-manylinux*_x86_64|cp3*-abi3-manylinux*"]\n',
        PLAIN_PACKAGE,
    )
    expected, _ = expected_wheels(config, runner())
    findings = check_wheel_set(expected, [LINUX_ABI3], skipped_platforms={}, strict=False)
    assert by_level(findings, "error") == []
    assert summary(findings) == "expected 1 wheels, found 1"


def test_missing_unexpected_and_duplicate_are_named(tmp_path: Path) -> None:
    config = release_project(
        tmp_path,
        '[tool.release.wheels]\nlinux = ["cp39-abi3-manylinux_2_17_x86_64"]\n'
        'windows = ["cp39-abi3-win_amd64", "cp39-abi3-win32"]\n',
        PLAIN_PACKAGE,
    )
    expected, _ = expected_wheels(config, runner())
    stale_linux = LINUX_ABI3.replace("0.3.1", "0.3.0")
    unrepaired = "tally-0.3.1-cp311-cp311-linux_x86_64.whl"
    findings = check_wheel_set(
        expected, [LINUX_ABI3, stale_linux, unrepaired], skipped_platforms={}, strict=False
    )
    errors = by_level(findings, "error")
    assert len(errors) == 4
    assert (
        "the windows wheel cp39-abi3-win_amd64 is missing; check the build-windows output "
        "and record, or change the expected set ([tool.release.wheels] windows)"
    ) in errors
    assert any(m.startswith("the windows wheel cp39-abi3-win32 is missing") for m in errors)
    assert (
        f"2 wheels match the one expected linux wheel cp39-abi3-manylinux_2_17_x86_64: "
        f"{LINUX_ABI3}, {stale_linux}; keep one and remove the others from the dist dir"
    ) in errors
    assert (
        f"unexpected wheel {unrepaired}: no expected wheel matches its tags "
        "(cp311-cp311-linux_x86_64); remove it from the dist dir, or add it to "
        "[tool.release.wheels] linux"
    ) in errors
    assert next(f.file for f in findings if "unexpected" in f.message) == unrepaired
    assert summary(findings) == (
        "expected 3 wheels, found 3 (2 missing, 1 unexpected, 1 duplicate)"
    )


def test_skipped_platform_warns_and_strict_fails(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    expected, _ = expected_wheels(config, runner())
    skipped = {"windows": "cibuildwheel builds Windows wheels only on Windows."}

    findings = check_wheel_set(expected, [LINUX_ABI3], skipped_platforms=skipped, strict=False)
    assert by_level(findings, "error") == []
    assert by_level(findings, "warning") == [
        "build-windows was skipped here: cibuildwheel builds Windows wheels only on Windows; "
        "the windows wheel cp39-abi3-win_amd64 is missing"
    ]

    findings = check_wheel_set(expected, [LINUX_ABI3], skipped_platforms=skipped, strict=True)
    assert by_level(findings, "warning") == []
    (error,) = by_level(findings, "error")
    assert error.startswith("build-windows was skipped here: ")
    assert "--strict counts it as missing" in error

    # a skipped Windows build excuses no missing Linux wheel
    findings = check_wheel_set(expected, [WINDOWS_ABI3], skipped_platforms=skipped, strict=False)
    assert len(by_level(findings, "error")) == 1


def test_invalid_wheel_name_is_reported(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    expected, _ = expected_wheels(config, runner())
    findings = check_wheel_set(
        expected, [LINUX_ABI3, WINDOWS_ABI3, "tally.whl"], skipped_platforms={}, strict=False
    )
    (finding,) = [f for f in findings if f.level == "error"]
    assert finding.file == "tally.whl"
    assert "not a valid wheel file name" in finding.message
    assert summary(findings) == "expected 2 wheels, found 2"


def test_build_backend_has_no_expectation(tmp_path: Path) -> None:
    config = release_project(tmp_path, 'backend = "build"\n', PLAIN_PACKAGE)
    expected, source = expected_wheels(config, runner())
    assert expected is None
    assert "list them in [tool.release.wheels]" in source
    findings = check_wheel_set(
        None, ["tally-0.3.1-py3-none-any.whl"], skipped_platforms={}, strict=True, source=source
    )
    assert [f.level for f in findings] == ["info"]
    assert findings[0].message.startswith("no expected wheel set: the build backend does not say")
    assert findings[0].message.endswith("; found 1 wheels")


# --- cibuildwheel --------------------------------------------------------------------------


def test_cibuildwheel_derivation_with_the_real_cli(tmp_path: Path) -> None:
    config = release_project(
        tmp_path,
        "",
        PLAIN_PACKAGE.replace("tally", "cvec")
        + '[tool.cibuildwheel]\nbuild = ["cp311-manylinux_x86_64", "cp311-win_amd64"]\n',
        package_dir="bindings/python",
    )
    assert config.backend == "cibuildwheel"
    expected, source = expected_wheels(config, runner())
    assert source == (
        "cibuildwheel --print-build-identifiers "
        "(linux: cp311-manylinux_x86_64; windows: cp311-win_amd64)"
    )
    assert expected is not None
    assert [(e.platform, e.patterns[0]) for e in expected] == [
        ("linux", "cp311-cp311-manylinux*_x86_64"),
        ("windows", "cp311-cp311-win_amd64"),
    ]
    built = [
        "cvec-0.3.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "cvec-0.3.1-cp311-cp311-win_amd64.whl",
    ]
    findings = check_wheel_set(expected, built, skipped_platforms={}, strict=True)
    assert by_level(findings, "error") == []
    assert summary(findings) == "expected 2 wheels, found 2"

    # an abi3 build satisfies the same identifiers; a cp312 wheel does not
    abi3 = ["cvec-0.3.1-cp39-abi3-manylinux_2_28_x86_64.whl", "cvec-0.3.1-cp311-abi3-win_amd64.whl"]
    assert (
        by_level(check_wheel_set(expected, abi3, skipped_platforms={}, strict=True), "error") == []
    )
    other = ["cvec-0.3.1-cp312-cp312-manylinux_2_17_x86_64.whl", built[1]]
    findings = check_wheel_set(expected, other, skipped_platforms={}, strict=True)
    assert len(by_level(findings, "error")) == 2  # one missing, one unexpected


@pytest.mark.parametrize(
    ("identifier", "matching", "not_matching"),
    [
        (
            "cp311-manylinux_x86_64",
            "cp311-cp311-manylinux_2_17_x86_64",
            "cp311-cp311-musllinux_1_2_x86_64",
        ),
        (
            "cp311-manylinux_x86_64",
            "cp311-cp311-manylinux2014_x86_64",
            "cp311-cp311-manylinux_2_17_aarch64",
        ),
        (
            "cp311-musllinux_x86_64",
            "cp311-cp311-musllinux_1_2_x86_64",
            "cp311-cp311-manylinux_2_17_x86_64",
        ),
        ("cp311-win_amd64", "cp311-cp311-win_amd64", "cp311-cp311-win32"),
        ("cp311-win32", "cp311-cp311-win32", "cp311-cp311-win_amd64"),
        ("cp311-win_arm64", "cp311-cp311-win_arm64", "cp311-cp311-win_amd64"),
        ("cp311-win_amd64", "cp38-abi3-win_amd64", "cp312-abi3-win_amd64"),
        (
            "cp313t-manylinux_x86_64",
            "cp313-cp313t-manylinux_2_17_x86_64",
            "cp313-cp313-manylinux_2_17_x86_64",
        ),
        ("cp313t-win_amd64", "cp313-cp313t-win_amd64", "cp313-abi3-win_amd64"),
        (
            "pp310-manylinux_x86_64",
            "pp310-pypy310_pp73-manylinux_2_17_x86_64",
            "cp310-cp310-manylinux_2_17_x86_64",
        ),
        ("pp310-win_amd64", "pp310-pypy310_pp73-win_amd64", "pp311-pypy311_pp73-win_amd64"),
    ],
)
def test_identifier_to_pattern(identifier: str, matching: str, not_matching: str) -> None:
    platform = "windows" if "-win" in identifier else "linux"
    entry = entry_for_identifier(identifier, platform)
    assert entry.matches([matching])
    assert not entry.matches([not_matching])


# --- maturin -------------------------------------------------------------------------------

MATURIN_PACKAGE = (
    '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n'
    '[project]\nname = "tally"\ndynamic = ["version"]\n'
)


def test_maturin_abi3_derivation(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    write_text(
        tmp_path / "pkg/Cargo.toml",
        '[package]\nname = "tally"\nversion = "0.3.1"\n\n'
        "[dependencies]\n"
        'pyo3 = { version = "0.22", features = ["extension-module", "abi3-py39"] }\n',
    )
    expected, source = expected_wheels(config, runner())
    assert expected == [
        Expected("linux", ("cp39-abi3-manylinux_2_17_x86_64",)),
        Expected("windows", ("cp39-abi3-win_amd64",)),
    ]
    assert source == (
        "maturin: pyo3 feature abi3-py39 in pkg/Cargo.toml; Linux floor manylinux_2_17; "
        "Windows target x86_64-pc-windows-msvc"
    )
    # maturin tags manylinux2014 wheels with both names; one of them matches
    findings = check_wheel_set(
        expected, [LINUX_ABI3, WINDOWS_ABI3], skipped_platforms={}, strict=True
    )
    assert by_level(findings, "error") == []


def test_maturin_workspace_dependency_floor_and_target(tmp_path: Path) -> None:
    config = release_project(
        tmp_path,
        '[tool.release.linux]\nmanylinux = "2_28"\n'
        '[tool.release.windows]\ntarget = "i686-pc-windows-gnu"\n',
        MATURIN_PACKAGE,
        package_dir="crates/tally-python",
    )
    write_text(
        tmp_path / "Cargo.toml",
        '[workspace]\nmembers = ["crates/*"]\n'
        '[workspace.dependencies]\npyo3 = { version = "0.22", features = ["abi3-py310"] }\n',
    )
    write_text(
        tmp_path / "crates/tally-python/Cargo.toml",
        '[package]\nname = "tally-python"\nversion = "0.3.1"\n'
        '[dependencies]\npyo3 = { workspace = true, features = ["extension-module"] }\n',
    )
    expected, _ = expected_wheels(config, runner())
    assert expected == [
        Expected("linux", ("cp310-abi3-manylinux_2_28_x86_64",)),
        Expected("windows", ("cp310-abi3-win32",)),
    ]


def test_maturin_abi3_from_tool_maturin_features(tmp_path: Path) -> None:
    config = release_project(
        tmp_path, "", MATURIN_PACKAGE + '[tool.maturin]\nfeatures = ["pyo3/abi3-py311"]\n'
    )
    write_text(
        tmp_path / "pkg/Cargo.toml",
        '[package]\nname = "t"\nversion = "1.0.0"\n[dependencies]\npyo3 = "0.22"\n',
    )
    expected, _ = expected_wheels(config, runner())
    assert expected is not None
    assert expected[0].patterns == ("cp311-abi3-manylinux_2_17_x86_64",)


def test_maturin_abi3_from_default_crate_feature(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    write_text(
        tmp_path / "pkg/Cargo.toml",
        '[package]\nname = "t"\nversion = "1.0.0"\n[dependencies]\npyo3 = "0.22"\n'
        '[features]\ndefault = ["abi3"]\nabi3 = ["pyo3/abi3-py38"]\n',
    )
    expected, _ = expected_wheels(config, runner())
    assert expected is not None
    assert expected[1].patterns == ("cp38-abi3-win_amd64",)


def test_maturin_without_abi3(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    write_text(
        tmp_path / "pkg/Cargo.toml",
        '[package]\nname = "t"\nversion = "1.0.0"\n[dependencies]\npyo3 = "0.22"\n',
    )
    expected, source = expected_wheels(config, runner())
    assert expected == [
        Expected("linux", ("cp3*-cp3*-manylinux_2_17_x86_64",)),
        Expected("windows", ("cp3*-cp3*-win_amd64",)),
    ]
    assert "no pyo3 abi3 feature in pkg/Cargo.toml" in source


def test_maturin_without_cargo_toml_gives_no_expectation(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    expected, source = expected_wheels(config, runner())
    assert expected is None
    assert source == (
        "could not derive maturin's wheels: maturin reads the crate from pkg/Cargo.toml, "
        "which does not exist"
    )


# --- platform tags PyPI refuses ------------------------------------------------------------


def test_pypi_refused_tags() -> None:
    accepted = [
        "x-1.0-cp311-cp311-manylinux2014_x86_64.whl",
        "x-1.0-cp311-cp311-win_amd64.whl",
        "x-1.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "x-1.0-cp312-cp312-musllinux_1_2_riscv64.whl",
        "x-1.0-cp312-cp312-macosx_11_0_arm64.whl",
        "x-1.0-py3-none-any.whl",
    ]
    assert check_pypi_tags(accepted) == []

    unrepaired = "x-1.0-cp311-cp311-linux_x86_64.whl"
    sparc = "x-1.0-cp311-cp311-manylinux_2_17_sparc.whl"
    findings = check_pypi_tags([unrepaired, sparc, *accepted])
    assert [(f.level, f.check, f.file) for f in findings] == [
        ("error", "pypi-tags", unrepaired),
        ("error", "pypi-tags", sparc),
    ]
    assert findings[0].message.startswith(
        f"PyPI refuses {unrepaired}: platform tag linux_x86_64; a plain linux tag means the "
        "wheel was not repaired: run auditwheel repair on it"
    )
    assert findings[1].message.startswith(
        f"PyPI refuses {sparc}: platform tag manylinux_2_17_sparc;"
    )
    assert "only for x86_64, i686, aarch64" in findings[1].message


def test_each_refused_tag_of_a_compressed_set() -> None:
    name = "x-1.0-cp311-cp311-linux_x86_64.manylinux_2_17_x86_64.linux_mips.whl"
    findings = check_pypi_tags([name])
    assert [f.message.split(";")[0] for f in findings] == [
        f"PyPI refuses {name}: platform tag linux_mips",
        f"PyPI refuses {name}: platform tag linux_x86_64",
    ]
