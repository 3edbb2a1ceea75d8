"""The ``cibuildwheel`` backend: the cibuildwheel CLI, as the cibuildwheel action runs it.

On Linux cibuildwheel builds inside manylinux containers, each the image of the floor in
``[tool.release.linux] manylinux``. Without a working container engine (laptops without
Docker, sandboxes) the stage falls back to a host build of the running interpreter's wheel,
repaired to that floor, and says so in its record as ``host build``.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..build_plan import NARROWING, host_arch, runner_for
from ..config import ReleaseConfig, manylinux_glibc
from ..context import RunContext
from ..errors import ConfigValueError, HostBuildError, ToolNotFoundError
from ..expected import ExpectedSet, ExpectedWheel
from ..host import container_engine, host_os, machine, python_tag
from ..platforms import (
    OPERATING_SYSTEMS,
    OS,
    ArchError,
    BuildMethod,
    Platform,
    platform_of_identifier,
    resolve_archs,
    split_archs,
)
from ..project.pyproject import read_package
from ..runner import Runner, child_env
from .base import BuildOutcome, Unavailable
from .build import host_build_linux_wheels, python_build
from .interpreters import Interpreter, Search, find_interpreter, how_to_install
from .reproducible import VARIABLE, source_date_env

_PASS_LINUX = "CIBW_ENVIRONMENT_PASS_LINUX"


def cibuildwheel_env(ctx: RunContext, extra: dict[str, str]) -> dict[str, str]:
    """The environment of cibuildwheel, the build's date included. Linux builds run in
    containers, which get only the variables that environment-pass names; the variable
    replaces the pyproject.toml option, so it carries the user's list plus the date."""
    env = child_env(extra={**extra, **_narrowing(ctx.environ), **source_date_env(ctx)})
    if VARIABLE not in env:
        return env
    if _PASS_LINUX in env:
        passed = env[_PASS_LINUX].split()
    else:
        passed = _environment_pass(read_package(ctx.config.package_dir).tool("cibuildwheel"))
    if VARIABLE not in passed:
        env[_PASS_LINUX] = " ".join([*passed, VARIABLE])
    return env


def _environment_pass(table: Mapping[str, Any]) -> list[str]:
    """``environment-pass`` of [tool.cibuildwheel.linux], else of [tool.cibuildwheel]."""
    linux = table.get("linux")
    for scope in (linux if isinstance(linux, dict) else {}, table):
        value = scope.get("environment-pass")
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list):
            return [str(name) for name in value]
    return []


# --- the manylinux image of the floor ---------------------------------------------------------

# A floor in an image's name: cibuildwheel's shortcuts (manylinux2014, manylinux_2_28) and
# pypa's images (quay.io/pypa/manylinux_2_28_x86_64:2026.10.26-1).
_IMAGE_FLOOR = re.compile(r"manylinux(?:_(?P<pep600>\d+_\d+)|(?P<legacy>1|2010|2014))(?![\d])")
_IMAGE_KEY = re.compile(r"manylinux-(?P<arch>\w+)-image")
_IMAGE_VARIABLE = re.compile(r"CIBW_MANYLINUX_(?P<arch>\w+?)_IMAGE(?:_LINUX)?")


def image_floor(image: str) -> tuple[int, int] | None:
    """The glibc floor an image's name says (``manylinux2014`` -> (2, 17)); None for an image
    whose name says none (a project's own builder image)."""
    match = _IMAGE_FLOOR.search(image.rsplit("/", 1)[-1])
    if match is None:
        return None
    try:
        return manylinux_glibc(match["pep600"] or match["legacy"])
    except ConfigValueError:
        return None  # a glibc that does not exist (manylinux_2_99): no floor it could meet


def floor_name(glibc: tuple[int, int]) -> str:
    return f"manylinux_{glibc[0]}_{glibc[1]}"


@dataclass(frozen=True)
class ImageChoice:
    """A manylinux image the project itself gives cibuildwheel, and where."""

    arch: str  # cibuildwheel's build platform: x86_64, pypy_x86_64, armv7l...
    image: str
    where: str

    @property
    def floor(self) -> tuple[int, int] | None:
        return image_floor(self.image)


def project_images(config: ReleaseConfig, environ: Mapping[str, str]) -> list[ImageChoice]:
    """Every ``manylinux-*-image`` the project sets: in [tool.cibuildwheel], its ``linux``
    table and its overrides, and as ``CIBW_MANYLINUX_*_IMAGE`` in the environment, which
    cibuildwheel prefers to them all."""
    table = config.package.tool("cibuildwheel")
    pyproject = config.shown(config.package.pyproject)
    linux = table.get("linux")
    scopes: list[tuple[str, Any]] = [("[tool.cibuildwheel]", table)]
    scopes.append(("[tool.cibuildwheel.linux]", linux))
    overrides = table.get("overrides")
    for override in overrides if isinstance(overrides, list) else []:
        select = override.get("select") if isinstance(override, dict) else None
        scopes.append((f"[[tool.cibuildwheel.overrides]] select = {select!r}", override))
    found: list[ImageChoice] = []
    for scope, values in scopes:
        for key, value in values.items() if isinstance(values, dict) else ():
            match = _IMAGE_KEY.fullmatch(key)
            if match and isinstance(value, str) and value.strip():
                where = f"{key} = {value!r} in {scope} of {pyproject}"
                found.append(ImageChoice(match["arch"], value.strip(), where))
    for name, value in sorted(environ.items()):
        match = _IMAGE_VARIABLE.fullmatch(name)
        if match and value.strip():
            arch = match["arch"].lower()
            found.append(ImageChoice(arch, value.strip(), f"{name}={value} in the environment"))
    return found


def pinned_images() -> tuple[str, dict[str, dict[tuple[int, int], str]]]:
    """The installed cibuildwheel's version and, per build platform, the floors it has an
    image for with the shortcut naming it (``{"x86_64": {(2, 17): "manylinux2014"}}``), from
    its own list (resources/pinned_docker_images.cfg): cibuildwheel 2.x and 4.x differ."""
    try:
        dist = importlib.metadata.distribution("cibuildwheel")
    except importlib.metadata.PackageNotFoundError:
        raise ToolNotFoundError(
            f"cibuildwheel is not installed in the Python that runs nox-release "
            f"({sys.executable}); the manylinux images it has are read from it.",
            f"{sys.executable} -m pip install cibuildwheel, or run nox -s build-linux, which "
            "installs it.",
        ) from None
    listing = Path(str(dist.locate_file("cibuildwheel/resources/pinned_docker_images.cfg")))
    parser = configparser.ConfigParser(inline_comment_prefixes="#")
    try:
        parser.read_string(listing.read_text(encoding="utf-8"))
    except (OSError, configparser.Error) as exc:
        raise ToolNotFoundError(
            f"cibuildwheel {dist.version} has no readable list of its manylinux images "
            f"({listing}: {exc}).",
            "install the cibuildwheel nox-release is tested with (release/constraints.txt).",
        ) from None
    images: dict[str, dict[tuple[int, int], str]] = {}
    for arch in parser.sections():
        images[arch] = {
            floor: shortcut
            for shortcut in parser[arch]
            if shortcut.startswith("manylinux") and (floor := image_floor(shortcut)) is not None
        }
    return dist.version, images


def _built_arches(identifiers: Sequence[str]) -> list[str]:
    """The build platforms whose images build ``identifiers``: ``cp312-manylinux_x86_64`` ->
    x86_64; PyPy's also ``pypy_x86_64`` (cibuildwheel 2.x gives PyPy images of its own)."""
    arches: list[str] = []
    for identifier in identifiers:
        python, _, plat = identifier.partition("-")
        if not plat.startswith("manylinux_"):
            continue  # musllinux has its own images and floors
        arch = plat.removeprefix("manylinux_")
        for wanted in (arch, f"pypy_{arch}") if python.startswith("pp") else (arch,):
            if wanted not in arches:
                arches.append(wanted)
    return arches


def agreeing_images(config: ReleaseConfig, environ: Mapping[str, str]) -> list[ImageChoice]:
    """The project's own manylinux images, once none names another floor than the
    configured one: such an image would make wheels of another floor than validate requires
    (and cibuildwheel prefers it to any default), so it is refused before the build."""
    floor = config.linux.glibc
    own = project_images(config, environ)
    others = [choice for choice in own if choice.floor not in (None, floor)]
    if others:
        asked = "; ".join(f"{c.where} ({floor_name(c.floor or floor)})" for c in others)
        suggested = others[0].floor or floor
        raise ConfigValueError(
            f'[tool.release.linux] manylinux = "{config.linux.manylinux}" in '
            f"{config.shown(config.pyproject)} is the manylinux floor the wheels are built "
            f"for ({floor_name(floor)}), but the project's cibuildwheel configuration asks "
            f"for another: {asked}.",
            "make them agree: remove that image setting (nox-release gives cibuildwheel the "
            f"image of its floor), or, if {floor_name(suggested)} is the floor you mean, set "
            f'[tool.release.linux] manylinux = "{suggested[0]}_{suggested[1]}".',
        )
    return own


def floor_images(
    config: ReleaseConfig,
    environ: Mapping[str, str],
    identifiers: Sequence[str],
    pinned: tuple[str, Mapping[str, Mapping[tuple[int, int], str]]],
) -> tuple[dict[str, str], list[ImageChoice]]:
    """The ``CIBW_MANYLINUX_<ARCH>_IMAGE`` variables that make cibuildwheel build
    ``identifiers`` in the images of the configured floor, and the project's own images
    whose names say no floor (kept: validate judges the floor of what they build). A build
    platform cibuildwheel has no image of the floor for is refused before the build."""
    floor = config.linux.glibc
    own = agreeing_images(config, environ)
    # An image the project names itself (a pinned digest, its own builder) stays.
    kept = {choice.arch for choice in own}
    version, images = pinned
    env: dict[str, str] = {}
    lacking: list[str] = []
    for arch in _built_arches(identifiers):
        if arch in kept:
            continue
        if arch not in images:
            if arch.startswith("pypy_"):
                continue  # cibuildwheel 4 builds PyPy in the CPython images
            lacking.append(f"{arch} (it has no manylinux image for {arch} at all)")
            continue
        shortcut = images[arch].get(floor)
        if shortcut is None:
            has = ", ".join(floor_name(f) for f in sorted(images[arch])) or "none"
            lacking.append(f"{arch} (it has {has})")
            continue
        env[f"CIBW_MANYLINUX_{arch.upper()}_IMAGE"] = shortcut
    if lacking:
        raise ConfigValueError(
            f"cibuildwheel {version} has no {floor_name(floor)} image, the floor of "
            f'[tool.release.linux] manylinux = "{config.linux.manylinux}", for what the '
            f"project builds: {'; '.join(lacking)}.",
            "set [tool.release.linux] manylinux to a floor it has an image for, leave those "
            "architectures out of the build ([tool.cibuildwheel] archs or skip), or give "
            f"cibuildwheel an image of that floor (manylinux-<arch>-image naming "
            f"{floor_name(floor)}).",
        )
    return env, [choice for choice in own if choice.floor is None]


# --- build identifiers and the wheels they make -------------------------------------------------


_IDENTIFIER = re.compile(
    r"(?P<impl>cp|pp|gp)(?P<major>\d)(?P<minor>\d+)(?P<ft>t?)(_\d+)?-(?P<plat>.+)"
)


def _narrowing(environ: Mapping[str, str]) -> dict[str, str]:
    """The one Python a build job of a matrix split by Python builds (``--python``)."""
    return {NARROWING: environ[NARROWING]} if environ.get(NARROWING) else {}


def build_identifiers(
    config: ReleaseConfig,
    runner: Runner,
    platform: str,
    archs: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """What cibuildwheel would build for ``platform``, from the package's own selectors:
    on this machine (``archs`` None: the project's archs as this machine resolves ``auto``),
    or for ``archs``.

    ``--print-build-identifiers`` runs on any OS, for any OS, so validate uses it too.
    """
    argv = ["cibuildwheel", "--print-build-identifiers", "--platform", platform]
    if archs is not None:
        argv += ["--archs", ",".join(archs)]
    narrowing = _narrowing(environ or {})
    result = runner.run(
        [*argv, str(config.package_dir)],
        cwd=config.project_root,
        env=child_env(extra=narrowing) if narrowing else None,
        why=f"listing the {platform} build identifiers",
        quiet=True,
    )
    return parse_identifiers(result.output, other_machines=archs is not None)


# cibuildwheel on an x86_64 Mac (or any x86_64 machine asking for macOS) leaves out the PyPy
# and GraalPy arm64 builds it selected, which an arm64 Mac builds, and says so on stderr.
_BUILT_ELSEWHERE = re.compile(
    r"Note: (?P<identifiers>.+?)\s+(?:was|were)\s+selected, but can't be built on"
)


def parse_identifiers(output: str, *, other_machines: bool) -> list[str]:
    """The identifiers of ``--print-build-identifiers`` output (stdout and stderr merged):
    one per line; with ``other_machines``, also those cibuildwheel selected but leaves to
    another machine. Its other notes and warnings are not identifiers."""
    identifiers: list[str] = []
    for line in output.splitlines():
        text = line.strip()
        elsewhere = _BUILT_ELSEWHERE.search(text)
        if elsewhere is not None:
            if other_machines:
                identifiers += [i.strip() for i in elsewhere["identifiers"].split(",")]
        elif text and " " not in text and "-" in text:
            identifiers.append(text)
    return list(dict.fromkeys(identifiers))


@dataclass(frozen=True)
class ProjectArchs:
    """cibuildwheel's ``archs`` of one OS as the project sets it, and where."""

    words: tuple[str, ...]
    where: str  # "[tool.cibuildwheel.linux] archs", "CIBW_ARCHS", "default"

    def resolved(self, os: OS, pyproject: str) -> tuple[str, ...]:
        """The architectures the release's runners of ``os`` build together."""
        try:
            return resolve_archs(os, self.words)
        except ArchError as exc:
            hint = f"did you mean {exc.close!r}? " if exc.close else ""
            raise ConfigValueError(
                f"{self.where} of {pyproject} names {exc.word!r}, which is not a {os} "
                "architecture cibuildwheel builds.",
                f"{hint}fix the name (cibuildwheel's docs, options: archs).",
            ) from None


def project_archs(config: ReleaseConfig, environ: Mapping[str, str], os: OS) -> ProjectArchs:
    """``archs`` for ``os`` as cibuildwheel reads it: ``CIBW_ARCHS_<OS>``, ``CIBW_ARCHS``,
    ``[tool.cibuildwheel.<os>] archs``, ``[tool.cibuildwheel] archs``, else ``auto``."""
    for name in (f"CIBW_ARCHS_{os.upper()}", "CIBW_ARCHS"):
        if environ.get(name, "").strip():
            return ProjectArchs(tuple(split_archs(environ[name])), f"{name}={environ[name]}")
    table = config.package.tool("cibuildwheel")
    scoped = table.get(os)
    for where, scope in (
        (f"[tool.cibuildwheel.{os}] archs", scoped),
        ("[tool.cibuildwheel] archs", table),
    ):
        value = scope.get("archs") if isinstance(scope, dict) else None
        if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return ProjectArchs(tuple(split_archs(value)), where)
    return ProjectArchs(("auto",), "cibuildwheel's default archs (auto)")


def _host_python(identifier: str, arch: str) -> tuple[str, bool] | None:
    """``("3.13", False)`` for ``cp313-manylinux_x86_64`` on an x86_64 host: the CPython
    a host build of that identifier needs; None for what a host build cannot make."""
    match = _IDENTIFIER.fullmatch(identifier)
    if match is None or match["impl"] != "cp" or match["plat"] != f"manylinux_{arch}":
        return None
    return f"{match['major']}.{match['minor']}", bool(match["ft"])


def _identifier_platform(plat: str) -> str:
    """cibuildwheel's ``manylinux_x86_64`` -> a pattern for the tag the wheel gets
    (``manylinux_2_17_x86_64``, ``manylinux2014_x86_64``...)."""
    for libc in ("manylinux", "musllinux"):
        if plat.startswith(libc + "_"):
            return f"{libc}*_{plat[len(libc) + 1 :]}"
    return plat


def wheel_for_identifier(identifier: str, platform: str) -> ExpectedWheel:
    """The wheel a cibuildwheel build identifier produces.

    A CPython build may also produce an abi3 wheel (``py_limited_api``); its tag names the
    oldest CPython it supports, which can be any minor version up to the building one.
    """
    match = _IDENTIFIER.fullmatch(identifier)
    if match is None:
        plat = identifier.split("-", 1)[-1]
        return ExpectedWheel(
            platform, (f"*-*-{_identifier_platform(plat)}",), identifier, identifier
        )
    plat = _identifier_platform(match["plat"])
    version = match["major"] + match["minor"]
    if match["impl"] == "pp":
        where = platform_of_identifier(identifier)
        return ExpectedWheel(
            platform, (f"pp{version}-*-{plat}",), build=identifier, build_platform=where
        )
    if match["impl"] == "gp":
        where = platform_of_identifier(identifier)
        return ExpectedWheel(
            platform, (f"graalpy{version}-*-{plat}",), build=identifier, build_platform=where
        )
    where = platform_of_identifier(identifier)
    native = f"cp{version}-cp{version}{match['ft']}-{plat}"
    major, minor = match["major"], int(match["minor"])
    if match["ft"]:
        # A free-threaded build may make an abi3t wheel (PEP 803, 3.15 on), named for the
        # oldest CPython it serves; never an abi3 one, which does not load there.
        abi3t = tuple(f"cp{major}{m}-abi3t-{plat}" for m in range(minor, 14, -1))
        return ExpectedWheel(platform, (native, *abi3t), build=identifier, build_platform=where)
    abi3 = tuple(f"cp{major}{m}-abi3-{plat}" for m in range(minor, 1, -1))
    shown = f"{native} (or cp{major}Y-abi3-{plat}, Y <= {minor})"
    return ExpectedWheel(platform, (native, *abi3), shown, identifier, where)


class CibuildwheelBackend:
    name = "cibuildwheel"

    def __init__(self, config: ReleaseConfig) -> None:
        self.config = config

    def unavailable(self, platform: str, ctx: RunContext) -> Unavailable | None:
        if platform == "macos" and host_os() != "macos":
            pyproject = self.config.shown(self.config.package.pyproject)
            archs = project_archs(self.config, ctx.environ, "macos").resolved("macos", pyproject)
            listed = (
                build_identifiers(self.config, ctx.runner, "macos", archs, environ=ctx.environ)
                if archs
                else []
            )
            if not listed:
                return Unavailable(
                    "the project's cibuildwheel selectors build no macOS wheels.",
                    "add macOS identifiers to [tool.cibuildwheel] build to ship some.",
                    intentional=True,
                )
            return Unavailable(
                "cibuildwheel builds macOS wheels only on macOS (Xcode and the python.org "
                "installers are not available here).",
                "run build-macos on a macOS runner: macos-15 (arm64; universal2 too) or "
                "macos-15-intel (x86_64).",
            )
        if platform == "windows" and host_os() != "windows":
            if not build_identifiers(self.config, ctx.runner, "windows", environ=ctx.environ):
                return Unavailable(
                    "the project's cibuildwheel selectors build no Windows wheels.",
                    "add Windows identifiers to [tool.cibuildwheel] build to ship some.",
                    intentional=True,
                )
            return Unavailable(
                "cibuildwheel builds Windows wheels only on Windows (MSVC and the "
                "Windows CPython builds are not available here).",
                "run build-windows on a Windows runner (runs-on: windows-latest).",
            )
        if platform == "linux" and host_os() == "windows":
            return Unavailable(
                "cibuildwheel's Linux builds need a Linux container engine, which Windows "
                "runners do not offer.",
                "run build-linux on a Linux runner (runs-on: ubuntu-latest).",
            )
        return None

    def build_method(self, platform: Platform, ctx: RunContext) -> BuildMethod | Unavailable:
        """Linux: in cibuildwheel's container of the machine's own architecture (i686 runs
        on x86_64); another architecture only under QEMU emulation, which is not set up
        here. macOS: Xcode builds both architectures and universal2 on either Mac. Windows:
        x86 and, cross-compiled, ARM64 on x64 (cibuildwheel sets up MSVC's ARM64 tools)."""
        here, arch = host_os(), host_arch()
        runner = runner_for(platform)
        names = {"linux": "Linux", "macos": "macOS", "windows": "Windows"}
        if platform.os != here:
            return Unavailable(
                f"cibuildwheel builds {names[platform.os]} wheels on {names[platform.os]} "
                f"only, and this host is {names.get(here, here)}.",
                f"run build-{platform.os} --arch {platform.arch} on {runner}.",
            )
        if platform.os == "linux":
            if platform.arch == arch or (platform.arch, arch) == ("i686", "x86_64"):
                return "container"
            return Unavailable(
                f"cibuildwheel builds Linux {platform.arch} wheels on a {platform.arch} "
                f"machine, or on this {arch} one only under QEMU emulation (5 to 10 times "
                "slower), which nox-release does not set up.",
                f"run build-linux --arch {platform.arch} on {runner}.",
            )
        if platform.os == "macos":
            return "native" if platform.arch == arch else "cross"
        if platform.arch == arch or (platform.arch, arch) == ("x86", "AMD64"):
            return "native"
        if (platform.arch, arch) == ("ARM64", "AMD64"):
            return "cross"
        return Unavailable(
            f"cibuildwheel builds Windows {platform.arch} wheels on an {platform.arch} or "
            f"x64 machine, and this one is {arch}.",
            f"run build-windows --arch {platform.arch} on {runner}.",
        )

    def build_wheels(
        self,
        platform: str,
        ctx: RunContext,
        out: Path,
        platforms: Sequence[Platform] | None = None,
    ) -> BuildOutcome:
        argv = ["cibuildwheel", "--platform", platform]
        if platforms is not None:
            # Only what this host builds: the project's archs may name others, which
            # cibuildwheel would try (and fail) to build here.
            argv += ["--archs", ",".join(dict.fromkeys(p.arch for p in platforms))]
        argv += ["--output-dir", str(out), str(self.config.package_dir)]
        extra: dict[str, str] = {}
        why = f"building {platform} wheels"
        if platform == "linux" and host_os() == "linux":
            engine = container_engine(ctx.runner)
            if engine.name is None:
                return self._host_build(ctx, out, engine.problem, platforms)
            extra["CIBW_CONTAINER_ENGINE"] = engine.name
            why = "building Linux wheels in manylinux containers"
        if platform == "linux":
            extra.update(self._floor_images(ctx))
        ctx.runner.run(
            argv, cwd=self.config.project_root, env=cibuildwheel_env(ctx, extra), why=why
        )
        return BuildOutcome()

    def _floor_images(self, ctx: RunContext) -> dict[str, str]:
        """cibuildwheel's image variables for the configured floor, each said in the output."""
        identifiers = build_identifiers(self.config, ctx.runner, "linux", environ=ctx.environ)
        images, unknown = floor_images(self.config, ctx.environ, identifiers, pinned_images())
        floor = self.config.linux.policy
        for name, image in images.items():
            ctx.console.line(f"the {floor} floor: {name}={image}")
        for choice in unknown:
            ctx.console.line(
                f"{choice.where} names no manylinux floor; cibuildwheel builds {choice.arch} "
                f"in it, and validate requires the wheels to name {floor}."
            )
        return images

    def _host_build(
        self,
        ctx: RunContext,
        out: Path,
        problem: str,
        platforms: Sequence[Platform] | None = None,
    ) -> BuildOutcome:
        # The host build repairs to the floor itself, but the project's cibuildwheel images
        # are what its containers use in CI: a disagreement is refused here too.
        agreeing_images(self.config, ctx.environ)
        wanted = build_identifiers(self.config, ctx.runner, "linux", environ=ctx.environ)
        if platforms is not None:
            # Only this host's part of the plan: the stage says once which runner builds
            # the others (an aarch64 in the project's archs is not this host's to explain).
            wanted = [i for i in wanted if platform_of_identifier(i) in platforms]
        arch = machine()
        buildable = [ident for ident in wanted if _host_python(ident, arch) is not None]
        if not buildable:
            raise HostBuildError(
                f"no container engine ({problem}), and a host build can only make CPython "
                f"manylinux_{arch} wheels (cpXY-manylinux_{arch}), which the project's "
                f"cibuildwheel selectors do not ask for (they ask for: "
                f"{', '.join(wanted) or 'nothing'}).",
                "install Docker or Podman so cibuildwheel can build in its containers.",
            )
        if not any(ctx.runner.which(cc) for cc in ("cc", "gcc", "clang")):
            raise ToolNotFoundError(
                "no C compiler on PATH (cc, gcc or clang); the host build compiles the "
                "package's native code on this machine.",
                "install one (Debian/Ubuntu: apt-get install gcc), or install Docker or "
                "Podman so cibuildwheel builds in its containers.",
            )
        here = f"{python_tag()}-manylinux_{arch}"
        builds: list[tuple[str, Interpreter | None]] = []  # None: the running interpreter
        missing: list[Search] = []
        for ident in buildable:
            if ident == here:
                builds.append((ident, None))
                continue
            version, free_threaded = _host_python(ident, arch) or ("", False)
            search = find_interpreter(ctx.runner, ctx.environ, version, free_threaded=free_threaded)
            if search.found is None:
                missing.append(search)
            else:
                builds.append((ident, search.found))
        if not builds:
            looked = "; ".join(f"{s.wanted}: {', '.join(s.rejected)}" for s in missing)
            newest = missing[-1].version
            raise HostBuildError(
                f"no container engine ({problem}), and no interpreter the project's "
                f"cibuildwheel selectors name ({', '.join(buildable)}) is installed for a "
                f"host build (looked for {looked}).",
                "install Docker or Podman so cibuildwheel can build in its containers, or "
                f"get Python {newest}: {how_to_install(newest)}.",
            )
        notes = {
            host_build_linux_wheels(ctx, out, None if interpreter is None else interpreter.path)
            for _ident, interpreter in builds
        }
        built = ", ".join(
            f"{ident} (python -m build)" if interpreter is None
            else f"{ident} (pip wheel with {interpreter.path}, from {interpreter.source})"
            for ident, interpreter in builds
        )  # fmt: skip
        reason = (
            f"no working container engine ({problem}); built {built} on the host, then "
            f"auditwheel repair --plat {self.config.linux.policy}_{arch}, instead of "
            "cibuildwheel's containers."
        )
        said = sorted(note for note in notes if note is not None)
        reason += "".join(f" {note[0].upper()}{note[1:]}." for note in said)
        left_out = [ident for ident in wanted if ident not in dict(builds)]
        if left_out:
            reason += f" Not built here: {', '.join(left_out)}."
        if missing:
            pythons = ", ".join(s.wanted for s in missing)
            reason += (
                f" Not installed to build with: {pythons}; to build it here: "
                f"{how_to_install(missing[-1].version)}."
            )
        return BuildOutcome.host_build(reason, tuple(left_out))

    def build_sdist(self, ctx: RunContext, out: Path) -> None:
        python_build(ctx, "sdist", out)

    def tool_versions(self, platform: str | None, ctx: RunContext) -> dict[str, str]:
        versions = {"python": sys.version.split()[0]}
        if platform is None:
            versions["build"] = ctx.runner.version_of([sys.executable, "-m", "build", "--version"])
            return versions
        versions["cibuildwheel"] = ctx.runner.tool_version("cibuildwheel")
        if platform == "linux" and host_os() == "linux":
            versions["build"] = ctx.runner.version_of([sys.executable, "-m", "build", "--version"])
            versions["auditwheel"] = ctx.runner.tool_version("auditwheel")
        return versions

    def expected_wheels(self, ctx: RunContext) -> ExpectedSet:
        """Every identifier cibuildwheel builds, on each OS, for the project's archs as the
        release's runners resolve them (``auto``: each runner's own), whatever machine asks;
        build/skip/enable are cibuildwheel's to apply."""
        wheels: list[ExpectedWheel] = []
        listed = []
        pyproject = self.config.shown(self.config.package.pyproject)
        for os in OPERATING_SYSTEMS:
            archs = project_archs(self.config, ctx.environ, os).resolved(os, pyproject)
            identifiers = (
                build_identifiers(self.config, ctx.runner, os, archs, environ=ctx.environ)
                if archs
                else []
            )
            wheels += [wheel_for_identifier(i, os) for i in identifiers]
            listed.append(
                f"{os} ({','.join(archs) or 'no archs'}): {', '.join(identifiers) or 'none'}"
            )
        return ExpectedSet(
            tuple(wheels), f"cibuildwheel --print-build-identifiers ({'; '.join(listed)})"
        )
