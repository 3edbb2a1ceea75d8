"""The build stages per platform (release/build_plan.py): which platforms of its OS a stage
builds on this host and how (native, cross, container), which it leaves to which runner,
``--arch`` for a matrix job, and build-macos. The tools are fakes that record each command
(tests/fake_processes.py) and leave a wheel where maturin or cibuildwheel would."""

from __future__ import annotations

import platform as host_platform
from pathlib import Path

import pytest
from conftest import release_project, write_text
from fake_processes import FAKE_BIN, Call, FakeProcesses, Reply, make_ctx

from release.build_plan import host_arch
from release.checks.wheel_set import WheelSetCheck
from release.config import ReleaseConfig
from release.context import RunContext
from release.errors import ConfigValueError
from release.records import INFO, NOT_BUILT, NOT_SHIPPED, OK, SKIPPED, StageRecord
from release.stages.build import build_linux, build_macos, build_windows

pytestmark = pytest.mark.skipif(
    host_platform.system() != "Linux" or host_arch() != "x86_64",
    reason="the plan is that of an x86_64 Linux host, the one these tests describe",
)

MATURIN = """\
[build-system]
requires = ["maturin>=1.14,<2"]
build-backend = "maturin"

[project]
name = "demo"
dynamic = ["version"]
requires-python = ">=3.9"
"""

CRATE = """\
[package]
name = "demo"
version = "0.1.0"

[dependencies]
pyo3 = { version = "0.29", features = ["abi3-py39"] }
"""

CIBUILDWHEEL = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "0.1.0"

[tool.cibuildwheel]
build = ["cp312-*"]

[tool.cibuildwheel.linux]
archs = ["x86_64", "aarch64"]
"""


def maturin_project(tmp_path: Path, release: str) -> ReleaseConfig:
    config = release_project(tmp_path / "project", release, MATURIN)
    write_text(config.package_dir / "Cargo.toml", CRATE)
    return config


def value_after(argv: tuple[str, ...], option: str) -> str:
    return argv[argv.index(option) + 1]


def tools(
    *, target_libdir: Path | None, identifiers: dict[str, str] | None = None
) -> FakeProcesses:
    """maturin and cibuildwheel leave a wheel named for what they were asked; rustc says
    whether a target is installed (``target_libdir``: it is)."""

    def respond(call: Call) -> Reply:
        if call.tool == "rustc" and "target-libdir" in call.args:
            return str(target_libdir) if target_libdir is not None else ("", 1)
        if call.tool == "cibuildwheel" and "--print-build-identifiers" in call.args:
            return (identifiers or {}).get(value_after(call.args, "--platform"), "")
        option = {"maturin": "--out", "cibuildwheel": "--output-dir"}.get(call.tool, "")
        if option in call.args:
            out = Path(value_after(call.args, option))
            target = value_after(call.args, "--target") if "--target" in call.args else "host"
            out.mkdir(parents=True, exist_ok=True)
            (out / f"demo-0.1.0-cp39-abi3-{target.replace('-', '_')}.whl").write_bytes(b"")
        return ""

    return FakeProcesses(
        tools={"rustc": f"{FAKE_BIN}/rustc", "docker": f"{FAKE_BIN}/docker", "podman": None},
        respond=respond,
    )


def run_stage(ctx: RunContext, stage: str = "build-linux") -> StageRecord:
    record = StageRecord(stage)
    stages = {
        "build-linux": build_linux,
        "build-macos": build_macos,
        "build-windows": build_windows,
    }
    stages[stage](ctx, record)
    return record


def stage_ctx(
    config: ReleaseConfig, processes: FakeProcesses, arch: str | None = None
) -> RunContext:
    ctx = make_ctx(config, processes=processes, environ={"PATH": ""})
    return RunContext(
        config=ctx.config,
        dist=ctx.dist,
        console=ctx.console,
        runner=ctx.runner,
        environ=ctx.environ,
        arch=arch,
    )


def commands(processes: FakeProcesses, tool: str) -> list[tuple[str, ...]]:
    """The builds ``tool`` ran (not its --version or --print-build-identifiers)."""
    option = {"maturin": "--out", "cibuildwheel": "--output-dir"}[tool]
    return [c.argv for c in processes.calls if c.tool == tool and option in c.args]


# --- maturin ---------------------------------------------------------------------------------

AARCH64 = '[tool.release.linux]\narchs = ["x86_64", "aarch64"]\n'


def test_maturin_leaves_aarch64_to_its_runner_without_the_rust_target(tmp_path: Path) -> None:
    """Before, build-linux built the host's wheel and said nothing of aarch64."""
    config = maturin_project(tmp_path, AARCH64)
    processes = tools(target_libdir=None)
    record = run_stage(stage_ctx(config, processes))
    assert record.status == OK
    x86_64, aarch64 = record.details["platforms"]
    assert (x86_64["platform"], x86_64["method"]) == ("manylinux_x86_64", "native")
    assert (aarch64["platform"], aarch64["method"]) == ("manylinux_aarch64", None)
    assert aarch64["runner"] == "ubuntu-24.04-arm"
    assert "the Rust target aarch64-unknown-linux-gnu is not installed" in aarch64["how"]
    assert record.details[NOT_BUILT] == ["cp39-manylinux_aarch64"]
    assert record.reason is not None
    assert "Not built here: manylinux_aarch64" in record.reason
    assert "ubuntu-24.04-arm builds it" in record.reason
    [maturin] = commands(processes, "maturin")
    assert "--target" not in maturin


def test_maturin_cross_compiles_aarch64_with_zig(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, AARCH64)
    libdir = tmp_path / "rustlib"
    libdir.mkdir()
    processes = tools(target_libdir=libdir)
    # zig: the ziglang package of this environment (maturin[zig])
    pytest.importorskip("ziglang")
    record = run_stage(stage_ctx(config, processes))
    assert record.status == OK
    assert [(p["platform"], p["method"]) for p in record.details["platforms"]] == [
        ("manylinux_x86_64", "native"),
        ("manylinux_aarch64", "cross"),
    ]
    assert NOT_BUILT not in record.details
    host, cross = commands(processes, "maturin")
    assert "--target" not in host
    assert value_after(cross, "--target") == "aarch64-unknown-linux-gnu"
    assert "--zig" in cross
    assert value_after(cross, "--compatibility") == "manylinux_2_17"
    assert len(record.artifacts) == 2


def test_maturin_musllinux_is_cross_compiled_at_its_floor(tmp_path: Path) -> None:
    pytest.importorskip("ziglang")
    config = maturin_project(tmp_path, '[tool.release.linux]\nmusllinux = "1_2"\n')
    libdir = tmp_path / "rustlib"
    libdir.mkdir()
    processes = tools(target_libdir=libdir)
    record = run_stage(stage_ctx(config, processes, arch="x86_64"))
    assert [(p["platform"], p["method"]) for p in record.details["platforms"]] == [
        ("manylinux_x86_64", "native"),
        ("musllinux_x86_64", "cross"),
    ]
    _, musl = commands(processes, "maturin")
    assert value_after(musl, "--target") == "x86_64-unknown-linux-musl"
    assert value_after(musl, "--compatibility") == "musllinux_1_2"


def test_arch_picks_one_architecture_for_a_matrix_job(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, AARCH64)
    processes = tools(target_libdir=None)
    # cibuildwheel's and maturin's names both: arm64 is Linux's aarch64
    record = run_stage(stage_ctx(config, processes, arch="arm64"))
    assert record.status == SKIPPED
    [aarch64] = record.details["platforms"]
    assert aarch64["platform"] == "manylinux_aarch64"
    assert record.reason is not None and "ubuntu-24.04-arm builds it" in record.reason
    assert record.details[NOT_BUILT] == ["cp39-manylinux_aarch64"]
    assert commands(processes, "maturin") == []


def test_an_arch_the_project_does_not_build_is_refused(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, AARCH64)
    with pytest.raises(ConfigValueError) as info:
        run_stage(stage_ctx(config, tools(target_libdir=None), arch="s390x"))
    assert "the project builds no linux s390x wheels" in info.value.cause
    assert "manylinux_x86_64, manylinux_aarch64" in info.value.cause
    with pytest.raises(ConfigValueError) as info:
        run_stage(stage_ctx(config, tools(target_libdir=None), arch="arm46"))
    assert "did you mean" in info.value.remedy


def test_build_macos_on_linux_is_skipped_naming_the_runners(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, '[tool.release.macos]\narchs = ["arm64", "x86_64"]\n')
    record = run_stage(stage_ctx(config, tools(target_libdir=None)), "build-macos")
    assert record.status == SKIPPED
    assert record.reason is not None
    assert "macos-15 (arm64" in record.reason and "macos-15-intel (x86_64)" in record.reason


def test_build_macos_without_macos_archs_is_not_shipped(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, "")
    record = run_stage(stage_ctx(config, tools(target_libdir=None)), "build-macos")
    assert record.status == NOT_SHIPPED


# --- cibuildwheel ------------------------------------------------------------------------------


def test_cibuildwheel_builds_only_this_machines_arch_in_its_container(tmp_path: Path) -> None:
    """Before, cibuildwheel was asked for every arch of [tool.cibuildwheel.linux] archs here,
    and aarch64 failed without QEMU."""
    config = release_project(tmp_path / "project", "", CIBUILDWHEEL)
    identifiers = {"linux": "cp312-manylinux_x86_64\ncp312-manylinux_aarch64\n"}
    processes = tools(target_libdir=None, identifiers=identifiers)
    record = run_stage(stage_ctx(config, processes))
    assert record.status == OK
    assert [(p["platform"], p["method"]) for p in record.details["platforms"]] == [
        ("manylinux_x86_64", "container"),
        ("manylinux_aarch64", None),
    ]
    assert "QEMU" in record.details["platforms"][1]["how"]
    [build] = commands(processes, "cibuildwheel")
    assert value_after(build, "--archs") == "x86_64"
    assert record.details[NOT_BUILT] == ["cp312-manylinux_aarch64"]


def test_validate_excuses_what_a_build_left_to_another_runner(tmp_path: Path) -> None:
    from conftest import check_context

    from release.expected import ExpectedSet, ExpectedWheel
    from release.platforms import Platform

    config = maturin_project(tmp_path, AARCH64)
    record = StageRecord("build-linux")
    record.status = OK
    record.details[NOT_BUILT] = ["cp39-manylinux_aarch64"]
    aarch64 = Platform("linux", "aarch64", "manylinux")
    expected = ExpectedSet(
        (ExpectedWheel("linux", ("cp39-abi3-manylinux*_aarch64",), "", "cp39-manylinux_aarch64",
                       aarch64),),
        "test",
    )  # fmt: skip
    for strict, level in ((False, INFO), (True, "error")):
        ctx = check_context(
            config, strict=strict, expected=expected, build_records={"build-linux": record}
        )
        missing = WheelSetCheck().run([], ctx)[0]
        assert missing.level == level
        assert "cp39-manylinux_aarch64" in missing.message


# --- maturin: a wheel per CPython ------------------------------------------------------------


def test_a_version_specific_crate_is_built_with_each_installed_python(tmp_path: Path) -> None:
    """Before, maturin built one wheel, with the running Python, whatever requires-python."""
    config = release_project(tmp_path / "project", "", MATURIN.replace(">=3.9", ">=3.13,<3.15"))
    write_text(config.package_dir / "Cargo.toml", CRATE.replace('"abi3-py39"', '"macros"'))
    python = tmp_path / "pyenv" / "versions" / "3.13.1" / "bin" / "python3.13"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(0o755)
    fake = tools(target_libdir=None)
    builds = fake.respond

    def respond(call: Call) -> Reply:
        if call.args[:1] == ("-c",):  # the interpreter says what it is
            return "cpython 3.13 - pip" if call.executable == str(python) else ("", 1)
        return builds(call)

    fake.respond = respond
    ctx = stage_ctx(config, fake)
    ctx = RunContext(
        config=ctx.config, dist=ctx.dist, console=ctx.console, runner=ctx.runner,
        environ={"PATH": "", "PYENV_ROOT": str(tmp_path / "pyenv")},
    )  # fmt: skip
    record = run_stage(ctx)
    assert record.status == OK
    [maturin] = commands(fake, "maturin")
    assert value_after(maturin, "--interpreter") == str(python)
    assert value_after(maturin, str(python)) == "--compatibility"  # no other interpreter
    # 3.14 is not installed here: named, for validate to excuse (and --strict to refuse)
    assert record.details[NOT_BUILT] == ["cp314-manylinux_x86_64"]
    assert record.reason is not None and "Not installed to build with: cp314" in record.reason


# --- the fan-out's records: one per job, merged into one dist dir by validate's download -----


def test_each_arch_job_writes_its_own_record_and_validate_reads_them_all(tmp_path: Path) -> None:
    """Two jobs of build-linux (--arch x86_64 on ubuntu-24.04, --arch aarch64 on
    ubuntu-24.04-arm) upload their dist dirs; validate's download merges them into one. Before,
    both records were .release/build-linux.json and the merge kept one of them: the other
    job's files had no record, and what it left to other runners was lost."""
    import shutil

    from release import pipeline
    from release.records import read_stage_records

    config = maturin_project(tmp_path, AARCH64)
    merged = tmp_path / "merged"
    for arch in ("x86_64", "arm64"):  # arm64: maturin's name for Linux's aarch64
        ctx = stage_ctx(config, tools(target_libdir=None), arch=arch)
        job_dist = tmp_path / f"job-{arch}"
        ctx = RunContext(config=ctx.config, dist=job_dist, console=ctx.console,
                         runner=ctx.runner, environ=ctx.environ, arch=arch)  # fmt: skip
        pipeline.run_stage(ctx, "build-linux")
        shutil.copytree(job_dist, merged, dirs_exist_ok=True)  # download-artifact's merge
    names = sorted(p.name for p in (merged / ".release").glob("*.json"))
    assert names == ["build-linux.aarch64.json", "build-linux.x86_64.json"]
    records, damaged = read_stage_records(merged, ["build-linux"])
    assert damaged == {}
    assert sorted(records) == ["build-linux -- --arch aarch64", "build-linux -- --arch x86_64"]
    x86_64 = records["build-linux -- --arch x86_64"]
    aarch64 = records["build-linux -- --arch aarch64"]
    assert (x86_64.status, len(x86_64.artifacts)) == (OK, 1)
    # No aarch64 Rust target here: that job was skipped, naming the build it left.
    assert (aarch64.status, aarch64.details[NOT_BUILT]) == (SKIPPED, ["cp39-manylinux_aarch64"])


def test_a_skipped_arch_job_excuses_only_its_own_builds(tmp_path: Path) -> None:
    """A job skipped for one architecture names what it left; the other architectures'
    wheels are still required (before, any skipped build-linux excused every Linux wheel)."""
    from conftest import check_context

    from release.expected import ExpectedSet, ExpectedWheel
    from release.platforms import Platform

    config = maturin_project(tmp_path, AARCH64)
    skipped = StageRecord("build-linux", arch="aarch64")
    skipped.status = SKIPPED
    skipped.details[NOT_BUILT] = ["cp39-manylinux_aarch64"]
    failed = StageRecord("build-linux", arch="x86_64")
    failed.status = "failed"

    def wheel(arch: str) -> ExpectedWheel:
        platform = Platform("linux", arch, "manylinux")
        return ExpectedWheel("linux", (f"cp39-abi3-manylinux*_{arch}",), "",
                             f"cp39-manylinux_{arch}", platform)  # fmt: skip

    expected = ExpectedSet((wheel("x86_64"), wheel("aarch64")), "test")
    records = {r.run: r for r in (skipped, failed)}
    ctx = check_context(config, expected=expected, build_records=records)
    found = [(f.level, f.message) for f in WheelSetCheck().run([], ctx)]
    assert found[:2] == [
        ("error", "the linux wheel cp39-abi3-manylinux*_x86_64 is missing"),
        (INFO, "the linux wheel cp39-abi3-manylinux*_aarch64 was not built here (build-linux "
         "left cp39-manylinux_aarch64 to another runner; its record says why)"),
    ]  # fmt: skip


def test_python_narrows_the_cibuildwheel_build_and_names_its_record(tmp_path: Path) -> None:
    """A job of a matrix split by Python: cibuildwheel gets project-requires-python for that
    Python, in the listing and the build, and the record is that job's own."""
    from release import pipeline

    config = release_project(tmp_path / "project", '[tool.release.ci]\nsplit-builds = "python"\n',
                             CIBUILDWHEEL.replace("cp312-*", "cp31*-*"))  # fmt: skip
    processes = tools(target_libdir=None, identifiers={"linux": "cp313-manylinux_x86_64\n"})
    ctx = stage_ctx(config, processes, arch="x86_64")
    ctx = RunContext(config=ctx.config, dist=ctx.dist, console=ctx.console, runner=ctx.runner,
                     environ=ctx.environ, arch="x86_64", python="3.13")  # fmt: skip
    record, error = pipeline.run_stage(ctx, "build-linux")
    assert error is None and record.status == OK
    calls = [c for c in processes.calls if c.tool == "cibuildwheel" and "--version" not in c.args]
    assert calls and all(c.env.get("CIBW_PROJECT_REQUIRES_PYTHON") == "==3.13.*" for c in calls)
    assert (ctx.dist / ".release" / "build-linux.x86_64.cp313.json").is_file()


FREE_THREADED = """\
free-threaded = true

[tool.release.linux]
archs = ["x86_64", "aarch64"]

[tool.release.windows]
target = "x86_64-pc-windows-gnu"
"""


def test_a_cross_build_makes_every_wheel_of_its_platform_by_maturins_names(
    tmp_path: Path,
) -> None:
    """Cross-compiling, maturin reads each Python's configuration from the sysconfig it
    bundles for the target: the abi3 and the free-threaded wheels are all built, none of
    those Pythons installed here. Before, the cross builds made the abi3 wheel only, and the
    Windows one did not say so: validate found cp314-cp314t-win_amd64 missing (an error)."""
    pytest.importorskip("ziglang")
    config = maturin_project(tmp_path, FREE_THREADED)
    libdir = tmp_path / "rustlib"
    libdir.mkdir()
    processes = tools(target_libdir=libdir)
    processes.tools["x86_64-w64-mingw32-gcc"] = f"{FAKE_BIN}/x86_64-w64-mingw32-gcc"
    ctx = stage_ctx(config, processes)

    linux = run_stage(ctx)
    windows = run_stage(ctx, "build-windows")

    host, aarch64, win = commands(processes, "maturin")
    pythons = ["python3.9", "python3.14t", "python3.15t"]
    assert list(aarch64[aarch64.index("--interpreter") + 1 :][:3]) == pythons
    assert list(win[win.index("--interpreter") + 1 :]) == pythons
    assert value_after(win, "--target") == "x86_64-pc-windows-gnu"
    # The host's own build still takes the interpreters installed here: 3.14t and 3.15t
    # are not, and are named as not built; nothing cross-built is.
    assert value_after(host, "--interpreter") != "python3.9"
    assert linux.details[NOT_BUILT] == ["cp314t-manylinux_x86_64", "cp315t-manylinux_x86_64"]
    assert windows.status == OK
    assert NOT_BUILT not in windows.details
