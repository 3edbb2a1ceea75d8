"""What init reads from the repository's own workflows and git before it writes any: which
workflow publishes the package today (the one init may take over), with which file name and
environment PyPI's trusted publisher knows it, the tags the project makes, its default
branch, and what the old publisher did that the generated release workflow will not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..runner import Runner
from ..workflows import publishers

# An upload that passes a token: not trusted publishing, whatever the permissions say.
_TOKEN_VARIABLES = ("TWINE_PASSWORD", "MATURIN_PYPI_TOKEN", "MATURIN_PASSWORD", "UV_PUBLISH_TOKEN")

# What a build job did that the generated workflow does not (it builds Linux and Windows
# x86_64 wheels, and runs no project tests): (pattern in the job's text, what it did).
_LOST = (
    (re.compile(r"\bmacos-"), "built macOS wheels"),
    (re.compile(r"\baarch64\b|\barm64\b"), "built aarch64/arm64 wheels"),
    (re.compile(r"\b(x86|i686|win32)\b"), "built 32-bit wheels"),
    (re.compile(r"\bmusllinux\b|\bmusl\b"), "built musllinux wheels"),
    (re.compile(r"\bcargo\s+test\b"), "ran cargo test before publishing"),
    (re.compile(r"\bpytest\b|\btest-command\b"), "ran the tests before publishing"),
)


@dataclass(frozen=True)
class OldPublisher:
    """The workflow that uploads this package to PyPI today."""

    path: Path
    name: str  # its file name, as PyPI's trusted publisher names it
    environment: str | None  # the GitHub environment of its publishing job
    trusted: bool  # id-token: write and no password: a trusted publisher is registered
    tag_filters: tuple[str, ...]  # its push tag filters
    lost: tuple[str, ...]  # what it did that the generated release workflow will not
    generated: bool = False  # nox-release's own release workflow (init run again)


@dataclass(frozen=True)
class Adoption:
    publisher: OldPublisher | None
    tag_pattern: str
    tag_pattern_why: str
    branch: str
    branch_why: str
    workflows: tuple[Path, ...] = field(default=())  # every workflow file there is


def workflow_files(root: Path) -> list[Path]:
    directory = root / ".github" / "workflows"
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in (".yml", ".yaml"))


def _load(path: Path) -> tuple[str, Any]:
    """The workflow's text and data (data None when it cannot be read as YAML here)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "", None
    try:
        from ..workflows.audit import read_workflow

        data, _ = read_workflow(path)
    except ImportError:  # ruamel.yaml comes with the check stage's tools
        data = None
    return text, data


def _publishes(data: dict[str, Any], job: dict[str, Any], step: Any) -> bool:
    """An upload to PyPI, as check recognises one (workflows/publishers.py), or nox-release's
    own publish step (init run again)."""
    if not isinstance(step, dict):
        return False
    if str(step.get("run", "")).strip() == "nox -s publish":
        return True
    return publishers.step_uploads(data, job, step) is not None


def _mentions_upload(text: str) -> bool:
    """A workflow that cannot be read as YAML here still names its upload in its text."""
    if publishers.PYPI_PUBLISH_ACTION in text.lower():
        return True
    return any(publishers.uploader(words) for words in publishers.commands(text))


def _tag_filters(data: Any) -> tuple[str, ...]:
    on = data.get("on", data.get(True)) if isinstance(data, dict) else None
    push = on.get("push") if isinstance(on, dict) else None
    tags = push.get("tags") if isinstance(push, dict) else None
    if isinstance(tags, str):
        tags = [tags]
    return tuple(str(t) for t in tags) if isinstance(tags, list) else ()


def _id_token(data: dict[str, Any], job: dict[str, Any]) -> bool:
    return any(publishers.mints(holder.get("permissions")) for holder in (job, data))


def read_publisher(path: Path) -> OldPublisher | None:
    """``path`` as a publisher of the package to PyPI, or None when it uploads nothing."""
    text, data = _load(path)
    if not isinstance(data, dict):
        if _mentions_upload(text):
            return OldPublisher(path, path.name, None, False, (), ())
        return None
    jobs: dict[str, Any] = data["jobs"] if isinstance(data.get("jobs"), dict) else {}
    publishing = []
    for job in jobs.values():
        steps = job.get("steps") if isinstance(job, dict) else None
        if isinstance(steps, list) and any(_publishes(data, job, s) for s in steps):
            publishing.append(job)
    if not publishing:
        return None
    job = publishing[0]
    steps = [s for s in job.get("steps", []) if _publishes(data, job, s)]
    password = any(
        (isinstance(s.get("with"), dict) and "password" in s["with"])
        or any(name in str(s.get("env", "")) for name in _TOKEN_VARIABLES)
        for s in steps
    )
    trusted = _id_token(data, job) and not password
    lost: list[str] = []
    for other in jobs.values():
        if other is job:
            continue
        job_text = repr(other)
        for pattern, fact in _LOST:
            if pattern.search(job_text) and fact not in lost:
                lost.append(fact)
    on = data.get("on", data.get(True))
    events = set(on) if isinstance(on, (dict, list)) else {on}
    push = on.get("push") if isinstance(on, dict) else None
    if "pull_request" in events or (isinstance(push, dict) and "branches" in push):
        lost.insert(0, "ran on pull requests and branch pushes (the release workflow runs on tags)")
    from ..workflows.generate import HEADER

    if text.startswith(HEADER):  # what it says came from [tool.release]: nothing to read
        return OldPublisher(
            path, path.name, publishers.job_environment(job), trusted, (), (), generated=True
        )
    return OldPublisher(
        path, path.name, publishers.job_environment(job), trusted, _tag_filters(data), tuple(lost)
    )


def _git(runner: Runner, root: Path, *args: str) -> str | None:
    if runner.which("git") is None:
        return None
    result = runner.run(["git", *args], cwd=root, check=False, quiet=True)
    return result.output.strip() if result.returncode == 0 else None


def default_branch(root: Path, runner: Runner) -> tuple[str, str]:
    head = _git(runner, root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD")
    if head and head.startswith("refs/remotes/origin/"):
        return head[len("refs/remotes/origin/") :], "origin's HEAD"
    current = _git(runner, root, "branch", "--show-current")
    if current:
        return current, "the branch checked out here (origin has no HEAD)"
    return "main", "no branch found in git; main assumed"


NO_TAGS = "no tags yet, and no old publisher's tag filter: the usual v<version>"
_VERSION_TAG = re.compile(r"(?P<prefix>.*?)\d+(\.\d+)+\S*")


def tag_pattern(root: Path, runner: Runner, publisher: OldPublisher | None) -> tuple[str, str]:
    """``v{version}`` or ``{version}`` (or another prefix), from the tags the project made,
    else from its old publisher's tag filter."""
    listed = _git(runner, root, "tag", "--list") or ""
    prefixes: dict[str, int] = {}
    for tag in listed.split():
        match = _VERSION_TAG.fullmatch(tag)
        if match and re.fullmatch(r"[A-Za-z_-]*", match["prefix"]):
            prefixes[match["prefix"]] = prefixes.get(match["prefix"], 0) + 1
    if prefixes:
        prefix = max(prefixes, key=lambda p: prefixes[p])
        return prefix + "{version}", f"the project's tags ({prefixes[prefix]} of them)"
    for pattern in publisher.tag_filters if publisher else ():
        if pattern[:1].isdigit() or pattern.startswith("["):
            return "{version}", f"tags: [{pattern!r}] in {publisher.name if publisher else ''}"
        match = re.fullmatch(r"([A-Za-z_-]+)\*?.*", pattern)
        if match and match[1] != "*":
            return match[
                1
            ] + "{version}", f"tags: [{pattern!r}] in {publisher.name if publisher else ''}"
    return "v{version}", NO_TAGS


def read_adoption(root: Path, runner: Runner) -> Adoption:
    files = workflow_files(root)
    found = [p for p in (read_publisher(f) for f in files) if p is not None]
    # The trusted one is the one PyPI knows; else the first.
    found.sort(key=lambda p: (not p.trusted, p.name))
    publisher = found[0] if found else None
    pattern, pattern_why = tag_pattern(root, runner, publisher)
    branch, branch_why = default_branch(root, runner)
    return Adoption(
        publisher,
        pattern,
        pattern_why,
        branch,
        branch_why,
        tuple(files),
    )
