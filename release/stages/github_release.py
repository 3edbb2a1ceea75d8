"""github-release: the GitHub Release of the tag, with every validated file and SHA256SUMS.

The steps: find the release of the tag (a draft a failed run left included) or create it as
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
from ..errors import CredentialsError, GitHubError, ReleaseAssetConflictError, TagError
from ..github.rest import GitHub, same_content
from ..records import StageRecord
from ..tag import parse_tag, tag_for, tag_mismatch
from ..validated import validated_release

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
    if ctx.dry_run:
        record.reason = (
            f"would create (or reuse) the release {tag} of {repository or 'this repository'} "
            f"as a draft, upload {len(files)} file(s) ({', '.join(files)}), then publish it "
            f"as {kind}"
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
    api = GitHub(ctx.environ.get("GITHUB_API_URL", "https://api.github.com"), token, repository,
                 ctx.console)  # fmt: skip
    gh_release = _release_of(ctx, api, tag, prerelease=prerelease)
    details.update(release_id=gh_release.get("id"), url=gh_release.get("html_url"))
    details["assets"] = _put_assets(ctx, api, gh_release, files)
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
    ctx: RunContext, api: GitHub, gh_release: dict[str, Any], files: dict[str, bytes]
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
        _upload(api, gh_release, name, files[name])
        results[name] = "uploaded"
        ctx.console.line(f"  {name}: uploaded")
    return results


def _same(api: GitHub, asset: dict[str, Any], data: bytes) -> bool:
    same = same_content(asset, data)
    # Assets uploaded before GitHub kept digests: compare the bytes.
    return api.download(asset) == data if same is None else same


def _upload(api: GitHub, gh_release: dict[str, Any], name: str, data: bytes) -> None:
    try:
        api.upload(gh_release, name, data)
    except GitHubError as exc:
        if "immutable" in exc.cause.lower():
            raise GitHubError(
                f"the release {gh_release.get('tag_name')} was published without {name}, and "
                "this repository's releases are immutable: nothing can be added to it.",
                "release a new version (a new tag); keep the default flow, which publishes "
                "only after every asset is uploaded.",
            ) from None
        raise
