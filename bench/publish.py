"""How much time does ``publish`` add to an upload, against ``twine upload`` run directly?

Run it as ``nox -s bench -- publish [--repeat N]``: that session has every stage's tools.
In one run:
1. not timed: a release of 40 files, an sdist and 39 distinct wheels: the Rust example's real
   abi3 manylinux wheel (built by ``python -m release build-linux`` if needed), retagged for
   39 abi3 Python tags at the manylinux_2_17 floor (each a valid file name, WHEEL and RECORD
   rewritten, so each passes validate), in a synthetic project whose
   ``[tool.release.wheels]`` lists them; ``python -m release validate`` passes them (it must,
   or the benchmark stops);
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

``--attestations`` (issue 17): the same 40 files published as a release job does, with PEP 740
attestations, against emulated GitHub Actions (the OIDC emulator of tests/emulators/), the
local Sigstore (release/publish/local_sigstore.py, its Fulcio and Rekor timed as they answer)
and the emulated PyPI (trusted publishing, before a real pypiserver):
1. not timed: the 40 files signed once with pypi-attestations directly, as
   gh-action-pypi-publish's attestations.py does (its time printed, for reference);
2. timed, alternating: ``python -m release publish`` (plan, mint, signing, verification of
   each signature, upload, verification on the index, each file's provenance read back from
   the Integrity API and verified; no attestation left from an earlier run), and ``twine
   upload --attestations`` of the same files with the attestations signed in step 1 and a
   token minted beforehand, each into a fresh emulated PyPI (which verifies every
   attestation it is sent, as Warehouse does, for both sides);
3. where publish's time goes: its record's phases (sign, upload, verify, provenance), the
   Fulcio and Rekor requests and the time the local Sigstore spent answering them;
4. the re-run into the first index: it must sign nothing and upload nothing.
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
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TALLY = REPO / "examples" / "tally"
# 39 distinct abi3 wheels at the one manylinux floor validate allows: abi3 tags from cp39 up
# (installable on every later CPython, so each is a valid release file).
TAGS = tuple(f"cp3{minor}-abi3-manylinux_2_17_x86_64" for minor in range(9, 48))
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
    for stage in (["build-linux", "--arch", "x86_64"], ["sdist"]):
        run([sys.executable, "-m", "release", *stage, "--project", str(TALLY), "--dist", str(dist)],
            cwd=REPO, env=env_with())  # fmt: skip
    # The abi3 manylinux wheel (the example also makes musllinux and free-threaded ones).
    (wheel,) = dist.glob("*-abi3-manylinux*_x86_64.whl")
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
    tags = list(TAGS)
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
    parser.add_argument(
        "--attestations", action="store_true",
        help="publish in emulated Actions with PEP 740 attestations, against twine upload "
        "--attestations",
    )  # fmt: skip
    args = parser.parse_args()
    if args.attestations:
        return attested(args.repeat)
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


# --- with attestations ------------------------------------------------------------------------


class Timed:
    """Wraps a local Sigstore method: how many calls, and the seconds spent answering."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method
        self.calls = 0
        self.seconds = 0.0

    def __call__(self, *args: Any) -> Any:
        began = time.perf_counter()
        try:
            return self.method(*args)
        finally:
            self.calls += 1
            self.seconds += time.perf_counter() - began


def oidc_token(oidc: Any, audience: str) -> str:
    """A job's OIDC token, asked of the emulated endpoint as a job asks."""
    env = oidc.env()
    request = urllib.request.Request(
        env["ACTIONS_ID_TOKEN_REQUEST_URL"] + f"&audience={audience}",
        headers={"Authorization": f"bearer {env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(json.load(answer)["value"])


def mint(pypi: Any, oidc: Any) -> str:
    body = json.dumps({"token": oidc_token(oidc, "pypi")}).encode()
    request = urllib.request.Request(pypi.url + "_/oidc/mint-token", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(json.load(answer)["token"])


def sign_directly(files: list[Path], oidc: Any, trust_config: Path, out: Path) -> float:
    """What gh-action-pypi-publish's attestations.py does: one cached signer, each file
    signed with pypi-attestations, written as <file>.publish.attestation."""
    from pypi_attestations import Attestation, Distribution
    from sigstore.models import ClientTrustConfig
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    began = time.perf_counter()
    config = ClientTrustConfig.from_json(trust_config.read_text())
    config.force_tlog_version = 1
    token = IdentityToken(oidc_token(oidc, "sigstore"), client_id="sigstore")
    out.mkdir()
    with SigningContext.from_trust_config(config).signer(token, cache=True) as signer:
        for path in files:
            attestation = Attestation.sign(signer, Distribution.from_file(path))
            (out / f"{path.name}.publish.attestation").write_text(attestation.model_dump_json())
    return time.perf_counter() - began


@dataclass
class Attested:
    """One side of the comparison with what it needs: the emulators, the project, the files."""

    oidc: Any
    sigstore: Any
    project: Path
    files: list[Path]
    scratch: Path
    env: dict[str, str]
    fulcio: Timed
    rekor: Timed

    def index(self, name: str) -> Any:
        from emulators.pypi import PyPI, TrustedPublisher

        publisher = TrustedPublisher("octo-org/tally", "1234567", "release.yml", "pypi")
        pypi = PyPI(self.oidc.signer, packages=self.scratch / name, publishers=[publisher])
        # It verifies each attestation as Warehouse does, against the local Sigstore's root.
        pypi.sigstore_trust_config = self.sigstore.trust_config_path
        return pypi

    def publish(self, pypi: Any) -> float:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "release", "publish", "--project", str(self.project),
             "--repository", pypi.upload_url],
            cwd=REPO, env=self.env, check=True, capture_output=True,
        )  # fmt: skip
        return time.perf_counter() - started

    def twine(self, pypi: Any, attestations: list[Path]) -> float:
        token = mint(pypi, self.oidc)  # before the clock: the files are signed beforehand too
        started = time.perf_counter()
        subprocess.run(
            ["twine", "upload", "--non-interactive", "--disable-progress-bar", "--attestations",
             "--repository-url", pypi.upload_url, *map(str, self.files),
             *map(str, attestations)],
            env=env_with(TWINE_USERNAME="__token__", TWINE_PASSWORD=token), check=True,
            capture_output=True,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
        if sorted(pypi.attestations) != sorted(p.name for p in self.files):
            raise SystemExit("benchmark invalid: twine did not upload every attestation")
        return elapsed

    def timed_publish(self, pypi: Any) -> tuple[float, dict[str, float], str]:
        """A publish that signs every file: its time, its phases, the Sigstore requests."""
        dist = self.project / "dist"
        for left in dist.glob("*.publish.attestation"):
            left.unlink()
        for server in (self.fulcio, self.rekor):
            server.calls, server.seconds = 0, 0.0
        elapsed = self.publish(pypi)
        record = json.loads((dist / ".release" / "publish.json").read_text())
        details = record["details"]
        names = sorted(p.name for p in self.files)
        if (
            record["status"] != "ok"
            or sorted(details["attestations"] or ()) != names
            or (sorted(pypi.attestations) != names)
        ):
            raise SystemExit(f"benchmark invalid: publish did not sign and upload all: {record}")
        servers = (
            f"Fulcio {self.fulcio.calls} request(s) answered in {self.fulcio.seconds:.2f} s, "
            f"Rekor {self.rekor.calls} in {self.rekor.seconds:.2f} s"
        )
        return elapsed, details.get("timings_s", {}), servers

    def rerun(self, pypi: Any) -> str:
        """publish again into an index holding everything: no signature, no upload."""
        uploads, entries = len(pypi.uploads), self.rekor.calls
        elapsed = self.publish(pypi)
        new_uploads, new_entries = len(pypi.uploads) - uploads, self.rekor.calls - entries
        said = f"re-run: {elapsed:.2f} s, {new_uploads} upload(s), {new_entries} signature(s)"
        if new_uploads or new_entries:
            raise SystemExit(f"re-run goal missed (no upload, no signature): {said}")
        return said


def attested(repeat: int) -> int:
    sys.path.insert(0, str(REPO / "tests"))
    from emulators.github_oidc import GitHubOIDC
    from emulators.sigstore import LocalSigstore

    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp, GitHubOIDC() as oidc, \
            LocalSigstore(oidc.signer) as sigstore:  # fmt: skip
        scratch = Path(tmp)
        project, dist = make_release(scratch)
        pyproject = project / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text().replace(
                "[tool.release.publish]\n", "[tool.release.publish]\nattestations = true\n"
            )
        )
        files = sorted(
            (p for p in dist.iterdir() if p.is_file()), key=lambda p: p.name.endswith(".tar.gz")
        )
        print(f"release: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB")
        fulcio = sigstore.signing_cert = Timed(sigstore.signing_cert)
        rekor = sigstore.create_entry = Timed(sigstore.create_entry)
        signed = scratch / "signed"
        direct = sign_directly(files, oidc, sigstore.trust_config_path, signed)
        print(f"signing the {len(files)} files directly with pypi-attestations: {direct:.2f} s "
              f"(Fulcio {fulcio.calls} request(s), Rekor {rekor.calls})")  # fmt: skip
        env = env_with(
            **oidc.env(),
            NOX_RELEASE_SIGSTORE_TRUST_CONFIG=str(sigstore.trust_config_path),
            PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        )
        bench = Attested(oidc, sigstore, project, files, scratch, env, fulcio, rekor)
        times: dict[str, list[float]] = {"publish": [], "twine": []}
        breakdown: list[str] = []
        rerun = ""
        for index in range(repeat):
            with bench.index(f"a{index}") as pypi:
                elapsed, phases, servers = bench.timed_publish(pypi)
                times["publish"].append(elapsed)
                shown = ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in phases.items())
                breakdown.append(f"publish run {index + 1}: {shown}; {servers}")
                if index == repeat - 1:
                    rerun = bench.rerun(pypi)
            with bench.index(f"b{index}") as pypi:
                times["twine"].append(bench.twine(pypi, sorted(signed.iterdir())))
        for side, values in times.items():
            shown = ", ".join(f"{v:.2f}" for v in values)
            print(f"{side:8}: {statistics.mean(values):.2f} s mean  ({shown})")
        print("\n".join(breakdown))
        print(rerun)
        print(f"ratio {statistics.mean(times['publish']) / statistics.mean(times['twine']):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
