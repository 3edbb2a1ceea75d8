"""The ``maturin`` backend: Rust/PyO3 packages, Cargo workspaces included.

Linux: the manylinux floor is met without a container by linking with zig whenever the host
glibc is newer than the floor, and the wheel is repaired with ``--auditwheel repair``.
Windows: on a Windows host, the configured target, with MSYS2 packages installed by the
runner's own pacman and MSYS2's MinGW ``bin`` first on PATH so that maturin's repair finds and
bundles the DLLs the extension links (libgmp-10.dll and what it pulls in); for a GNU target,
MSYS2's ``usr/bin`` next, for the tools build scripts run (sh, make, m4). On Linux, a GNU
target is cross-compiled when the Rust target and a MinGW linker are installed.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..build_plan import host_arch, runner_for
from ..config import ReleaseConfig, manylinux_glibc
from ..context import RunContext
from ..diagnose import import_lib_remedy, names_missing_import_lib
from ..errors import CommandFailedError, ConfigValueError, ToolNotFoundError
from ..expected import ExpectedSet, ExpectedWheel
from ..host import glibc_version, host_os
from ..platforms import FIRST_ABI3T, BuildMethod, Platform, cpython_minors
from ..project.cargo import abi3_python_tag, abi3t_feature, missing_import_lib
from ..records import OK
from ..regression import requires_python_of
from ..runner import child_env
from .base import BuildOutcome, Unavailable
from .interpreters import find_interpreter, how_to_install
from .reproducible import append_rustflags, source_date_env

DEFAULT_WINDOWS_TARGET = "x86_64-pc-windows-msvc"


def agreeing_compatibility(config: ReleaseConfig) -> None:
    """``[tool.maturin] compatibility`` (or its alias ``manylinux``) naming another manylinux
    floor than ``[tool.release.linux] manylinux`` is refused: the build passes the floor on
    the command line, which maturin prefers, so the project's own setting would be ignored
    without a word."""
    table = config.package.tool("maturin")
    for key in ("compatibility", "manylinux"):
        value = table.get(key)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str):
                continue
            try:  # maturin's spellings are ours: "manylinux2014", "2014", "2_28"...
                floor = manylinux_glibc(item)
            except ConfigValueError:
                continue  # linux, off, pypi, musllinux_*: no manylinux floor
            if floor != config.linux.glibc:
                wanted = f"{floor[0]}_{floor[1]}"
                raise ConfigValueError(
                    f'[tool.release.linux] manylinux = "{config.linux.manylinux}" in '
                    f"{config.shown(config.pyproject)} is the manylinux floor the wheels are "
                    f"built for ({config.linux.policy}), but {key} = {item!r} in "
                    f"[tool.maturin] of {config.shown(config.package.pyproject)} asks for "
                    f"manylinux_{wanted}.",
                    f"make them agree: remove {key} from [tool.maturin] (nox-release passes "
                    f"--compatibility {config.linux.policy}), or, if manylinux_{wanted} is the "
                    f'floor you mean, set [tool.release.linux] manylinux = "{wanted}".',
                )


# MSYS2 package prefix -> the environment's directory under the MSYS2 root.
_MSYS2_ENVIRONMENTS = (
    ("mingw-w64-ucrt-x86_64-", "ucrt64"),
    ("mingw-w64-clang-x86_64-", "clang64"),
    ("mingw-w64-clang-aarch64-", "clangarm64"),
    ("mingw-w64-x86_64-", "mingw64"),
    ("mingw-w64-i686-", "mingw32"),
)


def find_msys2(environ: Mapping[str, str]) -> Path | None:
    """Where MSYS2 is installed: ``MSYS2_ROOT``; else the root of the pacman on PATH; else
    ``<SystemDrive>\\msys64``, where GitHub's Windows runner images keep it."""
    explicit = environ.get("MSYS2_ROOT")
    if explicit:
        return Path(explicit)
    pacman = shutil.which("pacman", path=environ.get("PATH"))
    if pacman:
        # <root>/usr/bin/pacman.exe
        return Path(pacman).resolve().parent.parent.parent
    drive = environ.get("SYSTEMDRIVE")
    if drive:
        # "C:" + "/" is the drive's root on Windows (Path("C:") / "msys64" would be the
        # drive-relative C:msys64), and a plain directory elsewhere, so tests can exercise it.
        candidate = Path(drive + "/") / "msys64"
        if candidate.is_dir():
            return candidate
    return None


def msys2_environment(target: str, packages: tuple[str, ...]) -> str:
    """The MSYS2 environment (``mingw64``, ``ucrt64``...) whose DLLs the build links."""
    for package in packages:
        for prefix, environment in _MSYS2_ENVIRONMENTS:
            if package.startswith(prefix):
                return environment
    return "mingw32" if target.startswith("i686") else "mingw64"


def cross_compiled_on_linux(target: str, msys2_packages: tuple[str, ...]) -> bool:
    """Whether Linux builds this Windows target itself (the dry run does): a GNU target
    that links nothing from MSYS2, which exists only on Windows."""
    return target.endswith("-windows-gnu") and not msys2_packages


def mingw_linker(target: str) -> str:
    arch = target.split("-", 1)[0]
    return f"{arch}-w64-mingw32-gcc"


# GNU ld stamps the link time into a PE file's header (and so into every rebuild's bytes)
# unless told not to; MSVC's link.exe and lld are not used for GNU targets.
NO_PE_TIMESTAMP = ["-C", "link-arg=-Wl,--no-insert-timestamp"]
# link.exe (and lld-link) stamp the link time, and a random PDB id in the debug directory,
# unless given /Brepro, which puts a hash of the inputs in both. rustc does not pass it.
MSVC_REPRO = ["-C", "link-arg=/Brepro"]


def rust_target_installed(ctx: RunContext, target: str) -> bool:
    libdir = ctx.runner.run(
        ["rustc", "--print", "target-libdir", "--target", target],
        check=False,
        quiet=True,
        record=False,
    ).output.strip()
    return bool(libdir) and Path(libdir).is_dir()


def zig_available(environ: Mapping[str, str]) -> bool:
    return bool(shutil.which("zig", path=environ.get("PATH"))) or (
        importlib.util.find_spec("ziglang") is not None
    )


def _version(build: str) -> str:
    """``cp313t-manylinux_x86_64`` (or ``cp313t``) -> ``3.13``."""
    digits = build.split("-", 1)[0][2:].rstrip("t")
    return f"{digits[0]}.{digits[1:]}"


def _real_targets(target: str) -> tuple[str, ...]:
    """The Rust targets a maturin target needs installed: universal2 is both Macs'."""
    if target == "universal2-apple-darwin":
        return ("x86_64-apple-darwin", "aarch64-apple-darwin")
    return (target,)


class MaturinBackend:
    name = "maturin"

    def __init__(self, config: ReleaseConfig) -> None:
        self.config = config

    @property
    def windows_target(self) -> str:
        return self.config.windows.target or DEFAULT_WINDOWS_TARGET

    # --- what this host can build ----------------------------------------------------------

    def unavailable(self, platform: str, ctx: RunContext) -> Unavailable | None:
        here = host_os()
        if platform == here:
            return None
        if platform == "macos":
            if not any(p.os == "macos" for p in self.config.platforms):
                return Unavailable(
                    "the project ships no macOS wheels ([tool.release.macos] archs is not set).",
                    'set [tool.release.macos] archs (["arm64", "x86_64"] or ["universal2"]) '
                    "to ship some.",
                    intentional=True,
                )
            return Unavailable(
                f"macOS wheels are built on macOS (Xcode's linker and SDK), and this host is "
                f"{here}.",
                "run build-macos on a macOS runner: macos-15 (arm64; universal2 too) or "
                "macos-15-intel (x86_64).",
            )
        if platform == "linux":
            return Unavailable(
                f"Linux wheels are built on Linux, and this host is {here}.",
                "run build-linux on a Linux runner (runs-on: ubuntu-latest).",
            )
        return self._cross_windows_blocker(ctx)

    def _cross_windows_blocker(self, ctx: RunContext) -> Unavailable | None:
        target = self.windows_target
        runner = "run build-windows on a Windows runner (runs-on: windows-latest)"
        if not target.endswith("-windows-gnu"):
            return Unavailable(
                f"the Windows target {target} needs MSVC, which exists only on Windows.",
                f"{runner}; or set [tool.release.windows] target = "
                '"x86_64-pc-windows-gnu" to cross-compile with MinGW.',
            )
        if self.config.windows.msys2_packages:
            return Unavailable(
                "the Windows build links MSYS2 packages "
                f"({', '.join(self.config.windows.msys2_packages)}), which only MSYS2 on "
                "Windows provides.",
                f"{runner}.",
            )
        missing = []
        if ctx.runner.which("rustc") is None:
            missing.append(("Rust is not installed", "install Rust with rustup"))
        elif not rust_target_installed(ctx, target):
            missing.append(
                (f"the Rust target {target} is not installed", f"rustup target add {target}")
            )
        linker = mingw_linker(target)
        if ctx.runner.which(linker) is None:
            missing.append(
                (f"the MinGW linker {linker} is not on PATH", "apt-get install mingw-w64")
            )
        if missing:
            return Unavailable(
                "cannot cross-compile for Windows here: "
                + "; ".join(reason for reason, _ in missing)
                + ".",
                f"{runner}; or, to cross-compile here: "
                + " and ".join(fix for _, fix in missing)
                + ".",
            )
        return None

    def build_method(self, platform: Platform, ctx: RunContext) -> BuildMethod | Unavailable:
        """The host's own platform natively; another architecture or libc of its OS by
        cross-compiling (Linux: with zig, which links for any glibc or musl, once the Rust
        target is installed; macOS: Xcode links both architectures); Windows from Linux
        only for the GNU target the project configured (MinGW)."""
        here, arch = host_os(), host_arch()
        runner = runner_for(platform)
        target = platform.rust_target(self.windows_target, bool(self.config.windows.msys2_packages))
        if platform.os == "windows" and here == "linux":
            if target != self.windows_target:
                return Unavailable(
                    f"{target} is built on Windows (MSVC), and this host is Linux.",
                    f"run build-windows --arch {platform.arch} on {runner}.",
                )
            blocker = self._cross_windows_blocker(ctx)
            return blocker if blocker is not None else "cross"
        if platform.os != here:
            return Unavailable(
                f"{target} is built on {platform.os}, and this host is {here}.",
                f"run build-{platform.os} --arch {platform.arch} on {runner}.",
            )
        if platform.arch == arch and platform.libc in (None, "manylinux"):
            return "native"
        missing: list[tuple[str, str]] = []
        if platform.os == "linux" and not zig_available(ctx.environ):
            missing.append(("zig is not installed", "pip install 'maturin[zig]'"))
        if ctx.runner.which("rustc") is None:
            missing.append(("Rust is not installed", "install Rust with rustup"))
        else:
            for rust_target in _real_targets(target):
                if not rust_target_installed(ctx, rust_target):
                    missing.append(
                        (f"the Rust target {rust_target} is not installed",
                         f"rustup target add {rust_target}")
                    )  # fmt: skip
        if missing:
            return Unavailable(
                f"cannot cross-compile {platform.name} ({target}) here: "
                + "; ".join(reason for reason, _ in missing)
                + ".",
                " and ".join(fix for _, fix in missing)
                + f"; or run build-{platform.os} --arch {platform.arch} on {runner}.",
            )
        return "cross"

    # --- commands --------------------------------------------------------------------------

    def linux_command(
        self,
        out: Path,
        host_glibc: tuple[int, int] | None,
        interpreters: Sequence[str] | None = None,
    ) -> list[str]:
        floor = self.config.linux.glibc
        argv = [
            "maturin",
            "build",
            "--release",
            "--out",
            str(out),
            "--interpreter",
            *(interpreters or [sys.executable]),
            "--compatibility",
            self.config.linux.policy,
            "--auditwheel",
            "repair",
        ]
        # The host's linker would pull in symbol versions newer than the floor.
        if host_glibc is None or host_glibc > floor:
            argv.append("--zig")
        return argv

    def windows_command(self, out: Path, interpreters: Sequence[str] | None = None) -> list[str]:
        argv = [
            "maturin",
            "build",
            "--release",
            "--out",
            str(out),
            "--target",
            self.windows_target,
            "--auditwheel",
            "repair",
        ]
        if interpreters:
            argv += ["--interpreter", *interpreters]
        return argv

    def pacman_command(self, msys2: Path) -> list[str]:
        pacman = msys2 / "usr" / "bin" / "pacman.exe"
        # -y: the runner image's package database can be weeks old, and its download
        # URLs gone.
        return [
            str(pacman), "-S", "-y", "--noconfirm", "--needed",
            *self.config.windows.msys2_packages,
        ]  # fmt: skip

    def build_env(self, ctx: RunContext) -> dict[str, str]:
        return child_env(extra=source_date_env(ctx))

    def windows_env(self, ctx: RunContext, msys2: Path | None) -> dict[str, str]:
        prepend: list[Path] = []
        if msys2 is not None:
            environment = msys2_environment(self.windows_target, self.config.windows.msys2_packages)
            prepend.append(msys2 / environment / "bin")
            if self.windows_target.endswith("-windows-gnu"):
                # MSYS2's own tools, which build scripts run (GMP's configure needs sh, make
                # and m4), after the environment's compilers. Not for MSVC: MSYS2's
                # coreutils link.exe would stand in for the MSVC linker.
                prepend.append(msys2 / "usr" / "bin")
        env = child_env(prepend_path=prepend, extra=source_date_env(ctx))
        if self.windows_target.endswith("-windows-gnu"):
            env = append_rustflags(env, self.windows_target, NO_PE_TIMESTAMP)
        elif self.windows_target.endswith("-windows-msvc"):
            env = append_rustflags(env, self.windows_target, MSVC_REPRO)
        return env

    # --- building --------------------------------------------------------------------------

    def target_command(
        self, platform: Platform, out: Path, interpreters: Sequence[str] | None = None
    ) -> list[str]:
        """maturin for ``platform`` built by cross-compiling (or on macOS for another arch):
        ``--target``; on Linux linked with zig, at the libc's floor."""
        target = platform.rust_target(self.windows_target, bool(self.config.windows.msys2_packages))
        if platform.os == "windows":
            argv = self.windows_command(out, interpreters)
            argv[argv.index("--target") + 1] = target
            return argv
        if platform.os == "macos":
            return ["maturin", "build", "--release", "--out", str(out), "--target", target]
        # glibc None: always zig, which links for any target at the floor.
        argv = self.linux_command(out, None, interpreters)
        argv += ["--target", target]
        if platform.libc == "musllinux":
            floor = (self.config.linux.musllinux or "1_2").lower().removeprefix("musllinux")
            argv[argv.index("--compatibility") + 1] = f"musllinux_{floor.lstrip('_')}"
        return argv

    def macos_env(self, ctx: RunContext) -> dict[str, str]:
        extra = dict(source_date_env(ctx))
        if self.config.macos.deployment_target is not None:
            extra["MACOSX_DEPLOYMENT_TARGET"] = self.config.macos.deployment_target
        return child_env(extra=extra)

    def build_wheels(
        self,
        platform: str,
        ctx: RunContext,
        out: Path,
        platforms: Sequence[Platform] | None = None,
    ) -> BuildOutcome:
        if platforms is None:
            return self._build_host(platform, ctx, out)
        outcomes: list[BuildOutcome] = []
        for each in platforms:
            if self.build_method(each, ctx) == "native" and each.os != "macos":
                outcomes.append(self._build_host(platform, ctx, out))
                continue
            if (
                each.os == "windows"
                and each.rust_target(self.windows_target, bool(self.config.windows.msys2_packages))
                == self.windows_target
            ):
                # the project's own target, as before
                outcomes.append(self._build_host(platform, ctx, out))
                continue
            ctx.runner.require("cargo", why="maturin compiles the Rust crate with cargo")
            env = self.macos_env(ctx) if each.os == "macos" else self.build_env(ctx)
            if each.os == "windows":
                env = self.windows_env(ctx, None)
            # Linux and Windows targets from Linux: maturin reads each Python's
            # configuration from the sysconfig it bundles for the target.
            named = (
                self.cross_interpreters() if each.os != "macos" and host_os() == "linux" else None
            )
            missing: tuple[str, ...] = ()
            if named is not None:
                found = named
            else:
                found, missing = self.interpreters(ctx, each.name)
            if not found:  # none of its Pythons here: validate names them as not built
                outcomes.append(BuildOutcome(OK, None, missing))
                continue
            ctx.runner.run(
                self.target_command(each, out, found),
                cwd=self.config.package_dir,
                env=env,
                why=f"building the {each.name} wheel",
            )
            outcomes.append(BuildOutcome(OK, None, missing))
        reasons = list(dict.fromkeys(o.reason for o in outcomes if o.reason))
        not_built = tuple(build for o in outcomes for build in o.not_built)
        return BuildOutcome(OK, " ".join(reasons) or None, not_built)

    def interpreters(self, ctx: RunContext, platform: str) -> tuple[list[str], tuple[str, ...]]:
        """The interpreters maturin builds the host's wheels with, and the builds (as the
        expected set names them) of the Pythons not installed here. An abi3 wheel needs
        one, the running Python; a version-specific crate one per CPython of
        requires-python, and with free-threaded = true one per free-threaded CPython
        (abi3t: one for them all), found where release/backends/interpreters.py looks."""
        try:
            abi3, _ = abi3_python_tag(self.config)
        except ConfigValueError:
            # The crate cannot be read (no Cargo.toml): maturin, run as before with the running
            # Python, says what is wrong in its own words.
            return [sys.executable], ()
        running = f"cp3{sys.version_info.minor}"
        if sysconfig.get_config_var("Py_GIL_DISABLED"):
            running += "t"
        found: list[str] = []
        missing: list[str] = []
        for python_abi, python in self._python_abis(
            abi3, requires_python_of(self.config.package.raw)
        ):
            if not python or python_abi.endswith("-abi3") or python == running:
                if sys.executable not in found:
                    found.append(sys.executable)
                continue
            search = find_interpreter(
                ctx.runner, ctx.environ, _version(python), free_threaded=python.endswith("t")
            )
            if search.found is None:
                missing.append(f"{python}-{platform}")
            else:
                found.append(search.found.path)
        return found, tuple(missing)

    def interpreter_versions(self) -> list[str]:
        """The CPythons (``3.13``, ``3.14t``) a native build needs installed: one per
        version-specific or free-threaded wheel; an abi3 wheel builds with any. The release
        workflow's build jobs set them up; read from the crate alone (none when it cannot be
        read: the build says why)."""
        try:
            abi3, _ = abi3_python_tag(self.config)
        except ConfigValueError:
            return []
        versions: list[str] = []
        for python_abi, python in self._python_abis(
            abi3, requires_python_of(self.config.package.raw)
        ):
            if python and not python_abi.endswith("-abi3"):
                version = _version(python) + ("t" if python.endswith("t") else "")
                if version not in versions:
                    versions.append(version)
        return versions

    def cross_interpreters(self) -> list[str] | None:
        """The Pythons a build for another platform makes wheels for, by maturin's names
        (``python3.9``, ``python3.14t``): one per wheel of the expected set's platform (the
        abi3 one, each version-specific and free-threaded one). Cross-compiling, maturin
        takes each one's configuration from the sysconfig it bundles for the target, so
        none need be installed here, and an interpreter of this host would describe the
        host. Before, a cross build made the abi3 wheel only and never said so: validate
        then found the free-threaded Windows wheels missing. None when the crate cannot be
        read: maturin, left to choose, says in its own words what is wrong."""
        try:
            abi3, _ = abi3_python_tag(self.config)
        except ConfigValueError:
            return None
        running = f"cp3{sys.version_info.minor}"
        names: list[str] = []
        for python_abi, python in self._python_abis(
            abi3, requires_python_of(self.config.package.raw)
        ):
            tag = python or python_abi.split("-", 1)[0]
            if "*" in tag:  # plain abi3: the wheel is tagged for the building Python
                tag = running
            name = f"python{_version(tag)}{'t' if tag.endswith('t') else ''}"
            if name not in names:
                names.append(name)
        return names

    def _build_host(self, platform: str, ctx: RunContext, out: Path) -> BuildOutcome:
        cwd = self.config.package_dir
        ctx.runner.require("cargo", why="maturin compiles the Rust crate with cargo")
        if platform == "linux":
            agreeing_compatibility(self.config)
            found, missing = self.interpreters(ctx, f"manylinux_{host_arch()}")
            if not found:
                wanted = ", ".join(build.split("-", 1)[0] for build in missing)
                raise ToolNotFoundError(
                    f"no Python the wheels are for is installed here ({wanted}; the crate is "
                    "not abi3, so each CPython of requires-python gets its own wheel).",
                    f"install one: {how_to_install(_version(missing[0]))}.",
                )
            argv = self.linux_command(out, glibc_version(), found)
            if "--zig" in argv and not zig_available(ctx.environ):
                raise ToolNotFoundError(
                    f"zig is needed to meet the {self.config.linux.policy} floor on this "
                    f"host (glibc {'.'.join(map(str, glibc_version() or ()))}), and it is "
                    "not installed.",
                    "pip install 'maturin[zig]' (the nox sessions install it for you).",
                )
            why = f"building the Linux wheel ({self.config.linux.policy})"
            ctx.runner.run(argv, cwd=cwd, env=self.build_env(ctx), why=why)
            if missing:
                pythons = ", ".join(build.split("-", 1)[0] for build in missing)
                return BuildOutcome(
                    OK,
                    f"Not installed to build with: {pythons} (built the others); in CI each "
                    "runner sets up every Python the wheels are for.",
                    missing,
                )
            return BuildOutcome()
        if host_os() != "windows":
            try:
                ctx.runner.run(
                    self.windows_command(out, self.cross_interpreters()),
                    cwd=cwd,
                    env=self.windows_env(ctx, None),
                    why=f"cross-compiling for {self.windows_target}",
                )
            except CommandFailedError as failure:
                raise self._with_import_lib_line(failure) from None
            return BuildOutcome()
        target = self.windows_target
        if ctx.runner.which("rustup") and not rust_target_installed(ctx, target):
            # Runners ship only the MSVC target; adding one is what a maintainer does by hand.
            ctx.runner.run(["rustup", "target", "add", target], why=f"adding the {target} target")
        msys2 = find_msys2(ctx.environ)
        if self.config.windows.msys2_packages:
            if msys2 is None:
                raise ToolNotFoundError(
                    "MSYS2 is not installed (no MSYS2_ROOT, no pacman on PATH, no "
                    f"{ctx.environ.get('SYSTEMDRIVE', 'C:')}\\msys64), and "
                    "[tool.release.windows] msys2-packages needs it.",
                    "use a GitHub Windows runner (MSYS2 is preinstalled), install MSYS2, "
                    "or set MSYS2_ROOT to its root directory.",
                )
            ctx.runner.run(self.pacman_command(msys2), why="installing MSYS2 packages")
        # A -gnu target is a cross build for maturin on an MSVC toolchain (GitHub's Windows
        # runners): each Python by name, as from Linux. Not executed here (no Windows).
        named = self.cross_interpreters() if target.endswith("-windows-gnu") else None
        ctx.runner.run(
            self.windows_command(out, named),
            cwd=cwd,
            env=self.windows_env(ctx, msys2),
            why=f"building the Windows wheel for {self.windows_target}",
        )
        return BuildOutcome()

    def _with_import_lib_line(self, failure: CommandFailedError) -> CommandFailedError:
        """A link that failed for want of python3.dll's import library, with the exact
        Cargo.toml line that makes PyO3 generate it."""
        if not names_missing_import_lib(failure.tail):
            return failure
        fix = missing_import_lib(self.config)
        if fix is None:
            return failure
        return CommandFailedError(
            failure.cause,
            import_lib_remedy(fix),
            failure.argv,
            failure.returncode,
            failure.tail,
        )

    def build_sdist(self, ctx: RunContext, out: Path) -> None:
        ctx.runner.require("cargo", why="maturin sdist reads the crate graph with cargo metadata")
        ctx.runner.run(
            ["maturin", "sdist", "--out", str(out)],
            cwd=self.config.package_dir,
            env=self.build_env(ctx),
            why="building the sdist",
        )

    def tool_versions(self, platform: str | None, ctx: RunContext) -> dict[str, str]:
        versions = {"maturin": ctx.runner.tool_version("maturin")}
        if platform is None:
            return versions
        versions["rustc"] = ctx.runner.version_of(["rustc", "--version"])
        versions["cargo"] = ctx.runner.version_of(["cargo", "--version"])
        if platform == "linux" and "--zig" in self.linux_command(Path(), glibc_version()):
            versions["zig"] = ctx.runner.version_of([sys.executable, "-m", "ziglang", "version"])
        if platform == "windows" and host_os() != "windows":
            linker = mingw_linker(self.windows_target)
            versions[linker] = ctx.runner.version_of([linker, "--version"])
        return versions

    def expected_wheels(self, ctx: RunContext) -> ExpectedSet:
        """Per configured platform (release/platforms.py): one abi3 wheel when the pyo3
        features say abi3, else one per CPython ``requires-python`` allows; with
        ``free-threaded``, also one per free-threaded CPython (an abi3 wheel does not load
        there), or one abi3t wheel for 3.15 on when the crate builds abi3t."""
        abi3, why = abi3_python_tag(self.config)
        requires = requires_python_of(self.config.package.raw)
        pythons = self._python_abis(abi3, requires)
        wheels: list[ExpectedWheel] = []
        for platform in self.config.platforms:
            for python_abi, build in pythons:
                wheels.append(self._wheel(platform, python_abi, build))
        built = ", ".join(str(p) for p in self.config.platforms)
        pythons_said = (
            why
            if abi3 is not None
            else f"{why}, so one wheel per CPython of requires-python {requires or '(any)'}"
        )
        if self.config.free_threaded:
            pythons_said += "; free-threaded wheels too (free-threaded = true)"
        source = (
            f"maturin: {pythons_said}; platforms {built}; Linux floor {self.config.linux.policy}; "
            f"Windows target {self.windows_target}"
        )
        return ExpectedSet(tuple(wheels), source)

    def _python_abis(self, abi3: str | None, requires: str | None) -> list[tuple[str, str]]:
        """``(python-abi pattern, identifier python)`` of each wheel a platform gets."""
        found: list[tuple[str, str]] = []
        if abi3 is not None:
            # A bare abi3 wheel is named for the building interpreter: no identifier.
            found.append((f"{abi3}-abi3", abi3 if "*" not in abi3 else ""))
        else:
            found += [(f"cp3{m}-cp3{m}", f"cp3{m}") for m in cpython_minors(requires)]
        if self.config.free_threaded:
            # abi3t (PEP 803) serves every free-threaded CPython from its baseline on, in one
            # wheel; the free-threaded CPythons before it get one wheel each.
            abi3t, _ = abi3t_feature(self.config)
            baseline = max(FIRST_ABI3T, abi3t) if abi3t is not None else None
            minors = cpython_minors(requires, free_threaded=True)
            for minor in minors:
                if baseline is None or minor < baseline:
                    found.append((f"cp3{minor}-cp3{minor}t", f"cp3{minor}t"))
            if baseline is not None and any(minor >= baseline for minor in minors):
                found.append((f"cp3{baseline}-abi3t", f"cp3{baseline}t"))
        return found

    def _wheel(self, platform: Platform, python_abi: str, python: str) -> ExpectedWheel:
        pattern = f"{python_abi}-{platform.tag_pattern}"
        # Any floor matches the pattern: the manylinux check says once, naming the floor,
        # when the wheel's is not the configured one. Messages show the configured one.
        shown = ""
        if platform.libc == "manylinux":
            shown = f"{python_abi}-{self.config.linux.policy}_{platform.arch}"
        elif platform.libc == "musllinux" and self.config.linux.musllinux:
            floor = self.config.linux.musllinux.lower().removeprefix("musllinux").lstrip("_")
            shown = f"{python_abi}-musllinux_{floor}_{platform.arch}"
        build = f"{python}-{platform.name}" if python else ""
        return ExpectedWheel(platform.os, (pattern,), shown, build, platform)
