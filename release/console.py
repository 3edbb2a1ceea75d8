"""What a stage prints: plain text locally, workflow commands inside GitHub Actions.

Locally the output is for a person (colour only on a terminal, and never with ``NO_COLOR``).
In GitHub Actions, tool output is folded into ``::group::`` blocks, errors and warnings become
``::error::``/``::warning::`` annotations, and summaries are appended to
``$GITHUB_STEP_SUMMARY`` as Markdown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from .errors import StepSummaryError

_COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}


def in_github_actions(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("GITHUB_ACTIONS") == "true"


def _escape_data(text: str) -> str:
    # Workflow commands end at a newline; GitHub documents this escaping for their data.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


class Console:
    def __init__(
        self,
        *,
        github: bool | None = None,
        verbose: bool = False,
        stream: TextIO | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._env = os.environ if environ is None else environ
        self.github = in_github_actions(self._env) if github is None else github
        self.verbose = verbose
        # The reader went away (``| head``), never was (``>&-``) or cannot take more
        # (``> /dev/full``): the stage goes on, silently.
        self.closed = False
        if stream is None:
            stream = _safe_stdout(self.github)
            if stream is None:
                self.closed = True
                stream = _null_stream()
        self.stream = stream
        isatty = getattr(self.stream, "isatty", lambda: False)()
        # no-color.org: only a non-empty NO_COLOR turns colour off.
        self.colour = bool(isatty) and not self._env.get("NO_COLOR") and not self.github
        self._secrets: list[str] = []
        self._summary_broken = False

    # --- secrets -------------------------------------------------------------------------

    def register_secret(self, value: str) -> None:
        """Never print ``value``; in Actions, ask the runner to mask it in its own log too."""
        if not value or value in self._secrets:
            return
        self._secrets.append(value)
        if self.github:
            # Must be printed before anything can echo the value.
            self._write(f"::add-mask::{value}")

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # --- plain output --------------------------------------------------------------------

    def _write(self, line: str) -> None:
        if self.closed:
            return
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            # stdout was closed under us (``validate | head -1``), or its disk is full
            # (``> /dev/full``, ENOSPC), or it is gone (EIO). Printing is not the work: the
            # stage carries on and writes its record, and exits with its own code; only the
            # output is lost.
            self.closed = True
            _silence(self.stream)

    def paint(self, text: str, colour: str) -> str:
        if not self.colour:
            return text
        return f"\033[{_COLOURS[colour]}m{text}\033[0m"

    def line(self, text: str = "") -> None:
        self._write(self.redact(text))

    def heading(self, text: str) -> None:
        self._write(self.paint(self.redact(text), "bold"))

    def detail(self, text: str) -> None:
        """Only with ``--verbose``."""
        if self.verbose:
            self._write(self.paint(self.redact(text), "dim"))

    def warning(self, message: str, *, file: str | None = None, remedy: str | None = None) -> None:
        self._annotate("warning", "yellow", message, self._props(file), remedy)

    def error(
        self,
        message: str,
        *,
        file: str | None = None,
        title: str | None = None,
        remedy: str | None = None,
    ) -> None:
        self._annotate("error", "red", message, self._props(file, title), remedy)

    def _annotate(
        self, level: str, colour: str, message: str, props: str, remedy: str | None
    ) -> None:
        message = self.redact(message)
        if self.github:
            # One annotation holds the cause and what to do: it is read on its own.
            text = f"{message}\nWhat to do: {self.redact(remedy)}" if remedy else message
            self._write(f"::{level}{props}::{_escape_data(text)}")
            return
        self._write(self.paint(f"{level}: {message}", colour))
        if remedy:
            self._write(f"  what to do: {self.redact(remedy)}")

    @staticmethod
    def _props(file: str | None, title: str | None = None) -> str:
        props = []
        if file:
            props.append(f"file={_escape_property(file)}")
        if title:
            props.append(f"title={_escape_property(title)}")
        return (" " + ",".join(props)) if props else ""

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """Fold everything printed inside into one collapsible block in the Actions log."""
        title = self.redact(title)
        if self.github:
            self._write(f"::group::{title}")
            try:
                yield
            finally:
                self._write("::endgroup::")
        else:
            self._write(self.paint(title, "bold"))
            yield

    # --- tables and the step summary -----------------------------------------------------

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        for line in format_table(headers, rows):
            self._write(self.redact(line))

    def step_summary(self, markdown: str) -> None:
        """Append to ``$GITHUB_STEP_SUMMARY`` when Actions provides one; otherwise nothing.

        The summary is a courtesy: if the file cannot be written, that is said once, as a
        warning, and the stage goes on.
        """
        path = self._env.get("GITHUB_STEP_SUMMARY")
        if not path or self._summary_broken:
            return
        try:
            with Path(path).open("a", encoding="utf-8") as fh:
                fh.write(self.redact(markdown).rstrip("\n") + "\n\n")
        except OSError as exc:
            self._summary_broken = True
            problem = StepSummaryError(
                f"the job summary file $GITHUB_STEP_SUMMARY ({path}) cannot be written "
                f"({exc.strerror or exc}); the summary is only in this log.",
                "nothing to do in the project: the runner's summary file is missing or "
                "read-only (outside Actions, unset GITHUB_STEP_SUMMARY).",
            )
            self.warning(problem.cause, remedy=problem.remedy)


def _silence(stream: TextIO) -> None:
    """Point a closed stdout at the null device, so that Python's own flush at exit does not
    print a BrokenPipeError traceback either."""
    try:
        fileno = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fileno)
    finally:
        os.close(devnull)


def _null_stream() -> TextIO:
    return Path(os.devnull).open("w", encoding="utf-8")


def _safe_stdout(github: bool) -> TextIO | None:
    """stdout that cannot fail on the characters tools print (maturin prints emoji); None
    when there is no stdout at all (started with ``>&-``: Python then has none).

    On Windows runners stdout is a pipe in the ANSI code page (cp1252), and one emoji would
    end the stage with UnicodeEncodeError. GitHub reads the log as UTF-8, so in Actions
    the stream is switched to UTF-8; elsewhere unencodable characters are replaced.
    """
    stream = sys.stdout
    if stream is None:
        return None
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        if github:
            reconfigure(encoding="utf-8", errors="replace")
        else:
            reconfigure(errors="replace")
    return stream


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    return [fmt(headers), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    def esc(cell: str) -> str:
        return cell.replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(esc(h) for h in headers) + " |"]
    lines.append("|" + "|".join("---" for _ in headers) + "|")
    lines.extend("| " + " | ".join(esc(c) for c in row) + " |" for row in rows)
    return "\n".join(lines)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
