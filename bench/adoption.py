"""Adopting nox-release in the fixture repositories of tests/repos.py, as a new user would.

For each fixture, in a fresh temporary copy (a git repository with its branch, tags and
remote), with this checkout's venv:

1. ``python -m release init --from <this checkout>``, then the same with ``--force``;
2. the written ``[tool.release]`` against the fixture's expected answer, field by field
   (a key init did not write counts with its default; the version is what init reports);
   and facts of the workflows it wrote (workflow_facts: the tag fires, the default branch,
   submodules, no file name beside one differing only in case);
3. the sha256 of every workflow before and after: a change to one of the project's own
   workflows is something lost; the old publisher is the one init may take over;
4. ``python -m release check``: its errors on files nox-release did not write (the goal is
   0), those on the old publisher apart (the goal there: the one error that names it as a
   second publisher, item 5, or none when init took it over);
5. with ``--dry-run``, ``python -m release release``: its exit code and time.

Prints a table, what each wrong field was, and the totals; ``--json FILE`` keeps the numbers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import repos  # noqa: E402  (tests/repos.py: the fixtures and their answers)

from release.config import ReleaseTable, manylinux_glibc  # noqa: E402
from release.errors import ConfigError  # noqa: E402
from release.project.toml import read_toml  # noqa: E402

_VERSION_LINE = re.compile(r"^\s+version (?P<version>.+?): ", re.MULTILINE)


@dataclass
class Result:
    fixture: str
    init_exit: int | None = None
    force_exit: int | None = None
    init_cause: str = ""  # the error of init --force, when it failed
    wrote_table: bool = False
    fields_right: int = 0
    fields_total: int = 0
    wrong: dict[str, tuple[str, str]] = field(default_factory=dict)  # field: (expected, got)
    facts: dict[str, bool] = field(default_factory=dict)  # workflow_facts()
    foreign_changed: list[str] = field(default_factory=list)
    publisher_changed: bool | None = None  # None: no old publisher
    check_exit: int | None = None
    check_errors: int | None = None  # every error of check
    foreign_errors: int | None = None  # on files nox-release did not write, but the publisher
    publisher_errors: int | None = None  # on the old publisher (item 5 names it: expected)
    foreign_error_files: dict[str, int] = field(default_factory=dict)
    dry_run_exit: int | None = None
    dry_run_seconds: float | None = None
    dry_run_cause: str = ""
    # Each stage of the dry run: (status, the cause of its error when it failed).
    dry_run_stages: dict[str, tuple[str, str]] = field(default_factory=dict)


def _environment(cache: Path) -> dict[str, str]:
    """This shell's environment without what would make a stage think it runs in CI or in
    another project."""
    outside = ("GITHUB_", "RUNNER_", "RELEASE_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(outside) and k != "CI"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NOX_RELEASE_CACHE"] = str(cache)
    return env


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int, str, float]:
    start = time.monotonic()
    try:
        done = subprocess.run(
            argv, check=False, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, timeout=timeout,
        )  # fmt: skip
        return done.returncode, done.stdout, time.monotonic() - start
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode()
        return -1, output + f"\n(timed out after {timeout:.0f} s)", time.monotonic() - start


def _hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under .github/workflows, by path relative to the root."""
    directory = root / ".github" / "workflows"
    if not directory.is_dir():
        return {}
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(directory.rglob("*")) if path.is_file()}  # fmt: skip


def _changed_files(root: Path) -> set[str]:
    """Files init created or changed: what git sees differ from the fixture's commit."""
    out = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "-uall"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {line[3:].strip().strip('"') for line in out.splitlines() if line.strip()}


def _default(key: str) -> Any:
    value: Any = ReleaseTable()
    for part in key.split("."):
        value = getattr(value, part.replace("-", "_"))
    return repos.ABSENT if value is None else value


def _normal(key: str, value: Any) -> Any:
    if value is repos.ABSENT:
        return value
    if key == "linux.manylinux":
        try:
            return manylinux_glibc(str(value))
        except ConfigError:  # a floor that does not parse is simply wrong
            return ("unreadable", str(value))
    if key == "wheels":
        return tuple(tuple(sorted(part)) for part in value)
    if isinstance(value, (list, tuple)):
        return tuple(sorted(value))
    return value


def _shown(value: Any) -> str:
    if value is repos.ABSENT:
        return "(not written)"
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, tuple) for v in value):
        return f"linux={list(value[0])} windows={list(value[1])}"
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    return json.dumps(value)


def score(expected: repos.Expected, table: dict[str, Any] | None, version: str | None,
          result: Result) -> None:  # fmt: skip
    """Each field of the answer against what init wrote (its default when not written)."""
    for key, wanted in expected.fields().items():
        if key == "version":
            got: Any = version if version is not None else repos.ABSENT
            right = got == wanted
        else:
            written = repos.written(table, key)
            if table is None:
                right, got = False, written
            elif wanted is repos.ABSENT:
                right, got = written is repos.ABSENT, written
            else:
                got = _default(key) if written is repos.ABSENT else written
                right = _normal(key, got) == _normal(key, wanted)
        result.fields_total += 1
        if right:
            result.fields_right += 1
        else:
            result.wrong[key] = (_shown(wanted), _shown(got))


def _release_table(root: Path) -> dict[str, Any] | None:
    if not (root / "pyproject.toml").is_file():
        return None
    try:
        data = read_toml(root / "pyproject.toml")
    except ConfigError:
        return None
    release = data.get("tool", {}).get("release")
    return release if isinstance(release, dict) else None


def github_filter(pattern: str) -> re.Pattern[str]:
    """A GitHub Actions branch or tag filter as a regex (``*``, ``**``, ``?``, ``+``, ``[]``)."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
            continue
        if char == "*":
            out += "[^/]*"
        elif char in "?+":
            out += char  # of the character before it, as in a regex
        elif char == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
            continue
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out)


def _triggers(workflow: Any) -> dict[str, Any]:
    if not isinstance(workflow, dict):
        return {}
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 readers make `on` True
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {name: {} for name in on}
    return on if isinstance(on, dict) else {}


def workflow_facts(fixture: repos.Fixture, root: Path, written: set[str]) -> dict[str, bool]:
    """What the workflows nox-release wrote must get right beyond the table (items 3, 15,
    18, 19): its release workflow fires on the project's tags, its branch filters name the
    default branch, its checkouts fetch the submodules, no file name differs only in case."""
    from ruamel.yaml import YAML  # comes with check-jsonschema, as in release/workflows

    yaml = YAML(typ="safe")
    mine = {}
    for path in sorted(written):
        if path.startswith(".github/workflows/") and (root / path).is_file():
            mine[path] = yaml.load((root / path).read_text(encoding="utf-8"))
    facts: dict[str, bool] = {}
    table = _release_table(root) or {}
    release = f".github/workflows/{table.get('publish', {}).get('workflow', 'release.yml')}"
    tags = (_triggers(mine.get(release)).get("push") or {}).get("tags", [])
    facts["release fires on the tag"] = any(
        github_filter(str(t)).fullmatch(fixture.tags[-1]) for t in tags
    )
    branches = [
        str(b) for workflow in mine.values() for event in ("push", "pull_request")
        for b in ((_triggers(workflow).get(event) or {}).get("branches") or [])
    ]  # fmt: skip
    facts["default branch"] = bool(mine) and all(
        github_filter(b).fullmatch(fixture.branch) for b in branches
    )
    if fixture.submodules:
        checkouts = [
            step for workflow in mine.values() if isinstance(workflow, dict)
            for job in (workflow.get("jobs") or {}).values()
            for step in (job.get("steps") or [])
            if str(step.get("uses", "")).startswith("actions/checkout@")
        ]  # fmt: skip
        facts["submodules checked out"] = bool(checkouts) and all(
            (step.get("with") or {}).get("submodules") not in (None, False, "false")
            for step in checkouts
        )
    names = [p.name.lower() for p in (root / ".github" / "workflows").iterdir()]
    facts["no names differing in case"] = len(names) == len(set(names))
    return facts


STAGES = ("check", "build-linux", "build-windows", "sdist", "validate", "publish",
          "github-release")  # fmt: skip


def _stage_statuses(root: Path) -> dict[str, tuple[str, str]]:
    """The dry run's stage records: each stage's status and, when it failed, its cause."""
    dist = (_release_table(root) or {}).get("dist-dir", "dist")
    found = {}
    for stage in STAGES:
        record = root / str(dist) / ".release" / f"{stage}.json"
        if record.is_file():
            data = json.loads(record.read_text(encoding="utf-8"))
            cause = str((data.get("error") or {}).get("cause", ""))
            if stage == "validate":  # its cause counts errors; the findings name them
                errors = [f for f in data.get("findings", []) if f.get("level") == "error"]
                cause = "; ".join(f"[{f['check']}] {f['message'][:120]}" for f in errors[:3])
            found[stage] = (str(data.get("status")), cause[:400])
    return found


def _cause(output: str) -> str:
    """The first line of a stage's error, shortened, for the table's notes."""
    for line in output.splitlines():
        text = line.strip()
        if text.lower().startswith(("error", "nox-release:", "✗")) or " error:" in text:
            return text[:160]
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:160] if lines else ""


def adopt(fixture: repos.Fixture, workdir: Path, *, dry_run: bool, timeout: float) -> Result:
    result = Result(fixture.name)
    root = repos.make(fixture, workdir / fixture.name)
    env = _environment(workdir / "cache")
    python = [sys.executable, "-m", "release"]
    before = _hashes(root)
    result.init_exit, first, _ = _run(
        [*python, "init", "--from", str(REPO), "--project", str(root)], root, env, timeout
    )
    result.force_exit, forced, _ = _run(
        [*python, "init", "--force", "--from", str(REPO), "--project", str(root)],
        root, env, timeout,
    )  # fmt: skip
    if result.force_exit != 0:
        result.init_cause = _cause(forced)
    after = _hashes(root)
    expected = fixture.expected
    result.foreign_changed = [
        p for p in expected.foreign_workflows if before.get(p) != after.get(p)
    ]
    if expected.old_publisher is not None:
        result.publisher_changed = before.get(expected.old_publisher) != after.get(
            expected.old_publisher
        )
    found = _VERSION_LINE.search(first)
    version = found["version"] if found and not found["version"].startswith("(") else None
    written_table = _release_table(root)
    result.wrote_table = written_table is not None
    score(expected, written_table, version, result)

    written = _changed_files(root)
    if result.wrote_table:
        result.facts = workflow_facts(fixture, root, written)
    records = workdir / "records" / fixture.name
    result.check_exit, _, _ = _run(
        [*python, "check", "--project", str(root), "--record-dir", str(records)],
        root, env, timeout,
    )  # fmt: skip
    record = records / "check.json"
    if record.is_file():
        findings = json.loads(record.read_text(encoding="utf-8")).get("findings", [])
        errors = [f for f in findings if f.get("level") == "error"]
        result.check_errors = len(errors)
        others = [f for f in errors if f.get("file") and f["file"] not in written]
        publisher = expected.old_publisher
        foreign = [f for f in others if f["file"] != publisher]
        result.foreign_errors = len(foreign)
        result.publisher_errors = len(others) - len(foreign) if publisher else None
        for finding in others:
            result.foreign_error_files[finding["file"]] = (
                result.foreign_error_files.get(finding["file"], 0) + 1
            )
    if dry_run:
        result.dry_run_exit, output, result.dry_run_seconds = _run(
            [*python, "release", "--project", str(root)], root, env, timeout
        )
        result.dry_run_stages = _stage_statuses(root)
        if result.dry_run_exit != 0:
            result.dry_run_cause = _cause(output)
    return result


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def table(results: list[Result], dry_run: bool) -> str:
    header = ["fixture", "init", "--force", "fields", "wf facts", "own wf changed",
              "publisher changed", "check", "errors", "on others' files",
              "on old publisher"]  # fmt: skip
    if dry_run:
        header += ["dry run", "time"]
    rows = [header]
    for r in results:
        row = [
            r.fixture, _cell(r.init_exit), _cell(r.force_exit),
            f"{r.fields_right}/{r.fields_total}",
            f"{sum(r.facts.values())}/{len(r.facts)}" if r.facts else "-",
            ", ".join(p.rsplit("/", 1)[-1] for p in r.foreign_changed) or "none",
            "-" if r.publisher_changed is None else ("yes" if r.publisher_changed else "no"),
            _cell(r.check_exit), _cell(r.check_errors), _cell(r.foreign_errors),
            _cell(r.publisher_errors),
        ]  # fmt: skip
        if dry_run:
            failed = [stage for stage, (status, _) in r.dry_run_stages.items()
                      if status == "failed"]  # fmt: skip
            stages = " ".join(failed) or "before any stage"
            passed = "pass" if r.dry_run_exit == 0 else f"fail ({r.dry_run_exit}): {stages}"
            seconds = r.dry_run_seconds
            row += [passed, "-" if seconds is None else f"{seconds:.0f}s"]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(results: list[Result], dry_run: bool) -> str:
    out = [table(results, dry_run), ""]
    for r in results:
        if r.wrote_table:
            notes = [f"  {key}: expected {want}, got {got}" for key, (want, got) in r.wrong.items()]
        else:
            notes = [f"  init wrote no [tool.release]: 0 of {r.fields_total} fields"]
        if r.init_cause:
            notes.append(f"  init --force: {r.init_cause}")
        notes += [f"  workflows: not right: {fact}" for fact, ok in r.facts.items() if not ok]
        if r.foreign_error_files:
            shown = ", ".join(f"{path} {n}" for path, n in sorted(r.foreign_error_files.items()))
            notes.append(f"  check errors on files nox-release did not write: {shown}")
        # check's errors are counted above; publish and github-release refuse after validate.
        said_elsewhere = ("check", "publish", "github-release")
        failed = {stage: cause for stage, (status, cause) in r.dry_run_stages.items()
                  if status == "failed" and stage not in said_elsewhere}  # fmt: skip
        for stage, cause in failed.items():
            notes.append(f"  dry run, {stage}: {cause}")
        if r.dry_run_exit not in (0, None) and not r.dry_run_stages:
            notes.append(f"  dry run: {r.dry_run_cause}")
        if notes:
            out += [f"{r.fixture}:", *notes]
    right = sum(r.fields_right for r in results)
    total = sum(r.fields_total for r in results)
    out += [
        "",
        f"init succeeded (exit 0 with --force): {sum(r.force_exit == 0 for r in results)} "
        f"of {len(results)}",
        f"config fields right: {right} of {total}; every field right on "
        f"{sum(r.fields_right == r.fields_total for r in results)} of {len(results)}",
        f"workflow facts right: {sum(sum(r.facts.values()) for r in results)} of "
        f"{sum(len(r.facts) for r in results)}",
        f"fixtures where init changed a workflow of the project's own: "
        f"{sum(bool(r.foreign_changed) for r in results)} "
        f"({sum(len(r.foreign_changed) for r in results)} workflows)",
        f"check passed: {sum(r.check_exit == 0 for r in results)} of {len(results)}; "
        f"its errors on files nox-release did not write: "
        f"{sum(r.foreign_errors or 0 for r in results)}, on the old publishers "
        f"{sum(r.publisher_errors or 0 for r in results)} "
        f"(of {sum(r.check_errors or 0 for r in results)} errors)",
    ]
    if dry_run:
        seconds = sum(r.dry_run_seconds or 0 for r in results)
        out.append(f"dry runs passed: {sum(r.dry_run_exit == 0 for r in results)} of "
                   f"{len(results)} ({seconds:.0f} s in all)")  # fmt: skip
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="also run the whole dry run")
    parser.add_argument("--only", action="append", metavar="FIXTURE",
                        help="run only this fixture (repeatable)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per command")
    parser.add_argument("--json", type=Path, help="write the results there too")
    parser.add_argument("--keep", type=Path, help="make the fixtures there and keep them")
    args = parser.parse_args()
    chosen = [repos.by_name(name) for name in args.only] if args.only else list(repos.FIXTURES)
    results = []
    with tempfile.TemporaryDirectory(prefix="adoption-") as scratch:
        workdir = args.keep.resolve() if args.keep else Path(scratch)
        for fixture in chosen:
            print(f"adopting {fixture.name}...", file=sys.stderr, flush=True)
            results.append(adopt(fixture, workdir, dry_run=args.dry_run, timeout=args.timeout))
    print(report(results, args.dry_run))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
