"""The release workflow's fan-out (release/workflows/fanout.py): one build job per runner and
architecture, on GitHub's runners named exactly, each with its own artifact; and check's
judgement of whether a workflow's jobs build the expected set, with the expected set the
real backend derives (cibuildwheel's --print-build-identifiers, run for real)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import release_project, run_context, write_text
from ruamel.yaml import YAML

# One maturin project text for the build-plan and fan-out tests.
from test_build_plan import CRATE, MATURIN

from release.backends import backend_for
from release.config import ReleaseConfig, load_config
from release.console import Console
from release.expected import configured_set
from release.records import ERROR, INFO, WARNING
from release.runner import Runner
from release.workflows.fanout import BuildJob, build_jobs, coverage
from release.workflows.generate import release_workflow

EVERY_PLATFORM = """\
[tool.release.linux]
archs = ["x86_64", "aarch64"]
musllinux = "1_2"

[tool.release.macos]
archs = ["x86_64", "arm64"]

[tool.release.windows]
archs = ["AMD64", "ARM64"]
"""

CIBUILDWHEEL = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"

[tool.cibuildwheel]
build = "cp312-*"
skip = ["*i686", "*-win32"]

[tool.cibuildwheel.linux]
archs = "auto aarch64"
"""


def maturin_project(tmp_path: Path, release: str) -> ReleaseConfig:
    config = release_project(tmp_path / "project", release, MATURIN)
    write_text(config.package_dir / "Cargo.toml", CRATE)
    return load_config(config.project_root)


def cibuildwheel_project(tmp_path: Path, package: str = CIBUILDWHEEL) -> ReleaseConfig:
    return release_project(tmp_path / "project", "", package)


def jobs_of(text: str) -> dict[str, dict]:
    return dict(YAML(typ="safe").load(io.StringIO(text))["jobs"])


def test_a_maturin_project_gets_one_job_per_runner_and_architecture(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, EVERY_PLATFORM)
    jobs = {job.id: job.runner for job in build_jobs(config)}
    assert jobs == {
        # musllinux x86_64 is built by the x86_64 job: one job per runner and architecture
        "build-linux-x86_64": "ubuntu-24.04",
        "build-linux-aarch64": "ubuntu-24.04-arm",
        "build-macos-x86_64": "macos-15-intel",
        "build-macos-arm64": "macos-15",
        "build-windows-amd64": "windows-2025",
        "build-windows-arm64": "windows-11-arm",
    }
    workflow = jobs_of(release_workflow(config))
    for job_id, runner in jobs.items():
        job = workflow[job_id]
        assert job["runs-on"] == runner
        runs = [step["run"] for step in job["steps"] if "run" in step]
        arch = job_id.rsplit("-", 1)[1]
        assert any(run.lower().endswith(f"--arch {arch}") for run in runs), runs
        uploads = [
            s["with"]["name"] for s in job["steps"] if "upload-artifact" in s.get("uses", "")
        ]
        assert uploads == [f"dist-{job_id}"]  # each its own artifact
    assert set(workflow["validate"]["needs"]) == {*jobs, "sdist"}
    download = next(s for s in workflow["validate"]["steps"] if "download" in s.get("uses", ""))
    assert download["with"] == {"pattern": "dist-*", "merge-multiple": True, "path": "dist/"}
    # No job of the release workflow runs on a -latest alias.
    assert not [j for j, job in workflow.items() if job["runs-on"].endswith("-latest")]


def test_the_default_platforms_keep_the_two_jobs_they_had(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, "")
    assert [(j.id, j.runner) for j in build_jobs(config)] == [
        ("build-linux-x86_64", "ubuntu-24.04"),
        ("build-windows-amd64", "windows-2025"),
    ]


def test_cibuildwheel_jobs_follow_its_archs_and_selectors(tmp_path: Path) -> None:
    """archs "auto aarch64" on Linux: x86_64 (i686 is skipped by *i686), aarch64; macOS's
    auto: both Macs; Windows's auto: each runner's own, AMD64 (x86 skipped by *-win32) and
    ARM64."""
    config = cibuildwheel_project(tmp_path)
    assert [(j.id, j.nox_args) for j in build_jobs(config)] == [
        ("build-linux-x86_64", "-s build-linux -- --arch x86_64"),
        ("build-linux-aarch64", "-s build-linux -- --arch aarch64"),
        ("build-macos-x86_64", "-s build-macos -- --arch x86_64"),
        ("build-macos-arm64", "-s build-macos -- --arch arm64"),
        ("build-windows-amd64", "-s build-windows -- --arch AMD64"),
        ("build-windows-arm64", "-s build-windows -- --arch ARM64"),
    ]


def test_a_cibuildwheel_os_table_and_braces_are_read_as_cibuildwheel_reads_them(
    tmp_path: Path,
) -> None:
    package = CIBUILDWHEEL.replace('build = "cp312-*"', 'build = "cp3{12,13}-*"') + (
        '\n[tool.cibuildwheel.macos]\nskip = "*"\n'
    )
    config = cibuildwheel_project(tmp_path, package)
    assert [j.id for j in build_jobs(config)] == [
        "build-linux-x86_64",
        "build-linux-aarch64",
        "build-windows-amd64",
        "build-windows-arm64",
    ]


def test_listed_wheels_get_one_job_per_os_without_arch(tmp_path: Path) -> None:
    config = maturin_project(
        tmp_path, '[tool.release.wheels]\nlinux = ["cp39-abi3-manylinux*_x86_64"]\n'
        'macos = ["cp39-abi3-macosx_*_arm64"]\nwindows = []\n'
    )  # fmt: skip
    assert build_jobs(config) == [
        BuildJob("linux", None, "ubuntu-24.04"),
        BuildJob("macos", None, "macos-15"),
    ]


# --- check: the jobs against the expected set the backend derives -------------------------------


def expected_of(config: ReleaseConfig):  # type: ignore[no-untyped-def]
    console = Console(github=False, stream=io.StringIO(), environ={})
    ctx = run_context(config, runner=Runner(console))
    return configured_set(config) or backend_for(config).expected_wheels(ctx)


def judged(config: ReleaseConfig, text: str) -> list[tuple[str, str]]:
    findings = coverage(expected_of(config), jobs_of(text), "release.yml",
                        stages_building_all=False)  # fmt: skip
    return [(f.level, f.message) for f in findings]


def test_the_generated_jobs_cover_cibuildwheels_own_identifiers(tmp_path: Path) -> None:
    """The real cibuildwheel lists the identifiers (musllinux among them); the jobs the
    configuration alone made build every one of their platforms."""
    config = cibuildwheel_project(tmp_path)
    expected = expected_of(config)
    names = {p.name for p in expected.platforms}
    assert {"musllinux_aarch64", "manylinux_x86_64", "macosx_arm64", "win_amd64"} <= names
    assert "manylinux_i686" not in names and "win32" not in names
    assert judged(config, release_workflow(config)) == [
        (INFO, "6 build job(s) cover the 8 platform(s) of the expected set")
    ]


def test_a_platform_no_job_builds_is_an_error_naming_the_job_to_add(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, EVERY_PLATFORM)
    text = release_workflow(config)
    workflow = YAML(typ="safe").load(io.StringIO(text))
    del workflow["jobs"]["build-linux-aarch64"]
    findings = coverage(expected_of(config), workflow["jobs"], "release.yml",
                        stages_building_all=False)  # fmt: skip
    assert [(f.level, f.message, f.remedy) for f in findings] == [
        (ERROR, "no job builds manylinux_aarch64: the release would lack its wheels",
         "add a job that runs `nox -s build-linux -- --arch aarch64 on ubuntu-24.04-arm` "
         "(`nox-release workflows --write` writes the jobs the configuration makes)."),
        (ERROR, "no job builds musllinux_aarch64: the release would lack its wheels",
         "add a job that runs `nox -s build-linux -- --arch aarch64 on ubuntu-24.04-arm` "
         "(`nox-release workflows --write` writes the jobs the configuration makes)."),
    ]  # fmt: skip


def test_a_job_for_an_architecture_the_project_does_not_build_is_an_error(
    tmp_path: Path,
) -> None:
    config = maturin_project(tmp_path, "")
    text = release_workflow(config).replace("--arch x86_64", "--arch riscv64")
    found = judged(config, text)
    assert (ERROR, "no job builds manylinux_x86_64: the release would lack its wheels") in found
    assert (
        ERROR,
        "job build-linux-x86_64 runs build-linux --arch riscv64, and the project builds no "
        "linux wheels for it (its linux architectures: x86_64): the stage would refuse it",
    ) in found


def test_an_arch_job_on_a_latest_alias_is_told_to_name_its_runner(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, "")
    text = release_workflow(config).replace("runs-on: windows-2025", "runs-on: windows-latest")
    assert judged(config, text)[0] == (
        WARNING,
        "job build-windows-amd64 builds windows AMD64 on windows-latest, an alias GitHub "
        "moves to newer images (macos-latest once changed architecture)",
    )


def test_an_old_job_per_os_still_covers_what_its_runner_builds(tmp_path: Path) -> None:
    """A workflow written before the fan-out: build-linux on ubuntu-latest, no --arch. It
    builds x86_64 Linux; an aarch64 platform added later is reported."""
    old = (
        "jobs:\n  build-linux:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: nox -s build-linux\n  build-windows:\n    runs-on: windows-latest\n"
        "    steps:\n      - run: nox -s build-windows\n"
    )
    assert judged(maturin_project(tmp_path / "a", ""), old) == [
        (INFO, "2 build job(s) cover the 2 platform(s) of the expected set")
    ]
    wider = maturin_project(tmp_path / "b", '[tool.release.linux]\narchs = ["x86_64", "aarch64"]\n')
    assert [m for _, m in judged(wider, old)] == [
        "no job builds manylinux_aarch64: the release would lack its wheels"
    ]


def test_an_architecture_without_a_github_runner_is_named_as_such(tmp_path: Path) -> None:
    config = maturin_project(tmp_path, '[tool.release.linux]\narchs = ["x86_64", "ppc64le"]\n')
    assert [j.id for j in build_jobs(config)] == ["build-linux-x86_64", "build-windows-amd64"]
    found = coverage(expected_of(config), jobs_of(release_workflow(config)), "release.yml",
                     stages_building_all=False)  # fmt: skip
    assert [(f.level, f.message) for f in found] == [
        (ERROR, "no job builds manylinux_ppc64le, and no GitHub-hosted runner is ppc64le: "
         "only emulation (QEMU) would build it"),
    ]  # fmt: skip


@pytest.mark.parametrize("delete", [None, "build-macos-arm64"])
def test_check_reports_the_coverage_of_the_release_workflow(
    tmp_path: Path, delete: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check stage, in-process, on a project whose release workflow is the generated
    one, then with one job deleted by hand."""
    from test_workflows import run_check

    from release.workflows.generate import workflows

    config = maturin_project(
        tmp_path, EVERY_PLATFORM + '\n[tool.release.publish]\nenvironment = "pypi"\n'
    )
    write_text(config.package_dir / "src" / "lib.rs", "")
    for path, text in workflows(config).items():
        write_text(path, text)
    if delete:
        path = config.project_root / ".github" / "workflows" / "release.yml"
        workflow = YAML()
        data = workflow.load(path)
        del data["jobs"][delete]
        data["jobs"]["validate"]["needs"].remove(delete)
        workflow.dump(data, path)
    code, record, out = run_check(config.project_root, capsys)
    coverage_findings = [f for f in record["findings"] if f["check"] == "build-jobs"]
    if delete is None:
        assert [f["level"] for f in coverage_findings] == [INFO], out
        assert "6 build job(s) cover the 8 platform(s)" in coverage_findings[0]["message"]
    else:
        assert code != 0
        assert [f["message"] for f in coverage_findings] == [
            "no job builds macosx_arm64: the release would lack its wheels"
        ]


# --- a large cibuildwheel set split by Python ----------------------------------------------------

# Pythons cibuildwheel 2.x (installed on Python 3.9, the compat session) knows too.
SPLIT = CIBUILDWHEEL.replace('build = "cp312-*"', 'build = "cp3{11,12,13}-*"') + (
    "\n[tool.cibuildwheel.macos]\narchs = []\n[tool.cibuildwheel.windows]\narchs = []\n"
)


def split_project(tmp_path: Path) -> ReleaseConfig:
    return release_project(
        tmp_path / "project", '[tool.release.ci]\nsplit-builds = "python"\n', SPLIT
    )


def test_split_by_python_makes_a_job_per_runner_arch_and_python(tmp_path: Path) -> None:
    config = split_project(tmp_path)
    jobs = [(j.id, j.runner, j.nox_args) for j in build_jobs(config)]
    assert jobs == [
        (f"build-linux-{arch}-cp3{m}", runner, f"-s build-linux -- --arch {arch} --python 3.{m}")
        for arch, runner in (("x86_64", "ubuntu-24.04"), ("aarch64", "ubuntu-24.04-arm"))
        for m in (11, 12, 13)
    ]
    workflow = jobs_of(release_workflow(config))
    assert [j for j in workflow if j.startswith("build-")] == [j for j, _, _ in jobs]
    # The real cibuildwheel's identifiers are covered, job by job.
    assert judged(config, release_workflow(config)) == [
        (INFO, "6 build job(s) cover the 4 platform(s) of the expected set")
    ]


def test_a_python_no_job_builds_is_named_with_its_job(tmp_path: Path) -> None:
    config = split_project(tmp_path)
    text = release_workflow(config)
    workflow = YAML(typ="safe").load(io.StringIO(text))
    del workflow["jobs"]["build-linux-aarch64-cp313"]
    found = coverage(expected_of(config), workflow["jobs"], "release.yml",
                     stages_building_all=False)  # fmt: skip
    assert [(f.level, f.message, f.remedy) for f in found] == [
        (ERROR, f"no job builds Python 3.13 of {libc}_aarch64: the release would lack its "
         "wheels", "add a job that runs `nox -s build-linux -- --arch aarch64 --python 3.13 "
         "on ubuntu-24.04-arm` (`nox-release workflows --write` writes the jobs the "
         "configuration makes).")
        for libc in ("manylinux", "musllinux")
    ]  # fmt: skip


def test_split_builds_is_refused_for_a_backend_that_builds_pythons_in_one_run(
    tmp_path: Path,
) -> None:
    from release.errors import ConfigValueError

    with pytest.raises(ConfigValueError) as info:
        maturin_project(tmp_path, '[tool.release.ci]\nsplit-builds = "python"\n')
    assert "the maturin backend builds a platform's Pythons in one run" in info.value.cause
    with pytest.raises(ConfigValueError) as info:
        release_project(tmp_path / "b", '[tool.release.ci]\nsplit-builds = "pythons"\n', SPLIT)
    assert "split-builds = 'pythons'" in info.value.cause


def test_python_narrows_cibuildwheels_own_listing(tmp_path: Path) -> None:
    """--python 3.13: the real cibuildwheel, given project-requires-python, lists only that
    Python's identifiers of the project's selection; the stage's plan is those."""
    import dataclasses

    from release.build_plan import narrowed_to_python

    config = split_project(tmp_path)
    console = Console(github=False, stream=io.StringIO(), environ={})
    ctx = dataclasses.replace(run_context(config, runner=Runner(console)), python="3.13")
    narrowed = narrowed_to_python(ctx)
    builds = sorted(w.build for w in backend_for(config).expected_wheels(narrowed).wheels)
    assert builds == [
        "cp313-manylinux_aarch64", "cp313-manylinux_x86_64",
        "cp313-musllinux_aarch64", "cp313-musllinux_x86_64",
    ]  # fmt: skip
    full = backend_for(config).expected_wheels(ctx)
    assert {"cp311-manylinux_x86_64", "cp312-musllinux_aarch64"} <= {w.build for w in full.wheels}


@pytest.mark.parametrize(
    ("python", "cause"),
    [
        ("3.10", "the project's requires-python (>=3.11) excludes it"),
        ("312", "is not a Python version as a matrix names it"),
    ],
)
def test_a_python_the_project_cannot_build_is_refused(
    tmp_path: Path, python: str, cause: str
) -> None:
    import dataclasses

    from release.build_plan import narrowed_to_python
    from release.errors import ConfigValueError

    ctx = dataclasses.replace(run_context(split_project(tmp_path)), python=python)
    with pytest.raises(ConfigValueError) as info:
        narrowed_to_python(ctx)
    assert cause in info.value.cause


def test_a_python_job_writes_a_record_of_its_own(tmp_path: Path) -> None:
    from release.records import StageRecord, read_stage_records, write_record

    dist = tmp_path / "dist"
    for python in ("3.12", "3.13"):
        write_record(dist, StageRecord("build-linux", arch="x86_64", python=python))
    names = sorted(p.name for p in (dist / ".release").glob("*.json"))
    assert names == ["build-linux.x86_64.cp312.json", "build-linux.x86_64.cp313.json"]
    records, damaged = read_stage_records(dist, ["build-linux"])
    assert (sorted(records), damaged) == (
        ["build-linux -- --arch x86_64 --python 3.12",
         "build-linux -- --arch x86_64 --python 3.13"], {},
    )  # fmt: skip


def test_build_jobs_set_up_the_pythons_a_native_maturin_build_needs(tmp_path: Path) -> None:
    """A free-threaded abi3 crate: the abi3 wheel builds with the Python that runs nox, the
    free-threaded ones need their own interpreters on the runner; before, the jobs set up
    3.12 alone and a tag push (validate --strict) failed on the missing cp314t wheels."""
    config = maturin_project(tmp_path, EVERY_PLATFORM)
    threaded = maturin_project(
        tmp_path / "ft", EVERY_PLATFORM.replace("[tool.release.linux]",
                                                "free-threaded = true\n\n[tool.release.linux]")
    )  # fmt: skip
    assert {job.interpreters for job in build_jobs(config)} == {()}
    jobs = build_jobs(threaded)
    assert {job.interpreters for job in jobs} == {("3.14t", "3.15t")}
    steps = jobs_of(release_workflow(threaded))["build-macos-arm64"]["steps"]
    setup = next(s for s in steps if "setup-python" in s.get("uses", ""))
    assert setup["with"]["python-version"].split() == ["3.14t", "3.15t", "3.12"]  # nox: last
