"""Every way a stage can fail on purpose: one class each, with a cause, a remedy and an exit code.

The CLI prints ``cause`` and ``remedy`` on two lines and exits with ``exit_code``; a traceback
is shown only with ``--verbose``. Exit codes are part of the interface (CI scripts branch on
them), so a class keeps its code forever and no two classes share one. Code 70 is for bugs in
nox-release only: a fault of the machine (a full disk, a read-only folder) has its own class.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence
from typing import Any


class ReleaseError(Exception):
    """Base class: a failure the user can act on."""

    exit_code = 1

    def __init__(self, cause: str, remedy: str) -> None:
        super().__init__(cause)
        self.cause = cause
        self.remedy = remedy

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": type(self).__name__,
            "cause": self.cause,
            "remedy": self.remedy,
            "exit_code": self.exit_code,
        }


# --- configuration: 10-19 ---------------------------------------------------------------


class ConfigError(ReleaseError):
    exit_code = 10


class NoPyprojectError(ConfigError):
    exit_code = 11


class NoReleaseTableError(ConfigError):
    exit_code = 12


class UnknownKeyError(ConfigError):
    exit_code = 13


class ConfigTypeError(ConfigError):
    exit_code = 14


class PackageDirError(ConfigError):
    exit_code = 15


class UnknownBackendError(ConfigError):
    exit_code = 16


class ConfigValueError(ConfigError):
    """A value of the right type that still makes no sense (a manylinux floor of "abc")."""

    exit_code = 17


class InvalidTomlError(ConfigError):
    exit_code = 18


class ProjectDirError(ConfigError):
    """``--project`` names something that is not a project directory."""

    exit_code = 19


# --- tools, commands and the dist dir: 20-29 ----------------------------------------------


class ToolNotFoundError(ReleaseError):
    exit_code = 20


class CommandFailedError(ReleaseError):
    """An external command exited non-zero; carries the last lines it printed."""

    exit_code = 21

    def __init__(
        self, cause: str, remedy: str, argv: Sequence[str], returncode: int, tail: Sequence[str]
    ) -> None:
        super().__init__(cause, remedy)
        self.argv = list(argv)
        self.returncode = returncode
        self.tail = list(tail)

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data.update(argv=self.argv, returncode=self.returncode, tail=self.tail)
        return data


class TimeLimitError(CommandFailedError):
    """An external command ran past its time limit and was stopped. (Code 33: the 20s were
    taken when it came.)"""

    exit_code = 33


class BuildOutputError(ReleaseError):
    """A build tool succeeded but did not leave the artifacts it should have."""

    exit_code = 22


class HostBuildError(ReleaseError):
    """The fallback host build cannot produce what the project's configuration asks for."""

    exit_code = 23


class DistDirError(ReleaseError):
    exit_code = 24


class DiskFullError(ReleaseError):
    """The disk (or a quota) ran out of space while nox-release was writing."""

    exit_code = 25


class NotWritableError(ReleaseError):
    """A directory nox-release must write into is read-only or not ours to write."""

    exit_code = 26


class StepSummaryError(ReleaseError):
    """``$GITHUB_STEP_SUMMARY`` cannot be appended to; reported as a warning, never fatal."""

    exit_code = 27


class SdistBuildError(CommandFailedError):
    """The sdist was made, but a wheel cannot be built from it: pip install from source
    would fail for every user without a matching wheel. (Code 34: the 20s were taken.)"""

    exit_code = 34


class BeforeBuildError(CommandFailedError):
    """A command of the project's ``before-build`` failed: nothing was built. (Code 35: the
    20s were taken.)"""

    exit_code = 35


class SystemPackageError(ReleaseError):
    """A system package the build needs (apt-packages, msys2-packages) is missing."""

    exit_code = 28


class InTheWayError(ReleaseError):
    """Outside the dist dir, something stands where nox-release must write: a file where a
    directory goes (``.github``), a directory where a file goes (``noxfile.py``), a symbolic
    link that loops."""

    exit_code = 29


class OutputLostError(ReleaseError):
    """A command whose answer is what it prints (``constraints``) could not print it: a
    caller reading its stdout would take an empty answer for one. (Code 39: the 20s were
    taken when it came, and 35-38 are kept for the stages.)"""

    exit_code = 39


# --- validation: 30-39 ----------------------------------------------------------------------


class ValidationFailedError(ReleaseError):
    exit_code = 30


class TagError(ReleaseError):
    exit_code = 31


class DamagedRecordError(ReleaseError):
    """A stage record exists but cannot be read."""

    exit_code = 32


# --- orchestration: 40-49 -------------------------------------------------------------------


class StagesFailedError(ReleaseError):
    """The release chain ran to the end and at least one stage failed."""

    exit_code = 40


# --- publishing: 50-59 ----------------------------------------------------------------------


class PublishRefusedError(ReleaseError):
    """The dist dir is not what a passing validate approved: nothing is uploaded."""

    exit_code = 50


class UploadConflictError(ReleaseError):
    """The index already has a file of this release with other content."""

    exit_code = 51


class CredentialsError(ReleaseError):
    """No way to authenticate: no OIDC token where one was expected, no API token."""

    exit_code = 52


class MintRefusedError(ReleaseError):
    """The index refused to exchange the OIDC token for an upload token."""

    exit_code = 53

    def __init__(self, cause: str, remedy: str, code: str = "") -> None:
        super().__init__(cause, remedy)
        self.code = code


class IndexUnavailableError(ReleaseError):
    """The index did not answer, or answered with an outage page."""

    exit_code = 54


class UploadFailedError(ReleaseError):
    """The index refused an upload for a reason retrying cannot change."""

    exit_code = 55


class VerificationError(ReleaseError):
    """After uploading, the index does not list every file with its sha256."""

    exit_code = 56


class RehearsalError(ReleaseError):
    """The dry run's local upload, install or import of the release failed."""

    exit_code = 57


class PlatformRegressionError(ReleaseError):
    """The release leaves out a platform, architecture, libc or Python that the project's
    last release on the index served, and ``[tool.release] dropped`` does not name it."""

    exit_code = 59


class CredentialsInUrlError(ConfigError):
    """A repository or index URL carries a user name or password: it would be printed and
    recorded. Tokens belong in PYPI_API_TOKEN (or trusted publishing)."""

    exit_code = 58


# --- provenance (PEP 740 attestations, Sigstore): 80-89 ----------------------------------------


class SigningUnavailableError(ReleaseError):
    """Sigstore (Fulcio or Rekor) did not answer, or answered 5xx/429, through every retry:
    an outage, not a refusal."""

    exit_code = 80


class SigningRefusedError(ReleaseError):
    """Sigstore refused to sign: the identity token or the request was not accepted."""

    exit_code = 81


class AttestationInvalidError(ReleaseError):
    """An attestation just signed does not verify: nothing is uploaded with it."""

    exit_code = 82


class SigningUnsupportedError(ReleaseError):
    """Signing was asked for where it cannot run: a Python older than sigstore's 3.10, or
    sigstore-python or pypi-attestations missing."""

    exit_code = 83


class ProvenanceInvalidError(ReleaseError):
    """After the upload, the index serves a provenance for a file that does not verify as
    this repository's release workflow's publish attestation of that file."""

    exit_code = 84


class AttestationRefusedError(ReleaseError):
    """The index refused an upload's attestation (``Invalid attestations supplied during
    upload``): the file was not stored."""

    exit_code = 85


# --- build provenance on GitHub: 86-87 ----------------------------------------------------------


class ProvenanceUnsupportedError(ReleaseError):
    """Build provenance was asked for where nox-release cannot make it: outside GitHub
    Actions, or a repository whose attestations GitHub signs with its own Sigstore."""

    exit_code = 86


# --- the preflight, GitHub, init: 60-69 -------------------------------------------------------


class CheckFailedError(ReleaseError):
    """The preflight found what would stop or break the release."""

    exit_code = 60


class GitHubError(ReleaseError):
    """The GitHub REST API refused or failed a request."""

    exit_code = 61


class ProvenanceRefusedError(GitHubError):
    """GitHub's attestations API refused to store the build provenance attestation (403:
    the job's token lacks attestations: write; 422: not an attestation GitHub takes)."""

    exit_code = 87


class ReleaseAssetConflictError(ReleaseError):
    """The GitHub Release has an asset of that name with other content."""

    exit_code = 62


class NoPackageError(ReleaseError):
    """init found no Python package to configure."""

    exit_code = 63


class AmbiguousPackageError(ReleaseError):
    """init found more than one package, and --package-dir does not say which."""

    exit_code = 64


class WouldOverwriteError(ReleaseError):
    """init would change files that exist, and --force was not given."""

    exit_code = 65


class InitSourceError(ReleaseError):
    """The nox-release the generated noxfile would install cannot be installed."""

    exit_code = 66


# --- bugs: 70 -------------------------------------------------------------------------------


class InternalError(ReleaseError):
    """A bug in nox-release, not a problem with the project or the machine."""

    exit_code = 70

    @classmethod
    def of(cls, exc: BaseException) -> InternalError:
        return cls(
            f"nox-release failed unexpectedly: {type(exc).__name__}: {exc}",
            "this is a bug in nox-release: rerun with --verbose and report it with the traceback.",
        )


# --- interruption ---------------------------------------------------------------------------


class Interrupted(BaseException):
    """SIGINT (Ctrl-C) or SIGTERM (a cancelled CI job) arrived.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way up
    turns it into a stage failure: the whole run stops, cleaning up as it unwinds.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        # The shell's convention for death by a signal.
        return 128 + self.signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name
