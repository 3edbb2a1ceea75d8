"""Metadata: ``twine check --strict`` on every artifact, in one run of twine.

twine prints ``Checking <file>: PASSED|FAILED|PASSED with warnings`` and then its messages;
one invocation for all files saves a Python start-up per file. A file for which twine gave no
verdict is an error: silence must never count as a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .records import Finding
from .runner import Runner, child_env

CHECK = "metadata"


def check_metadata(files: Sequence[Path], runner: Runner) -> dict[str, list[Finding]]:
    """Findings per file name; a file that passed maps to []."""
    if not files:
        return {}
    result = runner.run(
        ["twine", "--no-color", "check", "--strict", *map(str, files)],
        # Wide lines: twine wraps its messages to the terminal width otherwise.
        env=child_env(extra={"COLUMNS": "4000", "NO_COLOR": "1"}),
        why="checking metadata with twine check --strict",
        check=False,
    )
    return parse_twine_check(result.output, files)


def parse_twine_check(output: str, files: Sequence[Path]) -> dict[str, list[Finding]]:
    by_path = {str(path): path.name for path in files}
    verdicts: dict[str, str] = {}
    messages: dict[str, list[str]] = {name: [] for name in by_path.values()}
    current: str | None = None
    for raw in output.splitlines():
        line = raw.rstrip()
        if line.startswith("Checking "):
            path, _, verdict = line[len("Checking ") :].rpartition(": ")
            current = by_path.get(path)
            if current is not None:
                verdicts[current] = verdict.strip()
            continue
        if current is None or not line.strip():
            continue
        if line.startswith(("ERROR", "WARNING")):
            messages[current].append(line.strip())
        elif messages[current]:
            messages[current][-1] += " " + line.strip()

    findings: dict[str, list[Finding]] = {}
    for name in by_path.values():
        found: list[Finding] = []
        if name not in verdicts:
            found.append(
                Finding(
                    "error",
                    CHECK,
                    name,
                    "twine check gave no verdict for this "
                    "file; run `twine check --strict` on it by hand.",
                )
            )
        elif verdicts[name] != "PASSED":
            for message in messages[name] or [f"twine check --strict: {verdicts[name]}"]:
                found.append(
                    Finding(
                        "error",
                        CHECK,
                        name,
                        f"twine check --strict: {message} "
                        "Fix the package metadata (pyproject.toml [project]) and "
                        "rebuild.",
                    )
                )
        findings[name] = found
    return findings
