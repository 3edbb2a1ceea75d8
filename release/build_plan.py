"""Which platforms of one OS a build stage builds on this host, and how; which it leaves to a
runner that can.

The platforms come from the expected set (release/platforms.py says where each backend's come
from), narrowed by ``--arch`` for a matrix job. For each, the backend says how this host builds
it (:meth:`Backend.build_method`): ``native``, ``cross`` or ``container``, or not at all, as an
:class:`Unavailable` whose reason the record keeps, with the runner that builds it
(:func:`release.platforms.native_runner`). The stage record lists every platform with its
method (``details["platforms"]``) and the builds it left to other machines (``not_built``),
which validate excuses as "not built here" (and ``--strict`` refuses).

Never executed here: this host is x86_64 Linux. The macOS paths (native, cross between the
two Macs, universal2), Windows ARM64 and every arm64 runner's build are written from the
tools' documentation (shared/reference/platforms.md) and tested with recorded commands only;
the first real run of each is a job of the release workflow's fan-out.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from .context import RunContext
from .errors import ConfigValueError
from .expected import ExpectedSet
from .host import host_os, machine
from .platforms import OS, ArchError, BuildMethod, Platform, canonical_arch, native_runner
from .regression import requires_python_of

# cibuildwheel's own option for which Pythons a project builds (project-requires-python): a
# job of a matrix split by Python narrows the project's selection with it, keeping its
# build/skip/enable, in the identifier listing and the build alike.
NARROWING = "CIBW_PROJECT_REQUIRES_PYTHON"


def host_arch() -> str:
    """This machine's architecture in cibuildwheel's words for its OS (Windows ``AMD64``,
    macOS ``arm64``, Linux ``aarch64``)."""
    arch = machine()
    here = host_os()
    if here == "windows":
        return {"x86_64": "AMD64", "aarch64": "ARM64", "i686": "x86"}.get(arch, arch)
    if here == "macos":
        return {"aarch64": "arm64"}.get(arch, arch)
    return arch


@dataclass(frozen=True)
class PlatformBuild:
    """One platform of the stage: how this host builds it, or why not and who does."""

    platform: Platform
    method: BuildMethod | None  # None: not built here
    how: str  # how it is built, or why it is not
    runner: str | None = None  # the runner that builds it, when not built here
    builds: tuple[str, ...] = ()  # the expected wheels' builds (identifiers) it makes

    @property
    def built_here(self) -> bool:
        return self.method is not None

    def as_record(self) -> dict[str, object]:
        entry: dict[str, object] = {
            "platform": self.platform.name,
            "os": self.platform.os,
            "arch": self.platform.arch,
            "libc": self.platform.libc,
            "method": self.method,
            "how": self.how,
        }
        if self.runner is not None:
            entry["runner"] = self.runner
        return entry

    def skip_line(self) -> str:
        where = f"; {self.runner} builds it" if self.runner else ""
        return f"{self.platform.name}: {self.how}{where}"


def stage_platforms(expected: ExpectedSet, os: OS, arch: str | None) -> list[Platform]:
    """The platforms of ``os`` the expected set has, only ``arch``'s with ``--arch``
    (cibuildwheel's or maturin's name: ``aarch64``, ``arm64``, ``ARM64``). An ``--arch``
    the project builds none of for ``os`` is refused: a matrix job that builds nothing
    would pass green."""
    platforms = [p for p in expected.platforms if p.os == os]
    if arch is None:
        return platforms
    try:
        wanted = canonical_arch(os, arch)
    except ArchError as exc:
        hint = f"did you mean {exc.close!r}? " if exc.close else ""
        raise ConfigValueError(
            f"--arch {arch} is not a {os} architecture.",
            f"{hint}pass one of the architectures the project builds for {os}: "
            f"{', '.join(sorted({p.arch for p in platforms})) or 'none'}.",
        ) from None
    chosen = [p for p in platforms if p.arch == wanted]
    if not chosen:
        raise ConfigValueError(
            f"--arch {arch}: the project builds no {os} {wanted} wheels (its expected set, "
            f"from {expected.source}, has {', '.join(p.name for p in platforms) or 'none'}).",
            f"pass --arch with one of those, or add {wanted} to the project's archs for {os}.",
        )
    return chosen


def runner_for(platform: Platform) -> str:
    runner = native_runner(platform)
    if runner is not None:
        return runner.label
    return f"no GitHub-hosted runner is {platform.arch} (only emulation builds it)"


def builds_of(expected: ExpectedSet, platform: Platform) -> tuple[str, ...]:
    return tuple(w.build for w in expected.wheels if w.build_platform == platform and w.build)


def left_to_others(plan: Sequence[PlatformBuild]) -> tuple[str, ...]:
    """The builds (identifiers) of the platforms this host does not build."""
    return tuple(build for entry in plan if not entry.built_here for build in entry.builds)


def narrowed_to_python(ctx: RunContext) -> RunContext:
    """``ctx`` for ``--python 3.12``: cibuildwheel builds that Python's identifiers only
    (cp312, cp312t, pp312), through :data:`NARROWING`. Refused for another backend, a
    version not written as ``3.12``, or one the project's ``requires-python`` excludes."""
    if ctx.python is None:
        return ctx
    config = ctx.config
    if config.backend != "cibuildwheel":
        raise ConfigValueError(
            f"--python {ctx.python}: the {config.backend} backend builds a platform's Pythons "
            "in one run; --python narrows a cibuildwheel build.",
            "leave --python out.",
        )
    if not re.fullmatch(r"3\.\d{1,2}", ctx.python):
        raise ConfigValueError(
            f"--python {ctx.python} is not a Python version as a matrix names it.",
            "write it as major.minor: --python 3.12.",
        )
    requires = requires_python_of(config.package.raw)
    try:
        allowed = SpecifierSet(requires or "")
    except InvalidSpecifier:
        allowed = SpecifierSet()
    if not allowed.contains(Version(ctx.python), prereleases=True):
        raise ConfigValueError(
            f"--python {ctx.python}: the project's requires-python ({requires}) excludes it.",
            "pass a Python the project supports, or leave --python out.",
        )
    environ = {**ctx.environ, NARROWING: f"=={ctx.python}.*"}
    return dataclasses.replace(ctx, environ=environ)
