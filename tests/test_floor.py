"""One manylinux floor from config to build to validate: ``[tool.release.linux] manylinux``
becomes cibuildwheel's image (read from the installed cibuildwheel's own list), a project
image of another floor is refused before building, and validate requires the wheels' tags
to name that floor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import release_project, run_release, write_text
from fake_processes import FAKE_BIN, Call, FakeProcesses, Reply, make_ctx, printed
from wheel_factory import write_wheel

import release.backends.cibuildwheel as cibw
from release.backends.cibuildwheel import (
    CibuildwheelBackend,
    floor_images,
    image_floor,
    pinned_images,
)
from release.backends.maturin import MaturinBackend
from release.checks.manylinux import ManylinuxCheck
from release.config import LinuxConfig, ReleaseConfig
from release.dists import read_distribution
from release.errors import CommandFailedError, ConfigValueError
from release.host import ContainerEngine
from release.runner import LocalProcesses

PACKAGE = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "1.0"

[tool.cibuildwheel]
build = ["cp311-*"]
"""


def project(tmp_path: Path, floor: str = "2014", cibuildwheel: str = "") -> ReleaseConfig:
    release = f'backend = "cibuildwheel"\n[tool.release.linux]\nmanylinux = "{floor}"\n'
    return release_project(tmp_path / "project", release, PACKAGE + cibuildwheel)


X86 = ["cp311-manylinux_x86_64", "cp311-musllinux_x86_64"]


# --- the installed cibuildwheel's images ------------------------------------------------------


def test_the_installed_cibuildwheels_images_are_read_from_its_own_list() -> None:
    version, images = pinned_images()
    import importlib.metadata

    assert version == importlib.metadata.version("cibuildwheel")
    # Its shortcut for glibc 2.17 is the legacy name; "manylinux_2_17" it would pull as an
    # image of that name, which does not exist.
    assert images["x86_64"][(2, 17)] == "manylinux2014"
    assert images["x86_64"][(2, 28)] == "manylinux_2_28"
    assert (2, 17) not in images["armv7l"]  # armv7l images start at glibc 2.31
    assert all(not s.startswith("musllinux") for arch in images.values() for s in arch.values())


@pytest.mark.parametrize(
    ("image", "glibc"),
    [
        ("manylinux2014", (2, 17)),
        ("manylinux_2_28", (2, 28)),
        ("manylinux1", (2, 5)),
        ("quay.io/pypa/manylinux2014_x86_64:2024-05-10-7415d48", (2, 17)),
        ("quay.io/pypa/manylinux_2_34_x86_64@sha256:834a2a31", (2, 34)),
        ("ghcr.io/example/builder:3", None),
        ("quay.io/manylinux2014/builder", None),  # a floor in a registry path is not a name
        ("ghcr.io/me/manylinux_2_99_x86_64", None),  # no such glibc
    ],
)
def test_the_floor_an_image_names(image: str, glibc: tuple[int, int] | None) -> None:
    assert image_floor(image) == glibc


# --- the floor's image for each architecture built --------------------------------------------


@pytest.mark.parametrize(
    ("floor", "shortcut"),
    [("2014", "manylinux2014"), ("2_17", "manylinux2014"), ("manylinux_2_28", "manylinux_2_28")],
)
def test_each_manylinux_architecture_built_gets_the_floors_image(
    tmp_path: Path, floor: str, shortcut: str
) -> None:
    config = project(tmp_path, floor)
    identifiers = [*X86, "cp311-manylinux_aarch64"]
    env, unknown = floor_images(config, {}, identifiers, pinned_images())
    assert env == {
        "CIBW_MANYLINUX_X86_64_IMAGE": shortcut,
        "CIBW_MANYLINUX_AARCH64_IMAGE": shortcut,
    }
    assert unknown == []


def test_a_floor_cibuildwheel_has_no_image_for_is_refused(tmp_path: Path) -> None:
    config = project(tmp_path, "2_24")
    version, images = pinned_images()
    if (2, 24) in images["x86_64"]:
        pytest.skip(f"cibuildwheel {version} has a manylinux_2_24 image")
    with pytest.raises(ConfigValueError) as info:
        floor_images(config, {}, X86, (version, images))
    has = ", ".join(f"manylinux_{a}_{b}" for a, b in sorted(images["x86_64"]))
    assert info.value.cause == (
        f"cibuildwheel {version} has no manylinux_2_24 image, the floor of "
        f'[tool.release.linux] manylinux = "2_24", for what the project builds: '
        f"x86_64 (it has {has})."
    )
    assert "set [tool.release.linux] manylinux to a floor it has an image for" in (
        info.value.remedy
    )


def test_an_architecture_without_an_image_of_the_floor_is_refused(tmp_path: Path) -> None:
    config = project(tmp_path, "2014")
    with pytest.raises(ConfigValueError) as info:
        floor_images(config, {}, [*X86, "cp311-manylinux_armv7l"], pinned_images())
    assert "no manylinux_2_17 image" in info.value.cause
    assert "armv7l (it has manylinux_2_31" in info.value.cause
    assert "x86_64" not in info.value.cause.split("builds:")[1]
    assert "[tool.cibuildwheel] archs or skip" in info.value.remedy


def test_musllinux_builds_get_no_manylinux_image(tmp_path: Path) -> None:
    config = project(tmp_path, "2014")
    env, _ = floor_images(config, {}, ["cp311-musllinux_x86_64"], pinned_images())
    assert env == {}


# --- the project's own images -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "where"),
    [
        (
            'manylinux-x86_64-image = "manylinux_2_28"\n',
            "manylinux-x86_64-image = 'manylinux_2_28' in [tool.cibuildwheel] of "
            "pkg/pyproject.toml (manylinux_2_28)",
        ),
        (
            '[tool.cibuildwheel.linux]\nmanylinux-aarch64-image = "manylinux_2_28"\n',
            "manylinux-aarch64-image = 'manylinux_2_28' in [tool.cibuildwheel.linux] of "
            "pkg/pyproject.toml (manylinux_2_28)",
        ),
        (
            '[[tool.cibuildwheel.overrides]]\nselect = "cp311-*"\n'
            'manylinux-x86_64-image = "quay.io/pypa/manylinux_2_28_x86_64:2026.10.26-1"\n',
            "manylinux-x86_64-image = 'quay.io/pypa/manylinux_2_28_x86_64:2026.10.26-1' in "
            "[[tool.cibuildwheel.overrides]] select = 'cp311-*' of pkg/pyproject.toml "
            "(manylinux_2_28)",
        ),
    ],
    ids=["global", "linux", "override"],
)
def test_a_project_image_of_another_floor_is_refused_naming_both(
    tmp_path: Path, table: str, where: str
) -> None:
    config = project(tmp_path, "2014", table)
    with pytest.raises(ConfigValueError) as info:
        floor_images(config, {}, X86, pinned_images())
    assert info.value.cause == (
        '[tool.release.linux] manylinux = "2014" in pyproject.toml is the manylinux floor the '
        "wheels are built for (manylinux_2_17), but the project's cibuildwheel configuration "
        f"asks for another: {where}."
    )
    assert info.value.remedy == (
        "make them agree: remove that image setting (nox-release gives cibuildwheel the image "
        "of its floor), or, if manylinux_2_28 is the floor you mean, set "
        '[tool.release.linux] manylinux = "2_28".'
    )


def test_an_image_variable_in_the_environment_of_another_floor_is_refused(tmp_path: Path) -> None:
    config = project(tmp_path, "2_28")
    environ = {"CIBW_MANYLINUX_X86_64_IMAGE": "manylinux2014"}
    with pytest.raises(ConfigValueError) as info:
        floor_images(config, environ, X86, pinned_images())
    assert "CIBW_MANYLINUX_X86_64_IMAGE=manylinux2014 in the environment (manylinux_2_17)" in (
        info.value.cause
    )
    assert '[tool.release.linux] manylinux = "2_17"' in info.value.remedy


def test_a_project_image_of_the_floor_is_kept_and_one_naming_none_is_said(
    tmp_path: Path,
) -> None:
    pinned = "quay.io/pypa/manylinux2014_x86_64:2024-05-10-7415d48"
    config = project(
        tmp_path,
        "2014",
        f'manylinux-x86_64-image = "{pinned}"\nmanylinux-aarch64-image = "ghcr.io/me/builder:3"\n',
    )
    identifiers = [*X86, "cp311-manylinux_aarch64", "cp311-manylinux_i686"]
    env, unknown = floor_images(config, {}, identifiers, pinned_images())
    # the project's pinned image of the floor and its own builder stay theirs
    assert env == {"CIBW_MANYLINUX_I686_IMAGE": "manylinux2014"}
    assert [(c.arch, c.image) for c in unknown] == [("aarch64", "ghcr.io/me/builder:3")]


# --- the build: refused before it starts, or given the image ----------------------------------


def identifiers_then_build(linux: str) -> FakeProcesses:
    def respond(call: Call) -> Reply:
        if "--print-build-identifiers" in call.args:
            return linux
        return ""

    return FakeProcesses(tools={"docker": f"{FAKE_BIN}/docker", "podman": None}, respond=respond)


def test_a_disagreeing_floor_is_refused_before_cibuildwheel_builds(tmp_path: Path) -> None:
    config = project(tmp_path, "2014", 'manylinux-x86_64-image = "manylinux_2_28"\n')
    ctx = make_ctx(config, processes=identifiers_then_build("cp311-manylinux_x86_64\n"))
    with pytest.raises(ConfigValueError) as info:
        CibuildwheelBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    assert "manylinux-x86_64-image = 'manylinux_2_28'" in info.value.cause
    assert info.value.exit_code == 17
    built = [c for c in fake_calls(ctx) if c.tool == "cibuildwheel" and "--output-dir" in c.args]
    assert built == []


def test_a_disagreeing_floor_is_refused_before_a_host_build(tmp_path: Path) -> None:
    config = project(tmp_path, "2014", 'manylinux-x86_64-image = "manylinux_2_28"\n')

    def down(call: Call) -> Reply:
        return ("Cannot connect to the Docker daemon", 1) if call.tool == "docker" else ""

    processes = FakeProcesses(tools={"docker": f"{FAKE_BIN}/docker", "podman": None}, respond=down)
    ctx = make_ctx(config, processes=processes)
    with pytest.raises(ConfigValueError) as info:
        CibuildwheelBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    assert "manylinux_2_17" in info.value.cause and "manylinux_2_28" in info.value.cause
    assert [c.tool for c in fake_calls(ctx)] == ["docker"]  # nothing built, nothing asked


def fake_calls(ctx: object) -> list[Call]:
    processes = ctx.runner.processes  # type: ignore[attr-defined]
    assert isinstance(processes, FakeProcesses)
    return processes.calls


@pytest.fixture
def venv_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )


@pytest.mark.usefixtures("venv_tools")
@pytest.mark.skipif(
    sys.version_info < (3, 11),
    reason="cibuildwheel for Python < 3.11 (2.x) asks docker for its version before it names "
    "the image, and stops there without a daemon; the tests session (cibuildwheel 4) runs this",
)
@pytest.mark.parametrize(
    ("floor", "image"), [("2014", "manylinux2014"), ("2_28", "manylinux_2_28")]
)
def test_the_real_cibuildwheel_starts_the_floors_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, floor: str, image: str
) -> None:
    """The real cibuildwheel, given what the backend gives it, names the container it starts
    (then fails here: the docker client has no daemon). Only the engine probe is replaced,
    to say docker is there; cibuildwheel's own default image is manylinux_2_28."""
    config = project(tmp_path, floor)
    monkeypatch.setattr(cibw, "container_engine", lambda runner: ContainerEngine("docker", ""))
    ctx = make_ctx(config, processes=LocalProcesses())
    with pytest.raises(CommandFailedError):
        CibuildwheelBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    output = printed(ctx)
    assert f"Starting container image quay.io/pypa/{image}_x86_64@sha256:" in output
    assert f"CIBW_MANYLINUX_X86_64_IMAGE={image}" in output


# --- validate: the wheel's tags name the floor ------------------------------------------------


def judged(tmp_path: Path, platform: str, floor: str = "2014") -> str | None:
    wheel = write_wheel(tmp_path, "demo", "1.0", f"cp311-cp311-{platform}")
    finding = ManylinuxCheck().judge_floor(read_distribution(wheel), LinuxConfig(floor))
    return None if finding is None else f"{finding.message} | {finding.remedy}"


@pytest.mark.parametrize(
    ("platform", "floor"),
    [
        ("manylinux_2_17_x86_64.manylinux2014_x86_64", "2014"),
        ("manylinux2014_x86_64", "2_17"),
        ("manylinux_2_17_x86_64", "2014"),
        # auditwheel adds the older floors the binaries also meet: the floor is still named
        (
            "manylinux_2_5_x86_64.manylinux1_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64",
            "2014",
        ),
        ("manylinux_2_17_x86_64.manylinux2014_x86_64.manylinux_2_28_x86_64", "2_28"),
        ("manylinux1_x86_64", "1"),
        ("manylinux2010_x86_64", "2010"),
        # musllinux has floors of its own (issue 16), and linux_* is pypi-tags'
        ("musllinux_1_2_x86_64", "2014"),
        ("linux_x86_64", "2014"),
    ],
)
def test_a_wheel_naming_the_floor_passes(tmp_path: Path, platform: str, floor: str) -> None:
    assert judged(tmp_path, platform, floor) is None


def test_a_wheel_of_a_newer_floor_is_an_error_naming_tag_floor_and_remedy(tmp_path: Path) -> None:
    assert judged(tmp_path, "manylinux_2_28_x86_64") == (
        "it is tagged manylinux_2_28_x86_64, a newer floor than [tool.release.linux] manylinux = "
        '"2014" (manylinux_2_17): users with glibc 2.17 to 2.27 cannot install it | '
        "build it with nox -s build-linux, which builds in the manylinux_2_17 image (or repairs "
        "to manylinux_2_17); or, if glibc 2.28 is the floor you mean, set [tool.release.linux] "
        'manylinux = "2_28".'
    )


def test_a_wheel_of_an_older_floor_only_is_an_error_too(tmp_path: Path) -> None:
    said = judged(tmp_path, "manylinux_2_5_x86_64.manylinux1_x86_64")
    assert said is not None
    assert said.startswith(
        "it is tagged manylinux1_x86_64, manylinux_2_5_x86_64, not the floor of "
        '[tool.release.linux] manylinux = "2014" (manylinux_2_17)'
    )
    assert '[tool.release.linux] manylinux = "2_5"' in said


# --- validate on real wheels: built here, repaired by the real auditwheel ---------------------

C_PACKAGE = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "floordemo"
version = "1.0"
description = "A C extension."
readme = "README.md"
license = "MIT"

[tool.setuptools]
ext-modules = [{name = "floordemo._c", sources = ["floordemo/_c.c"]}]
packages = ["floordemo"]

[tool.release]
backend = "build"
sdist = false

[tool.release.linux]
manylinux = "2014"

[tool.release.wheels]
linux = ["cp*-cp*-manylinux*_x86_64"]
"""

C_SOURCE = """\
#include <Python.h>
static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "_c", NULL, -1, NULL};
PyMODINIT_FUNC PyInit__c(void) { return PyModule_Create(&m); }
"""


@pytest.mark.e2e
@pytest.mark.usefixtures("venv_tools")
@pytest.mark.skipif(sys.version_info < (3, 10), reason="auditwheel show --json needs 3.10+")
def test_validate_refuses_a_real_wheel_of_a_newer_floor_and_accepts_the_floor(
    tmp_path: Path,
) -> None:
    root = tmp_path / "floordemo"
    write_text(root / "pyproject.toml", C_PACKAGE)
    write_text(root / "README.md", "# floordemo\n\nA C extension.\n")
    write_text(root / "floordemo" / "__init__.py", "")
    write_text(root / "floordemo" / "_c.c", C_SOURCE)
    # build-linux: the host build repairs to the configured floor with the real auditwheel.
    dist = tmp_path / "dist"
    proc = run_release("build-linux", "--project", str(root), "--dist", str(dist))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = dist.glob("*.whl")
    assert "manylinux_2_17_x86_64" in wheel.name or "manylinux2014_x86_64" in wheel.name
    proc = run_release("validate", "--project", str(root), "--dist", str(dist))
    assert proc.returncode == 0, proc.stdout

    # The same binaries repaired by the real auditwheel to manylinux_2_28 only, as
    # cibuildwheel's default image would: a release promising 2014 must not take it.
    raw = tmp_path / "raw"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(raw),
         str(root)],
        check=True, capture_output=True,
    )  # fmt: skip
    newer = tmp_path / "newer"
    (linux_wheel,) = raw.glob("*.whl")
    subprocess.run(
        ["auditwheel", "repair", "--plat", "manylinux_2_28_x86_64", "--only-plat",
         "--wheel-dir", str(newer), str(linux_wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    (retagged,) = newer.glob("*.whl")
    assert retagged.name.endswith("-manylinux_2_28_x86_64.whl")
    with zipfile.ZipFile(retagged) as archive:
        assert any(n.endswith(".so") for n in archive.namelist())
    proc = run_release("validate", "--project", str(root), "--dist", str(newer))
    assert proc.returncode == 30, proc.stdout
    assert "tagged manylinux_2_28_x86_64, a newer floor than" in proc.stdout
    # one cause, said once: the expected set takes any floor, and auditwheel agrees with 2_28
    record = json.loads((newer / ".release" / "validate.json").read_text())
    found = [(f["check"], f["level"]) for f in record["findings"] if f["level"] == "error"]
    assert found == [("manylinux", "error")]
    (finding,) = [f for f in record["findings"] if f["level"] == "error"]
    assert finding["file"] == retagged.name
    assert 'manylinux = "2_28"' in finding["remedy"] and "nox -s build-linux" in finding["remedy"]


def test_check_says_the_disagreement_before_any_build(tmp_path: Path) -> None:
    config = project(tmp_path, "2014", 'manylinux-x86_64-image = "manylinux_2_28"\n')
    proc = run_release("check", "--project", str(config.project_root))
    assert proc.returncode == 60, proc.stdout + proc.stderr
    assert "manylinux-x86_64-image = 'manylinux_2_28' in [tool.cibuildwheel]" in proc.stdout
    assert '[tool.release.linux] manylinux = "2_28"' in proc.stdout  # the remedy


# --- maturin: --compatibility is the floor; its own setting must agree --------------------------

MATURIN = """\
[build-system]
requires = ["maturin>=1.5,<2"]
build-backend = "maturin"

[project]
name = "demo"
version = "1.0"
"""


@pytest.mark.parametrize(
    "setting",
    [
        'compatibility = "manylinux_2_28"',
        'manylinux = "2_28"',
        'compatibility = ["manylinux_2_28", "musllinux_1_2"]',
    ],
)
def test_maturins_own_compatibility_of_another_floor_is_refused_before_building(
    tmp_path: Path, setting: str
) -> None:
    config = release_project(tmp_path / "p", "", MATURIN + f"\n[tool.maturin]\n{setting}\n")
    ctx = make_ctx(config, processes=FakeProcesses())
    with pytest.raises(ConfigValueError) as info:
        MaturinBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    key = setting.split(" ", maxsplit=1)[0]
    assert f"but {key} = 'manylinux_2_28'" in info.value.cause or f"but {key} = '2_28'" in (
        info.value.cause
    )
    assert "[tool.maturin] of pkg/pyproject.toml asks for manylinux_2_28" in info.value.cause
    assert '[tool.release.linux] manylinux = "2_28"' in info.value.remedy
    assert [c.tool for c in fake_calls(ctx)] == []  # nothing built


@pytest.mark.parametrize(
    "setting",
    ['compatibility = "manylinux2014"', 'compatibility = "linux"', 'manylinux = "off"', ""],
)
def test_maturin_builds_with_the_floor_when_its_setting_agrees_or_names_none(
    tmp_path: Path, setting: str
) -> None:
    config = release_project(tmp_path / "p", "", MATURIN + f"\n[tool.maturin]\n{setting}\n")
    ctx = make_ctx(config, processes=FakeProcesses())
    MaturinBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    (build,) = [c for c in fake_calls(ctx) if c.tool == "maturin"]
    assert build.args[build.args.index("--compatibility") + 1] == "manylinux_2_17"
