"""The manylinux check on real ELF files, judged by the real auditwheel: gcc and musl-gcc
build the extensions here, and every wheel goes through the batches of
``python -m release.auditwheel_batch`` the check runs. A missing compiler fails the test."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import check_context, tiny_project
from wheel_factory import write_wheel

from release.auditwheel_batch import show_arguments
from release.checks.base import json_object_in
from release.checks.manylinux import ManylinuxCheck, split_batch
from release.config import load_config
from release.dists import read_distribution
from release.errors import ToolNotFoundError
from release.records import Finding

REPO = Path(__file__).resolve().parent.parent
PY_INIT = "void *PyLong_FromLong(long v);\n"


def compile_so(work: Path, name: str, source: str, *flags: str, cc: str = "gcc") -> bytes:
    compiler = shutil.which(cc)
    assert compiler, f"{cc} is needed (Debian/Ubuntu: apt-get install gcc musl-tools)"
    (work / f"{name}.c").write_text(source)
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-O1", "-o", f"{name}.so", f"{name}.c", *flags],
        cwd=work,
        check=True,
        capture_output=True,
    )
    return (work / f"{name}.so").read_bytes()


def extension(module: str, body: str, prelude: str = "") -> str:
    return f"{prelude}{PY_INIT}void *PyInit_{module}(void) {{ {body} }}\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One wheel per thing the check must see, each a real build."""
    work = tmp_path_factory.mktemp("elf")
    dist = tmp_path_factory.mktemp("dist")
    printing = extension(
        "_ok", 'char b[32]; return PyLong_FromLong(snprintf(b, sizeof b, "%d", 7));',
        "#include <stdio.h>\n",
    )  # fmt: skip
    glibc = compile_so(work, "_ok", printing)
    # getrandom is GLIBC_2.25: newer than manylinux2014's glibc 2.17.
    random = compile_so(work, "_rand", extension(
        "_rand", "char b[4]; return PyLong_FromLong(getrandom(b, 4, 0));",
        "#include <sys/random.h>\n",
    ))  # fmt: skip
    compile_so(work, "libouter", "int outer(void) { return 1; }\n", "-Wl,-soname,libouter.so")
    outer = compile_so(work, "_outer", extension(
        "_outer", "return PyLong_FromLong(outer());", "int outer(void);\n"
    ), f"-L{work}", "-louter")  # fmt: skip
    isa = compile_so(work, "_isa", extension(
        "_isa", "double s = 0; for (int i = 0; i < n; i++) s += a[i] * a[i];"
        " return PyLong_FromLong((long)s);",
        "double a[8]; int n = 8;\n",
    ), "-O2", "-march=x86-64-v3", "-Wl,-z,x86-64-v3")  # fmt: skip
    # As on Alpine: the extension needs libc.musl-x86_64.so.1 (Debian's musl is libc.so).
    (work / "musl").mkdir()
    (work / "musl" / "libc.musl-x86_64.so.1").symlink_to("/usr/lib/x86_64-linux-musl/libc.so")
    musl = compile_so(work, "_musl", printing.replace("_ok", "_musl"), "-nodefaultlibs",
                      f"-L{work / 'musl'}", "-l:libc.musl-x86_64.so.1", cc="musl-gcc")  # fmt: skip
    # A bundled "library" that is no ELF file: auditwheel raises on it (ELFError).
    broken = compile_so(work, "_broken", extension(
        "_broken", "return PyLong_FromLong(outer());", "int outer(void);\n"
    ), f"-L{work}", "-louter", "-Wl,-rpath,$ORIGIN")  # fmt: skip

    wheels = {
        "ok": ("cp38-abi3-manylinux_2_17_x86_64", {"demo_pkg/_ok.abi3.so": glibc}),
        "glibc": ("cp39-abi3-manylinux2014_x86_64", {"demo_pkg/_rand.abi3.so": random}),
        "outer": ("cp310-abi3-manylinux_2_17_x86_64", {"demo_pkg/_outer.abi3.so": outer}),
        "isa": ("cp311-abi3-manylinux_2_17_x86_64", {"demo_pkg/_isa.abi3.so": isa}),
        "musl-both": (
            "cp312-abi3-manylinux_2_17_x86_64.musllinux_1_2_x86_64",
            {"demo_pkg/_musl.abi3.so": musl},
        ),
        "musl": ("cp313-abi3-manylinux_2_17_x86_64", {"demo_pkg/_musl.abi3.so": musl}),
        "crash": (
            "cp314-abi3-manylinux_2_17_x86_64",
            {"demo_pkg/_broken.abi3.so": broken, "demo_pkg/libouter.so": b"not ELF\n"},
        ),
    }
    return {
        key: write_wheel(dist, "demo_pkg", "1.0", tag, files=files)
        for key, (tag, files) in wheels.items()
    }


@pytest.mark.skipif(
    sys.version_info < (3, 10),
    reason="auditwheel for Python 3.9 (6.4.2, the last) has no show --json: the manylinux "
    "check runs on 3.10+, as the README says; the tests session runs this",
)
def test_each_wheel_gets_its_own_verdict_from_few_processes(
    built: dict[str, Path], tmp_path: Path
) -> None:
    ctx = check_context(load_config(tiny_project(tmp_path)))
    dists = [read_distribution(path) for path in built.values()]
    findings = ManylinuxCheck().run(dists, ctx)

    by_file: dict[str | None, list[Finding]] = {}
    for finding in findings:
        by_file.setdefault(finding.file, []).append(finding)
    verdict = {key: by_file.get(path.name, []) for key, path in built.items()}
    assert verdict["ok"] == []
    (error,) = verdict["glibc"]
    assert error.message == (
        "claims manylinux2014_x86_64, but its binaries (demo_pkg/_rand.abi3.so) need at least "
        "manylinux_2_26_x86_64 (libc.so.6 GLIBC_2.25)"
    )
    (error,) = verdict["outer"]
    assert error.message.startswith("needs libouter.so,")
    (error,) = verdict["isa"]
    assert "beyond the baseline" in error.message
    (error,) = verdict["musl-both"]
    assert error.message == (
        "claims manylinux_2_17_x86_64, but its binaries link musl libc "
        "(auditwheel: musllinux_1_2_x86_64)"
    )
    (error,) = verdict["musl"]
    assert error.message.endswith("another platform: _musl.abi3.so for musl libc")
    # auditwheel raising on one wheel is that wheel's finding; the others were judged.
    (error,) = verdict["crash"]
    assert error.message == (
        "auditwheel show could not analyse it (exit status 1): "
        "elftools.common.exceptions.ELFError: Magic number does not match"
    )
    assert all(f.level == "error" for key in verdict if key != "ok" for f in verdict[key])

    # One process per core, not per wheel, and each wheel given to one of them.
    batches = [c.argv for c in ctx.runner.history if "release.auditwheel_batch" in c.argv]
    assert len(batches) == min(len(dists), os.cpu_count() or 1)
    given = sorted(Path(a).name for argv in batches for a in argv if a.endswith(".whl"))
    assert given == sorted(p.name for p in built.values())


def test_the_batch_reports_what_auditwheel_show_reports(built: dict[str, Path]) -> None:
    """Word for word, for every kind of wheel: nothing is lost by judging many per process."""
    dists = [read_distribution(path) for path in built.values()]
    batch = subprocess.run(
        [sys.executable, "-m", "release.auditwheel_batch", *(str(p) for p in built.values())],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    for dist, status, output in split_batch(dists, batch.returncode, batch.stdout):
        alone = subprocess.run(
            ["auditwheel", *show_arguments(str(dist.path))],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        said = alone.stderr + alone.stdout
        assert (status, json_object_in(output)) == (alone.returncode, json_object_in(said))
        assert output.splitlines()[-1] == said.splitlines()[-1], dist.filename


def test_a_batch_that_died_leaves_its_unjudged_wheels_an_error(built: dict[str, Path]) -> None:
    first, second, third = (read_distribution(built[k]) for k in ("ok", "glibc", "outer"))
    output = '{"version": 1}\n@@auditwheel-batch 0 0\nINFO:auditwheel:half-way'
    judged = split_batch([first, second, third], -9, output)
    assert judged == [
        (first, 0, '{"version": 1}'),
        (second, -9, "INFO:auditwheel:half-way"),
        (third, -9, "INFO:auditwheel:half-way"),
    ]
    (error,) = ManylinuxCheck().judge(third, -9, judged[2][2])
    assert error.message == (
        "auditwheel show could not analyse it (exit status -9): INFO:auditwheel:half-way"
    )


def test_the_version_recorded_is_the_auditwheel_that_judged(tmp_path: Path) -> None:
    ctx = check_context(load_config(tiny_project(tmp_path)))
    version = ManylinuxCheck().tool_version("auditwheel", ctx.runner)
    assert version == f"auditwheel {importlib.metadata.version('auditwheel')}"


def test_without_auditwheel_in_this_python_the_error_says_where_to_install_it(
    built: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = check_context(load_config(tiny_project(tmp_path)))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *rest: None if name == "auditwheel" else real_find_spec(name, *rest),
    )
    with pytest.raises(ToolNotFoundError) as info:
        ManylinuxCheck().run([read_distribution(built["ok"])], ctx)
    assert sys.executable in info.value.cause
    assert f"{sys.executable} -m pip install auditwheel" in info.value.remedy
    assert ctx.runner.history == []


def needed(elf: bytes) -> list[str]:
    """The DT_NEEDED names of a shared object, as the dynamic linker reads them."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    sections = ELFFile(io.BytesIO(elf)).iter_sections()
    dynamic = next(s for s in sections if isinstance(s, DynamicSection))
    return [tag.needed for tag in dynamic.iter_tags() if tag.entry.d_tag == "DT_NEEDED"]


@pytest.mark.skipif(sys.version_info < (3, 10), reason="auditwheel show --json needs 3.10+")
def test_a_musllinux_wheel_linking_libc_so_as_musl_toolchains_do_passes(tmp_path: Path) -> None:
    """musl-gcc, like zig and Rust's musl targets (maturin's musllinux wheels), records musl's
    libc as ``libc.so``. auditwheel alone raised on this host's glibc linker script of that
    name, and without it allowed musl's libc only as ``libc.musl-x86_64.so.1``; the library
    the wheel does not bundle is still refused."""
    work = tmp_path / "elf"
    work.mkdir()
    printing = extension(
        "_m", 'char b[32]; return PyLong_FromLong(snprintf(b, sizeof b, "%d", 7));',
        "#include <stdio.h>\n",
    )  # fmt: skip
    plain = compile_so(work, "_m", printing, cc="musl-gcc")
    assert needed(plain) == ["libc.so"]
    compile_so(work, "libouter", "int outer(void) { return 1; }\n", "-Wl,-soname,libouter.so",
               cc="musl-gcc")  # fmt: skip
    outer = compile_so(work, "_outer", extension(
        "_outer", "return PyLong_FromLong(outer());", "int outer(void);\n"
    ), f"-L{work}", "-louter", cc="musl-gcc")  # fmt: skip
    dist_dir = tmp_path / "dist"
    dist_dir.mkdir()
    ok = write_wheel(dist_dir, "demo_pkg", "1.0", "cp39-abi3-musllinux_1_2_x86_64",
                     files={"demo_pkg/_m.abi3.so": plain})  # fmt: skip
    outside = write_wheel(dist_dir, "demo_pkg", "1.1", "cp39-abi3-musllinux_1_2_x86_64",
                          files={"demo_pkg/_outer.abi3.so": outer})  # fmt: skip
    ctx = check_context(load_config(tiny_project(tmp_path / "project")))

    findings = ManylinuxCheck().run([read_distribution(ok), read_distribution(outside)], ctx)

    assert [(f.file, f.level) for f in findings] == [(outside.name, "error")]
    assert findings[0].message.startswith("needs libouter.so,")
