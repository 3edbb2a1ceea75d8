"""The noxfile.py init writes: one session per stage, each installing a pinned nox-release
(and, through the constraints file it ships, the same version of every tool it runs), then
``python -m release <stage>``."""

from __future__ import annotations

import json
from pathlib import Path

from .. import __version__

# The tools of each session: nox-release's extras (its pyproject.toml).
SESSION_EXTRAS = {
    "check": "check",
    "build-linux": "build",
    "build-windows": "build",
    "sdist": "build",
    "validate": "validate",
    "publish": "publish",
    "github-release": "publish",
    "release": "build,validate,publish,check",
}

DOCS = {
    "check": "The preflight before pushing a tag: config, tools, the workflows.",
    "build-linux": "Linux wheels, meeting the manylinux floor.",
    "build-windows": "Windows wheels (skipped, with the reason, where this host cannot).",
    "sdist": "The source distribution, when the project ships one.",
    "validate": "The release contract, on whatever is in the dist dir.",
    "publish": "Upload what validate passed (trusted publishing); --dry-run rehearses.",
    "github-release": "The GitHub Release of the tag, with the validated files.",
    "release": "The whole release as a local dry run, from an empty dist dir.",
}

HEADER = '''\
"""The release of this project as nox sessions, run by nox-release: each stage runs the same
here and in GitHub Actions, where .github/workflows/release.yml calls these sessions.

    nox -s check        # the preflight, before pushing a tag
    nox -s release      # the whole release as a local dry run
    nox -s build-linux|build-windows|sdist|validate|publish|github-release -- [options]

Written by `nox-release init`. NOX_RELEASE pins nox-release, and through it every tool the
stages run (it installs them with the constraints file it ships).
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["check"]


def _nox_release(extras: str = "") -> list[str]:
    """What installs nox-release with ``extras`` (the stage's tools, e.g. "[build]")."""
    return {install}


def _stage(session: nox.Session, stage: str, extras: str) -> None:
    session.install(*_nox_release())
    constraints = session.run("python", "-m", "release", "constraints", silent=True)
    session.install("-c", str(constraints).strip(), *_nox_release(f"[{{extras}}]"))
    # On Ctrl-C nox-release stops its tools itself and says so: give it the time.
    session.run(
        "python", "-m", "release", stage, *session.posargs,
        interrupt_timeout=10.0, terminate_timeout=5.0,
    )  # fmt: skip
'''

SESSION = '''

@nox.session{name}
def {function}(session: nox.Session) -> None:
    """{doc}"""
    _stage(session, "{stage}", "{extras}")
'''


def install_arguments(source: Path | None) -> str:
    """The expression _nox_release returns: this version from PyPI, or a checkout, editable
    (so that its changes count without a reinstall)."""
    if source is None:
        return f'[f"nox-release{{extras}}=={__version__}"]'
    path = source.resolve().as_posix().replace("{", "{{").replace("}", "}}")
    return f'["-e", f{json.dumps(path + "{extras}")}]'


def noxfile(source: Path | None) -> str:
    text = HEADER.format(install=install_arguments(source))
    for stage, extras in SESSION_EXTRAS.items():
        function = stage.replace("-", "_")
        name = f'(name="{stage}")' if function != stage else ""
        text += SESSION.format(
            name=name, function=function, doc=DOCS[stage], stage=stage, extras=extras
        )
    return text
