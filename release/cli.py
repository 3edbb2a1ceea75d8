"""``python -m release <stage>`` / ``nox-release <stage>``: every stage, with or without nox.

All stages take the same options, because nox hands ``session.posargs`` to every session of a
``requires=`` chain.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import load_config
from .console import Console, in_github_actions
from .context import RunContext, tag_from_environment
from .errors import DistDirError, InternalError, ReleaseError
from .pipeline import run_release, run_stage
from .runner import Runner
from .stages import STAGES

COMMANDS = (*STAGES, "release")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nox-release",
        description="Build, validate and publish a Python package with native code.",
    )
    parser.add_argument("--version", action="version", version=f"nox-release {__version__}")
    parser.add_argument("stage", choices=COMMANDS, help="the stage to run")
    add_stage_options(parser)
    return parser


def add_stage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        type=Path,
        default=None,
        help="project root, holding pyproject.toml with [tool.release] "
        "(default: $RELEASE_PROJECT, else the current directory)",
    )
    parser.add_argument(
        "--dist", type=Path, default=None, help="dist dir (default: dist-dir from the config)"
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
        "-v", "--verbose", action="store_true", help="show tool output and tracebacks"
    )


def make_context(args: argparse.Namespace, console: Console) -> RunContext:
    project = args.project or Path(os.environ.get("RELEASE_PROJECT") or ".")
    config = load_config(project)
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
    return RunContext(
        config=config, dist=dist, console=console, runner=Runner(console), tag=tag, strict=strict
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console(verbose=args.verbose)
    try:
        ctx = make_context(args, console)
        if args.stage == "release":
            run_release(ctx)
            return 0
        _record, error = run_stage(ctx, args.stage)
        return 0 if error is None else error.exit_code
    except ReleaseError as exc:
        if args.verbose:
            console.line(traceback.format_exc())
        console.error(exc.cause, title=f"nox-release {args.stage}")
        console.line(f"  what to do: {exc.remedy}")
        return exc.exit_code
    except KeyboardInterrupt:
        console.error("interrupted; the dist dir holds only finished artifacts.")
        return 130
    except Exception as exc:  # a bug outside any stage (reading the config, ...)
        error = InternalError.of(exc)
        if args.verbose:
            console.line(traceback.format_exc())
        console.error(error.cause, title=f"nox-release {args.stage}")
        console.line(f"  what to do: {error.remedy}")
        return error.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
