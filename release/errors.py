"""Every way a stage can fail on purpose: one class each, with a cause, a remedy and an exit code.

The CLI prints ``cause`` and ``remedy`` on two lines and exits with ``exit_code``; a traceback
is shown only with ``--verbose``. Exit codes are part of the interface (CI scripts branch on
them), so a class keeps its code forever and no two classes share one.
"""

from __future__ import annotations

from collections.abc import Sequence


class ReleaseError(Exception):
    """Base class: a failure the user can act on."""

    exit_code = 1

    def __init__(self, cause: str, remedy: str) -> None:
        super().__init__(cause)
        self.cause = cause
        self.remedy = remedy

    def as_dict(self) -> dict[str, object]:
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


# --- tools and commands: 20-29 --------------------------------------------------------------


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

    def as_dict(self) -> dict[str, object]:
        data = super().as_dict()
        data.update(argv=self.argv, returncode=self.returncode, tail=self.tail)
        return data


class BuildOutputError(ReleaseError):
    """A build tool succeeded but did not leave the artifacts it should have."""

    exit_code = 22


class HostBuildError(ReleaseError):
    """The fallback host build cannot produce what the project's configuration asks for."""

    exit_code = 23


class DistDirError(ReleaseError):
    exit_code = 24


# --- validation: 30-39 ----------------------------------------------------------------------


class ValidationFailedError(ReleaseError):
    exit_code = 30


class TagError(ReleaseError):
    exit_code = 31


# --- orchestration: 40-49 -------------------------------------------------------------------


class StagesFailedError(ReleaseError):
    """The release chain ran to the end and at least one stage failed."""

    exit_code = 40


class InternalError(ReleaseError):
    """A bug in nox-release, not a problem with the project."""

    exit_code = 70

    @classmethod
    def of(cls, exc: BaseException) -> InternalError:
        return cls(
            f"nox-release failed unexpectedly: {type(exc).__name__}: {exc}",
            "this is a bug in nox-release: rerun with --verbose and report it with the traceback.",
        )
