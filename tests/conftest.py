"""Shared test helpers: the repository's paths and a way to run nox-release as a user does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from release.config import ReleaseConfig, load_config

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def run_release(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """``python -m release ARGS`` in a child process, output captured, never raising."""
    full_env = dict(os.environ)
    full_env.pop("GITHUB_ACTIONS", None)
    full_env.pop("GITHUB_REF", None)
    full_env.pop("GITHUB_STEP_SUMMARY", None)
    full_env["PYTHONPATH"] = str(REPO)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "release", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )


TINY_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "tiny"
version = "1.0"
description = "A pure package for testing nox-release."
readme = "README.md"

[tool.setuptools]
packages = ["tiny"]

[tool.release]
backend = "build"

[tool.release.wheels]
linux = ["py3-none-any"]
windows = []
"""


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path``, making its directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def release_project(
    root: Path, release: str, package: str, package_dir: str = "pkg"
) -> ReleaseConfig:
    """A project whose root pyproject.toml has ``[tool.release]`` (plus ``release``) and
    whose package, in ``package_dir``, has the pyproject.toml ``package``; loaded."""
    write_text(root / "pyproject.toml", f'[tool.release]\npackage-dir = "{package_dir}"\n{release}')
    write_text(root / package_dir / "pyproject.toml", package)
    return load_config(root)


def tiny_project(parent: Path) -> Path:
    """A small pure project with [tool.release] (backend build), written into ``parent``."""
    root = parent / "tiny-project"
    (root / "tiny").mkdir(parents=True)
    (root / "pyproject.toml").write_text(TINY_PYPROJECT, encoding="utf-8")
    (root / "tiny" / "__init__.py").write_text('"""Tiny."""\n\nVALUE = 1\n', encoding="utf-8")
    (root / "README.md").write_text("# tiny\n\nA pure package.\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


Built = tuple[subprocess.CompletedProcess[str], Path]


@pytest.fixture(scope="session")
def tally_release(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The dry run of the Rust example, once per test session: (process, dist dir)."""
    dist = tmp_path_factory.mktemp("tally") / "dist"
    proc = run_release("release", "--project", str(EXAMPLES / "tally"), "--dist", str(dist))
    return proc, dist


@pytest.fixture(scope="session")
def cvec_release(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The dry run of the C example, once per test session: (process, dist dir)."""
    dist = tmp_path_factory.mktemp("cvec") / "dist"
    proc = run_release("release", "--project", str(EXAMPLES / "cvec"), "--dist", str(dist))
    return proc, dist
