"""Which DLLs a Windows wheel may import without bundling them: the policy the windows-dlls
check applies.

The policy is ../shared/reference/windows-dlls.md: the interpreter's own DLL (the one every
CPython of the wheel's tag has: python3.dll for abi3, never one version's), the API sets
the loader resolves itself, the system DLLs every supported Windows has, and the Visual C++
runtime that CPython ships (VCRUNTIME140 and VCRUNTIME140_1 only: CPython does not ship
MSVCP140, and nobody ships the MinGW runtime). Everything else must be in the wheel, or named
in ``[tool.release.windows] allow-dlls``. Names compare case-insensitively, as Windows does.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from packaging.tags import Tag

INTERPRETER = "interpreter"
SYSTEM = "system"
OTHER = "other"

# python3.dll (the stable ABI) or python3XX.dll (one CPython version).
# python3.dll (abi3), python311.dll, python313t.dll (free-threaded), libpypy3.10-c.dll (PyPy).
_INTERPRETER_DLL = re.compile(r"python3(\d+t?)?\.dll|libpypy3(\.\d+)?-c\.dll")
_API_SET_PREFIXES = ("api-ms-win-", "ext-ms-win-")

VC_RUNTIME_SHIPPED_WITH_PYTHON = frozenset({"vcruntime140.dll", "vcruntime140_1.dll"})

# DLLs in System32 of every Windows that CPython 3.9+ supports (Windows 8.1 / 10 and later),
# limited to the ones native extensions are seen to import. Not here on purpose: DLLs that
# come with drivers or redistributables (vulkan-1, OpenCL, nvcuda, d3dx9_*, msvcp140, the
# MinGW runtime), which a user's machine may lack.
# winspool is imported by its file name, winspool.drv.
SYSTEM_DLLS = frozenset({
    "kernel32.dll", "kernelbase.dll", "ntdll.dll", "user32.dll", "gdi32.dll", "gdi32full.dll",
    "win32u.dll", "advapi32.dll", "sechost.dll", "shell32.dll", "shcore.dll", "shlwapi.dll",
    "ole32.dll", "oleaut32.dll", "combase.dll", "olepro32.dll", "oledlg.dll",
    "rpcrt4.dll", "ws2_32.dll", "wsock32.dll", "mswsock.dll", "iphlpapi.dll", "dnsapi.dll",
    "dhcpcsvc.dll", "dhcpcsvc6.dll", "winhttp.dll", "wininet.dll", "urlmon.dll", "netapi32.dll",
    "netutils.dll", "srvcli.dll", "wkscli.dll", "mpr.dll", "wldap32.dll", "normaliz.dll",
    "fwpuclnt.dll", "crypt32.dll", "cryptbase.dll", "cryptsp.dll", "cryptui.dll", "bcrypt.dll",
    "bcryptprimitives.dll", "ncrypt.dll", "msasn1.dll", "wintrust.dll", "secur32.dll",
    "sspicli.dll", "credui.dll", "dpapi.dll", "authz.dll", "msvcrt.dll", "ucrtbase.dll",
    "version.dll", "userenv.dll", "profapi.dll", "psapi.dll", "dbghelp.dll", "dbgcore.dll",
    "imagehlp.dll", "winmm.dll", "winmmbase.dll", "msacm32.dll", "avrt.dll", "ksuser.dll",
    "mmdevapi.dll", "dsound.dll", "dinput8.dll", "xinput1_4.dll", "xinput9_1_0.dll", "hid.dll",
    "setupapi.dll", "cfgmgr32.dll", "devobj.dll", "newdev.dll", "winusb.dll", "powrprof.dll",
    "wtsapi32.dll", "comctl32.dll", "comdlg32.dll", "imm32.dll", "msctf.dll", "usp10.dll",
    "uxtheme.dll", "dwmapi.dll", "msimg32.dll", "gdiplus.dll", "windowscodecs.dll",
    "opengl32.dll", "glu32.dll", "d2d1.dll", "dwrite.dll", "d3d9.dll", "d3d10.dll", "d3d10_1.dll",
    "d3d11.dll", "d3d12.dll", "dxgi.dll", "dxcore.dll", "d3dcompiler_47.dll", "mf.dll",
    "mfplat.dll", "mfreadwrite.dll", "propsys.dll", "wevtapi.dll", "pdh.dll",
    "tdh.dll", "winscard.dll", "tbs.dll", "rstrtmgr.dll", "virtdisk.dll", "esent.dll",
    "activeds.dll", "adsldpc.dll", "odbc32.dll", "clbcatq.dll", "msi.dll", "wer.dll",
    "wlanapi.dll", "rasapi32.dll", "snmpapi.dll", "mscoree.dll", "ntdsapi.dll", "samcli.dll",
    "logoncli.dll", "dsrole.dll", "nsi.dll", "bluetoothapis.dll", "winspool.drv",
})  # fmt: skip


def is_interpreter_dll(dll_name: str) -> bool:
    return _INTERPRETER_DLL.fullmatch(dll_name.lower()) is not None


# The DLL each CPython build provides, by wheel tag (platforms.md, sections 6 and 7): the stable
# ABI links python3.dll, abi3t python3t.dll, a version-specific build python3XY.dll (python3XYt.dll
# free-threaded), which may also use the stable ABI's DLL of its build.
_CPYTHON = re.compile(r"cp3(\d+)")


def _provided_by(tag: Tag) -> frozenset[str] | None:
    """The interpreter DLLs every CPython a tag installs on has; None if the tag does not say
    (PyPy, ``py3``, an ABI nox-release does not know)."""
    version = _CPYTHON.fullmatch(tag.interpreter)
    if version is None:
        return None
    minor = version[1]
    if tag.abi == "abi3":
        return frozenset({"python3.dll"})
    if tag.abi == "abi3t":
        return frozenset({"python3t.dll"})
    if tag.abi in (f"cp3{minor}", "none"):
        return frozenset({f"python3{minor}.dll", "python3.dll"})
    if tag.abi == f"cp3{minor}t":
        return frozenset({f"python3{minor}t.dll", "python3t.dll"})
    return None


def interpreter_dlls_for(tags: Collection[Tag]) -> frozenset[str] | None:
    """The interpreter DLLs a wheel with ``tags`` may import (lower case), or None when its
    tags do not say. A tag set (``cp315-abi3.abi3t``) takes what any of its tags provides."""
    provided: set[str] = set()
    for tag in tags:
        by_tag = _provided_by(tag)
        if by_tag is None:
            return None
        provided |= by_tag
    return frozenset(provided) if provided else None


_VERSION_DLL = re.compile(r"python3(\d+)(t?)\.dll")


def tag_for_interpreter_dll(dll_name: str) -> str | None:
    """The python and ABI tags of the one CPython a version-specific DLL belongs to
    (``python39.dll`` -> ``cp39-cp39``), or None for the stable ABI's DLLs and PyPy's."""
    found = _VERSION_DLL.fullmatch(dll_name.lower())
    if found is None:
        return None
    return f"cp3{found[1]}-cp3{found[1]}{found[2]}"


def is_system_dll(dll_name: str, allow: Collection[str] = ()) -> bool:
    name = dll_name.lower()
    return (
        name.startswith(_API_SET_PREFIXES)
        or name in SYSTEM_DLLS
        or name in VC_RUNTIME_SHIPPED_WITH_PYTHON
        or name in {allowed.lower() for allowed in allow}
    )


def classify(dll_name: str, allow: Collection[str] = ()) -> str:
    """``"interpreter"``, ``"system"`` (including ``allow``), or ``"other"`` (must be bundled)."""
    if is_interpreter_dll(dll_name):
        return INTERPRETER
    if is_system_dll(dll_name, allow):
        return SYSTEM
    return OTHER


# Where the DLLs users most often forget come from, for the remedy of a missing-DLL finding.
_MINGW_RUNTIME = re.compile(r"lib(gcc_s_\w+-1|winpthread-1|stdc\+\+-6|gomp-1|quadmath-0)\.dll")


def where_to_get(dll_name: str) -> str | None:
    """A hint on where a commonly missing DLL comes from, or None."""
    name = dll_name.lower()
    if _MINGW_RUNTIME.fullmatch(name):
        return f"{dll_name} is part of the MinGW-w64 runtime (MSYS2's mingw64/bin)"
    if name.startswith("msvcp140"):
        return (
            f"{dll_name} is the Visual C++ standard library, which CPython does not ship "
            "(delvewheel repair bundles it)"
        )
    return None
