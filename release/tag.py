"""The release tag: the pattern tags follow (``tag-pattern``), the version a tag names, and
whether it is the version the project builds."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from .errors import ConfigError, TagError
from .project.version import project_version

if TYPE_CHECKING:
    from .config import ReleaseConfig

EXAMPLE_VERSION = "1.2.3"


def tag_regex(pattern: str) -> re.Pattern[str]:
    """``"v{version}"`` -> a regex with a ``version`` group; the literal parts match literally."""
    parts = pattern.split("{version}")
    # A second {version} must repeat the first, not capture something else.
    captures = ["(?P<version>.+?)"] + ["(?P=version)"] * (len(parts) - 2)
    regex = re.escape(parts[0])
    for capture, literal in zip(captures, parts[1:]):
        regex += capture + re.escape(literal)
    return re.compile(regex)


def tag_for(pattern: str, version: Version | str) -> str:
    return pattern.replace("{version}", str(version))


def parse_tag(tag: str, pattern: str, *, example: str = EXAMPLE_VERSION) -> Version:
    """The version a tag names, or a :class:`TagError` that shows a tag of the expected form."""
    expected = tag_for(pattern, example)
    match = tag_regex(pattern).fullmatch(tag)
    if match is None:
        raise TagError(
            f'tag "{tag}" does not match tag-pattern "{pattern}".', f"push a tag like {expected}."
        )
    text = match.group("version")
    if text != text.strip() or not text:
        # Version() forgives spaces; a git tag with them is a typo, and PyPI's name would differ.
        raise TagError(
            f'tag "{tag}" has spaces around its version.', f"push a tag like {expected}."
        )
    try:
        return Version(text)
    except InvalidVersion:
        raise TagError(
            f'tag "{tag}" names version "{text}", which is not a PEP 440 version.',
            f"push a tag like {expected}.",
        ) from None


def release_kind_problem(version: Version, place: str, prereleases: bool) -> tuple[str, str] | None:
    """(cause, remedy) when ``version`` may not be published: PyPI refuses local versions, and
    the project publishes pre-releases only with ``prereleases = true``."""
    if version.local is not None:
        return (
            f"{place} has a local version label ({version}), and PyPI refuses local versions",
            f"remove '+{version.local}' from the version and rebuild.",
        )
    if version.is_prerelease and not prereleases:
        kind = "a development release" if version.is_devrelease else "a pre-release"
        return (
            f"{place} is {kind} ({version}), and [tool.release] prereleases is false",
            "release a final version, or set prereleases = true in [tool.release] to publish it.",
        )
    return None


def require_release_tag(config: ReleaseConfig, tag: str) -> None:
    """Before anything is built: the tag must name the version the project builds, and one
    the project may publish. A :class:`TagError` otherwise; minutes of building a release
    that validate would refuse are saved. (A project whose version cannot be read is left
    to the build, which reports it with its own remedy.)"""
    try:
        project, source = project_version(config)
    except ConfigError:
        project, source = None, ""
    tagged = parse_tag(tag, config.tag_pattern, example=str(project or EXAMPLE_VERSION))
    if project is not None:
        mismatch = tag_mismatch(tag, tagged, project, source, config.tag_pattern)
        if mismatch is not None:
            raise mismatch
    problem = release_kind_problem(tagged, f"the tag {tag}", config.prereleases)
    if problem is not None:
        raise TagError(f"{problem[0]}.", problem[1])


def tag_mismatch(
    tag: str, tagged: Version, project: Version, source: str, pattern: str
) -> TagError | None:
    """The error when the tag names another version than the project builds."""
    if tagged == project:
        return None
    return TagError(
        f"the tag {tag} says {tagged}, and the project version ({source}) is {project}.",
        f"set the version to {tagged} there, or push the tag {tag_for(pattern, project)} instead.",
    )
