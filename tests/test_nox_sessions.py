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

STAGES = ("build-linux", "build-windows", "sdist", "validate")


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
    for stage in STAGES:
        proc = nox(envdir, "-s", stage, "--", "--project", str(EXAMPLES / example),
                   "--dist", str(dist))  # fmt: skip
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"nox -s {stage} on {example}:\n{output}"
        assert f"Session {stage} was successful" in output
        assert "Traceback" not in output
    records = {
        stage: json.loads((dist / ".release" / f"{stage}.json").read_text()) for stage in STAGES
    }
    assert {s: r["status"] for s, r in records.items() if s != "validate"} == statuses
    assert records["validate"]["status"] == "ok"
    assert not [f for f in records["validate"]["findings"] if f["level"] != "info"]
