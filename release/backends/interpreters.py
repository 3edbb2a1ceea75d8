"""Finding an installed CPython of a given version, for host builds of other interpreters.

Where a maintainer's machine keeps them: ``python3.X`` on PATH, uv's managed Pythons
(``uv python find 3.X``), pyenv's (``$PYENV_ROOT/versions/3.X*/bin/python3.X``). Each
candidate is asked what it is, because a name is no proof: pyenv's shims on PATH answer
``python3.13`` and then refuse to run unless 3.13 is selected.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ToolNotFoundError
from ..runner import Runner

# implementation, X.Y, "t" when free-threaded, and whether pip is there to build with.
_PROBE = (
    "import sys, sysconfig, importlib.util; "
    "print(sys.implementation.name, '%d.%d' % sys.version_info[:2], "
    "'t' if sysconfig.get_config_var('Py_GIL_DISABLED') else '-', "
    "'pip' if importlib.util.find_spec('pip') else 'no-pip')"
)
_ANSWER = re.compile(r"^(\w+) (\d+\.\d+) ([t-]) (pip|no-pip)$", re.MULTILINE)


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str  # "3.13"
    source: str  # how it was found: "PATH", "uv", "pyenv"


@dataclass
class Search:
    """The interpreter found, or every place looked in and why each one did not do."""

    version: str
    free_threaded: bool
    found: Interpreter | None = None
    rejected: list[str] = field(default_factory=list)

    @property
    def wanted(self) -> str:
        return f"Python {self.version}{' (free-threaded)' if self.free_threaded else ''}"


def executable_name(version: str, free_threaded: bool) -> str:
    return f"python{version}{'t' if free_threaded else ''}"


def how_to_install(version: str) -> str:
    """Ways to get CPython ``version``, for the message that found none."""
    return (
        f"run nox with it (nox -s release --force-python {version}), or "
        f"install it where nox-release looks: uv python install {version}, or "
        f"pyenv install {version}"
    )


def find_interpreter(
    runner: Runner, environ: Mapping[str, str], version: str, *, free_threaded: bool = False
) -> Search:
    search = Search(version, free_threaded)
    seen: set[str] = set()
    for source, path in _candidates(runner, environ, version, free_threaded, search):
        if path in seen:
            continue
        seen.add(path)
        problem = _unfit(runner, path, version, free_threaded)
        if problem is None:
            search.found = Interpreter(path, version, source)
            return search
        search.rejected.append(f"{path} ({source}): {problem}")
    return search


def _candidates(
    runner: Runner, environ: Mapping[str, str], version: str, free_threaded: bool, search: Search
) -> Iterator[tuple[str, str]]:
    name = executable_name(version, free_threaded)
    # The environment searched is the run's, even when it is empty (no PATH: nothing on it).
    path_env = {"PATH": environ.get("PATH", "")}
    on_path = runner.which(name, path_env)
    if on_path is None:
        search.rejected.append(f"{name}: not on PATH")
    else:
        yield "PATH", on_path
    uv = runner.which("uv", path_env)
    if uv is None:
        search.rejected.append("uv: not on PATH")
    else:
        request = f"{version}{'t' if free_threaded else ''}"
        found = runner.run(
            [uv, "python", "find", request],
            env={**environ, "PATH": path_env["PATH"]},
            check=False,
            quiet=True,
            record=False,
        )
        lines = [line.strip() for line in found.output.splitlines() if line.strip()]
        if found.returncode == 0 and lines and Path(lines[-1]).is_file():
            yield "uv", lines[-1]
        else:
            search.rejected.append(f"uv python find {request}: found none")
    root = environ.get("PYENV_ROOT") or (
        str(Path(environ["HOME"], ".pyenv")) if environ.get("HOME") else ""
    )
    versions = Path(root, "versions") if root else None
    pyenv = sorted(versions.glob(f"{version}*/bin/{name}"), reverse=True) if versions else []
    if not pyenv:
        search.rejected.append(
            f"pyenv: no {versions or '$PYENV_ROOT/versions'}/{version}*/bin/{name}"
        )
    for candidate in pyenv:
        yield "pyenv", str(candidate)


def _unfit(runner: Runner, path: str, version: str, free_threaded: bool) -> str | None:
    """Why the interpreter at ``path`` cannot build the wheel; None when it can."""
    try:
        result = runner.run([path, "-c", _PROBE], check=False, quiet=True, record=False)
    except ToolNotFoundError as exc:
        return f"does not start ({exc.cause})"
    answer = _ANSWER.search(result.output)
    if result.returncode != 0 or answer is None:
        last = result.output.strip().splitlines()[:1]
        return f"does not run (exit status {result.returncode}{': ' + last[0] if last else ''})"
    implementation, actual, threading, pip = answer.groups()
    if implementation != "cpython" or actual != version:
        return f"is {implementation} {actual}, not CPython {version}"
    if (threading == "t") != free_threaded:
        return "is free-threaded" if threading == "t" else "is not free-threaded"
    if pip != "pip":
        return f"has no pip to build with ({path} -m ensurepip adds it)"
    return None
