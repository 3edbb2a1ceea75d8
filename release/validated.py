"""What validate passed: the files of the dist dir, refused unless a passing validate record
lists exactly them, with the same sha256 and a complete wheel set. publish and github-release
hand on nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from .context import RunContext
from .dists import Distribution, describe_file, scan_dist_dir
from .errors import PublishRefusedError
from .expected import NOT_BUILT_HERE
from .records import OK, Artifact, read_record

RERUN_VALIDATE = (
    "run nox -s validate on this dist dir (in CI: take the artifact the validate job "
    "uploaded, unchanged)."
)


@dataclass(frozen=True)
class Release:
    """The validated files, read once, and the project and version they are of."""

    dists: list[Distribution]
    project: str
    version: str

    @property
    def expected(self) -> dict[str, str]:
        return {d.filename: d.sha256 for d in self.dists}

    @property
    def artifacts(self) -> list[Artifact]:
        return [Artifact(d.filename, d.size, d.sha256) for d in self.dists]


def validated_release(ctx: RunContext) -> Release:
    """The dist dir's distributions, refused unless a passing validate record lists exactly
    them, with the same sha256."""
    dist = ctx.dist
    source = ctx.record_dir or dist / ".release"
    validated = read_record(dist, "validate", directory=ctx.record_dir)
    if validated is None:
        raise PublishRefusedError(
            f"there is no validate record ({source / 'validate.json'}): publish uploads only "
            "what validate passed.",
            RERUN_VALIDATE,
        )
    if validated.status != OK:
        errors = sum(f.level == "error" for f in validated.findings)
        raise PublishRefusedError(
            f"validate did not pass ({validated.status}, {errors} error(s)); nothing may be "
            "published.",
            "fix what validate reported, then run validate and publish again.",
        )
    paths, _strays = scan_dist_dir(dist) if dist.is_dir() else ([], [])
    on_disk = {p.name: p for p in paths}
    listed = {a.name: a for a in validated.artifacts}
    problems = [
        f"{n} is listed by validate but not in {dist}"
        for n in sorted(listed.keys() - on_disk.keys())
    ]
    problems += [
        f"{n} is in {dist} but validate did not judge it"
        for n in sorted(on_disk.keys() - listed.keys())
    ]
    dists = [describe_file(on_disk[n]) for n in sorted(listed.keys() & on_disk.keys())]
    problems += [
        f"{d.filename} changed since validate (sha256 {d.sha256[:16]}…, validate saw "
        f"{listed[d.filename].sha256[:16]}…)"
        for d in dists
        if d.sha256 != listed[d.filename].sha256
    ]
    if problems:
        raise PublishRefusedError(
            "the dist dir is not what validate passed: " + "; ".join(problems) + ".",
            RERUN_VALIDATE,
        )
    incomplete = [f.message for f in validated.findings if NOT_BUILT_HERE in f.message]
    if incomplete and not ctx.dry_run:
        raise PublishRefusedError(
            f"validate passed without {len(incomplete)} expected wheel(s), which were not built "
            f"where it ran ({incomplete[0]}); a release must be complete.",
            "gather every build job's wheels into the dist dir and run validate --strict, then "
            "publish.",
        )
    names = {d.name for d in dists}
    versions = {str(d.version) for d in dists}
    if len(names) != 1 or len(versions) != 1:
        raise PublishRefusedError(
            f"the files are of {len(names)} project(s) and {len(versions)} version(s); a release "
            "is one version of one project.",
            "keep only this release's files in the dist dir, then validate again.",
        )
    return Release(dists, str(next(iter(names))), next(iter(versions)))
