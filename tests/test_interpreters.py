"""Host builds find the interpreter the cibuildwheel selectors name: on PATH, uv's, pyenv's.
These run the real interpreters (the probe is a real process): pyenv's where it is
installed, and this test run's own Python placed where each search looks."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from fake_processes import quiet_console

from release.backends.interpreters import find_interpreter
from release.runner import Runner

HERE = f"{sys.version_info.major}.{sys.version_info.minor}"
# The interpreter this venv was made from: a real CPython with pip (a venv's own python
# placed elsewhere would lose its pyvenv.cfg and become the same base interpreter anyway).
BASE = str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def runner() -> Runner:
    return Runner(quiet_console())


def pyenv_versions() -> list[str]:
    """X.Y of each CPython pyenv holds here (3.9 to 3.13 on the development machine)."""
    found = PYENV_ROOT.glob("versions/3.*/bin/python3.*")
    return sorted({m[1] for p in found if (m := re.fullmatch(r"python(3\.\d+)", p.name))})


def link(target: Path, to: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(to)
    return target


def test_found_on_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    python = link(bin_dir / f"python{HERE}", BASE)
    search = find_interpreter(runner(), {"PATH": str(bin_dir)}, HERE)
    assert search.found is not None
    assert (search.found.path, search.found.source) == (str(python), "PATH")


def test_a_shim_that_does_not_run_is_passed_over_for_pyenv(tmp_path: Path) -> None:
    """pyenv's shims answer to python3.X on PATH and refuse to run unless it is selected."""
    shims = tmp_path / "shims"
    shims.mkdir()
    shim = shims / f"python{HERE}"
    shim.write_text(f"#!/bin/sh\necho 'pyenv: python{HERE}: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    root = tmp_path / "pyenv"
    python = link(root / "versions" / f"{HERE}.99" / "bin" / f"python{HERE}", BASE)
    search = find_interpreter(runner(), {"PATH": str(shims), "PYENV_ROOT": str(root)}, HERE)
    assert search.found is not None
    assert (search.found.path, search.found.source) == (str(python), "pyenv")
    assert f"{shim} (PATH): does not run (exit status 127" in search.rejected[0]


def test_an_interpreter_of_another_version_under_the_name_is_refused(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    link(bin_dir / "python3.99", BASE)
    search = find_interpreter(runner(), {"PATH": str(bin_dir), "PYENV_ROOT": ""}, "3.99")
    assert search.found is None
    assert f"is cpython {HERE}, not CPython 3.99" in search.rejected[0]


def test_none_found_says_where_it_looked(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    search = find_interpreter(runner(), {"PATH": "", "PYENV_ROOT": str(empty)}, "3.13")
    assert search.found is None
    assert search.rejected == [
        "python3.13: not on PATH",
        "uv: not on PATH",
        f"pyenv: no {empty}/versions/3.13*/bin/python3.13",
    ]


@pytest.mark.skipif(not pyenv_versions(), reason="pyenv holds no CPython on this machine")
@pytest.mark.parametrize("version", pyenv_versions() or ["none"])
def test_pyenv_interpreters_of_this_machine_are_found(version: str) -> None:
    # Only pyenv: PATH as this run has it (pyenv's shims on it fail for unselected versions).
    environ = {"PATH": os.environ.get("PATH", ""), "PYENV_ROOT": str(PYENV_ROOT)}
    search = find_interpreter(runner(), environ, version)
    assert search.found is not None, search.rejected
    assert search.found.version == version
    assert Path(search.found.path).name == f"python{version}"
