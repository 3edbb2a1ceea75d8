"""pypi-tags: no platform tag that PyPI refuses at upload.

The rules mirror Warehouse's upload check (``warehouse/forklift/legacy.py``,
``_valid_platform_tag``): a refused tag is found here, not halfway through an upload.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..dists import Distribution
from ..records import Finding
from .base import Check, CheckContext

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


def refusal_remedy(platform: str) -> str:
    linux_arch = platform[len("linux_") :] if platform.startswith("linux_") else None
    if linux_arch in _MANYLINUX_ARCHES:
        return (
            "a plain linux tag means the wheel was not repaired: run auditwheel repair on it "
            f"(it retags it manylinux_X_Y_{linux_arch} and bundles the shared libraries it "
            "needs), or build with the backend's manylinux support."
        )
    match = _LINUX.fullmatch(platform) or _LEGACY_MANYLINUX.fullmatch(platform)
    if match is not None or linux_arch is not None:
        arches = ", ".join(_MANYLINUX_ARCHES)
        return f"PyPI takes Linux wheels only for {arches}: build for one of those."
    return (
        "PyPI takes only the platform tags any, win32, win_amd64, win_arm64, manylinux, "
        "musllinux, macosx, ios and android ones: build the wheel for one of those."
    )


class PypiTagsCheck(Check):
    name = "pypi-tags"

    def applies_to(self, dist: Distribution) -> bool:
        return dist.is_wheel and dist.name_problem is None

    def run(self, dists: Sequence[Distribution], ctx: CheckContext) -> list[Finding]:
        return [
            self.error(
                f"PyPI refuses platform tag {platform}", dist.filename, refusal_remedy(platform)
            )
            for dist in dists
            for platform in sorted(dist.platforms)
            if not pypi_accepts(platform)
        ]
