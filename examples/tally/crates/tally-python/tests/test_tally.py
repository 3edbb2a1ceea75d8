"""Tests of the built and installed ``tally`` package."""

import zlib

import pytest

import tally


def test_version_matches_workspace():
    assert tally.__version__ == "0.3.1"


def test_extension_is_compiled():
    from tally import _tally

    assert _tally.__file__.endswith((".so", ".pyd"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0), ("one", 1), ("  the quick\tbrown\nfox  ", 4)],
)
def test_word_count(text, expected):
    assert tally.word_count(text) == expected


def test_line_count_matches_splitlines():
    text = "one\ntwo\r\nthree\n"
    assert tally.line_count(text) == len(text.splitlines()) == 3


@pytest.mark.parametrize(
    "data", [b"", b"Wikipedia", bytes(range(256)) * 50, b"\xff" * 100_000]
)
def test_adler32_matches_zlib(data):
    assert tally.adler32(data) == zlib.adler32(data)


def test_adler32_rejects_str():
    with pytest.raises(TypeError):
        tally.adler32("not bytes")
