"""integrity: every file is a sound archive that installers and PyPI will take as it is.

Readable archives, no member that could land outside its directory, one ``.dist-info`` named
like the file, RECORD complete and matching every member's hash and size (parsed and checked
with pypa ``installer``, plus the stricter rules of the wheel spec: sha256 or stronger, sizes
given), WHEEL tags equal to the file name's, METADATA/PKG-INFO naming the same project and
version as the file name, normalized file names, an sdist with one top directory and a
pyproject.toml. What the dist dir holds besides distributions is reported here too.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from installer.records import Hash, InvalidRecordEntry, RecordEntry, parse_record_file
from packaging.tags import Tag, parse_tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..dists import WHEEL, Distribution, top_dirs, urlsafe_b64
from ..errors import InvalidTomlError
from ..project.toml import parse_toml
from ..records import ERROR, WARNING, Finding
from .base import REBUILD, Check, CheckContext

# Beyond this many messages of one kind (RECORD mismatches, bad paths, ...) one count says how
# many more there are: a wheel rebuilt wrongly can differ in every file.
MAX_MESSAGES_PER_KIND = 20
# Signatures over RECORD cannot be listed in the RECORD they sign.
UNRECORDED_SIGNATURES = (".jws", ".p7s")
# MD5 and SHA-1 are forbidden in RECORD by the binary distribution format spec.
WEAK_HASHES = frozenset({"md5", "sha1"})
_DRIVE = re.compile(r"^[A-Za-z]:")

DAMAGED = "build it again, or download the CI artifact again: the file is truncated or damaged."
FIX_SDIST = "fix the sdist build configuration (what it includes) and rebuild the sdist."


@dataclass
class _Report:
    """Findings for one file; messages of a noisy kind stop at a cap and end with a count."""

    check: str
    file: str
    items: list[Finding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def error(self, message: str, remedy: str = REBUILD, *, kind: str | None = None) -> None:
        self._add(ERROR, message, remedy, kind)

    def warning(self, message: str, remedy: str = REBUILD, *, kind: str | None = None) -> None:
        self._add(WARNING, message, remedy, kind)

    def _add(self, level: str, message: str, remedy: str, kind: str | None) -> None:
        if kind is not None:
            self.counts[kind] += 1
            if self.counts[kind] > MAX_MESSAGES_PER_KIND:
                return
        self.items.append(Finding(level, self.check, self.file, message, remedy))

    def findings(self) -> list[Finding]:
        summary = [
            Finding(
                ERROR,
                self.check,
                self.file,
                f"{count - MAX_MESSAGES_PER_KIND} more {kind} problems not shown "
                f"(only the first {MAX_MESSAGES_PER_KIND} are listed)",
                REBUILD,
            )
            for kind, count in self.counts.items()
            if count > MAX_MESSAGES_PER_KIND
        ]
        return [*self.items, *summary]


class Integrity(Check):
    name = "integrity"
    runs_without_files = True

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        found = [
            (self.error if stray.refused else self.warning)(stray.problem, stray.name, stray.remedy)
            for stray in ctx.strays
        ]
        for dist in dists:
            found += self.inspect(dist)
        return found

    def inspect(self, dist: Distribution) -> list[Finding]:
        """Every integrity problem of one distribution."""
        report = _Report(self.name, dist.filename)
        _check_file_name(dist, report)
        if dist.read_problem is not None:
            report.error(dist.read_problem, DAMAGED)
        elif dist.kind == WHEEL:
            _check_wheel(dist, report)
        else:
            _check_sdist(dist, report)
        return report.findings()


# --- file names ----------------------------------------------------------------------------


def _normal_name_part(name: str) -> str:
    return canonicalize_name(name).replace("-", "_")


def _check_file_name(dist: Distribution, report: _Report) -> None:
    if dist.name_problem is not None:
        form = (
            "{name}-{version}[-{build}]-{python}-{abi}-{platform}.whl"
            if dist.kind == WHEEL
            else "{name}-{version}.tar.gz"
        )
        report.error(f"the file name is not valid ({dist.name_problem}); it must be {form}")
        return
    assert dist.name_part is not None and dist.version is not None
    suffix = dist.filename[len(dist.name_part) + 1 + len(str(dist.version_part)) :]
    expected = f"{_normal_name_part(dist.name_part)}-{dist.version}{suffix}"
    if dist.name_part != _normal_name_part(dist.name_part):
        report.error(
            f"the distribution name {dist.name_part!r} in the file name is not normalized "
            f"(PEP 427/625 require {_normal_name_part(dist.name_part)!r}; the file should be "
            f"named {expected})"
        )
    if dist.version_part != str(dist.version):
        report.error(
            f"the version {dist.version_part!r} in the file name is not normalized (PEP 440 "
            f"normal form: {str(dist.version)!r}; the file should be named {expected})"
        )


# --- member paths -----------------------------------------------------------------------------


def path_problem(name: str) -> str | None:
    """Why a member name could land outside the install or unpack directory, if it could."""
    if not name:
        return "has an empty name"
    if "\x00" in name:
        return "contains a NUL character"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a Windows drive letter"
    if "\\" in name:
        return "contains a backslash, which Windows reads as a directory separator"
    if ".." in name.split("/"):
        return "has a '..' component that climbs out of the archive"
    return None


def _check_duplicates(names: Sequence[str], report: _Report, *, level: str) -> None:
    for name, count in Counter(names).items():
        if count > 1:
            message = (
                f"member {name!r} appears {count} times in the archive; which copy is used "
                "depends on the tool that reads it"
            )
            if level == ERROR:
                report.error(message, kind="duplicate")
            else:
                report.warning(message, FIX_SDIST, kind="duplicate")


# --- core metadata against the file name ---------------------------------------------------------


def _check_core_metadata(dist: Distribution, where: str | None, report: _Report) -> None:
    what = where or ("METADATA" if dist.kind == WHEEL else "PKG-INFO")
    data = dist.kept.get(where) if where else None
    if data is None:
        report.error(
            f"{what} is missing; installers and PyPI read the project's name, version and "
            "dependencies from it"
        )
        return
    message = dist.headers(what)
    if message is None:
        report.error(f"{what} is not valid UTF-8")
        return
    # Which fields are valid is the metadata check's (packaging's) to judge; this one only
    # ties the metadata to the file it is in.
    name, version = message.get("Name"), message.get("Version")
    if name is not None and dist.name is not None and canonicalize_name(name) != dist.name:
        report.error(
            f"{what} says Name: {name}, but the file name says {dist.name_part}; the file "
            "was renamed or built from another project"
        )
    if version is not None and dist.version is not None:
        try:
            same = Version(version) == dist.version
        except InvalidVersion:
            return
        if not same:
            report.error(
                f"{what} says Version: {version}, but the file name says {dist.version_part}; "
                "the file was renamed or is left over from another build"
            )


# --- wheels --------------------------------------------------------------------------------------


def _check_wheel(dist: Distribution, report: _Report) -> None:
    names = [m.name for m in dist.members]
    for name in names:
        problem = path_problem(name)
        if problem is not None:
            report.error(
                f"member {name!r} {problem}; an installer could write it outside site-packages",
                kind="path",
            )
    _check_duplicates(names, report, level=ERROR)
    for member in dist.members:
        if member.error is not None:
            report.error(
                f"member {member.name!r} cannot be read ({member.error}); the archive is damaged",
                DAMAGED,
                kind="unreadable member",
            )
    dist_info = _check_dist_info(dist, report)
    if dist_info is None:
        return
    expected_data = dist_info[: -len(".dist-info")] + ".data"
    for data_dir in top_dirs(names, ".data"):
        if data_dir != expected_data:
            report.error(
                f"the wheel has a data directory {data_dir!r}, but it must be named "
                f"{expected_data!r} after the .dist-info directory; installers ignore it "
                "otherwise"
            )
    _check_record(dist, f"{dist_info}/RECORD", report)
    _check_wheel_file(dist, f"{dist_info}/WHEEL", report)
    _check_core_metadata(dist, f"{dist_info}/METADATA", report)


def _check_dist_info(dist: Distribution, report: _Report) -> str | None:
    found = dist.dist_info_dirs
    if not found:
        report.error("the wheel has no top-level .dist-info directory, so no installer can use it")
        return None
    if len(found) > 1:
        report.error(
            f"the wheel has {len(found)} .dist-info directories ({', '.join(found)}); a "
            "wheel has exactly one"
        )
    chosen = dist.dist_info
    if dist.name is not None and not any(_dir_matches(d, dist) for d in found):
        report.error(
            f"the wheel's .dist-info directory {found[0]!r} does not match the file name "
            f"(expected '{dist.name_part}-{dist.version_part}.dist-info'); the wheel was "
            "renamed or its metadata is from another build"
        )
    return chosen


def _dir_matches(directory: str, dist: Distribution) -> bool:
    """Whether ``{name}-{version}.<suffix>`` names the same distribution as the file name."""
    stem = directory.rsplit(".", 1)[0]
    name, sep, version = stem.partition("-")
    if not sep:
        return False
    try:
        return canonicalize_name(name) == dist.name and Version(version) == dist.version
    except InvalidVersion:
        return False


def _record_rows(data: bytes, record_name: str, report: _Report) -> list[tuple[str, str, str]]:
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        report.error(f"{record_name} is not UTF-8 ({exc})")
        return []
    rows = []
    # installer's parser stops at the first bad row; each line alone, so every one is judged.
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows += list(parse_record_file([line]))
        except InvalidRecordEntry as exc:
            count = len(list(exc.elements))
            report.error(
                f"{record_name} line {number} has {count} fields instead of 3 (path,hash,size)",
                kind="RECORD",
            )
    return rows


def _check_record(dist: Distribution, record_name: str, report: _Report) -> None:
    data = dist.kept.get(record_name)
    if data is None:
        report.error(
            f"{record_name} is missing; installers need it to verify and uninstall the wheel"
        )
        return
    entries: dict[str, RecordEntry] = {}
    for path, hash_text, size in _record_rows(data, record_name, report):
        if path in entries:
            report.error(f"{record_name} lists {path!r} twice", kind="RECORD")
        try:
            entries[path] = RecordEntry.from_elements(path, hash_text, size)
        except InvalidRecordEntry as exc:
            report.error(
                f"{record_name} has an invalid entry for {path!r}: {', '.join(exc.issues)}",
                kind="RECORD",
            )
    # installer reads RECORD paths with "\\" as "/"; members are compared the same way (a
    # backslash in a member's name is a path error of its own, reported above).
    members = {m.name.replace("\\", "/"): m for m in dist.members if not m.is_dir}
    recheck: list[tuple[str, RecordEntry]] = []
    for name, member in members.items():
        entry = entries.get(name)
        if name == record_name:
            if entry is not None and (entry.hash_ is not None or entry.size is not None):
                report.error(f"{record_name} lists a hash or size for itself", kind="RECORD")
            continue
        if entry is None:
            if not (name.startswith(record_name) and name.endswith(UNRECORDED_SIGNATURES)):
                report.error(
                    f"{name!r} is in the archive but not in {record_name}; installers would "
                    "not remove it on uninstall (a tool that adds files must rewrite RECORD)",
                    kind="RECORD",
                )
            continue
        if member.error is not None:
            continue  # reported as unreadable
        if _usable_hash(entry, name, record_name, report) is None:
            continue
        assert entry.hash_ is not None
        if entry.hash_.name.lower() == "sha256":
            _compare(
                entry, digest=member.sha256, size=member.size, name=name,
                record_name=record_name, report=report,
            )  # fmt: skip
        else:
            recheck.append((member.name, entry))
    for name in sorted(entries.keys() - members.keys()):
        report.error(
            f"{record_name} lists {name!r}, which is not in the archive; a file was removed "
            "after RECORD was written",
            kind="RECORD",
        )
    if recheck:
        _recheck_other_hashes(dist, recheck, record_name, report)


def _usable_hash(entry: RecordEntry, name: str, record_name: str, report: _Report) -> Hash | None:
    if entry.hash_ is None or entry.size is None:
        missing = " and ".join(
            what for what, value in (("hash", entry.hash_), ("size", entry.size)) if value is None
        )
        report.error(
            f"{record_name} gives no {missing} for {name!r}; every file but RECORD needs both",
            kind="RECORD",
        )
    if entry.hash_ is None:
        return None
    if entry.hash_.name.lower() in WEAK_HASHES:
        report.error(
            f"{record_name} hashes {name!r} with {entry.hash_.name!r}; wheels must use sha256 "
            "or stronger",
            kind="RECORD",
        )
        return None
    if entry.hash_.name not in hashlib.algorithms_available:
        # installer 1.x refuses this in from_elements already; installer 0.7 (Python 3.9) not.
        report.error(
            f"{record_name} has an invalid entry for {name!r}: invalid hash algorithm "
            f"{entry.hash_.name!r}",
            kind="RECORD",
        )
        return None
    if hashlib.new(entry.hash_.name).digest_size == 0:
        # shake_128 and shake_256 are in hashlib.algorithms_guaranteed, so installer takes
        # them; their digest has no length of its own, so no installer can check one.
        report.error(
            f"{record_name} hashes {name!r} with {entry.hash_.name!r}, whose digest has no "
            "fixed length, so installers cannot verify it; wheels use sha256",
            kind="RECORD",
        )
        return None
    return entry.hash_


_CHANGED = (
    "the file changed after RECORD was written (a tool that modifies wheels must rewrite RECORD)"
)


def _compare(
    entry: RecordEntry,
    *,
    digest: str | None,
    size: int,
    name: str,
    record_name: str,
    report: _Report,
) -> None:
    assert entry.hash_ is not None
    if digest is not None and digest != entry.hash_.value:
        report.error(
            f"{record_name} says {name!r} has {entry.hash_}, but its content hashes to "
            f"{entry.hash_.name}={digest}; {_CHANGED}",
            kind="RECORD",
        )
    if entry.size is not None and entry.size != size:
        report.error(
            f"{record_name} says {name!r} is {entry.size} bytes, but it is {size} bytes; "
            f"{_CHANGED}",
            kind="RECORD",
        )


def _recheck_other_hashes(
    dist: Distribution, entries: list[tuple[str, RecordEntry]], record_name: str, report: _Report
) -> None:
    """RECORD entries hashed with another strong algorithm than sha256 (rare): those members
    are read again with that algorithm."""
    with zipfile.ZipFile(dist.path) as archive:
        for name, entry in entries:
            assert entry.hash_ is not None
            hasher = hashlib.new(entry.hash_.name)
            with archive.open(name) as stream:
                for chunk in iter(lambda: stream.read(1 << 16), b""):
                    hasher.update(chunk)
            size = archive.getinfo(name).file_size
            _compare(
                entry, digest=urlsafe_b64(hasher.digest()), size=size, name=name,
                record_name=record_name, report=report,
            )  # fmt: skip


def _check_wheel_file(dist: Distribution, where: str, report: _Report) -> None:
    if where not in dist.kept:
        report.error("the .dist-info/WHEEL file is missing; installers refuse a wheel without it")
        return
    message = dist.headers(where)
    if message is None:
        report.error("WHEEL is not valid UTF-8")
        return
    wheel_version = message.get("Wheel-Version")
    if wheel_version is None:
        report.error("WHEEL has no Wheel-Version field")
    elif not wheel_version.strip().startswith("1."):
        report.error(f"WHEEL has Wheel-Version: {wheel_version}; installers understand only 1.x")
    if dist.name is None:
        return
    declared: set[Tag] = set()
    for line in message.get_all("Tag") or []:
        try:
            declared |= parse_tag(line.strip())
        except ValueError:
            report.error(f"WHEEL has an invalid Tag line {line!r}")
    if declared == dist.tags:
        return
    missing = sorted(str(tag) for tag in dist.tags - declared)
    extra = sorted(str(tag) for tag in declared - dist.tags)
    details = []
    if missing:
        details.append(f"in the file name but not in WHEEL: {', '.join(missing)}")
    if extra:
        details.append(f"in WHEEL but not in the file name: {', '.join(extra)}")
    report.error(
        f"the Tag lines in WHEEL disagree with the file name's tags ({'; '.join(details)}); "
        "the wheel was renamed or retagged without updating WHEEL"
    )


# --- sdists -----------------------------------------------------------------------------------


def _check_sdist(dist: Distribution, report: _Report) -> None:
    expected_top = f"{dist.name_part}-{dist.version_part}" if dist.name_part else None
    for member in dist.tar_members:
        problem = path_problem(member.name)
        if problem is not None:
            report.error(
                f"member {member.name!r} {problem}; unpacking the sdist could write outside "
                "its directory",
                FIX_SDIST,
                kind="path",
            )
        if member.kind in ("device", "fifo"):
            report.error(
                f"member {member.name!r} is a device or FIFO; an sdist holds only files, "
                "directories and links inside it",
                FIX_SDIST,
                kind="special file",
            )
        elif member.kind in ("symlink", "hardlink"):
            _check_link(member.name, member.kind, member.linkname, expected_top, report)
    _check_duplicates([m.name for m in dist.tar_members], report, level=WARNING)
    top = _check_single_top(dist, expected_top, report)
    if top is None:
        return
    _check_core_metadata(dist, f"{top}/PKG-INFO", report)
    pyproject = dist.kept.get(f"{top}/pyproject.toml")
    if pyproject is None:
        report.error(
            f"{top}/pyproject.toml is missing; without it installers cannot know how to "
            "build the sdist",
            FIX_SDIST,
        )
        return
    try:
        parse_toml(pyproject, f"{top}/pyproject.toml")
    except InvalidTomlError as exc:
        report.error(exc.cause.rstrip("."), "fix pyproject.toml and rebuild the sdist.")


def _check_link(name: str, kind: str, target: str, top: str | None, report: _Report) -> None:
    if kind == "symlink":
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    else:
        resolved = posixpath.normpath(target)
    root = top if top is not None else name.split("/", 1)[0]
    absolute = target.startswith("/") or bool(_DRIVE.match(target))
    if absolute or not (resolved == root or resolved.startswith(f"{root}/")):
        shown = "symlink" if kind == "symlink" else "hard link"
        report.error(
            f"member {name!r} is a {shown} to {target!r}, outside the sdist's top directory "
            f"{root + '/'!r}; unpacking it could touch files elsewhere",
            "replace the link with the file it points to, then rebuild the sdist.",
            kind="link",
        )


def _check_single_top(dist: Distribution, expected: str | None, report: _Report) -> str | None:
    tops = sorted({m.name.split("/", 1)[0] for m in dist.tar_members})
    if expected is None:
        if len(tops) == 1:
            return tops[0]
        report.error(
            f"the sdist has {len(tops)} top-level entries ({', '.join(tops[:5])}); an sdist "
            "holds exactly one directory {name}-{version}/"
        )
        return None
    strays = [t for t in tops if t != expected]
    if strays:
        report.error(
            f"the sdist has top-level entries other than {expected + '/'!r}: "
            f"{', '.join(strays[:5])}; an sdist holds exactly one directory named like the file"
        )
    return expected if expected in tops else None
