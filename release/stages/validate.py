"""validate: may the artifacts in the dist dir be published?

The steps a careful maintainer takes by hand before an upload, on every file at once: are the
archives sound, do tag and versions agree, is the wheel set the one expected, will PyPI take
the tags, does the metadata render, will the binaries load on users' machines. Every finding
is reported (not only the first) and written to ``<dist>/.release/validate.json`` with the
sha256 of each validated file; ``publish`` uploads only what that record lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from ..abi3_check import check_abi3
from ..archives import ArchiveInfo, inspect_artifact, is_artifact, stray_files
from ..auditwheel_check import check_linux_wheels
from ..console import human_size, markdown_table
from ..context import RunContext
from ..dllscan import scan_windows_wheels
from ..errors import DistDirError, ValidationFailedError
from ..host import host_os
from ..records import (
    RECORD_DIR,
    SKIPPED,
    Artifact,
    Finding,
    StageRecord,
    read_record,
)
from ..twine_check import check_metadata
from ..versions import ArtifactVersion, check_versions
from ..wheelset import check_pypi_tags, check_wheel_set, expected_wheels

BUILD_STAGES = {"build-linux": "linux", "build-windows": "windows", "sdist": "sdist"}
_BINARY_SUFFIXES = (".so", ".pyd", ".dll")


class Findings:
    """Findings in the order found, and which checks ran on which file."""

    def __init__(self, files: Iterable[str]) -> None:
        self.items: list[Finding] = []
        self.ran: dict[str, list[str]] = {name: [] for name in files}

    def add(self, check: str, files: Iterable[str], found: Iterable[Finding]) -> None:
        for name in files:
            if check not in self.ran.setdefault(name, []):
                self.ran[name].append(check)
        self.items.extend(found)

    def add_per_file(self, check: str, per_file: Mapping[str, list[Finding]]) -> None:
        for name, found in per_file.items():
            self.add(check, [name], found)

    def for_file(self, name: str) -> list[Finding]:
        return [f for f in self.items if f.file == name]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.items if f.level == "error"]


def validate(ctx: RunContext, record: StageRecord) -> None:
    dist = ctx.dist
    if not dist.is_dir():
        raise DistDirError(
            f"the dist dir {dist} does not exist.",
            "run the build stages first, or pass --dist with the folder of artifacts.",
        )
    files = sorted(p for p in dist.iterdir() if p.is_file() and is_artifact(p))
    if not files:
        raise ValidationFailedError(
            f"{dist} holds no wheels and no sdist.",
            "run the build stages first, or pass --dist with the folder of downloaded artifacts.",
        )
    names = [f.name for f in files]
    wheels = [f for f in files if f.suffix == ".whl"]
    findings = Findings(names)
    findings.add("dist", [], stray_files(dist))

    infos = _check_archives(files, findings)
    # An archive that cannot be opened has its integrity error; the tools would only repeat it.
    readable = [info.path for info in infos if info.members]
    readable_wheels = [path for path in readable if path.suffix == ".whl"]
    artifacts = [Artifact.of(f) for f in files]
    findings.add("build-record", names, _check_against_build_records(dist, artifacts))
    findings.add(
        "version",
        names,
        check_versions(
            ctx.config,
            ctx.tag,
            [ArtifactVersion(i.path.name, i.filename_version, i.metadata_version) for i in infos],
        ),
    )

    wheel_names = [w.name for w in wheels]
    expected, source = expected_wheels(ctx.config, ctx.runner)
    record.extra["expected_wheels"] = {
        "source": source,
        "entries": None
        if expected is None
        else [{"platform": e.platform, "patterns": list(e.patterns)} for e in expected],
    }
    findings.add(
        "wheel-set",
        wheel_names,
        check_wheel_set(
            expected,
            wheel_names,
            skipped_platforms=_skipped_platforms(dist),
            strict=ctx.strict,
            source=source,
        ),
    )
    findings.add("pypi-tags", wheel_names, check_pypi_tags(wheel_names))
    findings.add_per_file("metadata", check_metadata(readable, ctx.runner))

    windows = [i.path for i in infos if i.members and _platform_of(i) == "windows"]
    scan = scan_windows_wheels(windows, ctx.runner, ctx.config.windows.allow_dlls)
    findings.add_per_file("windows-dlls", scan.findings)
    if host_os() == "linux":
        findings.add_per_file("manylinux", check_linux_wheels(readable_wheels, ctx.runner))
    elif any(_platform_of(i) == "linux" for i in infos):
        findings.add(
            "manylinux",
            [],
            [
                Finding(
                    "warning",
                    "manylinux",
                    None,
                    "auditwheel runs only on Linux; the Linux wheels' binaries were not "
                    "audited here.",
                )
            ],
        )
    findings.add_per_file("abi3", check_abi3(readable_wheels, ctx.runner))

    record.findings = findings.items
    record.artifacts = artifacts
    record.extra["checks"] = findings.ran
    record.extra["tag"] = ctx.tag
    record.extra["strict"] = ctx.strict
    record.extra["binaries"] = sum(_count_binaries(i) for i in infos)
    warnings = [f for f in findings.items if f.level == "warning"]
    if warnings:
        # The release summary shows a stage's reason: missing wheels of a skipped build
        # must not pass unnoticed in a dry run that otherwise says "ok".
        record.reason = f"{len(warnings)} warning(s): " + "; ".join(
            f"[{f.check}] {f.message}" for f in warnings
        )
    _report(ctx, record, findings)
    if findings.errors:
        raise ValidationFailedError(
            f"{len(findings.errors)} error(s) in the artifacts of {dist}; nothing may be "
            "published.",
            f"fix each error listed above (all findings: {dist / RECORD_DIR / 'validate.json'}).",
        )


def _check_archives(files: list[Path], findings: Findings) -> list[ArchiveInfo]:
    infos = []
    for path in files:
        info, found = inspect_artifact(path)
        infos.append(info)
        findings.add("integrity", [path.name], found)
    return infos


def _check_against_build_records(dist: Path, artifacts: list[Artifact]) -> list[Finding]:
    """A file whose bytes differ from what its build stage recorded was changed afterwards."""
    built: dict[str, str] = {}
    for stage in BUILD_STAGES:
        previous = read_record(dist, stage)
        if previous is not None:
            built.update({a.name: a.sha256 for a in previous.artifacts})
    found = []
    for artifact in artifacts:
        expected = built.get(artifact.name)
        if expected is not None and artifact.sha256 != expected:
            found.append(
                Finding(
                    "error",
                    "build-record",
                    artifact.name,
                    "its sha256 differs from "
                    "the one its build stage recorded: the file changed after it "
                    "was built. Rebuild it.",
                )
            )
    return found


def _skipped_platforms(dist: Path) -> dict[str, str]:
    skipped = {}
    for stage, platform in BUILD_STAGES.items():
        previous = read_record(dist, stage)
        if previous is not None and previous.status == SKIPPED:
            skipped[platform] = previous.reason or "no reason recorded"
    return skipped


def _platform_of(info: ArchiveInfo) -> str | None:
    platforms = {tag.platform for tag in info.tags}
    if any(p.startswith("win") for p in platforms):
        return "windows"
    if any(p.startswith(("manylinux", "musllinux", "linux")) for p in platforms):
        return "linux"
    return None


def _count_binaries(info: ArchiveInfo) -> int:
    return sum(1 for m in info.members if m.lower().endswith(_BINARY_SUFFIXES) or ".so." in m)


def _report(ctx: RunContext, record: StageRecord, findings: Findings) -> None:
    console = ctx.console
    rows = []
    for artifact in record.artifacts:
        ran = findings.ran.get(artifact.name, [])
        mine = findings.for_file(artifact.name)
        failed = {f.check for f in mine if f.level == "error"}
        passed = [c for c in ran if c not in failed]
        problems = [f for f in mine if f.level in ("error", "warning")]
        rows.append(
            [
                artifact.name,
                human_size(artifact.size),
                f"{len(passed)}/{len(ran)}",
                ", ".join(f"{f.level}: {f.check}" for f in problems) or "-",
            ]
        )
    headers = ["file", "size", "checks passed", "findings"]
    console.table(headers, rows)
    for finding in findings.items:
        where = f"{finding.file}: " if finding.file else ""
        text = f"[{finding.check}] {where}{finding.message}"
        if finding.level == "error":
            # No file= property: annotations point into the repository, and a wheel is
            # not a file of it; the message names it.
            console.error(text)
        elif finding.level == "warning":
            console.warning(text)
        else:
            console.line(f"note: {text}")
    errors, warnings = len(findings.errors), sum(f.level == "warning" for f in findings.items)
    console.line(f"{len(record.artifacts)} file(s), {errors} error(s), {warnings} warning(s)")
    summary = [
        f"### validate: {errors} error(s), {warnings} warning(s)",
        "",
        markdown_table(headers, rows),
    ]
    summary += [f"- **{f.level}** `{f.check}` {f.file or ''}: {f.message}" for f in findings.items]
    console.step_summary("\n".join(summary))
