"""How the ``validate`` stage's cost grows with the size of a release, against the per-file
shell loop a careful maintainer scripts today.

In one run:
1. build a synthetic release of one distribution, ``bench_pkg`` 1.0.0 (not timed): by default
   100 wheels, half Linux and half Windows, five real binaries in each (500 in all), plus an
   sdist. Every binary is compiled on its own, with constants of its wheel compiled in, so
   no two are byte-identical and no tool can skip a duplicate:
   - Linux (gcc): four extension modules ``bench_pkg/_extK.so`` linked against a bundled
     ``bench_pkg.libs/libbenchcore-<hash>.so`` through ``RPATH=$ORIGIN/../bench_pkg.libs``,
     the layout ``auditwheel repair`` leaves; they use glibc (memcpy, snprintf...) and
     leave CPython's symbols undefined, as extension modules do.
   - Windows (x86_64- and i686-w64-mingw32-gcc): three ``bench_pkg/_extK.pyd`` importing a
     bundled ``bench_pkg.libs/benchcore-<hash>.dll`` (and python3X.dll for CPython tags),
     which imports a bundled ``benchhelper-<hash>.dll`` that imports KERNEL32 only: the DLL
     check has a transitive closure to follow.
   One distribution can hold only so many wheels: each wheel has its own
   python-abi-platform combination (25 interpreter/ABI tags x 2 platforms per OS; see
   ``INTERPRETERS``), more than a real project ships but every one a valid tag PyPI takes,
   and the project's ``[tool.release.wheels]`` lists one exact pattern per wheel, so the
   wheel-set check passes and validate is expected to exit 0 with no error finding. No
   wheel is abi3, so abi3audit stays out of validate as it is out of the shell loop.
2. at half size, then at full size, two timed runs:
   A. ``python -m release validate --project <synthetic project> --dist <dist>``, the
      whole stage in a subprocess (cwd this repository, PYTHONPATH this repository);
   B. a bash loop: ``twine check --strict`` per file, ``auditwheel show`` per Linux wheel,
      and per Windows wheel ``unzip`` into a temp dir, then ``objdump -p | grep 'DLL Name'``
      per .pyd/.dll.
   Both use the same tools: the directory of the Python running this script comes first on
   PATH (the nox environment's bin when run there; no pyenv shims in the way).
   validate must exit 0, its ``validate.json`` must show every check on every file, every
   Windows binary given to objdump and every Linux wheel to auditwheel; the loop's log
   must show each file checked. Anything else stops the benchmark.

Prints for each size the wheels, binaries, both wall times, ``ratio <validate / loop>``
(``half-size ratio`` for the half size) and binaries per second, then how each time grew,
and last ``ratio <value>`` at full size. The target is a ratio of at most 0.5.

``--tiny N`` times something else: validate alone on N tiny manylinux wheels (one small
extension each, compiled on its own; up to 300 distinct tags), where the cost of judging a
wheel is mostly the cost of starting its tools. Prints ``tiny: validate of N manylinux
wheels took <s>``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.tags import parse_tag

REPO = Path(__file__).resolve().parent.parent
NAME = "bench_pkg"
VERSION = "1.0.0"
LIBS = f"{NAME}.libs"  # where auditwheel repair and delvewheel put bundled libraries
TARGET_RATIO = 0.5

# (python tag, abi tag, Python DLL a Windows .pyd of this tag imports, if any).
# 25 combinations; with 2 platforms per OS they make 50 distinct wheels per OS.
# Free-threaded and PyPy .pyd files import no Python DLL here: the DLL check knows only
# python3.dll and python3X.dll as the interpreter's (release/windows_dlls.py), so their real
# ones (python313t.dll, libpypy3.X-c.dll) would be reported missing, and this benchmark is
# about speed, not about that.
INTERPRETERS: tuple[tuple[str, str, str | None], ...] = (
    ("cp36", "cp36m", "python36.dll"),
    ("cp37", "cp37m", "python37.dll"),
    *((f"cp3{m}", f"cp3{m}", f"python3{m}.dll") for m in range(8, 15)),
    ("cp313", "cp313t", None),
    ("cp314", "cp314t", None),
    *((f"pp3{m}", f"pypy3{m}_pp73", None) for m in range(6, 12)),
    *((f"py3{m}", "none", None) for m in range(8, 15)),
    ("py3", "none", None),
)
# Each names the project's floor (2014: validate requires it) and one tag of its own, so one
# [tool.release.wheels] entry matches each wheel alone.
LINUX_PLATFORMS = (
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_x86_64.manylinux_2_28_x86_64",
)
WINDOWS_PLATFORMS = {"win_amd64": "x86_64", "win32": "i686"}
MAX_WHEELS = len(INTERPRETERS) * (len(LINUX_PLATFORMS) + len(WINDOWS_PLATFORMS))
LINUX_EXTENSIONS = 4  # + the bundled core library = 5 binaries per Linux wheel
WINDOWS_EXTENSIONS = 3  # + the bundled core and helper DLLs = 5 binaries per Windows wheel

# A zip cannot store times before 1980; fixed so that the archives are reproducible.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
TABLE_WORDS = 2048  # 8 KB of constants per binary: sizes in the tens of KB, like real ones


@dataclass(frozen=True)
class WheelSpec:
    index: int
    os: str  # "linux" | "windows"
    python: str
    abi: str
    platform: str  # may be a compressed tag set
    python_dll: str | None

    @property
    def tag(self) -> str:
        return f"{self.python}-{self.abi}-{self.platform}"

    @property
    def pattern(self) -> str:
        """The one exact ``[tool.release.wheels]`` entry that matches this wheel alone: by
        the last tag of its set (the first, the floor, is every Linux wheel's)."""
        return f"{self.python}-{self.abi}-{self.platform.split('.')[-1]}"

    @property
    def file_name(self) -> str:
        return f"{NAME}-{VERSION}-{self.tag}.whl"

    @property
    def binaries(self) -> int:
        return LINUX_EXTENSIONS + 1 if self.os == "linux" else WINDOWS_EXTENSIONS + 2


def wheel_specs(count: int) -> list[WheelSpec]:
    """``count`` wheels, half Linux and half Windows; the first half of each OS's list is
    the whole release at half the size (so the half-size dist is a subset of the full one)."""
    per_os = count // 2
    linux = [(p, interp) for p in LINUX_PLATFORMS for interp in INTERPRETERS][:per_os]
    windows = [(p, interp) for p in WINDOWS_PLATFORMS for interp in INTERPRETERS][:per_os]
    specs: list[WheelSpec] = []
    for os_name, chosen in (("linux", linux), ("windows", windows)):
        for platform, (python, abi, dll) in chosen:
            specs.append(WheelSpec(len(specs), os_name, python, abi, platform, dll))
    return specs


def half_of(specs: Sequence[WheelSpec]) -> list[WheelSpec]:
    linux = [s for s in specs if s.os == "linux"]
    windows = [s for s in specs if s.os == "windows"]
    return linux[: len(linux) // 2] + windows[: len(windows) // 2]


# --- C sources ---------------------------------------------------------------------------


def table(seed: str) -> str:
    """A constant table unique to ``seed``: every binary's bytes differ."""
    state = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "little")
    words = []
    for _ in range(TABLE_WORDS):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        words.append(f"{state >> 32}u")
    rows = [", ".join(words[i : i + 8]) for i in range(0, len(words), 8)]
    return "static const unsigned int table[] = {\n" + ",\n".join(rows) + "\n};\n"


def functions(prefix: str, count: int, export: str) -> str:
    """``count`` small functions with different arithmetic, so the code differs too."""
    lines = []
    for i in range(count):
        lines.append(
            f"{export}unsigned int {prefix}_{i}(unsigned int x) "
            f"{{ return (x * {2 * i + 3}u) ^ table[(x + {i}u) % {TABLE_WORDS}u]; }}"
        )
    return "\n".join(lines) + "\n"


def elf_core_source(seed: str) -> str:
    return (
        "#include <stdio.h>\n#include <string.h>\n"
        + table(seed)
        + functions("bench_core", 12, "")
        + "int bench_core_checksum(const char *s) {\n"
        "  char buf[96]; memcpy(buf, s, strlen(s) % 32);\n"
        '  snprintf(buf, sizeof buf, "%s-%u", s, table[strlen(s) % '
        f"{TABLE_WORDS}u]);\n"
        "  return (int)strlen(buf);\n}\n"
    )


def elf_extension_source(seed: str, module: str) -> str:
    return (
        "#include <string.h>\n"
        "extern int bench_core_checksum(const char *s);\n"
        "extern void *PyLong_FromLong(long v);\n"
        + table(seed)
        + functions(f"{module}_helper", 8, "static ")
        + f"void *PyInit_{module}(void) {{\n"
        f'  return PyLong_FromLong(bench_core_checksum("{seed}") + (long)strlen("{module}")'
        f" + {module}_helper_0(1u) + {module}_helper_7(2u));\n}}\n"
    )


def pe_helper_source(seed: str) -> str:
    # No C runtime (-nostdlib): the helper imports KERNEL32 and nothing else.
    return (
        "#include <windows.h>\n"
        + table(seed)
        + functions("bench_helper", 8, "__declspec(dllexport) ")
        + "__declspec(dllexport) unsigned int bench_helper_ticks(unsigned int x) "
        f"{{ return GetTickCount() + table[x % {TABLE_WORDS}u]; }}\n"
        "BOOL WINAPI DllMain(HINSTANCE h, DWORD reason, LPVOID reserved) "
        "{ (void)h; (void)reason; (void)reserved; return TRUE; }\n"
    )


def pe_core_source(seed: str) -> str:
    return (
        "#include <stdio.h>\n#include <string.h>\n"
        "__declspec(dllimport) unsigned int bench_helper_ticks(unsigned int x);\n"
        + table(seed)
        + functions("bench_core", 12, "__declspec(dllexport) ")
        + "__declspec(dllexport) int bench_core_checksum(const char *s) {\n"
        "  char buf[96];\n"
        '  snprintf(buf, sizeof buf, "%s-%u", s, bench_helper_ticks((unsigned)strlen(s)));\n'
        "  return (int)strlen(buf);\n}\n"
    )


def pe_extension_source(seed: str, module: str, python_dll: str | None) -> str:
    python = (
        "__declspec(dllimport) void *PyLong_FromLong(long v);\n"
        if python_dll
        else "static void *PyLong_FromLong(long v) { return (void *)v; }\n"
    )
    return (
        "__declspec(dllimport) int bench_core_checksum(const char *s);\n"
        + python
        + table(seed)
        + functions(f"{module}_helper", 8, "static ")
        + f"__declspec(dllexport) void *PyInit_{module}(void) {{\n"
        f'  return PyLong_FromLong(bench_core_checksum("{seed}")'
        f" + {module}_helper_0(1u) + {module}_helper_7(2u));\n}}\n"
    )


# --- compiling ---------------------------------------------------------------------------


def run(argv: Sequence[str], cwd: Path) -> None:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed in {cwd}:\n{proc.stdout}{proc.stderr}")


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not on PATH; this benchmark needs it")
    return found


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def build_linux_binaries(spec: WheelSpec, work: Path) -> dict[str, Path]:
    gcc = tool("gcc")
    seed = f"{spec.tag}-{spec.index}"
    core = f"libbenchcore-{short_hash(seed)}.so"
    (work / "core.c").write_text(elf_core_source(f"{seed}-core"))
    run([gcc, "-shared", "-fPIC", "-O1", "-s", f"-Wl,-soname,{core}", "-o", core, "core.c"], work)
    members = {f"{LIBS}/{core}": work / core}
    for k in range(LINUX_EXTENSIONS):
        module = f"_ext{k}"
        (work / f"{module}.c").write_text(elf_extension_source(f"{seed}-{module}", module))
        argv = [
            gcc, "-shared", "-fPIC", "-O1", "-s", "-o", f"{module}.so", f"{module}.c",
            f"-L{work}", f"-l:{core}", f"-Wl,-rpath,$ORIGIN/../{LIBS}",
        ]  # fmt: skip
        run(argv, work)
        members[f"{NAME}/{module}.so"] = work / f"{module}.so"
    return members


def build_windows_binaries(spec: WheelSpec, work: Path) -> dict[str, Path]:
    arch = WINDOWS_PLATFORMS[spec.platform]
    gcc = tool(f"{arch}-w64-mingw32-gcc")
    dlltool = tool(f"{arch}-w64-mingw32-dlltool")
    seed = f"{spec.tag}-{spec.index}"
    helper = f"benchhelper-{short_hash(seed + 'helper')}.dll"
    core = f"benchcore-{short_hash(seed + 'core')}.dll"
    entry = "_DllMain@12" if arch == "i686" else "DllMain"  # i686 decorates stdcall names

    (work / "helper.c").write_text(pe_helper_source(f"{seed}-helper"))
    run(
        [gcc, "-shared", "-O1", "-s", "-nostdlib", f"-Wl,-e,{entry}", "-o", helper, "helper.c",
         f"-Wl,--out-implib,{helper}.a", "-lkernel32"],
        work,
    )  # fmt: skip
    (work / "core.c").write_text(pe_core_source(f"{seed}-core"))
    run(
        [gcc, "-shared", "-O1", "-s", "-o", core, "core.c", f"-Wl,--out-implib,{core}.a",
         f"-L{work}", f"-l:{helper}.a"],
        work,
    )  # fmt: skip
    python_lib: list[str] = []
    if spec.python_dll:
        (work / "python.def").write_text(f"LIBRARY {spec.python_dll}\nEXPORTS\nPyLong_FromLong\n")
        run([dlltool, "--output-lib", "python.a", "-D", spec.python_dll, "-d", "python.def"], work)
        python_lib = ["-l:python.a"]
    members = {f"{LIBS}/{helper}": work / helper, f"{LIBS}/{core}": work / core}
    for k in range(WINDOWS_EXTENSIONS):
        module = f"_ext{k}"
        (work / f"{module}.c").write_text(
            pe_extension_source(f"{seed}-{module}", module, spec.python_dll)
        )
        run(
            [gcc, "-shared", "-O1", "-s", "-o", f"{module}.pyd", f"{module}.c", f"-L{work}",
             f"-l:{core}.a", *python_lib],
            work,
        )  # fmt: skip
        members[f"{NAME}/{module}.pyd"] = work / f"{module}.pyd"
    return members


# --- tiny wheels (--tiny) ------------------------------------------------------------------

# 25 interpreter/ABI tags x 12 manylinux tag sets: 300 distinct tags, all x86_64, each
# naming the project's floor (manylinux_2_17) and one tag of its own (2014, 2_18 ... 2_28).
TINY_FLOORS = range(17, 29)
MAX_TINY = len(INTERPRETERS) * len(TINY_FLOORS)


def tiny_platform(floor: int) -> str:
    own = "manylinux2014_x86_64" if floor == 17 else f"manylinux_2_{floor}_x86_64"
    return f"manylinux_2_17_x86_64.{own}"


def tiny_specs(count: int) -> list[WheelSpec]:
    chosen = [(f, interp) for f in TINY_FLOORS for interp in INTERPRETERS][:count]
    return [
        WheelSpec(index, "linux", python, abi, tiny_platform(floor), dll)
        for index, (floor, (python, abi, dll)) in enumerate(chosen)
    ]


def build_tiny_binaries(spec: WheelSpec, work: Path) -> dict[str, Path]:
    """One small extension module: a few KB, glibc's snprintf, its own seed."""
    seed = f"{spec.tag}-{spec.index}"
    (work / "_tiny.c").write_text(
        "#include <stdio.h>\n"
        "void *PyLong_FromLong(long v);\n"
        f'static const char seed[] = "{seed}";\n'
        "void *PyInit__tiny(void) {\n"
        '  char buf[128]; int n = snprintf(buf, sizeof buf, "%s", seed);\n'
        "  return PyLong_FromLong(n);\n}\n"
    )
    run([tool("gcc"), "-shared", "-fPIC", "-O1", "-s", "-o", "_tiny.so", "_tiny.c"], work)
    return {f"{NAME}/_tiny.so": work / "_tiny.so"}


def tiny_main(count: int, keep: Path | None) -> int:
    """Time validate alone on ``count`` tiny manylinux wheels (and an sdist)."""
    env = bench_env()
    os.environ["PATH"] = env["PATH"]
    with contextlib.ExitStack() as stack:
        if keep:
            keep.mkdir(parents=True)
            scratch = keep.resolve()
        else:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-tiny-")))
        specs = tiny_specs(count)
        started = time.perf_counter()
        dist = build_release(specs, scratch, build_tiny_binaries)
        print(f"built {count} tiny manylinux wheels + 1 sdist in "
              f"{time.perf_counter() - started:.1f} s (not timed)")  # fmt: skip
        project = write_project(scratch / "project", specs)
        subprocess.run([sys.executable, "-m", "release", "--version"], cwd=REPO, env=env,
                       capture_output=True, check=True)  # fmt: skip
        elapsed = time_validate(project, dist, scratch / "validate.log", env)
        record: dict[str, Any] = json.loads((dist / ".release" / "validate.json").read_text())
        if record["status"] != "ok" or any(f["level"] == "error" for f in record["findings"]):
            fail(f"validate did not pass on the tiny wheels (log: {scratch / 'validate.log'})")
        check_audited(record, {s.file_name for s in specs})
        print(f"validate.json: {tool_seconds(record)}")
        print(f"tiny: validate of {count} manylinux wheels took {elapsed:.2f} s")
    return 0


# --- archives ----------------------------------------------------------------------------

DESCRIPTION = """\
# bench_pkg

A synthetic package with native code, made by nox-release's `bench/validate_scale.py` to
time the `validate` stage on a large release.

## What is inside

- extension modules built with gcc (Linux) and MinGW-w64 (Windows);
- bundled shared libraries, as `auditwheel repair` and `delvewheel` leave them;
- nothing worth installing.

```python
import bench_pkg
```
"""


def metadata_text() -> str:
    headers = [
        "Metadata-Version: 2.1",
        f"Name: {NAME}",
        f"Version: {VERSION}",
        "Summary: A synthetic package with native code for the validate benchmark",
        "Author: nox-release benchmark",
        "License: MIT",
        "Classifier: Programming Language :: Python :: 3",
        "Classifier: Programming Language :: C",
        "Requires-Python: >=3.6",
        "Description-Content-Type: text/markdown",
    ]
    return "\n".join(headers) + "\n\n" + DESCRIPTION


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(dist: Path, spec: WheelSpec, binaries: dict[str, Path]) -> Path:
    dist_info = f"{NAME}-{VERSION}.dist-info"
    tags = sorted(str(tag) for tag in parse_tag(spec.tag))
    members: dict[str, bytes] = {
        f"{NAME}/__init__.py": b'"""bench_pkg: extension modules for a benchmark."""\n',
    }
    members.update({name: path.read_bytes() for name, path in sorted(binaries.items())})
    members[f"{dist_info}/METADATA"] = metadata_text().encode()
    wheel = ["Wheel-Version: 1.0", "Generator: validate_scale", "Root-Is-Purelib: false"]
    members[f"{dist_info}/WHEEL"] = ("\n".join(wheel + [f"Tag: {t}" for t in tags]) + "\n").encode()
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n" for name, data in members.items())
    members[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    path = dist / spec.file_name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            executable = name.endswith((".so", ".pyd", ".dll"))
            info.external_attr = (0o755 if executable else 0o644) << 16
            archive.writestr(info, data)
    return path


def package_pyproject() -> str:
    return (
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        f'\n[project]\nname = "{NAME}"\nversion = "{VERSION}"\nreadme = "README.md"\n'
    )


def write_sdist(dist: Path) -> Path:
    top = f"{NAME}-{VERSION}"
    files = {
        "PKG-INFO": metadata_text().encode(),
        "pyproject.toml": package_pyproject().encode(),
        "README.md": DESCRIPTION.encode(),
        f"src/{NAME}/__init__.py": b'"""bench_pkg: extension modules for a benchmark."""\n',
        "src/core.c": elf_core_source("sdist").encode(),
    }
    path = dist / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, 1704067200
            archive.addfile(info, io.BytesIO(data))
    return path


def write_project(root: Path, specs: Sequence[WheelSpec]) -> Path:
    """A project whose ``[tool.release.wheels]`` expects exactly the wheels in ``specs``."""
    package = root / "pkg"
    package.mkdir(parents=True)
    (package / "pyproject.toml").write_text(package_pyproject())
    (package / "README.md").write_text(DESCRIPTION)

    def patterns(os_name: str) -> str:
        return "".join(f'    "{s.pattern}",\n' for s in specs if s.os == os_name)

    (root / "pyproject.toml").write_text(
        '[tool.release]\npackage-dir = "pkg"\nbackend = "build"\nsdist = true\n\n'
        f"[tool.release.wheels]\nlinux = [\n{patterns('linux')}]\n"
        f"windows = [\n{patterns('windows')}]\n"
    )
    return root


def build_release(
    specs: Sequence[WheelSpec],
    scratch: Path,
    linux_binaries: Callable[[WheelSpec, Path], dict[str, Path]] | None = None,
) -> Path:
    """Compile every wheel's binaries (in parallel, one wheel per job) and pack the dist."""
    dist = scratch / "dist-full"
    dist.mkdir()

    def build(spec: WheelSpec) -> Path:
        work = scratch / "build" / f"{spec.index:03d}"
        work.mkdir(parents=True)
        if spec.os == "linux":
            binaries = (linux_binaries or build_linux_binaries)(spec, work)
        else:
            binaries = build_windows_binaries(spec, work)
        return write_wheel(dist, spec, binaries)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(build, specs))
    write_sdist(dist)
    return dist


def subset_dist(full: Path, specs: Sequence[WheelSpec], dest: Path) -> Path:
    """A dist dir holding ``specs``' wheels and the sdist, hard-linked from the full one."""
    dest.mkdir()
    names = [s.file_name for s in specs] + [f"{NAME}-{VERSION}.tar.gz"]
    for name in names:
        os.link(full / name, dest / name)
    return dest


# --- the two timed runs --------------------------------------------------------------------

SHELL_LOOP = r"""set -euo pipefail
# What a careful maintainer runs over a dist dir before uploading it.
dist=$1
for file in "$dist"/*.whl "$dist"/*.tar.gz; do
    twine check --strict "$file"
done
for wheel in "$dist"/*linux*.whl; do
    echo "auditwheel: $wheel"
    auditwheel show "$wheel"
done
for wheel in "$dist"/*-win*.whl; do
    unpacked=$(mktemp -d)
    unzip -q "$wheel" -d "$unpacked"
    while IFS= read -r -d '' binary; do
        echo "objdump: $binary"
        objdump -p "$binary" | grep 'DLL Name'
    done < <(find "$unpacked" \( -name '*.pyd' -o -name '*.dll' \) -print0)
    rm -rf "$unpacked"
done
"""


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("GITHUB_ACTIONS", "GITHUB_REF", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        env.pop(name, None)
    tools = str(Path(sys.executable).parent)
    env["PATH"] = f"{tools}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def time_validate(project: Path, dist: Path, log: Path, env: dict[str, str]) -> float:
    shutil.rmtree(dist / ".release", ignore_errors=True)
    argv = [sys.executable, "-m", "release", "validate", "--project", str(project)]
    argv += ["--dist", str(dist)]
    with log.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.run(
            argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
        elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
        raise SystemExit(f"validate exited with {proc.returncode} (log: {log}):\n{tail}")
    return elapsed


def time_loop(script: Path, dist: Path, log: Path, env: dict[str, str]) -> float:
    with log.open("w") as out:
        started = time.perf_counter()
        proc = subprocess.run(
            ["bash", str(script), str(dist)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
        elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"the shell loop exited with {proc.returncode} (log: {log})")
    return elapsed


# --- checking that both did all the work ---------------------------------------------------


def fail(message: str) -> None:
    raise SystemExit(f"benchmark invalid: {message}")


def check_validate_record(dist: Path, specs: Sequence[WheelSpec]) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((dist / ".release" / "validate.json").read_text())
    wheels = {s.file_name: s for s in specs}
    files = [*wheels, f"{NAME}-{VERSION}.tar.gz"]
    if record["status"] != "ok":
        fail(f"validate.json has status {record['status']}")
    errors = [f for f in record["findings"] if f["level"] in ("error", "warning")]
    if errors:
        fail(f"validate reported {len(errors)} errors/warnings, first: {errors[0]}")
    expected_binaries = sum(s.binaries for s in specs)
    counted = record["details"]["binaries"]
    if counted != expected_binaries:
        fail(f"validate.json counts {counted} binaries, built {expected_binaries}")
    checks: dict[str, list[str]] = record["details"]["checks"]
    for name in files:
        needed = {"integrity", "metadata", "version"}
        if name in wheels:
            needed |= {"wheel-set", "pypi-tags"}
            needed.add("manylinux" if wheels[name].os == "linux" else "windows-dlls")
        missing = needed - set(checks.get(name, []))
        if missing:
            fail(f"validate did not run {sorted(missing)} on {name}")
    commands = record["commands"]
    check_audited(record, {s.file_name for s in specs if s.os == "linux"})
    dumped = sum(len(c["argv"]) - 2 for c in commands if c["argv"][0] == "objdump")
    windows_binaries = sum(s.binaries for s in specs if s.os == "windows")
    if dumped != windows_binaries:
        fail(f"objdump read {dumped} binaries, the Windows wheels hold {windows_binaries}")
    twined = {Path(a).name for c in commands if c["argv"][0] == "twine" for a in c["argv"]}
    if not set(files) <= twined:
        fail("twine check did not see every file")
    return record


def auditwheel_runs(record: dict[str, Any]) -> list[dict[str, Any]]:
    """validate's auditwheel commands: batches of ``python -m release.auditwheel_batch``, or
    one ``auditwheel show`` per wheel (before 2026-12-05), so older revisions can be timed."""
    return [
        c
        for c in record["commands"]
        if c["argv"][0] == "auditwheel" or "release.auditwheel_batch" in c["argv"]
    ]


def check_audited(record: dict[str, Any], linux: set[str]) -> None:
    runs = auditwheel_runs(record)
    audited = [Path(a).name for c in runs for a in c["argv"] if a.endswith(".whl")]
    if sorted(audited) != sorted(linux) or any(c["returncode"] for c in runs):
        fail(f"auditwheel judged {len(audited)} wheels, with success needed on {len(linux)}")


def check_loop_log(log: Path, specs: Sequence[WheelSpec]) -> None:
    text = log.read_text()
    files = len(specs) + 1
    checked = text.count("PASSED")
    audited = text.count("auditwheel: ")
    dumped = text.count("objdump: ")
    linux = sum(s.os == "linux" for s in specs)
    windows_binaries = sum(s.binaries for s in specs if s.os == "windows")
    if (checked, audited, dumped) != (files, linux, windows_binaries):
        fail(
            f"the shell loop checked {checked}/{files} files, audited {audited}/{linux} "
            f"wheels, dumped {dumped}/{windows_binaries} binaries (log: {log})"
        )


def tool_seconds(record: dict[str, Any]) -> str:
    """Where validate's time went, from the durations its record keeps per command."""
    totals: dict[str, list[float]] = {}
    for command in record["commands"]:
        name = "auditwheel" if command in auditwheel_runs(record) else command["argv"][0]
        totals.setdefault(name, []).append(command["duration_s"])
    parts = [f"{name} {len(d)}x {sum(d):.2f} s" for name, d in totals.items()]
    return f"stage {record['duration_s']:.2f} s; tools (summed, some run in parallel): " + (
        ", ".join(parts)
    )


# --- main ----------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    wheels: int
    binaries: int
    validate_s: float
    loop_s: float
    breakdown: str

    @property
    def ratio(self) -> float:
        return self.validate_s / self.loop_s


def measure(
    label: str, specs: Sequence[WheelSpec], dist: Path, scratch: Path, env: dict[str, str]
) -> Result:
    project = write_project(scratch / f"project-{label}", specs)
    script = scratch / "loop.sh"
    validate_s = time_validate(project, dist, scratch / f"validate-{label}.log", env)
    record = check_validate_record(dist, specs)
    loop_log = scratch / f"loop-{label}.log"
    loop_s = time_loop(script, dist, loop_log, env)
    check_loop_log(loop_log, specs)
    binaries = sum(s.binaries for s in specs)
    return Result(label, len(specs), binaries, validate_s, loop_s, tool_seconds(record))


def report(result: Result, ratio_label: str) -> None:
    print(f"{result.label} size: {result.wheels} wheels + 1 sdist, {result.binaries} binaries")
    print(
        f"  validate:   {result.validate_s:7.2f} s  "
        f"{result.binaries / result.validate_s:6.1f} binaries/s"
    )
    print(
        f"  shell loop: {result.loop_s:7.2f} s  {result.binaries / result.loop_s:6.1f} binaries/s"
    )
    print(f"  validate.json: {result.breakdown}")
    print(f"{ratio_label} {result.ratio:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--wheels",
        type=int,
        default=100,
        help=f"wheels at full size, a multiple of 4 up to {MAX_WHEELS} (default 100: 500 binaries)",
    )
    parser.add_argument("--keep", type=Path, help="build in this new dir and keep it")
    parser.add_argument(
        "--tiny",
        type=int,
        metavar="N",
        help=f"instead: time validate alone on N tiny manylinux wheels (up to {MAX_TINY})",
    )
    args = parser.parse_args()
    if args.tiny is not None:
        if not 1 <= args.tiny <= MAX_TINY:
            parser.error(f"--tiny must be between 1 and {MAX_TINY}")
        return tiny_main(args.tiny, args.keep)
    if args.wheels % 4 or not 4 <= args.wheels <= MAX_WHEELS:
        parser.error(f"--wheels must be a multiple of 4 between 4 and {MAX_WHEELS}")

    env = bench_env()
    for name in ("twine", "auditwheel", "objdump", "unzip", "gcc"):
        if shutil.which(name, path=env["PATH"]) is None:
            raise SystemExit(f"{name} is not on PATH; this benchmark needs it")
    os.environ["PATH"] = env["PATH"]
    started = time.perf_counter()
    if args.keep:
        args.keep.mkdir(parents=True)
        scratch_cm: tempfile.TemporaryDirectory[str] | None = None
        scratch = args.keep.resolve()
    else:
        scratch_cm = tempfile.TemporaryDirectory(prefix="bench-validate-")
        scratch = Path(scratch_cm.name)
    try:
        full = wheel_specs(args.wheels)
        half = half_of(full)
        build_started = time.perf_counter()
        full_dist = build_release(full, scratch)
        half_dist = subset_dist(full_dist, half, scratch / "dist-half")
        (scratch / "loop.sh").write_text(SHELL_LOOP)
        size = sum(p.stat().st_size for p in full_dist.iterdir())
        print(
            f"built {len(full)} wheels ({sum(s.binaries for s in full)} binaries, each compiled "
            f"on its own) + 1 sdist, {size / 1e6:.1f} MB, in "
            f"{time.perf_counter() - build_started:.1f} s (not timed)"
        )
        # Untimed: the first start of each tool pays for cold caches.
        for argv in (["twine", "--version"], ["auditwheel", "--version"],
                     [sys.executable, "-m", "release", "--version"]):  # fmt: skip
            subprocess.run(argv, cwd=REPO, env=env, capture_output=True, check=True)

        results = [
            measure("half", half, half_dist, scratch, env),
            measure("full", full, full_dist, scratch, env),
        ]
    finally:
        if scratch_cm is not None:
            scratch_cm.cleanup()
    half_result, full_result = results
    report(half_result, "half-size ratio")
    report(full_result, "full-size ratio")
    print(
        f"growth for {full_result.binaries / half_result.binaries:.1f}x the binaries: validate "
        f"x{full_result.validate_s / half_result.validate_s:.2f}, shell loop "
        f"x{full_result.loop_s / half_result.loop_s:.2f}"
    )
    met = "met" if full_result.ratio <= TARGET_RATIO else "NOT met"
    print(f"target ratio <= {TARGET_RATIO}: {met}; total run {time.perf_counter() - started:.1f} s")
    print(f"ratio {full_result.ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
