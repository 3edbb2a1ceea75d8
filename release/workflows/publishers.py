"""Other workflows that publish this package, or make the GitHub Release of its tag.

The one judgement check makes on workflows nox-release did not write (issue 15, item 5): a
second publisher of one version either fails (PyPI refuses a file it already has) or publishes
files nox-release never validated; a second maker of the tag's GitHub Release shares the
release page with the github-release stage.

What counts as publishing: a step that uses pypa/gh-action-pypi-publish, or PyO3/maturin-action
with ``command: upload``/``publish``; a ``run:`` that calls ``twine upload``, ``uv publish``,
``maturin publish``/``upload``, or ``hatch``/``flit``/``poetry``/``pdm publish``; or a job that
mints an OIDC token (``id-token: write``) in the PyPI environment. An upload to TestPyPI is not
a second PyPI publisher.

Whose package: an upload names a directory (the step's ``working-directory``, the action's
``packages-dir``, the files given to twine or uv, maturin's ``-m``/``--manifest-path``). It is
another package's when the nearest directory at or above it that holds a package
(pyproject.toml, setup.py, setup.cfg or Cargo.toml) is neither this package's directory nor
one of its ancestors (the repository root included): ``b/dist`` when ``b`` is a package of its
own and this one is ``a``. An upload that names nothing (``dist/`` at the root) is this
package's: a repository root builds whatever it builds there, and a double publish is worse
than a question. A minting job is another package's only when every upload in it is.

When: a workflow whose triggers cannot fire for the release tag (a push filter that rejects
the tag, branches only, pull requests) is no second publisher; narrowing its trigger that way
is one of the remedies. Pushing the tag, creating it, publishing its GitHub Release (the
github-release stage does), ``workflow_run``, ``workflow_dispatch``, ``repository_dispatch``,
``schedule`` and ``workflow_call`` can.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from ..config import ReleaseConfig
from ..records import ERROR, WARNING, Finding
from ..tag import EXAMPLE_VERSION, tag_for
from .audit import WORKFLOW_GLOB, filter_matches, read_workflow, triggers

Kind = Literal["publisher", "github-release"]

PYPI_PUBLISH_ACTION = "pypa/gh-action-pypi-publish"
MATURIN_ACTION = "pyo3/maturin-action"
RELEASE_ACTIONS = (
    "softprops/action-gh-release",
    "ncipollo/release-action",
    "actions/create-release",
)
PACKAGE_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "Cargo.toml")
# Triggers that can run a workflow when the tag is released, besides a push of the tag.
_RELEASE_TIME = ("create", "release", "workflow_run", "workflow_dispatch", "repository_dispatch",
                 "schedule", "workflow_call")  # fmt: skip
_TEST_INDEX = ("test.pypi.org", "testpypi")
# Uploaders run as `<tool> <verb>`, maybe through python -m, pipx run, uvx.
_UPLOADERS = {
    ("twine", "upload"),
    ("uv", "publish"),
    ("maturin", "publish"),
    ("maturin", "upload"),
    ("hatch", "publish"),
    ("flit", "publish"),
    ("poetry", "publish"),
    ("pdm", "publish"),
}


@dataclass(frozen=True)
class Found:
    kind: Kind
    job: str
    where: str  # "job publish, step 3 uses pypa/gh-action-pypi-publish"


def _patterns(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


PUSH_OF_TAG = "push of the tag"


def fires_for(data: Mapping[str, Any], tag: str) -> list[str]:
    """The triggers that can run the workflow when ``tag`` is released (none: it cannot run
    then). A push whose tag filter accepts the tag is ``PUSH_OF_TAG``; an unfiltered push is
    ``push``."""
    on = triggers(data)
    fires = []
    push = on.get("push")
    if "push" not in on:
        pass
    elif not isinstance(push, Mapping) or not push:
        fires.append("push")  # no filter: every push, tags included
    elif "tags" in push or "tags-ignore" in push:
        tags = _patterns(push.get("tags")) or ["**"]
        ignored = _patterns(push.get("tags-ignore"))
        if filter_matches(tags, tag) and not (ignored and filter_matches(ignored, tag)):
            fires.append(PUSH_OF_TAG)
    # Only branch filters: GitHub runs it for no tag. Path filters alone: tags are not filtered.
    elif "branches" not in push and "branches-ignore" not in push:
        fires.append("push")
    return fires + [event for event in _RELEASE_TIME if event in on]


def _steps(job: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    steps = job.get("steps")
    for number, step in enumerate(steps if isinstance(steps, list) else [], start=1):
        if isinstance(step, Mapping):
            yield number, step


def job_environment(job: Mapping[str, Any]) -> str | None:
    value = job.get("environment")
    name = value.get("name") if isinstance(value, Mapping) else value
    return None if name is None else str(name)


def mints(permissions: Any) -> bool:
    return permissions == "write-all" or (
        isinstance(permissions, Mapping) and permissions.get("id-token") == "write"
    )


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True)
    except ValueError:  # an unbalanced quote, which an expression may leave: words still
        return text.split()


def commands(script: str) -> Iterator[list[str]]:
    """Each simple command of a ``run:`` script as words (continuation lines joined)."""
    joined = script.replace("\\\n", " ")
    for line in joined.splitlines():
        for part in line.replace("&&", ";").replace("||", ";").replace("|", ";").split(";"):
            words = _words(part)
            if words:
                yield words


def uploader(words: list[str]) -> tuple[str, list[str]] | None:
    """``twine upload dist/*`` and the like: the command shown, and its arguments."""
    for start in range(len(words) - 1):
        tool = PurePosixPath(words[start]).name
        pair = (tool, words[start + 1])
        if pair in _UPLOADERS:
            return " ".join(pair), words[start + 2 :]
    return None


def _to_test_index(words: Iterable[str]) -> bool:
    return any(hint in word.lower() for word in words for hint in _TEST_INDEX)


# Options of the uploaders that take a value (a URL, a name, a file): not the files uploaded.
_VALUED = {"-r", "--repository", "--repository-url", "-u", "--username", "-p", "--password",
           "-t", "--token", "--publish-url", "--index", "--config-file", "-c", "--comment",
           "-i", "--identity", "--sign-with", "--cert", "--client-cert", "--check-url",
           "--trusted-publishing", "--keyring-provider", "--attestations", "--build", "--repo",
           "--pypirc", "--interpreter", "--target", "--features", "--format", "-f"}  # fmt: skip


def _paths(arguments: list[str]) -> list[str]:
    """The directories an uploader's arguments name: its files' directories, maturin's
    manifest's directory."""
    found = []
    for number, word in enumerate(arguments):
        before = arguments[number - 1] if number else ""
        if before in ("-m", "--manifest-path"):
            found.append(str(PurePosixPath(word).parent))
        elif word.startswith("--manifest-path="):
            found.append(str(PurePosixPath(word.split("=", 1)[1]).parent))
        elif not word.startswith("-") and before not in _VALUED:
            found.append(str(PurePosixPath(word).parent))
    return found


class Ownership:
    """Whether a directory an upload names is this package's (see the module's docstring)."""

    def __init__(self, root: Path, package_dir: str) -> None:
        self.root = root
        self.package = PurePosixPath(package_dir)

    def _nearest_package(self, directory: PurePosixPath) -> PurePosixPath | None:
        for candidate in (directory, *directory.parents):
            if candidate == PurePosixPath("."):
                return None
            if any((self.root / candidate / marker).is_file() for marker in PACKAGE_MARKERS):
                return candidate
        return None

    def ours(self, directory: str) -> bool:
        if directory.startswith(("$", "/", "~")) or ".." in PurePosixPath(directory).parts:
            return True  # an expression or outside the repository: nothing to tell it by
        nearest = self._nearest_package(PurePosixPath(directory))
        if nearest is None:
            return True
        return nearest == self.package or nearest in self.package.parents


def _joined(base: str | None, path: str) -> str:
    return str(PurePosixPath(base or ".") / path)


def _defaults_directory(data: Mapping[str, Any], job: Mapping[str, Any]) -> str | None:
    for holder in (job, data):
        defaults = holder.get("defaults")
        run = defaults.get("run") if isinstance(defaults, Mapping) else None
        if isinstance(run, Mapping) and run.get("working-directory"):
            return str(run["working-directory"])
    return None


def step_uploads(
    data: Mapping[str, Any], job: Mapping[str, Any], step: Mapping[str, Any]
) -> tuple[str, list[str]] | None:
    """What a step uploads to PyPI (described) and the directories it names; None when it
    uploads nothing there."""
    given = step.get("with")
    inputs: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    if "uses" in step:
        action = str(step["uses"]).split("@", 1)[0]
        if action.lower() == PYPI_PUBLISH_ACTION:
            if _to_test_index([str(inputs.get("repository-url", ""))]):
                return None
            return f"uses {action}", [str(inputs.get("packages-dir", "dist"))]
        if action.lower() == MATURIN_ACTION:
            command = str(inputs.get("command", "build"))
            if command not in ("upload", "publish"):
                return None
            arguments = _words(str(inputs.get("args", "")))
            if _to_test_index(arguments):
                return None
            base = inputs.get("working-directory")
            named = _paths(arguments)
            directories = [_joined(base, p) for p in named] or [str(base or ".")]
            return f"uses {action} (command: {command})", directories
        return None
    if "run" not in step:
        return None
    base = step.get("working-directory") or _defaults_directory(data, job)
    for words in commands(str(step["run"])):
        found = uploader(words)
        if found is None or _to_test_index(words):
            continue
        tool, arguments = found
        named = _paths(arguments)
        directories = [_joined(base, p) for p in named] or [str(base or ".")]
        return f"runs `{tool}`", directories
    return None


def _makes_release(step: Mapping[str, Any]) -> str | None:
    if "uses" in step:
        action = str(step["uses"]).split("@", 1)[0]
        return f"uses {action}" if action.lower() in RELEASE_ACTIONS else None
    for words in commands(str(step.get("run", ""))):
        for start in range(len(words) - 2):
            if PurePosixPath(words[start]).name == "gh" and words[start + 1 : start + 3] == [
                "release",
                "create",
            ]:
                return "runs `gh release create`"
    return None


def judge(
    data: Any, *, ownership: Ownership, tag: str, environment: str
) -> tuple[list[str], list[Found]]:
    """What a workflow (as data) does that another publisher would: the trigger that runs it
    for ``tag`` and what it does then; nothing when it does not run for the tag."""
    if not isinstance(data, Mapping):
        return [], []
    fires = fires_for(data, tag)
    jobs = data.get("jobs")
    if not fires or not isinstance(jobs, Mapping):
        return fires, []
    found = []
    for name, job in jobs.items():
        if not isinstance(job, Mapping):
            continue
        uploads = []
        for number, step in _steps(job):
            where = f"job {name}, step {number}"
            upload = step_uploads(data, job, step)
            if upload is not None:
                uploads.append(any(ownership.ours(d) for d in upload[1]))
                if uploads[-1]:
                    found.append(Found("publisher", str(name), f"{where} {upload[0]}"))
            made = _makes_release(step)
            if made is not None:
                found.append(Found("github-release", str(name), f"{where} {made}"))
        permissions = job.get("permissions", data.get("permissions"))
        named = job_environment(job)
        in_pypi = named is not None and named.lower() == environment.lower()
        # Minting is said only where no upload step says it better.
        if mints(permissions) and in_pypi and not uploads:
            found.append(Found(
                "publisher", str(name), f"job {name} mints OIDC tokens (id-token: write) in the "
                f"environment {named}",
            ))  # fmt: skip
    return fires, found


PUBLISHERS = "other-publishers"


def _reading(path: Path) -> Any:
    return read_workflow(path)[0]


def other_workflows(
    config: ReleaseConfig, version: str | None, files: Iterable[Path]
) -> list[Finding]:
    """One error per other workflow that publishes this package when its tag is released; one
    warning per other workflow that makes the tag's GitHub Release then."""
    tag = tag_for(config.tag_pattern, version or EXAMPLE_VERSION)
    package_dir = config.package_dir.relative_to(config.project_root).as_posix()
    ownership = Ownership(config.project_root, package_dir)
    environment = config.publish.environment or "pypi"
    release_workflow = config.publish.workflow
    name = config.package.name if config.package.name else "this package"
    found = []
    for path in files:
        fires, does = judge(_reading(path), ownership=ownership, tag=tag, environment=environment)
        shown = config.shown(path)
        uploads = [f.where for f in does if f.kind == "publisher"]
        releases = [f.where for f in does if f.kind == "github-release"]
        when = _when(fires, tag)
        if uploads:
            found.append(Finding(
                ERROR, PUBLISHERS, shown,
                f"publishes {name} to PyPI too, {when}: {'; '.join(uploads)}. Two publishers "
                "of one version fail (PyPI refuses a file it already has) or publish files "
                "nox-release never validated",
                f"delete {shown}, or its {_jobs(does)} (the release workflow "
                f"{release_workflow} publishes now), or "
                f"{_narrowing(fires, tag)}.",
            ))  # fmt: skip
        if releases:
            found.append(Finding(
                WARNING, PUBLISHERS, shown,
                f"makes the GitHub Release of the tag too, {when}: {'; '.join(releases)}. "
                "It shares that release page with nox-release's github-release stage: whichever "
                "runs second adds its files to the release the first made, and a file of the "
                "same name with other content stops the github-release stage",
                f"let one of them make the release: remove that step from {shown} "
                "(`nox -s github-release` uploads the validated wheels, sdist and SHA256SUMS), "
                "or have it upload only files nox-release does not, or set its trigger so "
                f"that it does not run for the tag {tag}.",
            ))  # fmt: skip
    return found


def _jobs(does: list[Found]) -> str:
    names = sorted({f.job for f in does if f.kind == "publisher"})
    return ("job " if len(names) == 1 else "jobs ") + ", ".join(names)


def _narrowing(fires: list[str], tag: str) -> str:
    """How to keep a workflow from running for the tag: each trigger that runs it, narrowed."""
    ways = []
    for trigger in fires:
        if trigger == PUSH_OF_TAG:
            ways.append(f"narrow its on: push: tags filter so that it does not match {tag}")
        elif trigger == "push":
            ways.append("give its on: push a branches filter (GitHub runs a push with only "
                        "branch filters for no tag)")  # fmt: skip
        elif trigger == "release":
            ways.append(f"remove its on: release trigger (the github-release stage publishes "
                        f"{tag}'s release)")  # fmt: skip
        else:
            ways.append(f"remove its on: {trigger} trigger")
    return " and ".join(ways)


def _when(fires: list[str], tag: str) -> str:
    said = {
        PUSH_OF_TAG: f"on the push of the tag {tag}",
        "push": f"on every push (the tag {tag} included)",
        "release": "when the GitHub Release is published (the github-release stage publishes it)",
    }
    return " and ".join(said.get(trigger, f"on {trigger}") for trigger in fires)


def next_steps(config: ReleaseConfig, version: str | None, owned: Iterable[Path]) -> str:
    """What init says about the other publishers and release makers: the findings check
    will report, as steps (empty when there are none)."""
    directory = config.project_root / ".github" / "workflows"
    skip = set(owned)  # the same directory: no resolving (a link may loop)
    files = [p for p in sorted(directory.glob(WORKFLOW_GLOB)) if p not in skip]
    findings = other_workflows(config, version, [p for p in files if p.is_file()])
    lines = [f"  - {f.file}: {f.message}.\n    what to do: {f.remedy}" for f in findings]
    if not lines:
        return ""
    title = "  Before the first tag, the other workflows (nox -s check says the same):"
    return "\n".join([title, *lines])
