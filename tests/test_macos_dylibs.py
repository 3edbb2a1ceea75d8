"""macos-dylibs on real macOS wheels from PyPI, and on copies of them broken one way each.

The real wheels (pinned versions and sha256, downloaded once into the test cache) are what
cibuildwheel and delocate make: thin arm64 and x86_64 binaries, fat universal2 ones, and
rtree's bundled dylibs reached through ``@loader_path`` and ``@rpath``. Each bad copy is the
real wheel with one binary edited by macholib (a load command renamed, a minimum macOS
raised) or swapped for another architecture's, re-zipped with a correct RECORD, so only the
property under test is wrong.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import release_project, run_release
from macholib import mach_o
from macholib.MachO import MachO
from pypi_files import PypiFile, pypi_file
from wheel_factory import write_wheel

from release.checks.macos_dylibs import dylib_problem, read_macho, scan_wheels, tag_requirements
from release.dists import read_distribution
from release.errors import ToolNotFoundError, ValidationFailedError
from release.records import ERROR

FILES = "https://files.pythonhosted.org/packages"
MARKUPSAFE_ARM64 = PypiFile(
    f"{FILES}/9a/81/7e4e08678a1f98521201c3079f77db69fb552acd56067661f8c2f534a718/"
    "markupsafe-3.0.3-cp312-cp312-macosx_11_0_arm64.whl",
    "1872df69a4de6aead3491198eaf13810b565bdbeec3ae2dc8780f14458ec73ce",
)
MARKUPSAFE_X86_64 = PypiFile(
    f"{FILES}/5a/72/147da192e38635ada20e0a2e1a51cf8823d2119ce8883f7053879c2199b5/"
    "markupsafe-3.0.3-cp312-cp312-macosx_10_13_x86_64.whl",
    "d53197da72cc091b024dd97249dfc7794d6a56530370992a5e1a08983ad9230e",
)
MSGPACK_ARM64 = PypiFile(
    f"{FILES}/34/68/ba4f155f793a74c1483d4bdef136e1023f7bcba557f0db4ef3db3c665cf1/"
    "msgpack-1.1.2-cp312-cp312-macosx_11_0_arm64.whl",
    "446abdd8b94b55c800ac34b102dffd2f6aa0ce643c55dfc017ad89347db3dbdb",
)
MSGPACK_X86_64 = PypiFile(
    f"{FILES}/ad/bd/8b0d01c756203fbab65d265859749860682ccd2a59594609aeec3a144efa/"
    "msgpack-1.1.2-cp312-cp312-macosx_10_13_x86_64.whl",
    "70a0dff9d1f8da25179ffcf880e10cf1aad55fdb63cd59c9a49a1b82290062aa",
)
PYYAML_ARM64 = PypiFile(
    f"{FILES}/89/a0/6cf41a19a1f2f3feab0e9c0b74134aa2ce6849093d5517a0c550fe37a648/"
    "pyyaml-6.0.3-cp312-cp312-macosx_11_0_arm64.whl",
    "fc09d0aa354569bc501d4e787133afc08552722d3ab34836a80547331bb5d4a0",
)
PYYAML_X86_64 = PypiFile(
    f"{FILES}/d1/33/422b98d2195232ca1826284a76852ad5a86fe23e31b009c9886b2d0fb8b2/"
    "pyyaml-6.0.3-cp312-cp312-macosx_10_13_x86_64.whl",
    "7f047e29dcae44602496db43be01ad42fc6f1cc0d8cd6c83d342306c32270196",
)
WRAPT_ARM64 = PypiFile(
    f"{FILES}/33/df/bdf864b8997aab4febb96a9ae5c124f700a5abd9b5e13d2a3214ec4be705/"
    "wrapt-1.17.3-cp312-cp312-macosx_11_0_arm64.whl",
    "6b538e31eca1a7ea4605e44f81a48aa24c4632a277431a6ed3f328835901f4fd",
)
WRAPT_X86_64 = PypiFile(
    f"{FILES}/60/f8/096a7cc13097a1869fe44efe68dace40d2a16ecb853141394047f0780b96/"
    "wrapt-1.17.3-cp312-cp312-macosx_10_13_x86_64.whl",
    "9baa544e6acc91130e926e8c802a17f3b16fbea0fd441b5a60f5cf2cc5c3deba",
)
WRAPT_UNIVERSAL2 = PypiFile(
    f"{FILES}/9f/41/cad1aba93e752f1f9268c77270da3c469883d56e2798e7df6240dcb2287b/"
    "wrapt-1.17.3-cp312-cp312-macosx_10_13_universal2.whl",
    "ab232e7fdb44cdfbf55fc3afa31bcdb0d8980b9b95c38b6405df2acb672af0e0",
)
CHARSET_NORMALIZER_UNIVERSAL2 = PypiFile(
    f"{FILES}/f3/85/1637cd4af66fa687396e757dec650f28025f2a2f5a5531a3208dc0ec43f2/"
    "charset_normalizer-3.4.4-cp312-cp312-macosx_10_13_universal2.whl",
    "0a98e6759f854bd25a58a73fa88833fba3b7c491169f86ce1180c948ab3fd394",
)
# Bundles libspatialindex: libspatialindex_c.dylib loads it through @loader_path, and its
# own install name is @rpath/..., with LC_RPATH @loader_path.
RTREE_ARM64 = PypiFile(
    f"{FILES}/f3/cf/2710b6fd6b07ea0aef317b29f335790ba6adf06a28ac236078ed9bd8a91d/"
    "rtree-1.4.1-py3-none-macosx_11_0_arm64.whl",
    "a7e48d805e12011c2cf739a29d6a60ae852fb1de9fc84220bbcef67e6e595d7d",
)

# Each project's real macOS wheels, as one release of it.
RELEASES = {
    ("markupsafe", "3.0.3"): (MARKUPSAFE_ARM64, MARKUPSAFE_X86_64),
    ("msgpack", "1.1.2"): (MSGPACK_ARM64, MSGPACK_X86_64),
    ("pyyaml", "6.0.3"): (PYYAML_ARM64, PYYAML_X86_64),
    ("wrapt", "1.17.3"): (WRAPT_ARM64, WRAPT_X86_64, WRAPT_UNIVERSAL2),
    ("charset-normalizer", "3.4.4"): (CHARSET_NORMALIZER_UNIVERSAL2,),
    ("rtree", "1.4.1"): (RTREE_ARM64,),
}
SPEEDUPS = "markupsafe/_speedups.cpython-312-darwin.so"


def project(root: Path, name: str, version: str, tags: Sequence[str]) -> Path:
    """A project releasing ``name`` ``version`` as exactly the macOS wheels ``tags``."""
    macos = ", ".join(f'"{tag}"' for tag in tags)
    release_project(
        root,
        f'backend = "build"\nsdist = false\n[tool.release.wheels]\nmacos = [{macos}]\n',
        f'[project]\nname = "{name}"\nversion = "{version}"\n',
    )
    return root


def wheel_tags(filename: str) -> str:
    """The expected-set entry of a wheel: python-abi-platform, its first platform tag (an
    entry matches any tag a compressed set expands to)."""
    python, abi, platforms = filename.removesuffix(".whl").split("-")[-3:]
    return f"{python}-{abi}-{platforms.split('.')[0]}"


def validate(tmp_path: Path, name: str, version: str, wheels: Sequence[Path]) -> Any:
    dist = tmp_path / "dist"
    dist.mkdir(parents=True)
    for wheel in wheels:
        (dist / wheel.name).write_bytes(wheel.read_bytes())
    root = project(tmp_path / "project", name, version, [wheel_tags(w.name) for w in wheels])
    return run_release("validate", "--project", str(root), "--dist", str(dist))


# --- the real wheels pass ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "version"), list(RELEASES), ids=[n for n, _ in RELEASES])
def test_real_macos_wheels_pass_validate(tmp_path: Path, name: str, version: str) -> None:
    wheels = [pypi_file(pinned) for pinned in RELEASES[name, version]]
    proc = validate(tmp_path, name, version, wheels)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = (tmp_path / "dist" / ".release" / "validate.json").read_text()
    for wheel in wheels:
        assert wheel.name in proc.stdout
    # macos-dylibs judged every wheel (not "not run", not skipped for want of macholib).
    assert record.count('"macos-dylibs"') == len(wheels)
    assert '"macholib": "macholib 1.16.4"' in record


def test_the_real_set_covers_each_architecture_twice() -> None:
    projects: dict[str, set[str]] = {}
    for (name, _), pinned in RELEASES.items():
        for wheel in pinned:
            arch = next(a for a in ("x86_64", "arm64", "universal2") if wheel.filename.endswith(
                f"_{a}.whl"
            ))  # fmt: skip
            projects.setdefault(arch, set()).add(name)
    assert {arch: len(names) >= 2 for arch, names in projects.items()} == {
        "arm64": True,
        "x86_64": True,
        "universal2": True,
    }


def test_real_binaries_are_read_slice_by_slice() -> None:
    """What the check sees in the real files: a fat file's two slices with their own minimum
    macOS; rtree's bundled library reached through @loader_path."""
    wrapt = _read_member(pypi_file(WRAPT_UNIVERSAL2), "wrapt/_wrappers.cpython-312-darwin.so")
    assert [(s.arch, s.minos, s.dylibs) for s in wrapt.slices] == [
        ("x86_64", (10, 13), ("/usr/lib/libSystem.B.dylib",)),
        ("arm64", (11, 0), ("/usr/lib/libSystem.B.dylib",)),
    ]
    rtree = _read_member(pypi_file(RTREE_ARM64), "rtree/lib/libspatialindex_c.dylib")
    assert "@loader_path/libspatialindex.dylib" in rtree.slices[0].dylibs


def _read_member(wheel: Path, member: str) -> Any:
    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "binary"
        path.write_bytes(archive.read(member))
        return read_macho(path, member)


# --- bad copies are refused ----------------------------------------------------------------------


def rebuilt(
    source: Path,
    directory: Path,
    tag: str | None = None,
    replace: dict[str, bytes] | None = None,
    drop: Sequence[str] = (),
) -> Path:
    """``source`` re-zipped with a correct RECORD: members in ``replace`` swapped, ``drop``
    left out, and tagged ``tag`` (python-abi-platform) when given."""
    name, version, original = source.name.removesuffix(".whl").split("-", 2)
    with zipfile.ZipFile(source) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if not n.endswith("/")}
    dist_info = f"{name}-{version}.dist-info"
    files = {
        n: data
        for n, data in members.items()
        if not n.startswith(f"{dist_info}/") and n not in drop
    }
    files.update(replace or {})
    directory.mkdir(parents=True, exist_ok=True)
    return write_wheel(
        directory,
        name,
        version,
        tag or original,
        files=files,
        metadata=members[f"{dist_info}/METADATA"].decode(),
    )


def edited(data: bytes, edit: Callable[[Any], None]) -> bytes:
    """``data`` (a Mach-O file) with ``edit`` applied to each slice's header by macholib."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "binary"
        path.write_bytes(data)
        macho = MachO(str(path))
        for header in macho.headers:
            edit(header)
        with path.open("r+b") as file:
            macho.write(file)
        return path.read_bytes()


def member_of(wheel: Path, member: str) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        return archive.read(member)


def refused(tmp_path: Path, wheel: Path, name: str, version: str) -> tuple[str, list[Any]]:
    """validate's output on ``wheel`` (which must fail with the validation exit code), and
    the check's own findings."""
    proc = validate(tmp_path, name, version, [wheel])
    assert proc.returncode == ValidationFailedError.exit_code, proc.stdout + proc.stderr
    assert "macos-dylibs" in proc.stdout + proc.stderr
    findings = scan_wheels([read_distribution(wheel)])
    assert all(f.level == ERROR and f.file == wheel.name for f in findings)
    return proc.stdout + proc.stderr, findings


def test_a_dylib_outside_the_wheel_is_refused(tmp_path: Path) -> None:
    source = pypi_file(MARKUPSAFE_ARM64)

    def to_usr_local(header: Any) -> None:
        # Shorter than /usr/lib/libSystem.B.dylib: it fits the load command as it is.
        header.rewriteLoadCommands(
            lambda name: "/usr/local/lib/libz.dylib" if name.startswith("/usr/lib/") else None
        )

    so = edited(member_of(source, SPEEDUPS), to_usr_local)
    wheel = rebuilt(source, tmp_path / "bad", replace={SPEEDUPS: so})
    output, findings = refused(tmp_path / "v", wheel, "markupsafe", "3.0.3")
    (finding,) = findings
    assert finding.message.startswith(
        f"{SPEEDUPS} links /usr/local/lib/libz.dylib, which is outside the wheel and not a "
        "macOS system library"
    )
    assert finding.remedy is not None and "delocate-wheel" in finding.remedy
    assert wheel.name in output and "delocate-wheel" in output


def test_a_bundled_dylib_left_out_is_refused(tmp_path: Path) -> None:
    source = pypi_file(RTREE_ARM64)
    wheel = rebuilt(source, tmp_path / "bad", drop=["rtree/lib/libspatialindex.dylib"])
    _, findings = refused(tmp_path / "v", wheel, "rtree", "1.4.1")
    (finding,) = findings
    assert finding.message == (
        "rtree/lib/libspatialindex_c.dylib links @loader_path/libspatialindex.dylib, which "
        "is not in the wheel (rtree/lib/libspatialindex.dylib)"
    )


def test_a_minimum_macos_newer_than_the_tag_is_refused(tmp_path: Path) -> None:
    source = pypi_file(MARKUPSAFE_ARM64)

    def needs_14(header: Any) -> None:
        for load, command, _ in header.commands:
            if load.cmd == mach_o.LC_BUILD_VERSION:
                command.minos = 14 << 16

    so = edited(member_of(source, SPEEDUPS), needs_14)
    wheel = rebuilt(source, tmp_path / "bad", replace={SPEEDUPS: so})
    output, findings = refused(tmp_path / "v", wheel, "markupsafe", "3.0.3")
    (finding,) = findings
    assert finding.message.startswith(
        f"{SPEEDUPS}: its arm64 slice needs macOS 14.0, newer than the macOS 11.0 its tag "
        "macosx_11_0_arm64 promises"
    )
    assert finding.remedy is not None
    assert finding.remedy.startswith("build it (and every library bundled with it) with "
                                     "MACOSX_DEPLOYMENT_TARGET=11.0")  # fmt: skip
    assert "MACOSX_DEPLOYMENT_TARGET=11.0" in output


def test_one_slice_of_a_fat_file_too_new_is_refused(tmp_path: Path) -> None:
    source = pypi_file(WRAPT_UNIVERSAL2)
    member = "wrapt/_wrappers.cpython-312-darwin.so"

    def x86_needs_10_15(header: Any) -> None:
        for load, command, _ in header.commands:
            if load.cmd == mach_o.LC_VERSION_MIN_MACOSX:
                command.version = (10 << 16) | (15 << 8)

    so = edited(member_of(source, member), x86_needs_10_15)
    wheel = rebuilt(source, tmp_path / "bad", replace={member: so})
    (finding,) = scan_wheels([read_distribution(wheel)])
    assert finding.message.startswith(
        f"{member}: its x86_64 slice needs macOS 10.15, newer than the macOS 10.13 its tag "
        "macosx_10_13_universal2 promises"
    )


@pytest.mark.parametrize(
    ("platform", "missing", "tags"),
    [
        ("macosx_10_13_universal2", "x86_64", "macosx_10_13_universal2"),
        ("macosx_10_13_x86_64", "x86_64", "macosx_10_13_x86_64"),
        # maturin's compressed set: pip installs it on Intel Macs too.
        (
            "macosx_10_13_x86_64.macosx_11_0_arm64.macosx_10_13_universal2",
            "x86_64",
            "macosx_10_13_universal2 and macosx_10_13_x86_64",
        ),
    ],
)
def test_a_slice_missing_for_the_tag_is_refused(
    tmp_path: Path, platform: str, missing: str, tags: str
) -> None:
    """The arm64-only build of markupsafe, in a wheel whose tag also names Intel Macs."""
    source = pypi_file(MARKUPSAFE_ARM64)
    wheel = rebuilt(source, tmp_path / "bad", tag=f"cp312-cp312-{platform}")
    output, findings = refused(tmp_path / "v", wheel, "markupsafe", "3.0.3")
    (finding,) = findings
    assert finding.message == (
        f"{SPEEDUPS} has no {missing} slice (it holds arm64), but its tag {tags} names "
        f"{missing}: importing it fails on Intel Macs"
    )
    assert finding.remedy is not None and "build the x86_64 slice too" in finding.remedy
    assert "build the x86_64 slice too" in output


def test_a_fat_wheel_with_several_tags_meets_each() -> None:
    """wrapt's universal2 binary (x86_64 10.13, arm64 11.0) meets maturin's way of tagging
    it; and fails the one tag it does not meet."""
    dist = read_distribution(pypi_file(WRAPT_UNIVERSAL2))
    requirements, problems = tag_requirements(
        frozenset({"macosx_10_13_x86_64", "macosx_11_0_arm64", "macosx_10_13_universal2"})
    )
    assert problems == []
    assert sorted((r.arch, r.macos, r.tag) for r in requirements) == [
        ("arm64", (11, 0), "macosx_10_13_universal2"),
        ("arm64", (11, 0), "macosx_11_0_arm64"),
        ("x86_64", (10, 13), "macosx_10_13_universal2"),
        ("x86_64", (10, 13), "macosx_10_13_x86_64"),
    ]
    assert scan_wheels([dist]) == []
    _, problems = tag_requirements(frozenset({"macosx_10_13_intel"}))
    assert problems == [
        ("macosx_10_13_intel", "names intel, an architecture no supported macOS Python runs on")
    ]


# --- what each load command resolves to ---------------------------------------------------------

NAMES = frozenset({"pkg/_ext.so", "pkg/.dylibs/libfoo.1.dylib", "pkg/lib/libbar.dylib"})


@pytest.mark.parametrize(
    ("dylib", "rpaths"),
    [
        ("/usr/lib/libSystem.B.dylib", ()),
        ("/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation", ()),
        ("@loader_path/.dylibs/libfoo.1.dylib", ()),
        ("@rpath/libbar.dylib", ("@loader_path/lib",)),
        ("@rpath/lib/libbar.dylib", ("/opt/homebrew/lib", "@loader_path/")),
        ("@rpath/libswiftCore.dylib", ("/usr/lib/swift",)),
    ],
)
def test_what_loads(dylib: str, rpaths: tuple[str, ...]) -> None:
    assert dylib_problem("pkg/_ext.so", dylib, rpaths, NAMES) is None


@pytest.mark.parametrize(
    ("dylib", "rpaths", "says"),
    [
        ("/usr/local/lib/libgmp.10.dylib", (), "outside the wheel and not a macOS system library"),
        ("/opt/homebrew/opt/libomp/lib/libomp.dylib", (), "outside the wheel"),
        ("@loader_path/libfoo.1.dylib", (), "not in the wheel (pkg/libfoo.1.dylib)"),
        ("@loader_path/../../libfoo.dylib", (), "not in the wheel (outside it)"),
        ("@rpath/libbar.dylib", (), "no LC_RPATH finds in the wheel (it has no LC_RPATH)"),
        ("@rpath/libbar.dylib", ("/usr/local/lib",), "(/usr/local/lib)"),
        ("@rpath/libbar.dylib", ("@executable_path/../lib",), "no LC_RPATH finds"),
        # A system rpath (Swift's) finds only what macOS ships there, not the wheel's library.
        ("@rpath/libgmp.10.dylib", ("/usr/lib/swift", "@loader_path/.dylibs"), "no LC_RPATH"),
        ("@executable_path/../lib/libbar.dylib", (), "for an extension module is the Python"),
        ("libbar.dylib", (), "outside the wheel"),
        ("@rpath/libpython3.12.dylib", ("@loader_path",), "the Python library"),
        (
            "/Library/Frameworks/Python.framework/Versions/3.12/Python",
            (),
            "the Python library",
        ),
        ("/System/Library/Frameworks/Python.framework/Versions/2.7/Python", (), "Python library"),
    ],
)
def test_what_does_not_load(dylib: str, rpaths: tuple[str, ...], says: str) -> None:
    problem = dylib_problem("pkg/_ext.so", dylib, rpaths, NAMES | {"pkg/libpython3.12.dylib"})
    assert problem is not None
    assert says in problem[0]
    remedy = problem[1]
    assert "delocate-wheel" in remedy or "-undefined dynamic_lookup" in remedy


def test_a_file_named_like_a_binary_that_is_not_one(tmp_path: Path) -> None:
    source = pypi_file(MARKUPSAFE_ARM64)
    pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n"
    wheel = rebuilt(source, tmp_path / "bad", replace={SPEEDUPS: pointer})
    (finding,) = scan_wheels([read_distribution(wheel)])
    assert finding.message.startswith(f"{SPEEDUPS} is not a Mach-O file macholib can read")
    assert finding.message.endswith("macOS cannot load it")


def test_an_arm64e_slice_is_not_arm64(tmp_path: Path) -> None:
    """arm64e (pointer authentication) is its own architecture: an arm64 Python cannot load
    it, so it does not meet an arm64 tag."""
    source = pypi_file(MARKUPSAFE_ARM64)

    def to_arm64e(header: Any) -> None:
        header.header.cpusubtype = 2  # CPU_SUBTYPE_ARM64E

    so = edited(member_of(source, SPEEDUPS), to_arm64e)
    wheel = rebuilt(source, tmp_path / "bad", replace={SPEEDUPS: so})
    (finding,) = scan_wheels([read_distribution(wheel)])
    assert finding.message.startswith(f"{SPEEDUPS} has no arm64 slice (it holds arm64e)")


def test_a_bundled_libpython_is_refused(tmp_path: Path) -> None:
    source = pypi_file(MARKUPSAFE_ARM64)
    copy = member_of(source, SPEEDUPS)  # any Mach-O file will do: the name is the error
    bundled = "markupsafe/.dylibs/libpython3.12.dylib"
    wheel = rebuilt(source, tmp_path / "bad", replace={bundled: copy, "libpython3_notes.py": b""})
    (finding,) = scan_wheels([read_distribution(wheel)])
    assert finding.message.startswith(f"{bundled} is a Python library bundled in the wheel")
    assert finding.remedy is not None and "-undefined dynamic_lookup" in finding.remedy


def test_without_macholib_the_check_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from release.checks import macos_dylibs

    real = importlib.util.find_spec
    monkeypatch.setattr(
        macos_dylibs.importlib.util,
        "find_spec",
        lambda name, *args: None if name == "macholib" else real(name, *args),
    )
    with pytest.raises(ToolNotFoundError) as info:
        scan_wheels([read_distribution(pypi_file(MSGPACK_ARM64))])
    assert "macholib is not installed" in info.value.cause
    assert "-m pip install macholib" in info.value.remedy
