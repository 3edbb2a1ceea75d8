"""``python -m release <stage>`` / ``nox-release <stage>``: every stage, with or without nox;
and the commands around them (``workflows``, ``system-packages``).

All stages take the same options, because nox hands ``session.posargs`` to every session of a
``requires=`` chain.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from . import __version__, system_packages
from .config import find_project_root, load_config
from .console import Console, in_github_actions
from .context import RunContext, tag_from_environment
from .errors import DistDirError, InternalError, Interrupted, OutputLostError, ReleaseError
from .pipeline import run_release, run_stage
from .publish.repository import resolve as resolve_repository
from .runner import Runner, forget_interrupts, note_interrupt, stop_all
from .stages import STAGES
from .workflows.files import write_or_check

COMMANDS = (*STAGES, "release")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nox-release",
        description="Build, validate and publish a Python package with native code.",
    )
    parser.add_argument("--version", action="version", version=f"nox-release {__version__}")
    sub = parser.add_subparsers(dest="stage", required=True, metavar="<stage or command>")
    for name in COMMANDS:
        add_stage_options(sub.add_parser(name, help=f"the {name} stage"))
    workflows = sub.add_parser("workflows", help="write or check the generated workflows")
    what = workflows.add_mutually_exclusive_group()
    what.add_argument("--write", action="store_true", help="write them")
    what.add_argument("--check", action="store_true", help="fail if they differ (default)")
    packages = sub.add_parser(
        "system-packages",
        help="install (in CI, or with --install) or check the Debian packages given",
    )
    packages.add_argument("packages", nargs="*", help="default: [tool.release.linux] apt-packages")
    packages.add_argument("--install", action="store_true", help="install what is missing")
    init = sub.add_parser("init", help="adopt nox-release: config, noxfile, workflows")
    init.add_argument("--package-dir", default=None, help="the package's directory, when "
                      "there is more than one")  # fmt: skip
    init.add_argument("--force", action="store_true", help="write files that exist and differ")
    init.add_argument(
        "--from", dest="source", default=None, metavar="REQUIREMENT_OR_PATH",
        help="what the noxfile installs instead of this nox-release version from PyPI: a "
        "requirement (nox-release @ git+https://...@<commit>) or a local checkout",
    )  # fmt: skip
    pinned = sub.add_parser(
        "constraints", help="print the path of the tool versions file sessions pin"
    )
    pinned.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")
    for command in (workflows, packages, init):
        command.add_argument("--project", type=Path, default=None, help="the project root")
        command.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")
    return parser


def add_stage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        type=Path,
        default=None,
        help="project root, holding pyproject.toml with [tool.release] (default: "
        "$RELEASE_PROJECT, else the nearest directory upward from here that has one)",
    )
    parser.add_argument(
        "--dist", type=Path, default=None, help="dist dir (default: dist-dir from the config)"
    )
    parser.add_argument(
        "--record-dir",
        type=Path,
        default=None,
        help="write the stage record here instead of <dist>/.release (a read-only dist dir)",
    )
    parser.add_argument(
        "--tag", default=None, help="release tag (default: from GITHUB_REF on a tag push)"
    )
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="require every expected wheel (default: on in GitHub Actions for a tag push)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="publish: make the plan and rehearse the upload on a local index; github-release, "
        "provenance: say what they would do; none uploads anything",
    )
    parser.add_argument(
        "--repository",
        default=None,
        help="publish: pypi, testpypi or an upload URL (default: [tool.release.publish]); "
        "validate compares with the last release on its index",
    )
    parser.add_argument(
        "--arch",
        default=None,
        help="build stages: build this architecture only (x86_64, aarch64, arm64, universal2, "
        "AMD64, ARM64...), as one job of the workflow's matrix; other stages ignore it",
    )
    parser.add_argument(
        "--python",
        default=None,
        help="build stages of a cibuildwheel project: build this Python's identifiers only "
        "(3.12: cp312, cp312t, pp312), as one job of a matrix split by Python",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show tool output and tracebacks"
    )


def project_dir(args: argparse.Namespace) -> Path:
    if args.project is not None:
        return Path(args.project)
    if os.environ.get("RELEASE_PROJECT"):
        return Path(os.environ["RELEASE_PROJECT"])
    # As git and nox do: run from anywhere inside the project, the package dir included.
    return find_project_root(Path.cwd())


def make_context(args: argparse.Namespace, console: Console) -> RunContext:
    config = load_config(project_dir(args))
    tag = args.tag or tag_from_environment(os.environ)
    strict = args.strict
    if strict is None:
        strict = in_github_actions() and tag_from_environment(os.environ) is not None
    dist = args.dist.resolve() if args.dist is not None else config.dist_dir
    if dist.exists() and not dist.is_dir():
        raise DistDirError(
            f"the dist dir {dist} is a file, not a directory.",
            "pass --dist with a directory (unzip an artifact downloaded from CI first).",
        )
    if args.repository is not None:
        # Refused now, as the configuration's is: a URL with a token is never printed.
        resolve_repository(args.repository, config.publish.index_url, where="--repository")
    record_dir = args.record_dir.resolve() if args.record_dir is not None else None
    return RunContext(
        config=config,
        dist=dist,
        console=console,
        runner=Runner(console),
        tag=tag,
        strict=strict,
        record_dir=record_dir,
        dry_run=args.dry_run or args.stage == "release",
        repository=args.repository,
        arch=args.arch,
        python=args.python,
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # A second signal while we clean up must not cut the cleanup short.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    # Children run in their own process groups (the terminal's Ctrl-C does not reach them):
    # stop them here, before unwinding, so that no thread waits on a tool that goes on.
    stop_all()
    note_interrupt(signum)
    raise Interrupted(signum)


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGINT and SIGTERM become :class:`Interrupted` for the duration of a run."""
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    forget_interrupts()
    for sig in previous:
        signal.signal(sig, _interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        forget_interrupts()  # the run is over: a later one in this process starts afresh


def workflows_command(args: argparse.Namespace, console: Console) -> int:
    config = load_config(project_dir(args))
    return write_or_check(config, console, write=args.write)


def system_packages_command(args: argparse.Namespace, console: Console) -> int:
    packages = args.packages
    if not packages:
        packages = list(load_config(project_dir(args)).linux.apt_packages)
    runner = Runner(console)
    if packages and runner.which("dpkg-query") is None:
        console.line(
            f"not checked: no dpkg-query here (not Debian or Ubuntu); {', '.join(packages)} "
            "must be installed with this system's own package manager."
        )
        return 0
    install = args.install or system_packages.install_wanted(os.environ)
    installed = system_packages.ensure(runner, packages, install=install)
    console.line(
        f"installed: {', '.join(installed)}" if installed else
        f"installed already: {', '.join(packages) or 'nothing asked'}"
    )  # fmt: skip
    return 0


def init_command(args: argparse.Namespace, console: Console) -> int:
    from .init import init  # tomlkit, only here

    root = Path(args.project) if args.project is not None else Path.cwd()
    return init(
        root, package_dir=args.package_dir, force=args.force, source=args.source,
        console=console,
    )  # fmt: skip


def constraints_command(args: argparse.Namespace, console: Console) -> int:
    console.line(str(Path(__file__).with_name("constraints.txt")))
    if console.closed:
        # The path is the whole answer; noxfiles pass it to pip. A stage's output is only a
        # report of work done, so only here does a lost stdout fail.
        raise OutputLostError(
            "the path of the constraints file could not be written to stdout (closed or full).",
            "run it with a working stdout: the caller would read an empty path.",
        )
    return 0


COMMAND_FUNCTIONS = {
    "workflows": workflows_command,
    "system-packages": system_packages_command,
    "init": init_command,
    "constraints": constraints_command,
}


def _fill_closed_standard_fds() -> None:
    """Started with ``>&-`` (or ``<&-``, ``2>&-``): put the null device where the closed
    descriptor was. Otherwise the next file opened (a record) takes its number, and a tool
    that inherits "stdout" would write into that file."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            # The lower ones are open (or filled just now): this open takes ``fd``.
            os.open(os.devnull, os.O_RDWR)


def main(argv: Sequence[str] | None = None) -> int:
    _fill_closed_standard_fds()
    args = build_parser().parse_args(argv)
    console = Console(verbose=args.verbose)
    title = f"nox-release {args.stage}"
    try:
        with interruptible():
            if args.stage in COMMAND_FUNCTIONS:
                return COMMAND_FUNCTIONS[args.stage](args, console)
            ctx = make_context(args, console)
            if args.stage == "release":
                run_release(ctx)
                return 0
            _record, error = run_stage(ctx, args.stage)
            return 0 if error is None else error.exit_code
    except Interrupted as stop:
        # The commands have no dist dir; init puts back what it wrote (all or nothing).
        if args.stage == "init":
            outcome = " and every file is as it was"
        elif args.stage in COMMAND_FUNCTIONS:
            outcome = ""
        else:
            outcome = " and its scratch files removed; the dist dir holds only finished artifacts"
        console.error(
            f"interrupted by {stop.name}: the running tool was stopped{outcome}.",
            title=title,
            remedy=f"run {args.stage} again when you are ready.",
        )
        return stop.exit_code
    except ReleaseError as exc:
        if args.verbose:
            console.line(traceback.format_exc())
        console.error(exc.cause, title=title, remedy=exc.remedy)
        return exc.exit_code
    except Exception as exc:  # a bug outside any stage (reading the config, ...)
        error = InternalError.of(exc)
        if args.verbose:
            console.line(traceback.format_exc())
        console.error(error.cause, title=title, remedy=error.remedy)
        return error.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
