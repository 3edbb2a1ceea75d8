"""What a failed tool's output says the cause was, when it is a cause the user can name.

A build that fails deep inside cargo or CMake prints the reason somewhere in hundreds of
lines. The common causes are recognised in the tail the runner keeps, and the failure is
reported as what it is, with its own remedy: a full disk; a tool the build runs that is not
installed (m4 for GMP, cmake, a C compiler, pkg-config), a pkg-config module or a library
(``-lfoo``) it links, with the ``[tool.release]`` key that installs it; a PyO3 crate linked
for Windows without the import library of python3.dll, with the feature that makes it.
"""

from __future__ import annotations

import platform
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .errors import CommandFailedError, DiskFullError, ReleaseError

if TYPE_CHECKING:
    from .project.cargo import ImportLibFix

# cibuildwheel's Linux builds run in manylinux containers, which the host's packages never reach.
CONTAINERS = "; cibuildwheel's container builds: [tool.cibuildwheel.linux] before-all"

_DISK_FULL = re.compile(r"No space left on device|Disk quota exceeded|ENOSPC", re.IGNORECASE)

# (pattern, what is missing, Debian package, MSYS2 package): the signatures build tools print.
_MISSING = (
    (re.compile(r"No usable m4 in \$PATH|m4: (command )?not found|checking for m4\.\.\. no"),
     "the m4 macro processor (GMP's configure needs it)", "m4", "m4"),
    (re.compile(r"(?i)cmake: (command )?not found|Could not find CMAKE"
                r"|failed to execute command.*cmake|is `cmake` not installed\?"),
     "CMake", "cmake", "mingw-w64-x86_64-cmake"),
    (re.compile(r"(?i)no acceptable C compiler found|error: linker `cc` not found|"
                r"(cc|gcc): (command )?not found|failed to find tool \"c?c\""),
     "a C compiler", "gcc", "mingw-w64-x86_64-gcc"),
    (re.compile(r"pkg-config: (command )?not found|Could not run `\"?pkg-config|"
                r"The pkg-config command could not be found"),
     "pkg-config", "pkg-config", "mingw-w64-x86_64-pkgconf"),
)  # fmt: skip
_PKG_CONFIG_MODULE = re.compile(
    r"Package '?(?P<module>[\w.+-]+)'?,? (required by '[^']*', )?(was )?not found"
    r"|No package '(?P<module2>[\w.+-]+)' found"
)
# PyO3 without generate-import-lib, built for Windows where no Windows Python is: maturin
# (1.x) refuses ("Need a Python interpreter to compile for Windows without PyO3's
# `generate-import-lib` feature"); given an interpreter, the MinGW linker finds no
# libpython3 ("x86_64-w64-mingw32-ld: cannot find -lpython3"), MSVC's no python3.lib.
_NO_IMPORT_LIB = re.compile(
    r"(?:without|requires) PyO3's `generate-import-lib` feature"
    r"|cannot find -lpython3\d*(?![\w.])"
    r"|cannot open input file '?python3\d*\.lib"
)
# auditwheel repair, when the wheel links versioned glibc symbols newer than the floor.
_TOO_RECENT = re.compile(
    r'cannot repair .* to "(?P<policy>[\w]+)" ABI because of the presence of too-recent '
    r"versioned symbols"
)
_LINK_LIBRARY = re.compile(
    r"cannot find -l(?P<lib>[\w.+-]+)|library not found for -l(?P<lib2>[\w.+-]+)"
)


def diagnose(failure: CommandFailedError, tail: Sequence[str]) -> ReleaseError:
    """The error to raise for a failed command: ``failure`` itself unless the output names a
    cause of its own (then ``failure``'s argv and tail are kept on the new error)."""
    text = "\n".join(tail)
    for line in tail:
        if _DISK_FULL.search(line):
            return DiskFullError(
                f"{failure.cause.rstrip('.')}: the disk is full ({line.strip()[:200]}).",
                "free some space (df -h shows where), or build on a disk with room; "
                "no artifact was delivered half-written.",
            )
    for pattern, what, apt, msys2 in _MISSING:
        if pattern.search(text):
            return _named(
                failure,
                f"the build needs {what}, which is not installed",
                f'add it to [tool.release.linux] apt-packages = ["{apt}"] (installed by the '
                f"build in CI; on a laptop: apt-get install {apt}); for maturin on Windows to "
                f'[tool.release.windows] msys2-packages = ["{msys2}"]{CONTAINERS}.',
            )
    module = _PKG_CONFIG_MODULE.search(text)
    if module is not None:
        name = module["module"] or module["module2"]
        return _named(
            failure,
            f"the build needs the pkg-config module {name} (a -dev package), not installed",
            f"add its Debian -dev package (apt-cache search {name}) to [tool.release.linux] "
            "apt-packages; for maturin on Windows, its MSYS2 package to [tool.release.windows] "
            f"msys2-packages{CONTAINERS}.",
        )
    if names_missing_import_lib(tail):
        return _named(
            failure,
            "a Windows build links python3.dll through its import library, which PyO3 before "
            "0.29 makes only with its generate-import-lib feature (no Windows Python is here "
            "to take it from)",
            import_lib_remedy(None),
        )
    too_recent = _TOO_RECENT.search(text)
    if too_recent is not None:
        libc, version = platform.libc_ver()
        host = f"{libc} {version}" if libc else "its C library"
        return _named(
            failure,
            f"built on this host ({host}), the wheel uses C library symbols newer than "
            f"{too_recent['policy']} allows: the host's C library is newer than the floor, "
            "and what the code links (pthread, stat, ...) takes the host's symbol versions",
            "build where the floor's C library is: in its manylinux container (cibuildwheel "
            "builds there once Docker or Podman is installed), or in CI's build-linux. Keep "
            "[tool.release.linux] manylinux: it is what your users' systems need, not what "
            "this host has.",
        )
    library = _LINK_LIBRARY.search(text)
    if library is not None:
        name = library["lib"] or library["lib2"]
        return _named(
            failure,
            f"the build links the library lib{name} (-l{name}), which is not installed",
            f"add its -dev package (Debian: lib{name}-dev, often) to [tool.release.linux] "
            "apt-packages; for maturin on Windows, to msys2-packages "
            f"(mingw-w64-x86_64-{name}){CONTAINERS}.",
        )
    return failure


def import_lib_remedy(fix: ImportLibFix | None) -> str:
    """How to give PyO3 the import library: the exact line when the manifest was read."""
    add = fix.instruction() if fix is not None else (
        'add "generate-import-lib" to the features of the pyo3 dependency (of pyo3-ffi, if '
        'the crate uses it alone) in Cargo.toml: pyo3 = { version = "...", features = [..., '
        '"generate-import-lib"] }'
    )  # fmt: skip
    return (
        f"{add}; or move to PyO3 0.29 or later, which links python3.dll without one; or "
        "build the Windows wheel on a Windows runner: [tool.release.windows] target = "
        '"x86_64-pc-windows-msvc".'
    )


def names_missing_import_lib(tail: Sequence[str]) -> bool:
    """Whether a failed build's output is PyO3 missing the Windows import library."""
    return _NO_IMPORT_LIB.search("\n".join(tail)) is not None


def _named(failure: CommandFailedError, what: str, remedy: str) -> CommandFailedError:
    return CommandFailedError(
        f"{failure.cause.rstrip('.')}: {what}.", remedy, failure.argv, failure.returncode,
        failure.tail,
    )  # fmt: skip
