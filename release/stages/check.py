"""check: the preflight, before a tag is pushed. Offline, a few seconds; each finding says
what to change.

- the configuration loads (it did, or this stage would not run);
- the tools the stages need are here: cargo and rustc for maturin, objdump for Windows
  wheels, the configured apt-packages;
- a Windows wheel that Linux cross-compiles can be linked there: PyO3 makes python3.dll's
  import library only with its generate-import-lib feature;
- every workflow file is YAML GitHub can read;
- the release workflow against ``[tool.release]`` (:mod:`release.workflows.audit`), and its
  build jobs against the expected wheel set: a platform no job builds, or a job the build
  stage would refuse, is an error (:mod:`release.workflows.fanout`);
- zizmor (offline, severity low and up) and check-jsonschema (GitHub's workflow schema)
  judge the workflows nox-release writes (``workflows --write``): they are the judges of
  their audits, not re-implemented here. Their findings in the project's other workflows are
  the project's to weigh: one line counts them and says how to see them (unless
  ``[tool.release.check] audit-all-workflows = true`` makes them errors too);
- the one judgement on the other workflows (:mod:`release.workflows.publishers`): one that
  publishes this package too is an error, one that makes the tag's GitHub Release a warning.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from pathlib import Path

from .. import system_packages
from ..backends import backend_for
from ..backends.cibuildwheel import agreeing_images
from ..backends.maturin import MaturinBackend, agreeing_compatibility, cross_compiled_on_linux
from ..checks.base import json_array_in, json_object_in
from ..config import ReleaseConfig
from ..console import Console
from ..context import RunContext
from ..diagnose import import_lib_remedy
from ..errors import CheckFailedError, ReleaseError
from ..expected import configured_set
from ..host import host_os
from ..project.cargo import IMPORT_LIB_FEATURE, missing_import_lib
from ..project.version import project_version
from ..records import ERROR, INFO, WARNING, Finding, StageRecord
from ..report import print_findings
from ..runner import INSTALL_HINTS, child_env
from ..workflows.audit import (
    WORKFLOW_GLOB,
    audit,
    read_workflow,
    said_by_audit,
    unreadable_remedy,
)
from ..workflows.fanout import COVERAGE, coverage
from ..workflows.generate import workflows as generated_workflows
from ..workflows.publishers import other_workflows

TOOLS = "tools"
YAML = "yaml"
ZIZMOR = "zizmor"
SCHEMA = "workflow-schema"
IMPORT_LIB = "windows-import-lib"


def check(ctx: RunContext, record: StageRecord) -> None:
    config = ctx.config
    findings = _tools(ctx) + _windows_import_lib(config)
    try:
        version, _ = project_version(config)
    except ReleaseError as exc:
        findings.append(Finding(ERROR, "version", None, exc.cause.rstrip("."), exc.remedy))
        version = None
    try:  # the build refuses another floor than the configured one; say it here first
        if config.backend == "cibuildwheel":
            agreeing_images(config, ctx.environ)
        elif config.backend == "maturin":
            agreeing_compatibility(config)
    except ReleaseError as exc:
        findings.append(Finding(ERROR, "manylinux", None, exc.cause.rstrip("."), exc.remedy))
    workflows = sorted((config.project_root / ".github" / "workflows").glob(WORKFLOW_GLOB))
    owned = set(generated_workflows(config))  # same directory: no resolving (links may loop)
    audit_all = config.table.check.audit_all_workflows
    readable: list[Path] = []
    others: list[Path] = []
    unreadable_others: list[str] = []
    for path in workflows:
        mine = path in owned
        problem = read_workflow(path)[1]
        if problem is None:
            (readable if mine else others).append(path)
        elif mine or audit_all:
            # Said here, once: the judges below would each say it their own way (or not at all,
            # as zizmor, which skips such a file with a log line).
            findings.append(Finding(
                ERROR, YAML, config.shown(path), problem, unreadable_remedy(problem)
            ))  # fmt: skip
        else:
            unreadable_others.append(config.shown(path))
    audited = audit(config, str(version) if version else None)
    findings += audited
    findings += _build_jobs(ctx, owned_release=config.project_root / ".github" / "workflows"
                            / config.publish.workflow)  # fmt: skip
    # The only judgement on the workflows nox-release does not own: do they publish this
    # package too, or make its GitHub Release?
    findings += other_workflows(config, str(version) if version else None, others)
    if unreadable_others:
        findings.append(Finding(INFO, YAML, None, f"{len(unreadable_others)} workflow(s) "
                                "nox-release does not own are not YAML it can read, so they "
                                f"were not searched for other publishers: "
                                f"{', '.join(unreadable_others)}"))  # fmt: skip
    if readable or others:
        # Both judges see every workflow (one run each), and judge only nox-release's own:
        # the others' findings are the project's to weigh, counted on one line.
        files = [str(p) for p in [*readable, *others]]
        mine_shown = {config.shown(p) for p in (readable + others if audit_all else readable)}
        findings += _own(
            mine_shown,
            ZIZMOR,
            "zizmor .github/workflows",
            _judge(
                ctx,
                ZIZMOR,
                ["zizmor", "--offline", "--min-severity", "low", "--format", "json", *files],
                "auditing the workflows with zizmor",
                zizmor_findings,
            ),
        )
        findings += _own(
            mine_shown,
            SCHEMA,
            "check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml",
            _judge(
                ctx,
                SCHEMA,
                [
                    "check-jsonschema",
                    "--builtin-schema",
                    "vendor.github-workflows",
                    "-o",
                    "json",
                    *files,
                ],
                "checking the workflows against GitHub's workflow schema",
                schema_findings,
            ),
        )
        findings = [f for f in findings if f.check != SCHEMA or not said_by_audit(f, audited)]
    record.findings = findings
    record.tool_versions = {tool: ctx.runner.tool_version(tool) for tool in (
        "zizmor", "check-jsonschema")}  # fmt: skip
    record.details["workflows"] = [config.shown(p) for p in workflows]
    _report(ctx.console, findings)
    errors = [f for f in findings if f.level == ERROR]
    if errors:
        raise CheckFailedError(
            f"{len(errors)} problem(s) would stop or break the release.",
            "fix each one listed above; nox -s check runs in seconds.",
        )


def _own(mine: set[str], judge: str, by_hand: str, found: list[Finding]) -> list[Finding]:
    """A judge's findings on nox-release's workflows, and one line counting the rest."""
    own = [f for f in found if f.file is None or f.file in mine]
    rest = [f for f in found if f not in own]
    if rest:
        files = len({f.file for f in rest})
        own.append(Finding(
            INFO, judge, None, f"{len(rest)} finding(s) in {files} workflow(s) nox-release does "
            f"not own (not errors of check); run `{by_hand}` to see them, or set "
            "[tool.release.check] audit-all-workflows = true to make them errors of check",
        ))  # fmt: skip
    return own


def _tools(ctx: RunContext) -> list[Finding]:
    config, runner = ctx.config, ctx.runner
    found = []

    def need(tool: str, why: str, hint: str, level: str = ERROR) -> None:
        if runner.which(tool) is None:
            found.append(Finding(level, TOOLS, None, f"{tool} is not on PATH; {why}", hint))

    if config.backend == "maturin":
        for tool in ("cargo", "rustc"):
            need(tool, "maturin builds the Rust crate with it",
                 "install Rust with rustup (https://rustup.rs).")  # fmt: skip
    # No container engine here (cibuildwheel's Linux builds become host builds) is not for
    # check to say: CI's runners have Docker, so nothing changes for the tag; build-linux says
    # what it does instead, and why, once.
    windows = config.wheels is None or bool(config.wheels.windows)
    if windows:
        need("objdump", "validate reads the DLL imports of Windows wheels with it",
             "install binutils (Debian/Ubuntu: apt-get install binutils; Windows: MSYS2's "
             "mingw-w64-x86_64-binutils).")  # fmt: skip
    if config.wheels is not None and any("arm64" in p for p in config.wheels.windows):
        need(
            "llvm-objdump",
            "validate reads the DLL imports of ARM64 Windows binaries with it (binutils' "
            "objdump cannot read them)",
            INSTALL_HINTS["llvm-objdump"] + ".",
        )
    programs: dict[str, str] = {}  # the wheels' step and the sdist's, each program once
    for scope in (host_os(), None):
        step = config.before_build(scope)
        for argv in step.commands:
            if "/" not in argv[0]:  # a script of the project's is found in its root
                programs.setdefault(argv[0], step.key)
    for program, key in programs.items():
        need(program, f"{key} runs it before building", f"install {program}, or change {key}.")
    cibuildwheel_apt = config.backend == "cibuildwheel" and config.linux.apt_packages
    if cibuildwheel_apt and not system_packages.before_all(config):
        found.append(Finding(
            WARNING, TOOLS, None,
            "apt-packages reach cibuildwheel's host builds only: its Linux builds in CI run in "
            "manylinux containers, which do not have them",
            "install them there too: [tool.cibuildwheel.linux] before-all = \"yum install -y "
            "...\" in the package's pyproject.toml (manylinux images are RHEL-based).",
        ))  # fmt: skip
    packages = system_packages.host_packages(config, runner) if host_os() == "linux" else ()
    if packages:
        absent = system_packages.missing(runner, packages)
        if absent is None:
            found.append(Finding(INFO, TOOLS, None, "apt-packages not checked: no dpkg here"))
        elif absent and system_packages.install_wanted(ctx.environ):
            installs = f"build-linux installs {', '.join(absent)} (apt-packages)"
            found.append(Finding(INFO, TOOLS, None, installs))
        elif absent:
            command = shlex.join(system_packages.install_command(absent))
            found.append(Finding(
                ERROR, TOOLS, None,
                f"the Linux build needs {', '.join(absent)} ([tool.release.linux] "
                "apt-packages), not installed here", f"install them: {command}",
            ))  # fmt: skip
    return found


def _windows_import_lib(config: ReleaseConfig) -> list[Finding]:
    """A MinGW target Linux cross-compiles, and a PyO3 that cannot link it there. (A build
    on Windows links the import library of the Windows Python it runs with.)"""
    if config.backend != "maturin" or (config.wheels is not None and not config.wheels.windows):
        return []
    target = MaturinBackend(config).windows_target
    if not cross_compiled_on_linux(target, config.windows.msys2_packages):
        return []
    try:
        fix = missing_import_lib(config)
    except ReleaseError:
        return []  # no Cargo.toml to read: the version check says so, once
    if fix is None:
        return []
    return [Finding(
        ERROR, IMPORT_LIB, fix.manifest,
        f"the Windows wheel ({target}) is cross-compiled on Linux, and {fix.crate} (before "
        f"0.29) links it there only with its {IMPORT_LIB_FEATURE} feature, which "
        f"{fix.manifest} does not enable, so that build fails",
        import_lib_remedy(fix),
    )]  # fmt: skip


def _judge(
    ctx: RunContext,
    check: str,
    argv: list[str],
    why: str,
    findings: Callable[[str, Path], list[Finding]],
) -> list[Finding]:
    """One judge (zizmor, check-jsonschema) on the workflows: its report as findings."""
    try:
        result = ctx.runner.run(
            argv, cwd=ctx.config.project_root, env=child_env(uncoloured=True), check=False, why=why
        )
    except ReleaseError as exc:  # not installed, say
        return [Finding(ERROR, check, None, exc.cause.rstrip("."), exc.remedy)]
    return findings(result.output, ctx.config.project_root)


def zizmor_findings(output: str, root: Path) -> list[Finding]:
    reports = json_array_in(output)
    if reports is None:
        return [Finding(ERROR, ZIZMOR, None, "zizmor gave no report",
                        "run zizmor --offline on .github/workflows by hand.")]  # fmt: skip
    found = []
    for report in reports:
        location = (report.get("locations") or [{}])[0]
        path = location.get("symbolic", {}).get("key", {}).get("Local", {}).get("verbatim_path")
        row = location.get("concrete", {}).get("location", {}).get("start_point", {}).get("row")
        annotation = location.get("symbolic", {}).get("annotation", "")
        severity = report.get("determinations", {}).get("severity", "?")
        shown = _relative(path, root) if path else None
        where = f" at line {row + 1}" if isinstance(row, int) else ""
        found.append(Finding(
            ERROR, ZIZMOR, shown,
            f"{report.get('ident')} ({severity}){where}: {report.get('desc')}"
            + (f" ({annotation})" if annotation else ""),
            f"see {report.get('url', 'https://docs.zizmor.sh/audits/')}.",
        ))  # fmt: skip
    return found


def _relative(path: str, root: Path) -> str:
    candidate = Path(path)
    try:
        return candidate.resolve().relative_to(root).as_posix() if candidate.is_absolute() else path
    except ValueError:
        return path


def schema_findings(output: str, root: Path) -> list[Finding]:
    report = json_object_in(output)
    if report is None:
        by_hand = "run check-jsonschema --builtin-schema vendor.github-workflows by hand."
        return [Finding(ERROR, SCHEMA, None, "check-jsonschema gave no report", by_hand)]
    found = []
    for error in [*report.get("errors", []), *report.get("parse_errors", [])]:
        best = error.get("best_deep_match") or error
        file = _relative(str(error.get("filename", "?")), root)
        found.append(Finding(
            ERROR, SCHEMA, file,
            f"{best.get('path', '$')}: {best.get('message', error.get('message', ''))}",
            "fix the workflow where the schema points (the keys GitHub knows are in its "
            "workflow syntax documentation).",
        ))  # fmt: skip
    return found


def _build_jobs(ctx: RunContext, owned_release: Path) -> list[Finding]:
    """Do the release workflow's build jobs build every platform of the expected set, and
    nothing the stages would refuse?"""
    config = ctx.config
    data, problem = read_workflow(owned_release) if owned_release.is_file() else (None, "")
    jobs = data.get("jobs") if problem is None and isinstance(data, Mapping) else None
    if not isinstance(jobs, Mapping):
        return []  # the audit says what is wrong with the file
    try:
        expected = configured_set(config) or backend_for(config).expected_wheels(ctx)
    except ReleaseError as exc:
        return [Finding(ERROR, COVERAGE, None, "the expected wheel set could not be derived: "
                        + exc.cause.rstrip("."), exc.remedy)]  # fmt: skip
    if expected is None:  # the build backend: the host's wheel, built by each OS's job
        return []
    return coverage(
        expected, jobs, config.shown(owned_release), stages_building_all=not expected.platforms
    )


def _report(console: Console, findings: list[Finding]) -> None:
    print_findings(console, findings)
    errors = sum(f.level == ERROR for f in findings)
    warnings = sum(f.level == WARNING for f in findings)
    console.line(f"check: {errors} error(s), {warnings} warning(s)")
