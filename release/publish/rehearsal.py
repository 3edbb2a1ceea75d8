"""The dry run's rehearsal of an upload, on this machine.

A throwaway pypiserver on 127.0.0.1 with a fresh token; every file uploaded through the same
code path as the real upload (twine, token in the environment, retries, verification); then
the project installed from that index alone into a fresh virtual environment and its
top-level modules imported, from an empty directory so that the source tree cannot stand in
for the wheel. The server is stopped and its files removed at the end. Nothing reaches the
configured index.

Everything lives in one directory, ``$TMPDIR/nox-release-rehearsal-*``, the tools' own
temporary files included (their TMPDIR is inside it), locked by its run while the run lives.
An interruption stops the tools first (the runner), then the directory goes. A run killed
outright (SIGKILL) cannot clean up: the next dry run finds its directory by the free lock,
and its local index by the pid file it wrote and its command line, and removes both.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename

from ..context import RunContext
from ..dists import Distribution, read_distribution
from ..errors import CommandFailedError, RehearsalError
from ..locking import HeldLock
from ..records import Artifact
from ..runner import STOP_GRACE_S, Runner, child_env, interrupts_held
from .credentials import ApiToken
from .index import query
from .local_index import READY
from .plan import UPLOAD, make_plan
from .repository import Repository
from .upload import Outcome, upload
from .verify import verify

# Run inside the fresh environment: import every top-level module the installed project
# provides (packages, plain modules, extension modules), as a user's `import` would.
IMPORT_CHECK = """\
import importlib, importlib.metadata, sys
dist = importlib.metadata.distribution(sys.argv[1])
names = set()
for f in dist.files or ():
    top = f.parts[0] if f.parts else ""
    if not top or top.endswith((".dist-info", ".data", ".libs")) or top in ("__pycache__", ".."):
        continue
    if len(f.parts) > 1 or top.endswith((".py", ".so", ".pyd")):
        names.add(top.split(".")[0])
if not names:
    sys.exit("the installed project provides no module to import")
for name in sorted(names):
    importlib.import_module(name)
    print("imported", name)
"""


@dataclass
class Rehearsal:
    index_url: str = ""
    uploaded: list[str] = field(default_factory=list)
    installed: str | None = None  # the wheel pip chose
    imported: list[str] = field(default_factory=list)
    not_installed_because: str | None = None
    # The attestations signed against the throwaway local Sigstore, as publish.json records
    # a real publish's, under the identity the rehearsal made up for itself.
    attestations: dict[str, dict[str, object]] = field(default_factory=dict)
    signing_identity: str | None = None
    not_signed_because: str | None = None


def _installable(dists: Sequence[Distribution]) -> Distribution | None:
    """The wheel pip would pick for this interpreter, if any."""
    priority = {str(tag): i for i, tag in enumerate(sys_tags())}
    best: tuple[int, Distribution] | None = None
    for dist in dists:
        if not dist.is_wheel:
            continue
        ranks = [
            priority[str(t)] for t in parse_wheel_filename(dist.filename)[3] if str(t) in priority
        ]
        if ranks and (best is None or min(ranks) < best[0]):
            best = (min(ranks), dist)
    return best[1] if best else None


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


PREFIX = "nox-release-rehearsal-"
INDEX_MODULE = "release.publish.local_index"
_OWNER = ".owner.lock"
_INDEX_PID = "index.pid"
# A directory whose owner lock does not exist yet is being made, unless it is this old.
_UNLOCKED_FOR_S = 3600.0


@contextmanager
def rehearsal_directory(ctx: RunContext) -> Iterator[Path]:
    """A fresh directory for one rehearsal, locked while this run lives, removed at the end;
    what killed runs left is removed first."""
    for orphan in remove_orphans(ctx.runner):
        ctx.console.line(f"removed what a killed dry run left: {orphan}")
    scratch = Path(tempfile.mkdtemp(prefix=PREFIX))
    owner = HeldLock(scratch / _OWNER)
    try:
        owner.acquire()
        (scratch / "tmp").mkdir()
        yield scratch
    finally:
        # An interruption that lands in the clean-up would stop it half done: it waits.
        with interrupts_held():
            owner.release()
            removed = _remove(scratch)
        if not removed:
            ctx.console.warning(
                f"the dry run's directory {scratch} could not be removed",
                remedy="remove it by hand; the next dry run tries again.",
            )


def _remove(directory: Path) -> bool:
    # The tools were stopped, but the OS may still be closing their files (Windows).
    for _ in range(10):
        shutil.rmtree(directory, ignore_errors=True)
        if not directory.exists():
            return True
        time.sleep(0.1)
    return False


def remove_orphans(runner: Runner, tmp: Path | None = None) -> list[str]:
    """Remove the rehearsal directories of runs that were killed, stopping the local index
    each left listening; what was removed, said for the user. A directory whose run lives
    (its lock is held) or that is not ours is left alone, and so is any process that is not
    the index that directory's run started."""
    removed = []
    for entry in sorted(Path(tmp or tempfile.gettempdir()).glob(PREFIX + "*")):
        try:
            if entry.is_symlink() or not entry.is_dir() or not _ours(entry.stat().st_uid):
                continue
            lock = HeldLock(entry / _OWNER)
            try:
                if not lock.acquire(create=False):
                    continue  # its run is alive
            except FileNotFoundError:
                if time.time() - entry.stat().st_mtime < _UNLOCKED_FOR_S:
                    continue  # a run is making it
        except OSError:
            continue  # gone meanwhile, or not readable: not ours to judge
        try:
            index = _stop_orphaned_index(entry, runner)
            shutil.rmtree(entry, ignore_errors=True)
        finally:
            lock.release()
        stopped = f" and its local index (pid {index}), stopped" if index else ""
        removed.append(f"{entry}{stopped}")
    return removed


def _ours(uid: int) -> bool:
    return not hasattr(os, "getuid") or uid == os.getuid()


def _stop_orphaned_index(directory: Path, runner: Runner) -> int | None:
    """Stop the local index a killed run left in ``directory``, if it is still running; its
    pid. Only a process whose command line is this module serving this directory is ours."""
    try:
        pid = int((directory / _INDEX_PID).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    if pid <= 1 or not _is_index_of(pid, directory, runner):
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)
    return pid


def _is_index_of(pid: int, directory: Path, runner: Runner) -> bool:
    packages = {str(directory / "packages"), str((directory / "packages").resolve())}
    proc = Path(f"/proc/{pid}")
    if Path("/proc/self/cmdline").is_file():
        try:
            args = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            uid = proc.stat().st_uid
        except OSError:
            return False  # no such process
        return _ours(uid) and INDEX_MODULE in args and bool(packages & set(args))
    if sys.platform == "win32" or runner.which("ps") is None:
        return False  # cannot tell: leave it
    result = runner.run(["ps", "-o", "uid=,command=", "-p", str(pid)],
                        check=False, quiet=True, record=False)  # fmt: skip
    if result.returncode != 0 or not result.output.strip():
        return False
    owner, _, command = result.output.strip().partition(" ")
    args = command.split()
    return (
        owner.isdigit()
        and _ours(int(owner))
        and INDEX_MODULE in args
        and any(p in args for p in packages)
    )


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"  # exited, not yet reaped
    except (OSError, IndexError):
        return not stat.parent.exists() and Path("/proc/self").exists()


def rehearse(
    ctx: RunContext,
    dists: Sequence[Distribution],
    project: str,
    version: str,
    *,
    sign: bool = False,
) -> Rehearsal:
    """``sign``: the real publish would sign attestations; the rehearsal signs them against
    a throwaway local Sigstore and uploads them with the files."""
    result = Rehearsal()
    token = secrets.token_urlsafe(32)
    ctx.console.register_secret(token)
    with rehearsal_directory(ctx) as scratch:
        packages = scratch / "packages"
        packages.mkdir()
        env = child_env(extra={"NOX_RELEASE_INDEX_TOKEN": token})
        with ctx.runner.background(
            [sys.executable, "-m", INDEX_MODULE, str(packages), str(scratch / _INDEX_PID)],
            ready=READY,
            env=env,
            why="the dry run's local index",
        ) as line:
            base = line[len(READY) :].strip()
            # pypiserver takes uploads at its root (PyPI: /legacy/).
            repository = Repository("local index", base, f"{base}simple/")
            result.index_url = repository.index_url
            artifacts = {d.filename: d.sha256 for d in dists}
            listing = query(repository.index_url, project)
            steps = make_plan(
                [Artifact(d.filename, d.size, d.sha256) for d in dists], listing, closes_old=False
            )
            by_name = {d.filename: d.path for d in dists}
            files = [by_name[s.artifact.name] for s in steps if s.action == UPLOAD]
            attestations: dict[str, Path] = {}
            if sign:
                attestations = _rehearse_signing(
                    ctx,
                    files,
                    artifacts,
                    project=project,
                    version=version,
                    result=result,
                    scratch=scratch,
                )
            outcome = Outcome()
            upload(
                ctx,
                files,
                repository,
                credentials=ApiToken(token, "a one-run token of the local index"),
                landed=lambda: query(repository.index_url, project),
                expected=artifacts,
                outcome=outcome,
                attestations=attestations,
            )
            result.uploaded = outcome.uploaded
            verify(query(repository.index_url, project), artifacts, repository.index_url)
            _install_and_import(
                ctx, dists, project, version, scratch=scratch, repository=repository, result=result
            )
    return result


def rehearsal_attestations(ctx: RunContext) -> Path:
    """Where the rehearsal keeps its attestations: under the records' directory, never
    beside the files, where a real upload (twine's ``--attestations``) would pick them up."""
    return (ctx.record_dir or ctx.dist / ".release") / "rehearsal-attestations"


def _rehearse_signing(
    ctx: RunContext,
    files: Sequence[Path],
    sha256: dict[str, str],
    *,
    project: str,
    version: str,
    result: Rehearsal,
    scratch: Path,
) -> dict[str, Path]:
    """Sign ``files`` as the real publish would, against a throwaway local Sigstore on
    127.0.0.1 (its CA, its log, its trust root written for this run and removed after), as
    an identity of the rehearsal's own: a workflow token it signs itself, which only that
    Sigstore trusts. Each attestation is verified with sigstore-python's Verifier against
    the local trust root before the upload, as the real one is."""
    from . import attest  # sigstore-python only when signing

    problem = attest.unsupported()
    if problem is not None:
        result.not_signed_because = problem.cause
        ctx.console.line(f"  note: signing not rehearsed: {problem.cause}")
        return {}
    from .local_jwt import Signer, github_claims
    from .local_sigstore import LocalSigstore

    publish = ctx.config.publish
    repository = ctx.environ.get("GITHUB_REPOSITORY") or f"rehearsal/{project}"
    issuer = Signer()

    def token() -> str:
        return issuer.sign(github_claims(
            repository=repository, workflow=publish.workflow, ref=f"refs/tags/v{version}",
            environment=publish.environment, aud="sigstore",
        ))  # fmt: skip

    kept = rehearsal_attestations(ctx)
    # A rehearsal's attestations are of a Sigstore gone with its run: never reused.
    for old in kept.glob(f"*{attest.SUFFIX}") if kept.is_dir() else ():
        old.unlink()
    # Its trust root in the rehearsal's directory: a killed run's goes with the rest of it.
    with LocalSigstore(issuer, directory=scratch) as sigstore:
        local = attest.Sigstore(sigstore.trust_config_path.read_text(encoding="utf-8"))
        ctx.console.line(
            f"signing {len(files)} file(s) against a throwaway local Sigstore ({sigstore.url})"
        )
        signed = attest.sign_all(
            files, sha256=sha256, token=token, sigstore=local, console=ctx.console,
            directory=kept,
        )  # fmt: skip
    result.attestations = {s.file: s.record() for s in signed}
    result.signing_identity = signed[0].identity if signed else attest.identity_of(token())
    ctx.console.line(
        f"  signed as the rehearsal's own identity, {result.signing_identity} (not this "
        f"workflow's: only a real publish has it); kept in {kept}"
    )
    return {s.file: s.attestation for s in signed}


def _install_and_import(
    ctx: RunContext,
    dists: Sequence[Distribution],
    project: str,
    version: str,
    *,
    scratch: Path,
    repository: Repository,
    result: Rehearsal,
) -> None:
    wheel = _installable(dists)
    if wheel is None:
        result.not_installed_because = (
            f"no wheel among the files installs on this machine's Python "
            f"({next(iter(sys_tags()))}); the install was not rehearsed here"
        )
        ctx.console.line(f"  note: {result.not_installed_because}")
        return
    venv = scratch / "venv"
    empty = scratch / "empty"
    empty.mkdir()
    python = str(_venv_python(venv))
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    # The fresh environment sees nothing of ours: no PYTHONPATH (the source tree), no venv.
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    }
    # What pip and ensurepip leave in the temporary directory when they are stopped goes with
    # the rehearsal's directory.
    for name in ("TMPDIR", "TEMP", "TMP"):
        env[name] = str(scratch / "tmp")
    try:
        ctx.runner.run(
            [sys.executable, "-m", "venv", str(venv)], env=env, why="making a fresh environment"
        )
        # The project from the local index alone (--isolated: no PIP_EXTRA_INDEX_URL, no
        # pip.conf with another index); its dependencies, if any, from the user's indexes.
        ctx.runner.run(
            [*pip, "--isolated", "--no-deps", "--only-binary", ":all:",
             "--index-url", repository.index_url, f"{project}=={version}"],
            cwd=empty,
            env=env,
            why="installing the release from the local index",
        )  # fmt: skip
        read = read_distribution(wheel.path)  # publish knew the file name only
        message = read.headers(read.metadata_path or "")
        if message is not None and message.get_all("Requires-Dist"):
            ctx.runner.run(
                [*pip, f"{project}=={version}"], cwd=empty, env=env,
                why="installing its dependencies",
            )  # fmt: skip
        check = scratch / "import_check.py"
        check.write_text(IMPORT_CHECK, encoding="utf-8")
        imported = ctx.runner.run(
            [python, str(check), project], cwd=empty, env=env,
            why="importing the installed release",
        )  # fmt: skip
    except CommandFailedError as exc:
        raise RehearsalError(
            f"the rehearsal could not install and import the release: {exc.cause}",
            "the uploaded files would not work for users either: read the output above "
            "(a missing module or DLL, a wrong tag), fix the build and run the dry run again.",
        ) from None
    result.installed = wheel.filename
    result.imported = [
        line.split()[-1] for line in imported.output.splitlines() if line.startswith("imported ")
    ]
