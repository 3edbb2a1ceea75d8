"""The release workflow against ``[tool.release]``: what zizmor and the workflow schema
cannot know, because it is the link between the configuration and the YAML.

The workflow file is where ``[tool.release.publish] workflow`` says (PyPI's trusted
publisher names it); it runs on the tags ``tag-pattern`` makes; it has no
``pull_request_target`` trigger and is not a reusable workflow (PyPI refuses both); the job
that publishes has ``id-token: write`` itself, the one that makes build provenance
``id-token: write`` and ``attestations: write`` (a job lacking one is shown the YAML of the
block it needs), the workflow grants neither to every job, and the publishing job's
environment is the configured one; and every job is thin: only the pinned actions of
:mod:`.actions`, one ``run:`` that installs nox, and ``run: nox ...``. Pinning, permissions
in general, template injection and the like are zizmor's to judge.
"""

from __future__ import annotations

import errno
import fnmatch
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..config import ReleaseConfig
from ..project.pyproject import type_name
from ..records import ERROR, INFO, WARNING, Finding
from ..tag import EXAMPLE_VERSION, tag_for
from .actions import ALLOWED, permissions_yaml
from .generate import tag_filter

CHECK = "workflow"
WORKFLOW_GLOB = "*.y*ml"  # what GitHub runs: .github/workflows/*.yml and *.yaml
_NOX_INSTALL = re.compile(
    r"(python3? -m )?(pip|pipx) install( --upgrade| -U)? nox(\[[\w,]+\])?(==[\w.]+)?"
    r"( uv(==[\w.]+)?)?"
)
_NOX_RUN = re.compile(r"nox( [^\n;&|`$<>]*)?")
_PUBLISH = re.compile(r"nox\b.*\s-s\s+(\S+\s+)*publish\b")
_PROVENANCE = re.compile(r"nox\b.*\s-s\s+(\S+\s+)*provenance\b")
# What a job needs for what it runs (the generated workflow gives them to the publish job,
# which runs both): the OIDC token to publish and to sign with Sigstore, and the right to
# store the build provenance attestation.
NEEDS = {
    "publish": {"id-token": "write"},
    "provenance": {"id-token": "write", "attestations": "write"},
}
# What a missing permission does, and what each session then cannot do.
WITHOUT = {
    "id-token": "GitHub will give it no OIDC token",
    "attestations": "GitHub will refuse to store the build provenance attestation (403)",
}
LOST = {
    ("publish", "id-token"): "no trusted publishing",
    ("provenance", "id-token"): "nothing signed with Sigstore",
}


def filter_regex(pattern: str) -> re.Pattern[str]:
    """GitHub's filter pattern syntax (``*`` not across ``/``, ``**``, ``?`` and ``+`` on
    the preceding character, ``[...]``, ``\\`` escapes) as a regex."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char in "?+":
            out += char
        elif char == "[":
            end = pattern.find("]", i)
            out += pattern[i : end + 1] if end > i else re.escape(char)
            i = end if end > i else i
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out)


def filter_matches(patterns: list[str], value: str) -> bool:
    """Whether ``value`` passes a GitHub filter list (``!`` negates; later patterns win)."""
    matched = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if filter_regex(pattern[1:] if negated else pattern).fullmatch(value):
            matched = not negated
    return matched


def read_workflow(path: Path) -> tuple[Any, str | None]:
    """A workflow file as data, read as YAML 1.2 (where ``on`` is a string, not True), or
    what keeps it from being read (with the line, in YAML)."""
    # ruamel.yaml comes with check-jsonschema, which the check stage installs.
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    text, problem = read_workflow_text(path)
    if text is None:
        return None, problem
    try:
        return YAML(typ="safe").load(text), None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        context = f" ({exc.context})" if exc.context else ""
        return None, f"not valid YAML: {exc.problem or 'not YAML'}{where}{context}"
    except YAMLError as exc:
        return None, f"not valid YAML: {str(exc).splitlines()[0]}"


def read_workflow_text(path: Path) -> tuple[str | None, str]:
    """A workflow file's text; or None and why it has none: a directory, a symbolic link
    that loops, a file that is not UTF-8 text (GitHub reads workflows as UTF-8)."""
    try:
        return path.read_text(encoding="utf-8"), ""
    except IsADirectoryError:
        return None, "is a directory, not a workflow file"
    except UnicodeDecodeError as exc:
        return None, f"is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start})"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, f"is a symbolic link that loops ({exc.strerror})"
        return None, f"cannot be read ({exc.strerror})"


def unreadable_remedy(problem: str) -> str:
    """What to do about a workflow file :func:`read_workflow` could not read."""
    if problem.startswith("not valid YAML"):
        return "fix the YAML there: GitHub runs no job of a workflow it cannot read."
    if problem.startswith("is not UTF-8"):
        return "save it as UTF-8 text: GitHub reads workflow files as UTF-8."
    return (
        "remove or rename it; `nox-release workflows --write` then writes the workflows "
        "[tool.release] makes."
    )


def _filter(push: Mapping[str, Any] | None, key: str) -> tuple[list[str], str | None]:
    """A push filter (``tags``, ``tags-ignore``) as patterns; and, when it is none (``tags:``
    left empty, a number), what it is instead."""
    value = push.get(key) if push is not None else None
    if push is None or key not in push:
        return [], None
    if isinstance(value, str):
        return [value], None
    if isinstance(value, list) and value and all(isinstance(v, (str, int, float)) for v in value):
        return [str(v) for v in value], None
    return [], "empty" if value is None or value in ([], {}) else type_name(value)


# Where the push filters are, as check-jsonschema names places (after its "$."): it also refuses a
# filter that is no list, and check says that cause once, in the audit's words.
FILTER_PATH = "on.push."


def said_by_audit(schema_finding: Finding, audited: list[Finding]) -> bool:
    """Whether a schema finding is about a push filter the audit already called wrong."""
    where = schema_finding.message.split(":", 1)[0].removeprefix("$.")
    return where.startswith(FILTER_PATH) and any(
        f.file == schema_finding.file and f"({where})" in f.message for f in audited
    )


def _finding(level: str, message: str, file: str, remedy: str | None = None) -> Finding:
    return Finding(level, CHECK, file, message, remedy)


def triggers(data: Mapping[str, Any]) -> dict[str, Any]:
    """A workflow's ``on:`` as a mapping of event to its filters, whatever form it takes."""
    on = data.get("on", data.get(True))  # type: ignore[call-overload]  # YAML 1.1: on -> True
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(event): None for event in on}
    return dict(on) if isinstance(on, Mapping) else {}


def _steps(job: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    steps = job.get("steps")
    for number, step in enumerate(steps if isinstance(steps, list) else [], start=1):
        if isinstance(step, Mapping):
            yield number, step


def _runs(job: Mapping[str, Any]) -> list[str]:
    return [str(step.get("run", "")).strip() for _, step in _steps(job) if "run" in step]


def _thin(name: str, job: Mapping[str, Any], file: str) -> list[Finding]:
    found = []
    allowed = {action.repository for action in ALLOWED}
    for number, step in _steps(job):
        where = f"job {name}, step {number}"
        if "uses" in step:
            action = str(step["uses"]).split("@", 1)[0]
            if action not in allowed:
                found.append(_finding(
                    ERROR, f"{where} uses {action}: a thin job uses only "
                    f"{', '.join(sorted(allowed))}",
                    file, "do what the action does in a nox session (nox-release's stages "
                    "build, check and publish), and call that session.",
                ))  # fmt: skip
        elif "run" in step:
            command = str(step["run"]).strip()
            if not (_NOX_INSTALL.fullmatch(command) or _NOX_RUN.fullmatch(command)):
                shown = command.splitlines()[0][:80] + (" ..." if "\n" in command else "")
                found.append(_finding(
                    ERROR, f"{where} runs `{shown}`: a thin job's run steps only install nox "
                    "and call nox sessions", file,
                    "move the logic into a nox session (system packages: [tool.release.linux] "
                    "apt-packages) and call it with `nox -s <session>`.",
                ))  # fmt: skip
    return found


def audit(config: ReleaseConfig, version: str | None) -> list[Finding]:
    """Findings about the release workflow; ``version`` is the project's current version
    (the tag the filter must accept is made from it)."""
    workflows = config.project_root / ".github" / "workflows"
    path = workflows / config.publish.workflow
    file = config.shown(path)
    if workflows.exists() and not workflows.is_dir():
        return [_finding(
            ERROR, "is a file, where the workflows' directory must be",
            config.shown(workflows), "remove or rename it; `nox-release workflows "
            "--write` then writes the workflows [tool.release] makes.",
        )]  # fmt: skip
    if (path.is_symlink() or path.exists()) and not path.is_file():
        if fnmatch.fnmatch(path.name, WORKFLOW_GLOB):
            return []  # the check stage reports it once, with every workflow file
        return [_finding(ERROR, read_workflow_text(path)[1], file,
                         unreadable_remedy(""))]  # fmt: skip
    if not path.is_file():
        present = (
            sorted(p.name for p in workflows.glob(WORKFLOW_GLOB)) if workflows.is_dir() else []
        )
        return [_finding(
            ERROR, "no such file, and it is the release workflow: [tool.release.publish] "
            "workflow names it (PyPI's trusted publisher names it too)"
            + (f"; the workflows here are {', '.join(present)}" if present else ""),
            file, "write it with `nox-release workflows --write`, or set "
            "[tool.release.publish] workflow to the file's name (and register that name on PyPI).",
        )]  # fmt: skip
    data, problem = read_workflow(path)
    if problem is not None:
        return []  # the check stage reports an unreadable workflow once, for every judge
    if not isinstance(data, Mapping):
        return [_finding(ERROR, "not a workflow: its top level is not a mapping",
                         file, "start from `nox-release workflows --write`.")]  # fmt: skip
    found: list[Finding] = []
    events = triggers(data)
    if "pull_request_target" in events:
        found.append(_finding(
            ERROR, "runs on pull_request_target: PyPI refuses to publish from it, and it "
            "runs pull-request code with the repository's secrets", file,
            "trigger the release workflow on tag pushes only (on: push: tags).",
        ))  # fmt: skip
    if "workflow_call" in events:
        found.append(_finding(
            ERROR, "a reusable workflow (on: workflow_call): PyPI's trusted "
            "publisher must name the workflow that publishes, and a called workflow does "
            "not match the caller's registration", file,
            "publish from a workflow started by the tag push itself.",
        ))  # fmt: skip
    tag = tag_for(config.tag_pattern, version or EXAMPLE_VERSION)
    push = events.get("push") if isinstance(events.get("push"), Mapping) else None
    tags, bad_tags = _filter(push, "tags")
    ignored, bad_ignored = _filter(push, "tags-ignore")
    wanted = f'on: push: tags: ["{tag_filter(config.tag_pattern)}"]'
    for key, bad, remedy in (("tags", bad_tags, f"write it as a list: {wanted}."),
                             ("tags-ignore", bad_ignored, "write it as a list of tag patterns, "
                              "or remove it.")):  # fmt: skip
        if bad is not None:
            found.append(_finding(
                ERROR, f"its push {key} filter ({FILTER_PATH}{key}) is {bad}, not a list of tag "
                "patterns", file, remedy,
            ))  # fmt: skip
    runs = bool(tags) and filter_matches(tags, tag) and not (
        ignored and filter_matches(ignored, tag))  # fmt: skip
    if bad_tags is None and not runs:  # a filter that is no list is said just above
        found.append(_finding(
            ERROR, f"does not run for the tag {tag} that tag-pattern "
            f"{config.tag_pattern!r} makes (its push tag filter: {tags or 'none'})", file,
            f'set on: push: tags: ["{config.tag_pattern.replace("{version}", "*")}"].',
        ))  # fmt: skip
    top = data.get("permissions")
    if top == "write-all" or (isinstance(top, Mapping) and top.get("id-token") == "write"):
        found.append(_finding(
            ERROR, "grants id-token: write at the top, to every job: any job could "
            "then mint PyPI tokens", file,
            "set permissions: {} at the top, and id-token: write on the publish job alone.",
        ))  # fmt: skip
    elif isinstance(top, Mapping) and top.get("attestations") == "write":
        found.append(_finding(
            ERROR, "grants attestations: write at the top, to every job: any job could "
            "then store attestations in the repository's name", file,
            "set permissions: {} at the top, and attestations: write on the job that runs "
            "`nox -s provenance` alone.",
        ))  # fmt: skip
    found_jobs = data.get("jobs")
    jobs: Mapping[str, Any] = found_jobs if isinstance(found_jobs, Mapping) else {}
    publishing = [name for name, job in jobs.items() if isinstance(job, Mapping)
                  and any(_PUBLISH.search(run) for run in _runs(job))]  # fmt: skip
    if not publishing:
        found.append(_finding(
            ERROR, "no job runs `nox -s publish`", file,
            "add a publish job (nox-release workflows --write makes one).",
        ))  # fmt: skip
    for name in publishing:
        found += _publish_job(config, name, jobs[name], file)
    for name, job in jobs.items():
        if isinstance(job, Mapping):
            found += _permissions(str(name), job, file)
    for name, job in jobs.items():
        if isinstance(job, Mapping):
            found += _thin(str(name), job, file)
    if not found:
        found.append(_finding(INFO, f"matches [tool.release] (publishing job: "
                              f"{', '.join(publishing)}; tag {tag} starts it)", file))  # fmt: skip
    return found


def _publish_job(
    config: ReleaseConfig, name: str, job: Mapping[str, Any], file: str
) -> list[Finding]:
    found = []
    environment = job.get("environment")
    actual = environment.get("name") if isinstance(environment, Mapping) else environment
    wanted = config.publish.environment
    if wanted is not None and str(actual or "").lower() != wanted.lower():
        found.append(_finding(
            ERROR, f"the publishing job {name} runs in environment "
            f"{actual!r}, and [tool.release.publish] environment (what PyPI's trusted "
            f"publisher checks) is {wanted!r}", file,
            f"set environment: {wanted} on the job, or change [tool.release.publish] "
            "environment (and the trusted publisher on PyPI) to match.",
        ))  # fmt: skip
    elif wanted is None and actual is None:
        found.append(_finding(
            WARNING, f"the publishing job {name} has no environment: anyone who can "
            "push a tag can publish", file,
            'add environment: pypi (with required reviewers in the repository settings) and '
            'environment = "pypi" in [tool.release.publish].',
        ))  # fmt: skip
    return found


def _without(permission: str, roles: list[str]) -> str:
    lost = [LOST[role, permission] for role in roles if (role, permission) in LOST]
    return WITHOUT[permission] + (f" (so {', '.join(lost)})" if lost else "")


def _permissions(name: str, job: Mapping[str, Any], file: str) -> list[Finding]:
    """What a job lacks for the sessions it runs (one finding, with the YAML of the whole
    block it needs), or what it holds that nothing it runs needs."""
    runs = _runs(job)
    roles = [role for role, pattern in (("publish", _PUBLISH), ("provenance", _PROVENANCE))
             if any(pattern.search(run) for run in runs)]  # fmt: skip
    held = job.get("permissions")
    has: Mapping[str, Any] = held if isinstance(held, Mapping) else {}
    if held == "write-all":
        return []  # every permission: zizmor's to judge (excessive-permissions)
    missing = {key: value for role in roles for key, value in NEEDS[role].items()
               if has.get(key) != value}  # fmt: skip
    if missing:
        lacks = " and ".join(f"{key}: {value}" for key, value in missing.items())
        why = "; ".join(_without(key, roles) for key in missing)
        runs_what = " and ".join(f"`nox -s {role}`" for role in roles)
        wanted = {str(k): str(v) for k, v in has.items()} | missing
        environment = job.get("environment")
        shown_env = environment.get("name") if isinstance(environment, Mapping) else environment
        return [_finding(
            ERROR, f"the job {name} runs {runs_what} and lacks {lacks}: {why}", file,
            f"give the job {name} these permissions (on the job, not at the top):\n"
            + permissions_yaml(name, wanted, str(shown_env) if shown_env else None),
        )]  # fmt: skip
    if has.get("attestations") == "write" and "provenance" not in roles:
        return [_finding(
            WARNING, f"the job {name} holds attestations: write and runs no `nox -s "
            "provenance`: it could store attestations in the repository's name, and "
            "nothing it runs needs to", file,
            f"remove attestations: write from the job {name}.",
        )]  # fmt: skip
    return []
