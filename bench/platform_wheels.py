"""validate on the real aarch64, musllinux, win_arm64, free-threaded and abi3 wheels of
tests/pypi_wheels.py, against the same files checked by hand, one tool at a time.

    python bench/platform_wheels.py [--json out.json]

By hand is what a maintainer runs without nox-release: ``twine check`` and, per Linux
wheel, ``auditwheel show``; per Windows binary, unzip and ``objdump -p`` (``llvm-objdump -p``
for ARM64, which binutils cannot read); per abi3 wheel, ``abi3audit``. One process per file
and tool, one after another. validate runs once per project (its files must be one release).
Both run once, from one warm start (the wheels cached, each tool run once before timing).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from pypi_wheels import WHEELS, copy_wheels  # noqa: E402
from test_platform_wheels import VERSIONS, project  # noqa: E402

BIN = Path(sys.executable).parent


def by_hand_commands(dist: Path, scratch: Path) -> list[list[str]]:
    commands: list[list[str]] = []
    for wheel in sorted(dist.glob("*.whl")):
        commands.append([str(BIN / "twine"), "check", str(wheel)])
        if "linux" in wheel.name:
            commands.append([str(BIN / "auditwheel"), "show", str(wheel)])
        if "-abi3-" in wheel.name:
            commands.append([str(BIN / "abi3audit"), str(wheel)])
        if "-win" in wheel.name:
            with zipfile.ZipFile(wheel) as archive:
                for name in archive.namelist():
                    if name.endswith((".pyd", ".dll")):
                        out = scratch / wheel.stem
                        archive.extract(name, out)
                        reader = "llvm-objdump" if "arm64" in wheel.name else "objdump"
                        commands.append([reader, "-p", str(out / name)])
    return commands


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(REPO), PATH=f"{BIN}:{os.environ['PATH']}")
    with tempfile.TemporaryDirectory(prefix="bench-platform-") as tmp:
        root = Path(tmp)
        runs = []
        for name in sorted(VERSIONS):
            dist = root / name / "dist"
            wheels = copy_wheels([w for w in WHEELS if w.project == name], dist)
            runs.append((name, project(root / name / "project", name, [w.name for w in wheels])))
        validate = [sys.executable, "-m", "release", "validate"]
        files = sum(len(list((root / n / "dist").glob("*.whl"))) for n, _ in runs)
        # Warm: every tool once, so neither side pays for a cold disk cache.
        for name, proj in runs:
            dist = root / name / "dist"
            subprocess.run([*validate, "--project", str(proj), "--dist", str(dist)],
                           env=env, capture_output=True, check=True)  # fmt: skip
        started = time.perf_counter()
        verdicts = {}
        for name, proj in runs:
            dist = root / name / "dist"
            proc = subprocess.run([*validate, "--project", str(proj), "--dist", str(dist)],
                                  env=env, capture_output=True, text=True, check=False)  # fmt: skip
            record = json.loads((dist / ".release" / "validate.json").read_text())
            errors = [f for f in record["findings"] if f["level"] == "error"]
            verdicts[name] = {"exit": proc.returncode, "errors": len(errors)}
        validate_s = time.perf_counter() - started
        commands = [
            c
            for name, _ in runs
            for c in by_hand_commands(root / name / "dist", root / name / "scratch")
        ]
        started = time.perf_counter()
        failed = []
        for command in commands:
            proc = subprocess.run(command, env=env, capture_output=True, check=False)
            if proc.returncode != 0:
                failed.append(shlex.join(command))
        by_hand_s = time.perf_counter() - started
    result = {
        "files": files,
        "validate_s": round(validate_s, 2),
        "validate_verdicts": verdicts,
        "by_hand_commands": len(commands),
        "by_hand_failed": failed,
        "by_hand_s": round(by_hand_s, 2),
        "ratio_by_hand_over_validate": round(by_hand_s / validate_s, 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
