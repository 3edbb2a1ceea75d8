"""What a ``setup.py`` says, read as text (its syntax tree), never run.

Running it would run the project's code, at init time, with whatever it imports; and most of
what nox-release needs (the name, the version, whether it compiles extensions) is written in
it as literals, or one step away from one: a module-level name, a ``version.py`` it reads.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

# The calls that declare compiled extensions: setuptools' own, Cython's and setuptools-rust's.
EXTENSION_CALLS = frozenset({"Extension", "cythonize", "RustExtension", "Pybind11Extension"})
_VERSION_ASSIGNMENT = re.compile(
    r"""^__version__\s*(?::\s*str\s*)?=\s*(?P<quote>["'])(?P<version>[^"']+)(?P=quote)""",
    re.MULTILINE,
)


@dataclass(frozen=True)
class SetupPy:
    """The facts of one setup.py; None where it does not say them statically."""

    path: Path
    readable: bool  # False: not valid Python (the build would fail on it too)
    name: str | None
    version: str | None
    version_why: str
    compiles: bool | None  # None: it cannot be told without running it
    compiles_why: str
    python_requires: str | None = None


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return None


def _module_strings(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "literal"`` assignments."""
    found: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _literal(node: ast.AST | None, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def version_in_file(path: Path) -> str | None:
    """``__version__ = "..."`` at the start of a line of ``path`` (how version.py files and
    setup.py regexes spell it)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = _VERSION_ASSIGNMENT.search(text)
    return match["version"] if match else None


def _package_names(setup: ast.Call, names: dict[str, str]) -> list[str]:
    """The packages setup() names (packages=[...], name=...), where their version.py is."""
    found: list[str] = []
    for keyword in setup.keywords:
        if keyword.arg == "packages" and isinstance(keyword.value, (ast.List, ast.Tuple)):
            found += [v for v in (_literal(e, names) for e in keyword.value.elts) if v]
        if keyword.arg == "name":
            name = _literal(keyword.value, names)
            if name:
                found.append(name.replace("-", "_"))
    return [p for p in found if "." not in p]


def _version_from_files(root: Path, packages: list[str], text: str) -> tuple[str | None, str]:
    """The version setup.py reads from a file of the package, by the regex such setup.py
    files use; only files setup.py's text names (version.py, _version.py, __init__.py)."""
    for package in packages:
        for base in (root / package, root / "src" / package):
            for module in ("version.py", "_version.py", "__version__.py", "__init__.py"):
                if module not in text and module != "__init__.py":
                    continue
                version = version_in_file(base / module)
                if version:
                    shown = (base / module).relative_to(root).as_posix()
                    return version, f'__version__ = "{version}" in {shown}, which setup.py reads'
    return None, ""


def read_setup_py(path: Path) -> SetupPy:
    root = path.parent
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        why = f"setup.py is not valid Python (line {exc.lineno})"
        return SetupPy(path, False, None, None, why, None, why)
    names = _module_strings(tree)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    setups = [c for c in calls if _call_name(c) == "setup"]
    setup = setups[0] if setups else None
    keywords = {k.arg: k.value for k in setup.keywords} if setup else {}
    spreads = setup is not None and any(k.arg is None for k in setup.keywords)
    name = _literal(keywords.get("name"), names)

    version = _literal(keywords.get("version"), names)
    version_why = f'version = "{version}" in setup.py' if version else ""
    if version is None and setup is not None:
        version, version_why = _version_from_files(root, _package_names(setup, names), text)
    if version is None:
        version_why = "setup.py computes the version when it runs"

    declared = sorted({n for c in calls if (n := _call_name(c)) in EXTENSION_CALLS})
    compiles: bool | None
    if "ext_modules" in keywords or "rust_extensions" in keywords or declared:
        key = "ext_modules" if "ext_modules" in keywords else "rust_extensions"
        shown = ", ".join(f"{d}()" for d in declared) or key
        compiles, compiles_why = True, f"setup.py declares compiled extensions ({shown})"
    elif setup is None or spreads:
        compiles = None
        compiles_why = (
            "setup.py passes setup() arguments it builds when it runs (setup(**...))"
            if spreads else "setup.py calls no setup() that can be read"
        )  # fmt: skip
    else:
        compiles, compiles_why = False, "setup.py declares no extension"
    python_requires = _literal(keywords.get("python_requires"), names)
    return SetupPy(path, True, name, version, version_why, compiles, compiles_why, python_requires)
