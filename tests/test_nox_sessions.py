"""Every stage session as a maintainer runs it: ``nox -s <stage> -- --project ...``, each in the
environment nox makes for it (not the test environment), on both examples.

The sessions install only what their stage needs; a stage that runs a tool its session does
not install (validate deriving a cibuildwheel project's wheels with cibuildwheel) fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

pytestmark = pytest.mark.e2e

# Each session in the order of a release; publish and github-release as their dry runs.
SESSIONS = {
    "check": (),
    "build-linux": (),
    "build-windows": (),
    "sdist": (),
    "validate": (),
    "publish": ("--dry-run",),
    "github-release": ("--dry-run",),
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


@pytest.mark.parametrize(
    ("example", "statuses"),
    [
        ("tally", {"build-linux": "ok", "build-windows": "ok", "sdist": "ok"}),
        ("cvec", {"build-linux": "host build", "build-windows": "skipped", "sdist": "not shipped"}),
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
