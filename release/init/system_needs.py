"""What a package's old workflows and its Cargo.lock say it needs from the system: apt and
MSYS2 packages, the manylinux floor and whether Windows builds need MSYS2 (MinGW).

Read as text: the workflows are YAML, but what matters here is a few lines of it (install
commands, msys2/setup-msys2's ``install:``, maturin-action's ``manylinux:``), and the project
depends on no YAML parser for them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..project.toml import read_toml

# Well-known -sys crates and what building them takes. ``msys2`` is what the Windows build
# links from MSYS2, which only a MinGW target can use: a crate with it makes the target MinGW.
# gmp-mpfr-sys builds GMP from source (m4 on Linux) and links MSYS2's GMP on Windows;
# openssl-sys links the system OpenSSL it finds with pkg-config.
SYS_CRATES: dict[str, dict[str, tuple[str, ...]]] = {
    "gmp-mpfr-sys": {"apt": ("m4",), "msys2": ("mingw-w64-x86_64-gmp",)},
    "openssl-sys": {"apt": ("libssl-dev", "pkg-config"), "msys2": ()},
    "libsqlite3-sys": {"apt": ("libsqlite3-dev",), "msys2": ()},
    "hdf5-sys": {"apt": ("libhdf5-dev",), "msys2": ("mingw-w64-x86_64-hdf5",)},
}

# manylinux images are RHEL-like (yum/dnf); the host build runs on Debian/Ubuntu (apt).
YUM_TO_APT: dict[str, str] = {
    "gmp-devel": "libgmp-dev",
    "mpfr-devel": "libmpfr-dev",
    "libmpc-devel": "libmpc-dev",
    "openssl-devel": "libssl-dev",
    "zlib-devel": "zlib1g-dev",
    "bzip2-devel": "libbz2-dev",
    "xz-devel": "liblzma-dev",
    "libffi-devel": "libffi-dev",
    "sqlite-devel": "libsqlite3-dev",
    "hdf5-devel": "libhdf5-dev",
    "pkgconfig": "pkg-config",
    "gcc-c++": "g++",
}

# A workflow that builds the package's wheels (rather than testing, linting, publishing docs).
_BUILDS = ("maturin-action", "cibuildwheel", "setup-msys2", "maturin build", "python -m build",
           "pip wheel", "CIBW_")  # fmt: skip
_INSTALL = re.compile(
    r"\b(?P<tool>apt-get|apt|yum|dnf|microdnf)\s+(?:-\S+\s+)*install\b(?P<args>[^\n;&|#]*)"
)
_MANYLINUX = re.compile(
    r"""(?:^\s*manylinux|CIBW_MANYLINUX_X86_64_IMAGE)\s*:\s*["']?(?:quay\.io/pypa/)?"""
    r"""(?P<floor>manylinux[_]?(?:2014|2010|1|2_\d+)|2014|2010|2_\d+)(?![\d.])""",
    re.MULTILINE,
)


@dataclass(frozen=True)
class SystemNeeds:
    apt: tuple[str, ...]
    msys2: tuple[str, ...]
    needs_msys2: bool  # the Windows build links MSYS2 libraries: MinGW, not MSVC
    apt_why: tuple[str, ...]  # where each apt need was read, for the config's comments
    msys2_why: tuple[str, ...]  # where the MSYS2 need was read
    manylinux: str | None  # the floor the old workflow builds for
    manylinux_why: str
    windows_workflow: str | None = None  # a workflow that builds Windows wheels today


def building_workflows(root: Path) -> list[tuple[Path, str]]:
    directory = root / ".github" / "workflows"
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.y*ml")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if any(marker in text for marker in _BUILDS):
            found.append((path, text))
    return found


def _apt_name(tool: str, name: str) -> str:
    if tool in ("apt", "apt-get"):
        return name
    if name in YUM_TO_APT:
        return YUM_TO_APT[name]
    if name.endswith("-devel"):
        base = name.removesuffix("-devel")
        return f"{base}-dev" if base.startswith("lib") else f"lib{base}-dev"
    return name


def _packages(args: str) -> list[str]:
    return [a for a in args.split() if not a.startswith(("-", "$", "\\")) and "=" not in a]


def _installs(text: str) -> tuple[list[str], list[str]]:
    """The packages ``text``'s install commands name, as Debian names, and as shown (a yum
    name with its Debian one)."""
    installs = [(m["tool"], p) for m in _INSTALL.finditer(text) for p in _packages(m["args"])]
    debian = [_apt_name(tool, name) for tool, name in installs]
    named = [name if apt == name else f"{name} ({apt})"
             for (_, name), apt in zip(installs, debian)]  # fmt: skip
    return debian, list(dict.fromkeys(named))


def msys2_installs(text: str) -> list[str]:
    """The ``install:`` of each msys2/setup-msys2 step (one line, or a block)."""
    lines = text.splitlines()
    found: list[str] = []
    for at, line in enumerate(lines):
        if "msys2/setup-msys2" not in line:
            continue
        step_indent = len(line) - len(line.lstrip(" -"))
        for inner_at in range(at + 1, len(lines)):
            inner = lines[inner_at]
            indent = len(inner) - len(inner.lstrip(" "))
            next_step = inner.lstrip().startswith("- ") and indent <= step_indent
            if inner.strip() and (indent < step_indent or next_step):
                break
            key, _, value = inner.strip().partition(":")
            if key != "install":
                continue
            value = value.strip()
            if value and value[0] not in "|>":
                found += value.strip("\"'").split()
                break
            for block in lines[inner_at + 1 :]:
                if block.strip() and len(block) - len(block.lstrip(" ")) <= indent:
                    break
                found += block.split()
            break
    return found


def cargo_lock_crates(root: Path, package_dir: Path) -> tuple[set[str], Path | None]:
    """The crate names in the Cargo.lock of the package (its dir or a workspace above)."""
    here = package_dir
    while True:
        lock = here / "Cargo.lock"
        if lock.is_file():
            try:
                data = read_toml(lock)
            except ConfigError:
                return set(), None
            packages = data.get("package", [])
            names = {p["name"] for p in packages if isinstance(p, dict) and "name" in p}
            return names, lock
        if here == root or root not in here.parents:
            return set(), None
        here = here.parent


def _cibuildwheel_before_all(package_dir: Path) -> list[tuple[str, str]]:
    """[tool.cibuildwheel] before-all commands (top level and .linux): what its manylinux
    containers install, which a build on the host needs from apt."""
    pyproject = package_dir / "pyproject.toml"
    try:
        tools = read_toml(pyproject).get("tool", {}) if pyproject.is_file() else {}
    except ConfigError:
        return []
    table = tools.get("cibuildwheel", {}) if isinstance(tools, dict) else {}
    found = []
    for key, scope in (("[tool.cibuildwheel]", table), ("[tool.cibuildwheel.linux]",
                                                        table.get("linux", {}))):  # fmt: skip
        command = scope.get("before-all") if isinstance(scope, dict) else None
        if isinstance(command, list):
            command = " && ".join(c for c in command if isinstance(c, str))
        if isinstance(command, str):
            found.append((f"{key} before-all", command))
    return found


def _sorted(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(names)))


def system_needs(root: Path, package_dir: Path) -> SystemNeeds:
    apt: list[str] = []
    msys2: list[str] = []
    apt_why: list[str] = []
    msys2_why: list[str] = []
    needs_msys2 = False
    floor, floor_why = None, ""
    windows_workflow = None
    for path, text in building_workflows(root):
        shown = path.relative_to(root).as_posix()
        if windows_workflow is None and re.search(r"windows-(?:latest|20\d\d)", text):
            windows_workflow = shown
        debian, named = _installs(text)
        if debian:
            apt += debian
            apt_why.append(f"{shown} installs {', '.join(named)}")
        from_msys2 = msys2_installs(text)
        if "msys2/setup-msys2" in text or "-windows-gnu" in text:
            needs_msys2 = True
            msys2 += from_msys2
            msys2_why.append(f"{shown} builds Windows wheels with MSYS2"
                       + (f" ({', '.join(from_msys2)})" if from_msys2 else ""))  # fmt: skip
        match = _MANYLINUX.search(text)
        if match and floor is None:
            floor = match["floor"].removeprefix("manylinux").lstrip("_")
            floor_why = f"{shown} builds for manylinux {match['floor']}"
    for where, command in _cibuildwheel_before_all(package_dir):
        debian, named = _installs(command)
        if debian:
            apt += debian
            apt_why.append(f"{where} installs {', '.join(named)}")
    crates, lock = cargo_lock_crates(root, package_dir)
    for crate in sorted(crates & SYS_CRATES.keys()):
        needs = SYS_CRATES[crate]
        apt += needs["apt"]
        msys2 += needs["msys2"]
        needs_msys2 = needs_msys2 or bool(needs["msys2"])
        shown_lock = lock.relative_to(root).as_posix() if lock else "Cargo.lock"
        if needs["apt"]:
            apt_why.append(f"{crate} in {shown_lock} needs {', '.join(needs['apt'])} on Linux")
        if needs["msys2"]:
            msys2_why.append(f"{crate} in {shown_lock} links MSYS2's {', '.join(needs['msys2'])}")
    return SystemNeeds(
        apt=_sorted(apt),
        msys2=_sorted(msys2),
        needs_msys2=needs_msys2,
        apt_why=tuple(apt_why),
        msys2_why=tuple(msys2_why),
        manylinux=floor,
        manylinux_why=floor_why,
        windows_workflow=windows_workflow,
    )
