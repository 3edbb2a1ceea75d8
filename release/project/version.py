"""The version the package is built with, read from where its build backend reads it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from ..errors import ConfigValueError
from .cargo import EXAMPLE_VERSION, cargo_to_pep440, crate_version, shown_path

if TYPE_CHECKING:
    from ..config import ReleaseConfig


def built_by_maturin(config: ReleaseConfig) -> bool:
    build_backend = config.package.build_backend or ""
    return config.backend == "maturin" or build_backend.split(".")[0] == "maturin"


def project_version(config: ReleaseConfig) -> tuple[Version | None, str]:
    """The version the package is built with, and where it comes from.

    ``(None, why)`` when the source cannot tell (a dynamic version computed by a build backend
    other than maturin). Unreadable or missing sources raise :class:`ConfigError` with a
    remedy.
    """
    package = config.package
    pyproject = shown_path(package.pyproject, config.project_root)
    if package.version is not None:
        where = f"{pyproject} [project] version"
        try:
            return Version(package.version), where
        except InvalidVersion:
            raise ConfigValueError(
                f'{where} "{package.version}" is not a PEP 440 version.',
                f'write it like "{EXAMPLE_VERSION}".',
            ) from None
    if "version" not in package.dynamic:
        raise ConfigValueError(
            f"{pyproject} has no [project] version, and 'version' is not in [project] dynamic.",
            f'add version = "{EXAMPLE_VERSION}" to [project] in {pyproject}.',
        )
    if not built_by_maturin(config):
        backend = package.build_backend or "the build backend"
        return None, f"the version is dynamic in {pyproject} and computed by {backend}"
    semver, where = crate_version(config)
    try:
        return cargo_to_pep440(semver), where
    except ValueError as exc:
        raise ConfigValueError(
            f"{where}: {exc}.", "use a Cargo version like 1.2.3 or 1.2.3-rc.1."
        ) from None
