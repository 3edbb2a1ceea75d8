"""version: the tag, the project's version and every file agree, and may be published.

Versions are compared as PEP 440 versions (``v1.2`` and ``1.2.0`` agree). The project version
is the static ``[project] version``, or maturin's Cargo.toml version (:mod:`release.project`).
Each file is compared by the version in its name; that its METADATA/PKG-INFO says the same is
the integrity check's finding. A tag that disagrees with the project is one error, and the
files are then compared with the project they were built from, so one cause is said once.
"""

from __future__ import annotations

from collections.abc import Sequence

from packaging.version import Version

from ..dists import Distribution
from ..errors import TagError
from ..records import Finding
from ..tag import parse_tag, release_kind_problem, tag_mismatch
from .base import Check, CheckContext

STALE = (
    "rebuild it from this checkout, or remove the stale file from the dist dir (is an old "
    "build left there?)."
)


class VersionCheck(Check):
    name = "version"
    runs_without_files = True

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        config = ctx.config
        found: list[Finding] = []
        project = ctx.project_version
        if ctx.project_problem is not None:
            found.append(self.error(ctx.project_problem.cause, remedy=ctx.project_problem.remedy))
        elif project is None:
            found.append(self.info(f"{ctx.project_version_source}; relying on the files"))

        tagged: Version | None = None
        if ctx.tag is not None:
            try:
                example = str(project) if project is not None else "1.2.3"
                tagged = parse_tag(ctx.tag, config.tag_pattern, example=example)
            except TagError as exc:
                found.append(self.error(exc.cause, remedy=exc.remedy))
        if tagged is not None and project is not None:
            mismatch = tag_mismatch(
                str(ctx.tag), tagged, project, ctx.project_version_source, config.tag_pattern
            )
            if mismatch is not None:
                found.append(self.error(mismatch.cause, remedy=mismatch.remedy))

        # What the files are compared with: what they were built from when it is known.
        reference: Version | None
        if project is not None:
            reference, says = project, f"the project version ({ctx.project_version_source}) is"
        elif tagged is not None:
            reference, says = tagged, f"the tag {ctx.tag} says"
        else:
            first = next((d for d in dists if d.version is not None), None)
            reference = first.version if first is not None else None
            says = f"{first.filename} says" if first is not None else ""

        released = tagged or reference
        if released is not None:
            place = f"the tag {ctx.tag}" if tagged is not None else f"version {released}"
            problem = release_kind_problem(released, place, config.prereleases)
            if problem is not None:
                found.append(self.error(problem[0], remedy=problem[1]))
        if ctx.tag is None:
            agreed = f"version {reference}" if reference is not None else "one version"
            found.append(
                self.info(
                    "no tag given (--tag, RELEASE_TAG or GITHUB_REF=refs/tags/...); checked "
                    f"that the files agree with {agreed}"
                )
            )
        for dist in dists:
            if dist.version is not None and reference is not None and dist.version != reference:
                found.append(
                    self.error(
                        f"the file name says {dist.version}, {says} {reference}",
                        dist.filename,
                        STALE,
                    )
                )
        return found
