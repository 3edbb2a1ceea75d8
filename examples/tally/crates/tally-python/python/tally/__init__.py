"""tally: tiny text statistics and checksums, implemented in Rust."""

from importlib.metadata import PackageNotFoundError, version

from ._tally import adler32, line_count, word_count

try:
    __version__ = version("tally")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__", "adler32", "line_count", "word_count"]
