"""What ``nox-release init`` reads from a repository instead of asking: where the package is,
its backend, whether an sdist can be built, its abi3 feature or cibuildwheel selectors, where
its version comes from, and the GitHub repository of the git remote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ..backends.maturin import cross_compiled_on_linux
from ..config import ReleaseConfig, ReleaseTable
from ..errors import AmbiguousPackageError, ConfigError, NoPackageError, PackageDirError
from ..fsio import directory_in_the_way
from ..project.cargo import ImportLibFix, abi3_python_tag, missing_import_lib
from ..project.pyproject import PackageInfo, read_package
from ..project.toml import read_toml
from ..project.version import project_version, version_from_tag
from ..runner import Runner
from .before_build import read_before_build
from .native import native_build
from .source_layout import cmake_reaches_outside, crate_reaches_outside
from .system_needs import building_workflows, system_needs

MSVC, MINGW = "x86_64-pc-windows-msvc", "x86_64-pc-windows-gnu"

# Where packages with native code keep their pyproject.toml, besides the root: a crate of a
# Cargo workspace (crates/foo-python) and the bindings of a C/C++ library (bindings/python).
LAYOUTS = ("crates/*/pyproject.toml", "bindings/*/pyproject.toml")

_GITHUB_REMOTE = re.compile(
    r"github\.com[:/](?P<owner>[\w.-]+)/(?P<repository>[\w.-]+?)(?:\.git)?/?$"
)


@dataclass(frozen=True)
class Detected:
    """The facts the configuration is written from, each with where it was read."""

    package_dir: str  # relative to the root, "." for the root itself
    name: str | None
    backend: str
    backend_why: str
    sdist: bool
    sdist_why: str | None  # why not, when False
    version: str | None
    version_why: str
    wheels_why: str  # what decides the wheel set (abi3, cibuildwheel selectors)
    github: tuple[str, str] | None  # (owner, repository) of the git remote
    apt_packages: tuple[str, ...] = ()
    msys2_packages: tuple[str, ...] = ()
    packages_why: tuple[str, ...] = ()  # where each apt package need was read
    windows_target: str | None = None  # maturin only
    windows_why: str = ""
    manylinux: str | None = None  # the floor the old workflow builds for, when it says
    manylinux_why: str = ""
    before_build: tuple[str, ...] = ()  # the commands the project runs before building
    before_build_why: str = ""
    before_build_left_out: tuple[str, ...] = ()  # what only a shell can run, not carried
    before_build_cibuildwheel: bool = False  # some come from [tool.cibuildwheel] before-build
    # A MinGW target that Linux cross-compiles, and a PyO3 that cannot link it there yet.
    import_lib: ImportLibFix | None = None


def is_package(pyproject: Path) -> bool:
    """A pyproject.toml that builds something ([project] or [build-system]), not one that
    only holds tool settings."""
    try:
        data = read_toml(pyproject)
    except ConfigError:
        return True  # broken, but a package's: reading it later says what is wrong
    return "project" in data or "build-system" in data


def candidates(root: Path) -> list[str]:
    """The package dirs under ``root`` (relative, "." for the root), in a stable order."""
    found = (
        ["."] if (root / "pyproject.toml").is_file() and is_package(root / "pyproject.toml") else []
    )
    for pattern in LAYOUTS:
        found += [p.parent.relative_to(root).as_posix() for p in sorted(root.glob(pattern))
                  if is_package(p)]  # fmt: skip
    return found


def require_root_pyproject(root: Path) -> None:
    """init writes [tool.release] into the root pyproject.toml: one that is a directory, or
    that cannot be read, stops it first, named for what it is (not as packages found)."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_dir():
        raise directory_in_the_way(pyproject, "writing pyproject.toml", dist_options=False)
    if not pyproject.is_file():
        return
    try:
        read_toml(pyproject)
    except ConfigError as exc:
        raise type(exc)(
            f"{exc.cause.rstrip('.')}; init adds [tool.release] to it.",
            f"{exc.remedy.rstrip('.')} in {pyproject}, then run init again.",
        ) from None


def choose_package_dir(root: Path, given: str | None) -> str:
    require_root_pyproject(root)
    if given is not None:
        path = (root / given).resolve()
        if path != root and root not in path.parents:
            raise PackageDirError(
                f"--package-dir {given} is outside the repository root {root}.",
                "run init at the root of the repository that holds the package.",
            )
        if not (path / "pyproject.toml").is_file():
            raise PackageDirError(
                f"--package-dir {given} has no pyproject.toml ({path}).",
                "point it at the directory of the package's pyproject.toml, relative to the "
                "repository root.",
            )
        return path.relative_to(root).as_posix() or "."
    found = candidates(root)
    if not found:
        raise NoPackageError(
            f"no Python package found in {root}: no pyproject.toml with [project] or "
            f"[build-system] at the root, in crates/*/ or in bindings/*/.",
            "run init at the repository root, or name the package's directory with "
            "--package-dir DIR.",
        )
    if len(found) > 1:
        listed = "\n".join(f"  --package-dir {d}" for d in found)
        raise AmbiguousPackageError(
            f"{len(found)} packages found in {root}; init configures one:\n{listed}",
            "run init again with --package-dir and the one to release.",
        )
    return found[0]


def _git_says(runner: Runner, root: Path, *args: str, why: str) -> str:
    """What a read-only git command prints in ``root``; "" without git or on failure."""
    if runner.which("git") is None:
        return ""
    result = runner.run(
        ["git", "-C", str(root), *args], check=False, quiet=True, record=False, why=why
    )
    return result.output.strip() if result.returncode == 0 else ""


def latest_tag_version(runner: Runner, root: Path) -> tuple[str, str] | None:
    """The version of the newest tag reachable from HEAD, as a plugin that versions from the
    tag (setuptools-scm, hatch-vcs) builds it on that tag."""
    tag = _git_says(runner, root, "describe", "--tags", "--abbrev=0", why="reading the latest tag")
    candidate = tag.removeprefix("v").removeprefix("V")
    try:
        return str(Version(candidate)), tag
    except InvalidVersion:
        return None


def github_repository(runner: Runner, root: Path) -> tuple[str, str] | None:
    """(owner, repository) of the ``origin`` remote when it is on github.com."""
    url = _git_says(runner, root, "remote", "get-url", "origin", why="reading the git remote")
    match = _GITHUB_REMOTE.search(url)
    return (match["owner"], match["repository"]) if match else None


def _sdist(
    backend: str, root: Path, package_dir: Path, shown: str, package: PackageInfo
) -> tuple[bool, str | None]:
    """Whether an sdist of the package dir holds what its build reads (source_layout.py says
    what each backend packs); no sdist, with the reason, when it cannot."""
    lost = ", so the wheels are built from the checkout"
    cmake_table = package.tool("scikit-build").get("cmake")
    source_dir = cmake_table.get("source-dir") if isinstance(cmake_table, dict) else None
    source_dir = source_dir or package.tool("scikit-build").get("cmake.source-dir")
    cmake_dir = package_dir
    if isinstance(source_dir, str):
        resolved = (package_dir / source_dir).resolve()
        if resolved != package_dir and package_dir not in resolved.parents:
            return False, (
                f'cmake.source-dir = "{source_dir}" in [tool.scikit-build] builds from '
                f"outside {shown}: an sdist of {shown} would not contain those sources, and "
                f"no sdist.include reaches above it{lost}"
            )
        cmake_dir = resolved
    if backend == "maturin":
        manifest = package.tool("maturin").get("manifest-path")
        crate = package_dir / manifest if isinstance(manifest, str) else package_dir / "Cargo.toml"
        outside = crate_reaches_outside(crate.resolve(), root)
        if outside is not None:
            return False, f"{outside}{lost}"
        return True, None
    outside = cmake_reaches_outside(cmake_dir, package_dir, root)
    if outside is not None:
        return False, (
            f"{outside}: an sdist of {shown} would not contain it, and no sdist.include "
            f"reaches above it{lost}"
        )
    return True, None


def _wheels_why(config: ReleaseConfig, native_why: str) -> str:
    if config.backend == "maturin":
        tag, why = abi3_python_tag(config)
        if tag is None:
            return f"one wheel per Python version and platform ({why})"
        return f"one {tag}-abi3 wheel per platform ({why})"
    if config.backend == "cibuildwheel":
        return native_why
    return "the wheels python -m build makes"


def _chosen_backend(root: Path) -> str | None:
    """A backend the root's [tool.release] names already: the answer init asks for when it
    cannot tell whether the package compiles."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    tool = read_toml(pyproject).get("tool", {})
    release = tool.get("release", {}) if isinstance(tool, dict) else {}
    backend = release.get("backend") if isinstance(release, dict) else None
    return backend if backend in ("maturin", "cibuildwheel", "build") else None


def detect(root: Path, package_dir: str, runner: Runner) -> Detected:
    path = (root / package_dir).resolve()
    package = read_package(path)
    pyproject = "pyproject.toml" if package_dir == "." else f"{package_dir}/pyproject.toml"
    workflows = building_workflows(root)
    native = native_build(package, path, pyproject, workflows, _chosen_backend(root))
    backend, backend_why = native.backend, native.why
    needs = system_needs(root, path)
    if backend == "maturin" and needs.needs_msys2:
        windows_target: str | None = MINGW
        windows_why = "the Windows build needs MSYS2's libraries: " + "; ".join(needs.msys2_why)
    elif backend == "maturin" and needs.windows_workflow is not None:
        windows_target = MSVC
        windows_why = (
            f"{needs.windows_workflow} ships MSVC wheels from a Windows runner, and no MSYS2 "
            "library is needed"
        )
    elif backend == "maturin":
        # No Windows wheel shipped yet, so none changes: MinGW lets the dry run build it here.
        windows_target, windows_why = MINGW, ""
    else:
        windows_target, windows_why = None, ""
    sdist, sdist_why = _sdist(backend, root, path, package_dir, package)
    config = ReleaseConfig(
        project_root=root, pyproject=root / "pyproject.toml", package_dir=path, package=package,
        backend=backend, backend_inferred=False,
        table=ReleaseTable(package_dir=package_dir, backend=backend, sdist=sdist),
    )  # fmt: skip
    msys2 = needs.msys2 if backend == "maturin" else ()
    cross = windows_target is not None and cross_compiled_on_linux(windows_target, msys2)
    import_lib = missing_import_lib(config) if cross else None
    version, version_why = project_version(config)
    from_tag = None
    if version is None and version_from_tag(config) is not None:
        from_tag = latest_tag_version(runner, root)
    if from_tag is not None:
        version, version_why = Version(from_tag[0]), f"{version_why} (now {from_tag[1]})"
    before_build = read_before_build(root, package, package_dir)
    return Detected(
        package_dir=package_dir,
        name=package.name,
        backend=backend,
        backend_why=backend_why,
        sdist=sdist,
        sdist_why=sdist_why,
        version=str(version) if version is not None else None,
        version_why=version_why,
        wheels_why=_wheels_why(config, native.wheels_why),
        github=github_repository(runner, root),
        apt_packages=needs.apt,
        msys2_packages=msys2,
        packages_why=needs.apt_why,
        windows_target=windows_target,
        windows_why=windows_why,
        manylinux=needs.manylinux,
        manylinux_why=needs.manylinux_why,
        before_build=before_build.commands,
        before_build_why=before_build.why,
        before_build_left_out=before_build.left_out,
        before_build_cibuildwheel=before_build.cibuildwheel_too,
        import_lib=import_lib,
    )
