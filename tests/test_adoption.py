"""``nox-release init`` on the fixture repositories of tests/repos.py (issue 15): it takes
nothing away. Of the project's workflows only the old publisher may change, and only with
--force; the release workflow keeps the old publisher's file name and environment, fires on
the project's tags and can be dispatched with one; the dry run is a file of its own, on the
default branch; submodules are checked out; no file name differs from another only in case.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import repos
from conftest import REPO

from release import cli
from release.config import load_config, read_toml
from release.context import tag_from_environment
from release.errors import ConfigValueError, InTheWayError, WouldOverwriteError
from release.expected import NOT_BUILT_HERE
from release.workflows.audit import filter_matches, read_workflow

IDS = [fixture.name for fixture in repos.FIXTURES]


def init(root: Path, *args: str) -> int:
    return cli.main(["init", "--project", str(root), "--from", str(REPO), *args])


def hashes(root: Path) -> dict[str, str]:
    directory = root / ".github" / "workflows"
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.iterdir())
    }


def table(root: Path) -> dict[str, Any]:
    release: dict[str, Any] = read_toml(root / "pyproject.toml")["tool"]["release"]
    return release


@pytest.mark.parametrize("fixture", repos.FIXTURES, ids=IDS)
def test_init_force_changes_no_workflow_but_the_old_publisher(
    fixture: repos.Fixture, tmp_path: Path
) -> None:
    root = repos.make(fixture, tmp_path / fixture.name)
    before = hashes(root)
    init(root)  # without --force: a diff at most, nothing written over
    assert {p: h for p, h in hashes(root).items() if p in before} == before
    code = init(root, "--force")
    after = hashes(root)
    mine = set(after) - set(before)
    expected = fixture.expected
    for path in before:
        if path != expected.old_publisher:
            assert after[path] == before[path], f"init --force changed {path}"
    assert len({p.lower() for p in after}) == len(after), sorted(after)
    if code != 0:  # a shape init does not adopt yet (item 17): it wrote nothing
        assert mine == set()
        return
    release = table(root)
    assert release["publish"]["workflow"] == expected.publish_workflow
    assert release["publish"]["environment"] == expected.publish_environment
    assert release.get("tag-pattern") == expected.tag_pattern
    config = load_config(root)
    workflows = root / ".github" / "workflows"
    assert config.ci.workflow == "release-dry-run.yml"
    assert config.ci.branch == fixture.branch
    assert ".github/workflows/release-dry-run.yml" in mine
    release_yml, _ = read_workflow(workflows / config.publish.workflow)
    dry_run, _ = read_workflow(workflows / config.ci.workflow)
    assert filter_matches(release_yml["on"]["push"]["tags"], fixture.tags[-1])
    assert release_yml["on"]["workflow_dispatch"]["inputs"]["tag"]["required"] is True
    assert dry_run["on"]["push"]["branches"] == [fixture.branch]
    checkouts = [
        step for workflow in (release_yml, dry_run) for job in workflow["jobs"].values()
        for step in job["steps"] if step.get("uses", "").startswith("actions/checkout@")
    ]  # fmt: skip
    for step in checkouts:
        assert (step["with"].get("submodules") == "recursive") is bool(fixture.submodules)


def test_the_old_publisher_is_shown_with_what_it_did_and_replaced_only_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repos.make(repos.by_name("gmp-workspace"), tmp_path / "gmp")
    before = hashes(root)
    assert init(root) == WouldOverwriteError.exit_code
    out = capsys.readouterr().out
    assert "--- .github/workflows/wheels.yml (now)" in out
    assert "publishes the package to PyPI today" in out
    assert "    - built macOS wheels" in out
    assert "    - built aarch64/arm64 wheels" in out
    assert "ran on pull requests" not in out  # wheels.yml ran on tags alone
    assert hashes(root) == before
    assert init(root, "--force") == 0
    out = capsys.readouterr().out
    assert hashes(root)[".github/workflows/wheels.yml"] != before[".github/workflows/wheels.yml"]
    # The trusted publisher registered for wheels.yml / pypi stays valid: nothing to register.
    assert "The trusted publisher PyPI has for wheels.yml (environment pypi)" in out
    assert "Register the trusted publisher" not in out


def test_a_token_publisher_gets_the_registration_to_make(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repos.make(repos.by_name("zizmor-findings"), tmp_path / "ledger")
    assert init(root, "--force") == 0
    out = capsys.readouterr().out
    assert "Register the trusted publisher" in out
    assert "Workflow name       publish.yml" in out
    assert "Environment name    pypi" in out
    assert "publish.yml uploaded with a token" in out


def test_a_workflow_of_the_projects_own_where_init_writes_is_never_replaced(
    tmp_path: Path,
) -> None:
    fixture = repos.by_name("setuptools-c")  # no publisher: the release workflow is release.yml
    root = repos.make(fixture, tmp_path / "own")
    own = root / ".github" / "workflows" / "release.yml"
    own.write_text("name: release\non:\n  push:\n    tags: ['v*']\njobs: {}\n")
    before = hashes(root)
    pyproject = (root / "pyproject.toml").read_bytes()
    assert init(root, "--force") == InTheWayError.exit_code
    assert hashes(root) == before
    assert (root / "pyproject.toml").read_bytes() == pyproject


def test_a_name_that_differs_only_in_case_is_the_same_file(tmp_path: Path) -> None:
    fixture = repos.by_name("setuptools-c")
    root = repos.make(fixture, tmp_path / "case")
    (root / ".github" / "workflows" / "Release-Dry-Run.yml").write_text("name: x\non: push\n")
    before = hashes(root)
    assert init(root, "--force") == InTheWayError.exit_code
    assert hashes(root) == before


def test_a_dispatched_release_takes_its_tag_from_the_input() -> None:
    dispatched = {"RELEASE_TAG": "0.9.2", "GITHUB_REF": "refs/heads/main"}
    assert tag_from_environment(dispatched) == "0.9.2"
    pushed = {"RELEASE_TAG": "", "GITHUB_REF": "refs/tags/v1.0.0"}
    assert tag_from_environment(pushed) == "v1.0.0"


def test_without_tags_the_old_triggers_filter_gives_the_tag_pattern(tmp_path: Path) -> None:
    fixture = repos.by_name("cython-bare-tags")  # tags: ["[0-9]+.[0-9]+.[0-9]+"], no v
    root = repos.make(fixture, tmp_path / "bare")
    for tag in fixture.tags:
        subprocess.run(["git", "-C", str(root), "tag", "-d", tag], check=True, capture_output=True)
    assert init(root, "--force") == 0
    assert table(root)["tag-pattern"] == "{version}"


def test_the_dry_run_and_the_release_cannot_share_a_file(tmp_path: Path) -> None:
    root = repos.make(repos.by_name("setuptools-c"), tmp_path / "share")
    assert init(root) == 0
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[tool.release.ci]\nworkflow = "Release.yml"\n')
    with pytest.raises(ConfigValueError, match="name one file"):
        load_config(root)


def test_taking_over_a_ci_workflow_says_it_ran_on_pull_requests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = repos.make(repos.by_name("uppercase-ci"), tmp_path / "upper")
    assert init(root) == WouldOverwriteError.exit_code
    out = capsys.readouterr().out
    assert "--- .github/workflows/CI.yml (now)" in out
    assert "    - ran on pull requests and branch pushes" in out
    assert "    - built 32-bit wheels" in out  # target: [x64, x86]


@pytest.mark.parametrize("name", ["cmake-bindings", "cython-bare-tags"])
def test_init_run_again_keeps_what_it_took_over(name: str, tmp_path: Path) -> None:
    fixture = repos.by_name(name)
    root = repos.make(fixture, tmp_path / name)
    assert init(root, "--force") == 0
    written = (root / "pyproject.toml").read_bytes()
    before = hashes(root)
    assert init(root) == 0  # nothing would change: no --force needed
    assert (root / "pyproject.toml").read_bytes() == written
    assert hashes(root) == before
    assert table(root)["publish"]["workflow"] == fixture.expected.publish_workflow


def test_workflows_write_refuses_a_name_that_differs_only_in_case(tmp_path: Path) -> None:
    root = repos.make(repos.by_name("setuptools-c"), tmp_path / "write")
    assert init(root, "--force") == 0
    workflows = root / ".github" / "workflows"
    (workflows / "release-dry-run.yml").rename(workflows / "Release-Dry-Run.yml")
    before = hashes(root)
    code = cli.main(["workflows", "--write", "--project", str(root)])
    assert code == InTheWayError.exit_code
    assert hashes(root) == before


# The shapes this machine builds in reasonable time: setuptools C (host build with every
# installed CPython), CMake + scikit-build-core (one identifier, no sdist), the maturin
# workspace with GMP (m4 and libgmp-dev are among the tests' system packages).
DRY_RUN_SHAPES = ["setuptools-c", "cmake-bindings", "gmp-workspace"]


@pytest.mark.e2e
@pytest.mark.parametrize("name", DRY_RUN_SHAPES)
def test_the_dry_run_passes_where_this_machine_can_build_the_shape(
    name: str, tmp_path: Path
) -> None:
    """init --force, then ``python -m release release`` as a new user runs it, outside CI.
    It passes; what this machine could not build (Windows, the identifiers no installed
    CPython or container can make) is named in the output and in validate's record as not
    built here, one note per wheel the build records name, and nothing else is excused."""
    root = repos.make(repos.by_name(name), tmp_path / name)
    assert init(root, "--force") == 0
    outside = ("GITHUB_", "RUNNER_", "RELEASE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(outside) and k != "CI"}
    done = subprocess.run(
        [sys.executable, "-m", "release", "release", "--project", str(root)],
        cwd=root, env=env, capture_output=True, text=True, check=False, timeout=1500,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]

    records = root / "dist" / ".release"

    def record(stage: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((records / f"{stage}.json").read_text("utf-8"))
        return data

    linux = record("build-linux")
    assert linux["status"] in ("ok", "host build")
    assert [a for a in linux["artifacts"] if a["name"].endswith(".whl")], "a Linux wheel"
    validate = record("validate")
    assert validate["status"] == "ok"
    notes = [f["message"] for f in validate["findings"] if NOT_BUILT_HERE in f["message"]]
    assert all(f["level"] != "error" for f in validate["findings"])
    not_built = linux.get("details", {}).get("not_built", [])
    linux_notes = [n for n in notes if n.startswith("the linux wheel ")]
    assert len(linux_notes) == len(not_built)
    for build in not_built:
        assert any(f"could not make {build};" in n for n in linux_notes), build
        assert build in output  # said plainly, where the user reads
    if notes:  # counted where the dry run ends, as well as named one by one
        assert f"{len(notes)} expected wheel(s) not built here" in output
    # A build skipped here (Windows on Linux for cibuildwheel; macOS always) leaves its
    # wheels to its runners: those are the only other notes.
    skipped = [os for os in ("windows", "macos") if record(f"build-{os}")["status"] == "skipped"]
    assert all(n.startswith(("the linux wheel ", *(f"the {os} wheel " for os in skipped)))
               for n in notes), notes  # fmt: skip
    assert record("publish")["status"] == "ok"
