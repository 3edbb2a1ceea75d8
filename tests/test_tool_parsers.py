"""The checks that read other tools' output, fed real recorded output (tests/tool_output/).

Each recorded case pins one judgement: if a parser stops seeing it (a file twine never
judged counted as a pass, a baseline or ISA problem overlooked, a changed file not noticed),
a test here fails. They run without the tools, so they run in the Python 3.9 session too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from conftest import check_context, tiny_project
from fake_processes import FakeProcesses, fake_runner
from packaging.utils import parse_wheel_filename

from release.checks.abi3 import Abi3Check
from release.checks.base import NotRun
from release.checks.build_record import BuildRecordCheck
from release.checks.manylinux import ManylinuxCheck
from release.checks.metadata import MetadataCheck, parse_twine_check
from release.config import load_config
from release.dists import WHEEL, Distribution
from release.errors import DamagedRecordError
from release.records import FAILED, Artifact, Finding, StageRecord
from release.runner import Runner

RECORDED = Path(__file__).parent / "tool_output"


def recorded(name: str) -> str:
    return (RECORDED / name).read_text(encoding="utf-8")


def wheel(name: str, sha256: str = "") -> Distribution:
    """A distribution known by its file name only, as the parsers see it."""
    _name, version, _build, tags = parse_wheel_filename(name)
    return Distribution(path=Path(name), kind=WHEEL, sha256=sha256, version=version, tags=tags)


def replay_runner(
    answer: Callable[[Sequence[str]], tuple[str, int]],
) -> tuple[Runner, FakeProcesses]:
    """A runner whose every command is answered with recorded output."""
    processes = FakeProcesses(respond=lambda call: answer(call.argv), all_found=True)
    return fake_runner(processes), processes


def by_file(findings: list[Finding]) -> dict[str | None, list[Finding]]:
    grouped: dict[str | None, list[Finding]] = {}
    for finding in findings:
        grouped.setdefault(finding.file, []).append(finding)
    return grouped


# --- twine check ------------------------------------------------------------------------------

NO_README = "tiny-1.0-py2-none-any.whl"
BAD_MARKUP = "tiny-1.0-cp311-none-any.whl"
MARKDOWN = "tiny-1.0-cp313-none-any.whl"
BAD_FIELD = "tiny-1.0-cp312-none-any.whl"
NOT_REACHED = "tiny-1.0-cp38-none-any.whl"
TWINE_ORDER = [NO_README, BAD_MARKUP, MARKDOWN, BAD_FIELD, NOT_REACHED]


def test_twine_verdicts_from_recorded_output() -> None:
    verdicts = parse_twine_check(recorded("twine-check-stops-at-invalid.txt"))
    assert set(verdicts) == {NO_README, BAD_MARKUP, MARKDOWN, BAD_FIELD}
    assert verdicts[NO_README].outcome == "PASSED with warnings"
    assert "`long_description` missing." in verdicts[NO_README].messages
    assert verdicts[BAD_MARKUP].outcome == "FAILED"
    assert "Missing matching underline" in verdicts[BAD_MARKUP].messages[0]
    assert verdicts[MARKDOWN].outcome == "PASSED"
    assert verdicts[BAD_FIELD].outcome == "invalid"
    assert "'foo >>> 3' is invalid for 'requires-dist'" in verdicts[BAD_FIELD].messages[0]


def twine_answers(argv: Sequence[str]) -> tuple[str, int]:
    files = [a for a in argv if a.endswith(".whl")]
    if files == TWINE_ORDER:
        return recorded("twine-check-stops-at-invalid.txt"), 1
    if files == [NOT_REACHED]:
        return recorded("twine-check-rerun.txt"), 1
    raise AssertionError(f"unexpected twine call: {argv}")


def test_metadata_check_judges_every_file_on_its_own(tmp_path: Path) -> None:
    runner, processes = replay_runner(twine_answers)
    ctx = check_context(load_config(tiny_project(tmp_path)), runner=runner)
    findings = by_file(MetadataCheck().run([wheel(n) for n in TWINE_ORDER], ctx))

    # twine stopped at BAD_FIELD; the file it never reached was checked by a second run.
    assert [call.argv[-1] for call in processes.calls] == [NOT_REACHED, NOT_REACHED]
    assert len(processes.calls[1].argv) == 4  # twine --no-color check <one file>
    (missing,) = findings[NO_README]
    assert missing.level == "warning" and "no long description" in missing.message
    assert missing.remedy is not None and 'readme = "README.md"' in missing.remedy
    (markup,) = findings[BAD_MARKUP]
    assert markup.level == "error" and "would not render on PyPI" in markup.message
    assert MARKDOWN not in findings
    (field,) = findings[BAD_FIELD]
    assert field.level == "error" and "'foo >>> 3' is invalid" in field.message
    (late,) = findings[NOT_REACHED]
    assert late.level == "error" and "not 'text/html'" in late.message


def test_a_file_twine_gave_no_verdict_for_is_an_error(tmp_path: Path) -> None:
    crash = "Traceback (most recent call last):\n  ...\nRuntimeError: twine broke\n", 1
    runner, _ = replay_runner(lambda argv: crash)
    ctx = check_context(load_config(tiny_project(tmp_path)), runner=runner)
    findings = MetadataCheck().run([wheel(MARKDOWN), wheel(NO_README)], ctx)
    assert [(f.file, f.level) for f in findings] == [(MARKDOWN, "error"), (NO_README, "error")]
    assert all("no verdict" in f.message for f in findings)


# --- auditwheel show --json ------------------------------------------------------------------


def audit(output_file: str, name: str, returncode: int = 0) -> list[Finding]:
    return ManylinuxCheck().judge(wheel(name), returncode, recorded(output_file))


def test_auditwheel_passes_the_real_maturin_wheel() -> None:
    name = "tally-0.3.1-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    assert audit("auditwheel-tally-manylinux2014.txt", name) == []


def test_auditwheel_unsupported_isa_is_one_error() -> None:
    findings = audit(
        "auditwheel-unsupported-isa.txt", "demo-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"
    )
    (error,) = findings
    assert error.level == "error" and "unsupported ISA extension" in error.message
    assert error.remedy is not None and "baseline" in error.remedy


def test_auditwheel_reason_for_a_wheel_without_native_code() -> None:
    findings = audit(
        "auditwheel-no-native-code.txt", "pure-1.0-cp39-abi3-manylinux_2_17_x86_64.whl", 1
    )
    (error,) = findings
    assert "holds no native code" in error.message
    assert "does not look like a platform wheel" in error.message
    assert error.remedy is not None and "py3-none-any" in error.remedy


def test_auditwheel_glibc_newer_than_claimed() -> None:
    findings = audit(
        "auditwheel-needs-newer-glibc.txt", "newer-1.0-cp39-abi3-manylinux2010_x86_64.whl"
    )
    (error,) = findings
    assert error.message == (
        "claims manylinux2010_x86_64, but its binaries need at least manylinux_2_26_x86_64 "
        "(libc.so.6 GLIBC_2.25)"
    )


def test_auditwheel_outside_library_is_one_error() -> None:
    findings = audit(
        "auditwheel-external-library.txt", "outer-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"
    )
    (error,) = findings
    assert "needs libouter.so" in error.message
    assert error.remedy == "repair the wheel with auditwheel repair so they are bundled."


# --- abi3audit --report ------------------------------------------------------------------------


def test_a_musl_build_tagged_manylinux_too_is_an_error_for_the_manylinux_tag() -> None:
    """auditwheel rates the musl-linked binary musllinux_1_2: that meets the musllinux tag
    and not the manylinux one, though 1.2 is no newer than 2.17 (musl-gcc, 2026-12-05)."""
    name = "demo_pkg-1.0-cp39-abi3-manylinux_2_17_x86_64.musllinux_1_2_x86_64.whl"
    (error,) = audit("auditwheel-musl-tagged-manylinux-and-musllinux.txt", name)
    assert error.level == "error" and error.file == name
    assert error.message == (
        "claims manylinux_2_17_x86_64, but its binaries link musl libc "
        "(auditwheel: musllinux_1_2_x86_64)"
    )
    assert "tag it musllinux only" in (error.remedy or "")


def test_a_musl_build_tagged_manylinux_is_said_to_be_built_for_musl() -> None:
    """auditwheel leaves the musl binary out and then says the wheel holds none; the cause
    is the libc, not a build that forgot its extension."""
    name = "demo_pkg-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"
    (error,) = audit("auditwheel-musl-tagged-manylinux.txt", name, 1)
    assert error.message == (
        "it is tagged manylinux_2_17_x86_64, but its binaries are built for another "
        "platform: _m.abi3.so for musl libc"
    )
    assert "no native code" not in error.message


BASELINE = "base-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"
CLEAN = "tally-0.3.1-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
VIOLATION = "viol-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"


def test_abi3audit_findings_from_recorded_output() -> None:
    output = recorded("abi3audit-baseline-clean-violation.txt")
    findings = by_file(Abi3Check().judge([wheel(BASELINE), wheel(CLEAN), wheel(VIOLATION)], output))
    (baseline,) = findings[BASELINE]
    assert "tagged for abi3 from Python 3.9" in baseline.message
    assert "added in 3.10: Py_NewRef (3.10)" in baseline.message
    assert baseline.remedy is not None and "abi3-py310" in baseline.remedy
    assert CLEAN not in findings
    (violation,) = findings[VIOLATION]
    assert "outside the stable ABI: _PyObject_Dump" in violation.message


def test_abi3audit_silence_about_a_wheel_is_an_error() -> None:
    output = recorded("abi3audit-baseline-clean-violation.txt")
    (error,) = Abi3Check().judge([wheel("other-1.0-cp39-abi3-win_amd64.whl")], output)
    assert error.level == "error" and "no report" in error.message


# --- build-record ------------------------------------------------------------------------------


def build_record_findings(tmp_path: Path, **context: object) -> list[Finding]:
    ctx = check_context(load_config(tiny_project(tmp_path)), **context)
    return BuildRecordCheck().run([wheel("tiny-1.0-py3-none-any.whl", sha256="aa" * 32)], ctx)


def built(sha256: str, status: str = "ok") -> dict[str, StageRecord]:
    artifact = Artifact("tiny-1.0-py3-none-any.whl", 10, sha256)
    return {"build-linux": StageRecord("build-linux", status=status, artifacts=[artifact])}


def test_a_file_changed_since_its_build_is_an_error(tmp_path: Path) -> None:
    (error,) = build_record_findings(tmp_path, build_records=built("bb" * 32))
    assert error.file == "tiny-1.0-py3-none-any.whl"
    assert "differs from the one build-linux recorded" in error.message
    # The one stage that made the file; how it changed is integrity's to say, with its advice.
    assert error.remedy == "run build-linux again (nox -s build-linux), then validate."


def test_an_unchanged_file_passes(tmp_path: Path) -> None:
    assert build_record_findings(tmp_path, build_records=built("aa" * 32)) == []


def test_a_failed_build_stage_is_named(tmp_path: Path) -> None:
    records = built("aa" * 32, status=FAILED)
    records["build-linux"].error = {"cause": "maturin exited with status 1."}
    (error,) = build_record_findings(tmp_path, build_records=records)
    assert "build-linux failed (maturin exited with status 1)" in error.message
    assert error.remedy is not None and "nox -s build-linux" in error.remedy


def test_without_any_build_record_the_check_does_not_run(tmp_path: Path) -> None:
    with pytest.raises(NotRun, match=r"^no build records in .*\.release, so the files were"):
        build_record_findings(tmp_path, build_records={})


def test_a_damaged_build_record_is_said(tmp_path: Path) -> None:
    damaged = DamagedRecordError("the sdist record x is damaged: not valid JSON.", "rerun it.")
    (error,) = build_record_findings(tmp_path, damaged_records={"sdist": damaged})
    assert error.message == damaged.cause.rstrip(".") and error.remedy == "rerun it."


@pytest.mark.parametrize("tool", ["twine", "auditwheel", "abi3audit"])
def test_recorded_output_exists_for_each_tool(tool: str) -> None:
    assert list(RECORDED.glob(f"{tool}*.txt"))
