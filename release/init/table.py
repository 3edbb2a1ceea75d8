"""The ``[tool.release]`` table init writes, and writing it into a pyproject.toml whose other
bytes (content, comments, order) stay exactly as they were."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from ..config import manylinux_glibc
from ..errors import ConfigError, ConfigValueError
from ..project.pyproject import read_package
from ..project.toml import parse_toml
from .detect import Detected

WINDOWS_TARGET = "x86_64-pc-windows-gnu"
ENVIRONMENT = "pypi"
WORKFLOW = "release.yml"
_IMAGE = re.compile(r"manylinux[_]?(?P<floor>2014|2010|1|2_\d+)")


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, width=88, initial_indent="# ", subsequent_indent="# ",
                         break_on_hyphens=False, break_long_words=False)  # fmt: skip


def _q(value: str) -> str:
    return json.dumps(value)  # a TOML basic string is a JSON string for these values


def manylinux_floor(root: Path, found: Detected) -> tuple[str, str]:
    """The floor the package already asks for (maturin's compatibility, cibuildwheel's
    image), else manylinux2014, the floor of nearly every native package on PyPI."""
    package = read_package((root / found.package_dir).resolve())
    asked = {
        "maturin": package.tool("maturin").get("compatibility"),
        "cibuildwheel": package.tool("cibuildwheel").get("manylinux-x86_64-image"),
    }.get(found.backend)
    match = _IMAGE.search(asked) if isinstance(asked, str) else None
    if match:
        key = "compatibility" if found.backend == "maturin" else "manylinux-x86_64-image"
        return match["floor"], f"{key} = {json.dumps(asked)} in [tool.{found.backend}]"
    return "2014", "the floor of most native wheels on PyPI"


def release_table(root: Path, found: Detected) -> str:
    """``[tool.release]`` and its subtables as TOML text, every value with why it is so."""
    floor, floor_why = manylinux_floor(root, found)
    major, minor = manylinux_glibc(floor)
    lines = [
        "[tool.release]",
        *_comment("Written by `nox-release init` from what it found; each key is explained in "
                  "nox-release's README (Configuring a project)."),
    ]  # fmt: skip
    if found.package_dir != ".":
        lines.append(f"package-dir = {_q(found.package_dir)}")
    lines += _comment(f"The backend: {found.backend_why}.")
    lines.append(f"backend = {_q(found.backend)}")
    if found.sdist_why:
        lines += _comment(f"No sdist: {found.sdist_why}.")
    lines += [
        f"sdist = {str(found.sdist).lower()}",
        'dist-dir = "dist"',
        *_comment(f"The version: {found.version_why}. A release is the tag v<version>."),
        'tag-pattern = "v{version}"',
        *_comment(f"The wheels: {found.wheels_why}."),
        "",
        "[tool.release.linux]",
        *_comment(f"The glibc floor, {major}.{minor}: {floor_why}."),
        f"manylinux = {_q(floor)}",
    ]
    if found.backend == "maturin":
        lines += [
            "",
            "[tool.release.windows]",
            *_comment(
                "MinGW: Linux cross-compiles it (so the dry run builds it too), Windows "
                "runners build it with MSYS2; x86_64-pc-windows-msvc builds on Windows "
                "only."
            ),
            f"target = {_q(WINDOWS_TARGET)}",
        ]
    lines += [
        "",
        "[tool.release.publish]",
        *_comment("PyPI's trusted publisher names both: keep them as registered there."),
        f"environment = {_q(ENVIRONMENT)}",
        f"workflow = {_q(WORKFLOW)}",
    ]
    return "\n".join(lines) + "\n"


def with_release_table(original: str, table: str, where: Path) -> str:
    """``original`` (a pyproject.toml's text, maybe empty) with ``table`` as its
    ``[tool.release]``: added after the other tool tables, or in place of the old one;
    everything else byte for byte as it was."""
    import tomlkit  # only init needs it
    from tomlkit.exceptions import TOMLKitError

    try:
        parse_toml(original.encode("utf-8"), str(where))  # its own error, with the line
        document = tomlkit.parse(original)
    except (ConfigError, TOMLKitError) as exc:
        cause = exc.cause if isinstance(exc, ConfigError) else str(exc)
        raise ConfigValueError(
            f"{where} cannot be read, so [tool.release] cannot be added: {cause.rstrip('.')}.",
            "fix the TOML there first (the line is named above), then run init again.",
        ) from None
    new = tomlkit.parse(table)["tool"]["release"]
    tool = document.get("tool")
    if tool is None:
        separator = "" if not original or original.endswith("\n\n") else (
            "\n" if original.endswith("\n") else "\n\n")  # fmt: skip
        return original + separator + table
    tool["release"] = new
    text = tomlkit.dumps(document)
    # tomlkit puts the table before whatever follows the tool tables without a blank line.
    block = tomlkit.dumps(tomlkit.parse(table)).rstrip("\n")
    at = text.find(block)
    rest = text[at + len(block) :]
    if at >= 0 and rest.startswith("\n") and not rest.startswith("\n\n") and rest.strip():
        text = text[: at + len(block)] + "\n" + rest
    return text
