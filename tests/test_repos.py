"""The fixture repositories of tests/repos.py are what they claim to be: real git repositories
on their branch with their tags and remote, packages whose TOML parses, and answers that name
only what the fixture has. (What init makes of them is measured by bench/adoption.py.)"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import repos

from release.config import ReleaseTable, check_tag_pattern, manylinux_glibc
from release.project.toml import read_toml

IDS = [fixture.name for fixture in repos.FIXTURES]


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("repos")
    return {fixture.name: repos.make(fixture, base / fixture.name) for fixture in repos.FIXTURES}


@pytest.mark.parametrize("fixture", repos.FIXTURES, ids=IDS)
def test_is_a_git_repository_on_its_branch_with_its_tags_and_remote(
    fixture: repos.Fixture, made: dict[str, Path]
) -> None:
    root = made[fixture.name]
    assert git(root, "rev-parse", "--show-toplevel") == str(root.resolve())
    assert git(root, "symbolic-ref", "--short", "HEAD") == fixture.branch
    assert sorted(git(root, "tag", "--list").split()) == sorted(fixture.tags)
    # The current version's tag is on the commit that holds the project.
    assert git(root, "tag", "--points-at", "HEAD") == fixture.tags[-1]
    assert git(root, "remote", "get-url", "origin") == fixture.remote
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+\.git", fixture.remote)
    assert git(root, "status", "--porcelain") == "", "every file is committed"


@pytest.mark.parametrize("fixture", repos.FIXTURES, ids=IDS)
def test_every_pyproject_parses_and_the_package_is_where_the_answer_says(
    fixture: repos.Fixture, made: dict[str, Path]
) -> None:
    root = made[fixture.name]
    pyprojects = sorted(root.rglob("pyproject.toml"))
    assert pyprojects
    for pyproject in pyprojects:
        read_toml(pyproject)
    package = read_toml(root / fixture.expected.package_dir / "pyproject.toml")
    assert "build-system" in package
    for lock in fixture.locks:
        assert "[[package]]" in (root / lock).read_text(encoding="utf-8")


@pytest.mark.parametrize("fixture", repos.FIXTURES, ids=IDS)
def test_the_answer_names_only_what_the_fixture_has(
    fixture: repos.Fixture, made: dict[str, Path]
) -> None:
    root = made[fixture.name]
    expected = fixture.expected
    workflows = {p.relative_to(root).as_posix() for p in (root / ".github/workflows").iterdir()}
    named = set(expected.foreign_workflows) | {expected.old_publisher} - {None}
    assert named <= workflows
    assert expected.old_publisher not in expected.foreign_workflows
    if expected.old_publisher is not None:
        assert expected.publish_workflow == expected.old_publisher.rsplit("/", 1)[-1]
    # Each field is a key of [tool.release] (or the version init reads).
    assert list(expected.fields()) == list(repos.FIELDS)
    keys = {f.name for f in dataclasses.fields(ReleaseTable)}
    for key in repos.FIELDS:
        if key != "version":
            assert key.split(".")[0].replace("-", "_") in keys, key
            value: object = ReleaseTable()
            for part in key.split("."):
                value = getattr(value, part.replace("-", "_"))
    check_tag_pattern(expected.tag_pattern, root / "pyproject.toml")
    if expected.manylinux is not None:
        manylinux_glibc(expected.manylinux)
    # The current tag is the expected version through the expected pattern.
    assert fixture.tags[-1] == expected.tag_pattern.replace("{version}", expected.version)
    assert (expected.windows_target is not None) == (expected.backend == "maturin")
    assert expected.msys2_packages == () or expected.windows_target == "x86_64-pc-windows-gnu"


@pytest.mark.parametrize("fixture", [f for f in repos.FIXTURES if f.submodules], ids=str)
def test_submodules_are_declared_in_gitmodules(
    fixture: repos.Fixture, made: dict[str, Path]
) -> None:
    root = made[fixture.name]
    for path, url in fixture.submodules:
        assert git(root, "config", "-f", ".gitmodules", f"submodule.{path}.path") == path
        assert git(root, "config", "-f", ".gitmodules", f"submodule.{path}.url") == url


def test_the_shapes_of_issue_15_are_all_there() -> None:
    def has(predicate: object) -> bool:
        return any(predicate(f) for f in repos.FIXTURES)  # type: ignore[operator]

    assert has(lambda f: f.expected.package_dir.startswith("crates/") and "gmp-mpfr-sys"
               in (repos.LOCKS / f.locks.get("Cargo.lock", "none")).read_text()
               if f.locks else False)  # fmt: skip
    assert has(lambda f: 'cmake.source-dir = "../.."' in "".join(f.files.values())
               and f.branch == "master")  # fmt: skip
    assert has(lambda f: "ext_modules" in f.files.get("setup.py", "")
               and "[project]" in f.files.get("pyproject.toml", ""))  # fmt: skip
    assert has(lambda f: "generate-import-lib" not in f.files.get("Cargo.toml", "x")
               and 'abi3-py38' in f.files.get("Cargo.toml", ""))  # fmt: skip
    assert has(lambda f: "pull_request_target" in f.files.get(".github/workflows/ci.yml", "")
               and "twine upload" in "".join(f.files.values()))  # fmt: skip
    assert has(lambda f: "setuptools-rust" in f.files.get("pyproject.toml", ""))
    assert has(lambda f: any(p.endswith(".pyx") for p in f.files))
    assert has(lambda f: "mesonpy" in f.files.get("pyproject.toml", ""))
    assert has(lambda f: "setup.py" in f.files
               and "[project]" not in f.files.get("pyproject.toml", ""))  # fmt: skip
    assert has(lambda f: not f.tags[-1].startswith("v"))
    assert has(lambda f: bool(f.submodules))
    assert has(lambda f: ".github/workflows/CI.yml" in f.files)


@pytest.mark.e2e
@pytest.mark.parametrize("fixture", repos.FIXTURES, ids=IDS)
def test_builds_with_its_own_backend(fixture: repos.Fixture, tmp_path: Path) -> None:
    """Each package builds from its checkout as pip would build it (its build backend, in
    isolation), and the wheel works: a native one is tagged for this platform."""
    root = repos.make(fixture, tmp_path / "repo")
    package = root / fixture.expected.package_dir
    wheels = tmp_path / "wheels"
    if fixture.expected.before_build:
        # Its step before building (make cython), as the build stages run it: in the root,
        # with `python` the first on PATH (a throwaway venv, so its installs go there).
        venv = tmp_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        path = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
        for command in fixture.expected.before_build:
            subprocess.run(
                shlex.split(command), cwd=root, env={**os.environ, "PATH": path}, check=True,
                capture_output=True,
            )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(wheels), str(package)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("*.whl")
    assert wheel.name.endswith("-none-any.whl") == (fixture.expected.backend == "build")
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-c", fixture.smoke], check=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
    )  # fmt: skip
