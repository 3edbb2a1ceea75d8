"""The noxfile.py init writes: one session per stage, each installing a pinned nox-release
(and, through the constraints file it ships, the same version of every tool it runs), then
``nox-release <stage>``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from .. import __version__
from ..console import Console
from ..errors import IndexUnavailableError, InitSourceError
from ..publish.index import query
from ..publish.repository import KNOWN, url_problem

# The tools of each session: nox-release's extras (its pyproject.toml).
SESSION_EXTRAS = {
    "check": "check",
    "build-linux": "build",
    "build-windows": "build",
    "build-macos": "build",
    "sdist": "build",
    "validate": "validate",
    "publish": "publish",
    "provenance": "publish",
    "github-release": "publish",
    "release": "build,validate,publish,check",
}

DOCS = {
    "check": "The preflight before pushing a tag: config, tools, the workflows.",
    "build-linux": "Linux wheels, meeting the manylinux floor.",
    "build-windows": "Windows wheels (skipped, with the reason, where this host cannot).",
    "build-macos": "macOS wheels (skipped, with the reason and its runner, where none is here).",
    "sdist": "The source distribution, when the project ships one.",
    "validate": "The release contract, on whatever is in the dist dir.",
    "publish": "Upload what validate passed (trusted publishing); --dry-run rehearses.",
    "provenance": "In CI, after publish: the build provenance of the files, stored on GitHub.",
    "github-release": "The GitHub Release of the tag, with the validated files.",
    "release": "The whole release as a local dry run, from an empty dist dir.",
}

HEADER = '''\
"""The release of this project as nox sessions, run by nox-release: each stage runs the same
here and in GitHub Actions, where .github/workflows/release.yml calls these sessions.

    nox -s check        # the preflight, before pushing a tag
    nox -s release      # the whole release as a local dry run
    nox -s build-linux|build-windows|build-macos|sdist|validate -- [options]
    nox -s publish|provenance|github-release -- [options]   # in CI; --dry-run here

Written by `nox-release init`. _nox_release says which nox-release the sessions install;
its version pins every tool the stages run too (the constraints file it ships). Each
session keeps its environment and installs again only when that changes; `nox -N` makes the
environments afresh.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["check"]
# A second `nox -s validate` reuses the first one's environment (-N: a fresh one).
nox.options.reuse_venv = "yes"


def _nox_release(extras: str = "") -> list[str]:
    """What installs nox-release with ``extras`` (the stage's tools, e.g. "[build]")."""
    return {install}


def _stage(session: nox.Session, stage: str, extras: str) -> None:
    wanted = _nox_release(f"[{{extras}}]")
    stamp = _stamp(session)
    key = json.dumps([wanted, [_digest(f"{{c}}/pyproject.toml") for c in _checkouts(wanted)]])
    if stamp is None or not _holds(stamp, key):
        if stamp is not None:
            stamp.unlink(missing_ok=True)  # an install that fails halfway leaves no stamp
        session.install(*_nox_release())
        # The tool versions this nox-release pins: `nox-release constraints` prints the file's
        # path. (The console script, not `python -m release`: a release/ here would win.)
        found = session.run_install("nox-release", "constraints", silent=True)
        pinned = ["-c", str(found).strip().splitlines()[-1]] if found else []
        session.install(*pinned, *wanted)
        if stamp is not None and found is not None:  # None: `nox -R` skipped the installs
            constraints = {{p: _digest(p) for p in pinned[1:]}}
            stamp.write_text(json.dumps({{"key": key, "constraints": constraints}}))
    # On Ctrl-C nox-release stops its tools itself and says so: give it the time.
    session.run(
        "nox-release", stage, *session.posargs, interrupt_timeout=10.0, terminate_timeout=5.0
    )


def _stamp(session: nox.Session) -> Path | None:
    """Where the environment records its last install (None: no environment of its own)."""
    location = getattr(session.virtualenv, "location", None)
    return Path(location, ".nox-release-installed") if location else None


def _checkouts(wanted: list[str]) -> list[str]:
    """A local checkout installed editable: its code needs no reinstall, its pyproject.toml
    does."""
    return [a.split("[")[0] for a in wanted if Path(a.split("[")[0]).is_dir()]


def _holds(stamp: Path, key: str) -> bool:
    """The last install was ``key``, and the constraints it read are unchanged."""
    try:
        installed = json.loads(stamp.read_text())
        constraints = installed["constraints"].items()
        return installed["key"] == key and all(_digest(p) == d for p, d in constraints)
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return False


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
'''

SESSION = '''

@nox.session{name}
def {function}(session: nox.Session) -> None:
    """{doc}"""
    _stage(session, "{stage}", "{extras}")
'''


@dataclass(frozen=True)
class Source:
    """Where the generated sessions get nox-release: ``expression`` is the list of pip
    arguments _nox_release returns, as Python source with ``{extras}`` in it."""

    expression: str


def resolve_source(given: str | None, console: Console) -> Source:
    """PyPI at this version (checked to be there), a requirement (``nox-release @
    git+https://...``), or a local checkout, installed editable (so that its changes count
    without a reinstall), which only this machine can install."""
    if given is None:
        require_on_index(__version__)
        return Source(f'[f"nox-release{{extras}}=={__version__}"]')
    path = Path(given).expanduser()
    if path.is_dir():
        console.warning(
            f"the noxfile installs nox-release from {path.resolve()}, which only this machine "
            "has: CI's runners cannot install it.",
            remedy="before pushing the workflows, run init again with --from and a "
            "requirement they can install (nox-release @ git+https://github.com/...@<commit>).",
        )
        checkout = path.resolve().as_posix().replace("{", "{{").replace("}", "}}")
        return Source(f'["-e", f{json.dumps(checkout + "{extras}")}]')
    try:
        requirement = Requirement(given)
    except InvalidRequirement as exc:
        raise InitSourceError(
            f"--from {given!r} is neither a directory nor a requirement: {exc}.",
            "pass a checkout of nox-release, or a requirement such as "
            "'nox-release @ git+https://github.com/<owner>/nox-release@<commit>'.",
        ) from None
    if canonicalize_name(requirement.name) != "nox-release" or requirement.extras:
        raise InitSourceError(
            f"--from {given!r} does not name nox-release alone (the sessions add the extras).",
            "pass a requirement of nox-release, e.g. 'nox-release @ git+https://...@<commit>'.",
        )
    after = f" @ {requirement.url}" if requirement.url else str(requirement.specifier)
    after = after.replace("{", "{{").replace("}", "}}")
    return Source(f"[f{json.dumps('nox-release{extras}' + after)}]")


def require_on_index(version: str) -> None:
    """The pinned nox-release must be on the index the sessions install from (pip's
    ``PIP_INDEX_URL``, else PyPI): a noxfile that cannot install it fails every CI job."""
    index = os.environ.get("PIP_INDEX_URL") or KNOWN["pypi"][1]
    problem = url_problem(index)
    if problem is not None:
        # pip would fail on it in every session too; name the variable, not a network error.
        raise InitSourceError(
            f"PIP_INDEX_URL={index!r} {problem}: init asks that index whether nox-release "
            f"{version} is there, and pip installs from it.",
            "set PIP_INDEX_URL to a simple index URL (https://host/simple/), or unset it for "
            "PyPI; or pass --from with what to install.",
        )
    try:
        listing = query(index, "nox-release")
    except IndexUnavailableError as exc:
        raise InitSourceError(
            f"could not ask {index} whether nox-release {version} is there: {exc.cause}",
            "run init where the index answers, or pass --from with what to install.",
        ) from None
    if not any(_version_of(name) == version for name in listing.files):
        raise InitSourceError(
            f"nox-release {version} is not on {index}: a noxfile pinning it could not install.",
            "pass --from with a requirement CI's runners can install "
            "('nox-release @ git+https://github.com/<owner>/nox-release@<commit>'), or a "
            "checkout of nox-release for this machine only.",
        )


def _version_of(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def noxfile(source: Source) -> str:
    text = HEADER.format(install=source.expression)
    for stage, extras in SESSION_EXTRAS.items():
        function = stage.replace("-", "_")
        name = f'(name="{stage}")' if function != stage else ""
        text += SESSION.format(
            name=name, function=function, doc=DOCS[stage], stage=stage, extras=extras
        )
    return text
