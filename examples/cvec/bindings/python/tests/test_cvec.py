from __future__ import annotations

import math
import sys
from pathlib import Path

import cvec
import pytest
from cvec import _speedups


def test_version() -> None:
    assert cvec.__version__ == "1.4.9"
    assert cvec.library_version() == "1.4.9"


def test_library_ships_inside_package() -> None:
    pkg_dir = Path(cvec.__file__).resolve().parent
    lib = cvec.library_path()
    assert lib.parent == pkg_dir
    expected = {"win32": "vecops.dll", "darwin": "libvecops.dylib"}.get(
        sys.platform, "libvecops.so"
    )
    assert lib.name == expected
    assert lib.is_file()


def test_extension_is_compiled() -> None:
    assert Path(_speedups.__file__).suffix in {".so", ".pyd"}
    assert _speedups.fsum_list is cvec.fsum_list


def test_dot() -> None:
    assert cvec.dot([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == 32.0
    assert cvec.dot([], []) == 0.0
    assert cvec.dot((1, 2), (3, 4)) == 11.0


def test_dot_length_mismatch() -> None:
    with pytest.raises(ValueError, match="length mismatch"):
        cvec.dot([1.0], [1.0, 2.0])


def test_norm() -> None:
    assert cvec.norm([3.0, 4.0]) == 5.0
    assert cvec.norm([]) == 0.0
    assert cvec.norm([-2.0]) == 2.0
    # scaled: the naive sum of squares would overflow to inf
    assert cvec.norm([3e200, 4e200]) == pytest.approx(5e200)
    assert math.isnan(cvec.norm([1.0, math.nan]))
    assert math.isinf(cvec.norm([1.0, -math.inf]))


def test_axpy() -> None:
    y = [0.5, 1.5]
    assert cvec.axpy(2.0, [1.0, 1.0], y) == [2.5, 3.5]
    assert y == [0.5, 1.5]


def test_fsum_list() -> None:
    assert cvec.fsum_list([0.5, 1.5, 2]) == 4.0
    assert cvec.fsum_list([]) == 0.0
    assert cvec.fsum_list((1.25, 2.75)) == 4.0
    assert isinstance(cvec.fsum_list([1]), float)


def test_fsum_list_errors() -> None:
    with pytest.raises(TypeError):
        cvec.fsum_list(3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cvec.fsum_list([1.0, "x"])  # type: ignore[list-item]
