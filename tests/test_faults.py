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
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO, TINY_PYPROJECT, Release, run_release, tiny_project, write_text

from release.locking import HeldLock
from release.publish.rehearsal import INDEX_MODULE, PREFIX

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


@pytest.mark.parametrize("how", STDOUT_FAULTS)
def test_constraints_without_stdout_fails_rather_than_answer_nothing(how: str) -> None:
    """Its output is its answer (a noxfile passes it to pip -c): an empty one must not pass."""
    proc = run_without_stdout(["constraints"], how)
    assert proc.returncode == 39, proc.stderr
    assert "Traceback" not in proc.stderr
    answered = run_release("constraints")
    assert answered.returncode == 0
    assert Path(answered.stdout.strip()).is_file()


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
                         "init wrote pyproject.toml; nothing was written", "chattr -i")  # fmt: skip
    assert ".pyproject.toml." not in proc.stdout  # the temporary file is no concern of the user
    assert "--dist" not in proc.stdout and "--record-dir" not in proc.stdout  # init has neither
    assert "[tool.release]" not in (root / "pyproject.toml").read_text()


# --- the dry run's rehearsal: nothing left behind ---------------------------------------------

# What the rehearsal prints as it starts each step, and so where an interruption lands.
REHEARSAL_STEPS = {
    "index": " -m release.publish.local_index ",
    "upload": "uploading ",
    "venv": " -m venv ",
    "install": " -m pip install ",
    "import": "import_check.py",
}
UNREACHABLE = "http://127.0.0.1:9/legacy/"  # no plan: the rehearsal alone runs


def processes_marked(mark: str) -> list[str]:
    """Every live process whose environment holds ``mark``: what one run started."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if mark.encode() in environ.read_bytes() and alive(int(environ.parent.name)):
                command = (environ.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                found.append(command.decode(errors="replace"))
        except OSError:
            continue  # gone, or not ours to read
    return found


@dataclass
class Rehearsal:
    proc: subprocess.Popen[str]
    tmp: Path  # the run's TMPDIR: the rehearsal's directory and everything its tools write
    mark: str


def start_rehearsal(release: Release, tmp_path: Path) -> Rehearsal:
    tmp = tmp_path / "tmp"
    tmp.mkdir(parents=True)
    mark = f"nox-release-test-{uuid.uuid4().hex}"
    env = dict(os.environ, PYTHONPATH=str(REPO), TMPDIR=str(tmp), NOX_RELEASE_TEST_RUN=mark)
    argv = [sys.executable, "-m", "release", "publish", "--dry-run",
            "--project", str(release.project), "--repository", UNREACHABLE]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip
    return Rehearsal(proc, tmp, mark)


def interrupt_at(run: Rehearsal, step: str, after: float, how: str, sig: int) -> str:
    """Send ``sig`` ``after`` seconds into ``step``; all the run printed."""
    assert run.proc.stdout is not None
    seen = []
    for line in run.proc.stdout:
        seen.append(line)
        if REHEARSAL_STEPS[step] in line:
            break
    else:
        raise AssertionError(f"the rehearsal ended before {step}:\n{''.join(seen)}")
    time.sleep(after)
    (os.killpg if how == "killpg" else os.kill)(run.proc.pid, sig)
    rest, _ = run.proc.communicate(timeout=120)
    return "".join(seen) + rest


def assert_nothing_left(run: Rehearsal, output: str, sig: int) -> None:
    assert run.proc.returncode == 128 + sig, output
    assert f"interrupted by {signal.Signals(sig).name}" in output and "Traceback" not in output
    assert processes_marked(run.mark) == [], output
    assert sorted(p.name for p in run.tmp.iterdir()) == [], output


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds processes by /proc")
@pytest.mark.parametrize(
    "point",
    [
        ("index", 0.0, "killpg", signal.SIGINT),
        ("upload", 0.0, "kill", signal.SIGTERM),
        ("venv", 0.0, "killpg", signal.SIGTERM),
        ("venv", 2.5, "killpg", signal.SIGTERM),  # ensurepip's pip is running
        ("venv", 2.5, "killpg", signal.SIGINT),
        ("install", 0.2, "killpg", signal.SIGTERM),
        ("install", 0.3, "kill", signal.SIGTERM),
        ("import", 0.0, "killpg", signal.SIGINT),
    ],
)
def test_an_interrupted_rehearsal_leaves_no_process_and_no_file(
    release: Release, tmp_path: Path, point: tuple[str, float, str, int]
) -> None:
    step, after, how, sig = point
    run = start_rehearsal(release, tmp_path)
    try:
        output = interrupt_at(run, step, after, how, sig)
        assert_nothing_left(run, output, sig)
    finally:
        run.proc.kill()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds processes by /proc")
def test_interrupts_at_random_points_of_the_rehearsal(release: Release, tmp_path: Path) -> None:
    """$NOX_RELEASE_TEST_INTERRUPTS runs (3 by default), each interrupted at a random moment
    after the local index started; seeded by $NOX_RELEASE_TEST_SEED to replay a failure."""
    count = int(os.environ.get("NOX_RELEASE_TEST_INTERRUPTS", "3"))
    chance = random.Random(int(os.environ.get("NOX_RELEASE_TEST_SEED", "14")))
    hows = [("killpg", signal.SIGINT), ("kill", signal.SIGTERM), ("killpg", signal.SIGTERM)]
    for attempt in range(count):
        how, sig = hows[attempt % len(hows)]
        run = start_rehearsal(release, tmp_path / str(attempt))
        try:
            output = interrupt_at(run, "index", chance.uniform(0.0, 12.0), how, sig)
            if run.proc.returncode == 0:
                continue  # finished before the signal came
            assert_nothing_left(run, output, sig)
        finally:
            run.proc.kill()


def test_a_local_index_left_by_a_killed_run_is_stopped_by_the_next(
    release: Release, tmp_path: Path
) -> None:
    """What SIGKILL leaves where the kernel does not stop the children (not Linux, or the
    index a grandchild): a rehearsal directory whose run is gone, its index still listening.
    The next dry run stops that index and removes the directory; it leaves alone a process
    that is not such an index, and the directory of a run that is still alive."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    left = tmp / f"{PREFIX}killed"
    (left / "packages").mkdir(parents=True)
    (left / ".owner.lock").touch()  # its owner's lock, free now that the owner is dead
    index = subprocess.Popen(
        [sys.executable, "-m", INDEX_MODULE, str(left / "packages"), str(left / "index.pid")],
        env=dict(os.environ, PYTHONPATH=str(REPO), NOX_RELEASE_INDEX_TOKEN="x"),
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    assert index.stdout is not None
    port = int(index.stdout.readline().rsplit(":", 1)[1].strip("/\n"))
    # A directory whose pid file names a process that is no local index: never killed.
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    other = tmp / f"{PREFIX}other"
    other.mkdir()
    (other / ".owner.lock").touch()
    (other / "index.pid").write_text(f"{stranger.pid}\n")
    # A directory whose run lives: its lock is held.
    live = tmp / f"{PREFIX}live"
    live.mkdir()
    holder = HeldLock(live / ".owner.lock")
    assert holder.acquire()
    try:
        env = {"TMPDIR": str(tmp)}
        proc = run_release("publish", "--dry-run", "--project", str(release.project),
                           "--repository", UNREACHABLE, env=env)  # fmt: skip
        assert proc.returncode == 0, proc.stdout
        assert f"removed what a killed dry run left: {left} and its local index (pid " in (
            proc.stdout
        )
        assert index.wait(timeout=10) != 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        assert not left.exists() and not other.exists()
        assert stranger.poll() is None, "a process that is not ours was killed"
        assert live.is_dir()
        assert sorted(p.name for p in tmp.iterdir()) == [live.name]
    finally:
        holder.release()
        index.kill()
        stranger.kill()
        index.wait()
        stranger.wait()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds processes by /proc")
def test_a_dry_run_killed_outright_is_cleaned_up(release: Release, tmp_path: Path) -> None:
    """SIGKILL during the upload: no process of that run survives it (the kernel stops the
    local index with nox-release, on Linux), and the next dry run removes its directory."""
    run = start_rehearsal(release, tmp_path)
    try:
        assert run.proc.stdout is not None
        for line in run.proc.stdout:
            if REHEARSAL_STEPS["upload"] in line:  # the index is listening
                break
        os.kill(run.proc.pid, signal.SIGKILL)
        run.proc.wait(timeout=30)
        deadline = time.monotonic() + 5
        while processes_marked(run.mark) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_marked(run.mark) == []
        (left,) = run.tmp.iterdir()
        assert left.name.startswith(PREFIX)
        proc = run_release("publish", "--dry-run", "--project", str(release.project),
                           "--repository", UNREACHABLE, env={"TMPDIR": str(run.tmp)})  # fmt: skip
        assert proc.returncode == 0, proc.stdout
        assert f"removed what a killed dry run left: {left}\n" in proc.stdout
        assert list(run.tmp.iterdir()) == []
    finally:
        run.proc.kill()
