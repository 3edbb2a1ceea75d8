"""windows-dlls: every DLL a Windows wheel's binaries load is there when Python imports them.

For each ``.pyd`` and ``.dll`` in a Windows wheel the import and delay-import tables are read
(:mod:`.pe_imports`: objdump, and pefile beside it), and each imported DLL must be in the
wheel (any directory, any case), the interpreter's, a system DLL, or allowed by
``[tool.release.windows] allow-dlls`` (:mod:`.dll_policy`). Bundled DLLs are followed to the
whole transitive closure. A binary built for another machine than the wheel's platform tag,
a file named like a DLL that is not one, and an import table that cannot be read are errors.

Built to be quick on a whole wheel set: a binary several wheels carry (the same bundled DLL
in every cp3X wheel) is recognised by its sha256 and read once; the binaries are written to
one scratch directory under numbered names (never archive names); objdump reads many files
per process, the processes in parallel.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
import zlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..dists import WINDOWS, Distribution
from ..records import Finding
from ..runner import Runner
from . import pe_imports
from .base import Check, CheckContext, readable
from .dll_policy import (
    INTERPRETER,
    OTHER,
    classify,
    interpreter_dlls_for,
    tag_for_interpreter_dll,
    where_to_get,
)

PLATFORM_MACHINES: dict[str, int] = {
    "win_amd64": pe_imports.MACHINE_AMD64,
    "win32": pe_imports.MACHINE_I386,
    "win_arm64": pe_imports.MACHINE_ARM64,
    "win_ia64": pe_imports.MACHINE_IA64,
}
BINARY_SUFFIXES = (".dll", ".pyd")
CHECK = "windows-dlls"


@dataclass
class _Blob:
    """One distinct binary; every member with the same sha256 shares it."""

    scratch_name: str
    wheel: Path  # the wheel it is inflated from
    member: str
    facts: pe_imports.PEFacts | None = None
    problem: str | None = None  # why it is not a binary that can be checked
    imports: list[str] = field(default_factory=list)
    import_problems: list[str] = field(default_factory=list)


@dataclass
class _Wheel:
    dist: Distribution
    machines: dict[str, int]
    members_by_name: dict[str, list[str]] = field(default_factory=dict)
    binaries: dict[str, _Blob] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def error(self, message: str, remedy: str) -> None:
        self.findings.append(Finding("error", CHECK, self.dist.filename, message, remedy))


def _workers(jobs: int) -> int:
    return max(1, min(jobs, os.cpu_count() or 1))


class WindowsDllsCheck(Check):
    name = CHECK
    tools = ("objdump", pe_imports.LLVM_OBJDUMP)

    def tool_version(self, tool: str, runner: Runner) -> str:
        if tool != pe_imports.LLVM_OBJDUMP:
            return super().tool_version(tool, runner)
        # Its first line is "LLVM (http://llvm.org/):"; the version is on a later one.
        if runner.which(tool) is None:
            return "not found"
        output = runner.run([tool, "--version"], check=False, quiet=True, record=False).output
        found = re.search(r"LLVM version (\S+)", output)
        return f"{tool} {found[1]}" if found else runner.version_of([tool, "--version"])

    def applies_to(self, dist: Distribution) -> bool:
        return dist.is_wheel and readable(dist) and WINDOWS in dist.families

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        return scan_wheels(dists, ctx.runner, ctx.config.windows.allow_dlls)


def scan_wheels(
    dists: Sequence[Distribution], runner: Runner, allow_dlls: Sequence[str] = ()
) -> list[Finding]:
    """Findings for every Windows wheel among ``dists``."""
    findings: list[Finding] = []
    wheels: list[_Wheel] = []
    for dist in dists:
        windows = sorted(p for p in dist.platforms if p.startswith("win"))
        if not windows:
            continue
        unknown = [p for p in windows if p not in PLATFORM_MACHINES]
        if unknown:
            findings.append(
                Finding(
                    "error",
                    CHECK,
                    dist.filename,
                    f"its platform tag {', '.join(unknown)} names no Windows machine "
                    "nox-release knows, so its DLLs were not checked",
                    "tag the wheel win_amd64, win32 or win_arm64 for the machine it was built for.",
                )
            )
            continue
        wheels.append(_Wheel(dist, {p: PLATFORM_MACHINES[p] for p in windows}))
    blobs = _distinct_binaries(wheels)
    with tempfile.TemporaryDirectory(prefix="nox-release-dlls-") as tmp:
        scratch = Path(tmp)
        _extract(blobs, scratch)
        ready = [blob for blob in blobs if blob.facts is not None]
        by_reader: dict[str, list[str]] = {}
        for blob in ready:
            assert blob.facts is not None
            reader = pe_imports.objdump_for(blob.facts.machine)
            by_reader.setdefault(reader, []).append(blob.scratch_name)
        dumps: dict[str, pe_imports.ObjdumpImports] = {}
        for reader, names in sorted(by_reader.items()):
            arm = "ARM64 " if reader == pe_imports.LLVM_OBJDUMP else ""
            runner.require(
                reader,
                why=f"the windows-dlls check reads the DLL imports of {arm}Windows "
                "binaries with it",
            )
            dumps |= pe_imports.run_objdump(
                names, scratch, runner, _workers(len(names)), program=reader
            )
        for blob in ready:
            _merge_imports(blob, dumps.get(blob.scratch_name))
    for wheel in wheels:
        _check_wheel(wheel, allow_dlls)
        findings += wheel.findings
    return findings


def binaries_in(dist: Distribution) -> int:
    """How many PE binaries the check reads in ``dist`` (for the validate record)."""
    return sum(1 for m in dist.members if m.name.lower().endswith(BINARY_SUFFIXES))


# --- reading the wheels ----------------------------------------------------------------------


def _distinct_binaries(wheels: Sequence[_Wheel]) -> list[_Blob]:
    by_digest: dict[str, _Blob] = {}
    blobs: list[_Blob] = []
    for wheel in wheels:
        for member in wheel.dist.members:
            if member.is_dir:
                continue
            basename = PurePosixPath(member.name).name.lower()
            wheel.members_by_name.setdefault(basename, []).append(member.name)
            if not member.name.lower().endswith(BINARY_SUFFIXES) or member.sha256 is None:
                continue  # an unreadable member is the integrity check's finding
            blob = by_digest.get(member.sha256)
            if blob is None:
                blob = _Blob(f"{len(blobs)}.bin", wheel.dist.path, member.name)
                by_digest[member.sha256] = blob
                blobs.append(blob)
            wheel.binaries[member.name] = blob
    return blobs


def _extract(blobs: Sequence[_Blob], scratch: Path) -> None:
    """Inflate each blob once, in parallel (zlib lets other threads run while it inflates)."""
    by_wheel: dict[Path, list[_Blob]] = {}
    for blob in blobs:
        by_wheel.setdefault(blob.wheel, []).append(blob)
    workers = _workers(len(blobs))
    tasks = [
        (path, share[start::workers])
        for path, share in by_wheel.items()
        for start in range(workers)
    ]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(_extract_from, p, s, scratch) for p, s in tasks if s]:
            future.result()


def _extract_from(path: Path, blobs: Sequence[_Blob], scratch: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        for blob in blobs:
            try:
                data = archive.read(blob.member)
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                NotImplementedError,
                RuntimeError,
            ) as exc:
                blob.problem = f"cannot be extracted ({exc})"
                continue
            try:
                blob.facts = pe_imports.read_pe(data)
            except pe_imports.NotPE as exc:
                blob.problem = f"is named like a Windows binary, but {exc}: Windows cannot load it"
                continue
            (scratch / blob.scratch_name).write_bytes(pe_imports.copy_for_objdump(data))


def _merge_imports(blob: _Blob, dump: pe_imports.ObjdumpImports | None) -> None:
    """Every DLL the binary imports: what objdump listed, and what pefile read."""
    assert blob.facts is not None
    facts = blob.facts
    names: list[str] = []
    tables = (
        ("import", facts.import_present, dump.imports if dump else [], facts.imports),
        ("delay-import", facts.delay_present, dump.delay_imports if dump else [],
         facts.delay_imports),
    )  # fmt: skip
    for kind, present, listed, read in tables:
        names += listed + read
        if present and not listed and not read:
            detail = "; ".join(facts.warnings) or "neither objdump nor pefile could list any DLL"
            blob.import_problems.append(f"the {kind} directory is present but unreadable: {detail}")
        elif present and dump is not None and dump.corrupt and len(read) <= len(listed):
            # objdump could not read an entry, and pefile (which drops such entries without
            # a word) read no more than objdump did: one DLL the binary needs is unknown.
            blob.import_problems.append(f"the {kind} table has an entry neither reader can read")
    # One name per DLL, as Windows compares them: without regard to case.
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(name.lower(), name)
    blob.imports = list(unique.values())


# --- judging ---------------------------------------------------------------------------------


def _check_wheel(wheel: _Wheel, allow_dlls: Sequence[str]) -> None:
    for member, blob in wheel.binaries.items():
        if blob.problem is not None:
            wheel.error(
                f"{member} {blob.problem}",
                "put the real DLL in the wheel (a Git LFS pointer or a Linux build can end "
                "up here), or leave the file out; then rebuild.",
            )
            continue
        if blob.facts is not None and _check_machine(wheel, member, blob.facts.machine):
            _check_module_platform(wheel, member)
        if blob.import_problems:
            wheel.error(
                f"{member}: {'; '.join(blob.import_problems)}, so the DLLs it needs are unknown "
                "and the wheel cannot be shown to load",
                "check that the file is not damaged, and rebuild it with a standard linker.",
            )
    _check_closure(wheel, allow_dlls)


def _check_machine(wheel: _Wheel, member: str, machine: int) -> bool:
    """Whether the binary's machine is one the wheel's tags name; an error if not."""
    expected = set(wheel.machines.values())
    if machine in expected:
        return True
    wanted = " or ".join(sorted(pe_imports.machine_name(m) for m in expected))
    platforms = ", ".join(sorted(wheel.machines))
    wheel.error(
        f"{member} is built for {pe_imports.machine_name(machine)} (PE machine "
        f"0x{machine:04x}), but the wheel is tagged "
        f"{platforms}, which needs {wanted}: Windows will refuse to load it",
        f"build it for {wanted}, or give the wheel the platform tag of the machine it was "
        "built for.",
    )
    return False


# ``_m.cp314-win_amd64.pyd``: CPython on win_arm64 imports ``.cp314-win_arm64.pyd`` and
# ``.pyd`` only, so a module named for another platform is never found, whatever its machine.
_MODULE_PLATFORM = re.compile(r"\.cp3(\d+t?)-(win32|win_amd64|win_arm64)\.pyd$", re.IGNORECASE)


def _check_module_platform(wheel: _Wheel, member: str) -> None:
    named = _MODULE_PLATFORM.search(member)
    if named is None or named[2].lower() in wheel.machines:
        return
    version, platform = named[1], named[2].lower()
    wanted = " or ".join(f".cp3{version}-{p}.pyd" for p in sorted(wheel.machines))
    wheel.error(
        f"{member} is named for {platform}, but the wheel is tagged "
        f"{', '.join(sorted(wheel.machines))}: CPython there imports {wanted} or a plain .pyd, "
        "so the module is never found (ModuleNotFoundError)",
        f"name it {wanted}: building on another machine than the target, set "
        f"SETUPTOOLS_EXT_SUFFIX={wanted.split(' or ')[0]} (cibuildwheel does), or build on the "
        "target's own runner (windows-11-arm for win_arm64).",
    )


def _check_closure(wheel: _Wheel, allow_dlls: Sequence[str]) -> None:
    """Follow imports through bundled DLLs, from the extension modules first."""
    roots = sorted(wheel.binaries, key=lambda member: (not member.lower().endswith(".pyd"), member))
    chains: dict[str, tuple[str, ...]] = {}
    for root in roots:
        if root in chains:
            continue
        chains[root] = (root,)
        queue = deque([root])
        while queue:
            member = queue.popleft()
            for dll in wheel.binaries[member].imports:
                bundled = wheel.members_by_name.get(dll.lower())
                if bundled:
                    for target in bundled:
                        if target in wheel.binaries and target not in chains:
                            chains[target] = (*chains[member], dll)
                            queue.append(target)
                    continue
                kind = classify(dll, allow_dlls)
                if kind == OTHER:
                    chain = (*chains[member], dll)
                    wheel.error(_missing_message(chain), _bundle_remedy(dll))
                elif kind == INTERPRETER:
                    _check_interpreter_dll(wheel, member, dll)


def _check_interpreter_dll(wheel: _Wheel, member: str, dll: str) -> None:
    """The interpreter's DLL must be one that every CPython the wheel installs on has: an abi3
    wheel linked against python39.dll installs on 3.10 and fails to import there."""
    provided = interpreter_dlls_for(wheel.dist.tags)
    if provided is None or dll.lower() in provided:
        return
    tags = ", ".join(sorted({f"{tag.interpreter}-{tag.abi}" for tag in wheel.dist.tags}))
    shown = " or ".join(sorted(provided))
    fits = tag_for_interpreter_dll(dll)
    version = None
    if fits is not None:
        python, abi = fits.split("-")
        version = f"{python[2]}.{python[3:]}" + (" free-threaded" if abi.endswith("t") else "")
    fails = 'importing the module fails with "DLL load failed"'
    consequence = (
        f"; {dll} is CPython {version}'s alone, so on any other version {fails}"
        if version
        else f", not {dll}, so {fails}"
    )
    wheel.error(
        f"{member} imports {dll}, but the wheel is tagged {tags}, whose interpreters provide "
        f"{shown}{consequence}",
        _interpreter_remedy(wheel, provided, fits, version),
    )


def _interpreter_remedy(
    wheel: _Wheel, provided: frozenset[str], fits: str | None, version: str | None
) -> str:
    stable = sorted(dll for dll in provided if dll in ("python3.dll", "python3t.dll"))
    if any(tag.abi in ("abi3", "abi3t") for tag in wheel.dist.tags):
        link = (
            f"link against {' or '.join(stable)}, the stable ABI's DLL (PyO3: the abi3 "
            "feature, with generate-import-lib to make its import library when "
            "cross-compiling)"
        )
    else:
        link = f"link against {' or '.join(sorted(provided))}, the DLL of the tagged CPython"
    if fits is None:
        return f"{link}."
    platforms = ".".join(sorted(wheel.machines))
    return (
        f"{link}; or, if it is meant for CPython {version} alone, tag the wheel {fits}-{platforms}."
    )


def _missing_message(chain: tuple[str, ...]) -> str:
    origin = where_to_get(chain[-1])
    return (
        f"{' -> '.join(chain)}: not in the wheel and not a system DLL, so importing the "
        f'module fails with "DLL load failed"{"; " + origin if origin else ""}'
    )


def _bundle_remedy(dll: str) -> str:
    return (
        "bundle it: building on Windows, put the directory that holds it on PATH (for MSYS2 "
        "packages, mingw64/bin) so the repair step copies it into the wheel (maturin "
        "cross-compiling on Linux looks only in the cargo:rustc-link-search directories); or "
        "run `delvewheel repair --add-path <dir>` on the wheel; or, if users are known to "
        f'have it, add "{dll}" to [tool.release.windows] allow-dlls.'
    )
