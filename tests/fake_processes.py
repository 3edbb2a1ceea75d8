"""The one fake of :class:`release.runner.Processes`: the tests drive the real Runner (tool
lookup, logging, history, errors) and fake only starting processes."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from release.config import ReleaseConfig
from release.console import Console
from release.context import RunContext
from release.runner import Processes, Runner

FAKE_BIN = "/fake/bin"
# What a Linux build host has on PATH; the tests must not depend on the PATH they run with.
HOST_TOOLS: dict[str, str | None] = {
    tool: f"{FAKE_BIN}/{tool}"
    for tool in ("maturin", "cargo", "rustc", "cibuildwheel", "auditwheel", "cc")
}


@dataclass
class Call:
    """One command the runner started."""

    tool: str  # argv[0] as the caller wrote it: the name the runner looked up
    executable: str  # what the lookup answered, and what the runner started
    args: tuple[str, ...]  # argv[1:]
    cwd: Path | str | None
    env: dict[str, str]
    timeout: float | None

    @property
    def argv(self) -> tuple[str, ...]:
        return (self.tool, *self.args)


# Output, or (output, exit status); output alone exits 0.
Reply = Union[str, tuple[str, int]]
Responder = Callable[[Call], Reply]


class FakeProcesses:
    """``which`` answers from ``tools`` (None: not installed), then from ``FAKE_BIN`` for
    every tool if ``all_found``, else from the real PATH; ``execute`` records the call and
    replies with ``respond``, as if killed at its timeout if ``timed_out``."""

    def __init__(
        self,
        *,
        tools: Mapping[str, str | None] | None = None,
        respond: Responder | None = None,
        all_found: bool = False,
        timed_out: bool = False,
    ) -> None:
        self.tools = {**HOST_TOOLS, **(tools or {})}
        self.respond: Responder = respond or (lambda call: "")
        self.all_found = all_found
        self.timed_out = timed_out
        self.calls: list[Call] = []
        self.lookups: list[tuple[str, str | None]] = []
        self._names: dict[str, str] = {}  # executable -> the tool name it was looked up as

    def which(self, tool: str, path: str | None) -> str | None:
        self.lookups.append((tool, path))
        if tool in self.tools:
            found = self.tools[tool]
        elif self.all_found:
            found = f"{FAKE_BIN}/{tool}"
        else:
            found = shutil.which(tool, path=path)
        if found is not None:
            self._names[found] = tool
        return found

    def execute(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None,
        env: Mapping[str, str],
        on_line: Callable[[str], None],
        timeout: float | None,
    ) -> tuple[int, bool]:
        executable, *args = argv
        # An executable no lookup answered keeps its own name, and matches no tool.
        tool = self._names.get(executable, executable)
        call = Call(tool, executable, tuple(args), cwd, dict(env), timeout)
        self.calls.append(call)
        reply = self.respond(call)
        output, status = (reply, 0) if isinstance(reply, str) else reply
        for line in output.splitlines():
            on_line(line)
        return status, self.timed_out


def quiet_console() -> Console:
    return Console(github=False, stream=io.StringIO(), environ={})


def fake_runner(processes: FakeProcesses) -> Runner:
    return Runner(quiet_console(), processes=processes)


def make_ctx(
    config: ReleaseConfig,
    *,
    environ: Mapping[str, str] | None = None,
    processes: Processes | None = None,
) -> RunContext:
    console = quiet_console()
    return RunContext(
        config=config,
        dist=config.dist_dir,
        console=console,
        runner=Runner(console, processes=processes if processes is not None else FakeProcesses()),
        environ=dict(environ or {}),
    )


def printed(ctx: RunContext) -> str:
    assert isinstance(ctx.console.stream, io.StringIO)
    return ctx.console.stream.getvalue()
