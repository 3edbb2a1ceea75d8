"""The platform model (release/platforms.py), its configuration, and the expected set each
backend derives from it: cibuildwheel's identifiers across the release's runners, asked of
the real cibuildwheel CLI; maturin's abi3, Pythons, free-threaded builds and targets, read
from real Cargo.toml and pyproject.toml shapes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import release_project, write_text
from fake_processes import make_ctx

from release.backends.cibuildwheel import CibuildwheelBackend, parse_identifiers, project_archs
from release.backends.maturin import MaturinBackend
from release.config import ReleaseConfig, load_config
from release.errors import ConfigValueError, UnknownKeyError
from release.expected import ExpectedSet
from release.platforms import (
    RUNNERS,
    ArchError,
    Platform,
    canonical_arch,
    cpython_minors,
    macos_version,
    musllinux_floor,
    native_runner,
    platform_of_identifier,
    resolve_archs,
)
from release.regression import NEWEST_CPYTHON
from release.runner import LocalProcesses

ROOT = Path(__file__).resolve().parent.parent

SETUPTOOLS = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "1.0"
requires-python = ">=3.12"
"""

MATURIN = """\
[build-system]
requires = ["maturin>=1.14,<2"]
build-backend = "maturin"

[project]
name = "demo"
dynamic = ["version"]
requires-python = ">=3.9"

[tool.maturin]
module-name = "demo._demo"
"""

# A Cargo workspace member as PyO3 projects write it: abi3 switched on through a feature of
# the crate's own, which "default" enables.
CRATE = """\
[package]
name = "demo-python"
version = "0.1.0"
edition = "2021"

[lib]
name = "_demo"
crate-type = ["cdylib"]

[features]
default = ["stable-abi"]
stable-abi = ["pyo3/abi3-py310"{abi3t}]

[dependencies]
pyo3 = {{ version = "0.29", features = ["extension-module"] }}
"""


@pytest.fixture
def venv_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """cibuildwheel of the interpreter running the tests on PATH, as nox puts it."""
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )


def project(tmp_path: Path, release: str, package: str) -> ReleaseConfig:
    return release_project(tmp_path / "project", release, package)


def real_expected(config: ReleaseConfig, environ: dict[str, str] | None = None) -> ExpectedSet:
    backend = CibuildwheelBackend(config)
    ctx = make_ctx(config, processes=LocalProcesses(), environ=environ)
    return backend.expected_wheels(ctx)


def builds(expected: ExpectedSet, os_name: str) -> list[str]:
    return [w.build for w in expected.for_platform(os_name)]


# --- the model -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "name", "tag", "target"),
    [
        (
            Platform("linux", "aarch64", "manylinux"),
            "manylinux_aarch64",
            "manylinux*_aarch64",
            "aarch64-unknown-linux-gnu",
        ),
        (
            Platform("linux", "x86_64", "musllinux"),
            "musllinux_x86_64",
            "musllinux*_x86_64",
            "x86_64-unknown-linux-musl",
        ),
        (
            Platform("linux", "armv7l", "musllinux"),
            "musllinux_armv7l",
            "musllinux*_armv7l",
            "armv7-unknown-linux-musleabihf",
        ),
        (Platform("macos", "arm64"), "macosx_arm64", "macosx_*_arm64", "aarch64-apple-darwin"),
        (
            Platform("macos", "universal2"),
            "macosx_universal2",
            "macosx_*_universal2",
            "universal2-apple-darwin",
        ),
        (Platform("windows", "ARM64"), "win_arm64", "win_arm64", "aarch64-pc-windows-msvc"),
        (Platform("windows", "x86"), "win32", "win32", "i686-pc-windows-msvc"),
    ],
)
def test_platform_names(platform: Platform, name: str, tag: str, target: str) -> None:
    assert platform.name == name == str(platform)
    assert platform.tag_pattern == tag
    assert platform.rust_target() == target
    assert platform_of_identifier(f"cp313-{name}") == platform


def test_windows_keeps_the_projects_toolchain() -> None:
    amd64, arm64 = Platform("windows", "AMD64"), Platform("windows", "ARM64")
    assert amd64.rust_target("x86_64-pc-windows-gnu") == "x86_64-pc-windows-gnu"
    assert Platform("windows", "x86").rust_target("x86_64-pc-windows-gnu") == (
        "i686-pc-windows-gnu"
    )
    # MinGW GCC has no arm64: MSVC unless MSYS2 libraries are linked (then LLVM MinGW).
    assert arm64.rust_target("x86_64-pc-windows-gnu") == "aarch64-pc-windows-msvc"
    assert arm64.rust_target("x86_64-pc-windows-gnu", msys2=True) == "aarch64-pc-windows-gnullvm"
    assert arm64.rust_target("x86_64-pc-windows-msvc") == "aarch64-pc-windows-msvc"


def test_every_runner_is_named_exactly() -> None:
    labels = [runner.label for runner in RUNNERS]
    assert not [label for label in labels if "latest" in label]
    assert native_runner(Platform("linux", "aarch64", "musllinux")).label == "ubuntu-24.04-arm"  # type: ignore[union-attr]
    assert native_runner(Platform("linux", "i686", "manylinux")).label == "ubuntu-24.04"  # type: ignore[union-attr]
    assert native_runner(Platform("windows", "ARM64")).label == "windows-11-arm"  # type: ignore[union-attr]
    assert native_runner(Platform("windows", "x86")).label == "windows-2025"  # type: ignore[union-attr]
    assert native_runner(Platform("macos", "x86_64")).label == "macos-15-intel"  # type: ignore[union-attr]
    assert native_runner(Platform("macos", "universal2")).label == "macos-15"  # type: ignore[union-attr]
    assert native_runner(Platform("linux", "s390x", "manylinux")) is None


def test_archs_resolve_across_the_runners_not_this_machine() -> None:
    assert resolve_archs("linux", ["auto"]) == ("x86_64", "aarch64")
    assert resolve_archs("windows", ["auto"]) == ("AMD64", "x86", "ARM64")
    assert resolve_archs("windows", ["auto64"]) == ("AMD64", "ARM64")
    assert resolve_archs("linux", ["auto32"]) == ("i686",)
    assert resolve_archs("macos", ["native"]) == ("x86_64", "arm64")
    assert resolve_archs("macos", ["all"]) == ("x86_64", "arm64", "universal2")
    # names as cibuildwheel takes them, case-insensitively, in its order
    assert resolve_archs("windows", ["arm64", "amd64"]) == ("AMD64", "ARM64")
    assert resolve_archs("macos", ["universal2"]) == ("universal2",)


def test_an_arch_of_another_os_names_the_closest() -> None:
    assert canonical_arch("linux", "AARCH64") == "aarch64"
    with pytest.raises(ArchError) as info:
        canonical_arch("macos", "x86-64")
    assert info.value.close == "x86_64"


def test_cpythons_of_requires_python() -> None:
    assert cpython_minors(">=3.12") == list(range(12, NEWEST_CPYTHON + 1))
    assert cpython_minors(">=3.8,<3.11") == [9, 10]
    assert cpython_minors(None, free_threaded=True) == list(range(14, NEWEST_CPYTHON + 1))
    assert cpython_minors("not a specifier")[0] == 9


def test_macos_versions_and_musllinux_floors() -> None:
    assert macos_version("10.13") == (10, 13)
    assert macos_version("11.0") == (11, 0)
    assert macos_version("26.0") == (26, 0)
    assert macos_version("11.3") is None  # PyPI takes 11+ with minor 0 only
    assert macos_version("18.0") is None
    assert musllinux_floor("musllinux_1_2") == (1, 2)
    assert musllinux_floor("1_3") is None


# --- configuration ---------------------------------------------------------------------------


def test_maturin_platform_keys(tmp_path: Path) -> None:
    config = project(
        tmp_path,
        'free-threaded = true\n[tool.release.linux]\narchs = ["x86_64", "aarch64"]\n'
        'musllinux = "1_2"\n[tool.release.windows]\narchs = ["amd64", "arm64"]\n'
        '[tool.release.macos]\narchs = ["arm64", "x86_64"]\ndeployment-target = "11.0"\n',
        MATURIN,
    )
    assert [p.name for p in config.platforms] == [
        "manylinux_x86_64",
        "manylinux_aarch64",
        "musllinux_x86_64",
        "musllinux_aarch64",
        "macosx_arm64",
        "macosx_x86_64",
        "win_amd64",
        "win_arm64",
    ]
    assert config.free_threaded
    assert config.macos.deployment_target == "11.0"


def test_maturin_platform_defaults_are_what_was_built_before(tmp_path: Path) -> None:
    config = project(tmp_path, '[tool.release.windows]\ntarget = "i686-pc-windows-gnu"\n', MATURIN)
    linux, windows = Platform("linux", "x86_64", "manylinux"), Platform("windows", "x86")
    assert config.platforms == (linux, windows)
    assert not config.free_threaded


def test_a_typo_in_the_macos_table_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(UnknownKeyError) as info:
        project(tmp_path, '[tool.release.macos]\narch = ["arm64"]\n', MATURIN)
    assert "unknown key 'arch' in [tool.release.macos]" in info.value.cause
    assert "did you mean 'archs'?" in info.value.remedy


@pytest.mark.parametrize(
    ("release", "cause", "remedy"),
    [
        (
            '[tool.release.macos]\narchs = ["x86-64"]\n',
            "[tool.release.macos] archs in",
            "did you mean 'x86_64'?",
        ),
        ('[tool.release.linux]\narchs = ["auto"]\n', "'auto', which means what", "aarch64"),
        ('[tool.release.linux]\nmusllinux = "1_5"\n', "is not a musllinux floor", '"1_2"'),
        (
            '[tool.release.macos]\ndeployment-target = "11.3"\n',
            "is not a macOS version",
            '"10.13"',
        ),
    ],
)
def test_bad_platform_values(tmp_path: Path, release: str, cause: str, remedy: str) -> None:
    with pytest.raises(ConfigValueError) as info:
        project(tmp_path, release, MATURIN)
    assert cause in info.value.cause
    assert remedy in info.value.remedy


@pytest.mark.parametrize(
    ("release", "says"),
    [
        ('[tool.release.linux]\narchs = ["aarch64"]\n', "[tool.cibuildwheel.linux] archs"),
        ("free-threaded = false\n", '[tool.cibuildwheel] skip ("cp3??t-*"'),
        ('[tool.release.macos]\ndeployment-target = "11.0"\n', "MACOSX_DEPLOYMENT_TARGET"),
    ],
)
def test_cibuildwheel_platform_keys_are_derived_not_repeated(
    tmp_path: Path, release: str, says: str
) -> None:
    package = SETUPTOOLS + '\n[tool.cibuildwheel]\nbuild = ["cp312-*"]\n'
    with pytest.raises(ConfigValueError) as info:
        project(tmp_path, release, package)
    assert "repeats what cibuildwheel's own configuration says" in info.value.cause
    assert says in info.value.cause


# --- cibuildwheel: the real CLI, across --archs ---------------------------------------------------

CIBW_PROJECT = (
    SETUPTOOLS.replace(">=3.12", ">=3.11")
    + """
[tool.cibuildwheel]
build = ["cp312-*", "cp314t-*", "pp311-*"]
skip = ["*-musllinux_i686"]
enable = ["pypy"]

[tool.cibuildwheel.linux]
archs = ["x86_64", "aarch64"]

[tool.cibuildwheel.macos]
archs = "arm64 universal2"
"""
)


@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="cp314t: cibuildwheel 2.x, installed for Python < 3.11, knows no CPython 3.14; "
    "the tests session (cibuildwheel 4) runs this",
)
def test_cibuildwheel_expected_set_covers_every_arch_its_config_names(
    tmp_path: Path, venv_tools: None
) -> None:
    """Before, only linux and windows were asked, and ``auto`` was this machine's: no
    macOS wheel and no win_arm64 wheel was expected (aarch64 only because archs names it)."""
    config = project(tmp_path, "", CIBW_PROJECT)
    expected = real_expected(config)
    linux = builds(expected, "linux")
    aarch64 = {"cp312-manylinux_aarch64", "cp314t-musllinux_aarch64", "pp311-manylinux_aarch64"}
    assert aarch64 <= set(linux)
    assert "cp312-musllinux_x86_64" in linux
    assert not [b for b in linux if "i686" in b]  # archs leaves it out
    assert not [b for b in linux if b.startswith("pp311-musllinux")]  # cibuildwheel has none
    macos = builds(expected, "macos")
    assert set(macos) == {
        f"{python}-macosx_{arch}"
        for python in ("cp312", "cp314t", "pp311")
        for arch in ("arm64", "universal2")
    } - {"pp311-macosx_universal2"}
    # archs = auto on Windows: what windows-2025 and windows-11-arm build by default
    windows = builds(expected, "windows")
    assert {"cp312-win_amd64", "cp312-win32", "cp312-win_arm64", "cp314t-win_arm64"} <= set(windows)
    free_threaded = next(w for w in expected.wheels if w.build == "cp314t-win_arm64")
    assert free_threaded.patterns == ("cp314-cp314t-win_arm64",)  # no abi3: it cannot load
    assert free_threaded.build_platform == Platform("windows", "ARM64")
    assert Platform("linux", "aarch64", "musllinux") in expected.platforms
    assert "macos (arm64,universal2)" in expected.source


def test_identifiers_an_x86_64_machine_leaves_to_an_arm64_mac() -> None:
    """cibuildwheel on x86_64 drops PyPy's macOS arm64 builds from its list, saying so on
    stderr (merged into the output): the release's arm64 Mac builds them."""
    output = (
        "cp312-macosx_arm64\n"
        "Note: pp312-macosx_arm64, pp311-macosx_arm64  were selected, but can't be built on "
        "x86_64 so will be skipped automatically.\n"
    )
    assert parse_identifiers(output, other_machines=True) == [
        "cp312-macosx_arm64",
        "pp312-macosx_arm64",
        "pp311-macosx_arm64",
    ]
    assert parse_identifiers(output, other_machines=False) == ["cp312-macosx_arm64"]


def test_cibuildwheel_environment_archs_win_over_the_toml(tmp_path: Path, venv_tools: None) -> None:
    config = project(tmp_path, "", CIBW_PROJECT)
    environ = {"CIBW_ARCHS_LINUX": "aarch64", "PATH": os.environ["PATH"]}
    assert project_archs(config, environ, "linux").where == "CIBW_ARCHS_LINUX=aarch64"
    linux = builds(real_expected(config, environ), "linux")
    assert linux and all(b.endswith("_aarch64") for b in linux)


def test_cibuildwheel_bad_arch_in_its_config(tmp_path: Path, venv_tools: None) -> None:
    config = project(tmp_path, "", SETUPTOOLS + '[tool.cibuildwheel.macos]\narchs = ["arm46"]\n')
    with pytest.raises(ConfigValueError) as info:
        real_expected(config)
    assert "[tool.cibuildwheel.macos] archs of pkg/pyproject.toml names 'arm46'" in (
        info.value.cause
    )
    assert "did you mean 'arm64'?" in info.value.remedy


def test_cvec_expected_set_is_cp311_on_every_arch_it_names(venv_tools: None) -> None:
    config = load_config(ROOT / "examples" / "cvec")
    expected = real_expected(config)
    assert [w.build for w in expected.wheels] == [
        "cp311-manylinux_x86_64", "cp311-manylinux_aarch64",
        "cp311-musllinux_x86_64", "cp311-musllinux_aarch64",
        "cp311-macosx_x86_64", "cp311-macosx_arm64",
        "cp311-win_amd64", "cp311-win_arm64",
    ]  # fmt: skip


# --- maturin: abi3, free-threaded, targets -------------------------------------------------


def maturin_project(tmp_path: Path, release: str, abi3t: str = "") -> ReleaseConfig:
    config = project(tmp_path, release, MATURIN)
    write_text(config.package_dir / "Cargo.toml", CRATE.format(abi3t=abi3t))
    return config


def test_maturin_abi3_with_free_threaded_builds(tmp_path: Path) -> None:
    config = maturin_project(
        tmp_path,
        'free-threaded = true\n[tool.release.linux]\narchs = ["x86_64", "aarch64"]\n'
        'musllinux = "1_2"\n[tool.release.macos]\narchs = ["universal2"]\n'
        '[tool.release.windows]\narchs = ["AMD64", "ARM64"]\n',
    )
    expected = MaturinBackend(config).expected_wheels(make_ctx(config))
    per_platform = {
        platform.name: [w.patterns[0] for w in expected.wheels if w.build_platform == platform]
        for platform in expected.platforms
    }
    tags = {
        "manylinux_x86_64": "manylinux*_x86_64",
        "manylinux_aarch64": "manylinux*_aarch64",
        "musllinux_x86_64": "musllinux*_x86_64",
        "musllinux_aarch64": "musllinux*_aarch64",
        "macosx_universal2": "macosx_*_universal2",
        "win_amd64": "win_amd64",
        "win_arm64": "win_arm64",
    }
    assert per_platform == {
        name: [
            f"cp310-abi3-{tag}",
            *(f"cp3{m}-cp3{m}t-{tag}" for m in range(14, NEWEST_CPYTHON + 1)),
        ]
        for name, tag in tags.items()
    }
    [musl] = [w for w in expected.for_platform("linux") if w.build == "cp310-musllinux_aarch64"]
    assert musl.describe() == "cp310-abi3-musllinux_1_2_aarch64"
    assert musl.matches(["cp310-abi3-musllinux_1_2_aarch64"])
    [universal] = [w for w in expected.wheels if w.build == "cp310-macosx_universal2"]
    # maturin's universal2 wheel carries three tags; its universal2 one is the platform's
    assert universal.matches(
        ["cp310-abi3-macosx_10_12_x86_64", "cp310-abi3-macosx_11_0_arm64",
         "cp310-abi3-macosx_10_12_universal2"]
    )  # fmt: skip
    assert "pyo3 feature abi3-py310" in expected.source
    assert "free-threaded wheels too" in expected.source


def test_maturin_abi3t_serves_the_free_threaded_pythons_from_315(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, "free-threaded = true\n", abi3t=', "pyo3/abi3t"')
    expected = MaturinBackend(config).expected_wheels(make_ctx(config))
    linux = [w.patterns[0] for w in expected.for_platform("linux")]
    assert linux == [
        "cp310-abi3-manylinux*_x86_64",
        "cp314-cp314t-manylinux*_x86_64",
        "cp315-abi3t-manylinux*_x86_64",
    ]
    [abi3t] = [w for w in expected.for_platform("linux") if "abi3t" in w.patterns[0]]
    # maturin names it cp315-abi3.abi3t: one of its tags is cp315-abi3t
    assert abi3t.matches(["cp315-abi3-manylinux_2_17_x86_64", "cp315-abi3t-manylinux_2_17_x86_64"])


def test_tally_expected_set_is_every_platform_with_free_threaded_wheels() -> None:
    config = load_config(ROOT / "examples" / "tally")
    expected = MaturinBackend(config).expected_wheels(make_ctx(config))
    platforms = [
        "manylinux*_x86_64", "manylinux*_aarch64", "musllinux*_x86_64", "musllinux*_aarch64",
        "macosx_*_arm64", "macosx_*_x86_64", "win_amd64", "win_arm64",
    ]  # fmt: skip
    assert [w.patterns for w in expected.wheels] == [
        (f"{python}-{platform}",)
        for platform in platforms
        for python in ("cp39-abi3", "cp314-cp314t", "cp315-cp315t")
    ]
