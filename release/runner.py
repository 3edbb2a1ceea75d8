"""The one way nox-release runs an external tool.

Every command is logged before it runs, its output is folded into a GitHub Actions group (or
shown locally with ``--verbose``), the last lines are kept, and a non-zero exit becomes a
:class:`CommandFailedError` that carries them. Each run is remembered so the stage record can
list the commands that produced its artifacts. Secrets travel only in the environment; the
console redacts any registered secret from everything printed or recorded.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from .console import Console
from .errors import CommandFailedError, ToolNotFoundError

TAIL_LINES = 40

# How to get each tool we call, said once, for the error a user sees when it is missing.
INSTALL_HINTS: dict[str, str] = {
    "maturin": "pip install 'maturin[zig]' (the nox sessions install it for you)",
    "cibuildwheel": "pip install cibuildwheel (the nox sessions install it for you)",
    "auditwheel": "pip install auditwheel (the nox sessions install it for you)",
    "abi3audit": "pip install abi3audit (the nox sessions install it for you)",
    "twine": "pip install twine (the nox sessions install it for you)",
    "cargo": "install Rust with rustup (https://rustup.rs), then open a new shell",
    "rustc": "install Rust with rustup (https://rustup.rs), then open a new shell",
    "rustup": "install Rust with rustup (https://rustup.rs), then open a new shell",
    "objdump": "install binutils (Debian/Ubuntu: apt-get install binutils; "
    "Windows: MSYS2's mingw-w64-x86_64-binutils, on PATH)",
    "x86_64-w64-mingw32-gcc": "install the MinGW-w64 cross compiler "
    "(Debian/Ubuntu: apt-get install mingw-w64)",
    "docker": "install Docker or Podman, or let the host build run",
    "podman": "install Podman or Docker, or let the host build run",
    "pacman": "install MSYS2 (preinstalled on GitHub's Windows runners), or set MSYS2_ROOT",
}


@dataclass(frozen=True)
class CommandRun:
    """What the stage record keeps of one command."""

    argv: tuple[str, ...]
    cwd: str
    returncode: int
    duration_s: float

    def as_dict(self) -> dict[str, object]:
        return {
            "argv": list(self.argv),
            "cwd": self.cwd,
            "returncode": self.returncode,
            "duration_s": round(self.duration_s, 3),
        }


@dataclass
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    duration_s: float
    output: str
    tail: list[str] = field(default_factory=list)


class Runner:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.history: list[CommandRun] = []

    def which(self, tool: str, env: Mapping[str, str] | None = None) -> str | None:
        path = (env or os.environ).get("PATH")
        return shutil.which(tool, path=path)

    def require(self, tool: str, *, why: str, env: Mapping[str, str] | None = None) -> str:
        """The full path of ``tool``, or an error saying what needs it and how to get it."""
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
        versions: they produce nothing). After ``timeout`` seconds the command is killed
        and its result says so.
        """
        argv = tuple(str(a) for a in argv)
        full_env = dict(env) if env is not None else dict(os.environ)
        self.require(argv[0], why=why or f"nox-release needs it to run {argv[0]}", env=full_env)
        # Resolve through the child's PATH: a PATH prepended for the build (MSYS2's
        # mingw64/bin) must also decide which executable runs.
        executable = self.which(argv[0], full_env) or argv[0]
        shown = self.console.redact(shlex.join(argv))
        where = str(cwd) if cwd is not None else str(Path.cwd())

        stream = (self.console.verbose or self.console.github) and not quiet
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
            returncode, lines = self._execute(
                [executable, *argv[1:]], cwd=cwd, env=full_env, echo=stream, timeout=timeout
            )
        tail = lines[-TAIL_LINES:]
        duration = time.monotonic() - started
        redacted_argv = tuple(self.console.redact(a) for a in argv)
        if record:
            self.history.append(CommandRun(redacted_argv, where, returncode, duration))
        result = CommandResult(redacted_argv, returncode, duration, "\n".join(lines), list(tail))
        if check and returncode != 0:
            if not stream:
                # The output was not shown while it ran; the tail is what the user needs.
                for text in tail:
                    self.console.line(f"  | {text}")
            raise CommandFailedError(
                self.console.redact(
                    f"{argv[0]} exited with status {returncode}{(' while ' + why) if why else ''}."
                ),
                remedy
                or "read the output above; rerun with --verbose to see all of it, "
                "or run the command by hand in the directory shown.",
                redacted_argv,
                returncode,
                list(tail),
            )
        return result

    def _execute(
        self,
        argv: list[str],
        *,
        cwd: Path | str | None,
        env: dict[str, str],
        echo: bool,
        timeout: float | None,
    ) -> tuple[int, list[str]]:
        """Run the process, reading its output as it comes; (exit status, redacted lines)."""
        lines: list[str] = []
        try:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                errors="replace",
            )
        except OSError as exc:
            tool = Path(argv[0]).name
            raise ToolNotFoundError(
                f"could not start {tool}: {exc}.",
                INSTALL_HINTS.get(tool, f"check that {tool} is installed and runnable") + ".",
            ) from exc
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            proc.kill()

        watchdog = threading.Timer(timeout, kill) if timeout is not None else None
        if watchdog is not None:
            watchdog.start()
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                text = self.console.redact(raw.rstrip("\n"))
                lines.append(text)
                if echo:
                    self.console.line(text)
            returncode = proc.wait()
        finally:
            if watchdog is not None:
                watchdog.cancel()
        if killed.is_set():
            lines.append(f"(killed after {timeout:.0f}s without finishing)")
        return returncode, lines

    def version_of(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
        """First line a tool prints about its version, or why it could not be asked."""
        try:
            result = self.run(argv, env=env, check=False, quiet=True, record=False)
        except ToolNotFoundError:
            return "not found"
        lines = result.output.strip().splitlines()
        if result.returncode != 0 or not lines:
            return f"unknown (exit status {result.returncode})"
        # "build 1.2.1 (/path/to/site-packages)", "auditwheel 6.1 installed at /path": the
        # paths are noise in a record.
        return re.sub(r"\s*(\(/.*\)|\(\w:\\.*\)|installed at.*)$", "", lines[0])


def child_env(
    *, prepend_path: Sequence[Path | str] = (), extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The current environment with directories put first on PATH and variables added."""
    env = dict(os.environ)
    if prepend_path:
        parts = [str(p) for p in prepend_path]
        if env.get("PATH"):
            parts.append(env["PATH"])
        env["PATH"] = os.pathsep.join(parts)
    if extra:
        env.update(extra)
    return env
