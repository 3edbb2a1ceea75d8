"""A failed build names what is missing: the failure signatures of the tools builds run.

The real tools fail here where they can (gcc linking a library that is not there,
pkg-config asked for a module that is not there, a shell that finds no m4 or cmake); the
messages of tools that cannot fail here on demand (GMP's configure, the cmake and cc crates,
rustc) are the lines they print, quoted from their sources.
"""

from __future__ import annotations

import io
import platform
import shutil
import sys
from pathlib import Path

import pytest
from wheel_factory import write_wheel

from release.console import Console
from release.diagnose import diagnose
from release.errors import CommandFailedError
from release.runner import Runner

GENERIC = "read the output above"


def failure(*tail: str) -> CommandFailedError:
    return CommandFailedError(
        "cargo exited with status 101 while building the wheel.", GENERIC, ["cargo"], 101,
        list(tail),
    )  # fmt: skip


def runner() -> Runner:
    return Runner(Console(github=False, stream=io.StringIO(), environ={}))


@pytest.mark.parametrize(("line", "named", "package"), [
    # gmp-mpfr-sys running GMP's configure
    ("configure: error: No usable m4 in $PATH or /usr/5bin (see config.log for reasons).",
     "the m4 macro processor (GMP's configure needs it)", "m4"),
    # the cmake crate
    ("is `cmake` not installed?", "CMake", "cmake"),
    # the cc crate
    ('error occurred in cc-rs: failed to find tool "cc": No such file or directory (os error 2)',
     "a C compiler", "gcc"),
    # rustc
    ("error: linker `cc` not found", "a C compiler", "gcc"),
    # autoconf
    ("configure: error: no acceptable C compiler found in $PATH", "a C compiler", "gcc"),
    # the pkg-config crate
    ("The pkg-config command could not be found.", "pkg-config", "pkg-config"),
])  # fmt: skip
def test_a_missing_tool_is_named_with_the_key_that_installs_it(
    line: str, named: str, package: str
) -> None:
    error = diagnose(failure("   Compiling gmp-mpfr-sys v1.6.4", line), [line])
    assert isinstance(error, CommandFailedError)
    assert f"the build needs {named}, which is not installed" in error.cause
    assert error.cause.startswith("cargo exited with status 101 while building the wheel")
    assert f'[tool.release.linux] apt-packages = ["{package}"]' in error.remedy
    assert "msys2-packages" in error.remedy
    assert error.argv == ["cargo"] and error.returncode == 101  # the failure itself kept


def test_unrecognised_output_keeps_the_failure_as_it_was() -> None:
    original = failure("error[E0308]: mismatched types")
    assert diagnose(original, original.tail) is original


def test_a_library_gcc_cannot_find_is_named(tmp_path: Path) -> None:
    source = tmp_path / "ext.c"
    source.write_text("int main(void) { return 0; }\n")
    with pytest.raises(CommandFailedError) as info:
        runner().run(
            ["gcc", str(source), "-o", str(tmp_path / "ext"), "-lnoxreleaseabsent"],
            why="linking the extension",
        )
    assert "links the library libnoxreleaseabsent (-lnoxreleaseabsent)" in info.value.cause
    assert "libnoxreleaseabsent-dev" in info.value.remedy
    assert "[tool.release.linux] apt-packages" in info.value.remedy


def test_a_pkg_config_module_that_is_not_there_is_named() -> None:
    with pytest.raises(CommandFailedError) as info:
        runner().run(["pkg-config", "--libs", "noxreleaseabsent"], why="asking for the flags")
    assert "the pkg-config module noxreleaseabsent (a -dev package)" in info.value.cause
    assert "apt-cache search noxreleaseabsent" in info.value.remedy


@pytest.mark.parametrize(
    ("tool", "named"),
    [("m4", "the m4 macro processor (GMP's configure needs it)"), ("cmake", "CMake")],
)
def test_a_tool_the_shell_does_not_find_is_named(tool: str, named: str, tmp_path: Path) -> None:
    sh = shutil.which("sh")
    assert sh is not None
    with pytest.raises(CommandFailedError) as info:
        runner().run(
            [sh, "-c", f"{tool} --version"],
            env={"PATH": str(tmp_path)},  # where neither is
            why=f"running {tool}",
        )
    assert f"the build needs {named}, which is not installed" in info.value.cause


def test_a_wheel_newer_than_its_floor_is_said_to_be_the_hosts_doing(tmp_path: Path) -> None:
    """A real extension, built here with gcc, that links pthread_key_create: on a host whose
    glibc is 2.34 or newer that symbol's version is GLIBC_2.34, and the real auditwheel
    refuses to repair the wheel to manylinux_2_17. The cause is the host, not the floor."""
    libc, version = platform.libc_ver()
    assert libc == "glibc"
    if tuple(map(int, version.split(".")[:2])) < (2, 34):
        pytest.skip(f"glibc {version} links pthread_key_create at a version 2.17 allows")
    source = tmp_path / "ext.c"
    source.write_text(
        "#include <pthread.h>\n"
        "static pthread_key_t key;\n"
        "int make_key(void) { return pthread_key_create(&key, 0); }\n"
    )
    library = tmp_path / "ext.so"
    runner().run(["gcc", "-shared", "-fPIC", str(source), "-o", str(library)], why="compiling")
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    (tmp_path / "raw").mkdir()
    wheel = write_wheel(
        tmp_path / "raw", "demo", "1.0", f"{tag}-{tag}-linux_x86_64",
        files={"demo/__init__.py": b"", "demo/ext.so": library.read_bytes()},
    )  # fmt: skip
    with pytest.raises(CommandFailedError) as info:
        runner().run(
            ["auditwheel", "repair", "--plat", "manylinux_2_17_x86_64", "--only-plat",
             "--wheel-dir", str(tmp_path / "out"), str(wheel)],
            why="repairing the wheel",
        )  # fmt: skip
    cause = info.value.cause
    assert (
        f"built on this host (glibc {version}), the wheel uses C library symbols newer "
        "than manylinux_2_17_x86_64 allows" in cause
    )
    assert "Docker or Podman" in info.value.remedy
    assert "Keep [tool.release.linux] manylinux" in info.value.remedy
    assert info.value.argv[:2] == ["auditwheel", "repair"]
