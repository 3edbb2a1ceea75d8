"""abi3: a wheel tagged abi3 uses only the stable ABI of its baseline, as abi3audit finds.

A wheel tagged ``abi3`` promises to load on every CPython from its baseline on; one
non-stable-ABI symbol breaks that promise on some later interpreter, long after release.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..dists import Distribution
from ..records import Finding
from ..runner import child_env
from .base import Check, CheckContext, json_object_in, readable


def abi3audit_specs(output: str) -> dict[str, Any] | None:
    """The ``specs`` of ``abi3audit --report`` output, by the path it was given."""
    specs = (json_object_in(output) or {}).get("specs")
    return specs if isinstance(specs, dict) else None


class Abi3Check(Check):
    name = "abi3"
    tools = ("abi3audit",)

    def applies_to(self, dist: Distribution) -> bool:
        return dist.is_wheel and readable(dist) and dist.abi3

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        ctx.runner.require("abi3audit", why="abi3 wheels are audited for stable-ABI violations")
        result = ctx.runner.run(
            ["abi3audit", "--report", *(str(d.path) for d in dists)],
            env=child_env(uncoloured=True),
            why="auditing abi3 wheels with abi3audit",
            check=False,
        )
        return self.judge(dists, result.output)

    def judge(self, dists: Sequence[Distribution], output: str) -> list[Finding]:
        specs = abi3audit_specs(output) or {}
        found: list[Finding] = []
        for dist in dists:
            report = specs.get(str(dist.path))
            if not isinstance(report, dict):
                found.append(
                    self.error(
                        "abi3audit gave no report for this wheel",
                        dist.filename,
                        f"run `abi3audit -v {dist.filename}` by hand and read what it says.",
                    )
                )
                continue
            found += self._wheel_findings(dist.filename, report)
        return found

    def _wheel_findings(self, name: str, report: dict[str, Any]) -> list[Finding]:
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
                    self.error(
                        f"{member} uses symbols outside the stable ABI: "
                        f"{', '.join(sorted(symbols)[:10])}",
                        name,
                        "use only the limited API (PyO3: the abi3 feature; C: Py_LIMITED_API).",
                    )
                )
            baseline, computed = result.get("baseline"), result.get("computed")
            if baseline and computed and not result.get("is_abi3_baseline_compatible", True):
                newer = result.get("future_abi3_objects") or {}
                which = ", ".join(f"{k} ({v})" for k, v in sorted(newer.items())[:10])
                found.append(
                    self.error(
                        f"{member} is tagged for abi3 from Python {baseline} but uses "
                        f"stable-ABI functions added in {computed}"
                        f"{': ' + which if which else ''}",
                        name,
                        f"raise the abi3 baseline (abi3-py{str(computed).replace('.', '')}) or "
                        "avoid those functions.",
                    )
                )
        return found
