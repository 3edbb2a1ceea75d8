"""Every stage session as a maintainer runs it: ``nox -s <stage> -- --project ...``, each in the
environment nox makes for it (not the test environment), on both examples.

The sessions install only what their stage needs; a stage that runs a tool its session does
not install (validate deriving a cibuildwheel project's wheels with cibuildwheel) fails here.
A second run of a session reuses its environment and installs nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from conftest import EXAMPLES, REPO

# Each session in the order of a release; publish and github-release as their dry runs.
SESSIONS = {
    "check": (),
    "build-linux": (),
    "build-windows": (),
    "build-macos": (),
    "sdist": (),
    "validate": (),
    "publish": ("--dry-run",),
    "github-release": ("--dry-run",),
    "provenance": ("--dry-run",),
}


@pytest.fixture(scope="module")
def envdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fresh session environments, shared by the tests of this module."""
    return tmp_path_factory.mktemp("nox-envs")


def nox(envdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "NOX_"))}
    env.pop("VIRTUAL_ENV", None)
    env["NOX_RELEASE_CACHE"] = os.environ["NOX_RELEASE_CACHE"]
    return subprocess.run(
        [sys.executable, "-m", "nox", "--noxfile", str(REPO / "noxfile.py"),
         "--envdir", str(envdir), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )  # fmt: skip


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("example", "statuses"),
    [
        (
            "tally",
            {"build-linux": "ok", "build-windows": "ok", "build-macos": "skipped", "sdist": "ok"},
        ),
        (
            "cvec",
            {
                "build-linux": "host build",
                "build-windows": "skipped",
                "build-macos": "skipped",
                "sdist": "not shipped",
            },
        ),
    ],
)
def test_each_stage_session_alone(
    envdir: Path, tmp_path: Path, example: str, statuses: dict[str, str]
) -> None:
    dist = tmp_path / "dist"
    for stage, options in SESSIONS.items():
        proc = nox(envdir, "-s", stage, "--", "--project", str(EXAMPLES / example),
                   "--dist", str(dist), *options)  # fmt: skip
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"nox -s {stage} on {example}:\n{output}"
        assert f"Session {stage} was successful" in output
        assert "Traceback" not in output
    # check ran before the dist dir existed: its record went nowhere, its verdict is above.
    records = {
        stage: json.loads((dist / ".release" / f"{stage}.json").read_text())
        for stage in list(SESSIONS)[1:]
    }
    builds = {s: r["status"] for s, r in records.items() if s.startswith(("build", "sdist"))}
    assert builds == statuses
    assert {records[s]["status"] for s in ("validate", "publish", "github-release")} == {"ok"}
    assert not [f for f in records["validate"]["findings"] if f["level"] != "info"]
    assert "installed from it" in records["publish"]["reason"]
    assert records["github-release"]["details"]["dry_run"] is True
    # The examples publish to PyPI, so the rehearsal signs each file (sigstore: from 3.11).
    rehearsal = records["publish"]["details"]["rehearsal"]
    if sys.version_info >= (3, 11):
        assert sorted(rehearsal["attestations"]) == sorted(rehearsal["uploaded"])
    provenance = records["provenance"]
    assert provenance["status"] == "ok" and provenance["details"]["dry_run"] is True
    assert sorted(provenance["details"]["subjects"]) == sorted(rehearsal["uploaded"])


# --- reused environments ------------------------------------------------------------------------


class FakeSession:
    """What the noxfile's helpers use of a nox session, recording the installs."""

    def __init__(self, location: Path | None) -> None:
        self.virtualenv = SimpleNamespace(location=str(location) if location else None)
        self.posargs: list[str] = []
        self.installs: list[tuple[str, ...]] = []
        self.runs: list[tuple[str, ...]] = []
        self.no_install = False  # nox -R on a reused environment

    def install(self, *args: str) -> None:
        if not self.no_install:
            self.installs.append(args)

    def run_install(self, *args: str, **_: object) -> str | None:
        return None if self.no_install else ""

    def run(self, *args: str, **_: object) -> None:
        self.runs.append(args)

    def log(self, *_: object) -> None:
        pass


def load_noxfile(path: Path, name: str) -> ModuleType:
    """The noxfile as a module; the sessions it registers are taken out of nox's registry
    again (two noxfiles naming the same session is an error in nox's future versions)."""
    import nox.registry

    registered = dict(nox.registry._REGISTRY)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        nox.registry._REGISTRY.clear()
        nox.registry._REGISTRY.update(registered)
    return module


@pytest.fixture(scope="module")
def noxfile() -> ModuleType:
    """This repository's noxfile, loaded once (nox registers its sessions globally)."""
    return load_noxfile(REPO / "noxfile.py", "this_noxfile")


def test_a_second_run_of_a_stage_session_installs_nothing(
    noxfile: ModuleType, tmp_path: Path
) -> None:
    assert noxfile.nox.options.reuse_venv == "yes"
    session = FakeSession(tmp_path / "venv")
    (tmp_path / "venv").mkdir()
    noxfile.validate(session)
    assert len(session.installs) == 1 and "-c" in session.installs[0]
    noxfile.validate(session)
    noxfile.validate(session)
    assert len(session.installs) == 1
    assert len(session.runs) == 3
    # Another session's extras in the same environment are another install line.
    noxfile.check(session)
    assert len(session.installs) == 2
    noxfile.validate(session)  # the environment holds check's install now, not validate's
    assert len(session.installs) == 3


def test_what_the_install_reads_changing_means_installing_again(
    noxfile: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("twine==6.1.0\n")
    monkeypatch.setattr(noxfile, "INSTALL_INPUTS", (REPO / "pyproject.toml", constraints))
    session = FakeSession(tmp_path / "venv")
    (tmp_path / "venv").mkdir()
    noxfile.validate(session)
    noxfile.validate(session)
    constraints.write_text("twine==6.2.0\n")
    noxfile.validate(session)
    assert len(session.installs) == 2


def test_nox_R_skipping_the_install_leaves_no_stamp(noxfile: ModuleType, tmp_path: Path) -> None:
    session = FakeSession(tmp_path / "venv")
    (tmp_path / "venv").mkdir()
    session.no_install = True
    noxfile.validate(session)
    session.no_install = False
    noxfile.validate(session)
    assert len(session.installs) == 1


def test_without_an_environment_of_its_own_it_always_installs(noxfile: ModuleType) -> None:
    session = FakeSession(None)
    noxfile.validate(session)
    noxfile.validate(session)
    assert len(session.installs) == 2


@pytest.mark.e2e
def test_a_second_nox_s_check_reuses_its_environment(envdir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "dist"
    empty.mkdir()
    options = ("--", "--project", str(EXAMPLES / "tally"), "--dist", str(empty))
    first = nox(envdir, "-s", "check", *options)
    assert first.returncode == 0, first.stdout + first.stderr
    second = nox(envdir, "-s", "check", *options)
    output = second.stdout + second.stderr
    assert second.returncode == 0, output
    assert "Reusing existing virtual environment" in output
    assert " install " not in output, output
    # -N (--no-reuse-existing-virtualenvs) makes it afresh, and installs.
    fresh = nox(envdir, "-N", "-s", "check", *options)
    output = fresh.stdout + fresh.stderr
    assert fresh.returncode == 0 and "Creating virtual environment" in output
    assert " install " in output, output


@pytest.mark.e2e
def test_every_benchmark_runs_through_the_bench_session(envdir: Path) -> None:
    unnamed = nox(envdir, "-s", "bench")
    assert unnamed.returncode != 0
    assert "name a benchmark: nox -s bench -- overhead|validate|publish|adoption" in unnamed.stderr
    for name, script in (("overhead", "overhead"), ("validate", "validate_scale"),
                         ("publish", "publish")):  # fmt: skip
        # --help: the session has what the script imports (nox, the stage tools) and runs it.
        proc = nox(envdir, "-s", "bench", "--", name, "--help")
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output
        assert f"bench/{script}.py --help" in output and "usage:" in output
