"""The ``version`` check: the tag, the project's version and every artifact's version agree.

Versions are compared as PEP 440 versions (``v1.2`` and ``1.2.0`` agree). The project version
is the static ``[project] version``, or for maturin packages with a dynamic version the
crate's Cargo.toml version, resolved the way maturin resolves it (``[tool.maturin]
manifest-path``, ``version.workspace = true``). Archives are opened elsewhere: callers pass
the versions they read as plain strings.

The Cargo manifest helpers here are shared with :mod:`release.wheelset`, which reads the pyo3
abi3 features from the same manifest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from .config import ReleaseConfig, read_toml
from .errors import ConfigError, ConfigValueError, TagError
from .records import Finding

CHECK = "version"
_EXAMPLE_VERSION = "1.2.3"


@dataclass(frozen=True)
class ArtifactVersion:
    """What an artifact says about its version; None where it could not be read."""

    file: str
    filename_version: str | None
    metadata_version: str | None


# --- the tag -------------------------------------------------------------------------------


def tag_regex(pattern: str) -> re.Pattern[str]:
    """``"v{version}"`` -> a regex with a ``version`` group; the literal parts match literally."""
    parts = pattern.split("{version}")
    # A second {version} must repeat the first, not capture something else.
    captures = ["(?P<version>.+?)"] + ["(?P=version)"] * (len(parts) - 2)
    regex = re.escape(parts[0])
    for capture, literal in zip(captures, parts[1:]):
        regex += capture + re.escape(literal)
    return re.compile(regex)


def parse_tag(tag: str, pattern: str, *, example: str = _EXAMPLE_VERSION) -> Version:
    """The version a tag names, or a :class:`TagError` that shows a tag of the expected form."""
    expected = pattern.replace("{version}", example)
    match = tag_regex(pattern).fullmatch(tag)
    if match is None:
        raise TagError(
            f'tag "{tag}" does not match tag-pattern "{pattern}"',
            f"push a tag like {expected}",
        )
    text = match.group("version")
    if text != text.strip() or not text:
        # Version() forgives spaces; a git tag with them is a typo, and PyPI's name would differ.
        raise TagError(f'tag "{tag}" has spaces around its version', f"push a tag like {expected}")
    try:
        return Version(text)
    except InvalidVersion:
        raise TagError(
            f'tag "{tag}" names version "{text}", which is not a PEP 440 version',
            f"push a tag like {expected}",
        ) from None


# --- Cargo manifests -----------------------------------------------------------------------


def shown_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it is inside it: shorter messages, same meaning."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def cargo_manifest_path(config: ReleaseConfig) -> Path:
    """The Cargo.toml maturin builds: ``[tool.maturin] manifest-path``, else the one beside
    the package's pyproject.toml."""
    maturin = config.package.raw.get("tool", {}).get("maturin", {})
    manifest = maturin.get("manifest-path") if isinstance(maturin, dict) else None
    if isinstance(manifest, str):
        return (config.package_dir / manifest).resolve()
    return config.package_dir / "Cargo.toml"


def read_cargo_manifest(path: Path, config: ReleaseConfig) -> dict[str, Any]:
    """A Cargo.toml's contents; a missing file is a :class:`ConfigValueError` that says why
    it was looked for."""
    if not path.is_file():
        pyproject = shown_path(config.package.pyproject, config.project_root)
        raise ConfigValueError(
            f"maturin reads the crate from {shown_path(path, config.project_root)}, "
            "which does not exist",
            f"point [tool.maturin] manifest-path in {pyproject} at the crate's Cargo.toml",
        )
    return read_toml(path)


def find_workspace_root(manifest: Path, data: Mapping[str, Any]) -> Path | None:
    """The Cargo.toml with the ``[workspace]`` table this crate belongs to, as Cargo finds
    it: the manifest itself, ``package.workspace``, or the nearest parent directory's."""
    if isinstance(data.get("workspace"), dict):
        return manifest
    explicit = data.get("package", {}).get("workspace")
    if isinstance(explicit, str):
        candidate = (manifest.parent / explicit / "Cargo.toml").resolve()
        return candidate if candidate.is_file() else None
    directory = manifest.resolve().parent
    while directory != directory.parent:
        directory = directory.parent
        candidate = directory / "Cargo.toml"
        if candidate.is_file() and isinstance(read_toml(candidate).get("workspace"), dict):
            return candidate
    return None


def inherits_from_workspace(value: object) -> bool:
    """``key.workspace = true`` / ``key = { workspace = true }``."""
    return isinstance(value, dict) and value.get("workspace") is True


def cargo_version(config: ReleaseConfig) -> tuple[str, str]:
    """The crate's semver version text and where it was found."""
    manifest = cargo_manifest_path(config)
    data = read_cargo_manifest(manifest, config)
    where = shown_path(manifest, config.project_root)
    value = data.get("package", {}).get("version")
    if isinstance(value, str):
        return value, f"{where} [package] version"
    if not inherits_from_workspace(value):
        raise ConfigValueError(
            f"{where} has no [package] version, and maturin takes the package version "
            'from it ([project] dynamic = ["version"])',
            f'set version = "{_EXAMPLE_VERSION}" in [package] of {where}, '
            "or a static [project] version",
        )
    root = find_workspace_root(manifest, data)
    if root is None:
        raise ConfigValueError(
            f"{where} inherits its version (version.workspace = true), and no parent "
            "directory has a Cargo.toml with a [workspace] table",
            f"run from a full checkout of the Cargo workspace, or set [package] version in {where}",
        )
    root_where = shown_path(root, config.project_root)
    inherited = read_toml(root).get("workspace", {}).get("package", {}).get("version")
    if not isinstance(inherited, str):
        raise ConfigValueError(
            f"{where} inherits its version from the workspace, and {root_where} has no "
            "[workspace.package] version",
            f'set version = "{_EXAMPLE_VERSION}" in [workspace.package] of {root_where}',
        )
    return inherited, f"{where} via [workspace.package] of {root_where}"


def cargo_to_pep440(semver: str) -> Version:
    """The PEP 440 version maturin gives a Cargo version.

    maturin (checked with 1.16) parses the semver text as a PEP 440 version, leniently:
    ``1.2.3-alpha.1`` -> ``1.2.3a1``, ``-beta.2`` -> ``b2``, ``-rc.1``/``-c.1``/``-pre.1`` ->
    ``rc1``, ``-dev`` -> ``.dev0``, ``-alpha.1.dev.2`` -> ``a1.dev2``, ``+build.5`` -> a local
    version. packaging's normalisation is the same one, so it is used as is.
    """
    try:
        return Version(semver)
    except InvalidVersion:
        raise ValueError(
            f'Cargo version "{semver}" has no PEP 440 equivalent (maturin maps only '
            "pre-release labels alpha/a, beta/b, rc/c/pre and dev, each with an optional "
            "number, like 1.2.3-alpha.1 or 1.2.3-rc.2)"
        ) from None


# --- the project version -------------------------------------------------------------------


def built_by_maturin(config: ReleaseConfig) -> bool:
    build_backend = config.package.build_backend or ""
    return config.backend == "maturin" or build_backend.split(".")[0] == "maturin"


def project_version(config: ReleaseConfig) -> tuple[Version | None, str]:
    """The version the package is built with, and where it comes from.

    ``(None, why)`` when the source cannot tell (a dynamic version computed by a build backend
    other than maturin). Unreadable or missing sources raise :class:`ConfigError` with a
    remedy; :func:`check_versions` turns that into a finding.
    """
    package = config.package
    pyproject = shown_path(package.pyproject, config.project_root)
    if package.version is not None:
        where = f"{pyproject} [project] version"
        try:
            return Version(package.version), where
        except InvalidVersion:
            raise ConfigValueError(
                f'{where} "{package.version}" is not a PEP 440 version',
                f'write it like "{_EXAMPLE_VERSION}"',
            ) from None
    if "version" not in package.dynamic:
        raise ConfigValueError(
            f"{pyproject} has no [project] version, and 'version' is not in [project] dynamic",
            f'add version = "{_EXAMPLE_VERSION}" to [project] in {pyproject}',
        )
    if not built_by_maturin(config):
        backend = package.build_backend or "the build backend"
        return None, f"the version is dynamic in {pyproject} and computed by {backend}"
    semver, where = cargo_version(config)
    try:
        return cargo_to_pep440(semver), where
    except ValueError as exc:
        raise ConfigValueError(
            f"{where}: {exc}", "use a Cargo version like 1.2.3 or 1.2.3-rc.1"
        ) from None


# --- the check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reference:
    """The version everything is compared with, and how a message names it."""

    version: Version
    says: str  # "the tag v0.3.1 says 0.3.1"
    remedy: str  # what to do about an artifact that disagrees


def _error(message: str, file: str | None = None) -> Finding:
    return Finding("error", CHECK, file, message)


def _info(message: str, file: str | None = None) -> Finding:
    return Finding("info", CHECK, file, message)


def _release_kind_findings(
    version: Version, place: str, prereleases: bool, file: str | None
) -> list[Finding]:
    """Versions PyPI refuses (local) or the project does not publish (pre and dev releases)."""
    findings = []
    if version.local is not None:
        findings.append(
            _error(
                f"{place} has a local version label ({version}), and PyPI refuses local "
                f"versions; remove '+{version.local}' from the version and rebuild",
                file,
            )
        )
    if not prereleases:
        kind = "a development release" if version.is_devrelease else "a pre-release"
        if version.is_prerelease:
            findings.append(
                _error(
                    f"{place} is {kind} ({version}), and [tool.release] prereleases is "
                    "false; release a final version, or set prereleases = true in "
                    "[tool.release] to publish it",
                    file,
                )
            )
    return findings


def _metadata_place(file: str) -> str:
    member = "METADATA" if file.endswith(".whl") else "PKG-INFO"
    return f"{member} of {file}"


def _artifact_versions(
    artifact: ArtifactVersion,
) -> tuple[list[tuple[str, Version]], list[Finding]]:
    """(place, version) for each version the artifact states, and errors for unparseable ones."""
    stated = [
        (f"the file name {artifact.file}", artifact.filename_version),
        (_metadata_place(artifact.file), artifact.metadata_version),
    ]
    versions: list[tuple[str, Version]] = []
    findings = []
    for place, text in stated:
        if text is None:
            continue
        try:
            versions.append((place, Version(text)))
        except InvalidVersion:
            findings.append(
                _error(
                    f'{place} says "{text}", which is not a PEP 440 version; rebuild it',
                    artifact.file,
                )
            )
    return versions, findings


def _check_artifact(
    artifact: ArtifactVersion, reference: _Reference | None, prereleases: bool
) -> list[Finding]:
    versions, findings = _artifact_versions(artifact)
    if reference is not None:
        for place, version in versions:
            if version != reference.version:
                findings.append(
                    _error(
                        f"{place} says {version}, {reference.says}; {reference.remedy}",
                        artifact.file,
                    )
                )
    for version in dict.fromkeys(version for _, version in versions):
        findings += _release_kind_findings(version, artifact.file, prereleases, artifact.file)
    return findings


def _first_artifact_version(artifacts: Sequence[ArtifactVersion]) -> tuple[str, Version] | None:
    for artifact in artifacts:
        versions, _ = _artifact_versions(artifact)
        if versions:
            # The metadata is what installers read; prefer it over the file name.
            return versions[-1]
    return None


def _read_project_version(config: ReleaseConfig) -> tuple[Version | None, str, list[Finding]]:
    try:
        version, source = project_version(config)
    except ConfigError as exc:
        return None, "", [_error(f"{exc.cause}; {exc.remedy}")]
    if version is None:
        return None, source, [_info(f"no version from source: {source}; relying on the artifacts")]
    return version, source, []


def check_versions(
    config: ReleaseConfig, tag: str | None, artifacts: Sequence[ArtifactVersion]
) -> list[Finding]:
    """Every disagreement between the tag, the project version and the artifacts' versions,
    and every version PyPI or the project's ``prereleases`` setting refuses."""
    project, source, findings = _read_project_version(config)
    reference: _Reference | None = None

    if tag is not None:
        try:
            example = str(project) if project is not None else _EXAMPLE_VERSION
            tagged = parse_tag(tag, config.tag_pattern, example=example)
        except TagError as exc:
            findings.append(_error(f"{exc.cause}; {exc.remedy}"))
        else:
            reference = _Reference(
                tagged,
                f"the tag {tag} says {tagged}",
                "rebuild the artifacts from the tagged commit (is an old file left in the "
                "dist dir?)",
            )
            findings += _release_kind_findings(tagged, f"the tag {tag}", config.prereleases, None)
            if project is not None and project != tagged:
                findings.append(
                    _error(
                        f"the project version ({source}) is {project}, the tag {tag} says "
                        f"{tagged}; set the version to {tagged} there, or push the tag "
                        f"{config.tag_pattern.replace('{version}', str(project))} instead"
                    )
                )

    if reference is None and project is not None:
        reference = _Reference(
            project,
            f"the project version ({source}) is {project}",
            "rebuild it from this checkout, or remove the stale file from the dist dir",
        )
        if tag is None:
            findings += _release_kind_findings(
                project, f"the project version ({source})", config.prereleases, None
            )
    if reference is None:
        first = _first_artifact_version(artifacts)
        if first is not None:
            place, version = first
            reference = _Reference(
                version,
                f"{place} says {version}",
                "rebuild all artifacts from one checkout, or remove the stale files",
            )

    if tag is None:
        agreed = f"version {reference.version}" if reference is not None else "one version"
        findings.append(
            _info(
                "no tag given (--tag or GITHUB_REF=refs/tags/...); checked that the "
                f"artifacts agree with {agreed}"
            )
        )
    for artifact in artifacts:
        findings += _check_artifact(artifact, reference, config.prereleases)
    return findings
