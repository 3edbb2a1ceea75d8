"""The step a project runs before building (``make cython``), read from where it lives today:
the ``run:`` steps an old workflow's build job runs before its build, and cibuildwheel's own
``before-build``. init writes them as ``[tool.release] before-build``, which every build stage
runs (the generated workflows hold no such line of YAML).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import shell_syntax
from ..errors import ConfigError
from ..project.pyproject import PackageInfo
from ..project.toml import read_toml
from .system_needs import building_workflows

# A step that builds the package: what the pre-build steps come before.
_BUILD_ACTIONS = ("maturin-action", "pypa/cibuildwheel", "build-and-inspect-python-package")
_BUILD_COMMANDS = re.compile(
    r"^\s*(python3?\s+-m\s+(build|cibuildwheel)|maturin\s+(build|sdist)|cibuildwheel"
    r"|pip3?\s+wheel|python3?\s+setup\.py\s+(bdist_wheel|sdist))\b",
    re.MULTILINE,
)
# Commands that prepare the runner, not the sources: left to the generated workflow (or to
# apt-packages, read elsewhere).
_RUNNER_SETUP = frozenset({
    "echo", "ls", "cd", "mkdir", "pwd", "cat", "git", "curl", "wget", "sudo", "apt", "apt-get",
    "yum", "dnf", "brew", "choco", "rustup", "export", "set", "env", "printenv", "which",
    "uname", "df", "nproc", "python3 --version", "python --version", "nox",
})  # fmt: skip
# What the build stages install themselves: installing only these prepares no step.
_BUILD_TOOLS = frozenset({
    "pip", "setuptools", "wheel", "build", "cibuildwheel", "maturin", "twine", "nox",
    "nox-release", "auditwheel", "delocate", "abi3audit", "uv",
})  # fmt: skip
_PIP_INSTALL = re.compile(r"^(?:python3?\s+-m\s+)?(?:uv\s+)?pip3?\s+install\s+(?P<args>.*)$")


@dataclass(frozen=True)
class BeforeBuildFound:
    commands: tuple[str, ...]
    why: str  # where they were read
    left_out: tuple[str, ...] = ()  # steps init could not carry over, with why
    # Some come from [tool.cibuildwheel] before-build, which cibuildwheel runs too.
    cibuildwheel_too: bool = False


def _is_build(step: dict[str, Any]) -> bool:
    uses = str(step.get("uses", ""))
    return any(action in uses for action in _BUILD_ACTIONS) or bool(
        _BUILD_COMMANDS.search(str(step.get("run", "")))
    )


def _lines(run: str) -> list[str]:
    """A ``run:`` script's commands: continuation lines joined, ``&&`` lists split, comments
    and blank lines dropped."""
    joined = re.sub(r"\s*\\\n\s*", " ", run)
    commands = []
    for line in joined.splitlines():
        command = line.split(" #", 1)[0].strip()
        if command and not command.startswith("#"):
            commands += [part.strip() for part in command.split("&&") if part.strip()]
    return commands


def _installs_only_build_tools(command: str) -> bool:
    match = _PIP_INSTALL.match(command)
    if match is None:
        return False
    try:
        words = shlex.split(match["args"])
    except ValueError:
        return False
    names = [re.split(r"[<>=!~\[; ]", w, maxsplit=1)[0].lower() for w in words if w[:1] != "-"]
    return all(name in _BUILD_TOOLS for name in names)


def _prepares_sources(command: str) -> bool:
    first = command.split(maxsplit=1)[0]
    return not (
        first in _RUNNER_SETUP
        or command in _RUNNER_SETUP
        or "${{" in command  # an expression of the workflow: no meaning outside it
        or _installs_only_build_tools(command)
    )


def _from_workflows(root: Path) -> tuple[list[str], list[str], list[str]]:
    """The commands of ``run:`` steps before a build step, in each building workflow's
    jobs; where they were read; and those that only a shell can run."""
    try:
        from ..workflows.audit import read_workflow
    except ImportError:  # pragma: no cover - ruamel.yaml comes with nox-release's check tools
        return [], [], []
    commands: list[str] = []
    where: list[str] = []
    left_out: list[str] = []
    from ..workflows.generate import HEADER

    for path, text in building_workflows(root):
        if text.startswith(HEADER):  # init's own (run again): [tool.release] holds its steps
            continue
        data, _problem = read_workflow(path)
        jobs = data.get("jobs") if isinstance(data, dict) else None
        for job in jobs.values() if isinstance(jobs, dict) else ():
            steps = job.get("steps") if isinstance(job, dict) else None
            steps = [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []
            builds = [at for at, step in enumerate(steps) if _is_build(step)]
            if not builds:
                continue
            found = []
            for step in steps[: builds[0]]:
                found += [c for c in _lines(str(step.get("run", ""))) if _prepares_sources(c)]
            # An install for a step is carried with it; installs alone prepare nothing.
            if all(_PIP_INSTALL.match(c) for c in found):
                continue
            for command in found:
                if shell_syntax(command) is not None:
                    left_out.append(f"{command!r} ({path.name}: needs a shell)")
                elif command not in commands:
                    commands.append(command)
            if path.name not in where:
                where.append(path.name)
    return commands, where, left_out


def _cibuildwheel_before_build(package: PackageInfo, package_dir: str) -> list[str]:
    """[tool.cibuildwheel] before-build as commands run from the project root: its
    placeholders filled in, its ``&&`` lists split."""
    value = package.tool("cibuildwheel").get("before-build")
    entries = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    commands = []
    for entry in entries:
        if not isinstance(entry, str):
            continue
        text = entry.replace("{project}", ".").replace("{package}", package_dir)
        text = text.replace("{python}", "python").replace("{pip}", "python -m pip")
        commands += [part.strip() for part in text.split("&&") if part.strip()]
    return commands


def _already_configured(root: Path) -> list[str]:
    """[tool.release] before-build of the root's pyproject.toml (init run again)."""
    pyproject = root / "pyproject.toml"
    try:
        tool = read_toml(pyproject).get("tool") if pyproject.is_file() else None
    except ConfigError:
        return []
    release = tool.get("release") if isinstance(tool, dict) else None
    value = release.get("before-build") if isinstance(release, dict) else None
    entries = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [entry for entry in entries if isinstance(entry, str)]


def read_before_build(root: Path, package: PackageInfo, package_dir: str) -> BeforeBuildFound:
    """What the project runs before building today, as ``before-build`` commands: what
    [tool.release] has already, then its old workflows' steps, then cibuildwheel's."""
    commands = _already_configured(root)
    why = ["[tool.release] before-build in pyproject.toml"] if commands else []
    from_workflows, where, left_out = _from_workflows(root)
    if from_workflows:
        commands += [c for c in from_workflows if c not in commands]
        them = "them" if len(from_workflows) > 1 else "it"
        verb = "runs" if len(where) == 1 else "run"
        why.append(f"{', '.join(where)} {verb} {them} before building")
    shown = "pyproject.toml" if package_dir == "." else f"{package_dir}/pyproject.toml"
    from_cibuildwheel = []
    for command in _cibuildwheel_before_build(package, package_dir):
        if shell_syntax(command) is not None:
            left_out.append(f"{command!r} ([tool.cibuildwheel] before-build: needs a shell)")
        else:
            from_cibuildwheel.append(command)
    # Installs alone prepare nothing on the host (cibuildwheel runs them in each build's own
    # environment); a step that writes sources (make cython) is what the sdist needs too.
    if all(_PIP_INSTALL.match(c) for c in from_cibuildwheel):
        from_cibuildwheel = []
    if from_cibuildwheel:
        commands += [c for c in from_cibuildwheel if c not in commands]
        why.append(f"[tool.cibuildwheel] before-build in {shown}")
    return BeforeBuildFound(
        tuple(commands), "; ".join(why), tuple(left_out), cibuildwheel_too=bool(from_cibuildwheel)
    )
