"""Bad input, as a user types it: each case through ``python -m release``, asserting the exit
code, that the message says what is wrong and what to do, that there is no traceback, and
that nothing was built or changed."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import REPO, TINY_PYPROJECT, run_release, tiny_project, write_text
from wheel_factory import write_wheel


@dataclass(frozen=True)
class Case:
    id: str
    release: str  # replaces the [tool.release] table of the tiny project
    code: int
    needles: tuple[str, ...]
    absent: tuple[str, ...] = field(default=())


TABLE = TINY_PYPROJECT[TINY_PYPROJECT.index("[tool.release]") :]


def with_table(extra: str) -> str:
    return TABLE.replace('backend = "build"\n', f'backend = "build"\n{extra}')


CONFIG_CASES = [
    Case("wheel-pattern-bars", TABLE.replace("windows = []", 'windows = ["|||"]'), 17,
         ("windows entry '|||'", "is not a python-abi-platform pattern", "cp39-abi3-win_amd64")),
    Case("wheel-pattern-two-parts", TABLE.replace("windows = []", 'windows = ["cp39-abi3"]'), 17,
         ("'cp39-abi3' is not a python-abi-platform pattern",)),
    Case("wheel-pattern-wrong-platform",
         TABLE.replace('linux = ["py3-none-any"]', 'linux = ["cp39-abi3-win_amd64"]'), 17,
         ("platform 'win_amd64' is not a linux platform tag",)),
    Case("manylinux-2_999", with_table('[tool.release.linux]\nmanylinux = "2_999"\n'), 17,
         ("manylinux = '2_999' names glibc 2.999, which does not exist",)),
    Case("manylinux-banana", with_table('[tool.release.linux]\nmanylinux = "banana"\n'), 17,
         ("manylinux = 'banana' is not a manylinux floor", '"2_28"')),
    Case("package-dir-empty", with_table('package-dir = ""\n'), 15, ("package-dir in",
         "is empty", 'write ".", for the root itself')),
    Case("package-dir-absolute", with_table('package-dir = "/usr/lib"\n'), 15,
         ("is an absolute path",)),
    Case("package-dir-outside", with_table('package-dir = "../other"\n'), 15,
         ("points outside the project root",)),
    Case("tag-pattern-double-braces", with_table('tag-pattern = "v{{version}}"\n'), 17,
         ("writes the placeholder as {{version}}; it is {version}",), ("v{0.3.1}", "v{1.0}")),
    Case("tag-pattern-space", with_table('tag-pattern = "v {version}"\n'), 17,
         ("makes tags git refuses",)),
    Case("tag-pattern-no-placeholder", with_table('tag-pattern = "latest"\n'), 17,
         ("has no {version} placeholder",)),
    Case("dist-dir-empty", with_table('dist-dir = ""\n'), 17, ("dist-dir in", "is empty")),
    Case("tag-pattern-format-spec", with_table('tag-pattern = "v{version:>10}"\n'), 17,
         ("writes the placeholder as {version:>10}", "without format spec"),
         ("has no {version} placeholder",)),
    Case("tag-pattern-unknown-field", with_table('tag-pattern = "{name}-v{version}"\n'), 17,
         ("placeholder {name} that tag-pattern does not know",), ("git refuses",)),
]  # fmt: skip


def project_with(tmp_path: Path, release_table: str) -> Path:
    root = tiny_project(tmp_path)
    pyproject = TINY_PYPROJECT[: TINY_PYPROJECT.index("[tool.release]")] + release_table
    write_text(root / "pyproject.toml", pyproject)
    return root


def assert_refused(
    proc_output: str, returncode: int, case_code: int, needles: tuple[str, ...]
) -> None:
    assert returncode == case_code, proc_output
    assert "Traceback" not in proc_output
    assert "what to do:" in proc_output.lower()
    for needle in needles:
        assert needle in proc_output, proc_output


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda c: c.id)
def test_a_bad_configuration_is_refused_before_anything_runs(tmp_path: Path, case: Case) -> None:
    root = project_with(tmp_path, case.release)
    proc = run_release("build-linux", "--project", str(root))
    output = proc.stdout + proc.stderr
    assert_refused(output, proc.returncode, case.code, case.needles)
    for absent in case.absent:
        assert absent not in output
    assert not (root / "dist").exists()  # refused at load: no stage ran, nothing was made
    assert "$ " not in proc.stdout  # and no command was started


def test_project_that_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(TINY_PYPROJECT)
    proc = run_release("validate", "--project", str(path))
    assert_refused(proc.stdout, proc.returncode, 19, ("is a file, not a directory",))


def test_pyproject_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").mkdir()
    proc = run_release("validate", "--project", str(tmp_path))
    assert_refused(proc.stdout, proc.returncode, 11, ("pyproject.toml is a directory",))


def test_pyproject_with_a_byte_order_mark(tmp_path: Path) -> None:
    root = tiny_project(tmp_path)
    (root / "pyproject.toml").write_bytes(b"\xef\xbb\xbf" + TINY_PYPROJECT.encode())
    proc = run_release("validate", "--project", str(root))
    assert_refused(proc.stdout, proc.returncode, 18, ("byte order mark", "without BOM"))
    assert "Invalid statement" not in proc.stdout


def test_run_from_the_package_dir_finds_the_project_root(tmp_path: Path) -> None:
    """As git and nox do: the configuration two levels up is found, not reported missing."""
    root = tmp_path / "ws"
    package = TINY_PYPROJECT[: TINY_PYPROJECT.index("[tool.release]")]
    write_text(root / "crates" / "tiny-python" / "pyproject.toml", package)
    write_text(root / "crates" / "tiny-python" / "tiny" / "__init__.py", "")
    write_text(root / "crates" / "tiny-python" / "README.md", "# tiny\n")
    write_text(root / "pyproject.toml", TABLE.replace(
        "[tool.release]\n", '[tool.release]\npackage-dir = "crates/tiny-python"\n'
    ))  # fmt: skip
    env = {"RELEASE_PROJECT": ""}
    proc = run_release("sdist", cwd=root / "crates" / "tiny-python", env=env)
    assert proc.returncode == 0, proc.stdout
    assert (root / "dist" / "tiny-1.0.tar.gz").is_file()
    assert "add one" not in proc.stdout


# --- the tag, checked before anything is built ---------------------------------------------


def sha_of_tree(directory: Path) -> dict[str, str]:
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in directory.rglob("*")
        if p.is_file()
    }


@pytest.mark.parametrize(
    ("version", "argv", "env", "needles"),
    [
        ("1.0", ["build-linux", "--tag", "v9.9.9"], {},
         ("the tag v9.9.9 says 9.9.9", "push the tag v1.0")),
        ("1.0", ["sdist", "--tag", "release-1.0"], {},
         ('does not match tag-pattern "v{version}"',)),
        ("1.1rc1", ["build-linux", "--tag", "v1.1rc1"], {},
         ("is a pre-release", "prereleases = true")),
        ("1.0", ["release"], {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/v9.9.9"},
         ("the tag v9.9.9 says 9.9.9",)),
    ],
)  # fmt: skip
def test_a_wrong_tag_stops_before_any_build(
    tmp_path: Path, version: str, argv: list[str], env: dict[str, str], needles: tuple[str, ...]
) -> None:
    root = tiny_project(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0"', f'version = "{version}"'))
    dist = root / "dist"
    dist.mkdir()
    (dist / "tiny-0.9-py3-none-any.whl").write_bytes(b"an earlier release")
    before = sha_of_tree(dist)
    proc = run_release(*argv, "--project", str(root), env=env)
    assert_refused(proc.stdout, proc.returncode, 31, needles)
    assert "$ " not in proc.stdout and "::group::" not in proc.stdout  # nothing ran
    after = sha_of_tree(dist)
    after = {k: v for k, v in after.items() if not k.startswith(".release")}
    assert after == before


# --- what the dist dir holds --------------------------------------------------------------------


@pytest.fixture
def validated_tiny(tmp_path: Path) -> tuple[Path, Path]:
    root = tiny_project(tmp_path)
    proc = run_release("build-linux", "--project", str(root))
    assert proc.returncode == 0, proc.stdout
    return root, root / "dist"


def validate(root: Path) -> tuple[str, int, dict]:
    proc = run_release("validate", "--project", str(root))
    record = json.loads((root / "dist" / ".release" / "validate.json").read_text())
    return proc.stdout, proc.returncode, record


def test_a_hidden_wheel_is_named_for_what_it_is(validated_tiny: tuple[Path, Path]) -> None:
    root, dist = validated_tiny
    (wheel,) = dist.glob("*.whl")
    hidden = dist / f".{wheel.name}"
    hidden.write_bytes(wheel.read_bytes())
    output, code, record = validate(root)
    assert code == 0, output
    (finding,) = [f for f in record["findings"] if f["file"] == hidden.name]
    assert finding["level"] == "warning" and "is a hidden file" in finding["message"]
    assert finding["remedy"].startswith(f"rename it to {wheel.name}")
    assert "_tiny" not in output


def test_a_dangling_symlink_named_like_a_wheel(validated_tiny: tuple[Path, Path]) -> None:
    root, dist = validated_tiny
    link = dist / "tiny-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    link.symlink_to(dist / "gone.whl")
    output, code, record = validate(root)
    assert code == 30, output
    (finding,) = [f for f in record["findings"] if f["file"] == link.name]
    assert "is a symbolic link to" in finding["message"] and "does not exist" in finding["message"]
    assert "not a .whl or .tar.gz" not in output


def test_a_failed_build_is_named_and_its_stale_wheel_not_passed(
    validated_tiny: tuple[Path, Path],
) -> None:
    """The wheel from an earlier build is still there; the build that should have replaced
    it failed. validate must say so rather than pass the old wheel."""
    root, _dist = validated_tiny
    write_text(root / "setup.py", "raise SystemExit('the build is broken')\n")
    proc = run_release("build-linux", "--project", str(root))
    assert proc.returncode == 21, proc.stdout
    output, code, record = validate(root)
    assert code == 30, output
    (error,) = [f for f in record["findings"] if f["check"] == "build-record"]
    assert re.search(r"build-linux failed \(.*exited with status 1", error["message"])
    assert "nox -s build-linux" in error["remedy"]


def test_a_wheel_without_metadata_is_judged_alone(tmp_path: Path) -> None:
    """twine stops at a file it cannot parse; the other files still get their own verdict,
    and the missing METADATA is said once (integrity), not as a metadata error too."""
    root = tiny_project(tmp_path)
    dist = root / "dist"
    dist.mkdir()
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        'linux = ["py3-none-any"]', 'linux = ["py2-none-any", "py3-none-any", "py310-none-any"]'
    ))  # fmt: skip
    metadata = "Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n"
    write_wheel(dist, "tiny", "1.0", "py2-none-any", metadata=metadata)
    write_wheel(dist, "tiny", "1.0", "py3-none-any", omit=["METADATA"])
    write_wheel(dist, "tiny", "1.0", "py310-none-any", metadata=metadata)
    output, code, record = validate(root)
    assert code == 30, output
    bad = "tiny-1.0-py3-none-any.whl"
    errors = [f for f in record["findings"] if f["level"] == "error"]
    assert [(f["check"], f["file"]) for f in errors] == [("integrity", bad)]
    assert "METADATA is missing" in errors[0]["message"]
    assert "no verdict" not in output
    checks = record["details"]["checks"]
    assert "metadata" in checks["tiny-1.0-py2-none-any.whl"]
    assert "metadata" in checks["tiny-1.0-py310-none-any.whl"]


@pytest.mark.parametrize(
    ("publish", "needle"),
    [
        ('repository = "pipy"', "repository 'pipy' is neither pypi, testpypi nor an http(s)"),
        ('repository = "https://up.example/legacy/"\nindex-url = "ftp://x"',
         "index-url 'ftp://x' is not an http(s) URL"),
        ('workflow = "../../x.yml"',
         "workflow = '../../x.yml' in"),
        ('workflow = ".github/workflows/release.yml"',
         "is not the name of a file in .github/workflows"),
    ],
)  # fmt: skip
def test_a_bad_publish_table_is_refused_at_load(tmp_path: Path, publish: str, needle: str) -> None:
    root = project_with(tmp_path, with_table("") + f"\n[tool.release.publish]\n{publish}\n")
    proc = run_release("build-linux", "--project", str(root))
    assert_refused(proc.stdout, proc.returncode, 17, (needle,))


SECRET = "pypi-AgEIcHlwaS5vcmcSECRETSECRET"


@pytest.mark.parametrize(
    ("publish", "code", "needles"),
    [
        ('index-url = "pypi.org/simple/"', 17,
         ("index-url 'pypi.org/simple/' is not an http(s) URL", '"https://pypi.org/simple/"')),
        ('index-url = "http://[::1/simple/"', 17,
         ("index-url 'http://[::1/simple/' is not a URL (Invalid IPv6 URL)",)),
        ('index-url = ""', 17, ("index-url '' is empty", "leave it out")),
        ('index-url = "https://pypi.example:99999/simple/"', 17, ("Port out of range",)),
        (f'repository = "http://__token__:{SECRET}@127.0.0.1:8080/legacy/"', 58,
         ("repository holds a user name or password", "PYPI_API_TOKEN")),
        (f'repository = "pypi"\nindex-url = "https://__token__:{SECRET}@pypi.example/simple/"',
         58, ("index-url holds a user name or password", "PYPI_API_TOKEN")),
    ],
)  # fmt: skip
def test_a_bad_url_is_refused_when_the_config_loads(
    tmp_path: Path, publish: str, code: int, needles: tuple[str, ...]
) -> None:
    root = project_with(tmp_path, with_table("") + f"\n[tool.release.publish]\n{publish}\n")
    proc = run_release("check", "--project", str(root))
    output = proc.stdout + proc.stderr
    assert_refused(output, proc.returncode, code, needles)
    assert SECRET not in output  # the refusal does not echo the secret either
    assert "$ " not in proc.stdout  # refused at load: nothing ran


def test_a_repository_option_with_a_token_is_refused_unechoed(tmp_path: Path) -> None:
    root = tiny_project(tmp_path)
    url = f"http://__token__:{SECRET}@127.0.0.1:8080/legacy/"
    proc = run_release("publish", "--dry-run", "--project", str(root), "--repository", url)
    output = proc.stdout + proc.stderr
    assert_refused(output, proc.returncode, 58, ("--repository holds a user name or password",
                                                 "PYPI_API_TOKEN"))  # fmt: skip
    assert SECRET not in output
    assert not (root / "dist").exists()  # refused before the stage: no record holds it


# --- workflow files that are not files, not UTF-8, or not what GitHub reads -----------------------


def _release_yml_a_directory(root: Path) -> None:
    (root / ".github" / "workflows" / "release.yml").unlink()
    (root / ".github" / "workflows" / "release.yml").mkdir()


def _release_yml_a_loop(root: Path) -> None:
    (root / ".github" / "workflows" / "release.yml").unlink()
    (root / ".github" / "workflows" / "release.yml").symlink_to("release.yml")


def _tags(value: str) -> object:
    def edit(root: Path) -> None:
        path = root / ".github" / "workflows" / "release.yml"
        text = path.read_text()
        assert '    tags: ["v*"]\n' in text
        path.write_text(text.replace('    tags: ["v*"]\n', f"    tags:{value}\n"))

    return edit


def _ci_yml_latin_1(root: Path) -> None:
    with (root / ".github" / "workflows" / "release-dry-run.yml").open("ab") as fh:
        fh.write("# café\n".encode("latin-1"))


@pytest.mark.parametrize(
    ("spoil", "needle"),
    [
        (_release_yml_a_directory, "release.yml: is a directory, not a workflow file"),
        (_release_yml_a_loop, "release.yml: is a symbolic link that loops"),
        (_tags(""), "its push tags filter (on.push.tags) is empty, not a list of tag patterns"),
        (
            _tags(" 5"),
            "its push tags filter (on.push.tags) is an integer (5), not a list of tag patterns",
        ),
        (_ci_yml_latin_1, "release-dry-run.yml: is not UTF-8 text (byte 0xe9"),
    ],
    ids=["directory", "symlink-loop", "tags-empty", "tags-a-number", "not-utf-8"],
)
def test_check_names_a_workflow_it_cannot_read(tmp_path: Path, spoil: object, needle: str) -> None:
    root = tiny_project(tmp_path)
    spoil(root)  # type: ignore[operator]
    proc = run_release("check", "--project", str(root))
    output = proc.stdout + proc.stderr
    assert_refused(output, proc.returncode, 60, (needle,))
    assert "bug in nox-release" not in output
    assert output.count(needle) == 1, output
    # One cause, said once: the schema's "None is not of type 'array'" says it again.
    assert "[workflow-schema] .github/workflows/release.yml: $.on.push.tags" not in output
    if spoil is _release_yml_a_directory:
        assert "no such file" not in output


@pytest.mark.parametrize("mode", ["--check", "--write"])
def test_workflows_on_a_directory_says_it_is_one(tmp_path: Path, mode: str) -> None:
    root = tiny_project(tmp_path)
    _release_yml_a_directory(root)
    proc = run_release("workflows", mode, "--project", str(root))
    output = proc.stdout + proc.stderr
    assert_refused(
        output,
        proc.returncode,
        29,
        (".github/workflows/release.yml is a directory, where the workflow file must be",),
    )
    assert "differ" not in output and "--dist" not in output
    assert "/.release.yml." not in output  # no temporary file named
    assert (root / ".github" / "workflows" / "release.yml").is_dir()  # left as it was


def test_workflows_check_on_a_file_that_is_not_utf_8(tmp_path: Path) -> None:
    root = tiny_project(tmp_path)
    _ci_yml_latin_1(root)
    proc = run_release("workflows", "--check", "--project", str(root))
    output = proc.stdout + proc.stderr
    assert_refused(
        output,
        proc.returncode,
        60,
        (".github/workflows/release-dry-run.yml is not UTF-8 text (byte 0xe9", "workflows --write"),
    )
    proc = run_release("workflows", "--write", "--project", str(root))
    assert proc.returncode == 0, proc.stdout
    assert "wrote .github/workflows/release-dry-run.yml" in proc.stdout


def test_workflows_write_names_the_file_in_the_way(tmp_path: Path) -> None:
    root = tiny_project(tmp_path)
    (root / ".github" / "workflows" / "release-dry-run.yml").unlink()
    (root / ".github" / "workflows" / "release.yml").unlink()
    (root / ".github" / "workflows").rmdir()
    (root / ".github").rmdir()
    (root / ".github").write_text("a file")
    proc = run_release("workflows", "--write", "--project", str(root))
    assert_refused(
        proc.stdout,
        proc.returncode,
        29,
        (
            ".github is a file, where the directory of .github/workflows/",
            "remove or rename .github",
        ),
    )
    assert "workflows is in the way" not in proc.stdout and "--dist" not in proc.stdout


# --- init on repositories that cannot take what it writes ----------------------------------------


def package_repository(tmp_path: Path) -> Path:
    """A repository with a package and nothing of nox-release."""
    root = tmp_path / "repo"
    write_text(root / "pyproject.toml", TINY_PYPROJECT[: TINY_PYPROJECT.index("[tool.release]")])
    write_text(root / "tiny" / "__init__.py", "")
    write_text(root / "README.md", "# tiny\n")
    return root


def run_init(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[str, int]:
    proc = run_release("init", "--project", str(root), "--from", str(REPO), *args, env=env)
    return proc.stdout + proc.stderr, proc.returncode


@pytest.mark.parametrize("name", ["pyproject.toml", "noxfile.py"])
def test_init_names_a_directory_where_it_writes_a_file(tmp_path: Path, name: str) -> None:
    root = package_repository(tmp_path)
    if name == "pyproject.toml":
        (root / name).unlink()
    (root / name).mkdir()
    before = {p.relative_to(root).as_posix(): p.is_file() and p.read_bytes()
              for p in root.rglob("*")}  # fmt: skip
    output, code = run_init(root)
    assert_refused(output, code, 29, (f"{root / name} is a directory",))
    assert "packages found" not in output and "no Python package" not in output
    assert "--dist" not in output and "--record-dir" not in output
    assert ".noxfile.py." not in output and ".pyproject.toml." not in output
    # Refused before anything was written.
    after = {p.relative_to(root).as_posix(): p.is_file() and p.read_bytes()
             for p in root.rglob("*")}  # fmt: skip
    assert after == before


def test_init_with_a_pip_index_url_that_is_no_url(tmp_path: Path) -> None:
    root = package_repository(tmp_path)
    proc = run_release("init", "--project", str(root), env={"PIP_INDEX_URL": "not-a-url"})
    output = proc.stdout + proc.stderr
    assert_refused(output, proc.returncode, 66, ("PIP_INDEX_URL='not-a-url' is not an http(s) URL",
                                                 "unset it for PyPI"))  # fmt: skip
    assert not (root / "noxfile.py").exists()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"[project\nname = 'x'\n", "pyproject.toml is not valid TOML: Expected ']'"),
        (b"\x00\x01\xff\xfe\x89PNG binary", "pyproject.toml is not valid TOML: it is not UTF-8"),
    ],
    ids=["broken", "binary"],
)
def test_init_reports_a_broken_root_pyproject_as_broken(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    root = package_repository(tmp_path)
    (root / "pyproject.toml").write_bytes(content)
    write_text(root / "crates" / "a" / "pyproject.toml", '[project]\nname = "a"\nversion = "1"\n')
    output, code = run_init(root)
    assert_refused(output, code, 18, (needle, "then run init again"))
    assert "packages found" not in output
    assert (root / "pyproject.toml").read_bytes() == content


def test_init_names_the_file_in_the_way_of_the_workflows(tmp_path: Path) -> None:
    root = package_repository(tmp_path)
    (root / ".github").write_text("a file, where the workflows' directory goes")
    before = (root / "pyproject.toml").read_text()
    output, code = run_init(root)
    assert_refused(output, code, 29, (f"{root / '.github'} is a file, where a directory of",
                                      f"remove or rename {root / '.github'}"))  # fmt: skip
    assert "workflows is in the way" not in output and "--dist" not in output
    assert (root / "pyproject.toml").read_text() == before
    assert not (root / "noxfile.py").exists()


@pytest.mark.parametrize(("written", "needles"), [
    ("1", ("[package] version in Cargo.toml is an integer (1)", 'version = "1.0.0"')),
    ("1.2", ("[package] version in Cargo.toml is a float (1.2)", 'version = "1.2.0"')),
])  # fmt: skip
def test_a_cargo_version_that_is_a_number_is_named(
    tmp_path: Path, written: str, needles: tuple[str, ...]
) -> None:
    root = tmp_path / "crate"
    write_text(root / "pyproject.toml", (
        '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n\n'
        '[project]\nname = "crate"\ndynamic = ["version"]\n\n[tool.release]\n'
    ))  # fmt: skip
    write_text(root / "Cargo.toml", f'[package]\nname = "crate"\nversion = {written}\n')
    write_text(root / "src" / "lib.rs", "")
    proc = run_release("check", "--project", str(root))
    assert_refused(proc.stdout, proc.returncode, 60, needles)
    assert "has no [package] version" not in proc.stdout


def test_check_names_a_workflows_directory_that_is_a_file(tmp_path: Path) -> None:
    root = tiny_project(tmp_path)
    workflows = root / ".github" / "workflows"
    for path in workflows.iterdir():
        path.unlink()
    workflows.rmdir()
    workflows.write_text("a file")
    proc = run_release("check", "--project", str(root))
    assert_refused(
        proc.stdout,
        proc.returncode,
        60,
        (".github/workflows: is a file, where the workflows' directory must be",),
    )
    assert "no such file" not in proc.stdout
