"""Shared test helpers: the repository's paths and a way to run nox-release as a user does."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from emulators.github_oidc import GitHubOIDC
from emulators.pypi import PyPI, TrustedPublisher
from packaging.version import Version

from release.checks import CheckContext
from release.config import ReleaseConfig, load_config
from release.console import Console
from release.context import RunContext
from release.runner import Runner
from release.stages.validate import check_context as validate_check_context
from release.workflows.generate import workflows

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

# nox-release keeps a per-user cache (the delivery ledger); the tests, and every nox-release
# they start, use one of their own instead of the user's.
os.environ["NOX_RELEASE_CACHE"] = tempfile.mkdtemp(prefix="nox-release-test-cache-")
# validate's regression check asks the configured index (pypi.org by default) for the last
# release: the tests ask only the emulated index, where a test sets one up and unsets this.
os.environ["NOX_RELEASE_OFFLINE"] = "1"


# pytest-timeout's limit ([tool.pytest.ini_options] timeout) counts the session fixtures a test
# is first to use: for an e2e test that is a whole dry run of an example, cargo and maturin
# building from a cold cache on 2 slow cores. Still far below a CI job's own limit.
E2E_TIMEOUT = 1800


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("e2e") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT))


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


# What a CI runner or a workflow may set that makes tools colour what is no terminal (zizmor
# on CI=true, rich on FORCE_COLOR): the reports nox-release reads must survive it.
FORCED_COLOUR = {"CI": "true", "FORCE_COLOR": "1", "CLICOLOR_FORCE": "1"}

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


def run_context(
    config: ReleaseConfig,
    *,
    runner: Runner | None = None,
    tag: str | None = None,
    strict: bool = False,
    dist: Path | None = None,
) -> RunContext:
    """A run of ``config`` whose output goes to a string (``ctx.console.stream``)."""
    console = Console(github=False, stream=io.StringIO(), environ={})
    return RunContext(
        config=config,
        dist=dist or config.dist_dir,
        console=console,
        runner=runner or Runner(console),
        tag=tag,
        strict=strict,
        environ={"NOX_RELEASE_OFFLINE": "1"},
    )


def check_context(
    config: ReleaseConfig,
    *,
    runner: Runner | None = None,
    tag: str | None = None,
    strict: bool = False,
    **replaced: Any,
) -> CheckContext:
    """The checks' context exactly as validate makes it, with fields in ``replaced`` (say
    ``build_records``) set as a test needs."""
    ctx = validate_check_context(run_context(config, runner=runner, tag=tag, strict=strict))
    return dataclasses.replace(ctx, **replaced)


def tiny_project(parent: Path) -> Path:
    """A small pure project with [tool.release] (backend build), written into ``parent``,
    with the workflows its configuration generates (as `nox-release workflows --write`)."""
    root = parent / "tiny-project"
    (root / "tiny").mkdir(parents=True)
    (root / "pyproject.toml").write_text(TINY_PYPROJECT, encoding="utf-8")
    (root / "tiny" / "__init__.py").write_text('"""Tiny."""\n\nVALUE = 1\n', encoding="utf-8")
    (root / "README.md").write_text("# tiny\n\nA pure package.\n", encoding="utf-8")
    for path, text in workflows(load_config(root)).items():
        write_text(path, text)
    return root


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


Built = tuple[subprocess.CompletedProcess[str], Path]

# What publish's tests and github-release's have registered: the workflow and environment.
PUBLISH_TABLE = '\n[tool.release.publish]\nenvironment = "pypi"\nworkflow = "release.yml"\n'


@dataclass
class Release:
    """A project with a built and validated dist dir."""

    project: Path
    dist: Path

    def sha256(self, name: str) -> str:
        return hashlib.sha256((self.dist / name).read_bytes()).hexdigest()

    def record(self, stage: str = "publish") -> dict[str, Any]:
        record: dict[str, Any] = json.loads((self.dist / ".release" / f"{stage}.json").read_text())
        return record


def validated_tiny_project(parent: Path, version: str = "1.0") -> Release:
    """The tiny project at ``version``: its real wheel and sdist, built and validated."""
    root = tiny_project(parent)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace('version = "1.0"', f'version = "{version}"')
    if Version(version).is_prerelease:
        text = text.replace('backend = "build"\n', 'backend = "build"\nprereleases = true\n')
    pyproject.write_text(text + PUBLISH_TABLE)
    for stage in ("build-linux", "sdist", "validate"):
        proc = run_release(stage, "--project", str(root))
        assert proc.returncode == 0, proc.stdout
    return Release(root, root / "dist")


@pytest.fixture(scope="session")
def validated(tmp_path_factory: pytest.TempPathFactory) -> Release:
    """The tiny project's release, built and validated once per test session."""
    return validated_tiny_project(tmp_path_factory.mktemp("released"))


@pytest.fixture
def release(validated: Release, tmp_path: Path) -> Release:
    """A copy of the validated release each test may change."""
    root = tmp_path / "project"
    shutil.copytree(validated.project, root)
    return Release(root, root / "dist")


# What pypi.org holds decides nothing here ("tally" is another project's name there, with
# sdists only): the examples' dry runs in the tests ask no index, and the plan says it could
# not. README's dry run does ask pypi.org, as a maintainer's would.
NO_INDEX = ("--repository", "http://127.0.0.1:9/legacy/")


@pytest.fixture(scope="session")
def tally_release(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The dry run of the Rust example, once per test session: (process, dist dir)."""
    dist = tmp_path_factory.mktemp("tally") / "dist"
    proc = run_release("release", "--project", str(EXAMPLES / "tally"), "--dist", str(dist),
                       *NO_INDEX)  # fmt: skip
    return proc, dist


@pytest.fixture(scope="session")
def cvec_release(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The dry run of the C example, once per test session: (process, dist dir)."""
    dist = tmp_path_factory.mktemp("cvec") / "dist"
    proc = run_release("release", "--project", str(EXAMPLES / "cvec"), "--dist", str(dist),
                       *NO_INDEX)  # fmt: skip
    return proc, dist


# --- the emulated services of publishing ---------------------------------------------------

# The trusted publisher PyPI knows, matching the GitHub emulator's default claims.
PUBLISHER = TrustedPublisher("octo-org/tally", "1234567", "release.yml", "pypi")


@pytest.fixture
def oidc() -> Iterator[GitHubOIDC]:
    """GitHub's OIDC token endpoint (a module may override it, e.g. to set the job's env)."""
    with GitHubOIDC() as server:
        yield server
        assert not server.errors


@pytest.fixture
def pypi(oidc: GitHubOIDC, tmp_path: Path) -> Iterator[PyPI]:
    """PyPI trusting the GitHub emulator's key, with the publisher of the default claims."""
    with PyPI(oidc.signer, packages=tmp_path / "index", publishers=[PUBLISHER]) as server:
        yield server
        assert not server.errors
