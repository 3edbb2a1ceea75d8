"""metadata: what PyPI refuses or renders broken, as twine judges it.

``twine check`` parses the core metadata with packaging (a malformed field is refused, as
PyPI refuses it) and renders the long description as PyPI does. Errors are what PyPI would
refuse or render broken; a missing description is a warning that names the key to add, since
PyPI accepts it. twine stops at the first file it cannot parse, so the files it never reached
are checked by another run: every file gets its own verdict, and silence is never a pass.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..dists import Distribution
from ..records import Finding
from ..runner import child_env
from .base import Check, CheckContext, readable

_CHECKING = re.compile(r"^Checking (?P<path>.+?): (?P<rest>.*)$")
_INVALID = re.compile(r"ERROR\s+InvalidDistribution: (?P<reason>.*)$")
_LEVEL = re.compile(r"^(?P<level>ERROR|WARNING)\s+(?P<text>.*)$")

MISSING_DESCRIPTION = "`long_description` missing."
MISSING_CONTENT_TYPE = "`long_description_content_type` missing."


@dataclass
class Verdict:
    """What twine said of one file."""

    outcome: str  # PASSED | PASSED with warnings | FAILED | invalid
    messages: list[str] = field(default_factory=list)


def parse_twine_check(output: str) -> dict[str, Verdict]:
    """Verdicts by the path twine was given, from ``twine --no-color check`` output."""
    verdicts: dict[str, Verdict] = {}
    current: Verdict | None = None
    for raw in output.splitlines():
        line = raw.rstrip()
        checking = _CHECKING.match(line)
        if checking is not None:
            rest = checking["rest"].strip()
            invalid = _INVALID.search(rest)
            if invalid is not None:
                current = Verdict("invalid", [invalid["reason"].strip()])
            elif rest in ("PASSED", "PASSED with warnings") or rest.startswith("FAILED"):
                current = Verdict("FAILED" if rest.startswith("FAILED") else rest)
            else:
                current = None
                continue
            verdicts[checking["path"]] = current
            continue
        if current is None or not line.strip():
            continue
        level = _LEVEL.match(line)
        if level is not None:
            current.messages.append(level["text"].strip())
        elif current.messages:
            # twine indents the lines of a multi-line message (the markup error's context).
            current.messages[-1] += "\n" + line.strip()
    return verdicts


class MetadataCheck(Check):
    name = "metadata"
    tools = ("twine",)

    def applies_to(self, dist: Distribution) -> bool:
        # Without METADATA/PKG-INFO there is nothing to judge; integrity says it is missing.
        return readable(dist) and dist.metadata_bytes is not None

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        ctx.runner.require("twine", why="the metadata check runs twine check")
        pending = {str(d.path): d for d in dists}
        verdicts: dict[str, Verdict] = {}
        while pending:
            result = ctx.runner.run(
                ["twine", "--no-color", "check", *pending],
                # Wide lines: twine wraps its messages to the terminal width otherwise.
                env=child_env(extra={"COLUMNS": "4000"}, uncoloured=True),
                why="checking metadata with twine check",
                check=False,
            )
            reached = {p: v for p, v in parse_twine_check(result.output).items() if p in pending}
            if not reached:
                break  # twine judged none of them: the remaining files get no verdict below
            verdicts.update(reached)
            for path in reached:
                pending.pop(path)
        found: list[Finding] = []
        for path, dist in {str(d.path): d for d in dists}.items():
            verdict = verdicts.get(path)
            found += self._judge(dist, verdict)
        return found

    def _judge(self, dist: Distribution, verdict: Verdict | None) -> list[Finding]:
        name = dist.filename
        pyproject = "the package's pyproject.toml [project]"
        if verdict is None:
            return [
                self.error(
                    "twine check gave no verdict for this file",
                    name,
                    f"run `twine check {name}` by hand and read what it says.",
                )
            ]
        if verdict.outcome == "invalid":
            reason = verdict.messages[0] if verdict.messages else "invalid metadata"
            return [
                self.error(
                    f"PyPI would refuse the metadata: {reason}",
                    name,
                    f"fix that field in {pyproject} and rebuild.",
                )
            ]
        if verdict.outcome == "FAILED":
            detail = "; ".join(m.replace("\n", " ") for m in verdict.messages) or "FAILED"
            return [
                self.error(
                    f"the long description would not render on PyPI: {detail}",
                    name,
                    "fix the markup of the readme file named by readme in [project] "
                    "(twine check shows the line), and rebuild.",
                )
            ]
        found = []
        if MISSING_DESCRIPTION in verdict.messages:
            found.append(
                self.warning(
                    "there is no long description: PyPI will show an empty project page",
                    name,
                    f'add readme = "README.md" to {pyproject}.',
                )
            )
        elif any(m.startswith(MISSING_CONTENT_TYPE) for m in verdict.messages):
            found.append(
                self.warning(
                    "the description has no content type, so PyPI renders it as reStructuredText",
                    name,
                    "give the readme file a .md or .rst suffix, or set readme = {file = "
                    '"README", content-type = "text/markdown"} in [project].',
                )
            )
        return found
