"""The release workflow's build jobs: one per runner and architecture, each on the GitHub-hosted
runner that builds it natively (release/platforms.py names them exactly), each uploading its
own artifact for validate to merge.

Which jobs: the platforms the configuration selects, read from the configuration alone, so
that the workflow written is the same on every machine (``workflows --check`` compares it
byte for byte). For maturin that is ``[tool.release]`` (:attr:`ReleaseConfig.platforms`); for
cibuildwheel, its ``archs`` resolved across the runners, with the architectures its
``build``/``skip`` select nothing of left out (:func:`_selects_any`, a reading of cibuildwheel's
selectors good enough to drop a job that would build nothing). ``check`` then compares the
jobs of the workflow file with the expected set the backend itself derives
(:func:`coverage`): a platform no job builds, or a job that would build nothing, is an error.

A project that lists its wheels (``[tool.release.wheels]``) or builds with ``build`` does not
say its architectures: one job per operating system, without ``--arch``, as before.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from ..config import ReleaseConfig
from ..expected import ExpectedSet
from ..platforms import (
    ARCHS,
    LIBCS,
    OPERATING_SYSTEMS,
    OS,
    RUNNERS,
    ArchError,
    Platform,
    Runner,
    canonical_arch,
    cpython_minors,
    native_runner,
    runners_for,
)
from ..records import ERROR, INFO, WARNING, Finding
from ..regression import requires_python_of

COVERAGE = "build-jobs"


@dataclass(frozen=True)
class BuildJob:
    """One build job of the release workflow: a build stage, on one runner, for one
    architecture (None: every platform of the OS the stage builds, as one job)."""

    os: OS
    arch: str | None
    runner: str  # the runner's exact label
    python: str | None = None  # "3.12": a job of a matrix split by Python
    # The CPythons the build needs installed (maturin's version-specific and free-threaded
    # wheels): set up beside the one that runs nox.
    interpreters: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        arch = f"-{self.arch.lower()}" if self.arch else ""
        python = f"-cp{self.python.replace('.', '')}" if self.python else ""
        return f"build-{self.os}{arch}{python}"

    @property
    def nox_args(self) -> str:
        options = (f" --arch {self.arch}" if self.arch else "") + (
            f" --python {self.python}" if self.python else ""
        )
        return f"-s build-{self.os}" + (f" --{options}" if options else "")

    @property
    def artifact(self) -> str:
        return f"dist-{self.id}"


def _default_runner(os: OS) -> str:
    """The runner of an OS-wide job: the x86_64 one on Linux and Windows (where a build without
    ``--arch`` always ran), the arm64 Mac (GitHub's macOS runners are arm64 unless named)."""
    machine = {"linux": "x86_64", "windows": "AMD64", "macos": "arm64"}[os]
    return next(r.label for r in runners_for(os) if r.arch == machine)


def _cibuildwheel_selectors(config: ReleaseConfig, os: OS) -> tuple[list[str], list[str]]:
    """``build`` and ``skip`` of ``[tool.cibuildwheel]`` and its OS table (the OS table wins,
    as in cibuildwheel), as lists of patterns."""
    table = config.package.tool("cibuildwheel")
    found_scope = table.get(os)
    scoped: Mapping[str, Any] = found_scope if isinstance(found_scope, dict) else {}
    found: dict[str, list[str]] = {}
    for key, default in (("build", "*"), ("skip", "")):
        value = scoped.get(key, table.get(key, default))
        # Whitespace separates selectors (a comma belongs to a brace: cp3{12,13}-*).
        entries = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        found[key] = [word for entry in entries for word in str(entry).split()] or [default]
    return found["build"], [p for p in found["skip"] if p]


def _expand_braces(pattern: str) -> list[str]:
    """``cp3{11,12}-*`` -> ``cp311-*``, ``cp312-*`` (cibuildwheel's selectors take braces)."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[: match.start()], pattern[match.end() :]
    return [e for part in match[1].split(",") for e in _expand_braces(head + part + tail)]


def _matches(identifier: str, patterns: Sequence[str]) -> bool:
    return any(
        fnmatch.fnmatchcase(identifier, p) for pattern in patterns for p in _expand_braces(pattern)
    )


def _selected_pythons(config: ReleaseConfig, platform: Platform) -> list[str]:
    """The CPythons of ``requires-python`` (``3.12``) cibuildwheel's build/skip leave on this
    platform, free-threaded or not."""
    build, skip = _cibuildwheel_selectors(config, platform.os)
    requires = requires_python_of(config.package.raw)
    threaded = set(cpython_minors(requires, free_threaded=True))
    found = []
    for minor in cpython_minors(requires):
        pythons = [f"cp3{minor}"] + ([f"cp3{minor}t"] if minor in threaded else [])
        identifiers = [f"{python}-{platform.name}" for python in pythons]
        if any(_matches(i, build) and not _matches(i, skip) for i in identifiers):
            found.append(f"3.{minor}")
    return found


def _selects_any(config: ReleaseConfig, platform: Platform) -> bool:
    return bool(_selected_pythons(config, platform))


def job_platforms(config: ReleaseConfig) -> tuple[Platform, ...] | None:
    """The platforms the build jobs cover, from the configuration alone; None when the
    project does not say its architectures (``[tool.release.wheels]``, the build backend)."""
    if config.wheels is not None or config.backend == "build":
        return None
    if config.backend != "cibuildwheel":
        return config.platforms
    from ..backends.cibuildwheel import project_archs  # the backend's one reading of archs

    found = []
    pyproject = config.shown(config.package.pyproject)
    for os in OPERATING_SYSTEMS:
        archs = project_archs(config, {}, os).resolved(os, pyproject)
        for arch in archs:
            libcs = LIBCS if os == "linux" else (None,)
            found += [
                platform
                for libc in libcs
                if _selects_any(config, platform := Platform(os, arch, libc))
            ]
    return tuple(found)


def build_jobs(config: ReleaseConfig) -> list[BuildJob]:
    """The release workflow's build jobs, in the platforms' order; a platform no GitHub-hosted
    runner builds natively (ppc64le, s390x...) gets none, and ``check`` says so."""
    platforms = job_platforms(config)
    if platforms is None:
        # The build backend builds the host's wheel on Linux and Windows, as it always did;
        # listed wheels say their operating systems.
        listed = config.wheels
        oses: tuple[OS, ...] = (
            tuple(os for os in OPERATING_SYSTEMS if listed.for_platform(os))
            if listed is not None
            else ("linux", "windows")
        )
        return [BuildJob(os, None, _default_runner(os)) for os in oses]
    split = config.ci.split_builds == "python"  # cibuildwheel only (the config says so)
    interpreters: tuple[str, ...] = ()
    if config.backend == "maturin":
        from ..backends.maturin import MaturinBackend  # the backend's one reading of the crate

        interpreters = tuple(MaturinBackend(config).interpreter_versions())
    jobs: dict[tuple[OS, str, str | None], BuildJob] = {}
    for platform in sorted(platforms, key=lambda p: p.sort_key):
        runner = native_runner(platform)
        if runner is None:
            continue
        pythons: list[str | None] = [None]
        if split:
            pythons = [*_selected_pythons(config, platform)]
        for python in pythons:
            key = (platform.os, platform.arch, python)
            job = BuildJob(platform.os, platform.arch, runner.label, python, interpreters)
            jobs.setdefault(key, job)
    return sorted(jobs.values(), key=_job_order)


def _job_order(job: BuildJob) -> tuple[int, int, int]:
    """OS, then architecture, then Python: the order the platforms have."""
    arch = ARCHS[job.os].index(job.arch) if job.arch in ARCHS[job.os] else 0
    minor = int(job.python.split(".")[1]) if job.python else 0
    return OPERATING_SYSTEMS.index(job.os), arch, minor


# --- check: do the workflow's jobs build the expected set? ---------------------------------------

_BUILD_RUN = re.compile(r"nox\b.*?-s\s+build-(?P<os>linux|macos|windows)\b(?P<rest>.*)", re.DOTALL)
_ARCH_ARG = re.compile(r"--arch(?:\s+|=)(?P<arch>[A-Za-z0-9_]+)")
_PYTHON_ARG = re.compile(r"--python(?:\s+|=)(?P<python>3\.\d+)")
_IDENTIFIER_PYTHON = re.compile(r"^(?:cp|pp|gp)3(?P<minor>\d+)")
_LATEST = re.compile(r"^(ubuntu|windows|macos)-latest$")


@dataclass(frozen=True)
class FoundJob:
    """A build job of the workflow file: what it runs, where."""

    name: str
    os: OS
    arch: str | None
    runs_on: str  # as written ("ubuntu-24.04-arm", "${{ matrix.os }}", "[self-hosted, arm64]")
    python: str | None = None


def _runs_on(job: Mapping[str, Any]) -> str:
    value = job.get("runs-on")
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value or "")


def found_jobs(jobs: Mapping[str, Any]) -> list[FoundJob]:
    """The jobs that run a build stage, with their ``--arch``. A matrix job's ``${{ }}``
    arguments are not expanded: its ``--arch`` reads as the expression, which check reports
    as an architecture it cannot tell."""
    found = []
    for name, job in jobs.items():
        if not isinstance(job, Mapping):
            continue
        steps = job.get("steps")
        for step in steps if isinstance(steps, list) else []:
            if not isinstance(step, Mapping) or "run" not in step:
                continue
            match = _BUILD_RUN.search(str(step["run"]))
            if match is None:
                continue
            arch = _ARCH_ARG.search(match["rest"])
            python = _PYTHON_ARG.search(match["rest"])
            os = cast(OS, match["os"])  # the pattern names only these
            found.append(FoundJob(
                str(name), os, arch["arch"] if arch else None, _runs_on(job),
                python["python"] if python else None,
            ))  # fmt: skip
    return found


def coverage(
    expected: ExpectedSet, jobs: Mapping[str, Any], file: str, *, stages_building_all: bool
) -> list[Finding]:
    """Findings on whether the workflow's build jobs build every platform of ``expected``.

    ``stages_building_all``: the expected set does not name platforms (wheels listed by hand,
    the build backend), so a job per OS covers it, whatever its runner.
    """
    found = found_jobs(jobs)
    findings: list[Finding] = []
    for job in found:
        if _LATEST.match(job.runs_on) and job.arch is not None:
            exact = [r.label for r in runners_for(job.os)]
            findings.append(Finding(
                WARNING, COVERAGE, file,
                f"job {job.name} builds {job.os} {job.arch} on {job.runs_on}, an alias GitHub "
                "moves to newer images (macos-latest once changed architecture)",
                f"name the runner: one of {', '.join(exact)}.",
            ))  # fmt: skip
    if stages_building_all:
        oses = sorted({w.platform for w in expected.wheels})
        for os in oses:
            if not any(job.os == os for job in found):
                findings.append(_unbuilt(file, f"the {os} wheels", f"build-{os}"))
        return findings
    platforms = expected.platforms
    for platform in platforms:
        builders = [job for job in found if _builds(job, platform)]
        if builders and all(job.python for job in builders):
            # A matrix split by Python: each Python of the platform needs its job.
            findings += _unbuilt_pythons(expected, platform, builders, file)
            continue
        if not builders:
            runner = native_runner(platform)
            session = f"build-{platform.os} -- --arch {platform.arch}"
            where = f" on {runner.label}" if runner else ""
            if runner is None:
                findings.append(Finding(
                    ERROR, COVERAGE, file,
                    f"no job builds {platform.name}, and no GitHub-hosted runner is "
                    f"{platform.arch}: only emulation (QEMU) would build it",
                    f"leave {platform.arch} out of the project's archs, or add a job on a "
                    f"runner of that architecture (self-hosted) that runs `nox {session}`.",
                ))  # fmt: skip
            else:
                findings.append(_unbuilt(file, platform.name, f"{session}{where}"))
    for job in found:
        if job.arch is None:
            continue
        mine = [p for p in platforms if p.os == job.os and _same_arch(p, job.arch)]
        if mine and job.python is not None:
            pythons = {_python_of(w.build) for w in expected.wheels if w.build_platform in mine}
            if job.python not in pythons:
                findings.append(Finding(
                    ERROR, COVERAGE, file,
                    f"job {job.name} runs build-{job.os} --arch {job.arch} --python "
                    f"{job.python}, and the project builds no Python {job.python} wheels there "
                    "(cibuildwheel's selectors, requires-python)",
                    "run `nox-release workflows --write` to write the jobs the configuration "
                    "makes.",
                ))  # fmt: skip
        if not mine:
            has = ", ".join(sorted({p.arch for p in platforms if p.os == job.os})) or "none"
            findings.append(Finding(
                ERROR, COVERAGE, file,
                f"job {job.name} runs build-{job.os} --arch {job.arch}, and the project "
                f"builds no {job.os} wheels for it (its {job.os} architectures: {has}): the "
                "stage would refuse it",
                "run `nox-release workflows --write` to write the jobs the configuration makes.",
            ))  # fmt: skip
    if not findings and found:
        findings.append(Finding(
            INFO, COVERAGE, file,
            f"{len(found)} build job(s) cover the {len(platforms) or 'expected'} platform(s) "
            "of the expected set",
        ))  # fmt: skip
    return findings


def _python_of(build: str) -> str | None:
    """``cp312t-manylinux_x86_64`` -> ``3.12``; None for a build not named by a Python."""
    match = _IDENTIFIER_PYTHON.match(build)
    return f"3.{match['minor']}" if match else None


def _unbuilt_pythons(
    expected: ExpectedSet, platform: Platform, builders: list[FoundJob], file: str
) -> list[Finding]:
    built = {job.python for job in builders}
    missing = sorted(
        {
            python
            for wheel in expected.wheels
            if wheel.build_platform == platform
            and (python := _python_of(wheel.build)) is not None
            and python not in built
        },
        key=lambda v: int(v.split(".")[1]),
    )
    runner = native_runner(platform)
    where = f" on {runner.label}" if runner else ""
    return [
        _unbuilt(file, f"Python {python} of {platform.name}",
                 f"build-{platform.os} -- --arch {platform.arch} --python {python}{where}")
        for python in missing
    ]  # fmt: skip


def _unbuilt(file: str, what: str, session: str) -> Finding:
    return Finding(
        ERROR, COVERAGE, file, f"no job builds {what}: the release would lack its wheels",
        f"add a job that runs `nox -s {session}` (`nox-release workflows --write` writes "
        "the jobs the configuration makes).",
    )  # fmt: skip


def _same_arch(platform: Platform, arch: str) -> bool:
    return platform.arch.lower() == arch.lower() or platform.arch == _alias(platform.os, arch)


def _alias(os: OS, arch: str) -> str | None:
    try:
        return canonical_arch(os, arch)
    except ArchError:
        return None


def _builds(job: FoundJob, platform: Platform) -> bool:
    if job.os != platform.os:
        return False
    if job.arch is not None:
        return _same_arch(platform, job.arch)
    # No --arch: the stage builds what its runner builds natively or cross; read from the
    # runner's label when it is one of GitHub's, else credited (a self-hosted machine).
    runner = _runner_named(job.runs_on)
    native = native_runner(platform)
    return runner is None or native is None or runner.label == native.label


def _runner_named(label: str) -> Runner | None:
    aliases = {"ubuntu-latest": "ubuntu-24.04", "windows-latest": "windows-2025",
               "macos-latest": "macos-15"}  # fmt: skip
    label = aliases.get(label, label)
    return next((r for r in RUNNERS if r.label == label), None)
