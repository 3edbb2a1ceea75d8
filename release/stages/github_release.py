"""github-release: the GitHub Release of the tag, with every validated file and SHA256SUMS.

The steps: check that the validated files are exactly the ones the index holds for the
version, by sha256 (so the release page and the index can never disagree); find the release
of the tag (a draft a failed run left included) or create it as
a draft with generated notes; upload each validated file and a ``SHA256SUMS`` file (an asset
already there with the same content is skipped, one with other content is an error); then
publish it, marked latest unless the version is a pre-release, which becomes a pre-release.
Draft first, so it works where published releases are immutable. ``--dry-run`` says what it
would do without calling GitHub.
"""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from ..context import RunContext
from ..errors import (
    CredentialsError,
    GitHubError,
    IndexUnavailableError,
    ReleaseAssetConflictError,
    TagError,
)
from ..github.rest import DEFAULT_API_URL, GitHub, api_base, same_content
from ..init.detect import github_repository
from ..publish.index import query
from ..publish.plan import version_of
from ..publish.repository import resolve
from ..records import StageRecord
from ..tag import parse_tag, tag_for, tag_mismatch
from ..validated import Release, validated_release

SUMS = "SHA256SUMS"


def github_release(ctx: RunContext, record: StageRecord) -> None:
    release = validated_release(ctx)
    record.artifacts = release.artifacts
    # The dry run names the tag the version would be released under.
    tag = ctx.tag or (tag_for(ctx.config.tag_pattern, release.version) if ctx.dry_run else None)
    if tag is None:
        raise TagError(
            "github-release needs the tag to release (no --tag, and GITHUB_REF is not a tag).",
            "run it from the tag push's workflow, or pass --tag v1.2.3.",
        )
    # The release is of the validated files' version: a tag naming another would publish them
    # under the wrong name (and GitHub would create a missing tag at the default branch).
    mismatch = tag_mismatch(
        tag, parse_tag(tag, ctx.config.tag_pattern, example=release.version),
        Version(release.version), "the validated files", ctx.config.tag_pattern,
    )  # fmt: skip
    if mismatch is not None:
        raise mismatch
    prerelease = Version(release.version).is_prerelease
    sums = "".join(f"{d.sha256}  {d.filename}\n" for d in release.dists).encode()
    files = {d.filename: d.path.read_bytes() for d in release.dists}
    files[SUMS] = sums
    repository = ctx.environ.get("GITHUB_REPOSITORY", "")
    details = record.details
    details.update(tag=tag, repository=repository or None, prerelease=prerelease,
                   dry_run=ctx.dry_run)  # fmt: skip
    kind = "a pre-release" if prerelease else "the latest release"
    # Read before the dry run returns: a rehearsal must fail where the real run would.
    api_url = api_base(ctx.environ.get("GITHUB_API_URL", DEFAULT_API_URL))
    if ctx.dry_run:
        # Not compared here: before publish the index holds none of them. The real run stops
        # unless it holds exactly these, so the rehearsal says it will look.
        record.reason = (
            f"would check that {_index_of(ctx)} holds exactly these files for "
            f"{release.version} (publish puts them there), then create (or reuse) the release "
            f"{tag} of {_named(ctx, repository)} as a draft, upload {len(files)} file(s) "
            f"({', '.join(files)}), then publish it as {kind}"
        )
        return
    token = ctx.environ.get("GITHUB_TOKEN")
    if not token or not repository:
        missing = " and ".join(
            v for v, ok in (("GITHUB_TOKEN", token), ("GITHUB_REPOSITORY", repository)) if not ok
        )
        raise CredentialsError(
            f"github-release needs {missing} in the environment.",
            "in Actions: env: GITHUB_TOKEN: ${{ github.token }} on the step, and permissions: "
            "contents: write on the job; elsewhere export both (owner/name for the repository).",
        )
    details["index"] = _same_as_index(ctx, release)
    api = GitHub(api_url, token, repository, ctx.console)
    gh_release = _release_of(ctx, api, tag, prerelease=prerelease)
    details.update(release_id=gh_release.get("id"), url=gh_release.get("html_url"))
    details["assets"] = _put_assets(ctx, api, gh_release, files, repository)
    if gh_release.get("draft"):
        gh_release = api.publish(gh_release, latest=not prerelease)
        ctx.console.line(f"published {tag} as {kind}")
    details.update(published=not gh_release.get("draft", False), url=gh_release.get("html_url"),
                   api_requests=api.requests)  # fmt: skip
    record.reason = f"{details['url']}: {len(files)} asset(s)"


def _release_of(ctx: RunContext, api: GitHub, tag: str, *, prerelease: bool) -> dict[str, Any]:
    """The tag's release, reused (a draft a failed run left, or the published one), or
    created as a draft."""
    existing = api.release_for_tag(tag)
    if existing is None:
        created = api.create_release(tag, prerelease=prerelease)
        ctx.console.line(f"created the draft release {tag} ({created.get('html_url')})")
        return created
    state = "draft" if existing.get("draft") else "published"
    ctx.console.line(f"reusing the {state} release {tag} ({existing.get('html_url')})")
    return existing


def _put_assets(
    ctx: RunContext,
    api: GitHub,
    gh_release: dict[str, Any],
    files: dict[str, bytes],
    repository: str,
) -> dict[str, str]:
    """Every file as an asset: compared first (a conflict changes nothing), then uploaded."""
    there = {a["name"]: a for a in api.assets(gh_release)}
    todo, results, conflicts = [], {}, []
    for name, data in files.items():
        asset = there.get(name)
        if asset is not None and asset.get("state", "uploaded") != "uploaded":
            api.delete_asset(asset)  # an upload a cancelled run left unfinished
            asset = None
        if asset is None:
            todo.append(name)
        elif _same(api, asset, data):
            results[name] = "already there"
            ctx.console.line(f"  {name}: already there, same sha256")
        else:
            conflicts.append(name)
    if conflicts:
        raise ReleaseAssetConflictError(
            f"the release {gh_release.get('tag_name')} already has {', '.join(conflicts)} "
            "with other content than the validated file(s); nothing was uploaded.",
            "a release's assets are what was validated: delete the stray asset(s) on GitHub "
            "(if the release is not immutable) or release a new version.",
        )
    for name in todo:
        _upload(api, gh_release, name, files[name], repository)
        results[name] = "uploaded"
        ctx.console.line(f"  {name}: uploaded")
    return results


def _same(api: GitHub, asset: dict[str, Any], data: bytes) -> bool:
    same = same_content(asset, data)
    # Assets uploaded before GitHub kept digests: compare the bytes.
    return api.download(asset) == data if same is None else same


def _upload(
    api: GitHub, gh_release: dict[str, Any], name: str, data: bytes, repository: str
) -> None:
    try:
        api.upload(gh_release, name, data)
    except GitHubError as exc:
        if "immutable" in exc.cause.lower():
            raise GitHubError(
                f"the release {gh_release.get('tag_name')} was published without {name}, and "
                f"the releases of {repository} are immutable: nothing can be added to it.",
                "release a new version (a new tag); keep the default flow, which publishes "
                "only after every asset is uploaded.",
            ) from None
        raise


def _named(ctx: RunContext, repository: str) -> str:
    """The repository as owner/name: $GITHUB_REPOSITORY, else the origin remote on GitHub."""
    if repository:
        return repository
    remote = github_repository(ctx.runner, ctx.config.project_root)
    if remote is not None:
        return f"{remote[0]}/{remote[1]} (the origin remote; GITHUB_REPOSITORY is not set)"
    return "the repository GITHUB_REPOSITORY names (not set here, and no github.com origin remote)"


def _index_of(ctx: RunContext) -> str:
    """The index publish uploads to and checks: the one the release page must agree with."""
    repository = ctx.repository or ctx.config.publish.repository
    return resolve(repository, ctx.config.publish.index_url).index_url


def _same_as_index(ctx: RunContext, release: Release) -> dict[str, Any]:
    """Refuse unless the index holds for the version exactly the validated files, by sha256:
    the release page offers what ``pip install`` gets, never other bytes under its names.
    An index that cannot be read stops the stage too: nothing could be compared."""
    where = _index_of(ctx)
    try:
        listing = query(where, release.project)
    except IndexUnavailableError as exc:
        # Going on uncompared would let rebuilt files (Re-run all jobs) reach the release page
        # while the index holds others; publish stops on an unreadable index just the same.
        raise IndexUnavailableError(
            f"{exc.cause} github-release compares the validated files with it first, so "
            "nothing was uploaded to GitHub.",
            exc.remedy,
        ) from None
    version = Version(release.version)
    held = {name: sha for name, sha in listing.files.items() if version_of(name) == version}
    missing = [name for name in release.expected if name not in held]
    # PEP 503 makes the hash optional: such a file cannot be told the same or other.
    unhashed = [name for name in release.expected if name in held and held[name] is None]
    differ = [
        f"{name} (the index has other content)"
        for name, sha256 in release.expected.items()
        if held.get(name) not in (None, sha256)
    ]
    extra = [name for name in held if name not in release.expected]
    if not (missing or unhashed or differ or extra):
        ctx.console.line(
            f"the validated files are what {where} holds for {release.project} "
            f"{release.version}: {len(held)} file(s), same sha256"
        )
        return {"url": where, "compared": True}
    problems = []
    if missing:
        problems.append(f"{', '.join(missing)} not on the index")
    if unhashed:
        problems.append(f"{', '.join(unhashed)} listed without a sha256, so not comparable")
    if differ:
        problems.append(f"{', '.join(differ)} differ")
    if extra:
        problems.append(f"{', '.join(extra)} on the index but not validated")
    if differ:
        remedy = (
            "the validated files are not the ones published: most likely they were built "
            "again after the publish (Re-run all jobs rebuilds them, and builds differ in "
            "bytes). Re-run only the failed jobs of the run that published, or release a new "
            "version."
        )
    elif extra:
        # Nothing was rebuilt: the version has files this run never had (another workflow's,
        # or uploaded by hand), and a release page without them would disagree with the index.
        remedy = (
            f"download the other files of {release.version} from the index into the dist dir, "
            "run validate on it, then github-release again; or, if they should not be there, "
            "delete them from the index."
        )
    elif unhashed:
        remedy = (
            "set [tool.release.publish] index-url to an index that gives each file's sha256 "
            "(PEP 691 JSON, or #sha256= on PEP 503 links; PyPI's does)."
        )
    else:
        remedy = (
            f"publish {release.version} first (the release workflow runs github-release after "
            "publish): the release page offers only what the index has. If publish did upload "
            "it, [tool.release.publish] index-url must be the index it uploaded to."
        )
    raise ReleaseAssetConflictError(
        f"the validated files are not what {where} holds for {release.project} "
        f"{release.version}: " + "; ".join(problems) + ". Nothing was uploaded to GitHub.",
        remedy,
    )
