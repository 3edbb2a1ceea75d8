"""Faults a CI runner or a terminal produces, provoked for real, and bad input, table-driven.

Real signals to real process groups during a real (slowed) build, a read-only bind mount, a
full tmpfs, a closed stdout pipe. Every case asserts the exit code, that the message says what
is wrong and what to do, that no traceback is printed, that no artifact changed (sha256
before and after), and that nothing is left behind (no scratch directory, no stray file).
Mounting needs root; CI runs as root, and where it is not root these tests say why they skip.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO, TINY_PYPROJECT, run_release, tiny_project, write_text

ROOT_ONLY = pytest.mark.skipif(
    os.geteuid() != 0, reason="mounting a read-only or full filesystem needs root (CI is root)"
)

# A PEP 517 backend inside the project that builds nothing for a long time: the build stage is
# running a real tool, several processes deep, when the signal arrives. It writes its pid first.
SLOW_BACKEND = """\
import os, time
from pathlib import Path

def _wait():
    Path(os.environ["SLOW_BUILD_PID_FILE"]).write_text(str(os.getpid()))
    time.sleep(120)

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _wait()

def build_sdist(sdist_directory, config_settings=None):
    _wait()
"""


def snapshot(directory: Path) -> dict[str, str]:
    """sha256 of every file under ``directory`` but the stage records, by relative path."""
    if not directory.exists():
        return {}
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and ".release" not in p.relative_to(directory).parts
    }


def debris(project: Path, dist: Path) -> list[str]:
    """What a run may never leave behind: scratch directories, half files."""
    left = [
        p.name
        for p in project.iterdir()
        if p.name.startswith(".") and p.is_dir() and p.name != ".github"
    ]
    left += [str(p) for p in (dist / ".release").glob("tmp")] if dist.exists() else []
    left += [p.name for p in dist.glob(".*.partial")] if dist.exists() else []
    return left


def assert_clean_failure(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    output = proc.stdout + proc.stderr
    assert proc.returncode == code, output
    assert "Traceback" not in output
    assert "this is a bug in nox-release" not in output
    assert "what to do:" in proc.stdout.lower(), output  # every error says what to do
    for needle in needles:
        assert needle in output, output


# --- signals ---------------------------------------------------------------------------------


@dataclass
class SlowBuild:
    project: Path
    dist: Path
    pid_file: Path


@pytest.fixture
def slow_build(tmp_path: Path) -> SlowBuild:
    project = tiny_project(tmp_path)
    pyproject = TINY_PYPROJECT.replace(
        'requires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"',
        'requires = []\nbuild-backend = "slow_backend"\nbackend-path = ["."]',
    )
    write_text(project / "pyproject.toml", pyproject)
    write_text(project / "slow_backend.py", SLOW_BACKEND)
    dist = project / "dist"
    dist.mkdir()
    (dist / "tiny-0.9-py3-none-any.whl").write_bytes(b"an earlier release: keep it")
    return SlowBuild(project, dist, tmp_path / "backend.pid")


def start(argv: list[str], build: SlowBuild) -> subprocess.Popen[str]:
    """``argv`` in a process group of its own, as a terminal runs a command."""
    env = dict(os.environ, PYTHONPATH=str(REPO), SLOW_BUILD_PID_FILE=str(build.pid_file))
    for name in ("GITHUB_ACTIONS", "GITHUB_REF", "GITHUB_STEP_SUMMARY"):
        env.pop(name, None)
    return subprocess.Popen(
        argv,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for_backend(build: SlowBuild, proc: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + 120
    while not build.pid_file.exists():
        assert proc.poll() is None, proc.communicate()[0]
        assert time.monotonic() < deadline, "the slow build never started"
        time.sleep(0.1)
    time.sleep(0.2)
    return int(build.pid_file.read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone for our purposes.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][:1] != "Z"


@pytest.mark.parametrize(
    ("how", "code", "name"),
    [
        ("killpg", signal.SIGINT, "SIGINT"),  # Ctrl-C in a terminal: the whole group
        ("kill", signal.SIGINT, "SIGINT"),  # to nox-release alone
        ("kill", signal.SIGTERM, "SIGTERM"),  # a cancelled CI job, `timeout`, `docker stop`
        ("killpg", signal.SIGTERM, "SIGTERM"),
    ],
)
def test_a_signal_during_a_build_stops_it_cleanly(
    slow_build: SlowBuild, how: str, code: int, name: str
) -> None:
    before = snapshot(slow_build.dist)
    argv = [sys.executable, "-m", "release", "build-linux", "--project", str(slow_build.project)]
    proc = start(argv, slow_build)
    backend = wait_for_backend(slow_build, proc)
    (os.killpg if how == "killpg" else os.kill)(proc.pid, code)
    output, _ = proc.communicate(timeout=60)

    assert proc.returncode == 128 + code, output
    assert f"interrupted by {name}" in output
    assert "what to do:" in output and "Traceback" not in output
    assert "exited with status" not in output  # an interruption, not a failed build
    assert not alive(backend), "the build tool outlived the interruption"
    assert snapshot(slow_build.dist) == before
    assert debris(slow_build.project, slow_build.dist) == []
    record = json.loads((slow_build.dist / ".release" / "build-linux.json").read_text())
    assert record["status"] == "interrupted" and name in record["reason"]


def test_ctrl_c_stops_the_dry_run_at_once(slow_build: SlowBuild) -> None:
    argv = [sys.executable, "-m", "release", "release", "--project", str(slow_build.project),
            "--dist", str(slow_build.dist.parent / "dry")]  # fmt: skip
    proc = start(argv, slow_build)
    backend = wait_for_backend(slow_build, proc)
    os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert "interrupted by SIGINT" in output
    # No stage ran after the interrupted one.
    assert "==> build-windows" not in output and "==> validate" not in output
    assert not (slow_build.dist.parent / "dry" / ".release" / "build-windows.json").exists()
    assert not alive(backend)
    assert debris(slow_build.project, slow_build.dist.parent / "dry") == []


@pytest.mark.e2e  # nox is installed in the tests session, not in compat
def test_ctrl_c_to_nox_stops_the_stage_and_its_tools(
    slow_build: SlowBuild, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The way a maintainer meets it: `nox -s build-linux`, then Ctrl-C in the terminal."""
    envdir = tmp_path_factory.mktemp("nox-envs")
    argv = [sys.executable, "-m", "nox", "--noxfile", str(REPO / "noxfile.py"),
            "--envdir", str(envdir), "-s", "build-linux", "--",
            "--project", str(slow_build.project)]  # fmt: skip
    before = snapshot(slow_build.dist)
    proc = start(argv, slow_build)
    backend = wait_for_backend(slow_build, proc)
    os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "interrupted by SIGINT" in output, output
    assert "exited with status" not in output
    assert not alive(backend)
    assert snapshot(slow_build.dist) == before
    assert debris(slow_build.project, slow_build.dist) == []


def test_a_scratch_dir_left_by_sigkill_is_removed_by_the_next_run(slow_build: SlowBuild) -> None:
    argv = [sys.executable, "-m", "release", "build-linux", "--project", str(slow_build.project)]
    proc = start(argv, slow_build)
    backend = wait_for_backend(slow_build, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # nothing can clean up after this
    os.kill(backend, signal.SIGKILL)
    proc.communicate(timeout=60)
    (left,) = (slow_build.dist / ".release" / "tmp").iterdir()
    assert left.name.startswith("build-linux-")
    # The next stage, of any kind, removes it; the dist dir is otherwise untouched.
    proc = run_release("build-windows", "--project", str(slow_build.project))
    assert proc.returncode == 0, proc.stdout
    assert debris(slow_build.project, slow_build.dist) == []


# --- the machine's faults ----------------------------------------------------------------------


@contextmanager
def mounted(*argv: str) -> Iterator[None]:
    subprocess.run(["mount", *argv], check=True)
    try:
        yield
    finally:
        subprocess.run(["umount", argv[-1]], check=True)


@contextmanager
def read_only_copy(source: Path, target: Path) -> Iterator[Path]:
    """``source`` seen read-only at ``target`` (a bind mount), as a downloaded artifact on a
    read-only volume."""
    target.mkdir()
    with mounted("--bind", str(source), str(target)):
        subprocess.run(["mount", "-o", "remount,bind,ro", str(target)], check=True)
        yield target


@pytest.fixture
def built_tiny(tmp_path: Path) -> tuple[Path, Path]:
    """A tiny project and a dist dir its build stages filled (real wheel and sdist)."""
    project = tiny_project(tmp_path)
    for stage in ("build-linux", "sdist"):
        proc = run_release(stage, "--project", str(project))
        assert proc.returncode == 0, proc.stdout
    return project, project / "dist"


@ROOT_ONLY
def test_validate_of_a_read_only_download_keeps_its_verdict(
    built_tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    project, dist = built_tiny
    with read_only_copy(dist, tmp_path / "downloaded") as downloaded:
        before = snapshot(downloaded)
        proc = run_release("validate", "--project", str(project), "--dist", str(downloaded))
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output
        assert "Traceback" not in output
        assert "could not go into the dist dir" in output and "Read-only file system" in output
        record_at = Path(output.split("it is in ")[1].split(" (choose")[0])
        assert json.loads(record_at.read_text())["status"] == "ok"
        # Chosen by the user instead:
        chosen = tmp_path / "records"
        proc = run_release("validate", "--project", str(project), "--dist", str(downloaded),
                           "--record-dir", str(chosen))  # fmt: skip
        assert proc.returncode == 0, proc.stdout
        assert json.loads((chosen / "validate.json").read_text())["status"] == "ok"
        assert "could not go into" not in proc.stdout
        assert snapshot(downloaded) == before


@ROOT_ONLY
def test_a_build_into_a_read_only_dist_dir_says_so(
    built_tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    project, dist = built_tiny
    with read_only_copy(dist, tmp_path / "ro") as read_only:
        before = snapshot(read_only)
        proc = run_release("build-linux", "--project", str(project), "--dist", str(read_only))
        assert_clean_failure(proc, 26, "not writable", "Read-only file system")
        assert snapshot(read_only) == before


@ROOT_ONLY
def test_a_full_disk_is_named_as_such(built_tiny: tuple[Path, Path], tmp_path: Path) -> None:
    project, _ = built_tiny
    small = tmp_path / "small"
    small.mkdir()
    with mounted("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(small)):
        dist = small / "dist"
        (dist / ".release").mkdir(parents=True)
        # Fill the disk, leaving too little for a wheel.
        fd = os.open(small / "filler", os.O_WRONLY | os.O_CREAT)
        with pytest.raises(OSError, match="No space left"):
            while True:
                os.write(fd, b"\0" * 4096)
        os.close(fd)
        before = snapshot(dist)
        proc = run_release("build-linux", "--project", str(project), "--dist", str(dist))
        assert_clean_failure(proc, 25, "disk is full")
        assert snapshot(dist) == before
        assert debris(project, dist) == []


def test_the_records_dir_being_a_file_is_a_dist_dir_error(built_tiny: tuple[Path, Path]) -> None:
    project, dist = built_tiny
    shutil.rmtree(dist / ".release")
    (dist / ".release").write_text("not a directory")
    before = snapshot(dist)
    proc = run_release("sdist", "--project", str(project))
    assert_clean_failure(proc, 24, ".release is a file")
    assert snapshot(dist) == before


@pytest.mark.parametrize("summary", ["missing-dir/summary.md", "."])
def test_an_unwritable_step_summary_is_a_warning_not_a_failure(
    built_tiny: tuple[Path, Path], tmp_path: Path, summary: str
) -> None:
    project, _dist = built_tiny
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / summary)}
    proc = run_release("validate", "--project", str(project), env=env)
    assert proc.returncode == 0, proc.stdout
    (warning,) = [line for line in proc.stdout.splitlines() if "GITHUB_STEP_SUMMARY" in line]
    assert warning.startswith("::warning::") and "What to do:" in warning
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_closed_stdout_does_not_lose_the_record(built_tiny: tuple[Path, Path]) -> None:
    """`validate | head -1`: the reader goes away after one line."""
    project, dist = built_tiny
    (dist / ".release" / "validate.json").unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "release", "validate", "--project", str(project)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, stderr
    assert "BrokenPipeError" not in stderr and "Traceback" not in stderr
    assert json.loads((dist / ".release" / "validate.json").read_text())["status"] == "ok"


# --- stdout closed (>&-) or full (> /dev/full) ---------------------------------------------------


@pytest.fixture(scope="module")
def validated_tiny_for_stdout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built and validated tiny project, shared: each case below rewrites only its own
    stage's record."""
    project = tiny_project(tmp_path_factory.mktemp("stdout"))
    for stage in ("build-linux", "sdist", "validate"):
        proc = run_release(stage, "--project", str(project))
        assert proc.returncode == 0, proc.stdout
    return project


def run_without_stdout(argv: list[str], how: str) -> subprocess.CompletedProcess[str]:
    """``python -m release ARGV`` with its stdout closed, as ``>&-`` leaves it, or on a
    device that is always full."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for name in ("GITHUB_ACTIONS", "GITHUB_REF", "GITHUB_STEP_SUMMARY"):
        env.pop(name, None)
    command = [sys.executable, "-m", "release", *argv]
    if how == "closed":
        return subprocess.run(
            ["sh", "-c", 'exec "$@" >&-', "sh", *command],
            cwd=REPO, env=env, stderr=subprocess.PIPE, text=True, check=False, timeout=600,
        )  # fmt: skip
    with Path("/dev/full").open("w") as full:
        return subprocess.run(
            command, cwd=REPO, env=env, stdout=full, stderr=subprocess.PIPE, text=True,
            check=False, timeout=600,
        )  # fmt: skip


STDOUT_FAULTS = ["closed", "full"]
STAGES_WITHOUT_STDOUT = [
    ["validate"], ["check"], ["publish", "--dry-run"], ["github-release", "--dry-run"]
]  # fmt: skip


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("how", STDOUT_FAULTS)
@pytest.mark.parametrize("argv", STAGES_WITHOUT_STDOUT, ids=lambda argv: argv[0])
def test_a_stage_without_stdout_does_its_work(
    validated_tiny_for_stdout: Path, argv: list[str], how: str
) -> None:
    project = validated_tiny_for_stdout
    record_path = project / "dist" / ".release" / f"{argv[0]}.json"
    record_path.unlink(missing_ok=True)
    proc = run_without_stdout([*argv, "--project", str(project)], how)
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
    record = json.loads(record_path.read_text())
    # The exit code is the stage's own: 0 when it did what it does, else its error's code.
    own = record["error"]["exit_code"] if record["error"] else 0
    assert proc.returncode == own, (record, proc.stderr)
    assert record["status"] in ("ok", "skipped"), record


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("how", STDOUT_FAULTS)
def test_init_without_stdout_writes_every_file(tmp_path: Path, how: str) -> None:
    root = tmp_path / "repo"
    write_text(root / "pyproject.toml", TINY_PYPROJECT[: TINY_PYPROJECT.index("[tool.release]")])
    write_text(root / "tiny" / "__init__.py", "")
    write_text(root / "README.md", "# tiny\n")
    proc = run_without_stdout(["init", "--project", str(root), "--from", str(REPO)], how)
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert "[tool.release]" in (root / "pyproject.toml").read_text()
    workflows = (".github/workflows/release.yml", ".github/workflows/release-dry-run.yml")
    for written in ("noxfile.py", *workflows):
        assert (root / written).is_file(), written


def test_a_stage_failing_without_stdout_exits_with_its_own_code(tmp_path: Path) -> None:
    """Not 0, and not the exit code of a crash: validate's own 30 for a dist dir it refuses."""
    project = tiny_project(tmp_path)
    (project / "dist").mkdir()
    (project / "dist" / "tiny-1.0-py3-none-any.whl").write_bytes(b"not a zip")
    proc = run_without_stdout(["validate", "--project", str(project)], "closed")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 30, proc.stderr
    record = json.loads((project / "dist" / ".release" / "validate.json").read_text())
    assert record["status"] == "failed" and record["error"]["exit_code"] == 30


# --- an immutable dist dir (chattr +i), and records that can go nowhere -------------------------


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    """``chattr +i path``: not even root may change it; EPERM, which no chmod explains."""
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i does not work here: {made.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


CHATTR = pytest.mark.skipif(
    shutil.which("chattr") is None or os.geteuid() != 0, reason="chattr +i needs root"
)


@CHATTR
def test_a_build_into_an_immutable_dist_dir_names_it_and_chattr(
    built_tiny: tuple[Path, Path],
) -> None:
    project, dist = built_tiny
    before = snapshot(dist)
    with immutable(dist):
        proc = run_release("sdist", "--project", str(project))
    assert_clean_failure(proc, 26, f"{dist} is not writable (Operation not permitted)",
                         "chattr -i")  # fmt: skip
    (error,) = [line for line in proc.stdout.splitlines() if line.startswith("error:")]
    assert ".release/tmp" not in error  # the dist dir refuses, not the scratch file
    assert snapshot(dist) == before
    assert debris(project, dist) == []


@CHATTR
def test_the_dry_run_on_an_immutable_dist_dir_is_not_a_bug(built_tiny: tuple[Path, Path]) -> None:
    project, dist = built_tiny
    before = snapshot(dist)
    with immutable(dist):
        proc = run_release("release", "--project", str(project))
    assert_clean_failure(proc, 26, "while clearing the dist dir for the dry run", "chattr -i")
    assert snapshot(dist) == before


def test_a_record_that_can_be_written_nowhere_fails_the_stage(
    built_tiny: tuple[Path, Path], tmp_path: Path
) -> None:
    project, dist = built_tiny
    (dist / ".release" / "validate.json").unlink(missing_ok=True)
    (dist / ".release" / "validate.json").mkdir()  # the dist dir cannot take it
    cache = tmp_path / "cache"
    cache.write_text("a file, where the cache directory would be")  # nor can the cache
    proc = run_release("validate", "--project", str(project), env={"NOX_RELEASE_CACHE": str(cache)})
    assert_clean_failure(proc, 24, "the validate record could not be written")
    assert "<== validate: ok" in proc.stdout  # the verdict was reached, and is lost


def test_records_dir_that_is_a_file_is_said_once(built_tiny: tuple[Path, Path]) -> None:
    project, dist = built_tiny
    shutil.rmtree(dist / ".release")
    (dist / ".release").write_text("not a directory")
    for argv in (["validate"], ["publish", "--dry-run"], ["github-release", "--dry-run"]):
        proc = run_release(*argv, "--project", str(project))
        assert_clean_failure(proc, 24, ".release is a file")
        assert proc.stdout.count("is a file") == 1, proc.stdout
        assert "damaged" not in proc.stdout and "download" not in proc.stdout


@CHATTR
def test_init_into_an_immutable_repository_names_it_not_a_temporary_file(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_text(root / "pyproject.toml", TINY_PYPROJECT[: TINY_PYPROJECT.index("[tool.release]")])
    write_text(root / "tiny" / "__init__.py", "")
    write_text(root / "README.md", "# tiny\n")
    with immutable(root):
        proc = run_release("init", "--project", str(root), "--from", str(REPO))
    assert_clean_failure(proc, 26, f"{root} is not writable (Operation not permitted) while "
                         "writing pyproject.toml", "chattr -i")  # fmt: skip
    assert ".pyproject.toml." not in proc.stdout  # the temporary file is no concern of the user
    assert "--dist" not in proc.stdout and "--record-dir" not in proc.stdout  # init has neither
    assert "[tool.release]" not in (root / "pyproject.toml").read_text()
