"""How much time does ``publish`` add to an upload, against ``twine upload`` run directly?

Run it as ``nox -s bench -- publish [--repeat N]``: that session has every stage's tools.
In one run:
1. not timed: a release of 40 files, an sdist and 39 distinct wheels: the Rust example's real
   abi3 manylinux wheel (built by ``python -m release build-linux`` if needed), retagged for
   3 Python tags x 13 manylinux floors (each a valid file name, WHEEL and RECORD rewritten, so
   each passes validate), in a synthetic project whose ``[tool.release.wheels]`` lists them;
   ``python -m release validate`` passes them (it must, or the benchmark stops);
2. timed, alternating (ABAB by default, ``--repeat``): ``python -m release publish`` into a
   fresh pypiserver on 127.0.0.1 (plan, upload, verification included), and
   ``twine upload`` of the same 40 files into another fresh pypiserver. Both servers are
   nox-release's local index (pypiserver with token authentication, the token in the
   environment); both sides use the same twine;
3. the re-run: ``publish`` again into the first index, where everything is present: it must
   upload nothing (the index logs no POST) and ask the index once.

``publish`` uploads through twine's library (no twine process); the direct side runs the
``twine upload`` command, as a maintainer's script does.

Prints each time, the means, ``ratio <publish / twine>`` and the re-run's numbers.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TALLY = REPO / "examples" / "tally"
PYTHONS = ("cp39-abi3", "cp310-abi3", "cp311-abi3")
FLOORS = tuple(f"manylinux_2_{minor}_x86_64" for minor in range(17, 30))  # 13 floors
READY = "local index listening on "


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def env_with(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


# --- the release -------------------------------------------------------------------------------


def real_wheel(scratch: Path) -> tuple[Path, Path]:
    """The example's manylinux wheel and sdist, built here."""
    dist = scratch / "built"
    for stage in ("build-linux", "sdist"):
        run([sys.executable, "-m", "release", stage, "--project", str(TALLY), "--dist", str(dist)],
            cwd=REPO, env=env_with())  # fmt: skip
    (wheel,) = dist.glob("*manylinux*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    return wheel, sdist


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def retag(wheel: Path, tag: str, out: Path) -> Path:
    """``wheel`` with every tag replaced by ``tag`` (python-abi-platform): name, WHEEL, RECORD."""
    name, version = wheel.name.split("-")[:2]
    target = out / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        members = {i.filename: src.read(i) for i in src.infolist()}
        dist_info = next(n.split("/")[0] for n in members if n.endswith(".dist-info/WHEEL"))
        wheel_file = members[f"{dist_info}/WHEEL"].decode()
        lines = [line for line in wheel_file.splitlines() if not line.startswith("Tag:")]
        members[f"{dist_info}/WHEEL"] = ("\n".join([*lines, f"Tag: {tag}"]) + "\n").encode()
        record = f"{dist_info}/RECORD"
        rows = [f"{n},{_record_hash(d)},{len(d)}" for n, d in members.items() if n != record]
        members[record] = ("\n".join([*rows, f"{record},,"]) + "\n").encode()
        for member, data in members.items():
            dst.writestr(member, data)
    return target


def make_release(scratch: Path) -> tuple[Path, Path]:
    """A project and its dist dir of 40 files, validated."""
    wheel, sdist = real_wheel(scratch)
    project = scratch / "project"
    shutil.copytree(TALLY, project, ignore=shutil.ignore_patterns("target", "dist"))
    tags = [f"{python}-{floor}" for python in PYTHONS for floor in FLOORS]
    listed = ", ".join(f'"{t}"' for t in tags)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + f"\n[tool.release.wheels]\nlinux = [{listed}]\nwindows = []\n"
    )
    dist = project / "dist"
    dist.mkdir()
    for tag in tags:
        retag(wheel, tag, dist)
    shutil.copy2(sdist, dist / sdist.name)
    proc = subprocess.run(
        [sys.executable, "-m", "release", "validate", "--project", str(project)],
        cwd=REPO, env=env_with(), text=True, capture_output=True, check=False,
    )  # fmt: skip
    record = json.loads((dist / ".release" / "validate.json").read_text())
    if proc.returncode != 0 or record["status"] != "ok" or len(record["artifacts"]) != 40:
        raise SystemExit(f"benchmark invalid: validate did not pass the 40 files:\n{proc.stdout}")
    return project, dist


# --- the indexes -------------------------------------------------------------------------------


@contextmanager
def local_index(root: Path, token: str) -> Iterator[tuple[str, list[str]]]:
    """nox-release's local index (pypiserver); yields its URL and the requests it logs."""
    root.mkdir(parents=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "release.publish.local_index", str(root)],
        env=env_with(NOX_RELEASE_INDEX_TOKEN=token),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(READY):
        proc.kill()
        raise SystemExit(f"benchmark invalid: the local index did not start: {line}")
    requests: list[str] = []

    def drain() -> None:
        assert proc.stdout is not None
        requests.extend(proc.stdout)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        yield line[len(READY) :].strip(), requests
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        reader.join(timeout=5)


def timed_publish(project: Path, url: str, token: str) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "release", "publish", "--project", str(project),
         "--repository", url],
        cwd=REPO, env=env_with(PYPI_API_TOKEN=token), check=True, capture_output=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    return elapsed, json.loads((project / "dist" / ".release" / "publish.json").read_text())


def timed_twine(files: list[Path], url: str, token: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["twine", "upload", "--non-interactive", "--disable-progress-bar", "--repository-url",
         url, *map(str, files)],
        env=env_with(TWINE_USERNAME="__token__", TWINE_PASSWORD=token), check=True,
        capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="timed runs per side (default 2)")
    args = parser.parse_args()
    missing = [t for t in ("twine", "maturin") if shutil.which(t, path=env_with()["PATH"]) is None]
    if missing:
        raise SystemExit(
            f"{', '.join(missing)} not on PATH: run the benchmark as nox -s bench -- publish"
        )
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        scratch = Path(tmp)
        project, dist = make_release(scratch)
        # twine uploads in the order given; publish uploads wheels first, the sdist last.
        files = sorted(
            (p for p in dist.iterdir() if p.is_file()), key=lambda p: p.name.endswith(".tar.gz")
        )
        print(f"release: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB")
        times: dict[str, list[float]] = {"publish": [], "twine": []}
        token = secrets.token_urlsafe(24)
        rerun = ""
        for index in range(args.repeat):
            with local_index(scratch / f"a{index}", token) as (url, requests):
                elapsed, record = timed_publish(project, url, token)
                results = sorted(record["details"]["files"].values())  # type: ignore[index]
                if record["status"] != "ok" or results != ["uploaded"] * len(files):
                    raise SystemExit(f"benchmark invalid: publish did not upload all: {record}")
                times["publish"].append(elapsed)
                if index == args.repeat - 1:
                    # The re-run, into the index that now holds everything.
                    requests.clear()
                    elapsed, record = timed_publish(project, url, token)
                    details = record["details"]  # type: ignore[index]
                    uploads = [r for r in requests if r.startswith("POST")]
                    queries = [r for r in requests if r.startswith("GET /simple/")]
                    rerun = (
                        f"re-run: {elapsed:.2f} s, {len(uploads)} upload(s), "
                        f"{len(queries)} index quer{'y' if len(queries) == 1 else 'ies'}"
                    )
                    present = set(details["files"].values()) == {"already present"}
                    if uploads or len(queries) != 1 or not present:
                        raise SystemExit(f"re-run goal missed (no upload, one query): {rerun}")
            with local_index(scratch / f"b{index}", token) as (url, _):
                times["twine"].append(timed_twine(files, url, token))
        for side, values in times.items():
            shown = ", ".join(f"{v:.2f}" for v in values)
            print(f"{side:8}: {statistics.mean(values):.2f} s mean  ({shown})")
        print(rerun)
        print(f"ratio {statistics.mean(times['publish']) / statistics.mean(times['twine']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
