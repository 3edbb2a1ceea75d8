"""The ``[tool.release]`` table init writes, and writing it into a pyproject.toml whose other
bytes (content, comments, order) stay exactly as they were."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from ..config import CIConfig, manylinux_glibc
from ..errors import ConfigError, ConfigValueError
from ..project.cargo import IMPORT_LIB_FEATURE
from ..project.pyproject import read_package
from ..project.toml import parse_toml
from .adoption import NO_TAGS, Adoption
from .detect import Detected

ENVIRONMENT = "pypi"
WORKFLOW = "release.yml"
_IMAGE = re.compile(r"manylinux[_]?(?P<floor>2014|2010|1|2_\d+)")


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, width=88, initial_indent="# ", subsequent_indent="# ",
                         break_on_hyphens=False, break_long_words=False)  # fmt: skip


def _q(value: str) -> str:
    return json.dumps(value)  # a TOML basic string is a JSON string for these values


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def manylinux_floor(root: Path, found: Detected) -> tuple[str, str]:
    """The floor the package already asks for (maturin's compatibility, cibuildwheel's
    manylinux-*-image, what the old workflow builds for), else manylinux2014, the floor of
    nearly every native package on PyPI."""
    package = read_package((root / found.package_dir).resolve())
    cibuildwheel = package.tool("cibuildwheel")
    images = [k for k in cibuildwheel if k.startswith("manylinux-") and k.endswith("-image")]
    images.sort(key=lambda key: key != "manylinux-x86_64-image")  # the main arch first
    asked = [("maturin", "compatibility", package.tool("maturin").get("compatibility"))]
    asked += [("cibuildwheel", key, cibuildwheel[key]) for key in images]
    for tool, key, value in asked:
        match = _IMAGE.search(value) if isinstance(value, str) else None
        if match:
            return match["floor"], f"{key} = {json.dumps(value)} in [tool.{tool}]"
    if found.manylinux is not None:
        return found.manylinux, found.manylinux_why
    return "2014", "the floor of most native wheels on PyPI"


def release_table(root: Path, found: Detected, adoption: Adoption | None = None) -> str:
    """``[tool.release]`` and its subtables as TOML text, every value with why it is so."""
    tag_pattern, tag_why = (
        (adoption.tag_pattern, adoption.tag_pattern_why) if adoption else ("v{version}", "")
    )
    tag_why = "" if tag_why == NO_TAGS else tag_why
    old = adoption.publisher if adoption else None
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
        *_comment(
            f"The version: {found.version_why}. A release is the tag "
            f"{tag_pattern.replace('{version}', '<version>')}"
            + (f", as in {tag_why}." if tag_why else ".")
        ),
        f"tag-pattern = {_q(tag_pattern)}",
    ]
    if found.before_build:
        # The same words on every run of init: the workflow it was read from is then init's.
        lines += _comment(
            "What the project runs before building, run by each build stage first, in this "
            "directory and without a shell"
            + (
                "; cibuildwheel also runs its own [tool.cibuildwheel] before-build in its "
                "builds, this one runs on the host, before the sdist and host builds too."
                if found.before_build_cibuildwheel
                else "."
            )
        )
        lines.append(f"before-build = {_list(found.before_build)}")
    if found.before_build_left_out:
        lines += _comment(
            "Not carried into before-build, as nox-release runs commands without a shell: "
            f"{'; '.join(found.before_build_left_out)}. If the build needs them, put them in "
            "a script and list the script in before-build."
        )
    lines += _comment(f"The wheels: {found.wheels_why}.")
    if found.backend == "build":
        lines += [
            "",
            "[tool.release.wheels]",
            *_comment("A pure wheel, built once, on Linux: it installs everywhere (a native "
                      "build needs maturin or cibuildwheel)."),
            'linux = ["py3-none-any"]',
            "windows = []",
        ]  # fmt: skip
    else:
        lines += [
            "",
            "[tool.release.linux]",
            *_comment(f"The glibc floor, {major}.{minor}: {floor_why}."),
            f"manylinux = {_q(floor)}",
        ]
    if found.apt_packages:
        if found.backend == "build":
            lines += ["", "[tool.release.linux]"]
        lines += [
            *_comment(f"What the build needs from apt: {'; '.join(found.packages_why)}."),
            f"apt-packages = {_list(found.apt_packages)}",
        ]
    if found.backend == "maturin" and found.windows_target is not None:
        if not found.windows_why and found.import_lib is not None:
            fix = found.import_lib
            why = (
                f"MinGW: Windows runners build it with MSYS2. Linux cross-compiles it (the dry "
                f"run too) only once {fix.crate} has the {IMPORT_LIB_FEATURE} feature, which "
                f"{fix.manifest} does not enable: until then that build fails (init's next "
                "steps say the line to add). x86_64-pc-windows-msvc builds on Windows only."
            )
        elif not found.windows_why:
            why = (
                "MinGW: Linux cross-compiles it (so the dry run builds it too), Windows "
                "runners build it with MSYS2; x86_64-pc-windows-msvc builds on Windows only."
            )
        elif found.windows_target.endswith("-windows-gnu"):
            why = f"MinGW, as {found.windows_why}. Windows runners build it with MSYS2."
        else:
            why = (
                f"MSVC: {found.windows_why}. Windows runners build it; a dry run on Linux skips "
                "it and names that runner."
            )
        target = f"target = {_q(found.windows_target)}"
        lines += ["", "[tool.release.windows]", *_comment(why), target]
        if found.msys2_packages:
            lines.append(f"msys2-packages = {_list(found.msys2_packages)}")
    lines += [
        "",
        "[tool.release.publish]",
        *_comment(
            "PyPI's trusted publisher names both: keep them as registered there."
            + (
                f" Taken from {old.name}, the workflow that publishes today."
                # Run again, init finds its own release workflow: the same words as the first time.
                if old and (not old.generated or old.name != WORKFLOW)
                else ""
            )
        ),
        f"environment = {_q((old.environment if old else None) or ENVIRONMENT)}",
        f"workflow = {_q(old.name if old else WORKFLOW)}",
    ]
    if adoption is not None and adoption.branch != CIConfig.branch:
        lines += [
            "",
            "[tool.release.ci]",
            *_comment(f"The dry run runs on pushes to {adoption.branch}: {adoption.branch_why}."),
            f"branch = {_q(adoption.branch)}",
        ]
    return "\n".join(lines) + "\n"


def has_release_table(text: str) -> bool:
    """Whether a pyproject.toml's text (valid TOML) configures nox-release already, in any
    spelling ([tool.release], release = {...} or dotted keys under [tool])."""
    tool = parse_toml(text.encode("utf-8"), "pyproject.toml").get("tool")
    return isinstance(tool, dict) and "release" in tool


def with_release_table(original: str, table: str, where: Path) -> str:
    """``original`` (a pyproject.toml's text, maybe empty) with ``table`` as its
    ``[tool.release]``: added after the other tool tables, or in place of the old one;
    everything else byte for byte as it was, line endings included."""
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
    newline = "\r\n" if "\r\n" in original else "\n"
    table = table.replace("\n", newline)
    tool = document.get("tool")
    if tool is None:
        blank = newline * 2
        separator = "" if not original or original.endswith(blank) else (
            newline if original.endswith(newline) else blank)  # fmt: skip
        return original + separator + table
    try:
        tool["release"] = tomlkit.parse(table)["tool"]["release"]
    except (ValueError, TypeError, TOMLKitError):
        raise ConfigValueError(
            f"tool in {where} is written inline (tool = {{...}}), and init can add "
            "[tool.release] only to a [tool] that is a table.",
            "write the tool settings as [tool.<name>] tables, then run init again.",
        ) from None
    text = tomlkit.dumps(document)
    # tomlkit puts the table before whatever follows the tool tables without a blank line.
    block = tomlkit.dumps(tomlkit.parse(table)).rstrip(newline)
    at = text.find(block)
    if at > 0 and newline == "\r\n" and text[at - 1] == "\n" and text[at - 2 : at] != "\r\n":
        text, at = text[: at - 1] + "\r\n" + text[at:], at + 1  # tomlkit's separator is LF
    rest = text[at + len(block) :]
    if at >= 0 and rest.startswith(newline) and not rest.startswith(newline * 2) and rest.strip():
        text = text[: at + len(block)] + newline + rest
    return text
