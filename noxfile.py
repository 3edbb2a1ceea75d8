"""Every release stage as a nox session; the logic lives in the ``release`` package.

    nox -s release -- --project examples/tally     # the local dry run of an example
    nox -s tests                                   # the test suite
    nox -s bench -- overhead|validate|publish      # a benchmark (bench/), with its options
    nox -s build-linux|build-windows|sdist|validate -- [--project DIR] [--dist DIR] [--tag TAG]
    nox -s publish -- [--dry-run] [--repository pypi|testpypi|URL]
    nox -s provenance                              # in CI, after publish: gh attestation verify

Each stage session installs the tools its stage runs, then calls ``python -m release``.
Environments are reused: a session installs again only when what it installs changed (its
install line, the constraints file, pyproject.toml); ``nox -N`` (``--reuse-venv=no``) makes
them afresh.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nox

nox.needs_version = ">=2024.3.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]
# A session whose Python is missing fails instead of being skipped.
nox.options.error_on_missing_interpreters = True
# A second `nox -s validate` must not rebuild what the first one made (the loop of debugging
# one stage); -N or --reuse-venv=no still starts afresh.
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).parent

# The tools of each stage are nox-release's extras (pyproject.toml): one list, used here and
# by `pip install nox-release[validate]` alike; their versions are pinned in one file.
ALL_TOOLS = f"{ROOT}[build,validate,publish,check]"
CONSTRAINTS = str(ROOT / "release" / "constraints.txt")


# The real Sigstore clients the local Sigstore's tests sign and verify with (its markers
# leave them out where they cannot install: tests/test_sigstore_emulator.py skips there).
SIGSTORE_CLIENTS = str(ROOT / "tests" / "sigstore-requirements.txt")
# What the installs read besides their arguments: a change to either means installing again.
INSTALL_INPUTS = (ROOT / "pyproject.toml", ROOT / "release" / "constraints.txt")


def _install(session: nox.Session, *args: str) -> None:
    """``session.install(*args)``, skipped when this environment already holds exactly that.

    The environment keeps a stamp of its last install: the arguments and the contents of the
    files they read. nox-release is installed editable, so its code changing needs no
    reinstall; and an install that changes nothing still takes seconds (uv builds the
    editable nox-release again), more than a quick stage.
    """
    inputs = [hashlib.sha256(path.read_bytes()).hexdigest() for path in INSTALL_INPUTS]
    key = json.dumps([args, inputs])
    location = getattr(session.virtualenv, "location", None)  # None without a venv (--no-venv)
    stamp = Path(location, ".nox-release-installed") if location else None
    if stamp is not None and stamp.is_file() and stamp.read_text() == key:
        session.log("the environment holds what this session installs (nox -N makes it anew)")
        return
    if stamp is not None:
        stamp.unlink(missing_ok=True)  # an install that fails halfway leaves no stamp
    session.install(*args)
    # Stamp only an install that happened and works: under `nox -R` (--no-install) nox skips
    # both the install above and this check (returning None).
    if stamp is not None and session.run_install("python", "-c", "import release") is not None:
        stamp.write_text(key)


def _stage(session: nox.Session, stage: str, extras: str) -> None:
    _install(session, "-c", CONSTRAINTS, "-e", f"{ROOT}[{extras}]")
    # On Ctrl-C nox-release stops its tools itself (within 5 s) and says so; nox must give
    # it that time instead of killing it after its default 0.3 s.
    session.run(
        "python", "-m", "release", stage, *session.posargs,
        interrupt_timeout=10.0, terminate_timeout=5.0,
    )  # fmt: skip


@nox.session
def check(session: nox.Session) -> None:
    """The preflight: config, tools, the workflows (zizmor, the schema, against the config)."""
    _stage(session, "check", "check")


@nox.session(name="build-linux")
def build_linux(session: nox.Session) -> None:
    """Linux wheels, meeting the manylinux floor."""
    _stage(session, "build-linux", "build")


@nox.session(name="build-windows")
def build_windows(session: nox.Session) -> None:
    """Windows wheels (skipped, with the reason, where this host cannot build them)."""
    _stage(session, "build-windows", "build")


@nox.session(name="build-macos")
def build_macos(session: nox.Session) -> None:
    """macOS wheels (skipped, with the reason and the runner, where this host cannot)."""
    _stage(session, "build-macos", "build")


@nox.session
def sdist(session: nox.Session) -> None:
    """The source distribution, when the project ships one."""
    _stage(session, "sdist", "build")


@nox.session
def validate(session: nox.Session) -> None:
    """The release contract, on whatever is in the dist dir."""
    _stage(session, "validate", "validate")


@nox.session
def publish(session: nox.Session) -> None:
    """Upload what validate passed: trusted publishing in CI, else $PYPI_API_TOKEN;
    --dry-run rehearses on a throwaway local index."""
    _stage(session, "publish", "publish")


@nox.session
def provenance(session: nox.Session) -> None:
    """One SLSA build provenance attestation of the validated files, signed with Sigstore
    and stored with GitHub's attestations API (GITHUB_TOKEN; in the publish job)."""
    _stage(session, "provenance", "publish")


@nox.session(name="github-release")
def github_release(session: nox.Session) -> None:
    """The GitHub Release of the tag with the validated files and SHA256SUMS (GITHUB_TOKEN)."""
    _stage(session, "github-release", "publish")


@nox.session
def release(session: nox.Session) -> None:
    """The local dry run: every stage in order, from an empty dist dir."""
    _stage(session, "release", "build,validate,publish,check")


# What the tests run besides Python tools: MinGW-w64 (cross builds, PE fixtures), objdump,
# a C compiler for the C example, patchelf for auditwheel, pkg-config (its failure messages),
# musl-gcc (musl-linked binaries for the manylinux check), llvm-objdump (LLVM: the ARM64 PE
# files of real win_arm64 wheels, which binutils' objdump cannot read); the Rust targets below.
# m4 and libgmp-dev: the gmp-workspace fixture's dry run (tests/test_adoption.py), whose
# [tool.release.linux] apt-packages name them.
TEST_SYSTEM_PACKAGES = [
    "binutils", "gcc", "libc6-dev", "libgmp-dev", "llvm", "m4", "mingw-w64", "musl-tools",
    "patchelf", "pkg-config",
]  # fmt: skip


# The Rust targets the examples' dry run cross-compiles to from x86_64 Linux: Windows (MinGW),
# and with zig aarch64 manylinux and both musllinux (examples/tally ships them all; without a
# target the platform is left to its runner, "not built here").
TEST_RUST_TARGETS = [
    "x86_64-pc-windows-gnu", "aarch64-unknown-linux-gnu", "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
]  # fmt: skip


def _test_system_packages(session: nox.Session, *options: str) -> None:
    session.run("python", "-m", "release", "system-packages", *TEST_SYSTEM_PACKAGES, *options)
    session.run("rustup", "target", "add", *TEST_RUST_TARGETS, external=True)


@nox.session(name="system-packages")
def system_packages(session: nox.Session) -> None:
    """The tests' system packages, through nox-release's own mechanism: installed in CI (or
    with -- --install), checked elsewhere."""
    _install(session, "-e", str(ROOT))
    _test_system_packages(session, *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests, and end-to-end tests that build the examples for real."""
    # nox: the tests run each stage session as a user does (tests/test_nox_sessions.py);
    # and ruff, which the noxfile init writes must pass (tests/test_init.py).
    session.install(
        "-c", CONSTRAINTS, "pytest>=8", "pytest-timeout", "pypiserver>=2", "nox>=2024.3.2",
        "uv", "ruff>=0.6", "-r", SIGSTORE_CLIENTS, "-e", ALL_TOOLS,
    )  # fmt: skip
    # A missing system package stops here, with the command that installs it, instead of
    # failing tests one by one.
    _test_system_packages(session)
    session.run("pytest", *session.posargs)


@nox.session(python=["3.9"])
def compat(session: nox.Session) -> None:
    """The unit tests on the oldest supported Python (tomli instead of tomllib)."""
    session.install(
        "-c", CONSTRAINTS, "pytest>=8", "pytest-timeout", "pypiserver>=2", "ruff>=0.6",
        "nox>=2024.3.2", "-r", SIGSTORE_CLIENTS, "-e", ALL_TOOLS,
    )  # fmt: skip
    # zizmor is a binary that runs beside any Python, but its wheels ask for 3.10 or newer:
    # the check stage's tests need it here too, so uv installs the one pinned for 3.11 (as in
    # the tests session).
    session.install("--python-version", "3.11", "-c", CONSTRAINTS, "zizmor")
    session.run("pytest", "-m", "not e2e", *session.posargs)


# nox -s bench -- <name>: the benchmark script in bench/.
BENCHMARKS = {
    "overhead": "overhead.py",
    "validate": "validate_scale.py",
    "publish": "publish.py",
    "adoption": "adoption.py",
    "hunt": "hunt.py",
    "platforms": "platform_wheels.py",
}


@nox.session
def bench(session: nox.Session) -> None:
    """A benchmark: -- overhead|validate|publish|adoption|hunt|platforms [its options]."""
    name, *options = session.posargs or [""]
    if name not in BENCHMARKS:
        session.error(f"name a benchmark: nox -s bench -- {'|'.join(BENCHMARKS)} [--help]")
    # Every stage's tools on PATH (the benchmarks run them directly too), and nox with uv:
    # overhead times `nox -s release` itself.
    # hunt makes its projects with the tests' helpers, and tests/conftest.py imports pytest;
    # platforms downloads its wheels with tests/pypi_files.py, which does too.
    extra = ["pytest>=8"] if name in ("hunt", "platforms") else []
    _install(session, "-c", CONSTRAINTS, "nox>=2024.3.2", "uv", *extra, "-e", ALL_TOOLS)
    session.run("python", str(ROOT / "bench" / BENCHMARKS[name]), *options)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, and mypy --strict on release/."""
    # tomli: mypy checks the Python 3.10 branch of the tomllib import too.
    # The libraries release/ imports when a stage needs them, for mypy to check the calls.
    _install(
        session,
        "ruff>=0.6", "mypy>=1.11", "tomli", "types-requests",
        "-e", f"{ROOT}[publish,check,validate]",
    )  # fmt: skip
    session.run("ruff", "check", "release", "tests", "bench", "noxfile.py")
    session.run("ruff", "format", "--check", "release", "tests", "bench", "noxfile.py")
    session.run("mypy", "--strict", "release")
    # The workflows are generated from [tool.release]: they must not drift from it.
    session.run("python", "-m", "release", "workflows", "--check", "--project", str(ROOT))
