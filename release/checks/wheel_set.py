"""wheel-set: exactly the wheels the project should ship: each expected wheel once, nothing else.

The expected set is ``[tool.release.wheels]`` or what the backend says it builds; validate
hands it over in the context. A wheel a build stage could not make on this machine (its record
says ``skipped``, or it was a host build whose record names that wheel's build as not made)
is a note, not an error, unless ``--strict``: the stage said why, once. Publish refuses a
release with such a note; the dry run passes with it, as it does with a skipped platform.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..dists import ANY, RELEASE_PLATFORMS, UNKNOWN, Distribution
from ..errors import ConfigError
from ..expected import NOT_BUILT_HERE, ExpectedWheel
from ..records import Finding
from ..regression import incomplete_builds
from .base import Check, CheckContext


class WheelSetCheck(Check):
    name = "wheel-set"
    runs_without_files = True

    def applies_to(self, dist: Distribution) -> bool:
        return dist.is_wheel

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        wheels = [d for d in dists if d.name_problem is None]  # integrity reports the others
        expected = ctx.expected
        if expected is None:
            return [self._unknown_set(ctx, len(wheels)), *self._unchecked(wheels)]
        not_here = incomplete_builds(ctx.build_records)
        found: list[Finding] = []
        matched: set[str] = set()
        for entry in expected.wheels:
            hits = [w.filename for w in wheels if entry.matches(w.tag_strings)]
            matched.update(hits)
            if not hits:
                excuse = None
                if entry.platform in not_here.platforms:
                    excuse = "was skipped"
                elif entry.build and entry.build in not_here.by_host_builds:
                    excuse = f"was a host build, which could not make {entry.build}"
                elif entry.build and entry.build in not_here.identifiers:
                    excuse = f"left {entry.build} to another runner"
                found.append(self._missing(entry, excuse, ctx.strict))
            elif len(hits) > 1:
                found.append(
                    self.error(
                        f"{len(hits)} wheels match the one expected {entry.platform} wheel "
                        f"{entry.describe()}: {', '.join(hits)}",
                        remedy="keep one and remove the others from the dist dir.",
                    )
                )
        found += [self._unexpected(w) for w in wheels if w.filename not in matched]
        # Each wheel missing, unexpected or not built here is its own finding above: the
        # summary says the numbers and where the set comes from, not the problems again.
        found.append(
            self.info(
                f"expected {len(expected.wheels)} wheels, found {len(wheels)}; expected set "
                f"from {expected.source}"
            )
        )
        return found

    def _unknown_set(self, ctx: CheckContext, count: int) -> Finding:
        problem = ctx.expected_problem
        if problem is None:
            return self.info(
                f"no expected wheel set: the {ctx.config.backend} backend does not say which "
                f"wheels it builds (list them in [tool.release.wheels] to have the set "
                f"checked); found {count} wheels"
            )
        project = ctx.project_problem
        if (
            isinstance(problem, ConfigError)
            and project is not None
            and project.cause == problem.cause
        ):
            # The version check reports this very cause; say where, not again.
            return self.info("no expected wheel set: the project could not be read (see version)")
        return self.error(
            f"the expected wheel set could not be derived: {problem.cause}",
            remedy=problem.remedy,
        )

    def _unchecked(self, wheels: Sequence[Distribution]) -> list[Finding]:
        """Without an expected set nothing says an iOS or Android wheel is out of place; and
        no check reads its binaries. That must not pass in silence (an unknown platform tag
        is the pypi-tags check's error)."""
        return [
            self.warning(
                f"a wheel for {wheel.platform}: nox-release checks the binaries of Linux, "
                "Windows and macOS wheels only, so nothing here shows this one loads",
                wheel.filename,
                "remove it from the dist dir, or list the expected wheels in "
                "[tool.release.wheels] to have the set checked.",
            )
            for wheel in wheels
            if wheel.platform not in (*RELEASE_PLATFORMS, ANY, UNKNOWN)
        ]

    def _missing(self, entry: ExpectedWheel, excuse: str | None, strict: bool) -> Finding:
        """``excuse``: how the build stage said it could not make this wheel here."""
        what = f"the {entry.platform} wheel {entry.describe()}"
        stage = f"build-{entry.platform}"
        if excuse is None:
            return self.error(
                f"{what} is missing",
                remedy=f"check the {stage} output and record, or change the expected set "
                f"([tool.release.wheels] {entry.platform}).",
            )
        if strict:
            return self.error(
                f"{what} is missing: {stage} {excuse} where it ran, and --strict needs every wheel",
                remedy=f"run {stage} where it can build (its record says where) and put its "
                "wheels in the dist dir.",
            )
        return self.info(f"{what} {NOT_BUILT_HERE} ({stage} {excuse}; its record says why)")

    def _unexpected(self, wheel: Distribution) -> Finding:
        platform = wheel.platform or UNKNOWN
        tags = ", ".join(wheel.tag_strings)
        if platform in RELEASE_PLATFORMS:
            remedy = f"remove it from the dist dir, or add it to [tool.release.wheels] {platform}."
        elif platform == ANY:
            remedy = (
                "remove it from the dist dir, or add it to [tool.release.wheels] linux (a pure "
                "wheel is built, and listed, once)."
            )
        elif platform == "mixed":
            remedy = (
                "remove it from the dist dir: its tags name several platforms, and a wheel's "
                "binaries are built for one."
            )
        elif platform == UNKNOWN:
            remedy = "remove it from the dist dir: its platform tag is not one any installer knows."
        else:
            remedy = (
                f"remove it from the dist dir: nox-release releases Linux, Windows and macOS "
                "wheels, "
                f"and this is a {platform} wheel."
            )
        return self.error(
            f"unexpected wheel: no expected wheel matches its tags ({tags})",
            wheel.filename,
            remedy,
        )
