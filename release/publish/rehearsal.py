"""The dry run's rehearsal of an upload, on this machine.

A throwaway pypiserver on 127.0.0.1 with a fresh token; every file uploaded through the same
code path as the real upload (twine, token in the environment, retries, verification); then
the project installed from that index alone into a fresh virtual environment and its
top-level modules imported, from an empty directory so that the source tree cannot stand in
for the wheel. The server is stopped and its files removed at the end. Nothing reaches the
configured index.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.tags import sys_tags
from packaging.utils import parse_wheel_filename

from ..context import RunContext
from ..dists import Distribution, read_distribution
from ..errors import CommandFailedError, RehearsalError
from ..records import Artifact
from ..runner import child_env
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


def rehearse(
    ctx: RunContext, dists: Sequence[Distribution], project: str, version: str
) -> Rehearsal:
    result = Rehearsal()
    token = secrets.token_urlsafe(32)
    ctx.console.register_secret(token)
    with tempfile.TemporaryDirectory(prefix="nox-release-rehearsal-") as tmp:
        scratch = Path(tmp)
        packages = scratch / "packages"
        packages.mkdir()
        env = child_env(extra={"NOX_RELEASE_INDEX_TOKEN": token})
        with ctx.runner.background(
            [sys.executable, "-m", "release.publish.local_index", str(packages)],
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
            outcome = Outcome()
            upload(
                ctx,
                files,
                repository,
                credentials=ApiToken(token, "a one-run token of the local index"),
                landed=lambda: query(repository.index_url, project),
                expected=artifacts,
                outcome=outcome,
            )
            result.uploaded = outcome.uploaded
            verify(query(repository.index_url, project), artifacts, repository.index_url)
            _install_and_import(
                ctx, dists, project, version, scratch=scratch, repository=repository, result=result
            )
    return result


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
