"""The one way nox-release runs an external tool.

Every command is logged before it runs, its output is folded into a GitHub Actions group (or
shown locally with ``--verbose``), the last lines are kept, and a non-zero exit becomes a
:class:`CommandFailedError` that carries them. Each run is remembered so the stage record can
list the commands that produced its artifacts. Secrets travel only in the environment; the
console redacts any registered secret from everything printed or recorded.

Every command has a time limit (:func:`time_limit`): generous for builds, short for the judges
that read a small file and should answer in seconds. A tool past its limit is stopped and is
a :class:`TimeLimitError`. On Linux a child is also killed when nox-release dies, even by
SIGKILL (``PR_SET_PDEATHSIG``): a hung tool never outlives the run that started it.

Starting and reading processes is a :class:`Processes` object: the real one here, a fake in
the tests, which then exercise all of the runner's own logic. Children run in a process
group of their own, so a Ctrl-C in the terminal reaches nox-release alone, which stops them
(:func:`stop_all`) and reports an interruption instead of a failed build.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .console import Console
from .diagnose import diagnose
from .errors import CommandFailedError, TimeLimitError, ToolNotFoundError
from .records import CommandRun

TAIL_LINES = 40
# Where a failed command's last lines are, said so that it holds on the console and in the
# stage record alike (where "above" would point at nothing).
TAIL_SAYS_WHY = (
    f"its last lines (up to {TAIL_LINES}) say why: printed before this message, and kept in "
    "the stage record as error.tail"
)
# How long a stopped tool may take to exit after SIGTERM before it is killed.
STOP_GRACE_S = 5.0

_SESSION = "run nox -s {session}, which installs it"
# How to get each tool we call, said once, for the error a user sees when it is missing.
INSTALL_HINTS: dict[str, str] = {
    "maturin": "pip install 'maturin[zig]', or " + _SESSION.format(session="build-linux"),
    "cibuildwheel": "pip install cibuildwheel, or " + _SESSION.format(session="<stage>"),
    "auditwheel": "pip install auditwheel, or " + _SESSION.format(session="validate"),
    "abi3audit": "pip install abi3audit, or " + _SESSION.format(session="validate"),
    "twine": "pip install twine, or " + _SESSION.format(session="validate"),
    "cargo": "install Rust with rustup (https://rustup.rs), then open a new shell",
    "rustc": "install Rust with rustup (https://rustup.rs), then open a new shell",
    "rustup": "install Rust with rustup (https://rustup.rs), then open a new shell",
    "objdump": "install binutils (Debian/Ubuntu: apt-get install binutils; "
    "Windows: MSYS2's mingw-w64-x86_64-binutils, on PATH)",
    "llvm-objdump": "install LLVM (Debian/Ubuntu: apt-get install llvm; Windows: LLVM from "
    "llvm.org or MSYS2's mingw-w64-x86_64-llvm, on PATH)",
    "x86_64-w64-mingw32-gcc": "install the MinGW-w64 cross compiler "
    "(Debian/Ubuntu: apt-get install mingw-w64)",
    "docker": "install Docker or Podman, or let the host build run",
    "podman": "install Podman or Docker, or let the host build run",
    "pacman": "install MSYS2 (preinstalled on GitHub's Windows runners), or set MSYS2_ROOT",
}


# Time limits, in seconds, by tool (``python -m <module>`` by its module). A judge reads a
# small file and answers in seconds; one that runs for minutes is stuck on its input (a YAML
# alias bomb held check-jsonschema for minutes). Builds get hours: a cold cibuildwheel build
# under emulation is long, and CI's own job timeout (6 h on GitHub) is the only other bound.
_MINUTE = 60.0
TIME_LIMITS: dict[str, float] = {
    "check-jsonschema": 2 * _MINUTE,
    "zizmor": 2 * _MINUTE,
    "twine": 5 * _MINUTE,
    "objdump": 2 * _MINUTE,
    "llvm-objdump": 2 * _MINUTE,
    "auditwheel": 5 * _MINUTE,
    "abi3audit": 5 * _MINUTE,
    "git": 1 * _MINUTE,
    "dpkg-query": 1 * _MINUTE,
    "docker": 1 * _MINUTE,
    "podman": 1 * _MINUTE,
    "venv": 5 * _MINUTE,
    "pip": 20 * _MINUTE,
    "apt-get": 30 * _MINUTE,
    "pacman": 30 * _MINUTE,
    "rustup": 30 * _MINUTE,
    "maturin": 180 * _MINUTE,
    "cargo": 180 * _MINUTE,
    "build": 180 * _MINUTE,
    "cibuildwheel": 240 * _MINUTE,
}
# Anything else (an interpreter running a short script, a tool's --version).
DEFAULT_TIME_LIMIT = 10 * _MINUTE
# Multiplies every limit, for a machine that is merely slow.
TIME_LIMIT_FACTOR_VARIABLE = "NOX_RELEASE_TIME_LIMIT_FACTOR"
_JUDGES = {
    "check-jsonschema", "zizmor", "twine", "objdump", "llvm-objdump", "auditwheel", "abi3audit",
}  # fmt: skip


def tool_name(argv: Sequence[str]) -> str:
    """What a command runs, as users know it: ``pip`` for ``python -m pip install``."""
    program = Path(argv[0]).name.removesuffix(".exe")
    if len(argv) > 2 and argv[1] == "-m" and program.startswith("python"):
        return argv[2].split(".")[0]
    if program == "sudo" and len(argv) > 1:
        return tool_name(argv[1:])
    return program


def time_limit(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> float:
    """The time ``argv`` may run, in seconds, scaled by $NOX_RELEASE_TIME_LIMIT_FACTOR."""
    limit = TIME_LIMITS.get(tool_name(argv), DEFAULT_TIME_LIMIT)
    raw = (os.environ if environ is None else environ).get(TIME_LIMIT_FACTOR_VARIABLE, "")
    try:
        factor = float(raw) if raw.strip() else 1.0
    except ValueError:
        factor = 1.0
    return limit * factor if factor > 0 else limit


@dataclass
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    duration_s: float
    output: str
    tail: list[str] = field(default_factory=list)
    timed_out: bool = False
    time_limit: float | None = None


class Processes(Protocol):
    """Finding and running executables; everything else about a command is the Runner's."""

    def which(self, tool: str, path: str | None) -> str | None: ...

    def execute(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None,
        env: Mapping[str, str],
        on_line: Callable[[str], None],
        timeout: float | None,
    ) -> tuple[int, bool]:
        """Run ``argv`` to the end, passing each output line to ``on_line``; returns the exit
        status and whether it was killed for exceeding ``timeout``. Raises OSError when the
        program cannot be started."""

    def start(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None,
        env: Mapping[str, str],
        on_line: Callable[[str], None],
    ) -> BackgroundProcess:
        """Start ``argv`` and return at once; its output lines go to ``on_line``."""


class BackgroundProcess(Protocol):
    def running(self) -> bool: ...

    def stop(self) -> int:
        """Stop it (and what it started); its exit status."""


# --- the real processes ------------------------------------------------------------------------

_live: set[subprocess.Popen[str]] = set()
_live_lock = threading.Lock()


def _group_alive(proc: subprocess.Popen[str]) -> bool:
    """Whether any process of the child's group still runs. Zombies do not count: an orphan
    whose parent died is reaped by PID 1 when it gets to it (in a container, maybe never)."""
    proc.poll()  # reap the leader ourselves
    proc_fs = Path("/proc")
    if sys.platform.startswith("linux") and proc_fs.is_dir():
        for stat in proc_fs.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone while we looked
            if fields[2] == str(proc.pid) and fields[0] != "Z":  # state, ppid, pgrp, ...
                return True
        return False
    try:
        os.killpg(proc.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _stop_all(procs: Sequence[subprocess.Popen[str]], grace: float) -> None:
    """Stop children and everything they started: SIGTERM to each group, SIGKILL to what is
    left after ``grace``. A group is stopped even when its leader has exited: what it started
    in the background (and which still holds its output open) belongs to the same run."""
    if sys.platform == "win32":
        for proc in procs:
            if proc.poll() is None:
                # TerminateProcess ends one process; taskkill /T takes its children (rustc).
                subprocess.run(
                    ["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True,
                    check=False,
                )  # fmt: skip
                proc.kill()
        return
    running = [proc for proc in procs if _group_alive(proc)]
    for proc in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_group_alive(p) for p in running) and time.monotonic() < deadline:
        time.sleep(0.02)
    for proc in running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


# The signal that interrupted this run, once one did. The handler raises Interrupted where
# the main thread is; when that is a finalizer (a weakref callback, a __del__), Python prints
# "Exception ignored" and goes on: every new command checks this first, so the run still ends.
_interrupted_by: list[int] = []


def note_interrupt(signum: int) -> None:
    _interrupted_by.append(signum)


def forget_interrupts() -> None:
    _interrupted_by.clear()


def raise_if_interrupted() -> None:
    """Interrupted, if a signal came: called before each new command and each upload."""
    if _interrupted_by:
        from .errors import Interrupted

        raise Interrupted(_interrupted_by[0])


def stop_all(grace: float = STOP_GRACE_S) -> int:
    """Stop every child still running (an interruption), all at once; returns how many."""
    with _live_lock:
        running = list(_live)
    _stop_all(running, grace)
    return len(running)


_PR_SET_PDEATHSIG = 1


def _linux_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    return prctl


# Looked up once, in the parent: the child between fork and exec should do as little as it can.
_PRCTL = _linux_prctl()


def _dies_with_us() -> Callable[[], None] | None:
    """A child setup that has the kernel kill the child when nox-release dies (Linux only;
    elsewhere, none). The "parent" the kernel watches is the thread that starts the child:
    each runner call waits for its child, so the thread outlives it."""
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()

    def setup() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # nox-release died before the line above
            os.kill(os.getpid(), signal.SIGKILL)

    return setup


_INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block, then deliver them. An interruption's handler
    raises where it lands: between the start of a child and its registration, it would leave
    a child that no one stops (it runs in a group of its own, so the terminal's Ctrl-C does
    not reach it either). Handlers run in the main thread only; elsewhere there is nothing
    to hold."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in _INTERRUPTS}
    try:
        for sig in _INTERRUPTS:
            signal.signal(sig, lambda signum, frame: held.append(signum))
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if held:
            signal.raise_signal(held[0])  # now to its own handler, with the child registered


def _popen(
    argv: Sequence[str], cwd: Path | str | None, env: Mapping[str, str]
) -> subprocess.Popen[str]:
    """A child in a process group of its own, output merged, registered as live."""
    group: dict[str, object] = (
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]
        if sys.platform == "win32"
        else {"start_new_session": True, "preexec_fn": _dies_with_us()}
    )
    started: list[subprocess.Popen[str]] = []
    try:
        with interrupts_held():
            proc: subprocess.Popen[str] = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                errors="replace",
                **group,  # type: ignore[call-overload]
            )
            started.append(proc)
            with _live_lock:
                _live.add(proc)
    except BaseException:
        # The held interruption, delivered: where its handler did not stop the child (a plain
        # KeyboardInterrupt), no caller will, for none has it.
        _stop_all(started, STOP_GRACE_S)
        with _live_lock:
            _live.difference_update(started)
        raise
    return proc


@dataclass
class _Background:
    proc: subprocess.Popen[str]
    reader: threading.Thread

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        _stop_all([self.proc], STOP_GRACE_S)
        self.reader.join(timeout=STOP_GRACE_S)
        with _live_lock:
            _live.discard(self.proc)
        return self.proc.wait()


class LocalProcesses:
    def which(self, tool: str, path: str | None) -> str | None:
        return shutil.which(tool, path=path)

    def start(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None,
        env: Mapping[str, str],
        on_line: Callable[[str], None],
    ) -> _Background:
        proc = _popen(argv, cwd, env)

        def pump() -> None:
            assert proc.stdout is not None
            for raw in proc.stdout:
                on_line(raw.rstrip())

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        return _Background(proc, reader)

    def execute(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None,
        env: Mapping[str, str],
        on_line: Callable[[str], None],
        timeout: float | None,
    ) -> tuple[int, bool]:
        proc = _popen(argv, cwd, env)
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            _stop_all([proc], 0.0)

        watchdog = threading.Timer(timeout, kill) if timeout is not None else None
        try:
            # Started inside the try: Timer.start waits for its thread, and a signal landing
            # in that wait must still cancel it (or the interpreter waits out the limit).
            if watchdog is not None:
                watchdog.daemon = True
                watchdog.start()
            assert proc.stdout is not None
            for raw in proc.stdout:
                on_line(raw.rstrip())
            returncode = proc.wait()
        except BaseException:
            # An interruption (or a console that failed): the child must not outlive us.
            _stop_all([proc], STOP_GRACE_S)
            raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
            with _live_lock:
                _live.discard(proc)
        return returncode, killed.is_set()


# --- the runner ----------------------------------------------------------------------------------


def _signal_name(returncode: int) -> str | None:
    """``SIGKILL`` for a child killed by signal 9 (POSIX reports -9)."""
    if returncode >= 0 or sys.platform == "win32":
        return None
    try:
        return signal.Signals(-returncode).name
    except ValueError:
        return f"signal {-returncode}"


class Runner:
    def __init__(self, console: Console, processes: Processes | None = None) -> None:
        self.console = console
        self.processes: Processes = processes or LocalProcesses()
        self.history: list[CommandRun] = []
        self._history_lock = threading.Lock()

    def which(self, tool: str, env: Mapping[str, str] | None = None) -> str | None:
        path = (env or os.environ).get("PATH")
        return self.processes.which(tool, path)

    def require(self, tool: str, *, why: str, env: Mapping[str, str] | None = None) -> str:
        """The full path of ``tool``, or an error saying what needs it and how to get it.
        Every command starts here: after a signal, none does."""
        raise_if_interrupted()
        found = self.which(tool, env)
        if found is None:
            hint = INSTALL_HINTS.get(tool, f"install {tool} and put it on PATH")
            raise ToolNotFoundError(f"{tool} is not on PATH; {why}.", hint + ".")
        return found

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        why: str = "",
        remedy: str | None = None,
        check: bool = True,
        quiet: bool = False,
        record: bool = True,
        timeout: float | None = None,
    ) -> CommandResult:
        """Run ``argv`` and return its result; raise :class:`CommandFailedError` on failure.

        ``env`` replaces the environment entirely when given (build it with
        :func:`child_env`). ``quiet`` keeps short queries out of the log unless
        ``--verbose``; ``record=False`` also keeps them out of the stage record (tool
        versions: they produce nothing). After ``timeout`` seconds (by default the tool's
        :func:`time_limit`) the command is killed and is a :class:`TimeLimitError`, even with
        ``check=False``: a tool that never answered has no result to read. Only a caller that
        set its own ``timeout`` and ``check=False`` gets the result (``timed_out``) instead.
        """
        argv = tuple(str(a) for a in argv)
        own_limit = timeout is not None
        if timeout is None:
            timeout = time_limit(argv)
        full_env = dict(env) if env is not None else dict(os.environ)
        self.require(argv[0], why=why or f"nox-release needs it to run {argv[0]}", env=full_env)
        # Resolve through the child's PATH: a PATH prepended for the build (MSYS2's
        # mingw64/bin) must also decide which executable runs.
        executable = self.which(argv[0], full_env) or argv[0]
        shown = self.console.redact(shlex.join(argv))
        where = str(cwd) if cwd is not None else str(Path.cwd())

        stream = (self.console.verbose or self.console.github) and not quiet
        lines: list[str] = []

        def on_line(raw: str) -> None:
            text = self.console.redact(raw)
            lines.append(text)
            if stream:
                self.console.line(text)

        started = time.monotonic()
        with ExitStack() as folded:
            if quiet:
                self.console.detail(f"$ {shown}")
            elif self.console.github:
                # The command is the fold's title: the log reads as a list of commands, each
                # opening onto its output.
                folded.enter_context(self.console.group(f"$ {shown}"))
            else:
                self.console.line(f"$ {shown}")
                if stream:
                    folded.enter_context(self.console.group(f"output of {argv[0]}"))
            try:
                returncode, timed_out = self.processes.execute(
                    [executable, *argv[1:]], cwd=cwd, env=full_env, on_line=on_line,
                    timeout=timeout,
                )  # fmt: skip
            except OSError as exc:
                tool = Path(argv[0]).name
                raise ToolNotFoundError(
                    f"could not start {tool}: {exc}.",
                    INSTALL_HINTS.get(tool, f"check that {tool} is installed and runnable") + ".",
                ) from exc
        if timed_out:
            lines.append(f"(killed after {timeout:.0f}s without finishing)")
        tail = lines[-TAIL_LINES:]
        duration = time.monotonic() - started
        redacted_argv = tuple(self.console.redact(a) for a in argv)
        if record:
            with self._history_lock:
                self.history.append(
                    CommandRun(redacted_argv, where, returncode, round(duration, 3))
                )
        result = CommandResult(
            redacted_argv, returncode, duration, "\n".join(lines), list(tail), timed_out, timeout
        )
        if timed_out and not (own_limit and not check):
            if not stream:
                for text in tail:
                    self.console.line(f"  | {text}")
            raise self.time_limit_error(result, why=why, remedy=remedy)
        if check and returncode != 0:
            if not stream:
                # The output was not shown while it ran; the tail is what the user needs.
                for text in tail:
                    self.console.line(f"  | {text}")
            failure = self._failure(
                argv[0], returncode, why=why, remedy=remedy, argv=redacted_argv, tail=tail,
                where=where,
            )  # fmt: skip
            raise diagnose(failure, tail)
        return result

    def time_limit_error(
        self, result: CommandResult, *, why: str = "", remedy: str | None = None
    ) -> TimeLimitError:
        """The error for a command stopped at its time limit: the tool, the limit, what to do."""
        tool = tool_name(result.argv)
        limit = result.time_limit or 0.0
        if tool in _JUDGES:
            likely = (
                f"{tool} reads small files and answers in seconds: it is stuck on its input. "
                f"Run the command by hand on each file to find the one it chokes on (a YAML "
                f"file with many anchors and aliases, say) and fix that file"
            )
        else:
            likely = f"run the command by hand to see where {tool} hangs"
        return TimeLimitError(
            f"{tool} did not finish within its time limit of {limit:.0f}s"
            f"{' while ' + why if why else ''}; nox-release stopped it.",
            remedy
            or f"{likely}. If this machine is merely slow, raise every limit: "
            f"{TIME_LIMIT_FACTOR_VARIABLE}=3 triples them.",
            result.argv,
            result.returncode,
            list(result.tail),
        )

    def _failure(
        self,
        tool: str,
        returncode: int,
        *,
        why: str,
        remedy: str | None,
        argv: tuple[str, ...],
        tail: list[str],
        where: str,
    ) -> CommandFailedError:
        during = f" while {why}" if why else ""
        killer = _signal_name(returncode)
        if killer is not None:
            cause = f"{tool} was killed by {killer}{during}."
            default = (
                "nothing in nox-release sent it: look for the out-of-memory killer (dmesg) "
                "or another process; then rerun the stage."
            )
        else:
            cause = f"{tool} exited with status {returncode}{during}."
            default = (
                f"{TAIL_SAYS_WHY}; to see all of its output, rerun with --verbose, or run the "
                f"command by hand in {where}."
            )
        return CommandFailedError(
            self.console.redact(cause), remedy or default, argv, returncode, list(tail)
        )

    @contextmanager
    def background(
        self,
        argv: Sequence[str],
        *,
        ready: str,
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
        why: str = "",
        startup_timeout: float = 60.0,
    ) -> Iterator[str]:
        """Start ``argv`` in the background (a local server), wait until it prints a line
        starting with ``ready`` (yielded), and stop it, with all it started, at the end."""
        argv = tuple(str(a) for a in argv)
        full_env = dict(env) if env is not None else dict(os.environ)
        self.require(argv[0], why=why or f"nox-release needs it to run {argv[0]}", env=full_env)
        executable = self.which(argv[0], full_env) or argv[0]
        self.console.line(f"$ {self.console.redact(shlex.join(argv))} &")
        lines: list[str] = []
        found: list[str] = []
        seen = threading.Event()

        def on_line(raw: str) -> None:
            text = self.console.redact(raw)
            lines.append(text)
            self.console.detail(f"  | {text}")
            if not found and text.startswith(ready):
                found.append(text)
                seen.set()

        started = time.monotonic()
        try:
            process = self.processes.start(
                [executable, *argv[1:]], cwd=cwd, env=full_env, on_line=on_line
            )
        except OSError as exc:
            hint = INSTALL_HINTS.get(argv[0], f"check that {argv[0]} is installed and runnable")
            raise ToolNotFoundError(f"could not start {argv[0]}: {exc}.", hint + ".") from exc
        returncode = 0
        try:
            deadline = started + startup_timeout
            while not seen.wait(0.05):
                if not process.running() or time.monotonic() > deadline:
                    returncode = process.stop()
                    for text in lines[-TAIL_LINES:]:
                        self.console.line(f"  | {text}")
                    how = f"exited with status {returncode}" if returncode else "never got ready"
                    raise CommandFailedError(
                        f"{argv[0]} did not start{' for ' + why if why else ''} (it {how}).",
                        f"{TAIL_SAYS_WHY}.",
                        tuple(self.console.redact(a) for a in argv),
                        returncode,
                        lines[-TAIL_LINES:],
                    )
            raise_if_interrupted()  # a signal while it started, lost in a finalizer
            yield found[0]
        finally:
            if process.running():
                returncode = process.stop()
            where = str(cwd) if cwd is not None else str(Path.cwd())
            with self._history_lock:
                self.history.append(CommandRun(
                    tuple(self.console.redact(a) for a in argv), where, returncode,
                    round(time.monotonic() - started, 3),
                ))  # fmt: skip

    def tool_version(self, tool: str, distribution: str | None = None) -> str:
        """The version of ``tool`` as found on PATH. A Python tool installed with this
        interpreter is read from its package metadata (no process to start, and right for
        tools without ``--version``, like cibuildwheel 4); any other is asked ``--version``."""
        found = self.which(tool)
        if found is None:
            return "not found"
        scripts = Path(sysconfig.get_path("scripts")).resolve()
        if Path(found).resolve().parent == scripts:
            import importlib.metadata  # only here: it costs a fiftieth of a second to import

            try:
                return f"{tool} {importlib.metadata.version(distribution or tool)}"
            except importlib.metadata.PackageNotFoundError:
                pass
        return self.version_of([tool, "--version"])

    def version_of(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
        """First line a tool prints about its version, or why it could not be asked."""
        try:
            result = self.run(argv, env=env, check=False, quiet=True, record=False)
        except ToolNotFoundError:
            return "not found"
        lines = result.output.strip().splitlines()
        if result.returncode != 0 or not lines:
            return f"unknown (exit status {result.returncode})"
        # "build 1.2.1 (/path/to/site-packages)", "auditwheel 6.1 installed at /path", "twine
        # version 7.0.0 (readme-renderer: 46.0, ...": paths and dependency lists are noise.
        return re.sub(r"\s*(\(/.*\)|\(\w:\\.*\)|installed at.*|\([\w.-]+: .*)$", "", lines[0])


# What makes a tool colour output that is no terminal: these (rich, click, Rust's anstream)
# and, for some, CI=true. Escape sequences inside a report break reading it.
_FORCED_COLOUR = ("FORCE_COLOR", "CLICOLOR_FORCE", "PY_COLORS", "TTY_COMPATIBLE")


def child_env(
    *,
    prepend_path: Sequence[Path | str] = (),
    extra: Mapping[str, str] | None = None,
    uncoloured: bool = False,
) -> dict[str, str]:
    """The current environment with directories put first on PATH and variables added;
    ``uncoloured`` for a tool whose report nox-release reads: no colour, whatever CI or the
    user's environment forces."""
    env = dict(os.environ)
    if uncoloured:
        for name in _FORCED_COLOUR:
            env.pop(name, None)
        env["NO_COLOR"] = "1"
    if prepend_path:
        parts = [str(p) for p in prepend_path]
        if env.get("PATH"):
            parts.append(env["PATH"])
        env["PATH"] = os.pathsep.join(parts)
    if extra:
        env.update(extra)
    return env
