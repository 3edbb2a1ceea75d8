"""``nox-release init``: adopt nox-release in a repository in one command.

The steps a maintainer would otherwise do by hand: find the package and read what it already
says (detect.py); write ``[tool.release]`` into the root pyproject.toml, keeping every other
byte (table.py); a noxfile.py whose sessions install a pinned nox-release (noxfile.py); the
thin workflows generated from the configuration; then say what is left to do on PyPI and
GitHub. Without ``--force``, a file that exists and would change is shown as a diff and
nothing at all is written: a half-adopted repository never happens. The writes themselves are
all or nothing too (:func:`write_all`): a full disk, a read-only directory or a file in the
way leaves every file as it was.

Of the project's workflows, init writes only its own two (the release workflow and its dry
run) and may replace only the one that publishes the package today (adoption.py), with
``--force``: every other workflow is the project's, never written, with or without it.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import ReleaseConfig, load_config
from ..console import Console
from ..errors import (
    ConfigValueError,
    DiskFullError,
    InTheWayError,
    NotWritableError,
    ReleaseError,
    WouldOverwriteError,
)
from ..fsio import directory_in_the_way, in_the_way
from ..project.cargo import IMPORT_LIB_FEATURE
from ..runner import Runner
from ..tag import tag_for
from ..workflows import publishers
from ..workflows.generate import HEADER, workflows
from .adoption import Adoption, read_adoption
from .detect import Detected, choose_package_dir, detect
from .noxfile import Source, noxfile, resolve_source
from .table import has_release_table, release_table, with_release_table

CREATE, CHANGE, SAME, ADD_TABLE = "create", "change", "unchanged", "add [tool.release]"


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    shown: str
    old: str | None  # None: the file does not exist; its text, line endings kept
    new: str
    adds_table_only: bool = False  # pyproject.toml without [tool.release]: only added to
    unreadable: bool = False  # exists, but is not UTF-8 text
    takes_over: bool = False  # the old publishing workflow, which the release workflow replaces

    @property
    def action(self) -> str:
        if self.old is None and not self.unreadable:
            return CREATE
        if self.adds_table_only:
            return ADD_TABLE  # every byte that was there stays: nothing is overwritten
        if self.old == self.new:
            return SAME
        # A generated file is the same with whatever line endings git checked it out.
        generated = self.shown != "pyproject.toml"
        if generated and self.old is not None and self.old.replace("\r\n", "\n") == self.new:
            return SAME
        return CHANGE

    def diff(self) -> str:
        if self.unreadable:
            return f"{self.shown} exists and is not UTF-8 text (no diff shown)"
        return "".join(difflib.unified_diff(
            (self.old or "").splitlines(keepends=True), self.new.splitlines(keepends=True),
            fromfile=f"{self.shown} (now)", tofile=f"{self.shown} (init)",
        ))  # fmt: skip


def _read(path: Path) -> tuple[str | None, bool]:
    """A file's text with its line endings, and whether it exists but is not UTF-8."""
    # Refused before anything is written: a directory where the file goes, a file where
    # one of its directories goes (.github).
    if path.is_dir():
        raise directory_in_the_way(path, f"writing {path.name}", dist_options=False)
    blocking = in_the_way(path)
    if blocking != path:
        raise InTheWayError(
            f"{blocking} is a file, where a directory of {path} must be.",
            f"remove or rename {blocking}, then run init again.",
        )
    if not path.is_file():
        return None, False
    try:
        return path.read_bytes().decode("utf-8"), False
    except UnicodeDecodeError:
        return None, True


def _same_file_on_other_systems(path: Path, adoption: Adoption) -> Path | None:
    """A workflow whose name equals ``path``'s but for case: one file on macOS and Windows."""
    for existing in adoption.workflows:
        if existing.name != path.name and existing.name.lower() == path.name.lower():
            return existing
    return None


def _workflow_plan(path: Path, new: str, config: ReleaseConfig, adoption: Adoption) -> PlannedFile:
    """One of init's two workflows, refused where it would replace a workflow of the
    project's own: only the old publisher, or a file nox-release generated, is replaced."""
    shown = config.shown(path)
    twin = _same_file_on_other_systems(path, adoption)
    if twin is not None:
        raise InTheWayError(
            f"{config.shown(twin)} exists, and {shown} differs from it only in case: on macOS "
            "and Windows they are one file, so writing it would replace the project's workflow.",
            f"name nox-release's workflow apart ([tool.release.publish] workflow or "
            f"[tool.release.ci] workflow in pyproject.toml), or write [tool.release] with "
            f"workflow = {twin.name!r} if {twin.name} is the workflow that publishes to PyPI.",
        )
    current, unreadable = _read(path)
    old = adoption.publisher
    takes_over = old is not None and old.path.name == path.name
    generated = current is not None and (current.startswith(HEADER) or current == new)
    if (current is not None or unreadable) and not takes_over and not generated:
        raise InTheWayError(
            f"{shown} is a workflow of the project's own (it does not publish to PyPI, and "
            "nox-release did not generate it): init never replaces it, with or without --force.",
            f"give nox-release's workflow another file name in [tool.release] (publish.workflow "
            f"or ci.workflow) of pyproject.toml, or rename {shown}, then run init again.",
        )
    return PlannedFile(path, shown, current, new, unreadable=unreadable, takes_over=takes_over)


def plan(
    root: Path, package_dir: str | None, source: Source, runner: Runner
) -> tuple[Detected, list[PlannedFile]]:
    found, planned, _ = plan_adoption(root, package_dir, source, runner)
    return found, planned


def plan_adoption(
    root: Path, package_dir: str | None, source: Source, runner: Runner
) -> tuple[Detected, list[PlannedFile], Adoption]:
    found = detect(root, choose_package_dir(root, package_dir), runner)
    adoption = read_adoption(root, runner)
    pyproject = root / "pyproject.toml"
    old, unreadable = _read(pyproject)
    if unreadable:
        raise ConfigValueError(
            f"{pyproject} is not UTF-8 text, which TOML must be.",
            "save it as UTF-8, then run init again.",
        )
    text = with_release_table(old or "", release_table(root, found, adoption), pyproject)
    adds_only = old is not None and not has_release_table(old)
    # The workflows are made from the configuration exactly as it will load.
    config = load_config(root, pyproject_text=text)
    planned = [PlannedFile(pyproject, "pyproject.toml", old, text, adds_table_only=adds_only)]
    noxfile_path = root / "noxfile.py"
    current, unreadable = _read(noxfile_path)
    planned.append(
        PlannedFile(noxfile_path, "noxfile.py", current, noxfile(source), unreadable=unreadable)
    )
    planned += [_workflow_plan(p, new, config, adoption) for p, new in workflows(config).items()]
    return found, planned, adoption


def init(
    root: Path, *, package_dir: str | None, force: bool, source: str | None, console: Console
) -> int:
    root = root.resolve()
    runner = Runner(console)
    installs = resolve_source(source, console)
    found, planned, adoption = plan_adoption(root, package_dir, installs, runner)
    console.line(f"package: {found.package_dir} ({found.name or 'no [project] name'})")
    console.line(f"  backend {found.backend}: {found.backend_why}")
    console.line(f"  version {found.version or '(computed at build time)'}: {found.version_why}")
    console.line(f"  wheels: {found.wheels_why}")
    console.line(f"  sdist: {'yes' if found.sdist else 'no, ' + str(found.sdist_why)}")
    console.line(f"  tag pattern {adoption.tag_pattern}: {adoption.tag_pattern_why}")
    if found.before_build:
        steps = ", ".join(found.before_build)
        console.line(f"  before-build {steps}: {found.before_build_why}")
    if found.before_build_left_out:
        left_out = "; ".join(found.before_build_left_out)
        console.line(f"  not in before-build (only a shell runs it): {left_out}")
    console.line(f"  default branch {adoption.branch}: {adoption.branch_why}")
    changes = [f for f in planned if f.action == CHANGE]
    for file in changes if not force else [f for f in changes if f.takes_over]:
        console.line(file.diff().rstrip("\n"))
        if file.takes_over:
            console.line(takeover_note(file, adoption))
    if changes and not force:
        raise WouldOverwriteError(
            f"{len(changes)} file(s) exist and would change: "
            f"{', '.join(f.shown for f in changes)}; nothing was written.",
            "read the diff above; run init again with --force to write every file (git keeps "
            "the old versions).",
        )
    write_all(root, [file for file in planned if file.action != SAME])
    for file in planned:
        done = {SAME: "unchanged", CREATE: "wrote"}.get(file.action, file.action)
        console.line(f"{file.shown}: {done}")
    config = load_config(root)  # as written: the workflows it owns, its tag and environment
    console.line(next_steps(found, adoption, config))
    others = publishers.next_steps(config, found.version, workflows(config))
    if others:
        console.line(others)
    return 0


@dataclass
class _Staged:
    file: PlannedFile
    temp: Path
    backup: Path | None = None  # the old file, kept until every file is in place
    replaced: bool = False


def write_all(root: Path, files: Sequence[PlannedFile]) -> None:
    """Write every file or none. Each new text is written beside its file first (a full disk
    or a read-only directory shows here, before anything is replaced); then each is renamed
    into place, the old file kept as a hard link; a failure there puts back what was
    replaced. An interruption rolls back as well."""
    made: list[Path] = []  # directories init created, to remove on failure
    staged: list[_Staged] = []
    current: PlannedFile | None = None
    try:
        for current in files:
            _make_directories(root, current, made)
            mode = current.path.stat().st_mode & 0o7777 if current.path.exists() else 0o644
            fd, temp = tempfile.mkstemp(prefix=f".{current.path.name}.", dir=current.path.parent)
            staged.append(_Staged(current, Path(temp)))
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(current.new)
            Path(temp).chmod(mode)
        for item in staged:
            current = item.file
            if current.path.exists():
                item.backup = _keep(current.path)
            item.temp.replace(current.path)
            item.replaced = True
    except BaseException as exc:
        left = _roll_back(staged, made)
        if isinstance(exc, OSError) and current is not None:
            raise _write_error(exc, root, current, left) from exc
        raise
    for item in staged:
        if item.backup is not None:
            with contextlib.suppress(OSError):
                item.backup.unlink()


def _make_directories(root: Path, file: PlannedFile, made: list[Path]) -> None:
    missing = []
    for directory in [file.path.parent, *file.path.parent.parents]:
        if directory.is_dir():
            break
        if directory.exists() or directory.is_symlink():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
        missing.append(directory)
    if file.path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(file.path))
    for directory in reversed(missing):
        # Noted first: an interrupt right after mkdir must still find it to remove.
        made.append(directory)
        directory.mkdir()


def _keep(path: Path) -> Path:
    """The old file under a hidden name beside it, by a hard link (a copy where links are
    not allowed); the rename that replaces ``path`` then leaves it untouched."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent)
    os.close(fd)
    backup = Path(name)
    backup.unlink()
    try:
        os.link(path, backup)
    except OSError:
        shutil.copy2(path, backup)
    return backup


def _roll_back(staged: Sequence[_Staged], made: Sequence[Path]) -> list[Path]:
    """Undo ``staged`` and remove ``made``; the files that could not be put back."""
    left = []
    for item in reversed(staged):
        try:
            if item.replaced and item.backup is not None:
                item.backup.replace(item.file.path)
            elif item.replaced:
                item.file.path.unlink()
            else:
                item.temp.unlink(missing_ok=True)
                if item.backup is not None:
                    item.backup.unlink()
        except OSError:
            left.append(item.file.path)
    for directory in reversed(made):
        with contextlib.suppress(OSError):
            directory.rmdir()
    return left


def _write_error(exc: OSError, root: Path, file: PlannedFile, left: Sequence[Path]) -> ReleaseError:
    def shown(path: Path | str) -> str:
        with contextlib.suppress(ValueError):
            relative = Path(path).relative_to(root).as_posix()
            if relative != ".":
                return relative
        return str(path)

    if left:
        outcome = (
            "init could not put back "
            + ", ".join(shown(p) for p in left)
            + ": compare them with git (git status, git diff)"
        )
    else:
        outcome = "nothing was written: every file is as it was"
    where = Path(exc.filename) if exc.filename else file.path.parent
    if exc.errno == errno.ENOTDIR:
        return InTheWayError(
            f"{shown(where)} is a file, and init writes {file.shown} inside a directory of "
            f"that name; {outcome}.",
            f"move {shown(where)} out of the way (or remove it), then run init again.",
        )
    if exc.errno == errno.EISDIR:
        return InTheWayError(
            f"{file.shown} is a directory, and init writes a file of that name; {outcome}.",
            f"move the directory {file.shown} out of the way, then run init again.",
        )
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC), errno.EFBIG):
        return DiskFullError(
            f"no space left on the device holding {root} while init wrote {file.shown}; {outcome}.",
            "free some space there (df -h shows how much is left), then run init again.",
        )
    directory = where if where.is_dir() else file.path.parent
    return NotWritableError(
        f"{shown(directory)} is not writable ({exc.strerror}) while init wrote {file.shown}; "
        f"{outcome}.",
        "make it writable for this user (an immutable directory: lsattr -d shows it, "
        "chattr -i clears it), then run init again.",
    )


def takeover_note(file: PlannedFile, adoption: Adoption) -> str:
    old = adoption.publisher
    lines = [f"{file.shown} publishes the package to PyPI today: the release workflow replaces it."]
    if old is not None and old.lost:
        lines.append("  what it did that the generated release workflow will not:")
        lines += [f"    - {fact}" for fact in old.lost]
    return "\n".join(lines)


def _import_lib_step(found: Detected) -> str:
    """The one edit without which the Windows wheel cannot be cross-compiled here."""
    fix = found.import_lib
    if fix is None:
        return ""
    return f"""
  Before step 3: Linux cross-compiles the Windows wheel ({found.windows_target}), and {fix.crate}
     links it only with its {IMPORT_LIB_FEATURE} feature, which {fix.manifest} does not
     enable yet. In {fix.table} of {fix.manifest}, write:
       {fix.line}
     (or move to PyO3 0.29 or later, which links python3.dll without it)."""


def next_steps(
    found: Detected, adoption: Adoption | None = None, config: ReleaseConfig | None = None
) -> str:
    owner, repository = found.github or ("<owner>", "<repository>")
    name = found.name or "<the PyPI project name>"
    unknown = "" if found.github else (
        "\n     (no github.com remote named origin here: fill in the repository's owner and name)"
    )  # fmt: skip
    pattern = config.tag_pattern if config else "v{version}"
    workflow = config.publish.workflow if config else "release.yml"
    environment = (config.publish.environment if config else None) or "pypi"
    tag = (
        tag_for(pattern, found.version)
        if found.version
        else pattern.replace("{version}", "<version>")
    )
    environments = (
        f"https://github.com/{owner}/{repository}/settings/environments"
        if found.github else "the repository's Settings > Environments"
    )  # fmt: skip
    old = adoption.publisher if adoption else None
    if old is not None and old.trusted and old.name == workflow:
        registered = f"{old.name} (environment {old.environment or '(any)'})"
        register = f"""  1. The trusted publisher PyPI has for {registered}
     stays valid: the release workflow keeps that file name and environment. Nothing to
     register; check it on https://pypi.org/manage/project/{name}/settings/publishing/."""
    else:
        register = f"""  1. Register the trusted publisher on PyPI, in its Publishing settings
     (https://pypi.org/manage/project/{name}/settings/publishing/), or, before its first
     release, a pending publisher (https://pypi.org/manage/account/publishing/)):
       PyPI project name   {name}
       Owner               {owner}
       Repository name     {repository}
       Workflow name       {workflow}
       Environment name    {environment}{unknown}"""
        if old is not None:
            register += (
                f"\n     ({old.name} uploaded with a token: remove that secret once the trusted"
                " publisher works.)"
            )
    import_lib = _import_lib_step(found)
    return f"""
next steps:
{register}
  2. Create the GitHub environment {environment}:
       {environments}
     with required reviewers there if a release should wait for someone's approval.{import_lib}
  3. Run the preflight and the whole release as a dry run here:
       nox -s check
       nox -s release
  4. Commit pyproject.toml, noxfile.py and .github/workflows/, then push the tag {tag}
     (or, when another workflow makes the tags, dispatch {workflow} with that tag)."""
