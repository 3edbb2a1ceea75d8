"""How much does nox-release add to a release, against the same tools run directly?

In one run:
1. a warm-up ``nox -s release`` on the Rust example creates the nox environment (not timed);
2. timed: ``nox -R -s release -- --project examples/tally`` (environment reused, no reinstall);
3. timed: a shell script running exactly the tool commands that run recorded in its stage
   records (maturin, cibuildwheel, twine, auditwheel, objdump...), in the same order, with
   the same tools (the nox environment's bin first on PATH), writing to a scratch dir.

Both timed runs start from a clean Cargo target dir by default, as a release in CI does;
``--warm`` keeps Cargo's cache instead, which leaves mostly the fixed cost of nox and
nox-release visible. Prints both times and ``ratio <nox time / script time>``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "examples" / "tally"
TARGET = PROJECT / "target"
STAGE_ORDER = ("build-linux", "build-windows", "sdist", "validate")


def nox(*args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "nox", *args],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def recorded_commands(dist: Path) -> list[tuple[str, list[str]]]:
    commands = []
    for stage in STAGE_ORDER:
        path = dist / ".release" / f"{stage}.json"
        if path.exists():
            record = json.loads(path.read_text())
            commands += [(c["cwd"], c["argv"]) for c in record["commands"]]
    return commands


def shell_script(commands: list[tuple[str, list[str]]], dist: Path, out: Path) -> str:
    """The recorded commands, with nox-release's staging dirs and dist dir replaced by ``out``.

    Staging dirs are ``<dist parent>/.<stage>-<random>``; the script writes straight to
    ``out``, as a hand-written release script would.
    """
    staging = re.compile(re.escape(str(dist.parent)) + r"/\.[a-z-]+-[a-z0-9_]+")
    lines = ["set -euo pipefail", f"mkdir -p {shlex.quote(str(out))}"]
    for cwd, argv in commands:
        words = [staging.sub(str(out), a).replace(str(dist), str(out)) for a in argv]
        lines.append(f"cd {shlex.quote(cwd)} && {shlex.join(words)} > /dev/null")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", action="store_true", help="keep Cargo's build cache")
    args = parser.parse_args()

    env = dict(os.environ)
    for name in ("GITHUB_ACTIONS", "GITHUB_REF", "GITHUB_STEP_SUMMARY"):
        env.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        scratch = Path(tmp)
        dist = scratch / "dist"
        release = ["-s", "release", "--", "--project", str(PROJECT), "--dist", str(dist)]
        print("warm-up: creating the nox environment and Cargo's dependency cache ...")
        nox(*release, env=env)

        if not args.warm:
            shutil.rmtree(TARGET, ignore_errors=True)
        nox_time = nox("-R", *release, env=env)

        commands = recorded_commands(dist)
        out = scratch / "direct"
        script = scratch / "direct.sh"
        script.write_text(shell_script(commands, dist, out))
        venv_bin = REPO / ".nox" / "release" / "bin"
        script_env = dict(env, PATH=f"{venv_bin}{os.pathsep}{env['PATH']}")
        if not args.warm:
            shutil.rmtree(TARGET, ignore_errors=True)
        started = time.perf_counter()
        subprocess.run(["bash", str(script)], env=script_env, check=True)
        direct_time = time.perf_counter() - started

    cache = "warm Cargo cache" if args.warm else "clean Cargo target dir"
    print(f"commands replayed: {len(commands)} ({cache})")
    print(f"nox -R -s release: {nox_time:.2f} s")
    print(f"tools directly:    {direct_time:.2f} s")
    print(f"ratio {nox_time / direct_time:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
