"""Stage records, atomic delivery into the dist dir, and what a failing build leaves behind."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import tiny_project

from release import pipeline
from release.backends.base import BuildOutcome, Unavailable
from release.config import ReleaseConfig, load_config
from release.console import Console
from release.context import RunContext
from release.errors import (
    BuildOutputError,
    DamagedRecordError,
    DiskFullError,
    DistDirError,
    InternalError,
)
from release.fsio import write_text_atomic
from release.ledger import delivered_here
from release.locking import HeldLock
from release.records import (
    FAILED,
    HOST_BUILD,
    NOT_SHIPPED,
    OK,
    Artifact,
    CommandRun,
    Finding,
    StageRecord,
    read_record,
    record_path,
    sha256_of,
    write_record,
)
from release.runner import Runner
from release.staging import collect, deliver, ensure_dist, remove_stale_scratch, staging_dir
from release.validated import validated_release


def make_ctx(tmp_path: Path) -> RunContext:
    root = tiny_project(tmp_path)
    config = load_config(root)
    console = Console(github=False, stream=io.StringIO(), environ={})
    return RunContext(
        config=config, dist=config.dist_dir, console=console, runner=Runner(console),
        environ={"NOX_RELEASE_OFFLINE": "1"},  # validate asks no index
    )  # fmt: skip


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory``, by relative path, with its bytes."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def same_record(stored: StageRecord | None, record: StageRecord) -> bool:
    """Equal up to the rounding of the duration to milliseconds in the file."""
    assert stored is not None
    assert stored.duration_s == pytest.approx(record.duration_s, abs=0.001)
    return stored == dataclasses.replace(record, duration_s=stored.duration_s)


def printed(ctx: RunContext) -> str:
    stream = ctx.console.stream
    assert isinstance(stream, io.StringIO)
    return stream.getvalue()


# --- records ------------------------------------------------------------------------------


def test_artifact_matches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    data = os.urandom((1 << 20) + 12345)  # more than one read block
    path.write_bytes(data)
    artifact = Artifact.of(path)
    assert artifact.name == path.name
    assert artifact.size == len(data)
    assert artifact.sha256 == hashlib.sha256(data).hexdigest()
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()


def full_record() -> StageRecord:
    return StageRecord(
        stage="build-linux",
        status=HOST_BUILD,
        reason="no container engine",
        started="2024-05-01T10:00:00+00:00",
        duration_s=12.345,
        backend="cibuildwheel",
        tool_versions={"cibuildwheel": "2.21.0", "python": "3.11.7"},
        commands=[CommandRun(("cibuildwheel", "--platform", "linux"), "/p", 0, 11.0)],
        artifacts=[Artifact("cvec-1.4.0-cp311-cp311-manylinux_2_17_x86_64.whl", 123, "ab" * 32)],
        findings=[
            Finding("warning", "wheel-set", None, "no Windows wheel"),
            Finding("error", "windows-dlls", "cvec.whl", "links libfoo.dll", "bundle it."),
        ],
        error=None,
        details={"expected_wheels": ["cp311-manylinux_x86_64"]},
    )


def test_record_round_trip(tmp_path: Path) -> None:
    record = full_record()
    path = write_record(tmp_path, record)
    assert path == tmp_path / ".release" / "build-linux.json"
    assert path == record_path(tmp_path, "build-linux")
    assert read_record(tmp_path, "build-linux") == record


def test_record_file_is_the_documented_json(tmp_path: Path) -> None:
    record = full_record()
    data = json.loads(write_record(tmp_path, record).read_text(encoding="utf-8"))
    assert data["stage"] == "build-linux"
    assert data["status"] == "host build"
    assert data["duration_s"] == 12.345
    assert data["tool_versions"] == {"cibuildwheel": "2.21.0", "python": "3.11.7"}
    assert data["commands"][0]["argv"] == ["cibuildwheel", "--platform", "linux"]
    assert data["artifacts"] == [
        {
            "name": "cvec-1.4.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "size": 123,
            "sha256": "ab" * 32,
        }
    ]
    assert data["findings"][1] == {
        "level": "error",
        "check": "windows-dlls",
        "file": "cvec.whl",
        "message": "links libfoo.dll",
        "remedy": "bundle it.",
    }
    assert data["details"] == {"expected_wheels": ["cp311-manylinux_x86_64"]}
    assert {"reason", "started", "backend", "nox_release", "error"} <= set(data)


def test_a_record_from_a_newer_version_with_more_keys_still_reads(tmp_path: Path) -> None:
    data = full_record().as_dict() | {"signed_by": "a later nox-release"}
    path = record_path(tmp_path, "build-linux")
    write_text_atomic(path, json.dumps(data))
    assert read_record(tmp_path, "build-linux") == full_record()


def test_a_missing_record_is_none(tmp_path: Path) -> None:
    assert read_record(tmp_path, "sdist") is None


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("{not json", "not valid JSON"),
        ('{"status": "ok"}', "stage: missing"),
        ('{"stage": "sdist", "artifacts": [{"name": "a.tar.gz", "size": "big", "sha256": "0"}]}',
         "artifacts.[0].size: must be an integer"),
        ('{"stage": "build-linux"}', "it is the record of 'build-linux'"),
        ("[1, 2]", "must be a table"),
    ],
)  # fmt: skip
def test_a_damaged_record_is_an_error_that_says_what_is_wrong(
    tmp_path: Path, text: str, detail: str
) -> None:
    path = record_path(tmp_path, "sdist")
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DamagedRecordError) as info:
        read_record(tmp_path, "sdist")
    assert detail in info.value.cause
    assert str(path) in info.value.cause
    assert "rerun sdist" in info.value.remedy


def test_write_text_atomic_leaves_old_content_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "record.json"
    write_text_atomic(path, "first\n")
    assert path.read_text(encoding="utf-8") == "first\n"
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(path, "half written \udc80")
    assert path.read_text(encoding="utf-8") == "first\n"
    assert [p.name for p in path.parent.iterdir()] == ["record.json"]


# --- staging --------------------------------------------------------------------------------


def test_staging_dir_is_inside_the_records_dir_and_removed_on_failure(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    with pytest.raises(RuntimeError), staging_dir(dist, "build-linux") as out:
        # Same filesystem as the dist dir (delivery is a rename), never in the user's tree.
        assert out.parent == dist / ".release" / "tmp"
        assert out.name.startswith("build-linux-")
        (out / "half.whl").write_bytes(b"PK")
        raise RuntimeError("build died")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]
    assert [p.name for p in dist.rglob("*")] == [".release"]


def test_a_scratch_dir_of_a_killed_run_is_removed_by_the_next_stage(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # What SIGKILL leaves: a scratch dir with half a wheel, its owner gone.
    killer = (
        "import sys, os\n"
        "from pathlib import Path\n"
        "from release.staging import staging_dir\n"
        f"with staging_dir(Path({str(dist)!r}), 'build-linux') as out:\n"
        "    (out / 'half.whl').write_bytes(b'PK')\n"
        "    print(out, flush=True)\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", killer], capture_output=True, text=True, check=False
    )
    assert proc.returncode == -9
    left = Path(proc.stdout.strip())
    assert (left / "half.whl").exists()
    # The next stage cleans up: the dead owner's scratch dir goes, a live one stays.
    with staging_dir(dist, "sdist") as mine:
        assert remove_stale_scratch(dist) == [left]
        assert mine.exists() and not left.exists()
    assert not (dist / ".release" / "tmp").exists()


def test_a_sweep_never_removes_a_stage_that_is_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parallel stages into one dist dir: a stage's sweep of stale scratch runs, in another
    process, exactly between the moment a starting stage made its scratch dir and the moment
    it takes the dir's owner lock. The starting stage must keep its dir."""
    dist = tmp_path / "dist"
    sweeper = (
        "import sys\n"
        "from pathlib import Path\n"
        "from release.staging import remove_stale_scratch\n"
        f"print([str(p) for p in remove_stale_scratch(Path({str(dist)!r}))], flush=True)\n"
    )
    sweeps: list[subprocess.Popen[str]] = []
    real_acquire = HeldLock.acquire

    def acquire_after_a_sweep(lock: HeldLock) -> bool:
        if lock.path.name == ".owner.lock" and not sweeps:
            assert lock.path.parent.is_dir()  # made, not yet locked: the window
            sweep = subprocess.Popen(
                [sys.executable, "-c", sweeper], stdout=subprocess.PIPE, text=True
            )
            sweeps.append(sweep)
            # Give the sweep every chance to run to its end inside the window; a sweep that
            # waits for the starting stage does not end, and the stage goes on.
            with contextlib.suppress(subprocess.TimeoutExpired):
                sweep.wait(timeout=3)
        return real_acquire(lock)

    monkeypatch.setattr(HeldLock, "acquire", acquire_after_a_sweep)
    with staging_dir(dist, "build-linux") as out:
        assert out.is_dir()
        (out / "wheel.whl").write_bytes(b"PK")
        monkeypatch.setattr(HeldLock, "acquire", real_acquire)
        removed, _ = sweeps[0].communicate(timeout=30)
        assert removed.strip() == "[]"
        assert (out / "wheel.whl").read_bytes() == b"PK"
    assert not out.exists()


def test_a_records_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / ".release").write_text("oops", encoding="utf-8")
    with pytest.raises(DistDirError, match="is a file"):
        ensure_dist(dist)


def test_dist_that_is_a_file_is_refused(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.write_text("oops", encoding="utf-8")
    with pytest.raises(DistDirError, match="not a directory"):
        ensure_dist(dist)
    assert dist.read_text(encoding="utf-8") == "oops"


def test_collect_without_output_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "build.log").write_text("ok", encoding="utf-8")
    with pytest.raises(BuildOutputError, match="produced no linux wheels") as info:
        collect(tmp_path, ["*.whl"], what="linux wheels", tool="maturin")
    assert info.value.exit_code == 22


def test_deliver_moves_files_and_lists_them(tmp_path: Path) -> None:
    out, dist = tmp_path / "out", tmp_path / "dist"
    out.mkdir()
    (out / "a-1.0-py3-none-any.whl").write_bytes(b"wheel a")
    (out / "a-1.0.tar.gz").write_bytes(b"sdist a")
    files = collect(out, ["*.whl", "*.tar.gz"], what="files", tool="t")
    artifacts, ledger_problem = deliver(files, dist)
    assert ledger_problem is None
    assert [a.name for a in artifacts] == ["a-1.0-py3-none-any.whl", "a-1.0.tar.gz"]
    # Nothing but the files: the ledger (host name, local paths) never travels with them.
    assert snapshot(dist) == {"a-1.0-py3-none-any.whl": b"wheel a", "a-1.0.tar.gz": b"sdist a"}
    # The ledger says what was delivered here, so a later dry run may clear exactly that.
    assert delivered_here(dist) == {a.name: a.sha256 for a in artifacts}
    assert list(out.iterdir()) == []
    assert artifacts[0].sha256 == hashlib.sha256(b"wheel a").hexdigest()


def test_concurrent_deliveries_all_reach_the_ledger(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    writer = (
        "import sys\n"
        "from pathlib import Path\n"
        "from release.records import Artifact\n"
        "from release.ledger import note_delivered\n"
        "n = sys.argv[1]\n"
        f"assert note_delivered(Path({str(dist)!r}), [Artifact(f'w{{n}}.whl', 1, n)]) is None\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", writer, str(n)]) for n in range(20)]
    assert [p.wait() for p in procs] == [0] * 20
    assert delivered_here(dist) == {f"w{n}.whl": str(n) for n in range(20)}


# --- a build stage with a fake backend -------------------------------------------------------


class FakeBackend:
    """Writes wheels into its staging dir; ``fail`` decides how the build ends."""

    name = "fake"
    staging_dirs: ClassVar[list[Path]] = []

    def __init__(self, config: ReleaseConfig, fail: str | None = None) -> None:
        self.config = config
        self.fail = fail

    def unavailable(self, platform: str, ctx: RunContext) -> Unavailable | None:
        return None

    def tool_versions(self, platform: str | None, ctx: RunContext) -> dict[str, str]:
        return {"fake-tool": "1.0"}

    def build_wheels(self, platform: str, ctx: RunContext, out: Path) -> BuildOutcome:
        self.staging_dirs.append(out)
        (out / "tiny-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 half a wheel")
        if self.fail == "command":
            ctx.runner.run(
                [
                    sys.executable,
                    "-c",
                    "print('compiling'); print('ld: cannot find -lgmp'); raise SystemExit(1)",
                ],
                cwd=out,
                why="building the fake wheel",
                remedy="install gmp.",
            )
        if self.fail == "bug":
            raise KeyError("oops")
        (out / "tiny-1.0-cp311-cp311-manylinux_2_17_x86_64.whl").write_bytes(os.urandom(4096))
        (out / "build.log").write_text("not an artifact", encoding="utf-8")
        if self.fail == "host-build":
            return BuildOutcome.host_build("no container engine; built on the host")
        return BuildOutcome()

    def build_sdist(self, ctx: RunContext, out: Path) -> None:
        (out / "tiny-1.0.tar.gz").write_bytes(b"sdist")


def use_backend(monkeypatch: pytest.MonkeyPatch, fail: str | None) -> None:
    FakeBackend.staging_dirs = []
    monkeypatch.setattr(
        "release.stages.build.backend_for", lambda config: FakeBackend(config, fail)
    )


def fill_dist(ctx: RunContext) -> None:
    ctx.dist.mkdir()
    (ctx.dist / "tiny-0.9-py3-none-any.whl").write_bytes(b"the previous release's wheel")
    (ctx.dist / "tiny-1.0-py3-none-any.whl").write_bytes(b"a finished wheel from before")
    write_record(ctx.dist, StageRecord("sdist", artifacts=[Artifact("tiny-0.9.tar.gz", 5, "0")]))


@pytest.mark.parametrize("fail", ["command", "bug"])
def test_failing_build_leaves_dist_untouched(
    fail: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = make_ctx(tmp_path)
    use_backend(monkeypatch, fail)
    fill_dist(ctx)
    before = snapshot(ctx.dist)
    beside_before = sorted(p.name for p in ctx.dist.parent.iterdir())

    record, error = pipeline.run_stage(ctx, "build-linux")

    after = snapshot(ctx.dist)
    assert after.pop(".release/build-linux.json")
    assert after == before
    assert sorted(p.name for p in ctx.dist.parent.iterdir()) == beside_before
    assert len(FakeBackend.staging_dirs) == 1
    assert FakeBackend.staging_dirs[0].parent == ctx.dist / ".release" / "tmp"
    assert not FakeBackend.staging_dirs[0].exists()

    assert error is not None
    assert record.status == FAILED
    assert record.artifacts == []
    stored = read_record(ctx.dist, "build-linux")
    assert stored is not None
    assert stored.status == FAILED
    assert stored.error is not None
    assert stored.error["cause"] == error.cause
    assert stored.error["remedy"] == error.remedy
    assert stored.error["exit_code"] == error.exit_code
    assert stored.tool_versions == {"fake-tool": "1.0"}
    assert stored.backend == "fake"
    if fail == "command":
        assert stored.error["kind"] == "CommandFailedError"
        assert "exited with status 1 while building the fake wheel" in error.cause
        # The output's failure signature (a missing library) says more than the generic remedy.
        assert "libgmp-dev" in stored.error["remedy"]
        assert stored.error["tail"] == ["compiling", "ld: cannot find -lgmp"]
        assert [c.returncode for c in stored.commands] == [1]
    else:
        assert stored.error["kind"] == "InternalError"
        assert "KeyError" in error.cause
        assert error.exit_code == InternalError.exit_code == 70
    assert f"error: build-linux: {error.cause}\n  what to do: {error.remedy}" in printed(ctx)


def test_succeeding_build_delivers_its_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = make_ctx(tmp_path)
    use_backend(monkeypatch, None)
    fill_dist(ctx)

    record, error = pipeline.run_stage(ctx, "build-linux")

    assert error is None
    assert record.status == OK
    stored = read_record(ctx.dist, "build-linux")
    assert stored is not None
    assert same_record(stored, record)
    wheels = sorted(p.name for p in ctx.dist.glob("*.whl"))
    assert wheels == [
        "tiny-0.9-py3-none-any.whl",
        "tiny-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "tiny-1.0-py3-none-any.whl",
    ]
    assert not (ctx.dist / "build.log").exists()
    listed = {a.name: a for a in stored.artifacts}
    assert sorted(listed) == [
        "tiny-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "tiny-1.0-py3-none-any.whl",
    ]
    for name, artifact in listed.items():
        data = (ctx.dist / name).read_bytes()
        assert artifact.sha256 == hashlib.sha256(data).hexdigest()
        assert artifact.size == len(data)
    # the new build replaced the old file of the same name
    assert (ctx.dist / "tiny-1.0-py3-none-any.whl").read_bytes() == b"PK\x03\x04 half a wheel"
    assert not FakeBackend.staging_dirs[0].exists()
    assert "tiny-1.0-py3-none-any.whl (" in printed(ctx)


def test_host_build_outcome_is_recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_ctx(tmp_path)
    use_backend(monkeypatch, "host-build")
    _record, error = pipeline.run_stage(ctx, "build-linux")
    assert error is None
    stored = read_record(ctx.dist, "build-linux")
    assert stored is not None
    assert stored.status == HOST_BUILD
    assert stored.reason == "no container engine; built on the host"
    # Said once, as a plain line: on a laptop a host build is expected, nothing to act on.
    assert printed(ctx).count("no container engine") == 1
    assert "    host build: no container engine; built on the host" in printed(ctx)
    assert "warning" not in printed(ctx)


def test_host_build_in_actions_is_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = make_ctx(tmp_path)
    ctx.console = Console(github=True, stream=io.StringIO(), environ={})
    use_backend(monkeypatch, "host-build")
    pipeline.run_stage(ctx, "build-linux")
    # In CI a host build means the job ran where it cannot build as CI should: act on it.
    assert "::warning::build-linux host build: no container engine" in printed(ctx)


def test_a_platform_the_project_does_not_ship_is_no_warning(tmp_path: Path) -> None:
    # the tiny project expects no Windows wheels ([tool.release.wheels] windows = [])
    ctx = make_ctx(tmp_path)
    ctx.console = Console(github=True, stream=io.StringIO(), environ={})
    record, error = pipeline.run_stage(ctx, "build-windows")
    assert error is None
    assert record.status == NOT_SHIPPED
    assert record.reason is not None
    assert "ships no windows wheels" in record.reason
    assert "::warning" not in printed(ctx)
    assert same_record(read_record(ctx.dist, "build-windows"), record)


# --- clearing the dist dir for a dry run ------------------------------------------------------


def deliver_file(ctx: RunContext, name: str, data: bytes) -> Path:
    """Put a file into the dist dir the way a build stage does."""
    with staging_dir(ctx.dist, "test") as out:
        (out / name).write_bytes(data)
        deliver([out / name], ctx.dist)
    return ctx.dist / name


def test_clear_dist_refuses_files_it_did_not_deliver(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.dist.mkdir()
    deliver_file(ctx, "ours-1.0.tar.gz", b"ours")
    (ctx.dist / "downloaded-1.0-py3-none-any.whl").write_bytes(b"only copy")
    before = snapshot(ctx.dist)
    with pytest.raises(DistDirError) as info:
        pipeline.clear_dist_for_release(ctx)
    assert "downloaded-1.0-py3-none-any.whl" in info.value.cause
    assert "ours-1.0.tar.gz" not in info.value.cause
    assert info.value.exit_code == 24
    assert snapshot(ctx.dist) == before


def test_clear_dist_refuses_a_dist_dir_copied_from_elsewhere(tmp_path: Path) -> None:
    """Artifacts downloaded from CI come with CI's records and ledger: not ours to delete."""
    ctx = make_ctx(tmp_path)
    ctx.dist.mkdir()
    deliver_file(ctx, "tiny-1.0-py3-none-any.whl", b"built in CI")
    write_record(
        ctx.dist,
        StageRecord("build-linux", artifacts=[Artifact.of(ctx.dist / "tiny-1.0-py3-none-any.whl")]),
    )
    downloaded = tmp_path / "downloaded"
    shutil.copytree(ctx.dist, downloaded)
    ctx.dist = downloaded
    with pytest.raises(DistDirError, match=r"tiny-1\.0-py3-none-any\.whl"):
        pipeline.clear_dist_for_release(ctx)
    assert (downloaded / "tiny-1.0-py3-none-any.whl").read_bytes() == b"built in CI"


def test_clear_dist_refuses_a_delivered_file_changed_since(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.dist.mkdir()
    wheel = deliver_file(ctx, "tiny-1.0-py3-none-any.whl", b"as built")
    wheel.write_bytes(b"edited by hand")
    with pytest.raises(DistDirError, match="changed since"):
        pipeline.clear_dist_for_release(ctx)
    assert wheel.read_bytes() == b"edited by hand"


def test_clear_dist_names_at_most_five_foreign_files(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.dist.mkdir()
    for index in range(7):
        (ctx.dist / f"file{index}.whl").write_bytes(b"x")
    with pytest.raises(DistDirError, match=r"file4\.whl and 2 more"):
        pipeline.clear_dist_for_release(ctx)
    assert len(list(ctx.dist.iterdir())) == 7


def test_clear_dist_removes_what_it_delivered_even_after_a_failed_rerun(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.dist.mkdir()
    deliver_file(ctx, "tiny-1.0.tar.gz", b"sdist")
    deliver_file(ctx, "tiny-1.0-py3-none-any.whl", b"wheel")
    # A later failed run of sdist rewrites its record with no artifacts; the file stays ours.
    write_record(ctx.dist, StageRecord("sdist", status="failed"))
    pipeline.clear_dist_for_release(ctx)
    assert ctx.dist.is_dir()
    assert list(ctx.dist.iterdir()) == []


def test_clear_dist_without_dist_dir(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    pipeline.clear_dist_for_release(ctx)
    assert not ctx.dist.exists()
    ctx.dist.write_text("a file", encoding="utf-8")
    with pytest.raises(DistDirError, match="not a directory"):
        pipeline.clear_dist_for_release(ctx)


# --- records another run wrote -----------------------------------------------------------------

CI_RUN = {"GITHUB_RUN_ID": "7001", "GITHUB_REPOSITORY": "owner/tiny"}


def test_a_record_says_who_wrote_it(tmp_path: Path) -> None:
    write_record(tmp_path, StageRecord("validate"), environ={})
    assert json.loads(record_path(tmp_path, "validate").read_text())["origin"] == (
        f"host {socket.gethostname()}"
    )
    write_record(tmp_path, StageRecord("validate"), environ=CI_RUN)
    assert read_record(tmp_path, "validate").origin == (  # type: ignore[union-attr]
        "GitHub Actions run 7001 of owner/tiny"
    )


def test_a_local_run_keeps_a_record_from_ci_and_says_where(tmp_path: Path) -> None:
    write_record(tmp_path, StageRecord("validate", status=OK), environ=CI_RUN)
    from_ci = record_path(tmp_path, "validate").read_bytes()
    notes: list[str] = []
    path = write_record(
        tmp_path, StageRecord("validate", status=FAILED), keep_other_runs=True,
        say=notes.append, environ={},
    )  # fmt: skip
    kept = tmp_path / ".release" / "validate.kept.json"
    assert path == record_path(tmp_path, "validate")
    assert kept.read_bytes() == from_ci
    assert json.loads(path.read_text())["status"] == FAILED
    assert notes == [
        f"{kept} is the validate record that GitHub Actions run 7001 of owner/tiny wrote; it "
        f"is kept, and this run's record is {path}."
    ]
    # The next local run replaces its own record; CI's is still kept.
    assert write_record(
        tmp_path, StageRecord("validate"), keep_other_runs=True, environ={}
    ) == path  # fmt: skip
    assert json.loads(path.read_text())["status"] == OK
    assert kept.read_bytes() == from_ci


def test_the_other_runs_record_stays_in_place_when_this_one_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_record(tmp_path, StageRecord("validate", status=OK), environ={})
    laptop = record_path(tmp_path, "validate").read_bytes()
    real_write = write_text_atomic

    def full_after_the_copy(path: Path, text: str) -> None:
        if path == record_path(tmp_path, "validate"):
            raise DiskFullError("no space left", "free some")
        real_write(path, text)

    monkeypatch.setattr("release.records.write_text_atomic", full_after_the_copy)
    with pytest.raises(DiskFullError):
        write_record(tmp_path, StageRecord("validate"), keep_other_runs=True, environ=CI_RUN)
    assert record_path(tmp_path, "validate").read_bytes() == laptop


@pytest.mark.parametrize(
    "first", [{}, None], ids=["written by this host", "written before records had an origin"]
)
def test_a_record_of_this_host_or_of_no_known_origin_is_replaced(
    tmp_path: Path, first: dict[str, str] | None
) -> None:
    path = write_record(tmp_path, StageRecord("validate", status=FAILED), environ={})
    if first is None:
        data = json.loads(path.read_text())
        del data["origin"]
        path.write_text(json.dumps(data))
    notes: list[str] = []
    again = write_record(
        tmp_path, StageRecord("validate"), keep_other_runs=True, say=notes.append, environ={}
    )
    assert again == path and json.loads(path.read_text())["status"] == OK
    assert notes == []
    assert not (tmp_path / ".release" / "validate.kept.json").exists()


def test_a_build_record_is_always_replaced(tmp_path: Path) -> None:
    # A build's record describes the files it just delivered: the old one describes files
    # that are gone.
    write_record(tmp_path, StageRecord("build-linux"), environ=CI_RUN)
    path = write_record(tmp_path, StageRecord("build-linux", status=FAILED), environ={})
    assert path == record_path(tmp_path, "build-linux")
    assert read_record(tmp_path, "build-linux").status == FAILED  # type: ignore[union-attr]


def test_a_ci_run_takes_the_place_and_keeps_the_other_record_beside(tmp_path: Path) -> None:
    # The next job of that run reads validate.json: it must be this run's verdict.
    write_record(tmp_path, StageRecord("validate", status=OK), environ={})
    laptop = record_path(tmp_path, "validate").read_bytes()
    notes: list[str] = []
    path = write_record(
        tmp_path, StageRecord("validate", status=FAILED), keep_other_runs=True,
        say=notes.append, environ=CI_RUN,
    )  # fmt: skip
    assert path == record_path(tmp_path, "validate")
    assert read_record(tmp_path, "validate").status == FAILED  # type: ignore[union-attr]
    kept = tmp_path / ".release" / "validate.kept.json"
    assert kept.read_bytes() == laptop
    assert notes == [
        f"{kept} is the validate record that host {socket.gethostname()} wrote; it is kept, "
        f"and this run's record is {path}."
    ]


def test_validating_files_downloaded_with_cis_record_keeps_that_record(tmp_path: Path) -> None:
    """As root, a read-only download does not stop a write: CI's verdict must survive."""
    ctx = make_ctx(tmp_path)
    ctx.dist.mkdir()
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(ctx.dist)],
        cwd=ctx.config.project_root, check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = ctx.dist.glob("*.whl")
    # As CI's validate job wrote it (by hand, so that the test reads the same before the fix).
    ci_record = StageRecord("validate", artifacts=[Artifact.of(wheel)]).as_dict()
    ci_record["origin"] = "GitHub Actions run 7001 of owner/tiny"
    write_text_atomic(record_path(ctx.dist, "validate"), json.dumps(ci_record))
    from_ci = record_path(ctx.dist, "validate").read_bytes()
    _record, _error = pipeline.run_stage(ctx, "validate")
    kept = ctx.dist / ".release" / "validate.kept.json"
    assert kept.read_bytes() == from_ci
    here = record_path(ctx.dist, "validate")
    assert json.loads(here.read_text())["origin"] == f"host {socket.gethostname()}"
    assert (
        f"note: {kept} is the validate record that GitHub Actions run 7001 of owner/tiny "
        f"wrote; it is kept, and this run's record is {here}."
    ) in printed(ctx)


def test_publish_here_follows_the_verdict_validate_just_gave_here(tmp_path: Path) -> None:
    """CI's validate failed (say, a tool it lacked); the maintainer downloads the files and
    validates them here, which passes. Publishing here must follow that verdict: told to run
    validate again, the maintainer would loop, since a run could never replace CI's record."""
    ctx = make_ctx(tmp_path)
    ctx.dist.mkdir()
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(ctx.dist)],
        cwd=ctx.config.project_root, check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = ctx.dist.glob("*.whl")
    ci_record = StageRecord("validate", status=FAILED, artifacts=[Artifact.of(wheel)]).as_dict()
    ci_record["origin"] = "GitHub Actions run 7001 of owner/tiny"
    write_text_atomic(record_path(ctx.dist, "validate"), json.dumps(ci_record))
    from_ci = record_path(ctx.dist, "validate").read_bytes()
    record, error = pipeline.run_stage(ctx, "validate")
    assert error is None and record.status == OK, printed(ctx)
    release = validated_release(ctx)
    assert [d.filename for d in release.dists] == [wheel.name]
    assert (ctx.dist / ".release" / "validate.kept.json").read_bytes() == from_ci
