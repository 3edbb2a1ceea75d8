"""Backend command construction and host checks, including the Windows paths that cannot run here.

Builds are not run: the backends drive the real :class:`Runner` (tool lookup, logging,
history, errors), whose :class:`Processes` is a fake that records each command and answers it
with canned output and an exit status. A few tests run the real tools where this host has them.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import release_project, write_text
from fake_processes import FAKE_BIN, Call, FakeProcesses, Reply, Responder, make_ctx, printed

from release.backends import backend_for
from release.backends.build import BuildBackend
from release.backends.cibuildwheel import (
    CibuildwheelBackend,
    build_identifiers,
    wheel_for_identifier,
)
from release.backends.maturin import (
    MaturinBackend,
    find_msys2,
    mingw_linker,
    msys2_environment,
)
from release.config import ReleaseConfig, load_config
from release.context import RunContext
from release.errors import (
    CommandFailedError,
    ConfigValueError,
    HostBuildError,
    ToolNotFoundError,
)
from release.expected import ExpectedSet, ExpectedWheel
from release.host import machine, python_tag
from release.platforms import Platform
from release.records import HOST_BUILD, NOT_SHIPPED, OK, SKIPPED, StageRecord
from release.regression import NEWEST_CPYTHON
from release.runner import LocalProcesses
from release.stages.build import build_windows

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


# --- the fake processes ---------------------------------------------------------------------


def fake(ctx: RunContext) -> FakeProcesses:
    assert isinstance(ctx.runner.processes, FakeProcesses)
    return ctx.runner.processes


def calls(ctx: RunContext) -> list[Call]:
    return fake(ctx).calls


def recorded(ctx: RunContext) -> list[tuple[str, ...]]:
    """The commands the stage record would list."""
    return [run.argv for run in ctx.runner.history]


def value_after(argv: Sequence[str], option: str) -> str:
    return argv[list(argv).index(option) + 1]


def real_ctx(config: ReleaseConfig) -> RunContext:
    return make_ctx(config, processes=LocalProcesses())


@pytest.fixture
def venv_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tools installed with the interpreter running the tests (cibuildwheel...) on PATH,
    as nox puts them, also when pytest is started without activating the environment."""
    monkeypatch.setenv(
        "PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )


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
    out = tmp_path / "out"
    assert MaturinBackend(config).build_wheels("linux", ctx, out).status == OK
    expected = MaturinBackend(config).linux_command(out, (2, 36))
    [call] = calls(ctx)
    assert call.argv == tuple(expected)
    assert call.executable == f"{FAKE_BIN}/maturin"
    assert call.cwd == config.package_dir
    assert call.env == dict(os.environ)
    # the runner logged the command and keeps it for the stage record
    assert f"$ {shlex.join(expected)}" in printed(ctx)
    assert recorded(ctx) == [tuple(expected)]
    assert ctx.runner.history[0].cwd == str(config.package_dir)


def test_a_failed_linux_build_raises_with_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.glibc_version", lambda: (2, 17))
    config = make_config(tmp_path, "")
    output = "   Compiling demo v0.1.0\nerror: linking with `cc` failed: exit status: 1"
    ctx = make_ctx(config, processes=FakeProcesses(respond=lambda call: (output, 101)))
    with pytest.raises(CommandFailedError) as info:
        MaturinBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    error = info.value
    assert error.cause == (
        "maturin exited with status 101 while building the Linux wheel (manylinux_2_17)."
    )
    assert error.returncode == 101
    assert error.tail == output.splitlines()
    assert "  | error: linking with `cc` failed: exit status: 1" in printed(ctx)
    assert [run.returncode for run in ctx.runner.history] == [101]


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
    assert ctx.runner.history == []


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
    """An MSYS2 root with a pacman that PATH lookups find on this host (``pacman``) and the
    one the backend runs (``pacman.exe``)."""
    root = tmp_path / "msys64"
    for name in ("pacman", "pacman.exe"):
        pacman = write_text(root / "usr" / "bin" / name, "#!/bin/sh\nexit 0\n")
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


def test_windows_env_puts_the_msys2_bin_first_then_its_own_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MinGW's compilers first, then MSYS2's usr/bin (sh, make, m4: GMP's configure runs
    them), then the rest. Never run on Windows: this is the environment the build gets."""
    monkeypatch.setenv("PATH", os.pathsep.join(["/usr/bin", "/bin"]))
    backend = MaturinBackend(make_config(tmp_path, GMP_WINDOWS))
    root = tmp_path / "msys64"
    ctx = make_ctx(backend.config)
    env = backend.windows_env(ctx, root)
    assert env["PATH"].split(os.pathsep) == [
        str(root / "mingw64" / "bin"), str(root / "usr" / "bin"), "/usr/bin", "/bin",
    ]  # fmt: skip
    assert backend.windows_env(ctx, None)["PATH"] == os.pathsep.join(["/usr/bin", "/bin"])


def test_windows_env_for_msvc_keeps_msys2s_tools_off_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MSYS2's usr/bin holds a coreutils link.exe, which must not stand in for MSVC's."""
    monkeypatch.setenv("PATH", "/bin")
    msvc = '[tool.release.windows]\ntarget = "x86_64-pc-windows-msvc"\n'
    backend = MaturinBackend(make_config(tmp_path, msvc))
    root = tmp_path / "msys64"
    env = backend.windows_env(make_ctx(backend.config), root)
    assert str(root / "usr" / "bin") not in env["PATH"].split(os.pathsep)


def windows_processes(*, rustup: bool = False, libdir: Path | None = None) -> FakeProcesses:
    """A Windows host's tools: cargo, and rustup only when asked; rustc answers the target
    library query with ``libdir``, which exists when the target is installed."""
    rustup_exe = r"C:\cargo\bin\rustup.exe" if rustup else None
    tools = {"cargo": r"C:\cargo\bin\cargo.exe", "rustup": rustup_exe}
    query = str(libdir) if libdir is not None else ""
    return FakeProcesses(tools=tools, respond=lambda call: query if call.tool == "rustc" else "")


def test_windows_build_on_windows_installs_msys2_packages_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    config = make_config(tmp_path, GMP_WINDOWS)
    root = fake_msys2(tmp_path)
    ctx = make_ctx(
        config, environ={"MSYS2_ROOT": str(root), "PATH": ""}, processes=windows_processes()
    )
    backend = MaturinBackend(config)
    out = tmp_path / "out"
    assert backend.build_wheels("windows", ctx, out).status == OK
    pacman, maturin = calls(ctx)
    assert pacman.argv == tuple(backend.pacman_command(root))
    assert pacman.argv[0] == str(root / "usr" / "bin" / "pacman.exe")
    assert pacman.executable == pacman.argv[0]
    assert maturin.argv == tuple(backend.windows_command(out))
    assert value_after(maturin.argv, "--target") == "x86_64-pc-windows-gnu"
    assert maturin.cwd == config.package_dir
    mingw_bin = str(root / "mingw64" / "bin")
    assert maturin.env["PATH"].split(os.pathsep)[:2] == [mingw_bin, str(root / "usr" / "bin")]
    # the executable is found through the child's PATH, MSYS2's bin first
    maturin_paths = [path for tool, path in fake(ctx).lookups if tool == "maturin"]
    assert maturin_paths
    assert all(path is not None and path.startswith(mingw_bin) for path in maturin_paths)
    assert recorded(ctx) == [pacman.argv, maturin.argv]


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
    ctx = make_ctx(
        config, environ={"PATH": str(root / "usr" / "bin")}, processes=windows_processes()
    )
    MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    pacman, maturin = calls(ctx)
    assert pacman.argv[0] == str(root.resolve() / "usr" / "bin" / "pacman.exe")
    assert pacman.args[-1] == "mingw-w64-ucrt-x86_64-gmp"
    assert maturin.env["PATH"].split(os.pathsep)[0] == str(root.resolve() / "ucrt64" / "bin")


def test_windows_build_without_msys2_fails_before_running_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    config = make_config(tmp_path, GMP_WINDOWS)
    ctx = make_ctx(
        config,
        environ={"PATH": str(tmp_path), "SYSTEMDRIVE": str(tmp_path)},
        processes=windows_processes(),
    )
    with pytest.raises(ToolNotFoundError) as info:
        MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    assert "MSYS2 is not installed" in info.value.cause
    assert "msys2-packages" in info.value.cause
    assert "MSYS2_ROOT" in info.value.remedy
    assert info.value.exit_code == 20
    assert calls(ctx) == []
    assert ctx.runner.history == []


def test_windows_build_without_packages_needs_no_msys2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    config = make_config(tmp_path, "")
    ctx = make_ctx(config, environ={"PATH": str(tmp_path)}, processes=windows_processes())
    MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    [maturin] = calls(ctx)
    assert value_after(maturin.argv, "--target") == "x86_64-pc-windows-msvc"
    # no MSYS2: the child gets our PATH as it is
    assert maturin.env["PATH"] == os.environ["PATH"]


def test_a_gnu_build_on_windows_names_every_python_of_its_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As from Linux: the free-threaded win_amd64 wheels are built too. Before, maturin made
    the abi3 wheel only, and validate found cp314-cp314t-win_amd64 missing."""
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    gnu = 'free-threaded = true\n[tool.release.windows]\ntarget = "x86_64-pc-windows-gnu"\n'
    config = make_config(tmp_path, gnu)
    (config.package_dir / "Cargo.toml").write_text(
        '[package]\nname = "demo"\nversion = "0.1.0"\n\n[dependencies]\n'
        'pyo3 = { version = "0.29", features = ["abi3-py39"] }\n'
    )
    ctx = make_ctx(config, environ={"PATH": str(tmp_path)}, processes=windows_processes())
    MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    [maturin] = calls(ctx)
    pythons = maturin.argv[maturin.argv.index("--interpreter") + 1 :]
    assert pythons == ("python3.9", "python3.14t", "python3.15t")


@pytest.mark.parametrize("installed", [False, True])
def test_windows_build_on_windows_adds_a_missing_rust_target(
    installed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    config = make_config(tmp_path, GMP_WINDOWS)
    libdir = tmp_path / "rustlib" / "x86_64-pc-windows-gnu" / "lib"
    if installed:
        libdir.mkdir(parents=True)
    processes = windows_processes(rustup=True, libdir=libdir)
    ctx = make_ctx(config, environ={"MSYS2_ROOT": str(fake_msys2(tmp_path))}, processes=processes)
    MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    argvs = [call.argv[:4] for call in calls(ctx)]
    assert argvs[0] == ("rustc", "--print", "target-libdir", "--target")
    added = ("rustup", "target", "add", "x86_64-pc-windows-gnu")
    assert (added in argvs) is not installed
    assert argvs[-2][1:] == ("-S", "-y", "--noconfirm")
    assert argvs[-1][:2] == ("maturin", "build")
    # the target query produces nothing: it stays out of the stage record
    assert [argv[0] for argv in recorded(ctx)] == [
        *(["rustup"] if not installed else []),
        argvs[-2][0],
        "maturin",
    ]


def test_maturin_build_without_cargo(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    ctx = make_ctx(config, processes=FakeProcesses(tools={"cargo": None}))
    with pytest.raises(ToolNotFoundError, match="cargo is not on PATH") as info:
        MaturinBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    assert info.value.cause == "cargo is not on PATH; maturin compiles the Rust crate with cargo."
    assert "rustup" in info.value.remedy
    assert calls(ctx) == []


def test_maturin_itself_missing_is_named_with_its_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.glibc_version", lambda: (2, 17))
    config = make_config(tmp_path, "")
    ctx = make_ctx(config, processes=FakeProcesses(tools={"maturin": None}))
    with pytest.raises(ToolNotFoundError) as info:
        MaturinBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    assert info.value.cause == (
        "maturin is not on PATH; building the Linux wheel (manylinux_2_17)."
    )
    assert "pip install 'maturin[zig]'" in info.value.remedy
    assert calls(ctx) == []


def test_cross_compile_on_linux_runs_maturin_with_the_target(tmp_path: Path) -> None:
    config = make_config(tmp_path, '[tool.release.windows]\ntarget = "x86_64-pc-windows-gnu"\n')
    ctx = make_ctx(config)
    MaturinBackend(config).build_wheels("windows", ctx, tmp_path / "out")
    [maturin] = calls(ctx)
    # no Cargo.toml to read the Pythons from: maturin chooses, as before
    assert MaturinBackend(config).cross_interpreters() is None
    assert maturin.argv == tuple(MaturinBackend(config).windows_command(tmp_path / "out"))
    assert maturin.cwd == config.package_dir
    # the child inherits our environment, without any MSYS2 directory, plus the flag that
    # keeps the link time out of the PE header
    assert maturin.env == {
        **os.environ,
        "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS": "-C link-arg=-Wl,--no-insert-timestamp",
    }


# --- maturin: what blocks a Windows build on Linux ---------------------------------------------


def test_msvc_target_on_linux_is_unavailable(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    ctx = make_ctx(config)
    blocker = MaturinBackend(config).unavailable("windows", ctx)
    assert blocker is not None
    assert "x86_64-pc-windows-msvc needs MSVC" in blocker.reason
    assert "Windows runner" in blocker.remedy
    assert 'target = "x86_64-pc-windows-gnu"' in blocker.remedy
    assert not blocker.intentional
    assert blocker.status == SKIPPED
    assert calls(ctx) == []


def test_msys2_packages_on_linux_are_unavailable(tmp_path: Path) -> None:
    config = make_config(tmp_path, GMP_WINDOWS)
    ctx = make_ctx(config)
    blocker = MaturinBackend(config).unavailable("windows", ctx)
    assert blocker is not None
    assert "mingw-w64-x86_64-gmp" in blocker.reason
    assert "Windows runner" in blocker.remedy
    assert blocker.status == SKIPPED
    assert calls(ctx) == []


GNU_TARGET = '[tool.release.windows]\ntarget = "x86_64-pc-windows-gnu"\n'


def test_cross_compile_possible_with_the_real_toolchain(tmp_path: Path) -> None:
    config = make_config(tmp_path, GNU_TARGET)
    assert MaturinBackend(config).unavailable("windows", real_ctx(config)) is None


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
    blocker = MaturinBackend(config).unavailable("windows", real_ctx(config))
    assert blocker is not None
    assert "x86_64-w64-mingw32-gcc is not on PATH" in blocker.reason
    assert "apt-get install mingw-w64" in blocker.remedy
    assert "Rust" not in blocker.reason
    assert "Windows runner" in blocker.remedy


@pytest.mark.parametrize(
    "reply",
    [
        "/no/such/rustlib/x86_64-pc-windows-gnu/lib",
        # a rustc that does not know the target at all
        ("error: Error loading target specification: Could not find specification", 1),
    ],
    ids=["libdir-missing", "rustc-refuses"],
)
def test_missing_rust_target_is_unavailable(reply: Reply, tmp_path: Path) -> None:
    config = make_config(tmp_path, GNU_TARGET)
    processes = FakeProcesses(
        tools={"rustc": "/usr/bin/rustc", "x86_64-w64-mingw32-gcc": "/usr/bin/gcc"},
        respond=lambda call: reply,
    )
    ctx = make_ctx(config, processes=processes)
    blocker = MaturinBackend(config).unavailable("windows", ctx)
    assert blocker is not None
    assert "the Rust target x86_64-pc-windows-gnu is not installed" in blocker.reason
    assert "rustup target add x86_64-pc-windows-gnu" in blocker.remedy
    assert "mingw" not in blocker.reason
    [query] = calls(ctx)
    assert query.argv == ("rustc", "--print", "target-libdir", "--target", "x86_64-pc-windows-gnu")
    assert query.executable == "/usr/bin/rustc"
    # a quiet query: not in the log, not in the stage record
    assert "target-libdir" not in printed(ctx)
    assert ctx.runner.history == []


def test_missing_rust_and_linker_are_both_named(tmp_path: Path) -> None:
    config = make_config(tmp_path, GNU_TARGET)
    processes = FakeProcesses(tools={"rustc": None, "x86_64-w64-mingw32-gcc": None})
    ctx = make_ctx(config, processes=processes)
    blocker = MaturinBackend(config).unavailable("windows", ctx)
    assert blocker is not None
    assert "Rust is not installed" in blocker.reason
    assert "x86_64-w64-mingw32-gcc" in blocker.reason
    assert "install Rust with rustup and apt-get install mingw-w64" in blocker.remedy
    assert "What would change this" in str(blocker)
    assert calls(ctx) == []


def test_linux_build_is_available_on_linux(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    ctx = make_ctx(config)
    assert MaturinBackend(config).unavailable("linux", ctx) is None
    assert calls(ctx) == []


# --- maturin: the expected wheels ---------------------------------------------------------------

CRATE = """\
[package]
name = "demo"
version = "0.1.0"

[dependencies]
pyo3 = {{ version = "0.22", features = [{features}] }}
"""


def linux_x86_64() -> Platform:
    return Platform("linux", "x86_64", "manylinux")


def test_maturin_expects_one_abi3_wheel_per_platform(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    write_text(config.package_dir / "Cargo.toml", CRATE.format(features='"abi3-py39"'))
    ctx = make_ctx(config)
    expected = MaturinBackend(config).expected_wheels(ctx)
    # Any floor is the wheel expected; the manylinux check judges its floor, once.
    assert expected.wheels == (
        ExpectedWheel(
            "linux",
            ("cp39-abi3-manylinux*_x86_64",),
            "cp39-abi3-manylinux_2_17_x86_64",
            "cp39-manylinux_x86_64",
            linux_x86_64(),
        ),
        ExpectedWheel(
            "windows", ("cp39-abi3-win_amd64",), "", "cp39-win_amd64", Platform("windows", "AMD64")
        ),
    )
    assert expected.source == (
        "maturin: pyo3 feature abi3-py39 in pkg/Cargo.toml; platforms manylinux_x86_64, "
        "win_amd64; Linux floor manylinux_2_17; Windows target x86_64-pc-windows-msvc"
    )
    # read from the files: nothing is run
    assert calls(ctx) == []


def test_maturin_without_abi3_expects_a_wheel_per_cpython_of_requires_python(
    tmp_path: Path,
) -> None:
    """Before: one cp3*-cp3* wheel per platform, which the build machine's Python alone met."""
    package = MATURIN_PACKAGE + 'requires-python = ">=3.12"\n'
    config = make_config(
        tmp_path,
        '[tool.release.linux]\nmanylinux = "2_28"\n'
        '[tool.release.windows]\ntarget = "i686-pc-windows-gnu"\n',
        package,
    )
    write_text(config.package_dir / "Cargo.toml", CRATE.format(features='"extension-module"'))
    expected = MaturinBackend(config).expected_wheels(make_ctx(config))
    linux = expected.for_platform("linux")
    assert [w.patterns for w in linux] == [
        (f"cp3{m}-cp3{m}-manylinux*_x86_64",) for m in range(12, NEWEST_CPYTHON + 1)
    ]
    assert linux[0].describe() == "cp312-cp312-manylinux_2_28_x86_64"
    assert linux[0].build == "cp312-manylinux_x86_64"
    assert linux[0].matches(["cp312-cp312-manylinux_2_28_x86_64"])
    assert not linux[0].matches(["cp313-cp313-manylinux_2_28_x86_64"])
    assert not linux[0].matches(["cp312-cp312-musllinux_1_2_x86_64"])
    windows = expected.for_platform("windows")
    assert [w.patterns for w in windows] == [
        (f"cp3{m}-cp3{m}-win32",) for m in range(12, NEWEST_CPYTHON + 1)
    ]
    assert {w.build_platform for w in windows} == {Platform("windows", "x86")}
    assert expected.source.startswith(
        "maturin: no pyo3 abi3 feature in pkg/Cargo.toml, so one wheel per CPython of "
        "requires-python >=3.12"
    )


def test_maturin_expected_wheels_without_the_crate(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    with pytest.raises(ConfigValueError) as info:
        MaturinBackend(config).expected_wheels(make_ctx(config))
    assert "pkg/Cargo.toml, which does not exist" in info.value.cause
    assert "manifest-path" in info.value.remedy


# --- cibuildwheel -----------------------------------------------------------------------------


def cibw_config(tmp_path: Path) -> ReleaseConfig:
    return make_config(tmp_path, "", CIBUILDWHEEL_PACKAGE)


def cibuildwheel(
    *, linux: str = "", windows: str = "", macos: str = "", otherwise: Responder | None = None
) -> Responder:
    """``--print-build-identifiers`` lists ``linux``, ``macos`` or ``windows``; the rest is
    ``otherwise``."""

    def respond(call: Call) -> Reply:
        if call.tool == "cibuildwheel" and "--print-build-identifiers" in call.args:
            listed = {"linux": linux, "windows": windows, "macos": macos}
            return listed[value_after(call.args, "--platform")]
        return otherwise(call) if otherwise is not None else ""

    return respond


def identifier_query(
    config: ReleaseConfig, platform: str, archs: str | None = None
) -> tuple[str, ...]:
    return (
        "cibuildwheel",
        "--print-build-identifiers",
        "--platform",
        platform,
        *(("--archs", archs) if archs is not None else ()),
        str(config.package_dir),
    )


def test_cibuildwheel_windows_on_linux_is_unavailable(tmp_path: Path) -> None:
    config = cibw_config(tmp_path)
    backend = CibuildwheelBackend(config)
    ctx = make_ctx(config, processes=FakeProcesses(respond=cibuildwheel(windows="cp311-win_amd64")))
    blocker = backend.unavailable("windows", ctx)
    assert blocker is not None
    assert "only on Windows" in blocker.reason
    assert "Windows runner" in blocker.remedy
    assert not blocker.intentional
    assert blocker.status == SKIPPED
    assert "What would change this" in str(blocker)
    # the selectors were asked first, through the runner
    [query] = calls(ctx)
    assert query.argv == identifier_query(config, "windows")
    assert query.cwd == config.project_root
    assert "print-build-identifiers" not in printed(ctx)  # quiet
    assert recorded(ctx) == [query.argv]
    assert backend.unavailable("linux", ctx) is None
    assert len(calls(ctx)) == 1


def test_cibuildwheel_selectors_without_windows_wheels_are_not_shipped(tmp_path: Path) -> None:
    config = cibw_config(tmp_path)
    ctx = make_ctx(
        config, processes=FakeProcesses(respond=cibuildwheel(linux="cp311-manylinux_x86_64"))
    )
    blocker = CibuildwheelBackend(config).unavailable("windows", ctx)
    assert blocker is not None
    assert blocker.intentional
    assert blocker.status == NOT_SHIPPED
    assert "selectors build no Windows wheels" in blocker.reason
    # an intentional choice is said plainly, with nothing to act on
    assert str(blocker) == blocker.reason
    assert [call.argv for call in calls(ctx)] == [identifier_query(config, "windows")]


def test_cibuildwheel_windows_query_that_fails_is_an_error_not_a_choice(tmp_path: Path) -> None:
    config = cibw_config(tmp_path)
    reply = ("cibuildwheel: error: invalid [tool.cibuildwheel] build selector", 2)
    ctx = make_ctx(config, processes=FakeProcesses(respond=lambda call: reply))
    with pytest.raises(CommandFailedError) as info:
        CibuildwheelBackend(config).unavailable("windows", ctx)
    assert info.value.cause == (
        "cibuildwheel exited with status 2 while listing the windows build identifiers."
    )
    assert info.value.tail == [reply[0]]


def test_cibuildwheel_windows_on_linux_without_cibuildwheel(tmp_path: Path) -> None:
    config = cibw_config(tmp_path)
    ctx = make_ctx(config, processes=FakeProcesses(tools={"cibuildwheel": None}))
    with pytest.raises(ToolNotFoundError) as info:
        CibuildwheelBackend(config).unavailable("windows", ctx)
    assert info.value.cause == (
        "cibuildwheel is not on PATH; listing the windows build identifiers."
    )
    assert "pip install cibuildwheel" in info.value.remedy
    assert calls(ctx) == []


def test_cibuildwheel_in_containers(tmp_path: Path) -> None:
    config = cibw_config(tmp_path)
    processes = FakeProcesses(
        tools={"docker": None, "podman": f"{FAKE_BIN}/podman"},
        respond=cibuildwheel(linux="cp311-manylinux_x86_64"),
    )
    ctx = make_ctx(config, processes=processes)
    out = tmp_path / "out"
    outcome = CibuildwheelBackend(config).build_wheels("linux", ctx, out)
    assert outcome.status == OK
    engine, query, call = calls(ctx)
    # the engine itself is asked (a client without a daemon is no engine), with a time limit
    assert engine.argv == ("podman", "info")
    assert engine.timeout is not None
    # the architectures built decide which images are given
    assert query.argv == identifier_query(config, "linux")
    assert call.argv == (
        "cibuildwheel",
        "--platform",
        "linux",
        "--output-dir",
        str(out),
        str(config.package_dir),
    )
    assert call.cwd == config.project_root
    # the image of the floor (default 2014): cibuildwheel's own default is manylinux_2_28
    assert call.env == {
        **os.environ,
        "CIBW_MANYLINUX_X86_64_IMAGE": "manylinux2014",
        "CIBW_CONTAINER_ENGINE": "podman",
    }
    assert "the manylinux_2_17 floor: CIBW_MANYLINUX_X86_64_IMAGE=manylinux2014" in printed(ctx)
    assert call.timeout is not None and call.timeout >= 3 * 3600  # a build gets hours
    assert recorded(ctx) == [engine.argv, query.argv, call.argv]


DOCKER_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock."


def no_engine(respond: Responder) -> FakeProcesses:
    """A docker client whose daemon is down, no podman."""

    def reply(call: Call) -> Reply:
        if call.argv == ("docker", "info"):
            return (f"Client: Docker Engine\n{DOCKER_DOWN}", 1)
        return respond(call)

    return FakeProcesses(tools={"docker": f"{FAKE_BIN}/docker", "podman": None}, respond=reply)


def test_host_build_refused_when_selectors_skip_the_host(tmp_path: Path) -> None:
    config = cibw_config(tmp_path)
    other = f"pp310-manylinux_{machine()}\ncp311-musllinux_{machine()}\n"
    ctx = make_ctx(config, processes=no_engine(cibuildwheel(linux=other)))
    with pytest.raises(HostBuildError) as info:
        CibuildwheelBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    error = info.value
    assert error.exit_code == 23
    assert f"CPython manylinux_{machine()} wheels" in error.cause
    assert f"pp310-manylinux_{machine()}, cp311-musllinux_{machine()}" in error.cause
    assert f"docker: {DOCKER_DOWN}" in error.cause
    assert "podman: not installed" in error.cause
    assert "Docker or Podman" in error.remedy
    engine, query = calls(ctx)
    assert engine.argv == ("docker", "info")
    assert query.argv == identifier_query(config, "linux")


def test_host_build_when_the_host_is_selected(tmp_path: Path) -> None:
    here = f"{python_tag()}-manylinux_{machine()}"
    wheel = f"demo-1.0-{python_tag()}-{python_tag()}-linux_{machine()}.whl"

    def build(call: Call) -> Reply:
        if "--outdir" in call.args:  # python -m build --wheel
            (Path(value_after(call.args, "--outdir")) / wheel).write_bytes(b"PK")
        return ""

    config = cibw_config(tmp_path)
    respond = cibuildwheel(linux=f"{here}\ncp399-manylinux_{machine()}\n", otherwise=build)
    ctx = make_ctx(config, processes=no_engine(respond))
    out = tmp_path / "out"
    out.mkdir()
    outcome = CibuildwheelBackend(config).build_wheels("linux", ctx, out)
    assert outcome.status == HOST_BUILD
    assert outcome.reason is not None
    assert "no working container engine" in outcome.reason
    assert DOCKER_DOWN in outcome.reason
    assert f"Not built here: cp399-manylinux_{machine()}" in outcome.reason
    # ... and says it as a fact, for validate to excuse that wheel and no other.
    assert outcome.not_built == (f"cp399-manylinux_{machine()}",)
    _engine, query, build_call, repair = calls(ctx)
    assert query.argv == identifier_query(config, "linux")
    assert build_call.argv[:4] == (sys.executable, "-m", "build", "--wheel")
    assert build_call.argv[-1] == str(config.package_dir)
    assert build_call.cwd == config.package_dir
    assert repair.argv[:4] == ("auditwheel", "repair", "--plat", f"manylinux_2_17_{machine()}")
    assert value_after(repair.argv, "--wheel-dir") == str(out)
    assert repair.argv[-1] == str(out / "raw" / wheel)
    assert recorded(ctx) == [call.argv for call in calls(ctx)]


def test_a_host_build_explains_only_the_platforms_this_host_was_given(tmp_path: Path) -> None:
    """The stage's plan leaves another architecture to its runner, and says so once; the
    host build says only what it could not make of this host's part (musllinux). Before,
    it listed the project's aarch64 builds again, in other words."""
    here = f"{python_tag()}-manylinux_{machine()}"
    musl = f"{python_tag()}-musllinux_{machine()}"
    other = "aarch64" if machine() != "aarch64" else "x86_64"
    listed = f"{here}\n{python_tag()}-manylinux_{other}\n{musl}\n{python_tag()}-musllinux_{other}\n"
    wheel = f"demo-1.0-{python_tag()}-{python_tag()}-linux_{machine()}.whl"

    def build(call: Call) -> Reply:
        if "--outdir" in call.args:  # python -m build --wheel
            (Path(value_after(call.args, "--outdir")) / wheel).write_bytes(b"PK")
        return ""

    config = cibw_config(tmp_path)
    ctx = make_ctx(config, processes=no_engine(cibuildwheel(linux=listed, otherwise=build)))
    out = tmp_path / "out"
    out.mkdir()
    this_host = [
        Platform("linux", machine(), "manylinux"),
        Platform("linux", machine(), "musllinux"),
    ]
    outcome = CibuildwheelBackend(config).build_wheels("linux", ctx, out, this_host)
    assert outcome.status == HOST_BUILD
    assert outcome.not_built == (musl,)
    assert outcome.reason is not None and other not in outcome.reason


SETUPTOOLS_RUST_PACKAGE = (
    SETUPTOOLS_PACKAGE.replace('"setuptools>=68"', '"setuptools>=68", "setuptools-rust>=1.9"')
    + '\n[tool.cibuildwheel]\nbuild = ["cp311-*"]\n'
)


@pytest.mark.parametrize(
    ("package", "host_glibc", "zig"),
    [(SETUPTOOLS_RUST_PACKAGE, (2, 36), True), (SETUPTOOLS_RUST_PACKAGE, (2, 17), False),
     (CIBUILDWHEEL_PACKAGE, (2, 36), False)],
    ids=["rust-newer-host", "rust-host-at-the-floor", "c-newer-host"],
)  # fmt: skip
def test_a_host_build_links_rust_with_zig_at_the_floor(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    package: str,
    host_glibc: tuple[int, int],
    zig: bool,
) -> None:
    """setuptools-rust built on a glibc 2.36 host links pthread_key_create@GLIBC_2.34, which
    auditwheel cannot bring down to 2.17: cargo gets zig, targeting the floor's glibc, as its
    linker (as maturin --zig). Not on a host at the floor, and not for a build without Rust."""
    monkeypatch.setattr("release.backends.build.glibc_version", lambda: host_glibc)
    monkeypatch.setattr("release.backends.build.zig_available", lambda environ: True)
    monkeypatch.delenv("CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER", raising=False)
    here = f"{python_tag()}-manylinux_{machine()}"
    wheel = f"demo-1.0-{python_tag()}-{python_tag()}-linux_{machine()}.whl"

    def build(call: Call) -> Reply:
        if "--outdir" in call.args:
            (Path(value_after(call.args, "--outdir")) / wheel).write_bytes(b"PK")
        return ""

    config = make_config(tmp_path, "", package)
    ctx = make_ctx(config, processes=no_engine(cibuildwheel(linux=here, otherwise=build)))
    out = tmp_path / "out"
    out.mkdir()
    outcome = CibuildwheelBackend(config).build_wheels("linux", ctx, out)
    (build_call,) = [c for c in calls(ctx) if "--outdir" in c.args]
    variable = f"CARGO_TARGET_{machine().upper()}_UNKNOWN_LINUX_GNU_LINKER"
    assert outcome.reason is not None
    if not zig:
        assert variable not in build_call.env
        assert "zig" not in outcome.reason
        return
    linker = Path(build_call.env[variable])
    assert os.access(linker, os.X_OK)
    assert f" cc -target {machine()}-linux-gnu.2.17 " in linker.read_text()
    assert "Cargo linked with zig against glibc 2.17, the floor" in outcome.reason


def fake_pyenv(tmp_path: Path, version: str) -> Path:
    """A pyenv root holding one interpreter (a file: its answers are faked)."""
    python = tmp_path / "pyenv" / "versions" / f"{version}.1" / "bin" / f"python{version}"
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(0o755)
    return python


def test_host_build_with_an_interpreter_the_selectors_name(tmp_path: Path) -> None:
    """The running Python is not named; pyenv's 3.13 is, and builds with its own pip."""
    arch = machine()
    python = fake_pyenv(tmp_path, "3.13")
    wheel = f"demo-1.0-cp313-cp313-linux_{arch}.whl"

    def build(call: Call) -> Reply:
        if call.args[:1] == ("-c",):  # what the interpreter is
            return "cpython 3.13 - pip" if call.executable == str(python) else ("", 1)
        if call.args[:3] == ("-m", "pip", "wheel"):
            (Path(value_after(call.args, "--wheel-dir")) / wheel).write_bytes(b"PK")
        return ""

    config = cibw_config(tmp_path)
    wanted = f"cp313-manylinux_{arch}\ncp399-manylinux_{arch}\n"
    respond = cibuildwheel(linux=wanted, otherwise=build)
    environ = {"PATH": "", "PYENV_ROOT": str(tmp_path / "pyenv")}
    ctx = make_ctx(config, processes=no_engine(respond), environ=environ)
    out = tmp_path / "out"
    out.mkdir()
    outcome = CibuildwheelBackend(config).build_wheels("linux", ctx, out)
    assert outcome.status == HOST_BUILD
    assert outcome.reason is not None
    assert f"built cp313-manylinux_{arch} (pip wheel with {python}, from pyenv)" in outcome.reason
    assert f"Not built here: cp399-manylinux_{arch}" in outcome.reason
    assert "Not installed to build with: Python 3.99;" in outcome.reason
    assert outcome.not_built == (f"cp399-manylinux_{arch}",)
    assert "pyenv install 3.99" in outcome.reason
    _engine, _query, probe, pip, repair = calls(ctx)
    assert probe.executable == str(python)
    assert pip.argv == (
        str(python), "-m", "pip", "wheel", "--no-deps",
        "--wheel-dir", str(out / "raw-python3.13"), str(config.package_dir),
    )  # fmt: skip
    assert pip.cwd == config.package_dir
    assert repair.argv[-1] == str(out / "raw-python3.13" / wheel)
    # The probe is a question, not a step of the build.
    assert recorded(ctx) == [_engine.argv, _query.argv, pip.argv, repair.argv]


def test_host_build_refused_when_no_named_interpreter_is_installed(tmp_path: Path) -> None:
    config = cibw_config(tmp_path)
    respond = cibuildwheel(linux=f"cp313-manylinux_{machine()}")
    empty = tmp_path / "no-pyenv"
    empty.mkdir()
    environ = {"PATH": "", "PYENV_ROOT": str(empty)}
    ctx = make_ctx(config, processes=no_engine(respond), environ=environ)
    with pytest.raises(HostBuildError) as info:
        CibuildwheelBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    error = info.value
    assert "no interpreter the project's cibuildwheel selectors name (cp313-manylinux_" in (
        error.cause
    )
    assert "python3.13: not on PATH" in error.cause
    assert "uv: not on PATH" in error.cause
    assert f"pyenv: no {empty}/versions/3.13*/bin/python3.13" in error.cause
    for way in ("--force-python 3.13", "uv python install 3.13", "pyenv install 3.13"):
        assert way in error.remedy
    assert "Docker or Podman" in error.remedy


def test_host_build_without_a_c_compiler(tmp_path: Path) -> None:
    here = f"{python_tag()}-manylinux_{machine()}"
    config = cibw_config(tmp_path)
    processes = FakeProcesses(
        tools={"docker": None, "podman": None, "cc": None, "gcc": None, "clang": None},
        respond=cibuildwheel(linux=here),
    )
    ctx = make_ctx(config, processes=processes)
    with pytest.raises(ToolNotFoundError, match="no C compiler") as info:
        CibuildwheelBackend(config).build_wheels("linux", ctx, tmp_path / "out")
    assert "apt-get install gcc" in info.value.remedy
    assert [call.argv for call in calls(ctx)] == [identifier_query(config, "linux")]
    assert {"cc", "gcc", "clang"} <= {tool for tool, _ in processes.lookups}


def test_cibuildwheel_expects_the_wheels_of_its_build_identifiers(tmp_path: Path) -> None:
    config = cibw_config(tmp_path)
    respond = cibuildwheel(
        linux="cp311-manylinux_x86_64\npp310-manylinux_x86_64\n", windows="cp313t-win_amd64\n"
    )
    ctx = make_ctx(config, processes=FakeProcesses(respond=respond))
    expected = CibuildwheelBackend(config).expected_wheels(ctx)
    assert isinstance(expected, ExpectedSet)
    assert expected.source == (
        "cibuildwheel --print-build-identifiers "
        "(linux (x86_64,aarch64): cp311-manylinux_x86_64, pp310-manylinux_x86_64; "
        "macos (x86_64,arm64): none; windows (AMD64,x86,ARM64): cp313t-win_amd64)"
    )
    # archs = "auto" (the default) is what each of the release's runners builds by itself
    assert [call.argv for call in calls(ctx)] == [
        identifier_query(config, "linux", "x86_64,aarch64"),
        identifier_query(config, "macos", "x86_64,arm64"),
        identifier_query(config, "windows", "AMD64,x86,ARM64"),
    ]
    cpython, pypy = expected.for_platform("linux")
    assert cpython == wheel_for_identifier("cp311-manylinux_x86_64", "linux")
    assert pypy.patterns == ("pp310-*-manylinux*_x86_64",)
    assert expected.for_platform("windows") == (
        ExpectedWheel(
            "windows",
            ("cp313-cp313t-win_amd64",),
            build="cp313t-win_amd64",
            build_platform=Platform("windows", "AMD64"),
        ),
    )


def test_cibuildwheel_expects_nothing_for_a_platform_without_identifiers(tmp_path: Path) -> None:
    config = cibw_config(tmp_path)
    respond = cibuildwheel(linux="cp311-manylinux_x86_64")
    expected = CibuildwheelBackend(config).expected_wheels(
        make_ctx(config, processes=FakeProcesses(respond=respond))
    )
    assert expected.for_platform("windows") == ()
    assert expected.source.endswith(
        "(linux (x86_64,aarch64): cp311-manylinux_x86_64; macos (x86_64,arm64): none; "
        "windows (AMD64,x86,ARM64): none)"
    )


def test_a_cpython_identifier_also_accepts_an_abi3_wheel() -> None:
    wheel = wheel_for_identifier("cp311-manylinux_x86_64", "linux")
    assert wheel.platform == "linux"
    assert wheel.patterns[0] == "cp311-cp311-manylinux*_x86_64"
    assert wheel.describe() == (
        "cp311-cp311-manylinux*_x86_64 (or cp3Y-abi3-manylinux*_x86_64, Y <= 11)"
    )
    assert wheel.matches(["cp311-cp311-manylinux_2_17_x86_64"])
    assert wheel.matches(["cp311-cp311-manylinux2014_x86_64"])
    assert wheel.matches(["cp39-abi3-manylinux_2_28_x86_64"])
    assert not wheel.matches(["cp312-abi3-manylinux_2_28_x86_64"])
    assert not wheel.matches(["cp312-cp312-manylinux_2_17_x86_64"])
    assert not wheel.matches(["cp311-cp311-musllinux_1_2_x86_64"])
    musl = wheel_for_identifier("cp312-musllinux_aarch64", "linux")
    assert musl.patterns[:2] == ("cp312-cp312-musllinux*_aarch64", "cp312-abi3-musllinux*_aarch64")
    assert musl.patterns[-1] == "cp32-abi3-musllinux*_aarch64"


@pytest.mark.parametrize(
    ("identifier", "patterns"),
    [
        # free-threaded: no abi3 alternative
        ("cp313t-manylinux_x86_64", ("cp313-cp313t-manylinux*_x86_64",)),
        ("pp310-win_amd64", ("pp310-*-win_amd64",)),
        ("xx1-linux_riscv64", ("*-*-linux_riscv64",)),
    ],
)
def test_wheel_for_identifier(identifier: str, patterns: tuple[str, ...]) -> None:
    assert wheel_for_identifier(identifier, "linux").patterns == patterns


def test_an_unknown_identifier_is_named_as_it_is() -> None:
    wheel = wheel_for_identifier("xx1-linux_riscv64", "linux")
    assert wheel.patterns == ("*-*-linux_riscv64",)
    assert wheel.describe() == "xx1-linux_riscv64"


def test_real_cibuildwheel_lists_the_cvec_identifiers(venv_tools: None) -> None:
    config = load_config(ROOT / "examples" / "cvec")
    ctx = real_ctx(config)
    assert build_identifiers(ctx.config, ctx.runner, "linux") == [
        "cp311-manylinux_x86_64", "cp311-manylinux_aarch64",
        "cp311-musllinux_x86_64", "cp311-musllinux_aarch64",
    ]  # fmt: skip
    assert build_identifiers(ctx.config, ctx.runner, "windows") == [
        "cp311-win_amd64", "cp311-win_arm64"
    ]  # fmt: skip
    # cvec ships Windows wheels: not building them here is a skip, not a choice
    blocker = CibuildwheelBackend(config).unavailable("windows", ctx)
    assert blocker is not None
    assert blocker.status == SKIPPED


def test_real_cibuildwheel_selectors_without_windows(tmp_path: Path, venv_tools: None) -> None:
    package = SETUPTOOLS_PACKAGE + '\n[tool.cibuildwheel]\nbuild = ["cp311-manylinux_x86_64"]\n'
    config = make_config(tmp_path, "", package)
    blocker = CibuildwheelBackend(config).unavailable("windows", real_ctx(config))
    assert blocker is not None
    assert blocker.status == NOT_SHIPPED


# --- build ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "package",
    [SETUPTOOLS_PACKAGE, MATURIN_PACKAGE, CIBUILDWHEEL_PACKAGE],
    ids=["build", "maturin", "cibuildwheel"],
)
def test_windows_eq_empty_list_is_not_shipped_whatever_the_backend(
    tmp_path: Path, package: str
) -> None:
    config = make_config(
        tmp_path, '[tool.release.wheels]\nlinux = ["py3-none-any"]\nwindows = []\n', package
    )
    ctx = make_ctx(config)
    record = StageRecord("build-windows")
    build_windows(ctx, record)
    assert record.status == NOT_SHIPPED
    assert record.reason is not None and "windows = []" in record.reason
    # Nothing was asked or run: the configuration alone decides.
    assert calls(ctx) == []


def test_build_backend_cannot_build_for_another_os(tmp_path: Path) -> None:
    config = make_config(tmp_path, "", SETUPTOOLS_PACKAGE)
    blocker = BuildBackend(config).unavailable("windows", make_ctx(config))
    assert blocker is not None
    assert "this host is linux" in blocker.reason
    assert "windows runner" in blocker.remedy
    assert not blocker.intentional
    assert blocker.status == SKIPPED
    assert str(blocker) == f"{blocker.reason} What would change this: {blocker.remedy}"


def test_build_backend_pure_wheel_is_not_repaired(tmp_path: Path) -> None:
    def respond(call: Call) -> Reply:
        if "--outdir" in call.args:
            (Path(value_after(call.args, "--outdir")) / "demo-1.0-py3-none-any.whl").write_bytes(
                b"PK"
            )
        return ""

    config = make_config(tmp_path, "", SETUPTOOLS_PACKAGE)
    ctx = make_ctx(config, processes=FakeProcesses(respond=respond))
    out = tmp_path / "out"
    out.mkdir()
    assert BuildBackend(config).build_wheels("linux", ctx, out).status == OK
    [build] = calls(ctx)
    assert build.argv == (
        sys.executable,
        "-m",
        "build",
        "--wheel",
        "--outdir",
        str(out / "raw"),
        str(config.package_dir),
    )
    assert build.cwd == config.package_dir
    assert (out / "demo-1.0-py3-none-any.whl").is_file()


def test_build_backend_linux_wheel_that_cannot_be_repaired(tmp_path: Path) -> None:
    wheel = f"demo-1.0-cp311-cp311-linux_{machine()}.whl"

    def respond(call: Call) -> Reply:
        if "--outdir" in call.args:
            (Path(value_after(call.args, "--outdir")) / wheel).write_bytes(b"PK")
            return ""
        return ("auditwheel: error: cannot repair to too-recent versioned symbols", 1)

    config = make_config(tmp_path, "", SETUPTOOLS_PACKAGE)
    ctx = make_ctx(config, processes=FakeProcesses(respond=respond))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CommandFailedError) as info:
        BuildBackend(config).build_wheels("linux", ctx, out)
    policy = f"manylinux_2_17_{machine()}"
    assert (
        info.value.cause == f"auditwheel exited with status 1 while repairing {wheel} to {policy}."
    )
    assert info.value.remedy.startswith(f"the wheel cannot meet {policy} as built on this host")
    assert info.value.argv[:2] == ["auditwheel", "repair"]
    assert [call.tool for call in calls(ctx)] == [sys.executable, "auditwheel"]


def test_build_backend_expects_only_what_the_configuration_lists(tmp_path: Path) -> None:
    config = make_config(tmp_path, "", SETUPTOOLS_PACKAGE)
    ctx = make_ctx(config)
    assert BuildBackend(config).expected_wheels(ctx) is None
    assert calls(ctx) == []


@pytest.mark.parametrize(
    ("backend", "kind"),
    [("maturin", MaturinBackend), ("cibuildwheel", CibuildwheelBackend), ("build", BuildBackend)],
)
def test_backend_for(backend: str, kind: type, tmp_path: Path) -> None:
    config = make_config(tmp_path, f'backend = "{backend}"\n')
    chosen = backend_for(config)
    assert isinstance(chosen, kind)
    assert chosen.name == backend
