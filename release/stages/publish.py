"""publish: upload what validate passed, with trusted publishing; safe to run again.

The steps a careful maintainer takes: check that the dist dir is exactly what a passing
validate record lists (same files, same sha256); ask the index once what it already has and
print the plan (upload, present, conflict: a conflict stops everything); authenticate
(trusted publishing, else an API token); upload wheels first and the sdist last; ask the
index again and verify every file is there with its sha256. ``--dry-run`` makes the plan
against the configured index when it can be reached, then rehearses the upload on this
machine (:mod:`release.publish.rehearsal`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..context import RunContext
from ..dists import Distribution, describe_file, scan_dist_dir
from ..errors import IndexUnavailableError, PublishRefusedError, UploadConflictError
from ..expected import NOT_BUILT_HERE
from ..publish import credentials as creds
from ..publish.index import Listing, query
from ..publish.plan import CONFLICT, PRESENT, UPLOAD, Step, make_plan, print_plan
from ..publish.rehearsal import rehearse
from ..publish.repository import Repository, resolve
from ..publish.upload import Outcome, upload
from ..publish.verify import verify
from ..records import OK, Artifact, StageRecord, read_record

RERUN_VALIDATE = (
    "run nox -s validate on this dist dir (in CI: publish from the artifact the validate job "
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


def publish(ctx: RunContext, record: StageRecord) -> None:
    release = _validated_release(ctx)
    record.artifacts = release.artifacts
    repository = resolve(
        ctx.repository or ctx.config.publish.repository, ctx.config.publish.index_url
    )
    details = record.details
    details.update(
        project=release.project,
        version=release.version,
        repository=repository.name,
        upload_url=repository.upload_url,
        index_url=repository.index_url,
        dry_run=ctx.dry_run,
    )
    if ctx.dry_run:
        _dry_run(ctx, record, release, repository)
        return
    results = dict.fromkeys(release.expected, "not uploaded")
    details["files"] = results
    listing = query(repository.index_url, release.project)
    steps = _plan(ctx, release, listing, repository.index_url)
    details["plan"] = {s.artifact.name: s.action for s in steps}
    for step in steps:
        if step.action == PRESENT:
            results[step.artifact.name] = "already present"
    todo = [d.path for s in steps if s.action == UPLOAD for d in release.dists
            if d.filename == s.artifact.name]  # fmt: skip
    if todo:
        credentials = creds.select(repository, ctx.config, ctx.console, ctx.environ)
        details["credentials"] = credentials.source
        ctx.console.line(f"credentials: {credentials.source}")
        if credentials.note:
            ctx.console.line(f"  note: {credentials.note}")
        outcome = Outcome()
        try:
            upload(
                ctx,
                todo,
                repository,
                credentials=credentials,
                landed=lambda: query(repository.index_url, release.project),
                expected=release.expected,
                outcome=outcome,
            )
        finally:
            results.update(dict.fromkeys(outcome.uploaded, "uploaded"))
            details["attempts"] = outcome.attempts
            if isinstance(credentials, creds.TrustedPublishing):
                details["mints"] = credentials.mints
        listing = query(repository.index_url, release.project)
    else:
        # The plan's listing already shows every file with its sha256: no second query.
        ctx.console.line("every file is on the index already: nothing to upload")
    verify(listing, release.expected, repository.index_url)
    details["verified"] = True
    ctx.console.line(f"verified: {len(release.expected)} file(s) on {repository.index_url}")


def _plan(ctx: RunContext, release: Release, listing: Listing, where: str) -> list[Step]:
    steps = make_plan(release.artifacts, listing)
    print_plan(
        ctx.console,
        steps,
        f"{where} ({'new project' if listing.form == 'absent' else listing.form})",
    )
    conflicts = [s for s in steps if s.action == CONFLICT]
    if conflicts:
        raise UploadConflictError(
            f"{len(conflicts)} file(s) conflict with what {where} already has: "
            + "; ".join(f"{s.artifact.name}: {s.why}" for s in conflicts)
            + ". Nothing was uploaded.",
            "bump the version and build again: the index never takes other content under a "
            "file name it has (not even after a deletion).",
        )
    return steps


def _dry_run(
    ctx: RunContext, record: StageRecord, release: Release, repository: Repository
) -> None:
    try:
        listing = query(repository.index_url, release.project)
    except IndexUnavailableError as exc:
        record.details["plan"] = None
        ctx.console.line(
            f"no plan against {repository.index_url}: {exc.cause.rstrip('.')}; the dry run "
            "cannot say what the real upload would find there."
        )
    else:
        steps = _plan(ctx, release, listing, repository.index_url)
        record.details["plan"] = {s.artifact.name: s.action for s in steps}
    result = rehearse(ctx, release.dists, release.project, release.version)
    record.details["rehearsal"] = {
        "index": result.index_url,
        "uploaded": result.uploaded,
        "installed": result.installed,
        "imported": result.imported,
        "not_installed_because": result.not_installed_because,
    }
    if result.installed:
        record.reason = (
            f"rehearsed: {len(result.uploaded)} file(s) uploaded to a local index, "
            f"{result.installed} installed from it, {', '.join(result.imported)} imported"
        )
    else:
        record.reason = (
            f"rehearsed: {len(result.uploaded)} file(s) uploaded to a local index; "
            f"{result.not_installed_because}"
        )


# --- what may be published -------------------------------------------------------------------


def _validated_release(ctx: RunContext) -> Release:
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
