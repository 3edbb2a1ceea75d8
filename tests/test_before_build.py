"""``before-build`` in [tool.release]: the project's own step before building (``make
cython``), run by each build stage in the project root before the backend, as cibuildwheel's
before-build is; a failing step leaves the dist dir as it was."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, run_release

from release.errors import BeforeBuildError, CommandFailedError
from release.init.before_build import BeforeBuildFound, read_before_build
from release.project.pyproject import read_package

# A C extension whose source is generated, as Cython's C is by `make cython`: the checkout
# holds the generator, not the C file, so nothing builds without the step.
PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "answer"
version = "1.0.0"
requires-python = ">=3.9"

[tool.setuptools]
packages = ["answer"]

[tool.release]
backend = "build"
{before_build}

[tool.release.wheels]
linux = ["cp3*-cp3*-manylinux_2_17_x86_64"]
windows = []
"""
SETUP_PY = """\
from setuptools import Extension, setup

setup(ext_modules=[Extension("answer._answer", ["generated/_answer.c"])])
"""
GENERATOR = '''\
"""Writes generated/_answer.c, as a code generator would."""
from pathlib import Path

Path("generated").mkdir(exist_ok=True)
Path("generated/_answer.c").write_text("""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "The answer."}, {0}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_answer", 0, -1, methods};
PyMODINIT_FUNC PyInit__answer(void) { return PyModule_Create(&module); }
""")
print("generated/_answer.c written")
'''
FAILING_GENERATOR = """\
#!/usr/bin/env python3
import sys

print("generator: grammar file grammar.y not found")
sys.exit(3)
"""


def project(parent: Path, before_build: str) -> Path:
    root = parent / "answer"
    (root / "answer").mkdir(parents=True)
    (root / "tools").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT.format(before_build=before_build))
    (root / "setup.py").write_text(SETUP_PY)
    (root / "MANIFEST.in").write_text("include generated/_answer.c\n")
    (root / "tools" / "generate.py").write_text(GENERATOR)
    (root / "tools" / "fail.py").write_text(FAILING_GENERATOR)
    (root / "tools" / "fail.py").chmod(0o755)
    (root / "answer" / "__init__.py").write_text("from answer._answer import answer\n")
    return root


def snapshot(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.mark.e2e
def test_without_the_step_the_wheel_does_not_build(tmp_path: Path) -> None:
    """The shape needs its step: with no before-build the build fails on the missing C."""
    root = project(tmp_path, before_build="")
    proc = run_release("build-linux", "--project", str(root), "--dist", str(tmp_path / "dist"))
    out = proc.stdout + proc.stderr
    assert proc.returncode == CommandFailedError.exit_code, out
    assert "generated/_answer.c" in out
    assert not list((tmp_path / "dist").glob("*.whl"))


@pytest.mark.e2e
def test_the_step_generates_the_source_the_wheel_is_built_from(tmp_path: Path) -> None:
    root = project(tmp_path, before_build='before-build = "python tools/generate.py"')
    dist = tmp_path / "dist"
    proc = run_release("build-linux", "--project", str(root), "--dist", str(dist))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "[tool.release] before-build (pyproject.toml): 1 command(s)" in out
    [wheel] = dist.glob("answer-1.0.0-*manylinux*.whl")
    record = json.loads((dist / ".release" / "build-linux.json").read_text())
    commands = record["commands"]
    # The step ran first, in the project root, then the backend.
    assert commands[0]["argv"] == ["python", "tools/generate.py"]
    assert Path(commands[0]["cwd"]) == root.resolve()
    assert commands[1]["argv"][1:4] == ["-m", "build", "--wheel"]
    assert record["details"]["before_build"]["commands"] == [["python", "tools/generate.py"]]
    # The wheel holds the compiled generated code, and it runs.
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    check = subprocess.run(
        [sys.executable, "-c", "import answer; assert answer.answer() == 42"],
        env={**os.environ, "PYTHONPATH": str(unpacked)}, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr


@pytest.mark.e2e
def test_the_sdist_ships_what_the_step_generated_and_builds(tmp_path: Path) -> None:
    """A generated-source step is what an sdist needs too: it must ship the generated C, and
    the stage's own proof (a wheel from the sdist alone) passes only if it does."""
    root = project(tmp_path, before_build='before-build = ["python tools/generate.py"]')
    dist = tmp_path / "dist"
    proc = run_release("sdist", "--project", str(root), "--dist", str(dist))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    [sdist] = dist.glob("answer-1.0.0.tar.gz")
    with tarfile.open(sdist) as archive:
        assert "answer-1.0.0/generated/_answer.c" in archive.getnames()
    record = json.loads((dist / ".release" / "sdist.json").read_text())
    assert [check["result"] for check in record["details"]["sdist_builds"]] == ["ok"]


@pytest.mark.parametrize("stage", ["build-linux", "sdist"])
def test_a_failing_step_leaves_the_dist_dir_as_it_was(tmp_path: Path, stage: str) -> None:
    root = project(
        tmp_path,
        # A script of the project runs as the program itself, found in the project root
        # (the stage runs from elsewhere).
        before_build='before-build = ["python tools/generate.py", "tools/fail.py --strict"]',
    )
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "answer-0.9.0-cp312-cp312-manylinux_2_17_x86_64.whl").write_bytes(b"earlier run")
    (dist / "keep.txt").write_text("not ours")
    before = snapshot(dist)
    proc = run_release(stage, "--project", str(root), "--dist", str(dist))
    out = proc.stdout + proc.stderr
    assert proc.returncode == BeforeBuildError.exit_code, out
    assert (
        "tools/fail.py --strict, of [tool.release] before-build in pyproject.toml, exited with "
        "status 3" in out
    )
    assert "nothing was built, and the dist dir is as it was" in out
    assert "generator: grammar file grammar.y not found" in out  # the step's own words
    assert f"run it by hand in {root.resolve()}" in out
    assert "Traceback" not in out
    after = snapshot(dist)
    assert {k: v for k, v in after.items() if not k.startswith(".release/")} == before
    assert not (dist / ".release" / "tmp").exists()
    record = json.loads((dist / ".release" / f"{stage}.json").read_text())
    assert record["status"] == "failed"
    assert record["error"]["kind"] == "BeforeBuildError"
    assert record["artifacts"] == []
    # The first command ran, the failing one stopped the stage: the backend never started.
    ran = [c["argv"] for c in record["commands"] if "build" not in c["argv"][1:3]]
    assert ran == [["python", "tools/generate.py"], [str(root / "tools/fail.py"), "--strict"]]
    assert not any("build" in c["argv"][1:3] for c in record["commands"])


@pytest.mark.e2e
def test_init_carries_the_old_workflows_step_and_the_sdist_stage_runs_it(tmp_path: Path) -> None:
    """The Cython fixture's old workflow runs `make cython` before cibuildwheel; init writes
    it as before-build, and the sdist stage then ships the generated C, which builds."""
    import repos

    fixture = repos.by_name("cython-bare-tags")
    root = repos.make(fixture, tmp_path / "repo")
    init = run_release("init", "--project", str(root), "--from", str(REPO), "--force")
    assert init.returncode == 0, init.stdout + init.stderr
    assert "before-build python -m pip install" in init.stdout
    # `python` of the step is the first on PATH: a throwaway venv, which gets the Cython.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    path = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    dist = tmp_path / "dist"
    proc = run_release("sdist", "--project", str(root), "--dist", str(dist), env={"PATH": path})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    [sdist] = dist.glob("fastbloom-0.9.2.tar.gz")
    with tarfile.open(sdist) as archive:
        assert "fastbloom-0.9.2/fastbloom/_bits.c" in archive.getnames()
    record = json.loads((dist / ".release" / "sdist.json").read_text())
    assert [check["result"] for check in record["details"]["sdist_builds"]] == ["ok"]


# --- what init reads ---------------------------------------------------------------------------

BUILD_JOB = """\
name: wheels
on: {{push: {{tags: ["v*"]}}}}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
{steps}
      - uses: pypa/cibuildwheel@v2.21
      - run: python -m build --sdist
      - run: make docs
"""


def read(tmp_path: Path, steps: str, cibuildwheel: str = "") -> BeforeBuildFound:
    root = tmp_path / "project"
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "wheels.yml").write_text(BUILD_JOB.format(steps=steps))
    (root / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "1"\n[tool.cibuildwheel]\n' + cibuildwheel
    )
    return read_before_build(root, read_package(root), ".")


def test_init_reads_the_steps_before_the_build_and_leaves_runner_setup(tmp_path: Path) -> None:
    found = read(tmp_path, (
        "      - run: |\n"
        "          python -m pip install -U pip cibuildwheel  # the build's own tools\n"
        "          sudo apt-get install -y m4\n"
        "          echo building ${{ github.ref }}\n"
        "          python -m pip install cython && make cython\n"
        "      - run: |\n"
        "          python tools/gen.py --out src/ \\\n"
        "            --fast\n"
    ))  # fmt: skip
    assert found.commands == (
        "python -m pip install cython",
        "make cython",
        "python tools/gen.py --out src/ --fast",
    )
    assert found.why == "wheels.yml runs them before building"
    assert found.left_out == ()


def test_installs_alone_are_no_step(tmp_path: Path) -> None:
    found = read(tmp_path, "      - run: pip install cibuildwheel==2.21 'cython>=3'\n")
    assert found.commands == ()
    assert found.why == ""


def test_a_shell_line_is_named_not_carried(tmp_path: Path) -> None:
    found = read(tmp_path, "      - run: python gen.py > src/table.c\n      - run: make cython\n")
    assert found.commands == ("make cython",)
    assert found.left_out == ("'python gen.py > src/table.c' (wheels.yml: needs a shell)",)


def test_cibuildwheels_before_build_is_carried_for_the_sdist_and_host_builds(
    tmp_path: Path,
) -> None:
    found = read(tmp_path, "", cibuildwheel=(
        'before-build = ["pip install cython", "make -C {project} cython && python {package}/'
        'tools/check.py", "rm -rf build/*"]\n'
    ))  # fmt: skip
    assert found.commands == (
        "pip install cython",
        "make -C . cython",
        "python ./tools/check.py",
    )
    assert "[tool.cibuildwheel] before-build in pyproject.toml" in found.why
    assert found.left_out == ("'rm -rf build/*' ([tool.cibuildwheel] before-build: needs a shell)",)


def test_cibuildwheels_installs_alone_are_not_carried_to_the_host(tmp_path: Path) -> None:
    """cibuildwheel installs them in each build's environment; on the host they would only
    change nox-release's own."""
    found = read(tmp_path, "", cibuildwheel='before-build = "pip install cython numpy"\n')
    assert found.commands == ()
    assert not found.cibuildwheel_too
