"""The ``wheel-set`` check (exactly the wheels the project should ship) and the ``pypi-tags``
check (no platform tag that PyPI refuses at upload).

An expected wheel is one entry with one or more ``python-abi-platform`` patterns (``*``
wildcards, matched case-sensitively against each tag a wheel's name expands to); any pattern
may match. The entries come from ``[tool.release.wheels]`` when present, else from the
backend: cibuildwheel's own build identifiers, or maturin's abi3 feature, manylinux floor and
Windows target. The ``build`` backend gives no expectation.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from .backends.cibuildwheel import build_identifiers
from .config import PLATFORMS, ReleaseConfig, read_toml
from .errors import ConfigError
from .records import Finding
from .runner import Runner
from .versions import (
    cargo_manifest_path,
    find_workspace_root,
    inherits_from_workspace,
    read_cargo_manifest,
    shown_path,
)

WHEEL_SET = "wheel-set"
PYPI_TAGS = "pypi-tags"

# maturin builds Linux wheels on the CI's x86_64 runners; validate may run elsewhere (a
# maintainer's arm64 laptop), so the host's architecture must not decide.
MATURIN_LINUX_ARCH = "x86_64"
_WINDOWS_PLATFORMS = {"x86_64": "win_amd64", "i686": "win32", "aarch64": "win_arm64"}


@dataclass(frozen=True)
class Expected:
    """One wheel the release must contain: any of ``patterns`` may match it."""

    platform: str  # "linux" | "windows"
    patterns: tuple[str, ...]
    shown: str = ""  # how messages name the entry when the patterns alone read badly

    def matches(self, tags: Iterable[str]) -> bool:
        return any(fnmatch.fnmatchcase(tag, p) for tag in tags for p in self.patterns)

    def describe(self) -> str:
        return self.shown or " or ".join(self.patterns)


def wheel_tags(name: str) -> list[str]:
    """Every ``python-abi-platform`` tag a wheel file name expands to (compressed tag sets
    such as ``manylinux_2_17_x86_64.manylinux2014_x86_64`` give several)."""
    _, _, _, tags = parse_wheel_filename(name)
    return sorted(f"{t.interpreter}-{t.abi}-{t.platform}" for t in tags)


# --- [tool.release.wheels] -----------------------------------------------------------------


def configured_entries(config: ReleaseConfig) -> list[Expected]:
    """Entries from ``[tool.release.wheels]``; ``a|b`` in one pattern means either."""
    assert config.wheels is not None
    return [
        Expected(platform, tuple(pattern.split("|")))
        for platform in PLATFORMS
        for pattern in config.wheels.for_platform(platform)
    ]


# --- cibuildwheel --------------------------------------------------------------------------

_IDENTIFIER = re.compile(
    r"(?P<impl>cp|pp|gp)(?P<major>\d)(?P<minor>\d+)(?P<ft>t?)(_\d+)?-(?P<plat>.+)"
)


def _identifier_platform(plat: str) -> str:
    """cibuildwheel's ``manylinux_x86_64`` -> a pattern for the tag the wheel gets
    (``manylinux_2_17_x86_64``, ``manylinux2014_x86_64``...)."""
    for libc in ("manylinux", "musllinux"):
        if plat.startswith(libc + "_"):
            return f"{libc}*_{plat[len(libc) + 1 :]}"
    return plat


def entry_for_identifier(identifier: str, platform: str) -> Expected:
    """The wheel a cibuildwheel build identifier produces.

    A CPython build may also produce an abi3 wheel (``py_limited_api``); its tag names the
    oldest CPython it supports, which can be any minor version up to the building one.
    """
    match = _IDENTIFIER.fullmatch(identifier)
    if match is None:
        plat = identifier.split("-", 1)[-1]
        return Expected(platform, (f"*-*-{_identifier_platform(plat)}",), identifier)
    plat = _identifier_platform(match["plat"])
    version = match["major"] + match["minor"]
    if match["impl"] == "pp":
        return Expected(platform, (f"pp{version}-*-{plat}",))
    if match["impl"] == "gp":
        return Expected(platform, (f"graalpy{version}-*-{plat}",))
    native = f"cp{version}-cp{version}{match['ft']}-{plat}"
    if match["ft"]:
        return Expected(platform, (native,))
    major, minor = match["major"], int(match["minor"])
    abi3 = tuple(f"cp{major}{m}-abi3-{plat}" for m in range(minor, 1, -1))
    shown = f"{native} (or cp{major}Y-abi3-{plat}, Y <= {minor})"
    return Expected(platform, (native, *abi3), shown)


def cibuildwheel_entries(config: ReleaseConfig, runner: Runner) -> tuple[list[Expected], str]:
    entries = []
    listed = []
    for platform in PLATFORMS:
        identifiers = build_identifiers(config, runner, platform)
        entries += [entry_for_identifier(i, platform) for i in identifiers]
        listed.append(f"{platform}: {', '.join(identifiers) or 'none'}")
    return entries, f"cibuildwheel --print-build-identifiers ({'; '.join(listed)})"


# --- maturin -------------------------------------------------------------------------------

_PYO3_CRATES = ("pyo3", "pyo3-ffi")
_ABI3_FEATURE = re.compile(r"abi3(?:-py(?P<major>\d)(?P<minor>\d+))?")


def _dependency_features(
    name: str, manifest_data: Mapping[str, Any], workspace_data: Mapping[str, Any]
) -> list[str]:
    dependency = manifest_data.get("dependencies", {}).get(name)
    if not isinstance(dependency, dict):
        return []
    features = list(dependency.get("features", []))
    if inherits_from_workspace(dependency):
        inherited = workspace_data.get("workspace", {}).get("dependencies", {}).get(name)
        if isinstance(inherited, dict):
            features += inherited.get("features", [])
    return features


def _enabled_crate_features(
    manifest_data: Mapping[str, Any], requested: Iterable[str]
) -> list[str]:
    """The crate's own features that ``default`` and ``requested`` switch on, transitively,
    as Cargo resolves them (``abi3 = ["pyo3/abi3-py39"]``, ``default = ["abi3"]``)."""
    table = manifest_data.get("features", {})
    pending = ["default", *requested]
    enabled: list[str] = []
    while pending:
        feature = pending.pop()
        if feature in enabled:
            continue
        enabled.append(feature)
        pending += [f for f in table.get(feature, []) if isinstance(f, str)]
    return enabled


def _pyo3_features(config: ReleaseConfig) -> tuple[list[str], str]:
    """Every pyo3/pyo3-ffi feature the build enables, and the manifest that says so."""
    manifest = cargo_manifest_path(config)
    data = read_cargo_manifest(manifest, config)
    root = find_workspace_root(manifest, data)
    workspace = read_toml(root) if root is not None else {}
    features = [f for crate in _PYO3_CRATES for f in _dependency_features(crate, data, workspace)]
    maturin = config.package.raw.get("tool", {}).get("maturin", {})
    requested = [f for f in maturin.get("features", []) if isinstance(f, str)]
    for feature in _enabled_crate_features(data, requested):
        crate, _, crate_feature = feature.partition("/")
        if crate.rstrip("?") in _PYO3_CRATES and crate_feature:
            features.append(crate_feature)
    return features, shown_path(manifest, config.project_root)


def abi3_python_tag(config: ReleaseConfig) -> tuple[str | None, str]:
    """``("cp39", why)`` for an abi3 build with abi3-py39; ``("cp3*", ...)`` for plain abi3
    (maturin then tags the building interpreter's version); ``(None, why)`` without abi3."""
    features, manifest = _pyo3_features(config)
    minimums = []
    bare = False
    for feature in features:
        match = _ABI3_FEATURE.fullmatch(feature)
        if match is None:
            continue
        if match["major"] is None:
            bare = True
        else:
            minimums.append((int(match["major"]), int(match["minor"])))
    if minimums:
        # pyo3's abi3-py38 switches on abi3-py39 and up: the lowest one decides the tag.
        major, minor = min(minimums)
        return f"cp{major}{minor}", f"pyo3 feature abi3-py{major}{minor} in {manifest}"
    if bare:
        return "cp3*", f"pyo3 feature abi3 in {manifest}"
    return None, f"no pyo3 abi3 feature in {manifest}"


def maturin_entries(config: ReleaseConfig) -> tuple[list[Expected], str]:
    abi3, why = abi3_python_tag(config)
    python_abi = f"{abi3}-abi3" if abi3 is not None else "cp3*-cp3*"
    major, minor = config.linux.glibc
    linux = f"{python_abi}-manylinux_{major}_{minor}_{MATURIN_LINUX_ARCH}"
    target = config.windows.target or "x86_64-pc-windows-msvc"
    windows_platform = _WINDOWS_PLATFORMS.get(target.split("-", 1)[0], "win_amd64")
    windows = f"{python_abi}-{windows_platform}"
    source = f"maturin: {why}; Linux floor {config.linux.policy}; Windows target {target}"
    return [Expected("linux", (linux,)), Expected("windows", (windows,))], source


# --- what is expected ----------------------------------------------------------------------


def expected_wheels(config: ReleaseConfig, runner: Runner) -> tuple[list[Expected] | None, str]:
    """The wheels the release must contain, and where that expectation comes from.

    ``(None, why)`` when nothing can be derived (the ``build`` backend without a
    ``[tool.release.wheels]`` table, or a maturin crate whose Cargo.toml cannot be read).
    A failing cibuildwheel raises :class:`CommandFailedError` / :class:`ToolNotFoundError`.
    """
    if config.wheels is not None:
        pyproject = shown_path(config.pyproject, config.project_root)
        return configured_entries(config), f"[tool.release.wheels] in {pyproject}"
    if config.backend == "cibuildwheel":
        return cibuildwheel_entries(config, runner)
    if config.backend == "maturin":
        try:
            return maturin_entries(config)
        except ConfigError as exc:
            return None, f"could not derive maturin's wheels: {exc.cause}"
    return None, (
        f"the {config.backend} backend does not say which wheels it builds; list them in "
        "[tool.release.wheels] to have the set checked"
    )


# --- the wheel-set check -------------------------------------------------------------------


def _platform_of(tags: Sequence[str]) -> str:
    return "windows" if any(tag.split("-")[-1].startswith("win") for tag in tags) else "linux"


def _missing(entry: Expected, skipped_platforms: Mapping[str, str], strict: bool) -> Finding:
    what = f"the {entry.platform} wheel {entry.describe()} is missing"
    reason = skipped_platforms.get(entry.platform)
    if reason is None:
        return Finding(
            "error",
            WHEEL_SET,
            None,
            f"{what}; check the build-{entry.platform} output and record, or change the "
            f"expected set ([tool.release.wheels] {entry.platform})",
        )
    skipped = f"build-{entry.platform} was skipped here: {reason.rstrip('.')}; {what}"
    if strict:
        return Finding(
            "error",
            WHEEL_SET,
            None,
            f"{skipped}; --strict counts it as missing: build it where build-{entry.platform} "
            "runs and put it in the dist dir",
        )
    return Finding("warning", WHEEL_SET, None, skipped)


def check_wheel_set(
    expected: list[Expected] | None,
    wheel_names: Sequence[str],
    *,
    skipped_platforms: Mapping[str, str],
    strict: bool,
    source: str = "",
) -> list[Finding]:
    """Missing, unexpected and duplicate wheels, and a summary with the counts.

    ``skipped_platforms`` maps a platform whose build stage was skipped on this machine to
    the reason: its missing wheels are warnings, unless ``strict``. ``source`` is where the
    expectation came from (second item of :func:`expected_wheels`), for the summary.
    """
    findings: list[Finding] = []
    wheels: dict[str, list[str]] = {}
    for name in wheel_names:
        try:
            wheels[name] = wheel_tags(name)
        except InvalidWheelFilename as exc:
            findings.append(
                Finding("error", WHEEL_SET, name, f"not a valid wheel file name ({exc}); "
                        "rebuild it with the backend, do not rename wheels")
            )  # fmt: skip
    if expected is None:
        why = f": {source}" if source else ""
        findings.append(
            Finding("info", WHEEL_SET, None,
                    f"no expected wheel set{why}; found {len(wheels)} wheels")
        )  # fmt: skip
        return findings

    counts = {"missing": 0, "unexpected": 0, "duplicate": 0}
    matched: set[str] = set()
    for entry in expected:
        hits = [name for name, tags in wheels.items() if entry.matches(tags)]
        matched.update(hits)
        if not hits:
            counts["missing"] += 1
            findings.append(_missing(entry, skipped_platforms, strict))
        elif len(hits) > 1:
            counts["duplicate"] += 1
            findings.append(
                Finding(
                    "error",
                    WHEEL_SET,
                    None,
                    f"{len(hits)} wheels match the one expected {entry.platform} wheel "
                    f"{entry.describe()}: {', '.join(hits)}; keep one and remove the others "
                    "from the dist dir",
                )
            )
    for name, tags in wheels.items():
        if name not in matched:
            counts["unexpected"] += 1
            findings.append(
                Finding(
                    "error",
                    WHEEL_SET,
                    name,
                    f"unexpected wheel {name}: no expected wheel matches its tags "
                    f"({', '.join(tags)}); remove it from the dist dir, or add it to "
                    f"[tool.release.wheels] {_platform_of(tags)}",
                )
            )
    problems = ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    findings.append(
        Finding(
            "info",
            WHEEL_SET,
            None,
            f"expected {len(expected)} wheels, found {len(wheels)}"
            f"{' (' + problems + ')' if problems else ''}"
            f"{'; expected set from ' + source if source else ''}",
        )
    )
    return findings


# --- platform tags PyPI refuses ------------------------------------------------------------

# Mirrors PyPI's upload check (warehouse/forklift/legacy.py, _valid_platform_tag).
_ALLOWED_PLATFORMS = {
    "any", "win32", "win_amd64", "win_arm64", "win_ia64",
    "manylinux1_x86_64", "manylinux1_i686", "manylinux2010_x86_64", "manylinux2010_i686",
    "manylinux2014_x86_64", "manylinux2014_i686", "manylinux2014_aarch64",
    "manylinux2014_armv7l", "manylinux2014_ppc64", "manylinux2014_ppc64le",
    "manylinux2014_s390x",
    # Raspberry Pi wheels (piwheels): the only plain linux_* tags PyPI takes.
    "linux_armv6l", "linux_armv7l",
}  # fmt: skip
_MUSLLINUX_ARCHES = ("x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64")
_MANYLINUX_ARCHES = (*_MUSLLINUX_ARCHES, "ppc64")
_MACOSX_ARCHES = {"ppc", "ppc64", "i386", "x86_64", "arm64", "intel", "fat", "fat3", "fat64",
                  "universal", "universal2"}  # fmt: skip
_LINUX = re.compile(r"(?P<libc>many|musl)linux_\d+_\d+_(?P<arch>.+)")
_LEGACY_MANYLINUX = re.compile(r"manylinux(1|2010|2014)_(?P<arch>.+)")
_MACOSX = re.compile(r"macosx_(?P<major>\d+)_(?P<minor>\d+)_(?P<arch>.+)")
_OTHER_ACCEPTED = (
    re.compile(r"ios_\d+_\d+_(arm64|x86_64)_(iphoneos|iphonesimulator)"),
    re.compile(r"android_\d+_(armeabi_v7a|arm64_v8a|x86|x86_64)"),
    re.compile(r"pyemscripten_\d+_\d+_wasm32"),
)


def pypi_accepts(platform: str) -> bool:
    if platform in _ALLOWED_PLATFORMS:
        return True
    linux = _LINUX.fullmatch(platform)
    if linux is not None:
        arches = _MANYLINUX_ARCHES if linux["libc"] == "many" else _MUSLLINUX_ARCHES
        return linux["arch"] in arches
    macosx = _MACOSX.fullmatch(platform)
    if macosx is not None:
        # macOS 10.x counted minors; from 11 on, only major_0 exists.
        new_scheme_ok = int(macosx["major"]) >= 11 and macosx["minor"] == "0"
        return macosx["arch"] in _MACOSX_ARCHES and (macosx["major"] == "10" or new_scheme_ok)
    return any(pattern.fullmatch(platform) for pattern in _OTHER_ACCEPTED)


def _refusal_remedy(platform: str) -> str:
    linux_arch = platform[len("linux_") :] if platform.startswith("linux_") else None
    if linux_arch in _MANYLINUX_ARCHES:
        return (
            "a plain linux tag means the wheel was not repaired: run auditwheel repair on it "
            f"(it retags it manylinux_X_Y_{linux_arch} and bundles the shared libraries it "
            "needs), or build with the backend's manylinux support"
        )
    match = _LINUX.fullmatch(platform) or _LEGACY_MANYLINUX.fullmatch(platform)
    if match is not None or linux_arch is not None:
        arches = ", ".join(_MANYLINUX_ARCHES)
        return f"PyPI takes Linux wheels only for {arches}; build for one of those"
    return (
        "PyPI takes only the platform tags any, win32, win_amd64, win_arm64, manylinux, "
        "musllinux, macosx, ios and android ones; build the wheel for one of those"
    )


def check_pypi_tags(wheel_names: Sequence[str]) -> list[Finding]:
    """An error for each platform tag of each wheel that PyPI would refuse at upload."""
    findings = []
    for name in wheel_names:
        try:
            _, _, _, tags = parse_wheel_filename(name)
        except InvalidWheelFilename as exc:
            findings.append(
                Finding("error", PYPI_TAGS, name,
                        f"PyPI refuses {name}: not a valid wheel file name ({exc})")
            )  # fmt: skip
            continue
        for platform in sorted({tag.platform for tag in tags}):
            if not pypi_accepts(platform):
                findings.append(
                    Finding(
                        "error",
                        PYPI_TAGS,
                        name,
                        f"PyPI refuses {name}: platform tag {platform}; "
                        f"{_refusal_remedy(platform)}",
                    )
                )
    return findings
