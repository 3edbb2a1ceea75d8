"""regression: the wheels serve every platform and Python the project's last release served.

The comparison publish makes before any upload (:mod:`release.regression`), made here when
the index answers, so that a lost platform shows up with the other findings, not at the
last step. The index is the configured repository's (or ``--repository``'s); validate asks
it once and the check judges what it listed. When it could not be asked (offline,
``NOX_RELEASE_OFFLINE``, no answer) the check says so in a note: publish compares again.

A lost slot of a platform whose build did not run here (a skipped build-windows on Linux, a
host build that could not make every wheel) is a note unless ``--strict``: the wheel-set
check names the missing wheels, and publish refuses an incomplete release anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..dists import Distribution
from ..records import Finding
from ..regression import (
    NotMadeHere,
    build_platform,
    by_platform,
    compare,
    describe_dropped,
    describe_lost,
    incomplete_builds,
    remedy,
    requires_python_of,
)
from .base import Check, CheckContext


class RegressionCheck(Check):
    name = "regression"
    runs_without_files = True

    def applies_to(self, dist: Distribution) -> bool:
        return dist.is_wheel

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        listing = ctx.index_listing
        if listing is None:
            return [self.info(f"not compared with the last release: {ctx.index_problem}")]
        wheels = [d for d in dists if d.name_problem is None]
        version = ctx.project_version or next((d.version for d in wheels if d.version), None)
        if version is None:
            return [self.info("not compared with the last release: the release's version is "
                              "unknown (see version)")]  # fmt: skip
        config = ctx.config
        comparison = compare(
            [d.filename for d in wheels],
            version,
            listing.files,
            yanked=listing.yanked,
            dropped=config.dropped,
            requires_python=requires_python_of(config.package.raw),
        )
        previous = comparison.previous
        if previous is None:
            if listing.form == "absent":
                first = f"the project is not on {ctx.index_url} yet (a first release)"
            else:
                first = f"{ctx.index_url} has no release before {version} with wheels"
            return [self.info(f"{first}: nothing to compare the wheels with")]
        not_here = NotMadeHere() if ctx.strict else incomplete_builds(ctx.build_records)
        blocking = [x for x in comparison.regressions if not not_here.covers(x)]
        excused = [x for x in comparison.regressions if not_here.covers(x)]
        found: list[Finding] = []
        for platform, losts in by_platform(blocking).items():
            text = f"{describe_lost(platform, losts, previous)}; this release has no wheel for it"
            found.append(self.error(text, remedy=remedy(comparison, blocking)))
        for platform, losts in by_platform(excused).items():
            stage = f"build-{build_platform(platform)}"
            found.append(self.info(
                f"{describe_lost(platform, losts, previous)}; this release has no wheel for it, "
                f"and {stage} did not make it here (see wheel-set): publish compares again, "
                "with every wheel"
            ))  # fmt: skip
        for platform, losts in by_platform(comparison.dropped).items():
            found.append(self.info(describe_dropped(platform, losts)))
        found += [self.info(raised.describe(previous)) for raised in comparison.floors_raised]
        found.append(
            self.info(
                f"compared with {previous} on {ctx.index_url} "
                f"({len(comparison.previous_wheels)} wheel(s))"
            )
        )
        return found
