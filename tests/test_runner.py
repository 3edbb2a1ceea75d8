"""The runner: output capture, history, failures with their tail, missing tools, secrets."""

from __future__ import annotations

import io
import os
import shlex
import sys
import time
from pathlib import Path

import pytest

from release.console import Console
from release.errors import CommandFailedError, ToolNotFoundError
from release.runner import TAIL_LINES, Runner, child_env

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
    assert run.argv == tuple(argv)
    assert run.cwd == str(tmp_path)
    assert run.returncode == 0
    assert run.duration_s >= 0
    assert run.as_dict()["argv"] == argv
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
    assert error.remedy
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
