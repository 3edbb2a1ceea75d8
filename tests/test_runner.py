"""The runner: output capture, history, failures with their tail, missing tools, secrets, and
the children it starts: their own process group, signals, timeouts, stopping them."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from fake_processes import FakeProcesses, fake_runner

from release.console import Console
from release.datamodel import to_dict
from release.errors import CommandFailedError, TimeLimitError, ToolNotFoundError
from release.records import CommandRun, StageRecord
from release.runner import (
    DEFAULT_TIME_LIMIT,
    STOP_GRACE_S,
    TAIL_LINES,
    TIME_LIMIT_FACTOR_VARIABLE,
    TIME_LIMITS,
    CommandResult,
    Runner,
    child_env,
    stop_all,
    time_limit,
)

SECRET = "pypi-AgEIcHlwaS5vcmcCJGFiY2Q"


def make_runner(*, github: bool = False, verbose: bool = False) -> tuple[Runner, io.StringIO]:
    stream = io.StringIO()
    console = Console(github=github, verbose=verbose, stream=stream, environ={})
    return Runner(console), stream


def python(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def test_success_is_captured_and_recorded(tmp_path: Path) -> None:
    runner, stream = make_runner()
    argv = python("import os; print('hello'); print(os.getcwd())")
    result = runner.run(argv, cwd=tmp_path, why="saying hello")
    assert result.returncode == 0
    assert result.output.splitlines() == ["hello", str(tmp_path)]
    assert result.argv == tuple(argv)
    assert len(runner.history) == 1
    run = runner.history[0]
    assert isinstance(run, CommandRun)
    assert run.argv == tuple(argv)
    assert run.cwd == str(tmp_path)
    assert run.returncode == 0
    assert run.duration_s >= 0
    assert to_dict(run)["argv"] == argv
    # the stage record keeps it as it is, through JSON and back
    record = StageRecord(stage="build-linux", commands=list(runner.history))
    assert record.as_dict()["commands"] == [to_dict(run)]
    assert StageRecord.from_dict(record.as_dict()).commands == [run]
    printed = stream.getvalue()
    assert f"$ {shlex.join(argv)}" in printed
    # locally, without --verbose, a successful tool's output is not shown
    assert "hello" not in printed.replace(shlex.join(argv), "")


def test_verbose_shows_the_output() -> None:
    runner, stream = make_runner(verbose=True)
    runner.run(python("print('visible line')"))
    assert "visible line\n" in stream.getvalue().split("\n", 1)[1]


def test_failure_raises_with_the_tail(tmp_path: Path) -> None:
    runner, stream = make_runner()
    code = "import sys\nfor i in range(100): print(f'line {i}')\nsys.exit(3)"
    with pytest.raises(CommandFailedError) as info:
        runner.run(python(code), cwd=tmp_path, why="counting")
    error = info.value
    assert error.returncode == 3
    assert error.exit_code == 21
    assert error.tail == [f"line {i}" for i in range(100 - TAIL_LINES, 100)]
    assert len(error.tail) == 40
    assert "exited with status 3 while counting" in error.cause
    # The remedy is read in the stage record too, where "above" points at nothing: it says
    # where the lines are, and the directory to rerun the command in.
    assert "above" not in error.remedy
    assert "error.tail" in error.remedy and str(tmp_path) in error.remedy
    assert error.as_dict()["tail"] == error.tail
    # still recorded: the record lists the command that failed
    assert runner.history[-1].returncode == 3
    # the output was hidden while it ran, so the tail is printed with the error
    printed = stream.getvalue()
    assert "  | line 99" in printed
    assert "  | line 60" in printed
    assert "line 59" not in printed


def test_failure_with_a_remedy_of_the_caller() -> None:
    runner, _ = make_runner()
    with pytest.raises(CommandFailedError) as info:
        runner.run(python("raise SystemExit(1)"), remedy="lower the floor.")
    assert info.value.remedy == "lower the floor."


def test_check_false_returns_the_failure() -> None:
    runner, _ = make_runner()
    result = runner.run(python("print('x'); raise SystemExit(5)"), check=False)
    assert result.returncode == 5
    assert result.tail == ["x"]


@pytest.mark.parametrize(
    ("tool", "hint"),
    [
        ("auditwheel", "pip install auditwheel"),
        ("x86_64-w64-mingw32-gcc", "apt-get install mingw-w64"),
        ("maturin", "pip install 'maturin[zig]'"),
        ("no-such-tool-here", "install no-such-tool-here and put it on PATH"),
    ],
)
def test_missing_tool_names_the_install_hint(tool: str, hint: str, tmp_path: Path) -> None:
    runner, _ = make_runner()
    empty_path = {"PATH": str(tmp_path)}
    with pytest.raises(ToolNotFoundError) as info:
        runner.run([tool, "--version"], env=empty_path, why="checking it")
    assert info.value.exit_code == 20
    assert f"{tool} is not on PATH; checking it." == info.value.cause
    assert hint in info.value.remedy
    with pytest.raises(ToolNotFoundError, match=tool):
        runner.require(tool, why="a stage needs it", env=empty_path)
    assert runner.history == []


def test_require_finds_an_installed_tool() -> None:
    runner, _ = make_runner()
    found = runner.require("objdump", why="scanning DLLs")
    assert Path(found).name == "objdump"


def test_the_child_path_decides_which_executable_runs(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "release-test-tool"
    tool.parent.mkdir()
    tool.write_text(f"#!{sys.executable}\nprint('the prepended one')\n")
    tool.chmod(0o755)
    runner, _ = make_runner()
    result = runner.run(["release-test-tool"], env=child_env(prepend_path=[tool.parent]))
    assert result.output == "the prepended one"


def test_child_env_prepends_and_adds() -> None:
    env = child_env(prepend_path=["/a", Path("/b")], extra={"CIBW_CONTAINER_ENGINE": "docker"})
    parts = env["PATH"].split(os.pathsep)
    assert parts[:2] == ["/a", "/b"]
    assert parts[2:] == os.environ.get("PATH", "").split(os.pathsep)
    assert env["CIBW_CONTAINER_ENGINE"] == "docker"


def test_github_actions_folds_output_into_a_group() -> None:
    runner, stream = make_runner(github=True)
    argv = python("print('one'); print('two')")
    runner.run(argv)
    assert stream.getvalue().splitlines() == [
        f"::group::$ {shlex.join(argv)}",
        "one",
        "two",
        "::endgroup::",
    ]


def test_github_actions_group_is_closed_when_the_command_fails() -> None:
    runner, stream = make_runner(github=True)
    with pytest.raises(CommandFailedError):
        runner.run(python("print('bad'); raise SystemExit(2)"))
    lines = stream.getvalue().splitlines()
    assert lines[-2:] == ["bad", "::endgroup::"]
    # the output was already shown inside the group: no second copy of the tail
    assert "  | bad" not in lines


@pytest.mark.parametrize("github", [False, True], ids=["local", "github"])
def test_secret_is_redacted_everywhere(github: bool) -> None:
    runner, stream = make_runner(github=github, verbose=True)
    runner.console.register_secret(SECRET)
    code = "import sys; print('token is', sys.argv[1]); raise SystemExit(4)"
    with pytest.raises(CommandFailedError) as info:
        runner.run(python(code, SECRET), why="uploading")
    error = info.value
    printed = stream.getvalue()
    if github:
        # the runner must learn the mask before anything can echo the value
        assert printed.splitlines()[0] == f"::add-mask::{SECRET}"
        printed = printed.split("\n", 1)[1]
    assert SECRET not in printed
    assert "token is ***" in printed
    assert SECRET not in error.argv
    assert error.argv[-1] == "***"
    assert error.tail == ["token is ***"]
    assert SECRET not in str(error.as_dict())
    assert SECRET not in runner.history[-1].argv
    assert runner.history[-1].argv[-1] == "***"


def test_secret_registered_twice_is_masked_once() -> None:
    runner, stream = make_runner(github=True)
    runner.console.register_secret(SECRET)
    runner.console.register_secret(SECRET)
    runner.console.register_secret("")
    assert stream.getvalue() == f"::add-mask::{SECRET}\n"


def test_quiet_runs_are_not_printed() -> None:
    runner, stream = make_runner(github=True)
    result = runner.run(python("print('3.11')"), quiet=True)
    assert result.output == "3.11"
    # not logged, not grouped: short queries stay out of the Actions log...
    assert stream.getvalue() == ""
    # ...but what they did still belongs in the stage record
    assert [run.argv for run in runner.history] == [result.argv]


def test_quiet_runs_are_shown_with_verbose() -> None:
    runner, stream = make_runner(verbose=True)
    argv = python("print('3.11')")
    runner.run(argv, quiet=True)
    assert stream.getvalue() == f"$ {shlex.join(argv)}\n"


def test_unrecorded_runs_stay_out_of_the_history() -> None:
    runner, _ = make_runner()
    runner.run(python("print('query')"), quiet=True, record=False)
    runner.run(python("print('x')"), record=False)
    runner.version_of(python("print('tool 1.0')"))
    assert runner.history == []


def test_version_of() -> None:
    runner, _ = make_runner()
    assert runner.version_of(python("print('tool 1.2 (/usr/lib/python3/site-packages)')")) == (
        "tool 1.2"
    )
    assert runner.version_of(["no-such-tool-here"], env={"PATH": ""}) == "not found"
    assert runner.version_of(python("raise SystemExit(9)")) == "unknown (exit status 9)"
    assert runner.history == []


def test_a_command_past_its_timeout_is_killed_and_says_so() -> None:
    runner, _ = make_runner()
    started = time.monotonic()
    result = runner.run(python("import time; print('waiting', flush=True); time.sleep(30)"),
                        check=False, timeout=1)  # fmt: skip
    assert time.monotonic() - started < 10
    assert result.returncode != 0
    assert result.tail[-1] == "(killed after 1s without finishing)"
    assert "waiting" in result.output


def test_container_engine_asks_the_engine_through_the_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A docker client whose daemon is down is no engine; the stage record shows the query."""
    from release.host import container_engine

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    docker.chmod(0o755)
    runner, _ = make_runner()
    monkeypatch.setenv("PATH", str(bin_dir))
    engine = container_engine(runner)
    assert engine.name is None
    assert [run.argv for run in runner.history] == [("docker", "info")]
    assert "docker: Cannot connect to the Docker daemon" in engine.problem
    assert "podman: not installed" in engine.problem


# --- the children: process groups, signals, stopping -------------------------------------------

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and groups")


def gone(pid: int, within: float = 5.0) -> bool:
    """Whether process ``pid`` has ended (a zombie waiting for its reaper has), within a while."""
    deadline = time.monotonic() + within
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            # reaped just now on Linux; no /proc to tell a zombie elsewhere
            state = "Z" if Path("/proc/self/stat").exists() else "?"
        if state == "Z":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def wait_for_line(stream: io.StringIO, pattern: str, within: float = 10.0) -> str:
    """The first printed line matching ``pattern``, once a child running elsewhere prints it."""
    deadline = time.monotonic() + within
    while True:
        for line in stream.getvalue().splitlines():
            if re.fullmatch(pattern, line):
                return line
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    raise AssertionError(f"no line matching {pattern!r} in {stream.getvalue()!r}")


class InBackground:
    """``runner.run(argv, check=False)`` in a thread of its own."""

    def __init__(self, runner: Runner, argv: Sequence[str]) -> None:
        self.result: CommandResult | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, args=(runner, argv), daemon=True)
        self._thread.start()

    def _work(self, runner: Runner, argv: Sequence[str]) -> None:
        try:
            self.result = runner.run(argv, check=False)
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float) -> CommandResult:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the command is still running"
        assert self.error is None, self.error
        assert self.result is not None
        return self.result


@posix_only
def test_a_child_runs_in_a_process_group_of_its_own() -> None:
    """A Ctrl-C in the terminal goes to the terminal's group: ours, not the tool's."""
    runner, _ = make_runner()
    result = runner.run(python("import os; print(os.getpid(), os.getpgrp(), os.getsid(0))"))
    pid, group, session = map(int, result.output.split())
    assert group == pid
    assert session == pid
    assert group != os.getpgrp()


@posix_only
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
def test_a_child_killed_by_a_signal_says_so(sig: signal.Signals) -> None:
    runner, stream = make_runner()
    argv = ["sh", "-c", f"echo about to go; kill -{int(sig)} $$"]
    with pytest.raises(CommandFailedError) as info:
        runner.run(argv, why="testing signals")
    error = info.value
    assert error.returncode == -sig
    assert error.cause == f"sh was killed by {sig.name} while testing signals."
    assert "exited with status" not in error.cause
    assert "out-of-memory killer" in error.remedy
    assert error.tail == ["about to go"]
    assert error.exit_code == 21
    assert runner.history[-1].returncode == -sig
    assert "  | about to go" in stream.getvalue()
    # a remedy of the caller still wins; check=False still just returns
    with pytest.raises(CommandFailedError) as info:
        runner.run(argv, remedy="give it more memory.")
    assert info.value.remedy == "give it more memory."
    assert runner.run(argv, check=False).returncode == -sig


def test_a_signal_without_a_name_is_named_by_its_number() -> None:
    processes = FakeProcesses(respond=lambda call: ("last words", -200), all_found=True)
    runner = fake_runner(processes)
    with pytest.raises(CommandFailedError) as info:
        runner.run(["tool", "--flag"], env={"PATH": "/only/here"}, why="testing")
    if sys.platform != "win32":
        assert info.value.cause == "tool was killed by signal 200 while testing."
    assert info.value.tail == ["last words"]
    # the resolved executable runs, with exactly the environment given, found on its PATH
    ((executable, env),) = [(call.executable, call.env) for call in processes.calls]
    assert (executable, env) == ("/fake/bin/tool", {"PATH": "/only/here"})
    assert set(processes.lookups) == {("tool", "/only/here")}
    # what is shown and recorded is the command as written
    assert runner.history[-1].argv == ("tool", "--flag")
    assert info.value.argv == ["tool", "--flag"]


def test_a_timeout_the_processes_report_is_in_the_tail() -> None:
    fake = FakeProcesses(respond=lambda call: ("working", -9), all_found=True, timed_out=True)
    runner = fake_runner(fake)
    result = runner.run(["tool"], check=False, timeout=3)
    assert result.tail == ["working", "(killed after 3s without finishing)"]
    assert result.output.endswith("(killed after 3s without finishing)")


def test_a_program_that_cannot_start_names_the_tool(tmp_path: Path) -> None:
    tool = tmp_path / "bin" / "release-test-garbage"
    tool.parent.mkdir()
    tool.write_bytes(b"\x00\x01 not a program\n")
    tool.chmod(0o755)
    runner, _ = make_runner()
    with pytest.raises(ToolNotFoundError) as info:
        runner.run(["release-test-garbage"], env={"PATH": str(tool.parent)})
    assert info.value.cause.startswith("could not start release-test-garbage: ")
    assert info.value.remedy == "check that release-test-garbage is installed and runnable."
    assert isinstance(info.value.__cause__, OSError)
    assert runner.history == []


@posix_only
def test_a_timeout_stops_everything_the_child_started() -> None:
    """The child's own children hold its output open: they must go too, or we wait on them."""
    runner, _ = make_runner()
    started = time.monotonic()
    result = runner.run(["sh", "-c", "sleep 30 & echo $!; wait"], check=False, timeout=1)
    assert time.monotonic() - started < 10
    assert result.tail[-1] == "(killed after 1s without finishing)"
    assert gone(int(result.tail[0]))


@posix_only
def test_stop_all_from_another_thread_stops_a_running_command() -> None:
    runner, stream = make_runner(verbose=True)
    started = time.monotonic()
    background = InBackground(runner, ["sh", "-c", "sleep 30 & echo $!; wait"])
    grandchild = int(wait_for_line(stream, r"\d+"))
    assert stop_all(grace=5) == 1
    result = background.join(timeout=10)
    assert time.monotonic() - started < 10
    assert result.returncode == -signal.SIGTERM
    assert gone(grandchild)
    # nothing is left to stop, and the stopped command is still in the record
    assert stop_all() == 0
    assert runner.history[-1].returncode == -signal.SIGTERM


class InterruptOnPid(io.StringIO):
    """A terminal where Ctrl-C arrives as soon as the child prints a pid."""

    def write(self, text: str) -> int:
        written = super().write(text)
        if text.strip().isdigit():
            raise KeyboardInterrupt
        return written


@posix_only
def test_an_interruption_while_a_child_runs_stops_it() -> None:
    stream = InterruptOnPid()
    runner = Runner(Console(github=False, verbose=True, stream=stream, environ={}))
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        runner.run(["sh", "-c", "sleep 30 & echo $!; wait"])
    assert time.monotonic() - started < 10
    grandchild = int(wait_for_line(stream, r"\d+", within=0))
    assert gone(grandchild)
    assert stop_all() == 0


# --- known bugs in release/runner.py: these fail until it is fixed -----------------------------


@posix_only
def test_a_command_killed_for_its_timeout_is_not_blamed_on_someone_else() -> None:
    """The runner's own watchdog stopped it: the error must not say nothing in nox-release did."""
    runner, _ = make_runner()
    with pytest.raises(CommandFailedError) as info:
        runner.run(python("import time; time.sleep(30)"), timeout=1, why="waiting")
    error = info.value
    assert error.tail[-1] == "(killed after 1s without finishing)"
    assert "nothing in nox-release sent it" not in error.remedy
    assert "1s" in error.cause


@posix_only
def test_a_timeout_stops_what_an_exited_child_left_running() -> None:
    """``sh`` ends at once; the ``sleep`` it started keeps the output open, in its group."""
    runner, _ = make_runner()
    started = time.monotonic()
    result = runner.run(["sh", "-c", "sleep 6 & echo $!"], check=False, timeout=1)
    assert time.monotonic() - started < 4, "the timeout did not stop the child's own child"
    assert result.tail[-1] == "(killed after 1s without finishing)"


@posix_only
def test_stop_all_stops_what_an_exited_child_left_running() -> None:
    runner, stream = make_runner(verbose=True)
    started = time.monotonic()
    background = InBackground(runner, ["sh", "-c", "sleep 6 & echo $$ $!"])
    leader, grandchild = map(int, wait_for_line(stream, r"\d+ \d+").split())
    assert gone(leader)
    assert stop_all(grace=1) == 1
    background.join(timeout=10)
    assert time.monotonic() - started < 4, "stop_all did not stop the child's own child"
    assert gone(grandchild, within=0)


# --- time limits, and children that die with nox-release --------------------------------------


def alias_bomb(directory: Path) -> Path:
    """A 1 KB workflow whose YAML anchors and aliases expand to a billion strings: loading it
    is cheap (aliases are shared), walking it as check-jsonschema does never ends."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = directory / "release.yml"
    path.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: []\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    assert path.stat().st_size < 1024
    return path


def check_jsonschema(workflow: Path) -> list[str]:
    return ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", "-o", "json",
            str(workflow)]  # fmt: skip


def test_every_command_has_a_time_limit_by_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TIME_LIMIT_FACTOR_VARIABLE, raising=False)
    fake = FakeProcesses(all_found=True)
    runner = fake_runner(fake)
    runner.run(["cibuildwheel", "--platform", "linux"])
    runner.run(["check-jsonschema", "release.yml"], check=False)
    runner.run([sys.executable, "-m", "pip", "install", "demo"])
    runner.run(["sudo", "apt-get", "install", "-y", "m4"])
    runner.run(["some-script"])
    build, judge, pip, apt, other = (call.timeout for call in fake.calls)
    assert judge is not None and judge <= 120  # a judge answers in seconds
    assert build is not None and build >= 3 * 3600  # a cold build under emulation is long
    assert pip == TIME_LIMITS["pip"] and apt == TIME_LIMITS["apt-get"]
    assert other == DEFAULT_TIME_LIMIT
    # a slow machine scales them all
    monkeypatch.setenv(TIME_LIMIT_FACTOR_VARIABLE, "2.5")
    assert time_limit(["check-jsonschema"]) == 2.5 * judge


@posix_only
def test_check_jsonschema_on_a_yaml_alias_bomb_is_stopped_at_its_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real check-jsonschema, called as the check stage calls it (check=False: it reads
    the report), on a workflow it can never finish: stopped at its limit, a clear error."""
    monkeypatch.setitem(TIME_LIMITS, "check-jsonschema", 3.0)
    runner, _ = make_runner()
    started = time.monotonic()
    with pytest.raises(TimeLimitError) as info:
        runner.run(
            check_jsonschema(alias_bomb(tmp_path)), check=False, why="checking the workflows"
        )
    assert time.monotonic() - started < 3.0 + STOP_GRACE_S + 5
    error = info.value
    assert error.exit_code == TimeLimitError.exit_code != CommandFailedError.exit_code
    assert error.cause == (
        "check-jsonschema did not finish within its time limit of 3s while checking the "
        "workflows; nox-release stopped it."
    )
    assert "anchors and aliases" in error.remedy
    assert f"{TIME_LIMIT_FACTOR_VARIABLE}=3" in error.remedy
    assert runner.history[-1].argv[0] == "check-jsonschema"
    assert stop_all() == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_tool_dies_when_nox_release_is_killed(tmp_path: Path) -> None:
    """SIGKILL gives nox-release no chance to stop its children: the kernel must."""
    bomb = alias_bomb(tmp_path)
    parent = subprocess.Popen([sys.executable, "-c", (
        "import io, sys\n"
        "from release.console import Console\n"
        "from release.runner import Runner\n"
        "runner = Runner(Console(github=False, stream=io.StringIO(), environ={}))\n"
        f"runner.run({check_jsonschema(bomb)!r}, check=False)\n"
    )])  # fmt: skip
    child = None
    try:
        deadline = time.monotonic() + 30
        while child is None and time.monotonic() < deadline:
            child = next(iter(children_of(parent.pid)), None)
            time.sleep(0.05)
        assert child is not None, "check-jsonschema never started"
        time.sleep(1)  # well into its work on the bomb
        assert not gone(child, within=0)
        parent.kill()
        parent.wait(timeout=10)
        assert gone(child, within=5), "check-jsonschema outlived nox-release's SIGKILL"
    finally:
        parent.kill()
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid):
            found.append(int(stat.parent.name))
    return found


@posix_only
def test_a_signal_lost_in_a_finalizer_still_stops_the_next_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python 3.9 seen in CI: Ctrl-C landed while a weakref finalizer ran, Python printed
    "Exception ignored" and the rehearsal went on to upload. No command starts after it."""
    import weakref

    from release import cli
    from release.errors import Interrupted

    class Resource:
        pass

    ignored: list[type[BaseException] | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda what: ignored.append(what.exc_type))
    runner, _ = make_runner()
    with cli.interruptible():
        resource = Resource()
        weakref.finalize(resource, signal.raise_signal, signal.SIGINT)
        del resource  # the finalizer runs here, and the handler's exception is ignored
        assert ignored == [Interrupted]
        with pytest.raises(Interrupted):
            runner.run(python("print('never')"))
    runner.run(python("print('a later run starts afresh')"))


@posix_only
@pytest.mark.parametrize("handler", ["nox-release's", "Python's KeyboardInterrupt"])
def test_an_interruption_while_a_child_starts_still_stops_it(
    monkeypatch: pytest.MonkeyPatch, handler: str
) -> None:
    """The signal lands in the instant after the child was forked, before the runner knew of
    it: the child must be stopped all the same (a group of its own: no Ctrl-C reaches it)."""
    from release import cli
    from release import runner as runner_module
    from release.errors import Interrupted

    started: list[subprocess.Popen[str]] = []
    real_popen = subprocess.Popen

    def popen_then_signal(*args: object, **kwargs: object) -> subprocess.Popen[str]:
        proc: subprocess.Popen[str] = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(proc)
        signal.raise_signal(signal.SIGINT)  # its handler runs before this returns
        return proc

    monkeypatch.setattr(runner_module.subprocess, "Popen", popen_then_signal)
    runner, _ = make_runner()
    handled = handler == "nox-release's"
    try:
        with (
            pytest.raises(Interrupted if handled else KeyboardInterrupt),
            cli.interruptible() if handled else contextlib.nullcontext(),
        ):
            runner.run(python("import time; time.sleep(30)"))
    finally:
        monkeypatch.undo()
        for proc in started:
            alive = proc.poll() is None
            proc.kill()
            proc.wait()
            assert not alive, "a child started as the interruption came outlived it"


def test_an_interrupt_while_the_time_limit_starts_leaves_no_timer_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by the fault hunt (bench/hunt.py): Ctrl-C during init took 60 s to exit, git's
    time limit. The signal landed while the watchdog thread was starting (Timer.start waits
    for it); the watchdog was never cancelled, and the interpreter waited for it to fire."""
    from release.errors import Interrupted
    from release.runner import LocalProcesses

    real_start = threading.Timer.start

    def start_then_interrupt(self: threading.Timer) -> None:
        real_start(self)
        raise Interrupted(signal.SIGINT)

    monkeypatch.setattr(threading.Timer, "start", start_then_interrupt)
    before = set(threading.enumerate())
    with pytest.raises(Interrupted):
        LocalProcesses().execute(
            [sys.executable, "-c", "pass"], cwd=None, env=dict(os.environ),
            on_line=lambda line: None, timeout=60,
        )  # fmt: skip
    timers = [t for t in set(threading.enumerate()) - before if isinstance(t, threading.Timer)]
    for timer in timers:
        timer.join(timeout=5)
    assert not [t for t in timers if t.is_alive() and not t.daemon]
