"""The command line: shared options, project/tag discovery, exit codes, and a full dry run."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Release, run_release, tiny_project

from release import __version__, cli
from release.backends.base import BuildOutcome, Unavailable
from release.config import ReleaseConfig, read_toml
from release.console import Console
from release.context import RunContext, tag_from_environment
from release.errors import CommandFailedError
from release.stages import RELEASE_CHAIN, STAGES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def outside_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests decide themselves whether they run "in GitHub Actions"."""
    for name in ("GITHUB_ACTIONS", "GITHUB_REF", "GITHUB_STEP_SUMMARY", "RELEASE_PROJECT"):
        monkeypatch.delenv(name, raising=False)


def context(argv: list[str]) -> RunContext:
    args = cli.build_parser().parse_args(argv)
    return cli.make_context(args, Console(stream=io.StringIO(), environ={}))


# --- options ------------------------------------------------------------------------------


def test_every_stage_is_a_command_of_the_parser() -> None:
    parser = cli.build_parser()
    for stage in (*STAGES, "release"):
        assert parser.parse_args([stage]).stage == stage
    assert set(RELEASE_CHAIN) <= set(STAGES)
    # Every stage documented in the README is a command.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`python -m release ([a-z-]+)`", readme))
    assert documented, "the README lists the stages"
    assert documented <= set(STAGES) | {"release"}


@pytest.mark.parametrize("stage", cli.COMMANDS)
def test_every_stage_takes_the_same_options(stage: str) -> None:
    parser = cli.build_parser()
    args = parser.parse_args(
        [stage, "--project", "proj", "--dist", "out", "--tag", "v1.2.3", "--strict", "--verbose"]
    )
    assert args.stage == stage
    assert args.project == Path("proj")
    assert args.dist == Path("out")
    assert args.tag == "v1.2.3"
    assert args.strict is True
    assert args.verbose is True
    assert parser.parse_args([stage, "--no-strict", "-v"]).strict is False
    defaults = parser.parse_args([stage])
    assert (defaults.project, defaults.dist, defaults.tag) == (None, None, None)
    assert defaults.strict is None
    assert defaults.verbose is False


def test_unknown_stage_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["deploy"])
    assert info.value.code == 2
    assert "invalid choice: 'deploy'" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"nox-release {__version__}\n"


def test_version_of_the_installed_command() -> None:
    scripts = read_toml(ROOT / "pyproject.toml")["project"]["scripts"]
    assert scripts["nox-release"] == "release.cli:main"
    proc = subprocess.run(
        [sys.executable, "-m", "release", "--version"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert proc.stdout == f"nox-release {__version__}\n"


# --- which project, dist, tag ------------------------------------------------------------------


def test_release_project_is_used_without_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tiny_project(tmp_path)
    monkeypatch.setenv("RELEASE_PROJECT", str(project))
    monkeypatch.chdir(tmp_path)
    ctx = context(["sdist"])
    assert ctx.config.project_root == project.resolve()
    assert ctx.dist == project.resolve() / "dist"


def test_project_option_wins_over_release_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tiny_project(tmp_path)
    monkeypatch.setenv("RELEASE_PROJECT", str(tmp_path / "elsewhere"))
    assert context(["sdist", "--project", str(project)]).config.project_root == project.resolve()


def test_current_directory_is_the_default_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tiny_project(tmp_path)
    monkeypatch.chdir(project)
    assert context(["build-linux"]).config.project_root == project.resolve()


def test_dist_option_is_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tiny_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert context(["sdist", "--project", str(project), "--dist", "down"]).dist == (
        tmp_path.resolve() / "down"
    )


def test_tag_from_environment() -> None:
    assert tag_from_environment({"GITHUB_REF": "refs/tags/v1.0"}) == "v1.0"
    assert tag_from_environment({"GITHUB_REF": "refs/tags/release/2.0"}) == "release/2.0"
    assert tag_from_environment({"GITHUB_REF": "refs/heads/main"}) is None
    assert tag_from_environment({}) is None


def test_tag_and_strict_from_github_actions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = str(tiny_project(tmp_path))
    monkeypatch.setenv("GITHUB_REF", "refs/tags/v1.0")
    ctx = context(["sdist", "--project", project])
    assert ctx.tag == "v1.0"
    assert ctx.strict is False  # a tag, but not in Actions
    assert context(["sdist", "--project", project, "--tag", "v2.0"]).tag == "v2.0"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert context(["sdist", "--project", project]).strict is True
    assert context(["sdist", "--project", project, "--no-strict"]).strict is False
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")
    ctx = context(["sdist", "--project", project])
    assert (ctx.tag, ctx.strict) == (None, False)


# --- exit codes of a stage run in-process ----------------------------------------------------


class FailingBackend:
    name = "failing"

    def __init__(self, config: ReleaseConfig) -> None:
        self.config = config

    def unavailable(self, platform: str, ctx: RunContext) -> Unavailable | None:
        return None

    def tool_versions(self, platform: str | None, ctx: RunContext) -> dict[str, str]:
        return {}

    def build_wheels(self, platform: str, ctx: RunContext, out: Path) -> BuildOutcome:
        ctx.runner.run([sys.executable, "-c", "raise SystemExit(7)"], why="building")
        return BuildOutcome()

    def build_sdist(self, ctx: RunContext, out: Path) -> None:
        raise AssertionError("not called")


def test_a_failing_stage_exits_with_its_error_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("release.stages.build.backend_for", FailingBackend)
    project = tiny_project(tmp_path)
    assert cli.main(["build-linux", "--project", str(project)]) == CommandFailedError.exit_code
    out = capsys.readouterr().out
    assert "error: build-linux: " in out
    assert "exited with status 7 while building" in out
    assert "Traceback" not in out
    record = json.loads((project / "dist" / ".release" / "build-linux.json").read_text())
    assert record["status"] == "failed"


def test_a_skipped_stage_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tiny_project(tmp_path)
    assert cli.main(["build-windows", "--project", str(project)]) == 0
    assert "build-windows: not shipped" in capsys.readouterr().out


# --- the whole dry run, as a user runs it ----------------------------------------------------


def test_release_dry_run_of_a_pure_project(tmp_path: Path) -> None:
    project = tiny_project(tmp_path)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GITHUB_") and key != "RELEASE_PROJECT"
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "release", "release", "--project", str(project)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Traceback" not in output

    dist = project / "dist"
    files = sorted(p.name for p in dist.iterdir() if p.is_file())
    assert files == ["tiny-1.0-py3-none-any.whl", "tiny-1.0.tar.gz"]
    # no scratch directory left, in the project or in the dist dir
    assert [p.name for p in project.iterdir() if p.name.startswith(".")] == [".github"]
    assert not (dist / ".release" / "tmp").exists()

    table = proc.stdout[proc.stdout.index("Release dry run summary") :].splitlines()
    assert re.fullmatch(r"stage\s+status\s+duration\s+artifacts", table[1])
    rows = {line.split()[0]: line for line in table[3:] if line and not line[0].isspace()}
    assert set(RELEASE_CHAIN) <= set(rows)
    size = r"\(\d+(\.\d)? (B|KiB)\)"
    assert re.fullmatch(
        rf"build-linux\s+ok\s+\d+\.\ds\s+tiny-1\.0-py3-none-any\.whl {size}", rows["build-linux"]
    )
    assert re.fullmatch(r"build-windows\s+not shipped\s+\d+\.\ds\s+-", rows["build-windows"])
    assert re.fullmatch(rf"sdist\s+ok\s+\d+\.\ds\s+tiny-1\.0\.tar\.gz {size}", rows["sdist"])
    # Each artifact is listed once, under the stage that made it; the later stages count them.
    for stage in ("validate", "publish", "github-release"):
        assert re.fullmatch(rf"{stage}\s+ok\s+\d+\.\ds\s+the 2 files above", rows[stage])
    assert "\n".join(table).count("tiny-1.0.tar.gz") == 1
    # An intentional choice is said once, plainly, and is no warning.
    assert proc.stdout.count("ships no windows wheels") == 1
    assert "warning:" not in proc.stdout
    assert "0 warning(s)" in proc.stdout

    records = {
        stage: json.loads((dist / ".release" / f"{stage}.json").read_text(encoding="utf-8"))
        for stage in RELEASE_CHAIN
    }
    statuses = {stage: record["status"] for stage, record in records.items()}
    assert statuses["build-linux"] == statuses["sdist"] == "ok"
    assert statuses["build-windows"] == "not shipped"
    assert "failed" not in statuses.values()
    for stage, name in (("build-linux", "tiny-1.0-py3-none-any.whl"), ("sdist", "tiny-1.0.tar.gz")):
        record = records[stage]
        data = (dist / name).read_bytes()
        assert record["artifacts"] == [
            {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        ]
        assert record["backend"] == "build"
        assert record["tool_versions"]["build"].startswith("build ")
        assert record["duration_s"] > 0
        kinds = ["--sdist", "--wheel"] if stage == "sdist" else ["--wheel"]  # the sdist builds
        assert [command["argv"][1:4] for command in record["commands"]] == [
            ["-m", "build", kind] for kind in kinds
        ]
        assert all(command["returncode"] == 0 for command in record["commands"])
    assert records["build-windows"]["artifacts"] == []
    assert records["build-windows"]["reason"]


def dry_run(project: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.pop("RELEASE_PROJECT", None)
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "release", "release", "--project", str(project)],
        cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_after_a_failed_build_the_dry_run_says_once_why_the_rest_cannot_run(
    tmp_path: Path,
) -> None:
    project = tiny_project(tmp_path)
    # A build backend of the project's own that builds the sdist but fails the wheel.
    pyproject = project / "pyproject.toml"
    # Its sdist builds no wheel either: sdist-check = false keeps this about build-linux.
    pyproject.write_text(
        pyproject.read_text()
        .replace(
            'build-backend = "setuptools.build_meta"',
            'build-backend = "broken_backend"\nbackend-path = ["."]',
        )
        .replace('backend = "build"\n', 'backend = "build"\nsdist-check = false\n')
    )
    (project / "broken_backend.py").write_text(
        "from setuptools.build_meta import *  # noqa: F403\n\n\n"
        "def build_wheel(*args, **kwargs):\n    raise SystemExit('no wheel today')\n"
    )
    job_summary = tmp_path / "summary.md"
    proc = dry_run(project, GITHUB_STEP_SUMMARY=str(job_summary))
    out = proc.stdout
    assert proc.returncode != 0 and "Traceback" not in out + proc.stderr
    assert "build-linux: failed" in out and "sdist: ok" in out
    markdown = job_summary.read_text()
    assert markdown.count("build-linux failed") == 1
    assert "`validate`, `publish`, `github-release`: not run\n\nbuild-linux failed" in markdown
    # Said once, for every stage that needs the failed one, and nothing else about them.
    assert out.count("build-linux failed") == 1, out
    assert "<== validate, publish, github-release: not run: build-linux failed" in out
    assert "==> validate" not in out and "no wheels" not in out and "did not pass" not in out
    table = out[out.index("Release dry run summary") :].splitlines()
    rows = {line.split()[0]: line for line in table[3:] if line and not line[0].isspace()}
    for stage in ("validate", "publish", "github-release"):
        assert re.fullmatch(rf"{stage}\s+not run\s+-\s+-", rows[stage])
    records = project / "dist" / ".release"
    assert not any(
        (records / f"{s}.json").exists() for s in ("validate", "publish", "github-release")
    )
    assert "the dry run failed at: build-linux." in out + proc.stderr


def test_a_failed_check_does_not_stop_the_builds(tmp_path: Path) -> None:
    project = tiny_project(tmp_path)
    (project / ".github" / "workflows" / "release.yml").write_text("on: [push\n")
    proc = dry_run(project)
    out = proc.stdout
    assert proc.returncode != 0 and "check: failed" in out
    assert "build-linux: ok" in out and "validate: ok" in out and "not run" not in out


def test_tool_that_is_not_a_table_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('tool = "x"\n', encoding="utf-8")
    proc = run_release("sdist", "--project", str(tmp_path))
    assert proc.returncode == 14, proc.stdout
    assert "tool in" in proc.stdout and "must be a table" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_dist_that_is_a_file_is_refused_before_any_stage(tmp_path: Path) -> None:
    project = tiny_project(tmp_path)
    artifact_zip = tmp_path / "dist-build-linux.zip"
    artifact_zip.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    proc = run_release("validate", "--project", str(project), "--dist", str(artifact_zip))
    assert proc.returncode == 24, proc.stdout
    assert "is a file, not a directory" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_validate_of_a_missing_dist_dir_creates_nothing(tmp_path: Path) -> None:
    project = tiny_project(tmp_path)
    typo = tmp_path / "dsit"
    proc = run_release("validate", "--project", str(project), "--dist", str(typo))
    assert proc.returncode == 24, proc.stdout
    assert "does not exist" in proc.stdout
    assert not typo.exists()


def test_verbose_shows_the_traceback_of_a_stage_error(tmp_path: Path) -> None:
    project = tiny_project(tmp_path)
    quiet = run_release("validate", "--project", str(project), "--dist", str(tmp_path / "x"))
    loud = run_release(
        "validate", "--project", str(project), "--dist", str(tmp_path / "x"), "--verbose"
    )
    assert "Traceback" not in quiet.stdout
    assert "Traceback" in loud.stdout and "DistDirError" in loud.stdout
    assert quiet.returncode == loud.returncode == 24


# --- each cause said once -----------------------------------------------------------------------


def test_a_truncated_wheel_gets_one_cause_and_one_advice(
    release: Release, capsys: pytest.CaptureFixture[str]
) -> None:
    (wheel,) = release.dist.glob("*.whl")
    data = wheel.read_bytes()
    wheel.write_bytes(data[: len(data) // 2])  # a download cut off halfway
    capsys.readouterr()
    assert cli.main(["validate", "--project", str(release.project)]) != 0
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if line.startswith("error: [")]
    assert errors == [f"error: [integrity] {wheel.name}: it is not a readable zip archive "
                      "(File is not a zip file)"], out  # fmt: skip
    assert "changed after it was built" not in out and "by hand" not in out
    findings = release.record("validate")["findings"]
    assert [f["check"] for f in findings if f["level"] == "error"] == ["integrity"]


def test_no_container_engine_is_said_by_build_linux_not_by_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The C example (cibuildwheel) with no container engine on PATH (Docker is in
    # /usr/local/bin here, and its daemon is not running); check's own tools (zizmor,
    # check-jsonschema) are beside this Python.
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"])
    )
    project = ROOT / "examples" / "cvec"
    assert cli.main(["check", "--project", str(project), "--dist", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "Podman" not in out and "host build" not in out, out


def test_an_interrupted_init_speaks_of_its_files_not_of_a_dist_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """init has no dist dir: interrupted, it says what is true of init (it puts back what it
    wrote), not a stage's "scratch files removed; the dist dir holds ..."."""
    import signal

    from release import init as init_module
    from release.errors import Interrupted

    def interrupted(*args: object, **kwargs: object) -> int:
        raise Interrupted(signal.SIGINT)

    monkeypatch.setattr(init_module, "init", interrupted)
    assert cli.main(["init", "--project", str(tmp_path)]) == 130
    out = capsys.readouterr().out
    assert "interrupted by SIGINT: the running tool was stopped and every file is as it was" in out
    assert "dist dir" not in out
    assert "run init again when you are ready" in out
