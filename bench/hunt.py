"""A fault hunt anyone can re-run: ``nox -s bench -- hunt [--quick] [--only SUBSTRING]``.

Runs ``python -m release <stage>`` as a user does, one child process (in a process group of
its own) per case, over the kinds of bad input and faults of issue 14 (items 15-18, and the
trust items: tokens):

- stdout closed (``>&-``) or full (``> /dev/full``) for validate, check, init,
  publish --dry-run and github-release --dry-run;
- SIGTERM and SIGINT to the process group at a few points of a stage;
- an immutable dist dir (``chattr +i``, root only), a full disk (a 256 KiB tmpfs, root only);
- ``.release`` a file, release.yml a directory, a symlink loop, an alias bomb, odd ``tags:``;
- a broken, binary or directory pyproject.toml, a bad tag-pattern, a Cargo version number;
- URLs with credentials, bad index URLs, ``GITHUB_API_URL=not-a-url``, ``PIP_INDEX_URL=...``;
- an emulated index (tests/emulators/pypi.py) that quotes the token back, answers 200 HTML.

For every case it records the exit code and whether the output holds a traceback, whether the
exit code is 70 (nox-release's own bug), debris (entries of the dist dir's ``.release/tmp``,
``nox-release-*`` entries in the case's own temp dir, new dot files beside the project's and
dist dir's files, processes left: found by a marker variable in ``/proc/*/environ``, then
killed) and tokens (a marker value in ``PYPI_API_TOKEN`` and ``GITHUB_TOKEN``, searched in
stdout, stderr and every file under the project, dist and temp dirs). The argv of child
processes is out of reach here: a child that lived and died during the case is not seen.

Prints a table and totals; the last line is
``hunt: N cases, T tracebacks, E exit-70, D debris, K tokens``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from conftest import tiny_project  # noqa: E402
from emulators.github_oidc import GitHubOIDC  # noqa: E402
from emulators.pypi import PyPI  # noqa: E402

# conftest gives the tests a cache dir of their own when imported; the hunt makes its own.
_TEST_CACHE = Path(os.environ.get("NOX_RELEASE_CACHE", "/nonexistent"))
if _TEST_CACHE.name.startswith("nox-release-test-cache-"):
    shutil.rmtree(_TEST_CACHE, ignore_errors=True)

RUN_ID = uuid.uuid4().hex[:12]
MARKER = "NOX_RELEASE_HUNT_CASE"
PYPI_TOKEN = f"pypi-hunt{RUN_ID}secret"
GITHUB_TOKEN = f"ghp_hunt{RUN_ID}secret"
TOKENS = (PYPI_TOKEN, GITHUB_TOKEN, PYPI_TOKEN.encode().hex())
CASE_TIMEOUT = 150.0
STOP_WITHIN = 10.0  # seconds a run may take to stop after SIGINT or SIGTERM
IS_ROOT = os.geteuid() == 0


@dataclass
class Work:
    """One case's own copy of the validated tiny project, and its own temp dir."""

    root: Path
    project: Path
    dist: Path
    tmp: Path
    env: dict[str, str] = field(default_factory=dict)
    stdout: str = "pipe"  # pipe | closed | full
    signal_at: tuple[signal.Signals, float] | None = None  # to the group, after seconds
    cleanups: list[Callable[[], None]] = field(default_factory=list)


Argv = Callable[[Work], list[str]]
Prepare = Callable[[Work], None]


@dataclass
class Case:
    name: str
    kind: str
    argv: Callable[[Work], list[str]]
    prepare: Callable[[Work], None] = lambda work: None
    quick: bool = True
    root_only: bool = False


@dataclass
class Before:
    """The case's dirs before the run."""

    dot_entries: set[str]
    tokens: set[Path]
    adopted: dict[str, bytes]


@dataclass
class Result:
    case: Case
    code: int | None
    seconds: float
    traceback: bool
    debris: list[str]
    tokens: list[str]
    output: str
    skipped: str = ""


def stage(name: str, *extra: str) -> Callable[[Work], list[str]]:
    return lambda w: [name, "--project", str(w.project), *extra]


def in_dist(name: str, *extra: str) -> Callable[[Work], list[str]]:
    return lambda w: [name, "--project", str(w.project), "--dist", str(w.dist), *extra]


# --- the project every case starts from -------------------------------------------------------


def base_env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ACTIONS_"))}
    for name in ("CI", "RELEASE_PROJECT", "PIP_INDEX_URL", "TWINE_PASSWORD", "TWINE_USERNAME"):
        env.pop(name, None)
    env.update(
        PYTHONPATH=str(REPO),
        NOX_RELEASE_CACHE=str(cache),
        PYPI_API_TOKEN=PYPI_TOKEN,
        GITHUB_TOKEN=GITHUB_TOKEN,
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        NOX_RELEASE_RETRY_BACKOFF="0.05",
        NOX_RELEASE_LISTING_WAIT="2",
    )
    return env


def make_template(base: Path, env: dict[str, str]) -> Path:
    """The tiny project, built and validated, with a publish table."""
    project = tiny_project(base / "template")
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + '\n[tool.release.publish]\nenvironment = "pypi"\nworkflow = "release.yml"\n'
    )
    for name in ("build-linux", "sdist", "validate"):
        proc = subprocess.run(
            [sys.executable, "-m", "release", name, "--project", str(project)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            sys.exit(f"hunt: the template's {name} failed:\n{proc.stdout}{proc.stderr}")
    return project


# --- faults a case prepares ---------------------------------------------------------------------


def edit_pyproject(old: str, new: str) -> Callable[[Work], None]:
    def prepare(w: Work) -> None:
        path = w.project / "pyproject.toml"
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))

    return prepare


def add_to_release_table(line: str) -> Callable[[Work], None]:
    return edit_pyproject(
        '[tool.release]\nbackend = "build"\n', f'[tool.release]\nbackend = "build"\n{line}\n'
    )


def add_to_publish_table(line: str) -> Callable[[Work], None]:
    return edit_pyproject('workflow = "release.yml"\n', f'workflow = "release.yml"\n{line}\n')


def replace_path(relative: str, how: str) -> Callable[[Work], None]:
    """``relative`` (in the project) made a directory, a file, a symlink loop or binary."""

    def prepare(w: Work) -> None:
        path = w.project / relative
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        if how == "dir":
            path.mkdir()
            (path / "inside").write_text("x")
        elif how == "file":
            path.write_text("a file where a directory belongs\n")
        elif how == "loop":
            path.symlink_to(path.name)
        elif how == "binary":
            path.write_bytes(bytes(range(256)) * 4)
        elif how == "bad-toml":
            path.write_text('[project\nname = "tiny"\n')
        elif how == "latin1":
            path.write_bytes("on:\n  push:\n    tags: ['v*']  # caf\xe9\n".encode("latin-1"))
        elif how == "empty-tags":
            path.write_text("on:\n  push:\n    tags:\njobs: {}\n")
        elif how == "number-tags":
            path.write_text("on:\n  push:\n    tags: 3\njobs: {}\n")
        elif how == "alias-bomb":
            lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
            for i, name in enumerate("bcdefghi"):
                prev = "abcdefghi"[i]
                lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
            path.write_text("\n".join(lines) + "\non: {push: {tags: ['v*']}}\njobs: {}\n")
        else:
            raise ValueError(how)

    return prepare


def dist_dot_release_file(w: Work) -> None:
    shutil.rmtree(w.dist / ".release")
    (w.dist / ".release").write_text("not a directory")


def immutable(target: str) -> Callable[[Work], None]:
    def prepare(w: Work) -> None:
        path = w.project / target
        subprocess.run(["chattr", "+i", str(path)], check=True)
        w.cleanups.append(lambda: subprocess.run(["chattr", "-i", str(path)], check=False))

    return prepare


def full_disk(what: str) -> Callable[[Work], None]:
    """A 256 KiB tmpfs, filled: the dist dir (copied in first), or the temp dir."""

    def prepare(w: Work) -> None:
        mount = w.root / "small"
        mount.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                       check=True)  # fmt: skip
        w.cleanups.append(lambda: subprocess.run(["umount", "-l", str(mount)], check=False))
        if what == "dist":
            shutil.copytree(w.dist, mount / "dist")
            w.dist = mount / "dist"
        elif what == "project":  # the dist dir stays where the config says: in the project
            shutil.copytree(w.project, mount / w.project.name, symlinks=True)
            w.project = mount / w.project.name
            w.dist = w.project / "dist"
        else:
            w.env["TMPDIR"] = str(mount)
        filler = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(filler, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(filler)

    return prepare


def fresh_init_project(w: Work) -> None:
    """A project without [tool.release], as init finds it."""
    for name in (".github", "noxfile.py"):
        path = w.project / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    edit_pyproject('[tool.release]\nbackend = "build"\n', "[tool.other]\nx = 1\n")(w)
    text = (w.project / "pyproject.toml").read_text()
    cut = text.index("[tool.release.wheels]")
    (w.project / "pyproject.toml").write_text(text[:cut])


def nothing(w: Work) -> None:
    pass


def make_dir(relative: str) -> Prepare:
    return lambda w: (w.project / relative).mkdir(parents=True, exist_ok=True)


def then(*steps: Callable[[Work], None]) -> Callable[[Work], None]:
    def prepare(w: Work) -> None:
        for step in steps:
            step(w)

    return prepare


def set_env(**values: str) -> Callable[[Work], None]:
    return lambda w: w.env.update(values)


def stdout_to(how: str) -> Callable[[Work], None]:
    def prepare(w: Work) -> None:
        w.stdout = how

    return prepare


def signal_after(sig: signal.Signals, seconds: float) -> Callable[[Work], None]:
    def prepare(w: Work) -> None:
        w.signal_at = (sig, seconds)

    return prepare


# --- the cases ----------------------------------------------------------------------------------


def cargo_version(written: str) -> Callable[[Work], None]:
    """A maturin project whose Cargo.toml gives ``version = WRITTEN``."""

    def prepare(w: Work) -> None:
        (w.project / "Cargo.toml").write_text(f'[package]\nname = "tiny"\nversion = {written}\n')
        edit_pyproject('version = "1.0"', 'dynamic = ["version"]')(w)
        edit_pyproject('"setuptools.build_meta"', '"maturin"')(w)
        edit_pyproject('backend = "build"', 'backend = "maturin"')(w)

    return prepare


def on_the_index(pypi: PyPI) -> Prepare:
    """The index holds the release, so github-release goes on to GitHub."""

    def prepare(w: Work) -> None:
        for path in w.dist.iterdir():
            if path.is_file():
                shutil.copy2(path, pypi.packages / path.name)
        add_to_publish_table(f'index-url = "{pypi.index_url}"')(w)

    return prepare


def cases(pypi: PyPI) -> list[Case]:
    found: list[Case] = []

    def add(name: str, kind: str, argv: Argv, *prepare: Prepare, quick: bool = True,
            root_only: bool = False) -> None:  # fmt: skip
        found.append(Case(name, kind, argv, then(*prepare), quick=quick, root_only=root_only))

    # A local checkout: the noxfile init writes cannot pin a version PyPI does not have.
    init = stage("init", "--from", str(REPO))
    publish_dry = stage("publish", "--dry-run")
    github_dry = stage("github-release", "--dry-run")
    stdout_stages: list[tuple[str, Argv, Prepare]] = [
        ("validate", stage("validate"), nothing),
        ("check", stage("check"), nothing),
        ("init", init, fresh_init_project),
        ("publish --dry-run", publish_dry, nothing),
        ("github-release --dry-run", github_dry, nothing),
    ]
    for how in ("closed", "full"):
        for label, argv, prepare in stdout_stages:
            add(f"{label} stdout {how}", "stdout", argv, prepare, stdout_to(how))

    for sig in (signal.SIGTERM, signal.SIGINT):
        # The rehearsal takes about 5 s here: its local index starting, twine, venv, pip.
        for at in (0.4, 1.2, 2.0, 2.8, 3.6, 4.4):
            add(f"publish --dry-run {sig.name} at {at}s", "signal", publish_dry,
                signal_after(sig, at), quick=at in (2.0, 3.6))  # fmt: skip
        for at in (0.8, 2.0):
            add(f"build-linux {sig.name} at {at}s", "signal", stage("build-linux"),
                signal_after(sig, at), quick=at == 2.0)  # fmt: skip
        add(f"validate {sig.name} at 0.7s", "signal", stage("validate"), signal_after(sig, 0.7),
            quick=False)  # fmt: skip
        # init writes its files about 0.4 s in: around that, the roll-back is what is hunted.
        for at in (0.25, 0.3, 0.35, 0.4, 0.45):
            add(f"init {sig.name} at {at}s", "signal", init, fresh_init_project,
                signal_after(sig, at), quick=at == 0.4)  # fmt: skip

    writers = [("validate", stage("validate")), ("sdist", stage("sdist")),
               ("build-linux", stage("build-linux")),
               ("publish --dry-run", publish_dry)]  # fmt: skip
    for name, argv in writers:
        add(f"{name}, dist chattr +i", "read-only", argv, immutable("dist"), root_only=True)
        add(f"{name}, dist/.release chattr +i", "read-only", argv, immutable("dist/.release"),
            root_only=True, quick=False)  # fmt: skip
    add("init, .github/workflows chattr +i", "read-only", init, fresh_init_project,
        make_dir(".github/workflows"), immutable(".github/workflows"), root_only=True)  # fmt: skip

    for name, argv in (("validate", in_dist("validate")), ("sdist", in_dist("sdist")),
                       ("build-linux", in_dist("build-linux"))):  # fmt: skip
        add(f"{name}, dist on a full disk", "full-disk", argv, full_disk("dist"), root_only=True)
    add("publish --dry-run, TMPDIR on a full disk", "full-disk", publish_dry, full_disk("tmp"),
        root_only=True)  # fmt: skip
    add("init, project on a full disk", "full-disk", init, fresh_init_project,
        full_disk("project"), root_only=True)  # fmt: skip

    for name, argv in (("validate", stage("validate")), ("sdist", stage("sdist")),
                       ("publish --dry-run", publish_dry),
                       ("github-release --dry-run", github_dry)):  # fmt: skip
        add(f"{name}, .release a file", "records", argv, dist_dot_release_file)

    release_yml = ".github/workflows/release.yml"
    for how in ("dir", "loop", "empty-tags", "number-tags", "alias-bomb", "latin1"):
        add(f"check, release.yml {how}", "workflow", stage("check"), replace_path(release_yml, how))
    for how in ("dir", "latin1"):
        add(f"workflows --check, release.yml {how}", "workflow", stage("workflows", "--check"),
            replace_path(release_yml, how))  # fmt: skip
    add("workflows --write, release.yml dir", "workflow", stage("workflows", "--write"),
        replace_path(release_yml, "dir"))  # fmt: skip
    add("workflows --write, .github a file", "workflow", stage("workflows", "--write"),
        replace_path(".github", "file"))  # fmt: skip

    for how in ("binary", "bad-toml", "dir"):
        for name, argv in (("check", stage("check")), ("validate", stage("validate")),
                           ("init", init)):  # fmt: skip
            add(
                f"{name}, pyproject.toml {how}", "config", argv, replace_path("pyproject.toml", how)
            )
    add("init, noxfile.py a directory", "config", init, fresh_init_project,
        replace_path("noxfile.py", "dir"))  # fmt: skip
    add("init, .github a file", "config", init, fresh_init_project, replace_path(".github", "file"))
    for pattern in ("v{version:>10}", "v{ver}", "{version}{version}", "nover"):
        add(f"check, tag-pattern {pattern!r}", "config", stage("check"),
            add_to_release_table(f'tag-pattern = "{pattern}"'))  # fmt: skip
    for written in ("1", "1.2", '"not a version"', "[1]"):
        add(f"check, Cargo version = {written}", "config", stage("check"), cargo_version(written))

    credentials_url = f"http://__token__:{PYPI_TOKEN}@127.0.0.1:9/legacy/"
    add("publish --dry-run --repository with credentials", "url",
        stage("publish", "--dry-run", "--repository", credentials_url))  # fmt: skip
    add("publish --dry-run, repository with credentials in config", "url", publish_dry,
        add_to_publish_table(f'repository = "{credentials_url}"'))  # fmt: skip
    for url in ("pypi.org/simple/", "http://[::1/simple/", "", "ftp://example.com/simple/",
                f"https://__token__:{PYPI_TOKEN}@pypi.org/simple/"):  # fmt: skip
        add(f"publish --dry-run, index-url = {url!r}"[:62], "url", publish_dry,
            add_to_publish_table(f'index-url = "{url}"'))  # fmt: skip

    for url in ("not-a-url", "http://127.0.0.1:99999", "http://127.0.0.1:9/api", "https://"):
        for dry in (True, False):
            add(f"github-release{' --dry-run' if dry else ''}, GITHUB_API_URL={url}", "url",
                stage("github-release", *(("--dry-run",) if dry else ("--tag", "v1.0"))),
                set_env(GITHUB_API_URL=url, GITHUB_REPOSITORY="octo-org/tiny"),
                on_the_index(pypi),
                quick=not dry)  # fmt: skip
    add("publish --dry-run, PIP_INDEX_URL=not-a-url", "url", publish_dry,
        set_env(PIP_INDEX_URL="not-a-url"))  # fmt: skip
    add("init, PIP_INDEX_URL=not-a-url", "url", stage("init"), fresh_init_project,
        set_env(PIP_INDEX_URL="not-a-url"))  # fmt: skip

    # The emulated index: each fault is armed in the hunt process just before the case runs.
    def armed(arm: Callable[[], object]) -> Prepare:
        def prepare(w: Work) -> None:
            arm()

        return prepare

    upload = stage("publish", "--repository", pypi.upload_url)
    add("publish, index quotes the token back", "index", upload, armed(lambda: pypi.echo_token(3)))
    add("publish, index answers 200 HTML", "index", upload, armed(lambda: pypi.html_ok_uploads(3)))
    add("publish, index answers 503 x5", "index", upload, armed(lambda: pypi.fail_uploads(5)))
    add("publish, index drops the connection", "index", upload,
        armed(lambda: pypi.drop_before_store(5)))  # fmt: skip
    add("publish, token the index does not know", "index", upload,
        armed(lambda: pypi.api_tokens.discard(PYPI_TOKEN)))  # fmt: skip
    add("publish, index listing answers 503", "index", upload,
        armed(lambda: pypi.fail_index_queries(20)))  # fmt: skip
    return found


# --- running one case -------------------------------------------------------------------------


def marked_processes(value: str) -> list[int]:
    needle = f"{MARKER}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                stat = (entry / "stat").read_text()
                if stat.rsplit(") ", 1)[-1][:1] != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.exists():
            for path in root.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    yield path


def dot_entries(*roots: Path) -> set[str]:
    found = set()
    for root in roots:
        with suppress(OSError):
            found |= {str(p) for p in root.iterdir() if p.name.startswith(".")}
    return found


def adopted_files(project: Path) -> dict[str, bytes]:
    """What init writes (pyproject.toml, noxfile.py, .github/): a run that fails must leave
    them as they were (init is all or nothing)."""
    found = {}
    for path in [project / "pyproject.toml", project / "noxfile.py",
                 *files_under(project / ".github")]:  # fmt: skip
        with suppress(OSError):
            found[str(path.relative_to(project))] = path.read_bytes()
    return found


def holding_tokens(work: Work) -> set[Path]:
    """The files under the case's dirs that hold a marker token."""
    found = set()
    for path in files_under(work.project, work.dist, work.tmp):
        with suppress(OSError):
            if any(token.encode() in path.read_bytes() for token in TOKENS):
                found.add(path)
    return found


def look_after(
    work: Work, marker: str, before: Before, out: bytes, err: bytes, *, failed: bool
) -> tuple[list[str], list[str]]:
    """What the case left behind, and where a token went: (debris, tokens)."""
    left = marked_processes(marker)
    debris = [f"process {pid}: {proc_cmdline(pid)}" for pid in left]
    for pid in left:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    scratch = work.dist / ".release" / "tmp"
    if scratch.is_dir():
        debris += [str(p) for p in scratch.iterdir()]
    for tmp in {work.tmp, Path(work.env.get("TMPDIR", work.tmp))}:
        with suppress(OSError):
            debris += [str(p) for p in tmp.iterdir() if p.name.startswith("nox-release")]
    new_entries = dot_entries(work.project, work.dist) - before.dot_entries
    if not failed:  # .github and .nox are what init and nox make on purpose
        new_entries = {p for p in new_entries if Path(p).name not in (".github", ".nox")}
    debris += sorted(new_entries)
    if failed:
        after = adopted_files(work.project)
        debris += [f"{name} changed by a failed run" for name in sorted({*after, *before.adopted})
                   if after.get(name) != before.adopted.get(name)]  # fmt: skip
    # Python's tempfile falls back to /tmp when TMPDIR is full: a scratch dir the output names.
    text = (out + err).decode(errors="replace")
    named = set(re.findall(r"(/tmp/nox-release-[A-Za-z0-9_]+-[A-Za-z0-9_]+)", text))
    debris += sorted(p for p in named if Path(p).exists() and p not in debris)
    tokens = [where for where, text in (("stdout", out), ("stderr", err))
              if any(token.encode() in text for token in TOKENS)]  # fmt: skip
    # A file that held a token before the run (a URL with credentials the case wrote into
    # pyproject.toml) is the case's input, not a leak.
    tokens += [str(p) for p in sorted(holding_tokens(work) - before.tokens)]
    return debris, tokens


def proc_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "?"


def run_case(case: Case, index: int, template: Path, base: Path, env: dict[str, str]) -> Result:
    if case.root_only and not IS_ROOT:
        return Result(case, None, 0.0, False, [], [], "", skipped="needs root")
    root = base / f"case-{index:03d}"
    shutil.copytree(template.parent, root, symlinks=True)
    tmp = root / "tmp"
    tmp.mkdir()
    work = Work(root, root / template.name, root / template.name / "dist", tmp)
    marker = f"{RUN_ID}-{index}"
    with ExitStack() as stack:
        stack.callback(lambda: [cleanup() for cleanup in reversed(work.cleanups)])
        case.prepare(work)
        before = Before(
            dot_entries(work.project, work.dist), holding_tokens(work), adopted_files(work.project)
        )
        child_env = {**env, "TMPDIR": str(tmp), MARKER: marker, **work.env}
        command = [sys.executable, "-m", "release", *case.argv(work)]
        if work.stdout == "closed":
            command = ["sh", "-c", 'exec "$@" >&-', "sh", *command]
        stdout: int | object = subprocess.PIPE
        if work.stdout == "full":
            stdout = stack.enter_context(Path("/dev/full").open("wb"))
        started = time.monotonic()
        proc = subprocess.Popen(
            command, cwd=root, env=child_env, stdout=stdout,  # type: ignore[arg-type]
            stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        timeout = CASE_TIMEOUT
        if work.signal_at:
            sig, at = work.signal_at
            try:
                proc.wait(timeout=at)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
        try:
            out, err = proc.communicate(timeout=timeout)
            code: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            code = None
        seconds = time.monotonic() - started
        time.sleep(0.3)  # a process the stage leaves may still be starting to exit
        # A negative code: a signal landed as the interpreter exited, its work done.
        failed = code is None or code > 0
        debris, tokens = look_after(work, marker, before, out or b"", err or b"", failed=failed)
        output = (out or b"").decode(errors="replace") + (err or b"").decode(errors="replace")
    shutil.rmtree(root, ignore_errors=True)
    return Result(case, code, seconds, "Traceback" in output, debris, tokens, output)


def reset(pypi: PyPI) -> None:
    """The index as new for each case: no files, no fault left over from the case before
    (a fault is armed for a number of requests, and a case may not use them all)."""
    with pypi._lock:
        for queue in pypi._faults.values():
            queue.clear()
        pypi._retry_after.clear()
        pypi._stalls.clear()
        pypi.api_tokens.add(PYPI_TOKEN)
    for path in pypi.packages.rglob("*"):
        if path.is_file():
            path.unlink()


def slow_stop(result: Result) -> bool:
    """A signalled run that did not end soon after the signal: something held its exit."""
    signalled = result.case.kind == "signal" and result.code is not None
    return signalled and result.seconds > STOP_WITHIN + 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer cases (about half)")
    parser.add_argument("--only", default="", help="only the cases whose name holds this")
    parser.add_argument(
        "--show", action="store_true", help="print each case's output (its last 40 lines)"
    )
    options = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="hunt-"))
    env = base_env(base / "cache")
    started = time.monotonic()
    template = make_template(base, env)
    results: list[Result] = []
    with GitHubOIDC() as oidc, PyPI(oidc.signer, packages=base / "index") as pypi:
        pypi.api_tokens.add(PYPI_TOKEN)
        every = cases(pypi)
        chosen = [c for c in every if (c.quick or not options.quick) and options.only in c.name]
        print(f"hunt: {len(chosen)} of {len(every)} cases; template built in "
              f"{time.monotonic() - started:.0f}s", flush=True)  # fmt: skip
        for index, case in enumerate(chosen):
            reset(pypi)
            result = run_case(case, index, template, base, env)
            results.append(result)
            flags = [
                "TRACEBACK" * result.traceback,
                "EXIT-70" * (result.code == 70),
                f"DEBRIS {result.debris}" * bool(result.debris),
                f"TOKEN {result.tokens}" * bool(result.tokens),
                "TIMEOUT" * (result.code is None and not result.skipped),
                "SLOW-STOP" * slow_stop(result),
                result.skipped,
            ]
            shown = " ".join(f for f in flags if f)
            print(f"{case.kind:10} {case.name[:62]:62} {result.code!s:>5} "
                  f"{result.seconds:5.1f}s  {shown}", flush=True)  # fmt: skip
            if options.show:
                print("    | " + "\n    | ".join(result.output.splitlines()[-40:]))
    shutil.rmtree(base, ignore_errors=True)
    ran = [r for r in results if not r.skipped]
    skipped = len(results) - len(ran)
    print(f"\n{len(ran)} cases run ({skipped} skipped: not root) in "
          f"{time.monotonic() - started:.0f}s; the argv of child processes is not searched "
          "for tokens (out of reach here)")  # fmt: skip
    hangs = [r.case.name for r in ran if slow_stop(r) or r.code is None]
    print(f"hangs (no exit within {STOP_WITHIN:.0f}s of the signal, or a timeout): "
          f"{len(hangs)} {hangs if hangs else ''}")  # fmt: skip
    print(f"hunt: {len(ran)} cases, {sum(r.traceback for r in ran)} tracebacks, "
          f"{sum(r.code == 70 for r in ran)} exit-70, {sum(bool(r.debris) for r in ran)} debris, "
          f"{sum(bool(r.tokens) for r in ran)} tokens")  # fmt: skip


if __name__ == "__main__":
    main()
