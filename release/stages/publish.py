"""publish: upload what validate passed, with trusted publishing; safe to run again.

The steps a careful maintainer takes: check that the dist dir is exactly what a passing
validate record lists (same files, same sha256); ask the index once what it already has and
print the plan (upload, present, conflict: a conflict stops everything); authenticate
(trusted publishing, else an API token); upload wheels first and the sdist last; ask the
index again and verify every file is there with its sha256, and where the index serves
PyPI's Integrity API, that each file's provenance is this workflow's
(:mod:`release.publish.provenance`). ``--dry-run`` makes the plan
against the configured index when it can be reached, then rehearses the upload on this
machine (:mod:`release.publish.rehearsal`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from packaging.version import Version

from ..checks.base import BUILD_STAGES
from ..context import RunContext
from ..errors import (
    IndexUnavailableError,
    PlatformRegressionError,
    SigningRefusedError,
    UploadConflictError,
)
from ..http import Http, retry_line
from ..publish import attest, provenance
from ..publish import credentials as creds
from ..publish.index import Listing, query
from ..publish.plan import (
    CLOSED,
    CONFLICT,
    PRESENT,
    UPLOAD,
    Step,
    closes_old_releases,
    make_plan,
    print_plan,
    release_age,
)
from ..publish.rehearsal import rehearse
from ..publish.repository import Repository, resolve
from ..publish.upload import Outcome, upload
from ..publish.verify import verify
from ..records import StageRecord, read_stage_records
from ..regression import (
    Comparison,
    Lost,
    build_platform,
    by_platform,
    compare,
    describe_dropped,
    describe_lost,
    incomplete_builds,
    remedy,
    requires_python_of,
)
from ..validated import Release, validated_release


def publish(ctx: RunContext, record: StageRecord) -> None:
    release = validated_release(ctx)
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
    http = Http(announce=retry_line(ctx.console))  # each retry said, as it happens

    def ask() -> Listing:
        return query(repository.index_url, release.project, http)

    listing = ask()
    steps = _plan(ctx, release, listing, repository, details)
    details["plan"] = {s.artifact.name: s.action for s in steps}
    to_sign = [s.artifact.name for s in steps if s.action == UPLOAD]
    signing_off = _attestations_off(ctx, repository, to_sign)
    reads_provenance = _says_provenance(ctx, repository, details)
    # One trust root (fetched once) for signing and for reading the provenance back.
    sigstore = functools.cache(lambda: attest.Sigstore(_trust_config(ctx)))
    results.update({s.artifact.name: "already present" for s in steps if s.action == PRESENT})
    todo = [d.path for s in steps if s.action == UPLOAD for d in release.dists
            if d.filename == s.artifact.name]  # fmt: skip
    if todo:
        listing = _sign_and_upload(
            ctx, release, repository, todo, details, signing_off=signing_off, http=http,
            ask=ask, sigstore=sigstore,
        )  # fmt: skip
    else:
        # The plan's listing already shows every file with its sha256: no second query.
        ctx.console.line("every file is on the index already: nothing to upload")
    with _timed(details, "verify"):
        verify(listing, release.expected, repository.index_url, again=ask, http=http)
    _verified(ctx, release, repository, details, http=http,
                  sigstore=sigstore if reads_provenance else None)  # fmt: skip


def _sign_and_upload(
    ctx: RunContext,
    release: Release,
    repository: Repository,
    todo: list[Path],
    details: dict[str, object],
    *,
    signing_off: str | None,
    http: Http,
    ask: Callable[[], Listing],
    sigstore: Callable[[], attest.Sigstore],
) -> Listing:
    """Authenticate, sign (with trusted publishing), upload ``todo``: the index's listing
    after it."""
    results = details["files"]
    assert isinstance(results, dict)
    credentials = creds.select(repository, ctx.config, ctx.console, ctx.environ)
    details["credentials"] = credentials.source
    ctx.console.line(f"credentials: {credentials.source}")
    if credentials.note:
        ctx.console.line(f"  note: {credentials.note}")
    signing_off = signing_off or _not_signed_with(credentials)
    attestations = None
    if signing_off is None:
        with _timed(details, "sign"):
            attestations = _sign(ctx, release, todo, http, sigstore())
        details["attestations"] = {name: signed.record() for name, signed in attestations.items()}
    else:
        details["attestations"] = None
        details["attestations_off"] = signing_off
        ctx.console.line(f"attestations: none: {signing_off}")
    outcome = Outcome()
    try:
        with _timed(details, "upload"):
            upload(
                ctx,
                todo,
                repository,
                credentials=credentials,
                landed=ask,
                expected=release.expected,
                outcome=outcome,
                http=http,
                attestations={n: a.attestation for n, a in (attestations or {}).items()},
            )
    finally:
        results.update(dict.fromkeys(outcome.uploaded, "uploaded"))
        details["attempts"] = outcome.attempts
        if isinstance(credentials, creds.TrustedPublishing):
            details["mints"] = credentials.mints
    with _timed(details, "verify"):
        return ask()


def _not_signed_with(credentials: creds.Credentials) -> str | None:
    """Why these credentials upload no attestations, or None when they can."""
    if not isinstance(credentials, creds.TrustedPublishing):
        return (
            "the upload uses an API token, and PyPI takes attestations only from trusted publishing"
        )
    return None


@contextmanager
def _timed(details: dict[str, object], phase: str) -> Iterator[None]:
    """Adds the phase's seconds to ``details["timings_s"]``: where a publish spends its
    time (bench/publish.py reports it), also for a phase that fails."""
    began = time.perf_counter()
    try:
        yield
    finally:
        timings = details.setdefault("timings_s", {})
        assert isinstance(timings, dict)
        timings[phase] = round(timings.get(phase, 0.0) + time.perf_counter() - began, 3)


def _verified(
    ctx: RunContext,
    release: Release,
    repository: Repository,
    details: dict[str, object],
    *,
    http: Http,
    sigstore: Callable[[], attest.Sigstore] | None,
) -> None:
    """Said once the index holds every file; then their provenance, where it serves one."""
    details["verified"] = True
    ctx.console.line(f"verified: {len(release.expected)} file(s) on {repository.index_url}")
    if sigstore is not None:
        with _timed(details, "provenance"):
            _read_provenance(ctx, release, repository, details, http=http, sigstore=sigstore)


def _says_provenance(ctx: RunContext, repository: Repository, details: dict[str, object]) -> bool:
    """Whether the index serves PyPI's Integrity API, said with the plan (and recorded when
    not): PyPI and TestPyPI do, and a Warehouse the config says takes attestations; other
    indexes do not."""
    if repository.is_pypi or ctx.config.publish.attestations is True:
        ctx.console.line(
            "provenance: after the upload, each file's PEP 740 provenance is read back from "
            f"the index's Integrity API and verified as {_workflow_said(ctx)}"
        )
        return True
    why = (
        f"{repository.index_url} serves no Integrity API that nox-release knows of (only PyPI, "
        "TestPyPI, and a Warehouse with [tool.release.publish] attestations = true): the files "
        "are verified by their sha256 only"
    )
    details["provenance"] = _no_integrity_api(why)
    ctx.console.line(f"provenance: {why}")
    return False


def _no_integrity_api(why: str) -> dict[str, object]:
    return {"integrity_api": False, "workflow": None, "files": None, "not_verified_because": why}


def _workflow_said(ctx: RunContext) -> str:
    workflow = provenance.release_workflow(ctx.environ)
    if workflow is None:
        return (
            "publish attestations of the trusted publisher the index names (not in GitHub "
            "Actions: this repository's release workflow is unknown)"
        )
    return f"publish attestations of {workflow.describe()}"


def _read_provenance(
    ctx: RunContext,
    release: Release,
    repository: Repository,
    details: dict[str, object],
    *,
    http: Http,
    sigstore: Callable[[], attest.Sigstore],
) -> None:
    workflow = provenance.release_workflow(ctx.environ)
    record: dict[str, object] = {
        "integrity_api": True,
        "workflow": workflow.describe() if workflow else None,
        "files": None,
        "not_verified_because": None,
    }
    details["provenance"] = record
    results, not_verified = provenance.verify_provenance(
        release.expected, project=release.project, version=release.version,
        index_url=repository.index_url, workflow=workflow, sigstore=sigstore, http=http,
        console=ctx.console,
    )  # fmt: skip
    record["files"] = {name: result.record() for name, result in results.items()}
    if not_verified:
        record["not_verified_because"] = not_verified
        ctx.console.line(f"provenance: not verified: {not_verified}")


def _attestations_off(ctx: RunContext, repository: Repository, to_sign: list[str]) -> str | None:
    """Why publish signs no attestation for this index, or None when it signs (with trusted
    publishing): said with the plan, before anything is signed or uploaded."""
    wanted = ctx.config.publish.attestations
    if wanted is False:
        why: str | None = "[tool.release.publish] attestations = false"
    elif wanted is None and not repository.is_pypi:
        why = (
            f"{repository.upload_url} is not PyPI or TestPyPI, whose uploads take PEP 740 "
            "attestations (set [tool.release.publish] attestations = true for a Warehouse "
            "that does)"
        )
    elif (ci := creds.ambient_ci(ctx.environ)) not in (None, "GitHub Actions"):
        # PyPI takes GitLab's too, but their identity is not a GitHub workflow's, the one
        # nox-release signs as; such a CI uploaded without attestations before, and still does.
        why = (
            f"nox-release signs PEP 740 attestations as a GitHub Actions workflow, and this "
            f"is {ci}: the files are uploaded without them"
        )
    else:
        why = None
    if why is None and to_sign:
        ctx.console.line(
            f"attestations: {len(to_sign)} file(s) to upload each get a PEP 740 publish "
            "attestation, signed with Sigstore as this workflow (with trusted publishing): "
            + ", ".join(to_sign)
        )
    return why


def _sign(
    ctx: RunContext, release: Release, todo: list[Path], http: Http, sigstore: attest.Sigstore
) -> dict[str, attest.Signed]:
    """Each file's attestation, reused or signed and verified, before any upload."""
    ctx.console.line(f"signing {len(todo)} file(s) with Sigstore")

    def token() -> str:
        jwt = creds.fetch_oidc_token("sigstore", ctx.environ, ctx.config, http)
        if jwt is None:
            raise SigningRefusedError(
                "this CI handed out no OIDC token for Sigstore.",
                "publish from the release workflow with id-token: write, or set "
                "[tool.release.publish] attestations = false.",
            )
        return jwt

    signed = attest.sign_all(
        todo, sha256=release.expected, token=token, sigstore=sigstore, console=ctx.console,
        policy=http.policy,
    )  # fmt: skip
    return {s.file: s for s in signed}


def _trust_config(ctx: RunContext) -> str | None:
    return attest.trust_config(ctx.environ)


def _plan(
    ctx: RunContext,
    release: Release,
    listing: Listing,
    repository: Repository,
    details: dict[str, object],
) -> list[Step]:
    where = repository.index_url
    closes_old = closes_old_releases(repository.upload_url)
    steps = make_plan(release.artifacts, listing, closes_old=closes_old)
    print_plan(
        ctx.console,
        steps,
        f"{where} ({'new project' if listing.form == 'absent' else listing.form})",
    )
    comparison, blocking = _compare_with_last_release(ctx, release, listing, where)
    details["regression"] = {
        "compared_with": str(comparison.previous) if comparison.previous else None,
        "lost": [lost.slot.identifier for lost in blocking],
        "not_built_here": [x.slot.identifier for x in comparison.regressions if x not in blocking],
        "dropped": [lost.slot.identifier for lost in comparison.dropped],
    }
    conflicts = [s for s in steps if s.action == CONFLICT]
    if conflicts:
        raise _conflict(ctx, conflicts, where)
    closed = [s for s in steps if s.action == CLOSED]
    if closed:
        age = release_age(release.artifacts, listing)
        days = f"for {age.days} days" if age is not None else "for more than 14 days"
        raise UploadConflictError(
            f"{where} has had {release.project} {release.version} {days}, and PyPI takes no "
            "new files for a release older than 14 days: "
            + ", ".join(s.artifact.name for s in closed)
            + " cannot be added to it. Nothing was uploaded.",
            "release a new version with these files (bump the version, tag, build); the "
            f"files {release.version} has on the index stay as they are.",
        )
    if blocking:
        raise _regression(release, comparison, blocking, where)
    return steps


def _compare_with_last_release(
    ctx: RunContext, release: Release, listing: Listing, where: str
) -> tuple[Comparison, list[Lost]]:
    """The regression guard, said before anything is uploaded: what it compared with, what
    is dropped on purpose, which floors rose; and the regressions that stop the release. In
    a dry run, one of a platform whose build could not make every wheel here is a note, as
    the wheel is to validate: only CI's build jobs make it."""
    comparison = compare(
        [d.filename for d in release.dists if d.is_wheel],
        Version(release.version),
        listing.files,
        yanked=listing.yanked,
        dropped=ctx.config.dropped,
        requires_python=requires_python_of(ctx.config.package.raw),
    )
    console = ctx.console
    if comparison.previous is None:
        if listing.form == "absent":
            first = f"{release.project} is a new project on {where}"
        else:
            first = f"{where} has no release before {release.version} with wheels"
        console.line(f"regression guard: {first}: nothing to compare the wheels with")
        return comparison, []
    console.line(
        f"regression guard: compared with {release.project} {comparison.previous} on {where} "
        f"({len(comparison.previous_wheels)} wheel(s))"
    )
    for platform, losts in by_platform(comparison.dropped).items():
        console.line(f"  note: {describe_dropped(platform, losts)}")
    for raised in comparison.floors_raised:
        console.line(f"  note: {raised.describe(comparison.previous)}")
    blocking = comparison.regressions
    if ctx.dry_run:
        not_here = incomplete_builds(_build_records(ctx))
        excused = [x for x in comparison.regressions if not_here.covers(x)]
        for platform, losts in by_platform(excused).items():
            stage = f"build-{build_platform(platform)}"
            console.line(f"  note: {describe_lost(platform, losts, comparison.previous)}; "
                         f"{stage} did not make it here: CI's must")  # fmt: skip
        blocking = [x for x in blocking if x not in excused]
    return comparison, blocking


def _build_records(ctx: RunContext) -> dict[str, StageRecord]:
    # A damaged one: validate said so; nothing here excuses a lost platform.
    return read_stage_records(ctx.dist, BUILD_STAGES, directory=ctx.record_dir)[0]


def _regression(
    release: Release, comparison: Comparison, blocking: list[Lost], where: str
) -> PlatformRegressionError:
    assert comparison.previous is not None
    lost = [
        describe_lost(platform, losts, comparison.previous)
        for platform, losts in by_platform(blocking).items()
    ]
    return PlatformRegressionError(
        f"{release.project} {release.version} leaves out what the last release on {where}, "
        f"{comparison.previous}, served: " + "; ".join(lost) + f". Users there would get no "
        f"wheel of {release.version}: pip would build it from the sdist, or find none to "
        "install. Nothing was uploaded.",
        remedy(comparison, blocking),
    )


def _conflict(ctx: RunContext, conflicts: list[Step], where: str) -> UploadConflictError:
    cause = (
        f"{len(conflicts)} file(s) conflict with what {where} already has: "
        + "; ".join(f"{s.artifact.name}: {s.why}" for s in conflicts)
        + ". Nothing was uploaded."
    )
    attempt = ctx.environ.get("GITHUB_RUN_ATTEMPT", "")
    if attempt.isdigit() and int(attempt) > 1:
        # The replay of "Re-run all jobs": the build jobs ran again, and files built twice
        # differ in bytes (file times, build ids) unless the build is reproducible.
        return UploadConflictError(
            f"{cause} This is attempt {attempt} of the workflow run: most likely an earlier "
            "attempt published these files, and this one rebuilt them (Re-run all jobs), and "
            "the rebuilt files differ in bytes from the published ones.",
            "after a publish, re-run only the failed jobs (Re-run failed jobs): they use the "
            "files the earlier attempt built and published. To ship other files, bump the "
            "version and release again.",
        )
    return UploadConflictError(
        cause,
        "bump the version and build again: the index never takes other content under a "
        "file name it has (not even after a deletion).",
    )


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
        steps = _plan(ctx, release, listing, repository, record.details)
        record.details["plan"] = {s.artifact.name: s.action for s in steps}
    signing_off = _attestations_off(ctx, repository, [d.filename for d in release.dists])
    if signing_off is not None:
        ctx.console.line(f"attestations: none: {signing_off}")
    else:
        why = (
            "the rehearsal's local index (a pypiserver) serves no Integrity API: the rehearsal "
            "verifies its attestations itself, against the local trust root; a real publish "
            f"reads each file's provenance back from {repository.index_url} where it serves one"
        )
        record.details["provenance"] = _no_integrity_api(why)
        ctx.console.line(f"provenance: {why}")
    result = rehearse(
        ctx, release.dists, release.project, release.version, sign=signing_off is None
    )
    record.details["rehearsal"] = {
        "index": result.index_url,
        "uploaded": result.uploaded,
        "installed": result.installed,
        "imported": result.imported,
        "not_installed_because": result.not_installed_because,
        "attestations": result.attestations or None,
        "signing_identity": result.signing_identity,
        "not_signed_because": result.not_signed_because if signing_off is None else signing_off,
    }
    signed = (
        f", signed against a local Sigstore as {result.signing_identity}"
        if result.attestations else ""
    )  # fmt: skip
    if result.installed:
        record.reason = (
            f"rehearsed: {len(result.uploaded)} file(s){signed} uploaded to a local index, "
            f"{result.installed} installed from it, {', '.join(result.imported)} imported"
        )
    else:
        record.reason = (
            f"rehearsed: {len(result.uploaded)} file(s){signed} uploaded to a local index; "
            f"{result.not_installed_because}"
        )
