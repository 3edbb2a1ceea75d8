"""Linux binaries: ``auditwheel show --json`` on every Linux wheel.

auditwheel reports the most compatible tag the wheel's binaries allow (``overall_tag``) and
the libraries it needs that are neither bundled nor allowed by any manylinux policy
(``external_libs``). A wheel claiming an older glibc than its symbols need, or needing an
outside library, fails on users' machines with an ImportError; both are errors here.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from packaging.utils import parse_wheel_filename

from .config import manylinux_glibc
from .records import Finding
from .runner import Runner

CHECK = "manylinux"

# manylinux1/2010/2014 are the legacy spellings of manylinux_2_5/2_12/2_17.
_POLICY = re.compile(r"^(manylinux|musllinux)_?(\d+_\d+|1|2010|2014)_[^_]")


def policy_version(platform: str) -> tuple[str, tuple[int, int]] | None:
    """``manylinux2014_x86_64`` -> ("manylinux", (2, 17)); None for non-policy tags."""
    match = _POLICY.match(platform)
    if match is None:
        return None
    family, version = match.groups()
    if family == "manylinux":
        return family, manylinux_glibc(version)
    if "_" not in version:
        return None  # musllinux has no legacy spellings
    major, minor = version.split("_")
    return family, (int(major), int(minor))


def linux_platforms(wheel: Path) -> list[str]:
    try:
        tags = parse_wheel_filename(wheel.name)[3]
    except ValueError:
        return []
    return sorted(
        {t.platform for t in tags if t.platform.startswith(("manylinux", "musllinux", "linux_"))}
    )


def check_linux_wheels(wheels: Sequence[Path], runner: Runner) -> dict[str, list[Finding]]:
    linux = [wheel for wheel in wheels if linux_platforms(wheel)]
    if not linux:
        return {}
    runner.require("auditwheel", why="Linux wheels are checked with auditwheel show")

    def show(wheel: Path) -> tuple[Path, int, str]:
        result = runner.run(
            ["auditwheel", "show", "--json", str(wheel)],
            check=False,
            why=f"auditing {wheel.name}",
            quiet=True,
        )
        return wheel, result.returncode, result.output

    # One auditwheel process per wheel is all its CLI offers; run them side by side.
    workers = max(1, min(len(linux), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(show, linux))
    return {wheel.name: judge(wheel, code, output) for wheel, code, output in results}


def judge(wheel: Path, returncode: int, output: str) -> list[Finding]:
    name = wheel.name
    start = output.find("{")
    try:
        report: dict[str, Any] = json.loads(output[start:]) if start >= 0 else {}
    except ValueError:
        report = {}
    if returncode != 0 or "overall_tag" not in report:
        last = output.strip().splitlines()[-1:] or [f"exit status {returncode}"]
        return [
            Finding(
                "error",
                CHECK,
                name,
                f"auditwheel show could not analyse this wheel: "
                f"{last[0]}. Run `auditwheel show {name}` by hand.",
            )
        ]
    found: list[Finding] = []
    external = sorted(report.get("external_libs") or {})
    if external:
        found.append(
            Finding(
                "error",
                CHECK,
                name,
                f"needs {', '.join(external)}, which no "
                "manylinux policy allows and the wheel does not bundle. Repair the "
                "wheel with auditwheel repair so they are bundled.",
            )
        )
    possible = str(report["overall_tag"])
    possible_policy = policy_version(possible)
    for platform in linux_platforms(wheel):
        claimed = policy_version(platform)
        if claimed is None:
            continue  # linux_*: the pypi-tags check reports it
        family, version = claimed
        if possible_policy is None or possible_policy[0] != family or possible_policy[1] > version:
            need = (
                f"its binaries need at least {possible}"
                if possible_policy
                else f"auditwheel finds it compatible with no {family} policy ({possible})"
            )
            found.append(
                Finding(
                    "error",
                    CHECK,
                    name,
                    f"claims {platform}, but {need}. "
                    "Rebuild against an older glibc (zig, or the manylinux "
                    "container), or claim a newer floor.",
                )
            )
    if not found and any(p.startswith("linux_") for p in linux_platforms(wheel)):
        found.append(
            Finding(
                "info",
                CHECK,
                name,
                f"auditwheel says it could be tagged "
                f"{possible}: auditwheel repair --plat {possible}",
            )
        )
    if report.get("unsupported_isa"):
        found.append(
            Finding(
                "error",
                CHECK,
                name,
                "uses instructions beyond the baseline of "
                "its architecture (auditwheel: unsupported ISA extension).",
            )
        )
    return found
