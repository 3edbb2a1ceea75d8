"""``[tool.release]`` loading: every error, backend inference, defaults, and the CLI's report."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from release import errors
from release.config import ReleaseConfig, load_config
from release.errors import (
    ConfigError,
    ConfigTypeError,
    ConfigValueError,
    InvalidTomlError,
    NoPyprojectError,
    NoReleaseTableError,
    PackageDirError,
    ReleaseError,
    UnknownBackendError,
    UnknownKeyError,
)

ROOT = Path(__file__).resolve().parent.parent

PACKAGE = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "1.0"
"""


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def single(release_toml: str) -> dict[str, str | bytes]:
    """A project whose root is also the package."""
    return {"pyproject.toml": PACKAGE + "\n" + release_toml}


@dataclass(frozen=True)
class ErrorCase:
    id: str
    files: dict[str, str | bytes]
    error: type[ConfigError]
    in_cause: tuple[str, ...]  # "{pyproject}" stands for the root pyproject.toml's path
    in_remedy: tuple[str, ...] = ()


ERROR_CASES = [
    ErrorCase(
        "no-pyproject", {"README.md": "nothing here\n"}, NoPyprojectError, ("no pyproject.toml in",)
    ),
    ErrorCase(
        "no-release-table",
        {"pyproject.toml": PACKAGE},
        NoReleaseTableError,
        ("{pyproject}", "[tool.release]"),
    ),
    ErrorCase(
        "unknown-top-level-key",
        single('[tool.release]\ndist_dir = "out"\n'),
        UnknownKeyError,
        ("'dist_dir'", "[tool.release]", "{pyproject}"),
        ("did you mean 'dist-dir'",),
    ),
    ErrorCase(
        "unknown-subtable-key",
        single('[tool.release.linux]\nmanylinx = "2014"\n'),
        UnknownKeyError,
        ("'manylinx'", "[tool.release.linux]", "{pyproject}"),
        ("did you mean 'manylinux'",),
    ),
    ErrorCase(
        "unknown-subtable",
        single('[tool.release.android]\ntarget = "x"\n'),
        UnknownKeyError,
        ("'android'", "[tool.release]"),
    ),
    ErrorCase(
        "wheels-key-typo",
        single('[tool.release.wheels]\nmacso = ["cp39-abi3-macosx_11_0_arm64"]\n'),
        UnknownKeyError,
        ("'macso'", "[tool.release.wheels]", "{pyproject}"),
        ("did you mean 'macos'", "linux, macos, windows"),
    ),
    ErrorCase(
        "macos-wheel-of-another-platform",
        single('[tool.release.wheels]\nmacos = ["cp39-abi3-win_arm64"]\n'),
        ConfigValueError,
        ("[tool.release.wheels] macos entry", "platform 'win_arm64' is not a macos platform tag"),
        ("cp39-abi3-macosx_11_0_arm64",),
    ),
    ErrorCase(
        "sdist-string",
        single('[tool.release]\nsdist = "yes"\n'),
        ConfigTypeError,
        ("sdist", "{pyproject}", "a boolean", "got a string"),
    ),
    ErrorCase(
        "manylinux-integer",
        single("[tool.release.linux]\nmanylinux = 2014\n"),
        ConfigTypeError,
        ("[tool.release.linux] manylinux", "{pyproject}", "a string", "an integer (2014)"),
    ),
    ErrorCase(
        "msys2-packages-string",
        single('[tool.release.windows]\nmsys2-packages = "x"\n'),
        ConfigTypeError,
        ("msys2-packages", "{pyproject}", "a list of strings", "got a string"),
    ),
    ErrorCase(
        "list-with-non-string",
        single('[tool.release.windows]\nallow-dlls = ["a.dll", 1]\n'),
        ConfigTypeError,
        ("allow-dlls", "{pyproject}", "a list of strings", "holding an integer (1)"),
    ),
    ErrorCase(
        "manylinux-list",
        single('[tool.release.linux]\nmanylinux = ["2014"]\n'),
        ConfigTypeError,
        ("manylinux", "a string", "got a list"),
    ),
    ErrorCase(
        "subtable-not-a-table",
        single('[tool.release]\nlinux = "2014"\n'),
        ConfigTypeError,
        ("linux", "{pyproject}", "must be a table"),
    ),
    ErrorCase(
        "release-not-a-table",
        single('[tool]\nrelease = "yes"\n'),
        ConfigTypeError,
        ("tool.release", "{pyproject}", "must be a table"),
    ),
    ErrorCase(
        "package-dir-missing",
        single('[tool.release]\npackage-dir = "nowhere"\n'),
        PackageDirError,
        ("'nowhere'", "{pyproject}", "does not exist"),
    ),
    ErrorCase(
        "package-dir-without-pyproject",
        {**single('[tool.release]\npackage-dir = "pkg"\n'), "pkg/setup.py": ""},
        PackageDirError,
        ("'pkg'", "has no pyproject.toml"),
    ),
    ErrorCase(
        "unknown-backend",
        single('[tool.release]\nbackend = "maturn"\n'),
        UnknownBackendError,
        ("'maturn'", "{pyproject}"),
        ("did you mean 'maturin'",),
    ),
    ErrorCase(
        "bad-manylinux",
        single('[tool.release.linux]\nmanylinux = "abc"\n'),
        ConfigValueError,
        ("manylinux = 'abc'",),
        ('"2014"', '"2_28"'),
    ),
    ErrorCase(
        "tag-pattern-without-version",
        single('[tool.release]\ntag-pattern = "release"\n'),
        ConfigValueError,
        ("tag-pattern 'release'", "{version}", "{pyproject}"),
    ),
    ErrorCase(
        "before-build-shell-line",
        single('[tool.release]\nbefore-build = "make cython && make docs"\n'),
        ConfigValueError,
        ("[tool.release] before-build", "{pyproject}", "'&'", "without a shell"),
        ("several commands are a list", "script"),
    ),
    ErrorCase(
        "before-build-variable-in-platform-table",
        single('[tool.release.windows]\nbefore-build = ["python gen.py --out $OUT"]\n'),
        ConfigValueError,
        ("[tool.release.windows] before-build", "'$'"),
    ),
    ErrorCase(
        "before-build-backslash",
        single('[tool.release]\nbefore-build = ["tools\\\\gen.bat"]\n'),
        ConfigValueError,
        ("before-build", "backslash"),
        ("write paths with /",),
    ),
    ErrorCase(
        "before-build-empty-command",
        single('[tool.release.linux]\nbefore-build = ["make cython", " "]\n'),
        ConfigValueError,
        ("[tool.release.linux] before-build", "empty command"),
    ),
    ErrorCase(
        "before-build-not-a-command",
        single('[tool.release]\nbefore-build = [["make", "cython"]]\n'),
        ConfigTypeError,
        ("before-build", "a string or a list of strings"),
    ),
    ErrorCase(
        "invalid-toml",
        single("[tool.release\nsdist = true\n"),
        InvalidTomlError,
        ("{pyproject}", "not valid TOML"),
    ),
    ErrorCase(
        "not-utf8",
        {"pyproject.toml": b'[tool.release]\ntag-pattern = "v\xff{version}"\n'},
        InvalidTomlError,
        ("{pyproject}", "not UTF-8"),
    ),
    ErrorCase(
        "invalid-toml-in-package",
        {
            "pyproject.toml": '[tool.release]\npackage-dir = "pkg"\n',
            "pkg/pyproject.toml": "[project\n",
        },
        InvalidTomlError,
        ("pkg", "not valid TOML"),
    ),
]


def expected(text: str, project: Path) -> str:
    return text.replace("{pyproject}", str(project.resolve() / "pyproject.toml"))


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda case: case.id)
def test_config_error(case: ErrorCase, tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", case.files)
    with pytest.raises(ReleaseError) as info:
        load_config(project)
    error = info.value
    assert type(error) is case.error
    assert error.exit_code == case.error.exit_code
    for text in case.in_cause:
        assert expected(text, project) in error.cause
    for text in case.in_remedy:
        assert text in error.remedy
    assert error.remedy


def test_missing_project_directory(tmp_path: Path) -> None:
    with pytest.raises(NoPyprojectError, match="does not exist"):
        load_config(tmp_path / "absent")


def _all_error_classes(base: type[ReleaseError]) -> list[type[ReleaseError]]:
    found = []
    for sub in base.__subclasses__():
        found.append(sub)
        found.extend(_all_error_classes(sub))
    return found


def test_every_error_class_has_its_own_exit_code() -> None:
    import release.pipeline  # noqa: F401 - defines InternalError

    classes: list[type[ReleaseError]] = [ReleaseError, *_all_error_classes(ReleaseError)]
    codes = [cls.exit_code for cls in classes]
    assert len(set(codes)) == len(codes), {cls.__name__: cls.exit_code for cls in classes}
    config_classes = {case.error for case in ERROR_CASES}
    assert all(10 <= cls.exit_code < 20 for cls in config_classes)
    assert errors.ConfigError.exit_code == 10


# --- what a valid configuration becomes ---------------------------------------------------


def load(tmp_path: Path, files: dict[str, str | bytes]) -> ReleaseConfig:
    return load_config(write_files(tmp_path / "project", files))


def test_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, single("[tool.release]\n"))
    root = (tmp_path / "project").resolve()
    assert config.project_root == root
    assert config.package_dir == root
    assert config.dist_dir == root / "dist"
    assert config.sdist is True
    assert config.tag_pattern == "v{version}"
    assert config.prereleases is False
    assert config.linux.manylinux == "2014"
    assert config.linux.glibc == (2, 17)
    assert config.linux.policy == "manylinux_2_17"
    assert config.windows.target is None
    assert config.windows.msys2_packages == ()
    assert config.wheels is None
    assert config.publish.repository == "pypi"
    assert config.package.name == "demo"
    assert config.package.version == "1.0"


@pytest.mark.parametrize(
    ("value", "glibc"),
    [
        ("2014", (2, 17)),
        ("manylinux2014", (2, 17)),
        ("2010", (2, 12)),
        ("2_28", (2, 28)),
        ("manylinux_2_34", (2, 34)),
    ],
)
def test_manylinux_forms(value: str, glibc: tuple[int, int], tmp_path: Path) -> None:
    config = load(tmp_path, single(f'[tool.release.linux]\nmanylinux = "{value}"\n'))
    assert config.linux.glibc == glibc
    assert config.linux.policy == f"manylinux_{glibc[0]}_{glibc[1]}"


def test_every_key_is_read(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        single(
            '[tool.release]\nsdist = false\ndist-dir = "out/wheels"\n'
            'tag-pattern = "rel-{version}"\n'
            "prereleases = true\n"
            '[tool.release.windows]\ntarget = "x86_64-pc-windows-gnu"\n'
            'msys2-packages = ["mingw-w64-x86_64-gmp"]\nallow-dlls = ["libfoo.dll"]\n'
            '[tool.release.wheels]\nlinux = ["cp39-abi3-manylinux_2_17_x86_64"]\nwindows = []\n'
            'macos = ["cp39-abi3-macosx_10_12_x86_64|cp39-abi3-macosx_10_12_universal2"]\n'
            '[tool.release.publish]\nrepository = "testpypi"\nenvironment = "pypi"\n'
            'workflow = "publish.yml"\n'
        ),
    )
    root = (tmp_path / "project").resolve()
    assert config.sdist is False
    assert config.dist_dir == root / "out" / "wheels"
    assert config.tag_pattern == "rel-{version}"
    assert config.prereleases is True
    assert config.windows.target == "x86_64-pc-windows-gnu"
    assert config.windows.msys2_packages == ("mingw-w64-x86_64-gmp",)
    assert config.windows.allow_dlls == ("libfoo.dll",)
    assert config.wheels is not None
    assert config.wheels.for_platform("linux") == ("cp39-abi3-manylinux_2_17_x86_64",)
    assert config.wheels.for_platform("windows") == ()
    assert config.wheels.for_platform("macos") == (
        "cp39-abi3-macosx_10_12_x86_64|cp39-abi3-macosx_10_12_universal2",
    )
    assert (config.publish.repository, config.publish.environment) == ("testpypi", "pypi")
    assert config.publish.workflow == "publish.yml"


def test_before_build_is_read_as_argv_lists(tmp_path: Path) -> None:
    """cibuildwheel's forms (one command, or a list run in order), each split as a POSIX
    shell splits words; a platform's table replaces the top-level list for its wheels, and
    the sdist takes the top-level one."""
    config = load(
        tmp_path,
        single(
            "[tool.release]\n"
            'before-build = ["python -m pip install \'cython>=3\'", "make cython"]\n'
            "[tool.release.windows]\nbefore-build = \"python tools/gen.py --out 'gen dir'\"\n"
        ),
    )
    top = (("python", "-m", "pip", "install", "cython>=3"), ("make", "cython"))
    assert config.before_build(None).commands == top
    assert config.before_build("linux").commands == top
    assert config.before_build("linux").key == "[tool.release] before-build"
    windows = config.before_build("windows")
    assert windows.commands == (("python", "tools/gen.py", "--out", "gen dir"),)
    assert windows.key == "[tool.release.windows] before-build"
    assert load(tmp_path / "none", single("[tool.release]\n")).before_build("linux").commands == ()


def test_package_dir_is_resolved_against_the_project_root(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        {
            "pyproject.toml": '[tool.release]\npackage-dir = "crates/demo-python"\n',
            "crates/demo-python/pyproject.toml": PACKAGE,
        },
    )
    root = (tmp_path / "project").resolve()
    assert config.pyproject == root / "pyproject.toml"
    assert config.package_dir == root / "crates" / "demo-python"
    assert config.package.pyproject == root / "crates" / "demo-python" / "pyproject.toml"
    assert config.package.name == "demo"
    # dist-dir is relative to the project root, not to the package
    assert config.dist_dir == root / "dist"


def test_relative_project_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(tmp_path / "project", single("[tool.release]\n"))
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("project"))
    assert config.project_root == (tmp_path / "project").resolve()


MATURIN_PACKAGE = """\
[build-system]
requires = ["maturin>=1.5,<2"]
build-backend = "maturin"

[project]
name = "demo"
dynamic = ["version"]
"""


@pytest.mark.parametrize(
    ("package", "release", "backend", "inferred"),
    [
        (MATURIN_PACKAGE, "", "maturin", True),
        (MATURIN_PACKAGE.replace('"maturin"\n', '"maturin.backend"\n'), "", "maturin", True),
        (PACKAGE + '\n[tool.cibuildwheel]\nbuild = ["cp311-*"]\n', "", "cibuildwheel", True),
        (PACKAGE, "", "build", True),
        ('[project]\nname = "demo"\nversion = "1"\n', "", "build", True),
        (MATURIN_PACKAGE, 'backend = "build"\n', "build", False),
        (
            PACKAGE + '\n[tool.cibuildwheel]\nbuild = ["cp311-*"]\n',
            'backend = "maturin"\n',
            "maturin",
            False,
        ),
    ],
    ids=[
        "maturin",
        "maturin-submodule",
        "cibuildwheel-table",
        "setuptools",
        "no-build-system",
        "explicit-build-wins",
        "explicit-maturin-wins",
    ],
)
def test_backend_inference(
    package: str, release: str, backend: str, inferred: bool, tmp_path: Path
) -> None:
    config = load(
        tmp_path,
        {
            "pyproject.toml": '[tool.release]\npackage-dir = "pkg"\n' + release,
            "pkg/pyproject.toml": package,
        },
    )
    assert config.backend == backend
    assert config.backend_inferred is inferred


def test_maturin_package_has_dynamic_version(tmp_path: Path) -> None:
    config = load(tmp_path, {"pyproject.toml": MATURIN_PACKAGE + "\n[tool.release]\n"})
    assert config.package.version is None
    assert config.package.dynamic == ("version",)
    assert config.package.build_backend == "maturin"


# --- the real projects in this repository -------------------------------------------------


def test_repository_itself() -> None:
    config = load_config(ROOT)
    assert config.backend == "build"
    assert config.backend_inferred is False
    assert config.package_dir == ROOT
    assert config.package.name == "nox-release"
    assert config.wheels is not None
    assert config.wheels.linux == ("py3-none-any",)
    assert config.wheels.windows == ()


def test_cvec_example() -> None:
    config = load_config(ROOT / "examples" / "cvec")
    assert config.backend == "cibuildwheel"
    assert config.backend_inferred is False  # init writes it down
    assert config.package_dir == ROOT / "examples" / "cvec" / "bindings" / "python"
    assert config.package.name == "cvec-demo"
    assert config.sdist is False
    assert config.linux.policy == "manylinux_2_17"


def test_tally_example() -> None:
    config = load_config(ROOT / "examples" / "tally")
    assert config.backend == "maturin"
    assert config.package_dir == ROOT / "examples" / "tally" / "crates" / "tally-python"
    assert config.package.name == "tally"
    assert config.sdist is True
    assert config.windows.target == "x86_64-pc-windows-gnu"
    assert config.linux.policy == "manylinux_2_17"


# --- the CLI turns each of these errors into two lines and an exit code --------------------


def cli_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GITHUB_") and key not in ("RELEASE_PROJECT", "CI")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "release", *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda case: case.id)
def test_cli_reports_config_error_without_traceback(case: ErrorCase, tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", case.files)
    proc = run_cli("sdist", "--project", str(project), cwd=tmp_path)
    assert proc.returncode == case.error.exit_code, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout
    assert "Traceback" not in proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, proc.stdout
    assert lines[0].startswith("error: ")
    assert lines[1].startswith("  what to do: ")
    for text in case.in_cause:
        assert expected(text, project) in lines[0]
    for text in case.in_remedy:
        assert text in lines[1]


def test_cli_verbose_shows_the_traceback(tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", single('[tool.release]\nbackend = "maturn"\n'))
    proc = run_cli("sdist", "--project", str(project), "--verbose", cwd=tmp_path)
    assert proc.returncode == UnknownBackendError.exit_code
    assert "Traceback (most recent call last)" in proc.stdout
    assert "UnknownBackendError" in proc.stdout
    assert "error: unknown backend 'maturn'" in proc.stdout
