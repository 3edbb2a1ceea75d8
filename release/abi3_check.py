"""abi3: ``abi3audit`` on abi3 wheels; a symbol outside the stable ABI is an error.

A wheel tagged ``abi3`` promises to load on every CPython from its baseline on; one
non-stable-ABI symbol breaks that promise on some later interpreter, long after release.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.utils import parse_wheel_filename

from .records import Finding
from .runner import Runner

CHECK = "abi3"


def is_abi3(wheel: Path) -> bool:
    try:
        return any(tag.abi == "abi3" for tag in parse_wheel_filename(wheel.name)[3])
    except ValueError:
        return False


def check_abi3(wheels: Sequence[Path], runner: Runner) -> dict[str, list[Finding]]:
    abi3 = [wheel for wheel in wheels if is_abi3(wheel)]
    if not abi3:
        return {}
    runner.require("abi3audit", why="abi3 wheels are audited for stable-ABI violations")
    result = runner.run(
        ["abi3audit", "--report", *map(str, abi3)],
        why="auditing abi3 wheels with abi3audit",
        check=False,
    )
    return parse_abi3audit(result.output, abi3)


def parse_abi3audit(output: str, wheels: Sequence[Path]) -> dict[str, list[Finding]]:
    start = output.find("{")
    try:
        specs: dict[str, Any] = json.loads(output[start:])["specs"] if start >= 0 else {}
    except (ValueError, KeyError, TypeError):
        specs = {}
    findings: dict[str, list[Finding]] = {}
    for wheel in wheels:
        report = specs.get(str(wheel))
        if report is None:
            findings[wheel.name] = [
                Finding(
                    "error",
                    CHECK,
                    wheel.name,
                    "abi3audit gave no report for this wheel; run `abi3audit -v` on it.",
                )
            ]
            continue
        findings[wheel.name] = list(_wheel_findings(wheel.name, report))
    return findings


def _wheel_findings(name: str, report: dict[str, Any]) -> list[Finding]:
    found = []
    for item in report.get("wheel", []):
        result = item.get("result", {})
        member = item.get("name", "?")
        symbols = [
            s.get("name", str(s)) if isinstance(s, dict) else str(s)
            for s in result.get("non_abi3_symbols", [])
        ]
        if symbols:
            found.append(
                Finding(
                    "error",
                    CHECK,
                    name,
                    f"{member} uses symbols outside the "
                    f"stable ABI: {', '.join(sorted(symbols)[:10])}. Use only the "
                    "limited API (PyO3: the abi3 feature; C: Py_LIMITED_API).",
                )
            )
        baseline, computed = result.get("baseline"), result.get("computed")
        if baseline and computed and not result.get("is_abi3_baseline_compatible", True):
            found.append(
                Finding(
                    "error",
                    CHECK,
                    name,
                    f"{member} is tagged for abi3 from "
                    f"Python {baseline} but uses stable-ABI functions added in "
                    f"{computed}. Raise the abi3 baseline (abi3-py{computed.replace('.', '')}) "
                    "or avoid those functions.",
                )
            )
    return found
