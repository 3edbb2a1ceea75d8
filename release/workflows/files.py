"""The workflow files of a project: written from the configuration, or compared with it.

``nox-release workflows --check`` fails, printing the difference, when a workflow file is not
what the configuration generates (edited by hand, or the configuration changed since);
``--write`` brings them in line. CI runs the check, so the YAML never drifts from the config.
"""

from __future__ import annotations

import difflib

from ..config import ReleaseConfig
from ..console import Console
from ..errors import CheckFailedError
from ..fsio import write_text_atomic
from .generate import workflows


def differences(config: ReleaseConfig) -> dict[str, str]:
    """A unified diff per workflow file that differs from what the config makes."""
    found = {}
    for path, wanted in workflows(config).items():
        shown = config.shown(path)
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
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
