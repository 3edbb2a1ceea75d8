"""cvec: vector operations backed by native code.

Two kinds of native code ship inside this package directory:

* the ``vecops`` shared library (``libvecops.so`` on Linux, ``vecops.dll`` on
  Windows, ``libvecops.dylib`` on macOS), a plain C library loaded here at run
  time with :mod:`ctypes`, by its full path next to this file;
* ``cvec._speedups``, a CPython extension module (``fsum_list``).
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from pathlib import Path
from typing import Any

from ._speedups import fsum_list

try:
    # The distribution's name, not the module's: cvec on PyPI is another project.
    __version__ = _dist_version("cvec-demo")
except PackageNotFoundError:  # not installed (e.g. imported from a build tree)
    __version__ = "0+unknown"

__all__ = [
    "__version__",
    "axpy",
    "dot",
    "fsum_list",
    "library_path",
    "library_version",
    "norm",
]

_PKG_DIR = Path(__file__).resolve().parent

# Keeps the os.add_dll_directory() registration alive on Windows.
_dll_directory: Any = None


def _candidate_names() -> tuple[str, ...]:
    if sys.platform == "win32":
        # CMake sets PREFIX "" so MSVC and MinGW builds are both vecops.dll.
        return ("vecops.dll", "libvecops.dll")
    if sys.platform == "darwin":
        return ("libvecops.dylib",)
    return ("libvecops.so",)


def _load_vecops() -> tuple[ctypes.CDLL, Path]:
    for name in _candidate_names():
        path = _PKG_DIR / name
        if path.is_file():
            break
    else:
        names = ", ".join(_candidate_names())
        msg = f"cvec: native library not found in {_PKG_DIR} (looked for {names})"
        raise ImportError(msg)

    if sys.platform == "win32":
        global _dll_directory  # noqa: PLW0603
        # Since Python 3.8, PATH is not searched for the dependencies of a
        # DLL; register the package directory so that anything vecops.dll
        # depends on (or a DLL vendored next to it) is found.
        _dll_directory = os.add_dll_directory(str(_PKG_DIR))

    # Always load by absolute path: nothing relies on LD_LIBRARY_PATH, RPATH
    # or the DLL search order to find the library itself.
    return ctypes.CDLL(str(path)), path


_lib, _lib_path = _load_vecops()

_c_double_p = ctypes.POINTER(ctypes.c_double)

_lib.vecops_version.argtypes = []
_lib.vecops_version.restype = ctypes.c_char_p

_lib.vecops_dot.argtypes = [_c_double_p, _c_double_p, ctypes.c_size_t]
_lib.vecops_dot.restype = ctypes.c_double

_lib.vecops_norm.argtypes = [_c_double_p, ctypes.c_size_t]
_lib.vecops_norm.restype = ctypes.c_double

_lib.vecops_axpy.argtypes = [ctypes.c_double, _c_double_p, _c_double_p, ctypes.c_size_t]
_lib.vecops_axpy.restype = None


def _as_c_array(values: Sequence[float]) -> ctypes.Array[ctypes.c_double]:
    return (ctypes.c_double * len(values))(*(float(v) for v in values))


def library_path() -> Path:
    """Absolute path of the loaded vecops shared library."""
    return _lib_path


def library_version() -> str:
    """Version string compiled into the vecops C library."""
    raw: bytes = _lib.vecops_version()
    return raw.decode("ascii")


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    """Dot product of two equally long sequences of floats."""
    if len(a) != len(b):
        msg = f"dot: length mismatch ({len(a)} != {len(b)})"
        raise ValueError(msg)
    result: float = _lib.vecops_dot(_as_c_array(a), _as_c_array(b), len(a))
    return result


def norm(a: Sequence[float]) -> float:
    """Euclidean (L2) norm of a sequence of floats."""
    result: float = _lib.vecops_norm(_as_c_array(a), len(a))
    return result


def axpy(alpha: float, x: Sequence[float], y: Sequence[float]) -> list[float]:
    """Return ``alpha * x + y`` as a new list (the inputs are not modified)."""
    if len(x) != len(y):
        msg = f"axpy: length mismatch ({len(x)} != {len(y)})"
        raise ValueError(msg)
    out = _as_c_array(y)
    _lib.vecops_axpy(float(alpha), _as_c_array(x), out, len(x))
    return list(out)
