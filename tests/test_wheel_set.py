"""The ``wheel-set`` and ``pypi-tags`` checks, and the expected set each backend derives
(:mod:`release.expected`); cibuildwheel's derivation runs the real CLI."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from conftest import check_context, release_project, run_context, write_text
from wheel_factory import write_sdist, write_wheel

from release.backends import backend_for
from release.backends.build import BuildBackend
from release.backends.cibuildwheel import CibuildwheelBackend, wheel_for_identifier
from release.backends.maturin import MaturinBackend
from release.checks.base import CheckContext
from release.checks.integrity import Integrity
from release.checks.pypi_tags import PypiTagsCheck, pypi_accepts, refusal_remedy
from release.checks.wheel_set import WheelSetCheck
from release.config import ReleaseConfig
from release.dists import Distribution, read_distribution
from release.errors import ConfigValueError
from release.expected import ExpectedSet, ExpectedWheel, configured_set
from release.platforms import OLDEST_CPYTHON
from release.project.cargo import abi3_python_tag, pyo3_features
from release.records import (
    ERROR,
    HOST_BUILD,
    INFO,
    NOT_SHIPPED,
    OK,
    SKIPPED,
    WARNING,
    Finding,
    StageRecord,
)
from release.regression import NEWEST_CPYTHON

LINUX_ABI3 = "tally-0.3.1-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
WINDOWS_ABI3 = "tally-0.3.1-cp39-abi3-win_amd64.whl"

EXPLICIT = """
[tool.release.wheels]
linux = ["cp39-abi3-manylinux_2_17_x86_64"]
windows = ["cp39-abi3-win_amd64"]
"""
PLAIN_PACKAGE = '[project]\nname = "tally"\nversion = "0.3.1"\n'
MATURIN_PACKAGE = (
    '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n'
    '[project]\nname = "tally"\ndynamic = ["version"]\n'
)
CARGO = '[package]\nname = "t"\nversion = "1.0.0"\n[dependencies]\npyo3 = "0.22"\n'


# --- the context validate gives the checks ---------------------------------------------------


def derived(config: ReleaseConfig) -> ExpectedSet | None:
    """What the backend says it builds (raises when it cannot say)."""
    return backend_for(config).expected_wheels(run_context(config))


def context(
    config: ReleaseConfig,
    *,
    strict: bool = False,
    records: Mapping[str, StageRecord] | None = None,
) -> CheckContext:
    """The context as validate makes it, with these build records."""
    return check_context(config, strict=strict, build_records=dict(records or {}))


def skipped(stage: str, status: str = SKIPPED) -> dict[str, StageRecord]:
    return {stage: StageRecord(stage, status=status, reason="this host cannot build it.")}


def wheels(directory: Path, *names: str) -> list[Distribution]:
    """Real wheels with these file names, read the way validate reads them."""
    directory.mkdir(parents=True, exist_ok=True)
    return [read_distribution(write_wheel(directory, filename=name)) for name in names]


def run(
    config: ReleaseConfig,
    dists: list[Distribution],
    *,
    strict: bool = False,
    records: Mapping[str, StageRecord] | None = None,
) -> list[Finding]:
    """The check on the files it applies to, as validate runs it."""
    check = WheelSetCheck()
    chosen = [d for d in dists if check.applies_to(d)]
    findings = check.run(chosen, context(config, strict=strict, records=records))
    assert {f.check for f in findings} == {"wheel-set"}
    return findings


def by_level(findings: list[Finding], level: str) -> list[Finding]:
    return [f for f in findings if f.level == level]


def summary(findings: list[Finding]) -> str:
    """The last finding: the counts, and where the expected set came from."""
    last = findings[-1]
    assert last.level == INFO
    assert last.message.startswith("expected ")
    return last.message


# --- [tool.release.wheels] -----------------------------------------------------------------


def test_explicit_patterns_match(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    assert configured_set(config) == ExpectedSet(
        (
            ExpectedWheel("linux", ("cp39-abi3-manylinux_2_17_x86_64",)),
            ExpectedWheel("windows", ("cp39-abi3-win_amd64",)),
        ),
        "[tool.release.wheels] in pyproject.toml",
    )
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3, WINDOWS_ABI3), strict=True)
    assert findings == [
        Finding(
            INFO,
            "wheel-set",
            None,
            "expected 2 wheels, found 2; expected set from [tool.release.wheels] in pyproject.toml",
        )
    ]


def test_without_the_table_there_is_no_configured_set(tmp_path: Path) -> None:
    assert configured_set(release_project(tmp_path, "", PLAIN_PACKAGE)) is None


def test_the_table_wins_over_the_backend(tmp_path: Path) -> None:
    # maturin would derive its own set from Cargo.toml, which does not even exist here
    config = release_project(tmp_path, EXPLICIT, MATURIN_PACKAGE)
    assert config.backend == "maturin"
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3, WINDOWS_ABI3))
    assert summary(findings).endswith("expected set from [tool.release.wheels] in pyproject.toml")
    assert by_level(findings, ERROR) == []


def test_alternatives_in_one_pattern(tmp_path: Path) -> None:
    config = release_project(
        tmp_path,
        '[tool.release.wheels]\nlinux = ["cp311-cp311-manylinux*_x86_64|cp3*-abi3-manylinux*"]\n',
        PLAIN_PACKAGE,
    )
    expected = configured_set(config)
    assert expected is not None
    (entry,) = expected.wheels
    assert entry.patterns == ("cp311-cp311-manylinux*_x86_64", "cp3*-abi3-manylinux*")
    assert entry.describe() == "cp311-cp311-manylinux*_x86_64 or cp3*-abi3-manylinux*"
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3))
    assert by_level(findings, ERROR) == []
    assert summary(findings).startswith("expected 1 wheels, found 1; ")


def test_patterns_match_any_tag_of_a_compressed_set_case_sensitively() -> None:
    entry = ExpectedWheel("linux", ("cp39-abi3-manylinux2014_x86_64",))
    assert entry.matches(["cp39-abi3-manylinux_2_17_x86_64", "cp39-abi3-manylinux2014_x86_64"])
    assert not entry.matches(["cp39-abi3-manylinux_2_17_x86_64"])
    assert not entry.matches(["CP39-abi3-manylinux2014_x86_64"])
    assert ExpectedSet((entry,), "here").for_platform("windows") == ()


def test_missing_unexpected_and_duplicate_are_named(tmp_path: Path) -> None:
    config = release_project(
        tmp_path,
        '[tool.release.wheels]\nlinux = ["cp39-abi3-manylinux_2_17_x86_64"]\n'
        'windows = ["cp39-abi3-win_amd64", "cp39-abi3-win32"]\n',
        PLAIN_PACKAGE,
    )
    stale_linux = LINUX_ABI3.replace("0.3.1", "0.3.0")
    unrepaired = "tally-0.3.1-cp311-cp311-linux_x86_64.whl"
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3, stale_linux, unrepaired))
    errors = by_level(findings, ERROR)
    assert len(errors) == 4
    assert (
        Finding(
            ERROR,
            "wheel-set",
            None,
            "the windows wheel cp39-abi3-win_amd64 is missing",
            "check the build-windows output and record, or change the expected set "
            "([tool.release.wheels] windows).",
        )
        in errors
    )
    assert any(f.message == "the windows wheel cp39-abi3-win32 is missing" for f in errors)
    assert (
        Finding(
            ERROR,
            "wheel-set",
            None,
            f"2 wheels match the one expected linux wheel cp39-abi3-manylinux_2_17_x86_64: "
            f"{LINUX_ABI3}, {stale_linux}",
            "keep one and remove the others from the dist dir.",
        )
        in errors
    )
    assert (
        Finding(
            ERROR,
            "wheel-set",
            unrepaired,
            "unexpected wheel: no expected wheel matches its tags (cp311-cp311-linux_x86_64)",
            "remove it from the dist dir, or add it to [tool.release.wheels] linux.",
        )
        in errors
    )
    assert summary(findings) == (
        "expected 3 wheels, found 3; expected set from [tool.release.wheels] in pyproject.toml"
    )


def test_unexpected_windows_wheel_may_be_added_to_the_windows_list(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    arm = "tally-0.3.1-cp39-abi3-win_arm64.whl"
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3, WINDOWS_ABI3, arm))
    (error,) = by_level(findings, ERROR)
    assert error.file == arm
    assert (
        error.remedy == "remove it from the dist dir, or add it to [tool.release.wheels] windows."
    )


def test_unlisted_macos_wheel_is_to_be_listed_or_removed(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    mac = "tally-0.3.1-cp39-abi3-macosx_11_0_arm64.whl"
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3, WINDOWS_ABI3, mac))
    (error,) = by_level(findings, ERROR)
    assert error.file == mac
    assert (
        error.message
        == "unexpected wheel: no expected wheel matches its tags (cp39-abi3-macosx_11_0_arm64)"
    )
    assert error.remedy == (
        "remove it from the dist dir, or add it to [tool.release.wheels] macos."
    )


def test_listed_macos_wheels_make_the_set(tmp_path: Path) -> None:
    config = release_project(
        tmp_path,
        '[tool.release.wheels]\nlinux = ["cp39-abi3-manylinux_2_17_x86_64"]\n'
        'macos = ["cp39-abi3-macosx_*_arm64", "cp39-abi3-macosx_*_x86_64"]\n',
        PLAIN_PACKAGE,
    )
    arm = "tally-0.3.1-cp39-abi3-macosx_11_0_arm64.whl"
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3, arm))
    (error,) = by_level(findings, ERROR)
    assert error.message == "the macos wheel cp39-abi3-macosx_*_x86_64 is missing"
    # build-macos builds it (on a macOS runner): the remedy points at its record.
    assert error.remedy == (
        "check the build-macos output and record, or change the expected set "
        "([tool.release.wheels] macos)."
    )
    assert "expected 3 wheels, found 2" in findings[-1].message


def test_wheel_of_an_unknown_platform_is_to_be_removed(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    odd = "tally-0.3.1-cp39-abi3-solaris_2_11_sparc.whl"
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3, WINDOWS_ABI3, odd))
    (error,) = by_level(findings, ERROR)
    assert error.file == odd
    assert error.remedy == (
        "remove it from the dist dir: its platform tag is not one any installer knows."
    )


def test_unexpected_pure_wheel_may_be_listed(tmp_path: Path) -> None:
    """[tool.release.wheels] takes py3-none-any under linux or windows (tests/conftest.py's
    tiny project ships one): a stray pure wheel may belong to the release."""
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    pure = "tally-0.3.1-py3-none-any.whl"
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3, WINDOWS_ABI3, pure))
    (error,) = by_level(findings, ERROR)
    assert error.file == pure
    assert "add it to [tool.release.wheels]" in str(error.remedy)
    assert "this is a any wheel" not in str(error.remedy)


def test_skipped_platform_is_a_note_and_strict_makes_it_an_error(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    linux_only = wheels(tmp_path / "d", LINUX_ABI3)
    records = skipped("build-windows")

    findings = run(config, linux_only, records=records)
    assert by_level(findings, ERROR) == []
    assert by_level(findings, WARNING) == []
    assert findings[0] == Finding(
        INFO,
        "wheel-set",
        None,
        "the windows wheel cp39-abi3-win_amd64 was not built here (build-windows was "
        "skipped; its record says why)",
    )
    assert summary(findings).startswith("expected 2 wheels, found 1; ")
    # The missing wheel is said once (the summary does not count it again).
    assert [f for f in findings if "built here" in f.message] == [findings[0]]

    findings = run(config, linux_only, records=records, strict=True)
    assert by_level(findings, WARNING) == []
    (error,) = by_level(findings, ERROR)
    assert error.message == (
        "the windows wheel cp39-abi3-win_amd64 is missing: build-windows was skipped where "
        "it ran, and --strict needs every wheel"
    )
    assert error.remedy == (
        "run build-windows where it can build (its record says where) and put its wheels in "
        "the dist dir."
    )
    assert summary(findings).startswith("expected 2 wheels, found 1; ")


def test_a_skipped_build_excuses_only_its_own_platform(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    findings = run(config, wheels(tmp_path / "d", WINDOWS_ABI3), records=skipped("build-windows"))
    (error,) = by_level(findings, ERROR)
    assert error.message == "the linux wheel cp39-abi3-manylinux_2_17_x86_64 is missing"


@pytest.mark.parametrize("status", [OK, HOST_BUILD, NOT_SHIPPED])
def test_only_a_skipped_build_excuses_a_missing_wheel(tmp_path: Path, status: str) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    records = {**skipped("build-windows", status), **skipped("sdist")}
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3), records=records)
    (error,) = by_level(findings, ERROR)
    assert error.message == "the windows wheel cp39-abi3-win_amd64 is missing"


def test_a_host_build_excuses_only_the_builds_its_record_names(tmp_path: Path) -> None:
    """No container engine: the host build made cp313 and said it could not make cp314.
    cp314 is not built here (a note; publish refuses it, --strict too); cp312, which the
    host build did not name, is missing."""
    config = release_project(tmp_path, "", PLAIN_PACKAGE)
    entries = tuple(
        wheel_for_identifier(f"cp3{minor}-manylinux_x86_64", "linux") for minor in (12, 13, 14)
    )
    expected = ExpectedSet(entries, "cibuildwheel --print-build-identifiers")
    record = StageRecord("build-linux", status=HOST_BUILD, reason="no container engine.")
    record.details["not_built"] = ["cp314-manylinux_x86_64"]
    built = wheels(tmp_path / "d", "tally-0.3.1-cp313-cp313-manylinux_2_17_x86_64.whl")
    check = WheelSetCheck()

    def findings(strict: bool) -> list[Finding]:
        ctx = check_context(
            config, strict=strict, expected=expected, build_records={"build-linux": record}
        )
        return check.run(built, ctx)

    lenient = findings(strict=False)
    (error,) = by_level(lenient, ERROR)
    assert error.message.startswith("the linux wheel cp312-cp312-manylinux*_x86_64 ")
    assert error.message.endswith(" is missing")
    (note,) = [f for f in lenient if "cp314" in f.message]
    assert note.level == INFO
    assert note.message == (
        "the linux wheel cp314-cp314-manylinux*_x86_64 (or cp3Y-abi3-manylinux*_x86_64, "
        "Y <= 14) was not built here (build-linux was a host build, which could not make "
        "cp314-manylinux_x86_64; its record says why)"
    )
    strict = findings(strict=True)
    assert len(by_level(strict, ERROR)) == 2
    (refused,) = [f for f in strict if "cp314" in f.message]
    assert refused.level == ERROR
    assert (
        "build-linux was a host build, which could not make cp314-manylinux_x86_64 where "
        "it ran, and --strict needs every wheel" in refused.message
    )


def test_with_no_wheels_at_all_every_wheel_is_missing(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    assert WheelSetCheck.runs_without_files
    findings = run(config, [])
    assert len(by_level(findings, ERROR)) == 2
    assert summary(findings).startswith("expected 2 wheels, found 0; ")


def test_invalid_wheel_name_and_sdists_are_not_counted(tmp_path: Path) -> None:
    config = release_project(tmp_path, EXPLICIT, PLAIN_PACKAGE)
    (odd,) = wheels(tmp_path / "d", "tally.whl")
    sdist = read_distribution(write_sdist(tmp_path / "d", "tally", "0.3.1"))
    assert not WheelSetCheck().applies_to(sdist)
    findings = run(config, [*wheels(tmp_path / "d", LINUX_ABI3, WINDOWS_ABI3), odd, sdist])
    assert by_level(findings, ERROR) == []
    assert summary(findings).startswith("expected 2 wheels, found 2; ")
    # the name is integrity's finding
    (name_error, *_) = [f for f in Integrity().inspect(odd) if f.level == ERROR]
    assert name_error.file == "tally.whl"


def test_build_backend_has_no_expectation(tmp_path: Path) -> None:
    config = release_project(tmp_path, 'backend = "build"\n', PLAIN_PACKAGE)
    assert BuildBackend(config).expected_wheels(run_context(config)) is None
    findings = run(config, wheels(tmp_path / "d", "tally-0.3.1-py3-none-any.whl"), strict=True)
    assert findings == [
        Finding(
            INFO,
            "wheel-set",
            None,
            "no expected wheel set: the build backend does not say which wheels it builds "
            "(list them in [tool.release.wheels] to have the set checked); found 1 wheels",
        )
    ]


def test_expected_set_that_cannot_be_derived_is_an_error(tmp_path: Path) -> None:
    # a static version: the project reads fine, only the crate for the wheel set is missing
    config = release_project(
        tmp_path, "", MATURIN_PACKAGE.replace('dynamic = ["version"]', 'version = "0.3.1"')
    )
    (finding,) = run(config, wheels(tmp_path / "d", LINUX_ABI3))
    assert finding.level == ERROR
    assert finding.message.startswith(
        "the expected wheel set could not be derived: maturin reads the crate from "
        "pkg/Cargo.toml, which does not exist"
    )
    assert finding.remedy == (
        "point [tool.maturin] manifest-path in pkg/pyproject.toml at the crate's Cargo.toml."
    )


def test_a_cause_the_version_check_reports_is_not_said_again(tmp_path: Path) -> None:
    # a dynamic version: the missing Cargo.toml is the version check's error
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    assert context(config).project_problem is not None
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3))
    assert findings == [
        Finding(
            INFO,
            "wheel-set",
            None,
            "no expected wheel set: the project could not be read (see version)",
        )
    ]


def test_messages_have_no_closing_period(tmp_path: Path) -> None:
    """As every finding's message (validate strips the period of the errors it turns into
    findings, and the step summary adds its own): this one passes on a ReleaseError cause."""
    config = release_project(
        tmp_path, "", MATURIN_PACKAGE.replace('dynamic = ["version"]', 'version = "0.3.1"')
    )
    (finding,) = run(config, [])
    assert finding.message.startswith("the expected wheel set could not be derived")
    assert not finding.message.endswith(".")


# --- cibuildwheel --------------------------------------------------------------------------


@pytest.fixture
def cibuildwheel(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cibuildwheel CLI installed beside this interpreter, on PATH as nox puts it there
    (also when pytest is run with the venv's python directly)."""
    scripts = Path(sys.executable).parent
    monkeypatch.setenv("PATH", os.pathsep.join([str(scripts), os.environ.get("PATH", "")]))


@pytest.mark.usefixtures("cibuildwheel")
def test_cibuildwheel_derivation_with_the_real_cli(tmp_path: Path) -> None:
    config = release_project(
        tmp_path,
        "",
        PLAIN_PACKAGE.replace("tally", "cvec")
        + '[tool.cibuildwheel]\nbuild = ["cp311-manylinux_x86_64", "cp311-win_amd64"]\n',
        package_dir="bindings/python",
    )
    assert config.backend == "cibuildwheel"
    expected = CibuildwheelBackend(config).expected_wheels(run_context(config))
    assert expected.source == (
        "cibuildwheel --print-build-identifiers "
        "(linux (x86_64,aarch64): cp311-manylinux_x86_64; macos (x86_64,arm64): none; "
        "windows (AMD64,x86,ARM64): cp311-win_amd64)"
    )
    assert [(e.platform, e.patterns[0]) for e in expected.wheels] == [
        ("linux", "cp311-cp311-manylinux*_x86_64"),
        ("windows", "cp311-cp311-win_amd64"),
    ]
    built = [
        "cvec-0.3.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "cvec-0.3.1-cp311-cp311-win_amd64.whl",
    ]
    findings = run(config, wheels(tmp_path / "built", *built), strict=True)
    assert by_level(findings, ERROR) == []
    assert summary(findings) == f"expected 2 wheels, found 2; expected set from {expected.source}"

    # an abi3 build satisfies the same identifiers; a cp312 wheel does not
    abi3 = ["cvec-0.3.1-cp39-abi3-manylinux_2_28_x86_64.whl", "cvec-0.3.1-cp311-abi3-win_amd64.whl"]
    assert by_level(run(config, wheels(tmp_path / "abi3", *abi3), strict=True), ERROR) == []
    other = ["cvec-0.3.1-cp312-cp312-manylinux_2_17_x86_64.whl", built[1]]
    findings = run(config, wheels(tmp_path / "other", *other), strict=True)
    missing, unexpected = by_level(findings, ERROR)
    assert missing.message == (
        "the linux wheel cp311-cp311-manylinux*_x86_64 (or cp3Y-abi3-manylinux*_x86_64, "
        "Y <= 11) is missing"
    )
    assert unexpected.file == other[0]


@pytest.mark.usefixtures("cibuildwheel")
def test_cibuildwheel_platform_without_identifiers(tmp_path: Path) -> None:
    config = release_project(
        tmp_path,
        "",
        PLAIN_PACKAGE + '[tool.cibuildwheel]\nbuild = ["cp311-manylinux_x86_64"]\n',
    )
    expected = derived(config)
    assert expected is not None
    assert [e.platform for e in expected.wheels] == ["linux"]
    assert expected.source.endswith(
        "(linux (x86_64,aarch64): cp311-manylinux_x86_64; macos (x86_64,arm64): none; "
        "windows (AMD64,x86,ARM64): none)"
    )


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
        ("cp311-win_amd64", "cp32-abi3-win_amd64", "cp311-cp311t-win_amd64"),
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
        (
            # cibuildwheel's GraalPy identifiers: Python 3.12, GraalPy 25.0
            "gp312_250-manylinux_x86_64",
            "graalpy312-graalpy250_312_native-manylinux_2_28_x86_64",
            "graalpy313-graalpy253_313_native-manylinux_2_28_x86_64",
        ),
    ],
)
def test_identifier_to_pattern(identifier: str, matching: str, not_matching: str) -> None:
    platform = "windows" if "-win" in identifier else "linux"
    entry = wheel_for_identifier(identifier, platform)
    assert entry.platform == platform
    assert entry.matches([matching])
    assert not entry.matches([not_matching])


def test_identifier_descriptions() -> None:
    assert wheel_for_identifier("cp311-win_amd64", "windows").describe() == (
        "cp311-cp311-win_amd64 (or cp3Y-abi3-win_amd64, Y <= 11)"
    )
    assert wheel_for_identifier("cp313t-win_amd64", "windows").describe() == (
        "cp313-cp313t-win_amd64"
    )
    # an identifier of a kind not known here still expects a wheel of its platform
    odd = wheel_for_identifier("xp9-manylinux_x86_64", "linux")
    assert odd.describe() == "xp9-manylinux_x86_64"
    assert odd.matches(["xp9-xp9-manylinux_2_17_x86_64"])
    assert not odd.matches(["xp9-xp9-musllinux_1_2_x86_64"])


# --- maturin -------------------------------------------------------------------------------


def maturin_set(config: ReleaseConfig) -> ExpectedSet:
    return MaturinBackend(config).expected_wheels(run_context(config))


def test_maturin_abi3_derivation(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    write_text(
        tmp_path / "pkg/Cargo.toml",
        '[package]\nname = "tally"\nversion = "0.3.1"\n\n'
        "[dependencies]\n"
        'pyo3 = { version = "0.22", features = ["extension-module", "abi3-py39"] }\n',
    )
    expected = maturin_set(config)
    assert [(w.platform, w.patterns, w.describe()) for w in expected.wheels] == [
        ("linux", ("cp39-abi3-manylinux*_x86_64",), "cp39-abi3-manylinux_2_17_x86_64"),
        ("windows", ("cp39-abi3-win_amd64",), "cp39-abi3-win_amd64"),
    ]
    assert expected.source == (
        "maturin: pyo3 feature abi3-py39 in pkg/Cargo.toml; platforms manylinux_x86_64, "
        "win_amd64; Linux floor manylinux_2_17; Windows target x86_64-pc-windows-msvc"
    )
    # maturin tags manylinux2014 wheels with both names; one of them matches
    findings = run(config, wheels(tmp_path / "d", LINUX_ABI3, WINDOWS_ABI3), strict=True)
    assert by_level(findings, ERROR) == []


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
    assert [(w.patterns, w.describe()) for w in maturin_set(config).wheels] == [
        (("cp310-abi3-manylinux*_x86_64",), "cp310-abi3-manylinux_2_28_x86_64"),
        (("cp310-abi3-win32",), "cp310-abi3-win32"),
    ]
    features, manifest = pyo3_features(config)
    assert sorted(features) == ["abi3-py310", "extension-module"]
    assert manifest == "crates/tally-python/Cargo.toml"


def test_maturin_abi3_from_tool_maturin_features(tmp_path: Path) -> None:
    config = release_project(
        tmp_path, "", MATURIN_PACKAGE + '[tool.maturin]\nfeatures = ["pyo3/abi3-py311"]\n'
    )
    write_text(tmp_path / "pkg/Cargo.toml", CARGO)
    assert maturin_set(config).wheels[0].patterns == ("cp311-abi3-manylinux*_x86_64",)


def test_maturin_abi3_from_default_crate_feature(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    write_text(
        tmp_path / "pkg/Cargo.toml",
        CARGO + '[features]\ndefault = ["abi3"]\nabi3 = ["pyo3/abi3-py38"]\n',
    )
    assert maturin_set(config).wheels[1].patterns == ("cp38-abi3-win_amd64",)


def test_maturin_optional_feature_only_counts_when_enabled(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    write_text(tmp_path / "pkg/Cargo.toml", CARGO + '[features]\nabi3 = ["pyo3/abi3-py38"]\n')
    assert abi3_python_tag(config) == (None, "no pyo3 abi3 feature in pkg/Cargo.toml")


def test_lowest_abi3_feature_decides_and_plain_abi3_is_any_cpython(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    write_text(
        tmp_path / "pkg/Cargo.toml",
        '[package]\nname = "t"\nversion = "1.0.0"\n[dependencies]\n'
        'pyo3 = { version = "0.22", features = ["abi3-py311"] }\n'
        'pyo3-ffi = { version = "0.22", features = ["abi3-py38"] }\n',
    )
    assert abi3_python_tag(config) == ("cp38", "pyo3 feature abi3-py38 in pkg/Cargo.toml")

    write_text(
        tmp_path / "pkg/Cargo.toml",
        '[package]\nname = "t"\nversion = "1.0.0"\n[dependencies]\n'
        'pyo3 = { version = "0.22", features = ["abi3"] }\n',
    )
    assert abi3_python_tag(config) == ("cp3*", "pyo3 feature abi3 in pkg/Cargo.toml")
    assert maturin_set(config).wheels[1].patterns == ("cp3*-abi3-win_amd64",)


def test_maturin_without_abi3(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    write_text(tmp_path / "pkg/Cargo.toml", CARGO)
    expected = maturin_set(config)
    # one wheel per CPython (no requires-python: every one nox-release knows), per platform
    pythons = [f"cp3{m}-cp3{m}" for m in range(OLDEST_CPYTHON, NEWEST_CPYTHON + 1)]
    assert [w.patterns for w in expected.wheels] == [
        *((f"{p}-manylinux*_x86_64",) for p in pythons),
        *((f"{p}-win_amd64",) for p in pythons),
    ]
    assert "no pyo3 abi3 feature in pkg/Cargo.toml" in expected.source


def test_maturin_without_cargo_toml_cannot_say(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", MATURIN_PACKAGE)
    with pytest.raises(ConfigValueError) as caught:
        maturin_set(config)
    assert caught.value.cause == (
        "maturin reads the crate from pkg/Cargo.toml, which does not exist."
    )


# --- platform tags PyPI refuses ------------------------------------------------------------

ACCEPTED = [
    "any",
    "win32",
    "win_amd64",
    "win_arm64",
    "manylinux1_x86_64",
    "manylinux2014_x86_64",
    "manylinux2014_aarch64",
    "manylinux_2_17_x86_64",
    "manylinux_2_28_ppc64",
    "musllinux_1_2_riscv64",
    "linux_armv7l",
    "macosx_10_9_x86_64",
    "macosx_11_0_arm64",
    "macosx_14_0_universal2",
    "ios_13_0_arm64_iphoneos",
    "android_21_arm64_v8a",
    "pyemscripten_2024_0_wasm32",
]
REFUSED = [
    "linux_x86_64",
    "linux_mips",
    "manylinux_2_17_sparc",
    "manylinux2014_sparc",
    "musllinux_1_2_ppc64",
    "macosx_11_3_arm64",
    "macosx_10_9_sparc",
    "freebsd_13_2_release_amd64",
    "emscripten_3_1_58_wasm32",
]


@pytest.mark.parametrize("platform", ACCEPTED)
def test_pypi_accepts(platform: str) -> None:
    assert pypi_accepts(platform)


@pytest.mark.parametrize("platform", REFUSED)
def test_pypi_refuses(platform: str) -> None:
    assert not pypi_accepts(platform)


def test_refusal_remedies() -> None:
    assert refusal_remedy("linux_x86_64").startswith(
        "a plain linux tag means the wheel was not repaired: run auditwheel repair on it "
        "(it retags it manylinux_X_Y_x86_64"
    )
    for platform in ("linux_mips", "manylinux_2_17_sparc", "manylinux2014_sparc"):
        assert refusal_remedy(platform).startswith(
            "PyPI takes Linux wheels only for x86_64, i686, aarch64"
        ), platform
    assert refusal_remedy("freebsd_13_2_release_amd64").startswith(
        "PyPI takes only the platform tags any, win32, win_amd64"
    )


def test_pypi_tags_check(tmp_path: Path) -> None:
    accepted = [
        "x-1.0-cp311-cp311-manylinux2014_x86_64.whl",
        "x-1.0-cp311-cp311-win_amd64.whl",
        "x-1.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "x-1.0-cp312-cp312-musllinux_1_2_riscv64.whl",
        "x-1.0-cp312-cp312-macosx_11_0_arm64.whl",
        "x-1.0-py3-none-any.whl",
    ]
    config = release_project(tmp_path, "", PLAIN_PACKAGE)
    check = PypiTagsCheck()
    good = wheels(tmp_path / "good", *accepted)
    assert check.run(good, context(config)) == []

    unrepaired = "x-1.0-cp311-cp311-linux_x86_64.whl"
    sparc = "x-1.0-cp311-cp311-manylinux_2_17_sparc.whl"
    findings = check.run([*wheels(tmp_path / "bad", unrepaired, sparc), *good], context(config))
    assert [(f.level, f.check, f.file, f.message) for f in findings] == [
        (ERROR, "pypi-tags", unrepaired, "PyPI refuses platform tag linux_x86_64"),
        (ERROR, "pypi-tags", sparc, "PyPI refuses platform tag manylinux_2_17_sparc"),
    ]
    assert findings[0].remedy == refusal_remedy("linux_x86_64")
    assert findings[1].remedy == refusal_remedy("manylinux_2_17_sparc")


def test_each_refused_tag_of_a_compressed_set(tmp_path: Path) -> None:
    config = release_project(tmp_path, "", PLAIN_PACKAGE)
    name = "x-1.0-cp311-cp311-linux_x86_64.manylinux_2_17_x86_64.linux_mips.whl"
    findings = PypiTagsCheck().run(wheels(tmp_path / "d", name), context(config))
    assert [(f.file, f.message) for f in findings] == [
        (name, "PyPI refuses platform tag linux_mips"),
        (name, "PyPI refuses platform tag linux_x86_64"),
    ]


def test_pypi_tags_judges_only_wheels_with_valid_names(tmp_path: Path) -> None:
    check = PypiTagsCheck()
    (odd,) = wheels(tmp_path / "d", "tally.whl")
    sdist = read_distribution(write_sdist(tmp_path / "d", "tally", "0.3.1"))
    (good,) = wheels(tmp_path / "d", LINUX_ABI3)
    assert [check.applies_to(d) for d in (odd, sdist, good)] == [False, False, True]


def test_an_ios_wheel_without_an_expected_set_is_not_passed_in_silence(tmp_path: Path) -> None:
    config = release_project(tmp_path / "p", 'backend = "build"\n', PLAIN_PACKAGE)
    ios = "tally-0.3.1-cp313-cp313-ios_13_0_arm64_iphoneos.whl"
    mac = "tally-0.3.1-cp39-abi3-macosx_11_0_arm64.whl"
    findings = run(config, wheels(tmp_path / "d", ios, mac))
    # macos-dylibs reads a macOS wheel's binaries; nothing reads an iOS wheel's.
    (warning,) = [f for f in findings if f.level == "warning"]
    assert warning.file == ios
    assert "a wheel for ios" in warning.message
