"""How much does nox-release add to a release, against the same tools run directly?

Run it as ``nox -s bench -- overhead [--warm] [--repeat N]``: that session has nox and every
stage's tools. In one run:
1. a warm-up ``nox -s release`` on the Rust example creates the nox environment (not timed);
2. timed: ``nox -s release -- --project examples/tally`` (environment reused, nothing to
   install: the noxfile's default);
3. timed: a shell script running exactly the tool commands that run recorded in its stage
   records (zizmor, maturin, cibuildwheel, twine, auditwheel, objdump...), in the same order,
   with the same tools (the nox environment's bin first on PATH), writing to a scratch dir;
   publish's rehearsal as a maintainer scripts it (pypiserver, twine upload, a venv that
   installs the project from it, an import). The nox side also asks PyPI for the plan.

Both timed runs start from a clean Cargo target dir by default, as a release in CI does;
``--warm`` keeps Cargo's cache instead, which leaves mostly the fixed cost of nox and
nox-release visible. Steps 2 and 3 alternate ``--repeat`` times (ABBA order); prints every
time, the means, and ``ratio <mean nox time / mean script time>``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "examples" / "tally"
TARGET = PROJECT / "target"
# The whole dry run, in its order (release.stages.RELEASE_CHAIN).
STAGE_ORDER = ("check", "build-linux", "build-windows", "sdist", "validate", "publish",
               "github-release")  # fmt: skip

# publish --dry-run, as a maintainer scripts the rehearsal: a throwaway pypiserver, twine
# upload, a fresh venv that installs the project from it, an import. (The recorded commands
# cannot be replayed: their scratch dirs are gone, and the upload runs in-process.)
REHEARSAL = """\
rehearsal=$(mktemp -d)
port=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); \\
  print(s.getsockname()[1])')
pypi-server run -i 127.0.0.1 -p "$port" -a . -P . "$rehearsal" > /dev/null 2>&1 &
server=$!
until python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/')" \\
  2> /dev/null; do sleep 0.05; done
twine upload --non-interactive --repository-url "http://127.0.0.1:$port/" -u x -p x \\
  {files} > /dev/null 2>&1
python -m venv "$rehearsal/venv"
"$rehearsal/venv/bin/python" -m pip install --disable-pip-version-check --no-input \\
  --isolated --no-deps --only-binary :all: --index-url "http://127.0.0.1:$port/simple/" \\
  {requirement} > /dev/null 2>&1
"$rehearsal/venv/bin/python" -c {imports}
kill "$server"; wait "$server" 2> /dev/null || true
"""


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
    """Every stage's recorded commands in order; publish's rehearsal as one stand-in entry."""
    commands = []
    for stage in STAGE_ORDER:
        path = dist / ".release" / f"{stage}.json"
        if path.exists():
            record = json.loads(path.read_text())
            if stage == "publish":
                details = record["details"]
                imports = details["rehearsal"]["imported"]
                commands.append(("<rehearsal>", [details["project"], details["version"], *imports]))
                continue
            commands += [(c["cwd"], c["argv"]) for c in record["commands"]]
    return commands


def shell_script(commands: list[tuple[str, list[str]]], dist: Path, out: Path) -> str:
    """The recorded commands, with nox-release's staging dirs and dist dir replaced by ``out``.

    Staging dirs are ``<dist>/.release/tmp/<stage>-<random>``; the script writes straight to
    ``out``, as a hand-written release script would. validate reads Windows binaries from
    scratch copies that are gone by now, so its objdump runs are replayed the way a
    maintainer scripts them: unzip the Windows wheels, then ``objdump -p`` each binary.
    """
    staging = re.compile(re.escape(str(dist)) + r"/\.release/tmp/[a-z-]+-[a-z0-9_]+")
    lines = ["set -euo pipefail", "shopt -s globstar nullglob", f"mkdir -p {shlex.quote(str(out))}"]
    objdump_replayed = False
    for cwd, argv in commands:
        if cwd == "<rehearsal>":
            project, version, *imports = argv
            files = f"{shlex.quote(str(out))}/*.whl {shlex.quote(str(out))}/*.tar.gz"
            statement = "; ".join(f"import {name}" for name in imports)
            lines.append(REHEARSAL.format(
                files=files, requirement=shlex.quote(f"{project}=={version}"),
                imports=shlex.quote(statement),
            ).rstrip("\n"))  # fmt: skip
            continue
        if argv[0] == "objdump" and not Path(cwd).is_dir():
            if not objdump_replayed:
                lines.append(f"unpacked=$(mktemp -d) && cd {shlex.quote(str(out))}")
                lines.append('for w in *win*.whl; do unzip -q -o "$w" -d "$unpacked/$w"; done')
                lines.append(
                    'for f in "$unpacked"/**/*.pyd "$unpacked"/**/*.dll; do '
                    'objdump -p "$f" > /dev/null; done'
                )
                objdump_replayed = True
            continue
        words = [staging.sub(str(out), a).replace(str(dist), str(out)) for a in argv]
        lines.append(f"cd {shlex.quote(cwd)}")
        lines.append(f"{shlex.join(words)} > /dev/null 2>&1")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", action="store_true", help="keep Cargo's build cache")
    parser.add_argument(
        "--repeat", type=int, default=2, help="timed runs of each side, alternated (default 2)"
    )
    args = parser.parse_args()
    if importlib.util.find_spec("nox") is None:
        raise SystemExit("nox is not installed here: run the benchmark as nox -s bench -- overhead")

    env = dict(os.environ)
    for name in ("GITHUB_ACTIONS", "GITHUB_REF", "GITHUB_STEP_SUMMARY"):
        env.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        scratch = Path(tmp)
        dist = scratch / "dist"
        release = ["-s", "release", "--", "--project", str(PROJECT), "--dist", str(dist)]
        print("warm-up: creating the nox environment and Cargo's dependency cache ...")
        nox(*release, env=env)
        commands = recorded_commands(dist)
        script = scratch / "direct.sh"
        script.write_text(shell_script(commands, dist, scratch / "direct"))
        # The same environment nox gives its session, as if the maintainer had activated it:
        # maturin and PyO3's build script choose their interpreter from VIRTUAL_ENV.
        venv = REPO / ".nox" / "release"
        script_env = dict(
            env, VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
        )

        def via_nox() -> float:
            return nox(*release, env=env)

        def direct() -> float:
            started = time.perf_counter()
            subprocess.run(["bash", str(script)], env=script_env, check=True)
            return time.perf_counter() - started

        times: dict[str, list[float]] = {"nox": [], "direct": []}
        # ABBA order: a slow drift of the machine (caches, clocks) falls on both sides.
        for i in range(args.repeat):
            order = [("nox", via_nox), ("direct", direct)]
            for side, run in order if i % 2 == 0 else reversed(order):
                if not args.warm:
                    shutil.rmtree(TARGET, ignore_errors=True)
                times[side].append(run())

    cache = "warm Cargo cache" if args.warm else "clean Cargo target dir"
    print(f"commands replayed: {len(commands)} ({cache}), {args.repeat} run(s) per side")
    for side, label in (("nox", "nox -s release   "), ("direct", "tools directly:  ")):
        runs = ", ".join(f"{t:.2f}" for t in times[side])
        print(f"{label}: {statistics.mean(times[side]):.2f} s mean  ({runs})")
    print(f"ratio {statistics.mean(times['nox']) / statistics.mean(times['direct']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
