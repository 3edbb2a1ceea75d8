"""Dataclasses to and from plain dicts (JSON records, TOML tables), driven by their fields.

The field annotations are the schema: ``from_dict`` checks every value against its field's
type and fills the defaults, ``to_dict`` writes every field. Records and the configuration
both use it, so a field added to a dataclass is read, checked and written with no other
change. Annotations are read as text (``from __future__ import annotations`` everywhere),
which also works on Python 3.9, where ``str | None`` cannot be evaluated.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePath
from typing import Any, TypeVar

T = TypeVar("T")

_SCALARS: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (float, int),
    "bool": (bool,),
}
_GENERIC = re.compile(r"(?P<origin>\w+)\[(?P<args>.*)\]", re.DOTALL)


class FieldError(ValueError):
    """A value that does not fit its field; ``path`` is the chain of keys leading to it."""

    def __init__(self, path: Sequence[str], problem: str) -> None:
        super().__init__(f"{'.'.join(path) or '(top)'}: {problem}")
        self.path = tuple(path)
        self.problem = problem


class WrongType(FieldError):
    def __init__(self, path: Sequence[str], expected: str, value: object) -> None:
        super().__init__(path, f"must be {expected}, got {type(value).__name__}")
        self.expected = expected
        self.value = value


class UnknownKey(FieldError):
    def __init__(self, path: Sequence[str], valid: Sequence[str]) -> None:
        super().__init__(path, "unknown key")
        self.valid = tuple(valid)


class MissingKey(FieldError):
    def __init__(self, path: Sequence[str]) -> None:
        super().__init__(path, "missing")


# --- writing -------------------------------------------------------------------------------


def to_dict(obj: object, *, key: Callable[[str], str] = str) -> dict[str, Any]:
    """Every field of the dataclass ``obj``, nested dataclasses and sequences included."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"not a dataclass instance: {obj!r}")
    return {key(f.name): _dump(getattr(obj, f.name), key) for f in dataclasses.fields(obj)}


def _dump(value: object, key: Callable[[str], str]) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value, key=key)
    if isinstance(value, (list, tuple)):
        return [_dump(item, key) for item in value]
    if isinstance(value, dict):
        return {k: _dump(v, key) for k, v in value.items()}
    if isinstance(value, PurePath):
        return str(value)
    return value


# --- reading -------------------------------------------------------------------------------


def from_dict(
    cls: type[T],
    data: object,
    *,
    key: Callable[[str], str] = str,
    allow_unknown: bool = False,
    path: Sequence[str] = (),
) -> T:
    """An instance of the dataclass ``cls`` from ``data``, every value checked.

    ``key`` maps a field name to its key in ``data`` (``package_dir`` -> ``package-dir``).
    Raises a :class:`FieldError` subclass naming the path of the offending value.
    """
    if not isinstance(data, Mapping):
        raise WrongType(path, "a table", data)
    namespace = vars(sys.modules[cls.__module__])
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    known = {key(f.name): f for f in fields}
    if not allow_unknown:
        for name in data:
            if name not in known:
                raise UnknownKey([*path, str(name)], sorted(known))
    values: dict[str, Any] = {}
    for name, f in known.items():
        if name in data:
            values[f.name] = _load(str(f.type), data[name], [*path, name], namespace, key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise MissingKey([*path, name])
    return cls(**values)


def describe(annotation: str, namespace: Mapping[str, Any] | None = None) -> str:
    """How a message names the type a field expects: ``tuple[str, ...]`` -> a list of strings."""
    text = annotation.strip()
    options = [part for part in _split(text, "|") if part != "None"]
    if len(options) > 1:
        return " or ".join(describe(o, namespace) for o in options)
    text = options[0] if options else text
    generic = _GENERIC.fullmatch(text)
    if generic is not None:
        origin, args = generic["origin"], _split(generic["args"], ",")
        if origin in ("list", "tuple"):
            return f"a list of {plural(describe(args[0], namespace))}"
        if origin == "dict":
            return "a table"
    return {
        "str": "a string",
        "int": "an integer",
        "float": "a number",
        "bool": "a boolean (true or false)",
        "Any": "any value",
    }.get(text, "a table")


def plural(description: str) -> str:
    """``a string`` -> ``strings``."""
    return description.removeprefix("a ").removeprefix("an ") + "s"


def _split(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "["
        depth -= char == "]"
        if char == separator and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def _load(
    annotation: str,
    value: object,
    path: list[str],
    namespace: Mapping[str, Any],
    key: Callable[[str], str],
) -> object:
    text = annotation.strip()
    options = _split(text, "|")
    if len(options) > 1:
        if value is None and "None" in options:
            return None
        rest = [o for o in options if o != "None"]
        if len(rest) == 1:
            return _load(rest[0], value, path, namespace, key)
        for option in rest:
            try:
                return _load(option, value, path, namespace, key)
            except FieldError:
                continue
        raise WrongType(path, describe(text, namespace), value)
    if text == "Any":
        return value
    if text in _SCALARS:
        ok = isinstance(value, _SCALARS[text]) and (text == "bool" or not isinstance(value, bool))
        if not ok:
            raise WrongType(path, describe(text), value)
        return float(value) if text == "float" else value  # type: ignore[arg-type]
    generic = _GENERIC.fullmatch(text)
    if generic is not None:
        args = _split(generic["args"], ",")
        return _load_generic(
            generic["origin"], args, value, path=path, namespace=namespace, key=key
        )
    target = namespace.get(text)
    if isinstance(target, type) and dataclasses.is_dataclass(target):
        return from_dict(target, value, key=key, path=path)
    raise TypeError(f"datamodel cannot read fields of type {text!r}")  # a bug, not bad data


def _load_generic(
    origin: str,
    args: list[str],
    value: object,
    *,
    path: list[str],
    namespace: Mapping[str, Any],
    key: Callable[[str], str],
) -> object:
    if origin in ("list", "tuple"):
        if not isinstance(value, list):
            raise WrongType(path, describe(f"{origin}[{args[0]}]", namespace), value)
        items = [
            _load(args[0], item, [*path, f"[{i}]"], namespace, key) for i, item in enumerate(value)
        ]
        return tuple(items) if origin == "tuple" else items
    if origin == "dict":
        if not isinstance(value, Mapping):
            raise WrongType(path, "a table", value)
        return {
            str(k): _load(args[1], v, [*path, str(k)], namespace, key) for k, v in value.items()
        }
    raise TypeError(f"datamodel cannot read fields of type {origin}[...]")
