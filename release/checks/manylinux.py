"""manylinux: the Linux wheels name the configured floor, and their binaries meet it.

A manylinux wheel's tags must name the floor of ``[tool.release.linux] manylinux`` (a
compressed tag set may name more, as auditwheel writes them: ``manylinux_2_17_x86_64.
manylinux2014_x86_64``); a wheel of another floor was built against another glibc than the
release promises. This is read from the name, on every host; musllinux wheels have floors of
their own and are not judged by it.

``auditwheel show --json`` reports the most compatible tag the binaries allow
(``overall_tag``) and the libraries they need that are neither bundled nor allowed by any
manylinux policy (``external_libs``). A wheel claiming an older glibc than its symbols need,
or needing an outside library, fails on users' machines with an ImportError; both are errors.
When auditwheel cannot analyse a wheel, its own reason (the JSON ``error``) is reported.

auditwheel runs as ``auditwheel show --json`` would, but many wheels to a process
(:mod:`release.auditwheel_batch`), one process per core: its command line takes one wheel
per process, and starting it costs more than judging a small wheel.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from ..auditwheel_batch import MARKER
from ..config import LinuxConfig, manylinux_glibc
from ..dists import LINUX, Distribution
from ..errors import ToolNotFoundError
from ..records import Finding
from ..runner import Runner, child_env
from .base import Check, CheckContext, json_object_in, readable

# manylinux1/2010/2014 are the legacy spellings of manylinux_2_5/2_12/2_17.
_POLICY = re.compile(r"^(manylinux|musllinux)_?(\d+_\d+|1|2010|2014)_[^_]")
_NOT_PLATFORM = "does not look like a platform wheel"
# auditwheel's log line for a binary it leaves out: "ignoring: _m.so with musl libc".
_SKIPPED = re.compile(r"ignoring: (\S+) with (\S+) (libc|architecture)$", re.MULTILINE)


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


class ManylinuxCheck(Check):
    name = "manylinux"
    tools = ("auditwheel",)

    def applies_to(self, dist: Distribution) -> bool:
        return dist.is_wheel and readable(dist) and LINUX in dist.families

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        floors = {d.filename: f for d in dists if (f := self.judge_floor(d, ctx.config.linux))}
        off_floor = dict.fromkeys(floors, ctx.config.linux.glibc)
        return [*floors.values(), *self.audit(dists, ctx, off_floor)]

    def judge_floor(self, dist: Distribution, linux: LinuxConfig) -> Finding | None:
        """An error when the wheel's manylinux tags do not name the configured floor."""
        named: dict[tuple[int, int], list[str]] = {}
        for platform in sorted(dist.platforms):
            claimed = policy_version(platform)
            if claimed is not None and claimed[0] == "manylinux":
                named.setdefault(claimed[1], []).append(platform)
        floor = linux.glibc
        if not named or floor in named:
            return None
        tags = ", ".join(p for found in sorted(named) for p in named[found])
        config = f'[tool.release.linux] manylinux = "{linux.manylinux}" ({linux.policy})'
        oldest = min(named)
        if oldest > floor:
            glibc = f"{floor[0]}.{floor[1]} to {oldest[0]}.{oldest[1] - 1}"
            return self.error(
                f"it is tagged {tags}, a newer floor than {config}: users with glibc "
                f"{glibc} cannot install it",
                dist.filename,
                f"build it with nox -s build-linux, which builds in the {linux.policy} image "
                f"(or repairs to {linux.policy}); or, if glibc {oldest[0]}.{oldest[1]} is the "
                f'floor you mean, set [tool.release.linux] manylinux = "{oldest[0]}_{oldest[1]}".',
            )
        return self.error(
            f"it is tagged {tags}, not the floor of {config}: it was built for another glibc "
            "than the release is configured for",
            dist.filename,
            f"build it with nox -s build-linux, which builds in the {linux.policy} image (or "
            f"repairs to {linux.policy}); or, if glibc {oldest[0]}.{oldest[1]} is the floor "
            f'you mean, set [tool.release.linux] manylinux = "{oldest[0]}_{oldest[1]}".',
        )

    def audit(
        self,
        dists: Sequence[Distribution],
        ctx: CheckContext,
        off_floor: Mapping[str, tuple[int, int]],
    ) -> list[Finding]:
        """auditwheel's judgement of the binaries; ``off_floor``: the wheels whose tags miss
        the configured floor (said already), with that floor."""
        if ctx.host != "linux":
            return [
                self.warning(
                    "auditwheel runs only on Linux; the Linux wheels' binaries were not "
                    "audited here",
                    remedy="run nox -s validate on Linux (CI's validate job does).",
                )
            ]
        if importlib.util.find_spec("auditwheel") is None:
            raise ToolNotFoundError(
                f"auditwheel is not installed in the Python that runs nox-release "
                f"({sys.executable}); Linux wheels are checked with its library.",
                f"{sys.executable} -m pip install auditwheel, or run nox -s validate, which "
                "installs it.",
            )
        # auditwheel's command line judges one wheel per process, and its start costs more
        # than judging a small wheel; one batch per core judges them all, through the runner.
        batches = max(1, min(len(dists), os.cpu_count() or 1))
        chunks = [list(dists[i::batches]) for i in range(batches)]

        def show(chunk: list[Distribution]) -> list[tuple[Distribution, int, str]]:
            result = ctx.runner.run(
                [sys.executable, "-m", "release.auditwheel_batch", *(str(d.path) for d in chunk)],
                env=child_env(uncoloured=True),
                check=False,
                why=f"auditing {len(chunk)} Linux wheel(s) with auditwheel",
                quiet=True,
            )
            return split_batch(chunk, result.returncode, result.output)

        with ThreadPoolExecutor(max_workers=batches) as pool:
            results = [r for judged in pool.map(show, chunks) for r in judged]
        order = {d.filename: i for i, d in enumerate(dists)}
        results.sort(key=lambda r: order[r[0].filename])
        return [
            finding
            for dist, code, output in results
            for finding in self.judge(dist, code, output, off_floor.get(dist.filename))
        ]

    def tool_version(self, tool: str, runner: Runner) -> str:
        # The auditwheel that judged the files is the one this Python imports, which need
        # not be the one on PATH.
        try:
            return f"auditwheel {importlib.metadata.version('auditwheel')}"
        except importlib.metadata.PackageNotFoundError:
            return "not found"

    def judge(
        self,
        dist: Distribution,
        returncode: int,
        output: str,
        off_floor: tuple[int, int] | None = None,
    ) -> list[Finding]:
        name = dist.filename
        report = json_object_in(output) or {}
        linux_platforms = sorted(
            p for p in dist.platforms if p.startswith(("many", "musl", "linux"))
        )
        if "error" in report:
            reason = str(report["error"])
            skipped = _SKIPPED.findall(output)
            if _NOT_PLATFORM in reason and skipped:
                # auditwheel skips binaries of another libc or CPU than the tag's, then finds
                # none left: the binaries are there, built for another platform.
                built_for = "; ".join(f"{elf} for {what} {kind}" for elf, what, kind in skipped)
                return [
                    self.error(
                        f"it is tagged {', '.join(linux_platforms)}, but its binaries are "
                        f"built for another platform: {built_for}",
                        name,
                        "build it for the platform its tag names (glibc for manylinux, musl for "
                        "musllinux, the tag's CPU), or tag it for the platform it was built for.",
                    )
                ]
            if _NOT_PLATFORM in reason:
                return [
                    self.error(
                        f"it is tagged {', '.join(linux_platforms)} but holds no native code "
                        f"(auditwheel: {reason})",
                        name,
                        "build a wheel without native code as a pure one (py3-none-any); "
                        "or check that the build compiled the extension into the wheel.",
                    )
                ]
            return [
                self.error(
                    f"auditwheel could not analyse it: {reason}", name, _BY_HAND.format(name)
                )
            ]
        if returncode != 0 or "overall_tag" not in report:
            last = output.strip().splitlines()[-1:] or [f"exit status {returncode}"]
            return [
                self.error(
                    f"auditwheel show could not analyse it (exit status {returncode}): {last[0]}",
                    name,
                    _BY_HAND.format(name),
                )
            ]
        if report.get("unsupported_isa"):
            # auditwheel then finds no manylinux tag at all; the instructions are the cause.
            return [
                self.error(
                    "uses instructions beyond the baseline of its architecture (auditwheel: "
                    "unsupported ISA extension), so it fails on older CPUs",
                    name,
                    "build for the architecture's baseline (no -march=x86-64-v3, -march=native "
                    "or target-cpu flags; dispatch at run time instead).",
                )
            ]
        external = sorted(report.get("external_libs") or {})
        if external:
            # No policy allows these, so auditwheel finds no manylinux tag: one cause.
            return [
                self.error(
                    f"needs {', '.join(external)}, which no manylinux policy allows and the "
                    "wheel does not bundle",
                    name,
                    "repair the wheel with auditwheel repair so they are bundled.",
                )
            ]
        found: list[Finding] = []
        possible = str(report["overall_tag"])
        possible_policy = policy_version(possible)
        # A compressed tag set names one floor several ways (manylinux2014_aarch64.
        # manylinux_2_17_aarch64): each cause is one finding naming every tag it concerns.
        other_libc: list[str] = []
        too_old: dict[str, tuple[str, tuple[int, int]]] = {}
        for platform in linux_platforms:
            claimed = policy_version(platform)
            if claimed is None:
                continue  # linux_*: the pypi-tags check reports it
            family, version = claimed
            if possible_policy is not None and possible_policy[0] != family:
                other_libc.append(platform)
                continue
            if family == "musllinux" and possible_policy is not None:
                # musl versions no symbols, so auditwheel cannot say which musl the binaries
                # need: its musllinux tag is the host's musl, or the newest it knows (6.4-6.8).
                continue
            needed = possible_policy[1] if possible_policy is not None else None
            if family == "manylinux" and off_floor and needed and version < needed <= off_floor:
                continue  # its floor finding says the one fix: build it for the floor
            if possible_policy is None or possible_policy[1] > version:
                too_old[platform] = (family, version)
        if other_libc and possible_policy is not None:
            family = possible_policy[0]
            claimed_family = "musllinux" if family == "manylinux" else "manylinux"
            libc = "musl" if claimed_family == "manylinux" else "glibc"
            found.append(
                self.error(
                    f"claims {', '.join(other_libc)}, but its binaries link {libc} libc "
                    f"(auditwheel: {possible})",
                    name,
                    f"build it against {'glibc' if libc == 'musl' else 'musl'} for a "
                    f"{claimed_family} tag, or tag it {family} only.",
                )
            )
        if too_old:
            family, version = min(too_old.values())
            need = (
                f"need at least {possible}{_newest_glibc(report)}"
                if possible_policy
                else f"are compatible with no {family} policy (auditwheel: {possible})"
            )
            policy = f"{family}_{version[0]}_{version[1]}"
            found.append(
                self.error(
                    f"claims {', '.join(too_old)}, but its binaries{_elf_members(dist)} {need}",
                    name,
                    f"rebuild it in the {policy} image of its architecture (cibuildwheel, or "
                    f"maturin's --zig or --compatibility {policy}), so it links an older "
                    "glibc; or claim a newer floor ([tool.release.linux] manylinux).",
                )
            )
        found += self._module_names(dist, linux_platforms)
        if not found and any(p.startswith("linux_") for p in linux_platforms):
            found.append(
                self.info(f"auditwheel says it could be tagged {possible}: auditwheel repair "
                          f"--plat {possible}", name)
            )  # fmt: skip
        return found

    def _module_names(self, dist: Distribution, platforms: Sequence[str]) -> list[Finding]:
        """Extension modules named for another CPU than the tag's. auditwheel judged the
        ELF headers (their CPU is the tag's, or it said so already); CPython finds a module
        by its name, which a cross-compiling build takes from the build machine's Python."""
        cpus = {
            _MULTIARCH_CPU.get(m["arch"], m["arch"]) for p in platforms if (m := _TAG_ARCH.match(p))
        }
        found = []
        for member in dist.binaries:
            named = _LINUX_MODULE.search(member.name)
            if named is None or not cpus or named["cpu"] in cpus:
                continue
            wanted = sorted(cpus)[0]
            suffix = f".cpython-{named['version']}-{wanted}-linux-{named['libc']}.so"
            found.append(
                self.error(
                    f"{member.name} is named for {named['cpu']}, but the wheel is tagged "
                    f"{', '.join(platforms)}: CPython there imports {suffix}, .abi3.so or "
                    ".so, so the module is never found (ModuleNotFoundError)",
                    dist.filename,
                    "cross-compiling, build with the target's Python (cibuildwheel on the "
                    "target's runner, ubuntu-24.04-arm for aarch64; maturin names the module "
                    "for its target), so the module is named for the CPU it runs on.",
                )
            )
        return found


_BY_HAND = "run `auditwheel show {}` by hand and read what it says."
# The CPU of a policy tag (manylinux2014_aarch64, musllinux_1_2_x86_64), and the name
# CPython's multiarch triple gives it (sysconfig MULTIARCH: i386-linux-gnu, arm-linux-gnueabihf).
_TAG_ARCH = re.compile(r"^(?:many|musl)linux(?:_\d+_\d+|1|2010|2014)_(?P<arch>\w+)$")
_MULTIARCH_CPU = {"i686": "i386", "armv7l": "arm", "ppc64le": "powerpc64le"}
# _m.cpython-314t-aarch64-linux-gnu.so; the libc part is not judged: before 3.13, CPython on
# musl named its modules linux-gnu too.
_LINUX_MODULE = re.compile(
    r"\.cpython-(?P<version>3\d+t?d?)-(?P<cpu>[a-z0-9_]+)-linux-(?P<libc>\w+)\.so$"
)
_GLIBC = re.compile(r"GLIBC_(\d+)\.(\d+)")


def _newest_glibc(report: Mapping[str, object]) -> str:
    """``" (libc.so.6 GLIBC_2.34)"``: the newest glibc symbol version the binaries use, or ""."""
    newest: tuple[tuple[int, int], str] | None = None
    symbols = report.get("versioned_symbols")
    for library, versions in symbols.items() if isinstance(symbols, dict) else ():
        for version in versions if isinstance(versions, list) else ():
            found = _GLIBC.fullmatch(str(version))
            if found and (newest is None or newest[0] < (int(found[1]), int(found[2]))):
                newest = (int(found[1]), int(found[2])), f"{library} {version}"
    return f" ({newest[1]})" if newest else ""


def _elf_members(dist: Distribution) -> str:
    """``" (pkg/_ext.so)"``: the wheel's shared objects, the files auditwheel judged."""
    suffixes = (".dll", ".pyd", ".dylib")
    names = [m.name for m in dist.binaries if not m.name.lower().endswith(suffixes)]
    if not names:
        return ""
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    return f" ({', '.join(names[:5])}{more})"


def split_batch(
    chunk: Sequence[Distribution], returncode: int, output: str
) -> list[tuple[Distribution, int, str]]:
    """Each wheel of a ``release.auditwheel_batch`` run with its exit status and output, as
    ``auditwheel show --json`` alone would have given them. A wheel the batch did not reach
    (it was killed, or crashed) gets the batch's exit status and its last words."""
    judged: list[tuple[Distribution, int, str]] = []
    lines: list[str] = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == MARKER and len(judged) < len(chunk):
            judged.append((chunk[len(judged)], int(parts[2]), "\n".join(lines)))
            lines = []
        else:
            lines.append(line)
    rest = "\n".join(lines) or "auditwheel stopped before judging it"
    return judged + [(d, returncode or 1, rest) for d in chunk[len(judged) :]]
