"""TOML files, read once and reported by path when they are not valid."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ..errors import InvalidTomlError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

_BOM = b"\xef\xbb\xbf"


def read_toml(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InvalidTomlError(
            f"{path} is a directory, not a TOML file.", f"remove or rename the directory {path}."
        ) from None
    except PermissionError as exc:
        raise InvalidTomlError(
            f"{path} cannot be read ({exc.strerror}).", f"make {path} readable for this user."
        ) from None
    return parse_toml(data, str(path))


def parse_toml(data: bytes, where: str) -> dict[str, Any]:
    """TOML from bytes; ``where`` names the file in the error."""
    if data.startswith(_BOM):
        # TOML forbids a byte order mark; tomllib then reports "Invalid statement (line 1,
        # column 1)", which sends the user looking at the wrong thing.
        raise InvalidTomlError(
            f"{where} starts with a UTF-8 byte order mark (BOM), which TOML does not allow.",
            "save the file as UTF-8 without BOM (in most editors: encoding 'UTF-8', not "
            "'UTF-8 with BOM').",
        )
    try:
        # tomllib decodes before parsing, so bad UTF-8 would escape TOMLDecodeError.
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidTomlError(
            f"{where} is not valid TOML: it is not UTF-8 ({exc}).", "save the file as UTF-8."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidTomlError(
            f"{where} is not valid TOML: {exc}.", "fix the syntax at the position shown."
        ) from exc
