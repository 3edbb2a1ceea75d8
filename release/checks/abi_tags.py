"""abi-tags: a wheel's ABI tags and the names of its extension modules agree.

CPython imports an extension module only under a name its build accepts
(``importlib.machinery.EXTENSION_SUFFIXES``): CPython 3.14 takes ``.cpython-314-<platform>.so``,
``.abi3.so`` and ``.so``; free-threaded 3.14t takes ``.cpython-314t-<platform>.so`` and ``.so``,
never ``.abi3.so``, since the stable ABI does not exist there (PEP 703); from 3.15 both take
``.abi3t.so`` (PEP 803). On Windows the names are ``.cp314-win_amd64.pyd``,
``.cp314t-win_amd64.pyd`` and ``.pyd`` (abi3 and abi3t modules use the plain ``.pyd``).
The module's suffix is what its build wrote, so a module named for another interpreter than
the wheel's tag installs and then fails with ModuleNotFoundError: a GIL build in a cp314t
wheel, an abi3 module in a free-threaded wheel, a version-specific module in an abi3 wheel.

The tags themselves must be ones installers match: the python tag has no ``t``
(``cp314-cp314t``, not ``cp314t-cp314t``), the ABI's version is the python tag's, ``abi3t``
starts at cp315, and one wheel is not both abi3 and free-threaded (abi3 cannot load there).
abi3audit, the abi3 check, reads abi3 wheels' symbols; it knows nothing of free-threading, so
these rules are read from the names alone, on every host.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from packaging.tags import Tag

from ..dists import Distribution
from ..records import Finding
from .base import Check, CheckContext, readable

_CPYTHON = re.compile(r"cp3(\d+)")
_VERSION_ABI = re.compile(r"cp3(\d+)(t?)")
# What a module's name says it was built for: one CPython (3.14, 3.14t; d: a debug build, which
# takes the same suffix with "d"), or a stable ABI. Names without a tag (``_m.so``, ``_m.pyd``)
# load on any interpreter and say nothing.
_SUFFIX = re.compile(
    r"\.(?:cpython-3(?P<minor>\d+)(?P<t>t?)d?-[\w-]+\.so"
    r"|cp3(?P<win_minor>\d+)(?P<win_t>t?)-\w+\.pyd"
    r"|(?P<stable>abi3t?)\.so)$"
)


@dataclass(frozen=True)
class Built:
    """What a module's suffix says it was built for."""

    suffix: str
    minor: int | None = None  # one CPython 3.<minor>
    free_threaded: bool = False
    stable: str | None = None  # abi3 or abi3t

    def describe(self) -> str:
        if self.stable == "abi3":
            return "the stable ABI (abi3)"
        if self.stable == "abi3t":
            return "the free-threaded stable ABI (abi3t)"
        return f"CPython 3.{self.minor}{'t (free-threaded)' if self.free_threaded else ''} alone"


def built_for(member: str) -> Built | None:
    found = _SUFFIX.search(PurePosixPath(member).name)
    if found is None:
        return None
    if found["stable"]:
        return Built(found[0], stable=found["stable"])
    minor = found["minor"] or found["win_minor"]
    return Built(found[0], int(minor), bool(found["t"] or found["win_t"]))


def _interpreter(tag: Tag) -> str:
    """Who installs a wheel of ``tag``, in words."""
    minor = int(tag.interpreter[3:])
    if tag.abi == "abi3":
        return f"CPython 3.{minor} and later (GIL builds)"
    if tag.abi == "abi3t":
        return f"CPython 3.{minor} and later (GIL and free-threaded builds)"
    if tag.abi.endswith("t"):
        return f"free-threaded CPython 3.{minor}t"
    return f"CPython 3.{minor}"


def accepts(tag: Tag, built: Built) -> bool:
    """Whether every interpreter that installs a wheel of ``tag`` imports the module."""
    minor = int(tag.interpreter[3:])
    if built.stable == "abi3t":
        return minor >= 15  # PEP 803: 3.15+, GIL and free-threaded builds alike
    if tag.abi in ("abi3", "abi3t"):
        # Later interpreters look for their own version's name, never this one's.
        return built.stable == "abi3" and tag.abi == "abi3"
    version = _VERSION_ABI.fullmatch(tag.abi)
    assert version is not None  # judged only for such tags
    free_threaded = version[2] == "t"
    if built.stable == "abi3":
        return not free_threaded
    return built.minor == minor and built.free_threaded == free_threaded


def _tag_problem(tags: Sequence[Tag]) -> tuple[str, str] | None:
    """(problem, remedy) when the tags are ones no installer matches or no binary can meet."""
    for tag in tags:
        if tag.interpreter.startswith("cp3") and tag.interpreter.endswith("t"):
            fixed = f"{tag.interpreter[:-1]}-{tag.abi}"
            return (
                f'its python tag {tag.interpreter} has a "t", which no installer matches: '
                "free-threading is said by the ABI tag alone",
                f"tag it {fixed}-{tag.platform} (the backend does: maturin, cibuildwheel and "
                "setuptools on a free-threaded interpreter).",
            )
        python = _CPYTHON.fullmatch(tag.interpreter)
        version = _VERSION_ABI.fullmatch(tag.abi)
        if python and version and version[1] != python[1]:
            return (
                f"its tag {tag} names CPython 3.{python[1]} and the ABI of 3.{version[1]}"
                f"{version[2]}: no interpreter is both, so no installer takes it",
                "build it with the backend, which tags the wheel for the interpreter that "
                "built it.",
            )
        if python and tag.abi == "abi3t" and int(python[1]) < 15:
            return (
                f"its tag {tag} names abi3t for CPython 3.{python[1]}: the free-threaded stable "
                "ABI begins with 3.15 (PEP 803), so no 3.14 or older interpreter loads it",
                "tag it cp315-abi3.abi3t (built with PyO3's abi3t-py315 feature, maturin 1.14+), "
                "or build version-specific cp314-cp314t wheels for 3.14t.",
            )
    free_threaded = sorted(
        {str(t) for t in tags if t.abi.startswith("cp3") and t.abi.endswith("t")}
    )
    stable = sorted({str(t) for t in tags if t.abi == "abi3"})
    if free_threaded and stable and not any(t.abi == "abi3t" for t in tags):
        return (
            f"it is tagged both abi3 ({', '.join(stable)}) and free-threaded "
            f"({', '.join(free_threaded)}): abi3 modules cannot load on free-threaded CPython, "
            "and a free-threaded module does not load on the GIL builds abi3 promises",
            "build two wheels: the abi3 one, and a free-threaded cp3XY-cp3XYt one (PyO3 builds "
            "it when the interpreter is free-threaded, ignoring the abi3 feature).",
        )
    return None


class AbiTagsCheck(Check):
    name = "abi-tags"

    def applies_to(self, dist: Distribution) -> bool:
        return (
            dist.is_wheel
            and readable(dist)
            and any(t.interpreter.startswith("cp3") for t in dist.tags)
        )

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        return [finding for dist in dists for finding in self.judge(dist)]

    def judge(self, dist: Distribution) -> list[Finding]:
        tags = sorted(dist.tags, key=str)
        problem = _tag_problem(tags)
        if problem is not None:
            # The modules' names are judged against tags that are right; these are not.
            return [self.error(problem[0], dist.filename, problem[1])]
        judged = [
            t
            for t in tags
            if _CPYTHON.fullmatch(t.interpreter)
            and (t.abi in ("abi3", "abi3t") or _VERSION_ABI.fullmatch(t.abi))
        ]
        found: list[Finding] = []
        for member in sorted(m.name for m in dist.members if not m.is_dir):
            built = built_for(member)
            if built is None:
                continue
            refused = [t for t in judged if not accepts(t, built)]
            if not refused:
                continue
            tag = refused[0]
            found.append(
                self.error(
                    f"{member} is named for {built.describe()} ({built.suffix}), but the wheel "
                    f"is tagged {tag}: {_interpreter(tag)} installs it and cannot import the "
                    "module (ModuleNotFoundError)",
                    dist.filename,
                    _remedy(tag, built),
                )
            )
        return found


def _remedy(tag: Tag, built: Built) -> str:
    if built.stable == "abi3" and tag.abi.endswith("t"):
        return (
            "free-threaded CPython has no abi3: build this wheel with the free-threaded "
            "interpreter without the stable ABI (PyO3 and maturin do so themselves on 3.14t; "
            "setuptools: drop py_limited_api for it), or leave the free-threaded wheel out."
        )
    return (
        "build the module with the interpreter the wheel's tag names (the build names the "
        "module after its interpreter), or give the wheel the tag of the interpreter that "
        "built it; never rename a module or retag a wheel by hand."
    )
