"""The console: workflow-command escaping, step summary, colour rules, tables."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from release.console import (
    Console,
    format_table,
    human_size,
    in_github_actions,
    markdown_table,
)


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_error_annotation_escapes_data_and_properties() -> None:
    stream = io.StringIO()
    console = Console(github=True, stream=stream, environ={})
    console.error("100% broken\r\nsecond line", file="dist/a,b:c.whl", title="nox-release x")
    assert stream.getvalue() == (
        "::error file=dist/a%2Cb%3Ac.whl,title=nox-release x::100%25 broken%0D%0Asecond line\n"
    )


def test_warning_annotation() -> None:
    stream = io.StringIO()
    console = Console(github=True, stream=stream, environ={})
    console.warning("50%\nskipped")
    console.warning("plain", file="x.whl")
    assert stream.getvalue().splitlines() == [
        "::warning::50%25%0Askipped",
        "::warning file=x.whl::plain",
    ]


def test_local_error_and_warning_are_plain_text() -> None:
    stream = io.StringIO()
    console = Console(github=False, stream=stream, environ={})
    console.error("it broke\nbadly", title="ignored locally")
    console.warning("careful")
    assert stream.getvalue() == "error: it broke\nbadly\nwarning: careful\n"


def test_step_summary_is_appended(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    console = Console(
        github=True, stream=io.StringIO(), environ={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    console.register_secret("hunter2")
    console.step_summary("## first\n\n| a |\n")
    console.step_summary("## second with hunter2")
    assert summary.read_text(encoding="utf-8") == (
        "# earlier step\n## first\n\n| a |\n\n## second with ***\n\n"
    )


def test_step_summary_without_the_variable_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    console = Console(github=True, stream=io.StringIO(), environ={})
    console.step_summary("## nothing")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["missing-dir/summary.md", "a-directory"])
def test_a_summary_file_that_cannot_be_written_is_one_warning(tmp_path: Path, where: str) -> None:
    (tmp_path / "a-directory").mkdir()
    stream = io.StringIO()
    console = Console(
        github=True, stream=stream, environ={"GITHUB_STEP_SUMMARY": str(tmp_path / where)}
    )
    console.step_summary("## first")
    console.step_summary("## second")
    warnings = [line for line in stream.getvalue().splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1
    assert "GITHUB_STEP_SUMMARY" in warnings[0] and "cannot be written" in warnings[0]
    assert "What to do:" in warnings[0]
    assert not (tmp_path / "missing-dir").exists()


def test_a_closed_stdout_does_not_stop_the_work() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = os.fdopen(write_end, "w")
    console = Console(github=False, stream=stream, environ={})
    console.line("the reader went away")  # EPIPE: BrokenPipeError
    console.line("and again")
    assert console.closed is True
    stream.close()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_stdout_does_not_stop_the_work() -> None:
    with Path("/dev/full").open("w") as stream:
        console = Console(github=False, stream=stream, environ={})
        console.line("no space left")  # ENOSPC: an OSError, not a BrokenPipeError
        console.error("and an error", remedy="said to nobody")
        assert console.closed is True


def test_no_stdout_at_all_is_a_closed_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Started with ``>&-``, Python has no sys.stdout."""
    monkeypatch.setattr(sys, "stdout", None)
    console = Console(github=False, environ={})
    console.line("to nobody")
    assert console.closed is True


def test_no_colour_when_not_a_tty() -> None:
    stream = io.StringIO()
    console = Console(github=False, stream=stream, environ={})
    assert console.colour is False
    console.heading("title")
    console.error("bad")
    assert "\033[" not in stream.getvalue()


def test_colour_on_a_tty() -> None:
    stream = TtyStream()
    console = Console(github=False, stream=stream, environ={})
    assert console.colour is True
    console.heading("title")
    assert stream.getvalue() == "\033[1mtitle\033[0m\n"


@pytest.mark.parametrize("value", ["1", "true", "0"])
def test_no_color_is_respected(value: str) -> None:
    stream = TtyStream()
    console = Console(github=False, stream=stream, environ={"NO_COLOR": value})
    assert console.colour is False
    console.error("bad")
    assert stream.getvalue() == "error: bad\n"


def test_empty_no_color_does_not_disable_colour() -> None:
    # no-color.org: "when present and not an empty string"
    assert Console(github=False, stream=TtyStream(), environ={"NO_COLOR": ""}).colour is True


def test_no_colour_in_github_actions() -> None:
    assert Console(github=True, stream=TtyStream(), environ={}).colour is False


def test_github_detection() -> None:
    assert in_github_actions({"GITHUB_ACTIONS": "true"}) is True
    assert in_github_actions({"GITHUB_ACTIONS": "false"}) is False
    assert in_github_actions({}) is False
    assert Console(stream=io.StringIO(), environ={"GITHUB_ACTIONS": "true"}).github is True
    assert Console(stream=io.StringIO(), environ={}).github is False


def test_group_locally_is_a_heading() -> None:
    stream = io.StringIO()
    console = Console(github=False, stream=stream, environ={})
    with console.group("output of maturin"):
        console.line("inside")
    assert stream.getvalue() == "output of maturin\ninside\n"


def test_detail_only_when_verbose() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    Console(stream=quiet, environ={}).detail("$ maturin --version")
    Console(stream=loud, environ={}, verbose=True).detail("$ maturin --version")
    assert quiet.getvalue() == ""
    assert loud.getvalue() == "$ maturin --version\n"


def test_tables() -> None:
    assert format_table(["stage", "status"], [["sdist", "ok"], ["build-windows", "skipped"]]) == [
        "stage          status",
        "-------------  -------",
        "sdist          ok",
        "build-windows  skipped",
    ]
    assert (
        markdown_table(["a", "b"], [["x|y", "1\n2"]]) == "| a | b |\n|---|---|\n| x\\|y | 1<br>2 |"
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (5 << 20, "5.0 MiB"),
        (3 << 30, "3072.0 MiB"),
    ],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_stdout_in_a_legacy_code_page_survives_emoji(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows runners give Python a cp1252 pipe; maturin prints emoji into it."""
    raw = io.BytesIO()
    cp1252 = io.TextIOWrapper(raw, encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", cp1252)
    Console(github=True).line("🍹 Building a mixed python/rust project")
    assert raw.getvalue().decode("utf-8") == "🍹 Building a mixed python/rust project\n"
    local_raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(local_raw, encoding="cp1252"))
    Console(github=False).line("📦 Built")
    assert local_raw.getvalue() == b"? Built\n"
