"""``nox-release init`` on repositories as a maintainer has them: copies of both example
shapes stripped of every nox-release file, a root package whose pyproject.toml has comments
and other tables, two packages, files that exist already.
"""

from __future__ import annotations

import copy
import errno
import functools
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, write_text
from test_nox_sessions import FakeSession, load_noxfile

from release import __version__, cli
from release.config import load_config, read_toml
from release.errors import (
    AmbiguousPackageError,
    DiskFullError,
    InitSourceError,
    InTheWayError,
    NoPackageError,
    NotWritableError,
    WouldOverwriteError,
)
from release.init.detect import _GITHUB_REMOTE
from release.init.noxfile import Source, noxfile
from release.workflows.files import differences

# What init writes, besides the package's own files.
WRITTEN = [
    "pyproject.toml",
    "noxfile.py",
    ".github/workflows/release.yml",
    ".github/workflows/release-dry-run.yml",
]


def stripped_copy(example: str, parent: Path, remote: str | None = None) -> Path:
    """The example as a repository that has never seen nox-release: no [tool.release], no
    noxfile, no workflows, no build output; a git repository with ``remote`` as origin."""
    root = parent / example
    shutil.copytree(
        EXAMPLES / example, root, ignore=shutil.ignore_patterns("target", "dist", ".github")
    )
    (root / "pyproject.toml").unlink()  # it holds nothing but [tool.release]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(root), "remote", "add", "origin", remote], check=True)
    return root


def init(root: Path, *args: str) -> int:
    return cli.main(["init", "--project", str(root), "--from", str(REPO), *args])


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        name: (root / name).read_bytes() if (root / name).is_file() else None for name in WRITTEN
    }


def nox(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """nox as the maintainer runs it in their repository, with the noxfile init wrote."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "NOX_"))}
    env.pop("VIRTUAL_ENV", None)
    env["NOX_RELEASE_CACHE"] = os.environ["NOX_RELEASE_CACHE"]
    return subprocess.run(
        [sys.executable, "-m", "nox", *args], cwd=root, env=env,
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip


# --- both example shapes ---------------------------------------------------------------------


# What an example's maintainer chose after init: the platforms maturin cannot say itself
# (init keeps what nox-release built before, Linux x86_64 and the Windows target).
# cibuildwheel says its own, so cvec's [tool.release] is init's alone.
CHOSEN = {
    "tally": {
        (): ("free-threaded",),
        ("linux",): ("archs", "musllinux"),
        ("macos",): None,  # the whole table
        ("windows",): ("archs",),
    },
    "cvec": {},
}


def without_chosen(example: str, table: dict) -> dict:
    table = copy.deepcopy(table)
    for path, keys in CHOSEN[example].items():
        parent = table
        for part in path[:-1]:
            parent = parent[part]
        if keys is None:
            del parent[path[-1]]
            continue
        scope = parent[path[-1]] if path else parent
        for key in keys:
            del scope[key]
    return table


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(line in rest for line in part)


@pytest.mark.parametrize("example", ["tally", "cvec"])
def test_init_writes_the_config_the_example_has(
    example: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = stripped_copy(example, tmp_path, "https://github.com/octo-org/tally.git")
    assert init(root) == 0
    out = capsys.readouterr().out
    written = read_toml(root / "pyproject.toml")["tool"]["release"]
    example_table = read_toml(EXAMPLES / example / "pyproject.toml")["tool"]["release"]
    assert written == without_chosen(example, example_table)
    # The whole file, comments included, is what the example has: every line init wrote is
    # there in order, and the example adds only its platform choices (cvec none).
    text = (root / "pyproject.toml").read_text()
    example_text = (EXAMPLES / example / "pyproject.toml").read_text()
    if not CHOSEN[example]:
        assert text == example_text
    assert is_subsequence(text.splitlines(), example_text.splitlines())
    assert differences(load_config(root)) == {}
    for name in WRITTEN:
        assert f"{name}: wrote" in out
    # The next steps name each field of PyPI's trusted publisher form.
    for field, value in [("PyPI project name", example), ("Owner", "octo-org"),
                         ("Repository name", "tally"), ("Workflow name", "release.yml"),
                         ("Environment name", "pypi")]:  # fmt: skip
        assert f"{field:<20}{value}" in out
    assert "https://github.com/octo-org/tally/settings/environments" in out
    assert "nox -s check" in out and "nox -s release" in out


def test_the_cvec_sdist_is_off_with_the_reason(tmp_path: Path) -> None:
    root = stripped_copy("cvec", tmp_path)
    assert init(root) == 0
    text = (root / "pyproject.toml").read_text()
    assert "sdist = false" in text
    reason = text[text.index("# No sdist:") : text.index("sdist = false")]
    assert "../../src" in reason and "an sdist" in reason


def test_a_second_init_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = stripped_copy("tally", tmp_path)
    assert init(root) == 0
    before = snapshot(root)
    capsys.readouterr()
    assert init(root) == 0
    assert snapshot(root) == before
    out = capsys.readouterr().out
    assert all(f"{name}: unchanged" in out for name in WRITTEN)


def test_without_a_github_remote_the_next_steps_say_what_to_fill_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = stripped_copy("tally", tmp_path, remote="https://gitlab.com/octo-org/tally.git")
    assert init(root) == 0
    out = capsys.readouterr().out
    assert "Owner               <owner>" in out
    assert "no github.com remote named origin" in out


@pytest.mark.parametrize(("remote", "found"), [
    ("https://github.com/octo-org/tally.git", ("octo-org", "tally")),
    ("https://github.com/octo-org/tally", ("octo-org", "tally")),
    ("git@github.com:octo-org/tally.git", ("octo-org", "tally")),
    ("ssh://git@github.com/octo-org/my.lib.git", ("octo-org", "my.lib")),
    ("https://gitlab.com/octo-org/tally.git", None),
])  # fmt: skip
def test_github_remotes(remote: str, found: tuple[str, str] | None) -> None:
    match = _GITHUB_REMOTE.search(remote)
    assert (None if match is None else (match["owner"], match["repository"])) == found


# --- what init keeps, and what it does not touch without --force --------------------------

ROOT_PACKAGE = """\
# A maturin package at the root, as `maturin new` makes it, and a maintainer's settings.
[build-system]
requires = ["maturin>=1.5,<2"]   # keep this comment
build-backend = "maturin"

[project]
name = "fastthing"
version = "2.1.0"
requires-python = ">=3.9"

[tool.ruff]
line-length = 99  # house style

[tool.pytest.ini_options]
addopts = "-q"

# trailing remark
"""


def root_package(tmp_path: Path) -> Path:
    root = tmp_path / "fastthing"
    write_text(root / "pyproject.toml", ROOT_PACKAGE)
    write_text(root / "Cargo.toml", '[package]\nname = "fastthing"\nversion = "2.1.0"\n'
               'edition = "2021"\n\n[lib]\ncrate-type = ["cdylib"]\n\n[dependencies]\n'
               'pyo3 = { version = "0.30", features = ["abi3-py310"] }\n')  # fmt: skip
    write_text(root / "src" / "lib.rs", "")
    return root


def without_release_table(text: str) -> str:
    """``text`` with init's [tool.release] block, and the blank line that sets it apart,
    taken out again."""
    start = text.index("[tool.release]\n")
    end = text.index('workflow = "release.yml"\n') + len('workflow = "release.yml"\n')
    before, after = text[:start], text[end:]
    if after.startswith("\n"):
        return before + after[1:]
    assert before.endswith("\n\n")
    return before[:-1] + after


# tool tables first, the others after them: tomlkit puts [tool.release] between the two.
TOOLS_FIRST = ROOT_PACKAGE.replace("[tool.ruff]\nline-length = 99  # house style\n\n", "").replace(
    "[build-system]", "[tool.ruff]\nline-length = 99  # house style\n\n[build-system]"
)


@pytest.mark.parametrize("original", [ROOT_PACKAGE, TOOLS_FIRST], ids=["at-the-end", "between"])
def test_a_root_pyproject_keeps_every_byte_outside_tool_release(
    original: str, tmp_path: Path
) -> None:
    root = root_package(tmp_path)
    write_text(root / "pyproject.toml", original)
    assert init(root) == 0
    text = (root / "pyproject.toml").read_text()
    assert without_release_table(text) == original
    table = read_toml(root / "pyproject.toml")["tool"]
    assert "package-dir" not in table["release"] and table["release"]["backend"] == "maturin"
    assert table["ruff"] == {"line-length": 99}
    assert "abi3-py310" in text  # the wheels comment says where the abi3 feature is


def test_an_existing_release_table_is_only_shown_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    old = ROOT_PACKAGE.replace(
        "[tool.ruff]", '[tool.release]\ntag-pattern = "release-{version}"\n\n[tool.ruff]'
    )
    write_text(root / "pyproject.toml", old)
    assert init(root) == WouldOverwriteError.exit_code
    out = capsys.readouterr().out
    assert '-tag-pattern = "release-{version}"' in out and '+tag-pattern = "v{version}"' in out
    assert "1 file(s) exist and would change: pyproject.toml; nothing was written" in out
    assert "--force" in out
    # Nothing written, not even the files that did not exist.
    assert (root / "pyproject.toml").read_text() == old
    assert not (root / "noxfile.py").exists() and not (root / ".github").exists()
    assert init(root, "--force") == 0
    text = (root / "pyproject.toml").read_text()
    assert "release-{version}" not in text and text.count("[tool.release]") == 1
    # The replaced table stays where it was; the rest is as it was.
    assert text.index("[tool.release]") < text.index("[tool.ruff]")
    assert text.endswith('[tool.pytest.ini_options]\naddopts = "-q"\n\n# trailing remark\n')


def test_an_existing_noxfile_is_not_overwritten_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    write_text(root / "noxfile.py", "import nox\n\n\n@nox.session\ndef tests(session):\n    ...\n")
    before = snapshot(root)
    assert init(root) == WouldOverwriteError.exit_code
    assert "-def tests(session):" in capsys.readouterr().out
    assert snapshot(root) == before


def test_two_packages_need_package_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "repo"
    for crate in ("alpha-python", "beta-python"):
        write_text(root / "crates" / crate / "pyproject.toml",
                   f'[build-system]\nbuild-backend = "maturin"\n[project]\nname = "{crate}"\n'
                   'version = "1.0"\n')  # fmt: skip
        write_text(root / "crates" / crate / "Cargo.toml",
                   f'[package]\nname = "{crate}"\nversion = "1.0.0"\n')  # fmt: skip
    assert init(root) == AmbiguousPackageError.exit_code
    out = capsys.readouterr().out
    assert "2 packages found" in out
    assert "--package-dir crates/alpha-python" in out and "--package-dir crates/beta-python" in out
    assert not (root / "pyproject.toml").exists()
    assert init(root, "--package-dir", "crates/beta-python") == 0
    table = read_toml(root / "pyproject.toml")["tool"]["release"]
    assert table["package-dir"] == "crates/beta-python"


def test_no_package_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_text(tmp_path / "pyproject.toml", "[tool.ruff]\nline-length = 99\n")
    assert init(tmp_path) == NoPackageError.exit_code
    out = capsys.readouterr().out
    assert "no Python package found" in out and "--package-dir" in out
    assert "Traceback" not in out


def test_a_broken_root_pyproject_is_named_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    broken = ROOT_PACKAGE + "\n[tool.ruff\n"
    write_text(root / "pyproject.toml", broken)
    assert init(root) != 0
    out = capsys.readouterr().out
    assert "pyproject.toml" in out and "line" in out and "Traceback" not in out
    assert (root / "pyproject.toml").read_text() == broken


@pytest.fixture
def simple_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A PEP 503 index on 127.0.0.1 (a real HTTP server over a directory), set as pip's
    PIP_INDEX_URL; put files into the returned ``simple/nox-release`` directory's page."""
    served = tmp_path / "index"
    page = served / "simple" / "nox-release"
    page.mkdir(parents=True)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{server.server_address[1]}/simple/")
    try:
        yield page
    finally:
        server.shutdown()
        server.server_close()


def list_files(page: Path, *names: str) -> None:
    links = "".join(f'<a href="../../files/{n}">{n}</a>' for n in names)
    (page / "index.html").write_text(f"<!DOCTYPE html><html><body>{links}</body></html>")


def test_the_generated_noxfile_pins_this_nox_release(tmp_path: Path, simple_index: Path) -> None:
    list_files(simple_index, "nox_release-0.0.9-py3-none-any.whl",
               f"nox_release-{__version__}-py3-none-any.whl")  # fmt: skip
    root = root_package(tmp_path)
    assert cli.main(["init", "--project", str(root)]) == 0
    text = (root / "noxfile.py").read_text()
    assert f'return [f"nox-release{{extras}}=={__version__}"]' in text
    compile(text, "noxfile.py", "exec")
    ruff = shutil.which("ruff")
    assert ruff is not None, "ruff is installed with the tests"
    checked = subprocess.run([ruff, "check", "--no-cache", "--isolated", "--select", "E,F,W,I",
                              "--line-length", "100", "noxfile.py"], cwd=root,
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stdout
    # The sessions run the console script: a release/ of the project cannot shadow it.
    assert '"python", "-m", "release"' not in text and 'session.run(\n        "nox-release"' in text


def test_a_pin_the_index_does_not_have_is_refused(
    tmp_path: Path, simple_index: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    list_files(simple_index, "nox_release-0.0.9-py3-none-any.whl")
    root = root_package(tmp_path)
    assert cli.main(["init", "--project", str(root)]) == InitSourceError.exit_code
    out = capsys.readouterr().out
    assert f"nox-release {__version__} is not on http://127.0.0.1:" in out
    assert "nox-release @ git+https://github.com/" in out
    assert not (root / "noxfile.py").exists()


def test_from_a_requirement_the_runners_can_install(tmp_path: Path) -> None:
    root = root_package(tmp_path)
    url = "git+https://github.com/octo-org/nox-release@4f1c2e0"
    assert init(root, "--from", f"nox-release @ {url}") == 0
    text = (root / "noxfile.py").read_text()
    assert f'return [f"nox-release{{extras}} @ {url}"]' in text


def test_from_a_local_checkout_warns_that_ci_cannot_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    assert init(root) == 0  # --from REPO
    out = capsys.readouterr().out
    assert "warning: the noxfile installs nox-release from" in out and "CI's runners" in out
    assert f'return ["-e", f"{REPO.as_posix()}{{extras}}"]' in (root / "noxfile.py").read_text()


@pytest.mark.parametrize("given", ["twine==6.1", "nox-release[build]", "not a requirement !"])
def test_from_something_else_is_refused(
    given: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    code = cli.main(["init", "--project", str(root), "--from", given])
    assert code == InitSourceError.exit_code, capsys.readouterr().out
    assert not (root / "noxfile.py").exists()


# --- pyproject.toml as maintainers write it -------------------------------------------------


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    root = root_package(tmp_path)
    original = ROOT_PACKAGE.replace("\n", "\r\n")
    (root / "pyproject.toml").write_bytes(original.encode())
    assert init(root) == 0
    data = (root / "pyproject.toml").read_bytes().decode()
    assert "\n" not in data.replace("\r\n", "")  # every line ends in CRLF, the new ones too
    assert without_release_table(data.replace("\r\n", "\n")) == ROOT_PACKAGE
    # The generated files are LF, as git stores them, whatever the platform.
    assert b"\r" not in (root / "noxfile.py").read_bytes()


@pytest.mark.parametrize("spelling", [
    '[tool]\nrelease = { linux = { apt-packages = ["m4"] } }\n',
    '[tool]\nrelease.linux.apt-packages = ["m4"]\n',
], ids=["inline", "dotted"])  # fmt: skip
def test_a_release_table_in_any_spelling_needs_force(
    spelling: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    old = ROOT_PACKAGE + "\n" + spelling
    write_text(root / "pyproject.toml", old)
    assert init(root) == WouldOverwriteError.exit_code
    assert "-release" in capsys.readouterr().out
    assert (root / "pyproject.toml").read_text() == old
    assert init(root, "--force") == 0
    assert "apt-packages" not in read_toml(root / "pyproject.toml")["tool"]["release"]["linux"]


def test_an_inline_tool_table_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    old = "tool = { black = { line-length = 88 } }\n\n" + ROOT_PACKAGE.replace(
        "[tool.ruff]\nline-length = 99  # house style\n\n", ""
    ).replace('[tool.pytest.ini_options]\naddopts = "-q"\n\n', "")
    write_text(root / "pyproject.toml", old)
    code = init(root)
    out = capsys.readouterr().out
    assert code not in {0, 70}, out
    assert "written inline" in out and "[tool.<name>] tables" in out
    assert (root / "pyproject.toml").read_text() == old


def test_a_package_dir_outside_the_repository_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    root_package(tmp_path / "other")
    code = init(root, "--package-dir", "../other/fastthing")
    out = capsys.readouterr().out
    assert code not in (0, 70), out
    assert "outside the repository root" in out


def test_a_file_that_is_not_utf8_is_shown_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    (root / "noxfile.py").write_bytes(b"# caf\xe9\nimport nox\n")
    assert init(root) == WouldOverwriteError.exit_code
    assert "noxfile.py exists and is not UTF-8 text" in capsys.readouterr().out
    assert (root / "noxfile.py").read_bytes() == b"# caf\xe9\nimport nox\n"
    assert init(root, "--force") == 0


def test_a_pure_package_is_built_once(tmp_path: Path) -> None:
    root = tmp_path / "pure"
    write_text(root / "pyproject.toml", '[build-system]\nrequires = ["hatchling"]\n'
               'build-backend = "hatchling.build"\n\n'
               '[project]\nname = "pure"\nversion = "1.0"\n')  # fmt: skip
    assert init(root) == 0
    table = read_toml(root / "pyproject.toml")["tool"]["release"]
    assert table["backend"] == "build"
    assert table["wheels"] == {"linux": ["py3-none-any"], "windows": []}
    release = (root / ".github" / "workflows" / "release.yml").read_text()
    assert "build-windows" not in release and "windows-2025" not in release


@pytest.mark.parametrize("example", ["tally", "cvec"])
def test_every_session_the_written_workflows_run_is_in_the_written_noxfile(
    example: str, tmp_path: Path
) -> None:
    """A workflow step `nox -s <stage>` that the noxfile init wrote lacks fails in CI, after
    the steps before it (provenance after publish: the release half done)."""
    root = stripped_copy(example, tmp_path)
    assert init(root) == 0
    noxfile = (root / "noxfile.py").read_text()
    sessions = set(re.findall(r'@nox\.session\(name="([\w-]+)"\)', noxfile))
    sessions |= set(re.findall(r"@nox\.session\ndef (\w+)\(", noxfile))
    ran = set()
    for workflow in (root / ".github" / "workflows").glob("*.yml"):
        ran |= set(re.findall(r"nox -s ([\w-]+)", workflow.read_text()))
    assert {"publish", "provenance", "validate"} <= ran
    assert ran <= sessions, f"sessions the noxfile lacks: {sorted(ran - sessions)}"


def test_workflows_check_on_an_initialised_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = stripped_copy("cvec", tmp_path)
    assert init(root) == 0
    assert cli.main(["workflows", "--check", "--project", str(root)]) == 0
    release = root / ".github" / "workflows" / "release.yml"
    release.write_text(
        release.read_text().replace("nox -s validate", "nox -s validate -- --no-strict")
    )
    capsys.readouterr()
    assert cli.main(["workflows", "--check", "--project", str(root)]) == 60
    assert "+      - run: nox -s validate\n" in capsys.readouterr().out


# --- the generated sessions reuse their environments ----------------------------------------


class PinnedSession(FakeSession):
    """A session of the generated noxfile: ``nox-release constraints`` prints ``constraints``."""

    def __init__(self, location: Path, constraints: Path) -> None:
        super().__init__(location)
        self.constraints = constraints

    def run_install(self, *args: str, **_: object) -> str | None:
        return None if self.no_install else f"{self.constraints}\n"


def test_generated_sessions_install_again_only_when_what_they_install_changed(
    tmp_path: Path,
) -> None:
    checkout = tmp_path / "nox-release"
    write_text(checkout / "pyproject.toml", "[project]\nname = 'nox-release'\n")
    path = write_text(tmp_path / "noxfile.py", noxfile(Source(f'["-e", f"{checkout}{{extras}}"]')))
    generated = load_noxfile(path, "generated_noxfile")
    assert generated.nox.options.reuse_venv == "yes"
    constraints = write_text(tmp_path / "constraints.txt", "maturin==1.9.0\n")
    (tmp_path / "venv").mkdir()
    session = PinnedSession(tmp_path / "venv", constraints)
    generated.validate(session)
    assert session.installs[-1] == ("-c", str(constraints), "-e", f"{checkout}[validate]")
    installs = len(session.installs)
    generated.validate(session)
    assert len(session.installs) == installs  # nothing changed: nothing installed
    assert len(session.runs) == 2
    constraints.write_text("maturin==1.9.1\n")  # another nox-release pins other tools
    generated.validate(session)
    assert len(session.installs) == 2 * installs
    write_text(checkout / "pyproject.toml", "[project]\nname = 'nox-release'\n# changed\n")
    generated.validate(session)
    assert len(session.installs) == 3 * installs
    session.no_install = True  # nox -R, with the checkout changed again: nothing stamped
    write_text(checkout / "pyproject.toml", "[project]\nname = 'nox-release'\n")
    generated.validate(session)
    assert len(session.installs) == 3 * installs
    session.no_install = False
    generated.validate(session)
    assert len(session.installs) == 4 * installs


# --- check and the dry run, with the noxfile init wrote ----------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize("example", ["tally", "cvec"])
def test_check_and_release_succeed_on_the_result(example: str, tmp_path: Path) -> None:
    root = stripped_copy(example, tmp_path, "git@github.com:octo-org/tally.git")
    assert init(root) == 0
    for session in ("check", "release"):
        proc = nox(root, "-s", session)
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"nox -s {session} in the initialised {example}:\n{output}"
        assert f"Session {session} was successful" in output
        assert "Traceback" not in output
    records = {
        p.stem: json.loads(p.read_text()) for p in (root / "dist" / ".release").glob("*.json")
    }
    assert records["check"]["status"] == "ok"
    assert records["validate"]["status"] == "ok"
    assert "installed from it" in records["publish"]["reason"]


@pytest.mark.e2e
def test_a_second_session_run_reuses_its_environment(tmp_path: Path) -> None:
    root = stripped_copy("tally", tmp_path, "git@github.com:octo-org/tally.git")
    assert init(root) == 0
    assert nox(root, "-s", "check").returncode == 0
    again = nox(root, "-s", "check")
    output = again.stdout + again.stderr
    assert again.returncode == 0, output
    assert "Reusing existing virtual environment" in output
    assert " install " not in output and "nox-release constraints" not in output, output


# --- all or nothing: a failed write leaves every file as it was ---------------------------------


def every_byte(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and directory (None) under ``root``, but git's own."""
    return {
        path.relative_to(root).as_posix(): None if path.is_dir() else path.read_bytes()
        for path in sorted(root.rglob("*"))
        if ".git" not in path.relative_to(root).parts[:1]
    }


def test_a_github_that_is_a_file_leaves_every_file_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    (root / ".github").write_text("not a directory\n")
    before = every_byte(root)
    assert init(root) == InTheWayError.exit_code
    assert every_byte(root) == before
    out = capsys.readouterr().out
    assert f"error: {root / '.github'} is a file, where a directory of " in out
    assert "--dist" not in out and ".release.yml." not in out  # no temporary file is named


def test_an_immutable_workflows_dir_leaves_every_file_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = root_package(tmp_path)
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "lint.yml").write_text("on: push\n")
    # root's chmod stops no one: the immutable attribute stops root too, where it works.
    chattr = subprocess.run(["chattr", "+i", str(workflows)], check=False, capture_output=True)
    if chattr.returncode != 0:
        pytest.skip("chattr +i does not work on this filesystem")
    try:
        before = every_byte(root)
        assert init(root) == NotWritableError.exit_code
        assert every_byte(root) == before
    finally:
        subprocess.run(["chattr", "-i", str(workflows)], check=True)
    out = capsys.readouterr().out
    assert "error: .github/workflows is not writable (Operation not permitted)" in out
    assert "nothing was written: every file is as it was" in out


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds the file by /proc")
def test_a_full_disk_at_the_last_file_leaves_every_file_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = root_package(tmp_path)
    real_fdopen = os.fdopen

    class FullDisk(io.StringIO):
        def close(self) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fdopen(fd: int, *args: object, **kwargs: object) -> object:
        if Path(f"/proc/self/fd/{fd}").readlink().name.startswith(".release-dry-run.yml."):
            os.close(fd)
            return FullDisk()
        return real_fdopen(fd, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "fdopen", fdopen)
    before = every_byte(root)
    assert init(root) == DiskFullError.exit_code
    assert every_byte(root) == before
    out = capsys.readouterr().out
    assert "no space left on the device" in out and ".github/workflows/release-dry-run.yml" in out


def test_a_failure_while_committing_restores_what_was_already_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last rename fails after pyproject.toml and noxfile.py were replaced (--force):
    both get their old bytes back, the new files and directories go."""
    root = root_package(tmp_path)
    write_text(root / "noxfile.py", "import nox  # mine\n")
    (root / "noxfile.py").chmod(0o600)
    before = every_byte(root)
    real_replace = Path.replace

    def replace(self: Path, target: Path | str) -> Path:
        if Path(target).name == "release-dry-run.yml":
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(target))
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    assert init(root, "--force") == NotWritableError.exit_code
    monkeypatch.undo()
    assert every_byte(root) == before
    assert (root / "noxfile.py").stat().st_mode & 0o777 == 0o600
    assert "nothing was written: every file is as it was" in capsys.readouterr().out


def test_an_interrupt_just_after_a_directory_is_made_leaves_none_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the fault hunt (bench/hunt.py): a SIGTERM landing between init's mkdir of
    .github and its note of it left an empty .github behind an init that wrote nothing."""
    from release import init as init_module
    from release.errors import Interrupted

    real_mkdir = Path.mkdir

    def mkdir_then_interrupt(self: Path, *args: object, **kwargs: object) -> None:
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]
        if self.name == ".github":
            raise Interrupted(15)

    monkeypatch.setattr(Path, "mkdir", mkdir_then_interrupt)
    planned = init_module.PlannedFile(
        tmp_path / ".github" / "workflows" / "release.yml", "release.yml", None, "on: push\n"
    )
    with pytest.raises(Interrupted):
        init_module.write_all(tmp_path, [planned])
    assert list(tmp_path.iterdir()) == []
