"""Reproducible builds: a rebuild of the same commit makes the same bytes.

"Re-run all jobs" after a publish rebuilds every artifact, and PyPI refuses a file name it
already holds with other bytes, for ever. The unit tests check what nox-release tells the
build tools (the date and where it came from, the linker flag, the container's environment);
the end-to-end tests build each example twice, the second time from a clone at another path
with other file times, as a re-run on another runner would, and compare the bytes.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import tarfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, release_project, run_release
from fake_processes import Call, FakeProcesses, make_ctx

from release.backends.build import BuildBackend
from release.backends.cibuildwheel import CibuildwheelBackend, cibuildwheel_env
from release.backends.maturin import NO_PE_TIMESTAMP, MaturinBackend
from release.backends.reproducible import (
    FALLBACK_EPOCH,
    SourceDate,
    append_rustflags,
    clamp_sdist_times,
    source_date,
    with_source_date,
)
from release.config import ReleaseConfig
from release.errors import BuildOutputError, ConfigValueError
from release.records import sha256_of
from release.runner import LocalProcesses

COMMIT_TIME = 1700000000  # 2023-11-14T22:13:20Z

MATURIN_PACKAGE = """\
[build-system]
requires = ["maturin>=1.5"]
build-backend = "maturin"

[project]
name = "demo"
version = "1.0"
"""

CIBW_PACKAGE = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "demo"
version = "1.0"

[tool.cibuildwheel]
environment-pass = ["CC", "CFLAGS"]
"""

GNU_TARGET = '[tool.release.windows]\ntarget = "x86_64-pc-windows-gnu"\n'


def git(*args: str, cwd: Path, date: int = COMMIT_TIME) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": f"@{date} +0000",
        "GIT_COMMITTER_DATE": f"@{date} +0000",
        "GIT_AUTHOR_NAME": "Release Test",
        "GIT_AUTHOR_EMAIL": "release@example.invalid",
        "GIT_COMMITTER_NAME": "Release Test",
        "GIT_COMMITTER_EMAIL": "release@example.invalid",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def commit_all(root: Path, date: int = COMMIT_TIME) -> str:
    """``root`` as a git repository with one commit made at ``date``; its hash."""
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-q", "-m", "release", cwd=root, date=date)
    return git("rev-parse", "HEAD", cwd=root)


def maturin_config(root: Path, release: str = "") -> ReleaseConfig:
    return release_project(root, release, MATURIN_PACKAGE)


# --- where the date comes from ----------------------------------------------------------------


def test_the_date_is_the_time_of_the_commit_built(tmp_path: Path) -> None:
    config = maturin_config(tmp_path)
    head = commit_all(tmp_path)
    # A later commit time on disk must not matter: the files' times are the checkout's.
    os.utime(tmp_path / "pyproject.toml", (COMMIT_TIME + 999, COMMIT_TIME + 999))
    date = source_date(make_ctx(config, processes=LocalProcesses()))
    assert date.epoch == COMMIT_TIME
    assert head[:12] in date.source and "git log -1 --format=%ct" in date.source
    assert date.as_record()["utc"] == "2023-11-14T22:13:20+00:00"


def test_a_date_set_by_the_user_wins(tmp_path: Path) -> None:
    config = maturin_config(tmp_path)
    commit_all(tmp_path)
    ctx = make_ctx(config, environ={"SOURCE_DATE_EPOCH": "1234567890"})
    date = source_date(ctx)
    assert (date.epoch, date.source) == (1234567890, "SOURCE_DATE_EPOCH set in the environment")


@pytest.mark.parametrize("value", ["yesterday", "-5", "1.5", "\u00b2", "\u0661\u0662"])
def test_a_date_that_is_no_number_is_refused(tmp_path: Path, value: str) -> None:
    # str.isdigit() holds for a superscript two, which int() refuses: that was exit 70.
    ctx = make_ctx(maturin_config(tmp_path), environ={"SOURCE_DATE_EPOCH": value})
    with pytest.raises(ConfigValueError) as info:
        source_date(ctx)
    assert repr(value) in info.value.cause and "unset SOURCE_DATE_EPOCH" in info.value.remedy
    assert info.value.exit_code == 17


@pytest.mark.parametrize("value", ["4354819200", "99999999999999999999"])
def test_a_date_no_wheel_can_hold_is_refused(tmp_path: Path, value: str) -> None:
    """A zip entry holds no time after 2107; far beyond, recording the date was exit 70."""
    ctx = make_ctx(maturin_config(tmp_path), environ={"SOURCE_DATE_EPOCH": value})
    with pytest.raises(ConfigValueError) as info:
        source_date(ctx)
    assert f"SOURCE_DATE_EPOCH is {value!r}, later than 2107" in info.value.cause
    assert info.value.exit_code == 17
    latest = make_ctx(maturin_config(tmp_path), environ={"SOURCE_DATE_EPOCH": "4354819199"})
    assert source_date(latest).as_record()["utc"] == "2107-12-31T23:59:59+00:00"


def test_in_a_repository_without_commits_the_date_is_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    config = maturin_config(tmp_path / "fresh")
    git("init", "-q", cwd=config.project_root)
    date = source_date(make_ctx(config, processes=LocalProcesses()))
    assert date.epoch == FALLBACK_EPOCH
    assert "git log found no commit in" in date.source


def test_a_shallow_clone_on_a_detached_head_gives_the_commit_time(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    maturin_config(origin)
    commit_all(origin, date=COMMIT_TIME - 100)
    (origin / "later.txt").write_text("later")
    git("add", "-A", cwd=origin)
    git("commit", "-q", "-m", "later", cwd=origin)
    git("clone", "-q", "--depth", "1", f"file://{origin}", str(tmp_path / "clone"), cwd=tmp_path)
    git("checkout", "-q", "--detach", "HEAD", cwd=tmp_path / "clone")
    config = maturin_config(tmp_path / "clone")
    date = source_date(make_ctx(config, processes=LocalProcesses()))
    assert date.epoch == COMMIT_TIME


def test_outside_git_the_date_is_fixed_and_the_record_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # git must not find a repository above tmp_path either.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    config = maturin_config(tmp_path / "unpacked")
    date = source_date(make_ctx(config, processes=LocalProcesses()))
    assert date.epoch == FALLBACK_EPOCH
    assert date.source.startswith("no commit to take it from (git log found no commit in")
    assert "Set SOURCE_DATE_EPOCH" in date.source


def test_without_git_on_path_the_date_is_fixed(tmp_path: Path) -> None:
    ctx = make_ctx(maturin_config(tmp_path), processes=FakeProcesses(tools={"git": None}))
    date = source_date(ctx)
    assert date.epoch == FALLBACK_EPOCH
    assert "git is not on PATH" in date.source


# --- what the build tools are told ------------------------------------------------------------


def test_rustflags_go_where_cargo_reads_them_and_keep_the_users() -> None:
    target = "x86_64-pc-windows-gnu"
    flags = ["-C", "link-arg=-Wl,--no-insert-timestamp"]
    assert append_rustflags({}, target, flags) == {
        "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS": "-C link-arg=-Wl,--no-insert-timestamp"
    }
    mine = {"CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS": "-C opt-level=s"}
    assert append_rustflags(mine, target, flags)[
        "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS"
    ] == ("-C opt-level=s -C link-arg=-Wl,--no-insert-timestamp")
    # RUSTFLAGS replaces the target's flags in cargo: the flags must join it instead.
    env = append_rustflags({"RUSTFLAGS": "-C target-cpu=x86-64-v2"}, target, flags)
    assert env == {"RUSTFLAGS": "-C target-cpu=x86-64-v2 -C link-arg=-Wl,--no-insert-timestamp"}
    encoded = append_rustflags({"CARGO_ENCODED_RUSTFLAGS": "-Dwarnings"}, target, flags)
    assert encoded == {
        "CARGO_ENCODED_RUSTFLAGS": "-Dwarnings\x1f-C\x1flink-arg=-Wl,--no-insert-timestamp"
    }


def test_the_windows_gnu_build_gets_the_date_and_no_pe_timestamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "linux")
    monkeypatch.setenv("RUSTFLAGS", "-C debuginfo=1")
    config = maturin_config(tmp_path, GNU_TARGET)
    ctx = make_ctx(config)
    dated = with_source_date(ctx, source_date(make_ctx(config, environ={"SOURCE_DATE_EPOCH": "7"})))
    MaturinBackend(config).build_wheels("windows", dated, tmp_path / "out")
    [call] = [c for c in ctx.runner.processes.calls if c.tool == "maturin"]  # type: ignore[attr-defined]
    assert call.env["SOURCE_DATE_EPOCH"] == "7"
    assert call.env["RUSTFLAGS"] == "-C debuginfo=1 " + " ".join(NO_PE_TIMESTAMP)


def test_the_windows_msvc_build_gets_the_date_and_brepro(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """link.exe stamps the link time and a random PDB id into the .pyd unless told /Brepro."""
    monkeypatch.setattr("release.backends.maturin.host_os", lambda: "windows")
    monkeypatch.delenv("RUSTFLAGS", raising=False)
    monkeypatch.delenv("CARGO_ENCODED_RUSTFLAGS", raising=False)
    config = maturin_config(tmp_path)  # the default target: x86_64-pc-windows-msvc
    ctx = make_ctx(config, environ={"SYSTEMDRIVE": str(tmp_path)})
    dated = with_source_date(ctx, source_date(make_ctx(config, environ={"SOURCE_DATE_EPOCH": "7"})))
    MaturinBackend(config).build_wheels("windows", dated, tmp_path / "out")
    [call] = [c for c in ctx.runner.processes.calls if c.tool == "maturin"]  # type: ignore[attr-defined]
    assert call.env["SOURCE_DATE_EPOCH"] == "7"
    assert call.env["CARGO_TARGET_X86_64_PC_WINDOWS_MSVC_RUSTFLAGS"] == "-C link-arg=/Brepro"
    assert "no-insert-timestamp" not in " ".join(call.env.values())


def test_the_linux_build_and_the_sdist_get_the_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("release.backends.maturin.glibc_version", lambda: (2, 17))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    config = maturin_config(tmp_path)
    ctx = make_ctx(config)
    dated = with_source_date(ctx, source_date(make_ctx(config, environ={"SOURCE_DATE_EPOCH": "7"})))
    backend = MaturinBackend(config)
    backend.build_wheels("linux", dated, tmp_path / "out")
    backend.build_sdist(dated, tmp_path / "out")
    calls = [c for c in ctx.runner.processes.calls if c.tool == "maturin"]  # type: ignore[attr-defined]
    assert [c.args[0] for c in calls] == ["build", "sdist"]
    assert all(c.env["SOURCE_DATE_EPOCH"] == "7" for c in calls)
    # The Linux link is not GNU ld for Windows: no PE flag there.
    assert not any("no-insert-timestamp" in " ".join(c.env.values()) for c in calls)


def test_cibuildwheel_passes_the_date_into_its_containers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CIBW_ENVIRONMENT_PASS_LINUX", raising=False)
    config = release_project(tmp_path, 'backend = "cibuildwheel"\n', CIBW_PACKAGE)
    assert CibuildwheelBackend(config).name == "cibuildwheel"
    dated = with_source_date(make_ctx(config), source_date(
        make_ctx(config, environ={"SOURCE_DATE_EPOCH": "7"})
    ))  # fmt: skip
    env = cibuildwheel_env(dated, {})
    assert env["SOURCE_DATE_EPOCH"] == "7"
    # The variable replaces pyproject.toml's environment-pass: the user's names stay in it.
    assert env["CIBW_ENVIRONMENT_PASS_LINUX"] == "CC CFLAGS SOURCE_DATE_EPOCH"
    monkeypatch.setenv("CIBW_ENVIRONMENT_PASS_LINUX", "FOO")
    assert cibuildwheel_env(dated, {})["CIBW_ENVIRONMENT_PASS_LINUX"] == "FOO SOURCE_DATE_EPOCH"
    # No date chosen (a fake context): nothing added.
    assert "SOURCE_DATE_EPOCH" not in cibuildwheel_env(make_ctx(config), {}).get(
        "CIBW_ENVIRONMENT_PASS_LINUX", ""
    )


def write_sdist(path: Path, files: dict[str, bytes], mtime: float) -> Path:
    """An sdist as setuptools writes one: PAX, gzip, file times as found on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as sdist:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            sdist.addfile(info, io.BytesIO(data))
    return path


def test_sdist_times_are_clamped_so_two_checkouts_give_one_sdist(tmp_path: Path) -> None:
    files = {"demo-1.0/PKG-INFO": b"Name: demo\n", "demo-1.0/demo.py": b"x = 1\n"}
    first = write_sdist(tmp_path / "a" / "demo-1.0.tar.gz", files, COMMIT_TIME + 10.25)
    time.sleep(1.1)  # the gzip header of the second holds a later build time
    second = write_sdist(tmp_path / "b" / "demo-1.0.tar.gz", files, COMMIT_TIME + 7200.5)
    assert first.read_bytes() != second.read_bytes()
    assert clamp_sdist_times(first, COMMIT_TIME) and clamp_sdist_times(second, COMMIT_TIME)
    assert first.read_bytes() == second.read_bytes()
    with tarfile.open(first) as sdist:
        assert [(m.name, m.mtime) for m in sdist.getmembers()] == [
            (name, COMMIT_TIME) for name in files
        ]
        assert {m.name: sdist.extractfile(m).read() for m in sdist.getmembers()} == files  # type: ignore[union-attr]
    assert int.from_bytes(first.read_bytes()[4:8], "little") == COMMIT_TIME
    # Already clamped: left alone; nothing earlier than the date is moved.
    assert not clamp_sdist_times(first, COMMIT_TIME)
    old = write_sdist(tmp_path / "c" / "demo-1.0.tar.gz", files, COMMIT_TIME - 50)
    clamp_sdist_times(old, COMMIT_TIME)
    with tarfile.open(old) as sdist:
        assert {m.mtime for m in sdist.getmembers()} == {COMMIT_TIME - 50}


def test_python_build_sdist_is_clamped_and_a_broken_one_is_named(tmp_path: Path) -> None:
    config = release_project(tmp_path, 'backend = "build"\n', CIBW_PACKAGE)
    out = tmp_path / "out"
    files = {"demo-1.0/PKG-INFO": b"Name: demo\n"}

    def python_build(call: Call) -> str:
        write_sdist(out / "demo-1.0.tar.gz", files, COMMIT_TIME + 600)
        return "Successfully built demo-1.0.tar.gz"

    ctx = make_ctx(config, processes=FakeProcesses(respond=python_build))
    dated = with_source_date(ctx, source_date(make_ctx(config, environ={"SOURCE_DATE_EPOCH": "7"})))
    BuildBackend(config).build_sdist(dated, out)
    [call] = ctx.runner.processes.calls  # type: ignore[attr-defined]
    assert call.env["SOURCE_DATE_EPOCH"] == "7"
    with tarfile.open(out / "demo-1.0.tar.gz") as sdist:
        assert [m.mtime for m in sdist.getmembers()] == [7]

    def truncated(call: Call) -> str:
        (out / "demo-1.0.tar.gz").write_bytes(b"\x1f\x8b\x08\x00 cut short")
        return ""

    ctx = make_ctx(config, processes=FakeProcesses(respond=truncated))
    with pytest.raises(BuildOutputError) as info:
        BuildBackend(config).build_sdist(with_source_date(ctx, SourceDate(7, "test")), out)
    assert "demo-1.0.tar.gz" in info.value.cause and info.value.exit_code == 22


# --- end to end: build twice, compare the bytes -----------------------------------------------
#
# The first build is the run that published; the second is "Re-run all jobs": a fresh clone of
# the same commit, at another path, with the file times of a later checkout, and a cargo target
# dir of its own (a re-run starts clean; each side's target dir may stay warm between test
# sessions, in pytest's cache, since the two sides never share one).

SKIP_IN_COPY = shutil.ignore_patterns(
    "target", "dist", ".venv", ".git", "*.egg-info", "build", "__pycache__", ".*_cache"
)


@dataclass
class Side:
    root: Path  # the project's checkout
    dist: Path


@dataclass
class Twice:
    first: Side
    second: Side


def checkouts(tmp: Path, source: Path, name: str) -> tuple[Path, Path]:
    """The commit built by the first run, checked out an hour earlier, and a clone of it for
    the re-run: another path, the file times of a checkout made now."""
    first = tmp / "runner-1" / name
    shutil.copytree(source, first, ignore=SKIP_IN_COPY)
    commit_all(first)
    earlier = time.time() - 3600
    for path in [first, *first.rglob("*")]:
        os.utime(path, (earlier, earlier), follow_symlinks=False)
    second = tmp / "elsewhere" / "runner-2" / "work" / name
    second.parent.mkdir(parents=True)
    git("clone", "-q", str(first), str(second), cwd=tmp)
    return first, second


def target_dir(request: pytest.FixtureRequest, tmp: Path, side: str) -> Path:
    cache = getattr(request.config, "cache", None)  # None with -p no:cacheprovider
    if cache is not None:
        return cache.mkdir(f"reproducible-cargo-target-{side}")
    return tmp / f"cargo-target-{side}"


def build_twice(
    request: pytest.FixtureRequest, tmp: Path, source: Path, name: str, stages: list[str]
) -> Twice:
    """Each of ``stages`` (a stage, or a stage and its options: "build-linux --arch x86_64")
    in two checkouts."""
    sides = []
    for side, root in zip(("first", "second"), checkouts(tmp, source, name)):
        dist = tmp / f"dist-{side}"
        env = {"CARGO_TARGET_DIR": str(target_dir(request, tmp, side))}
        for stage in stages:
            proc = run_release(*stage.split(), "--project", str(root), "--dist", str(dist), env=env)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        sides.append(Side(root, dist))
    return Twice(*sides)


def build_where_the_first_built(
    request: pytest.FixtureRequest, tmp: Path, twice: Twice, stages: list[str]
) -> Path:
    """A third build: a re-run on GitHub, which checks out to the same path as the first run
    (the first checkout is moved away, a clone takes its place, with the re-run's target
    dir); its dist dir."""
    moved = tmp / "moved-away" / twice.first.root.name
    moved.parent.mkdir()
    twice.first.root.rename(moved)
    git("clone", "-q", str(moved), str(twice.first.root), cwd=tmp)
    dist = tmp / "dist-third"
    env = {"CARGO_TARGET_DIR": str(target_dir(request, tmp, "second"))}
    for stage in stages:
        proc = run_release(
            *stage.split(), "--project", str(twice.first.root), "--dist", str(dist), env=env
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return dist


def artifacts(dist: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(dist.iterdir()) if p.is_file()}


def members(path: Path) -> dict[str, tuple[object, bytes]]:
    """Each member of a wheel or sdist: (its metadata that can differ, its bytes)."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            return {
                i.filename: ((i.date_time, i.external_attr, i.compress_type), wheel.read(i))
                for i in wheel.infolist()
            }
    with tarfile.open(path) as sdist:
        found: dict[str, tuple[object, bytes]] = {}
        for m in sdist.getmembers():
            data = sdist.extractfile(m).read() if m.isfile() else b""  # type: ignore[union-attr]
            found[m.name] = ((m.mtime, m.mode, m.uid, m.gid, m.uname, m.gname), data)
        found["(gzip header)"] = (path.read_bytes()[4:8], b"")
        return found


def what_differs(first: Path, second: Path) -> list[str]:
    """The members of two builds of one archive that differ, and how."""
    a, b = members(first), members(second)
    if list(a) != list(b):
        return [f"member lists differ: {sorted(set(a) ^ set(b)) or 'order'}"]
    return [
        f"{name}: {'bytes' if a[name][1] != b[name][1] else 'metadata'}"
        + (f" {a[name][0]} != {b[name][0]}" if a[name][0] != b[name][0] else "")
        for name in a
        if a[name] != b[name]
    ]


def only_the_checkout_path(twice: Twice, first: Path, second: Path) -> bool:
    """Whether two wheels differ only where maturin's SBOM names the checkout's absolute
    path (cargo's package ids, as bom-ref): the members, the RECORD lines hashing them."""
    a, b = members(first), members(second)
    if list(a) != list(b):
        return False
    here, there = str(twice.first.root).encode(), str(twice.second.root).encode()
    differing = {name for name in a if a[name] != b[name]}
    sboms = {n for n in differing if "/sboms/" in n and n.endswith(".cyclonedx.json")}
    if not sboms or not all(
        a[n][0] == b[n][0] and a[n][1].replace(here, there) == b[n][1] for n in sboms
    ):
        return False
    record = next((n for n in a if n.endswith(".dist-info/RECORD")), None)
    if differing - sboms - {record}:
        return False

    def other_lines(data: bytes) -> list[bytes]:
        return [line for line in data.splitlines() if line.split(b",")[0].decode() not in sboms]

    return record is None or other_lines(a[record][1]) == other_lines(b[record][1])


def pe_timestamps(wheel: Path) -> dict[str, int]:
    """The link time in the COFF header of each DLL in a Windows wheel (0: none)."""
    stamps = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.endswith((".pyd", ".dll")):
                data = zf.read(name)
                (pe_offset,) = struct.unpack_from("<I", data, 0x3C)
                assert data[pe_offset : pe_offset + 4] == b"PE\0\0", name
                (stamps[name],) = struct.unpack_from("<I", data, pe_offset + 8)
    return stamps


def assert_dated_by_the_commit(twice: Twice) -> None:
    """Each build record says which date was used, and where it came from."""
    for side in (twice.first, twice.second):
        head = git("rev-parse", "HEAD", cwd=side.root)
        for path in sorted((side.dist / ".release").glob("*.json")):
            dated = json.loads(path.read_text())["details"].get("source_date_epoch")
            assert dated is not None, f"{path.name} does not say which date the build used"
            assert dated["value"] == COMMIT_TIME, dated
            assert f"commit {head[:12]} (git log -1 --format=%ct in {side.root})" in dated["source"]


def compare(twice: Twice) -> dict[str, str]:
    """Per artifact: "sha256 equal", or what differs."""
    first, second = artifacts(twice.first.dist), artifacts(twice.second.dist)
    assert list(first) == list(second)
    verdicts = {}
    for name, path in first.items():
        print(f"{name}\n  first  {sha256_of(path)}\n  re-run {sha256_of(second[name])}")
        if sha256_of(path) == sha256_of(second[name]):
            verdicts[name] = f"sha256 equal ({sha256_of(path)[:16]})"
        elif only_the_checkout_path(twice, path, second[name]):
            verdicts[name] = "equal but for the checkout path in maturin's SBOM"
        else:
            verdicts[name] = "DIFFERS: " + "; ".join(what_differs(path, second[name]))
    print("\n".join(f"{name}: {verdict}" for name, verdict in verdicts.items()))
    return verdicts


@pytest.mark.e2e
@pytest.mark.timeout(1800)  # three cold builds of 7 wheels each, on 2 shared cores
def test_tally_rebuilt_elsewhere_is_byte_identical(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # x86_64 only: the native build, and the musl one cross-compiled with zig; aarch64 is
    # the same cross build for another target (each build is cold, three times over).
    stages = ["build-linux --arch x86_64", "build-windows", "sdist"]
    twice = build_twice(request, tmp_path, EXAMPLES / "tally", "tally", stages)
    verdicts = compare(twice)
    # manylinux x86_64 (abi3); musllinux x86_64 and win_amd64 (abi3, 3.14t, 3.15t); the sdist
    assert len(verdicts) == 8
    # maturin's Rust SBOM names the checkout's absolute path (cargo's package ids): a re-run
    # on GitHub checks out to the same path, so there the bytes are equal; anything else
    # that differs is a failure.
    assert not [v for v in verdicts.values() if v.startswith("DIFFERS")], verdicts
    windows = [p for p in artifacts(twice.first.dist).values() if "win_amd64" in p.name]
    assert len(windows) == 3
    for wheel in windows:
        assert set(pe_timestamps(wheel).values()) == {0}
    # Built again where the first run built: every file is the same, SBOM included.
    third = artifacts(build_where_the_first_built(request, tmp_path, twice, stages))
    same_place = {name: sha256_of(path) for name, path in artifacts(twice.first.dist).items()}
    print("at the first run's path:", {n: "sha256 equal" if sha256_of(third[n]) == h else
          "DIFFERS" for n, h in same_place.items()})  # fmt: skip
    assert {name: sha256_of(path) for name, path in third.items()} == same_place
    assert_dated_by_the_commit(twice)


@pytest.mark.e2e
def test_cvec_host_build_rebuilt_elsewhere_is_byte_identical(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # cvec ships no sdist (sdist = false), and its Windows wheels need Windows: the Linux
    # host build (python -m build, scikit-build-core, auditwheel repair) is what runs here.
    twice = build_twice(request, tmp_path, EXAMPLES / "cvec", "cvec", ["build-linux"])
    verdicts = compare(twice)
    assert len(verdicts) == 1
    assert all(v.startswith("sha256 equal") for v in verdicts.values()), verdicts
    assert_dated_by_the_commit(twice)


@pytest.mark.e2e
def test_a_python_build_rebuilt_elsewhere_is_byte_identical(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # The build backend's sdist (setuptools here): cvec has none, nox-release itself has one.
    twice = build_twice(request, tmp_path, REPO, "nox-release", ["build-linux", "sdist"])
    verdicts = compare(twice)
    assert len(verdicts) == 2
    assert all(v.startswith("sha256 equal") for v in verdicts.values()), verdicts
    assert_dated_by_the_commit(twice)
