"""Backend command construction and host checks, including the Windows paths that cannot run here.

Builds are not run: a fake Runner records what a backend would execute.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import release_project

from release.backends import backend_for
from release.backends.build import BuildBackend
from release.backends.cibuildwheel import CibuildwheelBackend, build_identifiers
from release.backends.maturin import (
    MaturinBackend,
    find_msys2,
    mingw_linker,
    msys2_environment,
)
from release.config import ReleaseConfig, load_config
from release.console import Console
from release.context import RunContext
from release.errors import HostBuildError, ToolNotFoundError
from release.host import ContainerEngine, machine, python_tag
from release.records import HOST_BUILD
from release.runner import CommandResult, Runner

ROOT = Path(__file__).resolve().parent.parent

MATURIN_PACKAGE = """\
[build-system]
requires = ["maturin>=1.5,<2"]
build-backend = "maturin"

[project]
name = "demo"
dynamic = ["version"]
"""

SETUPTOOLS_PACKAGE = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "1.0"
"""

CIBUILDWHEEL_PACKAGE = SETUPTOOLS_PACKAGE + '\n[tool.cibuildwheel]\nbuild = ["cp311-*"]\n'


def make_config(tmp_path: Path, release: str, package: str = MATURIN_PACKAGE) -> ReleaseConfig:
    return release_project(tmp_path / "project", release, package)


@dataclass
class Call:
    argv: tuple[str, ...]
    cwd: Path | str | None
    env: dict[str, str] | None
    quiet: bool


Responder = Callable[[tuple[str, ...]], str]


class FakeRunner(Runner):
    """Records commands instead of running them; ``tools`` overrides what is on PATH."""

    def __init__(
        self,
        console: Console,
        *,
        tools: Mapping[str, str | None] | None = None,
        respond: Responder | None = None,
    ) -> None:
        super().__init__(console)
        self.calls: list[Call] = []
        self.tools = dict(tools or {})
        self.respond = respond or (lambda argv: "")

    def which(self, tool: str, env: Mapping[str, str] | None = None) -> str | None:
        if tool in self.tools:
            return self.tools[tool]
        return super().which(tool, env)

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        why: str = "",
        remedy: str | None = None,
        check: bool = True,
        quiet: bool = False,
        record: bool = True,
    ) -> CommandResult:
        args = tuple(str(a) for a in argv)
        self.calls.append(Call(args, cwd, dict(env) if env is not None else None, quiet))
        output = self.respond(args)
        return CommandResult(args, 0, 0.0, output, output.splitlines()[-40:])


def make_ctx(
    config: ReleaseConfig,
    *,
    environ: Mapping[str, str] | None = None,
    runner: Callable[[Console], Runner] | None = None,
) -> RunContext:
    console = Console(github=False, stream=io.StringIO(), environ={})
    return RunContext(
        config=config,
        dist=config.dist_dir,
        console=console,
        runner=(runner or FakeRunner)(console),
        environ=dict(environ or {}),
    )


def calls(ctx: RunContext) -> list[Call]:
    assert isinstance(ctx.runner, FakeRunner)
    return ctx.runner.calls


def value_after(argv: Sequence[str], option: str) -> str:
    return argv[list(argv).index(option) + 1]


# --- maturin: Linux -------------------------------------------------------------------------


def test_linux_command_on_a_newer_glibc_links_with_zig(tmp_path: Path) -> None:
    backend = MaturinBackend(make_config(tmp_path, ""))
    out = tmp_path / "out"
    assert backend.linux_command(out, (2, 36)) == [
        "maturin",
        "build",
        "--release",
        "--out",
        str(out),
        "--interpreter",
        sys.executable,
        "--compatibility",
        "manylinux_2_17",
        "--auditwheel",
        "repair",
        "--zig",
    ]


@pytest.mark.parametrize("host", [(2, 17), (2, 12)])
def test_linux_command_at_or_below_the_floor_needs_no_zig(
    host: tuple[int, int], tmp_path: Path
) -> None:
    argv = MaturinBackend(make_config(tmp_path, "")).linux_command(tmp_path, host)
    assert "--zig" not in argv
    assert value_after(argv, "--compatibility") == "manylinux_2_17"
    assert value_after(argv, "--auditwheel") == "repair"


@pytest.mark.parametrize(
    ("host", "zig"), [((2, 36), True), ((2, 28), False), ((2, 31), True), (None, True)]
)
def test_linux_command_with_floor_2_28(
    host: tuple[int, int] | None, zig: bool, tmp_path: Path
) -> None:
    config = make_config(tmp_path, '[tool.release.linux]\nmanylinux = "2_28"\n')
    argv = MaturinBackend(config).linux_command(tmp_path / "out", host)
    assert value_after(argv, "--compatibility") == "manylinux_2_28"
    assert ("--zig" in argv) is zig
    assert "--release" in argv
    assert value_after(argv, "--out") == str(tmp_path / "out")


def test_linux_build_runs_maturin_in_the_package_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.glibc_version", lambda: (2, 36))
    monkeypatch.setattr("release.backends.maturin.zig_available", lambda environ: True)
    config = make_config(tmp_path, "")
    ctx = make_ctx(config)
    MaturinBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    [call] = calls(ctx)
    assert call.argv == tuple(MaturinBackend(config).linux_command(tmp_path / "out", (2, 36)))
    assert call.cwd == config.package_dir


def test_linux_build_without_zig_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.glibc_version", lambda: (2, 36))
    monkeypatch.setattr("release.backends.maturin.zig_available", lambda environ: False)
    config = make_config(tmp_path, "")
    ctx = make_ctx(config)
    with pytest.raises(ToolNotFoundError) as info:
        MaturinBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    assert "manylinux_2_17" in info.value.cause
    assert "glibc 2.36" in info.value.cause
    assert "maturin[zig]" in info.value.remedy
    assert calls(ctx) == []


# --- maturin: Windows commands ----------------------------------------------------------------


def test_windows_command_uses_the_configured_target(tmp_path: Path) -> None:
    config = make_config(tmp_path, '[tool.release.windows]\ntarget = "x86_64-pc-windows-gnu"\n')
    out = tmp_path / "out"
    assert MaturinBackend(config).windows_command(out) == [
        "maturin",
        "build",
        "--release",
        "--out",
        str(out),
        "--target",
        "x86_64-pc-windows-gnu",
        "--auditwheel",
        "repair",
    ]


def test_windows_command_defaults_to_msvc(tmp_path: Path) -> None:
    argv = MaturinBackend(make_config(tmp_path, "")).windows_command(tmp_path)
    assert value_after(argv, "--target") == "x86_64-pc-windows-msvc"


def fake_msys2(tmp_path: Path) -> Path:
    root = tmp_path / "msys64"
    pacman = root / "usr" / "bin" / "pacman"
    pacman.parent.mkdir(parents=True)
    pacman.write_text("#!/bin/sh\nexit 0\n")
    pacman.chmod(0o755)
    return root


def test_find_msys2_from_msys2_root(tmp_path: Path) -> None:
    assert find_msys2({"MSYS2_ROOT": r"D:\tools\msys64", "PATH": ""}) == Path(r"D:\tools\msys64")
    # MSYS2_ROOT wins over a pacman on PATH
    root = fake_msys2(tmp_path)
    environ = {"MSYS2_ROOT": str(tmp_path / "other"), "PATH": str(root / "usr" / "bin")}
    assert find_msys2(environ) == tmp_path / "other"


def test_find_msys2_from_pacman_on_path(tmp_path: Path) -> None:
    root = fake_msys2(tmp_path)
    path = os.pathsep.join([str(tmp_path / "empty"), str(root / "usr" / "bin")])
    assert find_msys2({"PATH": path}) == root.resolve()


def test_find_msys2_under_the_system_drive(tmp_path: Path) -> None:
    (tmp_path / "msys64").mkdir()
    environ = {"SYSTEMDRIVE": str(tmp_path), "PATH": str(tmp_path / "empty")}
    assert find_msys2(environ) == tmp_path / "msys64"


def test_find_msys2_none(tmp_path: Path) -> None:
    assert find_msys2({"PATH": str(tmp_path)}) is None
    # a system drive without msys64
    assert find_msys2({"PATH": str(tmp_path), "SYSTEMDRIVE": str(tmp_path)}) is None


@pytest.mark.parametrize(
    ("target", "packages", "environment"),
    [
        ("x86_64-pc-windows-gnu", ("mingw-w64-x86_64-gmp",), "mingw64"),
        ("x86_64-pc-windows-gnu", ("mingw-w64-ucrt-x86_64-gmp",), "ucrt64"),
        ("x86_64-pc-windows-gnu", ("mingw-w64-clang-x86_64-gmp",), "clang64"),
        ("i686-pc-windows-gnu", ("mingw-w64-i686-gmp",), "mingw32"),
        ("i686-pc-windows-gnu", (), "mingw32"),
        ("x86_64-pc-windows-gnu", (), "mingw64"),
        ("x86_64-pc-windows-gnu", ("base-devel", "mingw-w64-x86_64-gmp"), "mingw64"),
    ],
)
def test_msys2_environment(target: str, packages: tuple[str, ...], environment: str) -> None:
    assert msys2_environment(target, packages) == environment


def test_mingw_linker() -> None:
    assert mingw_linker("x86_64-pc-windows-gnu") == "x86_64-w64-mingw32-gcc"
    assert mingw_linker("i686-pc-windows-gnu") == "i686-w64-mingw32-gcc"


GMP_WINDOWS = """\
[tool.release.windows]
target = "x86_64-pc-windows-gnu"
msys2-packages = ["mingw-w64-x86_64-gmp", "mingw-w64-x86_64-pkgconf"]
"""


def test_pacman_command(tmp_path: Path) -> None:
    backend = MaturinBackend(make_config(tmp_path, GMP_WINDOWS))
    root = tmp_path / "msys64"
    assert backend.pacman_command(root) == [
        str(root / "usr" / "bin" / "pacman.exe"),
        "-S",
        "-y",
        "--noconfirm",
        "--needed",
        "mingw-w64-x86_64-gmp",
        "mingw-w64-x86_64-pkgconf",
    ]


def test_windows_env_puts_the_msys2_bin_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/bin", "/bin"]))
    backend = MaturinBackend(make_config(tmp_path, GMP_WINDOWS))
    root = tmp_path / "msys64"
    env = backend.windows_env(root)
    assert env["PATH"].split(os.pathsep) == [str(root / "mingw64" / "bin"), "/usr/bin", "/bin"]
    assert backend.windows_env(None)["PATH"] == os.pathsep.join(["/usr/bin", "/bin"])


def windows_runner(
    *, rustup: bool = False, libdir: Path | None = None
) -> Callable[[Console], Runner]:
    """A Windows host's tools: cargo, and rustup only when asked (with ``libdir`` as the
    target's library directory, which exists when the target is installed)."""
    rustup_exe = r"C:\cargo\bin\rustup.exe" if rustup else None
    tools = {"cargo": r"C:\cargo\bin\cargo.exe", "rustup": rustup_exe}
    query = str(libdir) if libdir is not None else ""
    return lambda console: FakeRunner(console, tools=tools, respond=lambda argv: query)


def test_windows_build_on_windows_installs_msys2_packages_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    config = make_config(tmp_path, GMP_WINDOWS)
    root = tmp_path / "msys64"
    ctx = make_ctx(config, environ={"MSYS2_ROOT": str(root), "PATH": ""}, runner=windows_runner())
    backend = MaturinBackend(config)
    out = tmp_path / "out"
    assert backend.build_wheels("windows", ctx, out).status == "ok"
    pacman, maturin = calls(ctx)
    assert pacman.argv == tuple(backend.pacman_command(root))
    assert pacman.argv[0] == str(root / "usr" / "bin" / "pacman.exe")
    assert maturin.argv == tuple(backend.windows_command(out))
    assert value_after(maturin.argv, "--target") == "x86_64-pc-windows-gnu"
    assert maturin.cwd == config.package_dir
    assert maturin.env is not None
    assert maturin.env["PATH"].split(os.pathsep)[0] == str(root / "mingw64" / "bin")


def test_windows_build_on_windows_ucrt_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    config = make_config(
        tmp_path,
        '[tool.release.windows]\ntarget = "x86_64-pc-windows-gnu"\n'
        'msys2-packages = ["mingw-w64-ucrt-x86_64-gmp"]\n',
    )
    root = fake_msys2(tmp_path)
    ctx = make_ctx(config, environ={"PATH": str(root / "usr" / "bin")}, runner=windows_runner())
    MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    pacman, maturin = calls(ctx)
    assert pacman.argv[0] == str(root.resolve() / "usr" / "bin" / "pacman.exe")
    assert maturin.env is not None
    assert maturin.env["PATH"].split(os.pathsep)[0] == str(root.resolve() / "ucrt64" / "bin")


def test_windows_build_without_msys2_fails_before_running_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    config = make_config(tmp_path, GMP_WINDOWS)
    ctx = make_ctx(
        config,
        environ={"PATH": str(tmp_path), "SYSTEMDRIVE": str(tmp_path)},
        runner=windows_runner(),
    )
    with pytest.raises(ToolNotFoundError) as info:
        MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    assert "MSYS2 is not installed" in info.value.cause
    assert "msys2-packages" in info.value.cause
    assert "MSYS2_ROOT" in info.value.remedy
    assert info.value.exit_code == 20
    assert calls(ctx) == []


def test_windows_build_without_packages_needs_no_msys2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    config = make_config(tmp_path, "")
    ctx = make_ctx(config, environ={"PATH": str(tmp_path)}, runner=windows_runner())
    MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    [maturin] = calls(ctx)
    assert value_after(maturin.argv, "--target") == "x86_64-pc-windows-msvc"


@pytest.mark.parametrize("installed", [False, True])
def test_windows_build_on_windows_adds_a_missing_rust_target(
    installed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    config = make_config(tmp_path, GMP_WINDOWS)
    libdir = tmp_path / "rustlib" / "x86_64-pc-windows-gnu" / "lib"
    if installed:
        libdir.mkdir(parents=True)
    runner = windows_runner(rustup=True, libdir=libdir)
    ctx = make_ctx(config, environ={"MSYS2_ROOT": str(tmp_path / "msys64")}, runner=runner)
    MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    argvs = [call.argv[:4] for call in calls(ctx)]
    assert argvs[0] == ("rustc", "--print", "target-libdir", "--target")
    added = ("rustup", "target", "add", "x86_64-pc-windows-gnu")
    assert (added in argvs) is not installed
    assert argvs[-2][1:] == ("-S", "-y", "--noconfirm")
    assert argvs[-1][:2] == ("maturin", "build")


def test_maturin_build_without_cargo(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    ctx = make_ctx(config, runner=lambda console: FakeRunner(console, tools={"cargo": None}))
    with pytest.raises(ToolNotFoundError, match="cargo is not on PATH") as info:
        MaturinBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    assert "rustup" in info.value.remedy
    assert calls(ctx) == []


def test_cross_compile_on_linux_runs_maturin_with_the_target(tmp_path: Path) -> None:
    config = make_config(tmp_path, '[tool.release.windows]\ntarget = "x86_64-pc-windows-gnu"\n')
    ctx = make_ctx(config)
    MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    [maturin] = calls(ctx)
    assert maturin.argv == tuple(MaturinBackend(config).windows_command(tmp_path / "out"))
    assert maturin.env is None


# --- maturin: what blocks a Windows build on Linux ---------------------------------------------


def real_runner(console: Console) -> Runner:
    return Runner(console)


def test_msvc_target_on_linux_is_unavailable(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    blocker = MaturinBackend(config).unavailable("windows", make_ctx(config))
    assert blocker is not None
    assert "x86_64-pc-windows-msvc needs MSVC" in blocker.reason
    assert "Windows runner" in blocker.remedy
    assert 'target = "x86_64-pc-windows-gnu"' in blocker.remedy


def test_msys2_packages_on_linux_are_unavailable(tmp_path: Path) -> None:
    config = make_config(tmp_path, GMP_WINDOWS)
    blocker = MaturinBackend(config).unavailable("windows", make_ctx(config))
    assert blocker is not None
    assert "mingw-w64-x86_64-gmp" in blocker.reason
    assert "Windows runner" in blocker.remedy


GNU_TARGET = '[tool.release.windows]\ntarget = "x86_64-pc-windows-gnu"\n'


def test_cross_compile_possible_with_the_real_toolchain(tmp_path: Path) -> None:
    config = make_config(tmp_path, GNU_TARGET)
    assert (
        MaturinBackend(config).unavailable("windows", make_ctx(config, runner=real_runner)) is None
    )


def test_missing_mingw_linker_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a PATH with the real rustc and nothing else
    rustc = shutil.which("rustc")
    assert rustc is not None, "rustc is needed for this test"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "rustc").symlink_to(Path(rustc).resolve())
    monkeypatch.setenv("PATH", str(bin_dir))
    config = make_config(tmp_path, GNU_TARGET)
    blocker = MaturinBackend(config).unavailable("windows", make_ctx(config, runner=real_runner))
    assert blocker is not None
    assert "x86_64-w64-mingw32-gcc is not on PATH" in blocker.reason
    assert "apt-get install mingw-w64" in blocker.remedy
    assert "Rust" not in blocker.reason
    assert "Windows runner" in blocker.remedy


def test_missing_rust_target_is_unavailable(tmp_path: Path) -> None:
    config = make_config(tmp_path, GNU_TARGET)

    def runner(console: Console) -> Runner:
        return FakeRunner(
            console,
            tools={"rustc": "/usr/bin/rustc", "x86_64-w64-mingw32-gcc": "/usr/bin/gcc"},
            respond=lambda argv: str(tmp_path / "no-such-libdir"),
        )

    ctx = make_ctx(config, runner=runner)
    blocker = MaturinBackend(config).unavailable("windows", ctx)
    assert blocker is not None
    assert "the Rust target x86_64-pc-windows-gnu is not installed" in blocker.reason
    assert "rustup target add x86_64-pc-windows-gnu" in blocker.remedy
    assert "mingw" not in blocker.reason
    [query] = calls(ctx)
    assert query.argv == ("rustc", "--print", "target-libdir", "--target", "x86_64-pc-windows-gnu")
    assert query.quiet


def test_missing_rust_and_linker_are_both_named(tmp_path: Path) -> None:
    config = make_config(tmp_path, GNU_TARGET)

    def runner(console: Console) -> Runner:
        return FakeRunner(console, tools={"rustc": None, "x86_64-w64-mingw32-gcc": None})

    blocker = MaturinBackend(config).unavailable("windows", make_ctx(config, runner=runner))
    assert blocker is not None
    assert "Rust is not installed" in blocker.reason
    assert "x86_64-w64-mingw32-gcc" in blocker.reason
    assert "install Rust with rustup and apt-get install mingw-w64" in blocker.remedy
    assert "What would change this" in str(blocker)


def test_linux_build_is_available_on_linux(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    assert MaturinBackend(config).unavailable("linux", make_ctx(config)) is None


# --- cibuildwheel -----------------------------------------------------------------------------


def cibw_config(tmp_path: Path) -> ReleaseConfig:
    return make_config(tmp_path, "", CIBUILDWHEEL_PACKAGE)


def test_cibuildwheel_windows_on_linux_is_unavailable(tmp_path: Path) -> None:
    config = cibw_config(tmp_path)
    backend = CibuildwheelBackend(config)
    blocker = backend.unavailable("windows", make_ctx(config))
    assert blocker is not None
    assert "only on Windows" in blocker.reason
    assert "Windows runner" in blocker.remedy
    assert backend.unavailable("linux", make_ctx(config)) is None


def test_cibuildwheel_in_containers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "release.backends.cibuildwheel.container_engine",
        lambda runner: ContainerEngine("podman", ""),
    )
    config = cibw_config(tmp_path)
    ctx = make_ctx(config)
    out = tmp_path / "out"
    outcome = CibuildwheelBackend(config).build_wheels("linux", ctx, out)
    assert outcome.status == "ok"
    [call] = calls(ctx)
    assert call.argv == (
        "cibuildwheel",
        "--platform",
        "linux",
        "--output-dir",
        str(out),
        str(config.package_dir),
    )
    assert call.cwd == config.project_root
    assert call.env is not None
    assert call.env["CIBW_CONTAINER_ENGINE"] == "podman"


def no_engine(runner: Runner) -> ContainerEngine:
    return ContainerEngine(None, "docker: Cannot connect to the Docker daemon")


def test_host_build_refused_when_selectors_skip_the_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.cibuildwheel.container_engine", no_engine)
    config = cibw_config(tmp_path)
    ctx = make_ctx(
        config,
        runner=lambda console: FakeRunner(
            console, respond=lambda argv: "cp36-manylinux_x86_64\ncp36-manylinux_i686\n"
        ),
    )
    with pytest.raises(HostBuildError) as info:
        CibuildwheelBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    error = info.value
    assert error.exit_code == 23
    assert f"{python_tag()}-manylinux_{machine()}" in error.cause
    assert "cp36-manylinux_x86_64, cp36-manylinux_i686" in error.cause
    assert "Cannot connect to the Docker daemon" in error.cause
    assert "Docker or Podman" in error.remedy
    [query] = calls(ctx)
    assert query.argv[:4] == ("cibuildwheel", "--print-build-identifiers", "--platform", "linux")


def test_host_build_when_the_host_is_selected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.cibuildwheel.container_engine", no_engine)
    here = f"{python_tag()}-manylinux_{machine()}"
    wheel = f"demo-1.0-{python_tag()}-{python_tag()}-linux_{machine()}.whl"

    def respond(argv: tuple[str, ...]) -> str:
        if "--print-build-identifiers" in argv:
            return f"{here}\ncp399-manylinux_{machine()}\n"
        if "--outdir" in argv:  # python -m build --wheel
            (Path(value_after(argv, "--outdir")) / wheel).write_bytes(b"PK")
        return ""

    config = cibw_config(tmp_path)
    ctx = make_ctx(config, runner=lambda console: FakeRunner(console, respond=respond))
    out = tmp_path / "out"
    out.mkdir()
    outcome = CibuildwheelBackend(config).build_wheels("linux", ctx, out)
    assert outcome.status == HOST_BUILD
    assert outcome.reason is not None
    assert "no working container engine" in outcome.reason
    assert f"Not built here: cp399-manylinux_{machine()}" in outcome.reason
    _query, build, repair = calls(ctx)
    assert build.argv[:4] == (sys.executable, "-m", "build", "--wheel")
    assert build.argv[-1] == str(config.package_dir)
    assert repair.argv[:4] == ("auditwheel", "repair", "--plat", f"manylinux_2_17_{machine()}")
    assert value_after(repair.argv, "--wheel-dir") == str(out)
    assert repair.argv[-1] == str(out / "raw" / wheel)


def test_host_build_without_a_c_compiler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("release.backends.cibuildwheel.container_engine", no_engine)
    here = f"{python_tag()}-manylinux_{machine()}"
    config = cibw_config(tmp_path)
    ctx = make_ctx(
        config,
        runner=lambda console: FakeRunner(
            console, tools={"cc": None, "gcc": None, "clang": None}, respond=lambda argv: here
        ),
    )
    with pytest.raises(ToolNotFoundError, match="no C compiler") as info:
        CibuildwheelBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    assert "apt-get install gcc" in info.value.remedy
    assert len(calls(ctx)) == 1  # only the identifier query


def test_real_cibuildwheel_lists_the_cvec_identifiers() -> None:
    config = load_config(ROOT / "examples" / "cvec")
    ctx = make_ctx(config, runner=real_runner)
    assert build_identifiers(ctx.config, ctx.runner, "linux") == ["cp311-manylinux_x86_64"]


# --- build ------------------------------------------------------------------------------------


def test_build_backend_with_no_windows_wheels_is_unavailable(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        '[tool.release.wheels]\nlinux = ["py3-none-any"]\nwindows = []\n',
        SETUPTOOLS_PACKAGE,
    )
    backend = BuildBackend(config)
    blocker = backend.unavailable("windows", make_ctx(config))
    assert blocker is not None
    assert "windows = []" in blocker.reason
    assert backend.unavailable("linux", make_ctx(config)) is None


def test_build_backend_cannot_build_for_another_os(tmp_path: Path) -> None:
    config = make_config(tmp_path, "", SETUPTOOLS_PACKAGE)
    blocker = BuildBackend(config).unavailable("windows", make_ctx(config))
    assert blocker is not None
    assert "this host is linux" in blocker.reason
    assert "windows runner" in blocker.remedy


def test_build_backend_pure_wheel_is_not_repaired(tmp_path: Path) -> None:
    def respond(argv: tuple[str, ...]) -> str:
        if "--outdir" in argv:
            (Path(value_after(argv, "--outdir")) / "demo-1.0-py3-none-any.whl").write_bytes(b"PK")
        return ""

    config = make_config(tmp_path, "", SETUPTOOLS_PACKAGE)
    ctx = make_ctx(config, runner=lambda console: FakeRunner(console, respond=respond))
    out = tmp_path / "out"
    out.mkdir()
    BuildBackend(config).build_wheels("linux", ctx, out)
    [build] = calls(ctx)
    assert build.cwd == config.package_dir
    assert (out / "demo-1.0-py3-none-any.whl").is_file()


@pytest.mark.parametrize(
    ("backend", "kind"),
    [("maturin", MaturinBackend), ("cibuildwheel", CibuildwheelBackend), ("build", BuildBackend)],
)
def test_backend_for(backend: str, kind: type, tmp_path: Path) -> None:
    config = make_config(tmp_path, f'backend = "{backend}"\n')
    chosen = backend_for(config)
    assert isinstance(chosen, kind)
    assert chosen.name == backend
