"""The workflow files of a project: written from the configuration, or compared with it.

``nox-release workflows --check`` fails, printing the difference, when a workflow file is not
what the configuration generates (edited by hand, or the configuration changed since);
``--write`` brings them in line. CI runs the check, so the YAML never drifts from the config.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from ..config import ReleaseConfig
from ..console import Console
from ..errors import CheckFailedError, InTheWayError
from ..fsio import in_the_way, write_text_atomic
from .audit import read_workflow_text
from .generate import workflows


def _in_the_way(config: ReleaseConfig, path: Path) -> InTheWayError | None:
    """A directory where a workflow file goes, or a file where its directory goes: no diff
    can say that, and --write could not replace it."""
    blocking = in_the_way(path)
    if blocking != path:
        shown = config.shown(blocking)
        return InTheWayError(
            f"{shown} is a file, where the directory of {config.shown(path)} must be.",
            f"remove or rename {shown}, then run `nox-release workflows --write`.",
        )
    twins = [
        sibling for sibling in (path.parent.iterdir() if path.parent.is_dir() else ())
        if sibling.name != path.name and sibling.name.lower() == path.name.lower()
    ]  # fmt: skip
    if twins:  # one file on macOS and Windows: writing one would replace the other
        return InTheWayError(
            f"{config.shown(twins[0])} differs from {config.shown(path)} only in case: on macOS "
            "and Windows they are one file.",
            f"rename or remove {config.shown(twins[0])}, or name the generated workflow apart "
            "([tool.release.publish] workflow, [tool.release.ci] workflow).",
        )
    if path.is_dir():
        shown = config.shown(path)
        return InTheWayError(
            f"{shown} is a directory, where the workflow file must be.",
            f"remove or rename the directory {shown}, then run `nox-release workflows --write`.",
        )
    return None


def differences(config: ReleaseConfig) -> dict[str, str]:
    """A unified diff per workflow file that differs from what the config makes (for a file
    that is no UTF-8 text, why no diff is shown)."""
    found = {}
    for path, wanted in workflows(config).items():
        problem = _in_the_way(config, path)
        if problem is not None:
            raise problem
        shown = config.shown(path)
        current = ""
        if path.is_symlink() and not path.exists():
            found[shown] = (
                f"{shown} is a symbolic link that leads nowhere (or loops): it is not what "
                "[tool.release] generates."
            )
            continue
        if path.is_file():
            text, why = read_workflow_text(path)
            if text is None:
                found[shown] = f"{shown} {why}: it is not what [tool.release] generates."
                continue
            current = text
        if current != wanted:
            found[shown] = "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    wanted.splitlines(keepends=True),
                    fromfile=f"{shown} (now)" if current else "/dev/null",
                    tofile=f"{shown} (generated)",
                )
            )
    return found


def write_or_check(config: ReleaseConfig, console: Console, *, write: bool) -> int:
    found = differences(config)
    if write:
        for path, text in workflows(config).items():
            if config.shown(path) in found:
                write_text_atomic(path, text, dist_options=False)
                console.line(f"wrote {config.shown(path)}")
        if not found:
            console.line("the workflows are what the configuration makes: nothing to write")
        return 0
    if not found:
        console.line(f"{len(workflows(config))} workflow(s) match the configuration")
        return 0
    for diff in found.values():
        console.line(diff.rstrip("\n"))
    raise CheckFailedError(
        f"{len(found)} workflow file(s) differ from what [tool.release] generates: "
        f"{', '.join(found)}.",
        "run `nox-release workflows --write` (or `python -m release workflows --write`) and "
        "commit the result; change the configuration, not the YAML.",
    )
