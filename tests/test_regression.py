"""The regression guard: a release may not leave out a platform, architecture, libc or Python
that the project's last release on the index served, unless ``[tool.release] dropped`` says so.

The slot logic on tag sets first; then publish and validate against the emulated PyPI (a real
pypiserver behind Warehouse's rules) holding a previous release of wheels for Linux x86_64,
Linux aarch64 and Windows AMD64.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from conftest import Release, check_context, run_release, tiny_project
from emulators.pypi import PyPI
from packaging.version import Version
from wheel_factory import write_sdist, write_wheel

from release.checks.regression import RegressionCheck
from release.config import load_config
from release.dists import read_distribution
from release.errors import ConfigValueError, UnknownKeyError
from release.publish.index import Listing, _html_files, _json_yanked
from release.records import (
    HOST_BUILD,
    NOT_BUILT,
    OK,
    SKIPPED,
    Artifact,
    StageRecord,
    sha256_of,
    write_record,
)
from release.regression import (
    Comparison,
    by_platform,
    compare,
    describe_lost,
    incomplete_builds,
    interpreters,
    previous_release,
    remedy,
    suggested_patterns,
    wheel_tags,
)

FAST = {"NOX_RELEASE_RETRY_BACKOFF": "0.05", "NOX_RELEASE_LISTING_WAIT": "2"}
ONLINE = {"NOX_RELEASE_OFFLINE": ""}  # conftest sets it: these tests ask the emulator
TOKEN = "pypi-token-of-the-maintainer"

X86_64 = "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"
AARCH64 = "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64"
WIN = "cp312-cp312-win_amd64"


def wheels(version: str, *tags: str) -> list[str]:
    return [f"tiny-{version}-{tag}.whl" for tag in tags]


def lost(comparison: Comparison) -> list[str]:
    return [x.slot.identifier for x in comparison.regressions]


def against(old: Sequence[str], new: Sequence[str], **options: object) -> Comparison:
    return compare(
        wheels("1.1", *new),
        Version("1.1"),
        wheels("1.0", *old),
        **options,  # type: ignore[arg-type]
    )


# --- the slots a tag set serves ------------------------------------------------------------


def test_a_lost_architecture_is_named_and_the_others_are_not() -> None:
    comparison = against([X86_64, AARCH64, WIN], [X86_64, WIN])
    assert comparison.previous == Version("1.0")
    assert lost(comparison) == ["cp312-manylinux_aarch64"]
    assert comparison.regressions[0].had == (f"tiny-1.0-{AARCH64}.whl",)
    assert suggested_patterns(comparison) == ["*-manylinux_aarch64"]


def test_abi3_serves_every_later_cpython_and_specific_wheels_do_not() -> None:
    specific = ["cp311-cp311-win_amd64", "cp312-cp312-win_amd64"]
    comparison = against(["cp39-abi3-win_amd64"], specific)
    # 3.9 and 3.10 below the new wheels, and every CPython after 3.12 that abi3 still served.
    assert lost(comparison) == [f"cp3{m}-win_amd64" for m in (9, 10, 13, 14, 15)]
    # The other way round nothing is lost: abi3 from 3.9 serves 3.11 and 3.12.
    assert lost(against(specific, ["cp39-abi3-win_amd64"])) == []
    # A raised stable-ABI baseline loses the Pythons below it.
    assert lost(against(["cp38-abi3-win_amd64"], ["cp39-abi3-win_amd64"])) == ["cp38-win_amd64"]


def test_free_threaded_is_its_own_interpreter_that_abi3_does_not_serve() -> None:
    old = ["cp39-abi3-manylinux_2_17_x86_64", "cp314-cp314t-manylinux_2_17_x86_64"]
    assert lost(against(old, ["cp39-abi3-manylinux_2_17_x86_64"])) == ["cp314t-manylinux_x86_64"]
    # cp314t does not serve the GIL build either.
    comparison = against(["cp314-cp314-win_amd64"], ["cp314-cp314t-win_amd64"])
    assert lost(comparison) == ["cp314-win_amd64"]
    # abi3t (PEP 803, 3.15+) serves free-threaded 3.15 on, never 3.14t.
    old = ["cp314-cp314t-win_amd64", "cp315-cp315t-win_amd64"]
    assert lost(against(old, ["cp315-abi3.abi3t-win_amd64"])) == ["cp314t-win_amd64"]


def test_a_pure_wheel_serves_every_platform_and_python() -> None:
    assert lost(against([X86_64, AARCH64, WIN, "cp312-cp312-macosx_11_0_arm64"],
                        ["py3-none-any"])) == []  # fmt: skip
    # A generic wheel for one platform serves every Python there.
    assert lost(against(["cp39-abi3-win_amd64", "cp314-cp314t-win_amd64"],
                        ["py3-none-win_amd64"])) == []  # fmt: skip
    # A pure release replaced by native wheels stops serving "any Python 3" and every
    # platform without a wheel: said in those words.
    comparison = against(["py3-none-any"], ["cp312-cp312-win_amd64"])
    assert "py3-any" in lost(comparison)


def test_musllinux_and_manylinux_are_different_platforms() -> None:
    musl = "cp312-cp312-musllinux_1_2_x86_64"
    assert lost(against([X86_64, musl], [X86_64])) == ["cp312-musllinux_x86_64"]
    assert lost(against([X86_64, musl], [musl])) == ["cp312-manylinux_x86_64"]


def test_a_raised_floor_is_a_note_not_a_lost_platform() -> None:
    old = [X86_64, "cp312-cp312-macosx_10_13_x86_64"]
    new = ["cp312-cp312-manylinux_2_28_x86_64", "cp312-cp312-macosx_14_0_x86_64"]
    comparison = against(old, new)
    assert lost(comparison) == []
    said = [raised.describe(Version("1.0")) for raised in comparison.floors_raised]
    assert said == [
        "macOS x86_64: the macOS floor rose from 10.13 (1.0) to 14.0; systems with macOS "
        "older than 14.0 now get no wheel of this release",
        "Linux x86_64 (manylinux): the glibc floor rose from 2.17 (1.0) to 2.28; systems with "
        "glibc older than 2.28 now get no wheel of this release",
    ]


def test_universal2_serves_both_macos_architectures() -> None:
    universal = "cp312-cp312-macosx_10_13_universal2"
    thin = ["cp312-cp312-macosx_11_0_arm64", "cp312-cp312-macosx_10_13_x86_64"]
    assert lost(against([universal], thin)) == []
    assert lost(against(thin, [universal])) == []
    assert lost(against([universal], thin[:1])) == ["cp312-macosx_x86_64"]


def test_the_interpreters_compared_run_to_the_newest_cpython() -> None:
    tags = wheel_tags("tiny-1.0-cp39-abi3-win_amd64.whl")
    assert interpreters(tags) == [f"cp3{m}" for m in range(9, 16)]
    tags = wheel_tags("tiny-1.0-pp310-pypy310_pp73-win_amd64.whl")
    assert interpreters(tags) == ["pp310"]


def test_the_release_compared_with_is_the_last_final_one_below_with_wheels() -> None:
    files = [
        *wheels("0.9", WIN),
        *wheels("1.0", WIN, X86_64),
        "tiny-1.0.1.tar.gz",  # no wheel: passed over
        *wheels("1.1rc1", WIN),  # a pre-release: users get 1.0
        *wheels("1.2", WIN),  # above this release
    ]
    assert previous_release(files, Version("1.1")) == (Version("1.0"), wheels("1.0", X86_64, WIN))
    # Yanked files are passed over, as installers pass over them.
    yanked = wheels("1.0", WIN, X86_64)
    assert previous_release(files, Version("1.1"), yanked) == (Version("0.9"), wheels("0.9", WIN))
    # With no final release at all, the last pre-release.
    assert previous_release(wheels("1.0a1", WIN), Version("1.0")) == (
        Version("1.0a1"),
        wheels("1.0a1", WIN),
    )
    assert previous_release(["tiny-0.1.tar.gz"], Version("1.0")) is None


def test_dropped_patterns_and_requires_python_excuse_a_lost_slot() -> None:
    old = ["cp38-cp38-win_amd64", X86_64, AARCH64, WIN]
    comparison = against(old, [X86_64, WIN], dropped=["*-manylinux_aarch64"])
    assert lost(comparison) == ["cp38-win_amd64"]
    assert [x.dropped_by for x in comparison.dropped] == [
        '[tool.release] dropped "*-manylinux_aarch64"'
    ]
    comparison = against(old, [X86_64, WIN], dropped=["*-manylinux_aarch64"],
                         requires_python=">=3.9")  # fmt: skip
    assert lost(comparison) == []
    assert [x.dropped_by for x in comparison.dropped] == [
        '[tool.release] dropped "*-manylinux_aarch64"',
        'requires-python ">=3.9" leaves it out',
    ]


def test_suggested_patterns_are_as_broad_as_is_true() -> None:
    old = ["cp38-cp38-win_amd64", "cp38-cp38-manylinux_2_17_x86_64", X86_64, WIN]
    assert suggested_patterns(against(old, [X86_64, WIN])) == ["cp38-*"]
    old = [X86_64, "cp313-cp313-manylinux_2_17_x86_64", WIN]
    assert suggested_patterns(against(old, [X86_64, WIN])) == ["cp313-manylinux_x86_64"]


# --- [tool.release] dropped -------------------------------------------------------------------


def config_with(tmp_path: Path, dropped: str) -> Path:
    root = tiny_project(tmp_path)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text().replace(
        '[tool.release]\nbackend = "build"\n', f'[tool.release]\nbackend = "build"\n{dropped}\n'
    )
    pyproject.write_text(text)
    return root


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ('dropped = ["linux-aarch64"]', 'did you mean "*-manylinux_aarch64"?'),
        ('dropped = ["*-manylinux_arch64"]', 'did you mean "*-manylinux_aarch64"?'),
        ('dropped = ["cp38"]', 'did you mean "cp38-*"?'),
        ('dropped = ["*-macosx_universal2"]', "name those"),
    ],
)
def test_a_dropped_entry_that_names_no_slot_is_refused_with_the_closest(
    tmp_path: Path, written: str, said: str
) -> None:
    with pytest.raises(ConfigValueError) as caught:
        load_config(config_with(tmp_path, written))
    assert said in caught.value.cause
    assert '"*-manylinux_aarch64" (a platform, every Python)' in caught.value.remedy


def test_dropped_takes_cibuildwheels_patterns_without_a_dash(tmp_path: Path) -> None:
    config = load_config(config_with(tmp_path, 'dropped = ["pp*", "*_i686", "*-win32"]'))
    assert config.dropped == ["pp*", "*_i686", "*-win32"]


def test_dropped_takes_a_list_or_cibuildwheels_space_separated_string(tmp_path: Path) -> None:
    config = load_config(config_with(tmp_path, 'dropped = "cp38-* *-musllinux_*"'))
    assert config.dropped == ["cp38-*", "*-musllinux_*"]


def test_a_misspelt_key_names_dropped(tmp_path: Path) -> None:
    with pytest.raises(UnknownKeyError) as caught:
        load_config(config_with(tmp_path, 'droped = ["cp38-*"]'))
    assert "did you mean 'dropped'?" in caught.value.remedy


# --- against the emulated index ---------------------------------------------------------------


def upload(pypi: PyPI, paths: Sequence[Path]) -> None:
    """``twine upload`` of an earlier release, as the maintainer made it."""
    proc = subprocess.run(
        ["twine", "upload", "--non-interactive", "--repository-url", pypi.upload_url,
         *map(str, paths)],
        env={**os.environ, "TWINE_USERNAME": "__token__", "TWINE_PASSWORD": TOKEN},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def previous_release_on(pypi: PyPI, tmp_path: Path, version: str = "1.0") -> list[Path]:
    """The index holds tiny ``version``: Linux x86_64 and aarch64, Windows AMD64, an sdist."""
    pypi.api_tokens.add(TOKEN)
    folder = tmp_path / f"released-{version}"
    folder.mkdir()
    paths = [write_wheel(folder, "tiny", version, tag) for tag in (X86_64, AARCH64, WIN)]
    paths.append(write_sdist(folder, "tiny", version))
    upload(pypi, paths)
    return paths


def this_release(tmp_path: Path, tags: Sequence[str], release_toml: str = "") -> Release:
    """tiny 1.1 with wheels of ``tags`` and an sdist, as validate passed them (its record
    written here: these wheels have no binaries for the other checks to judge)."""
    root = config_with(tmp_path, release_toml)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.0"', 'version = "1.1"'))
    dist = root / "dist"
    dist.mkdir()
    paths = [write_wheel(dist, "tiny", "1.1", tag) for tag in tags]
    paths.append(write_sdist(dist, "tiny", "1.1"))
    artifacts = [Artifact(p.name, p.stat().st_size, sha256_of(p)) for p in paths]
    write_record(dist, StageRecord("validate", status=OK, artifacts=artifacts))
    return Release(root, dist)


def publish(release: Release, pypi: PyPI, *args: str) -> subprocess.CompletedProcess[str]:
    return run_release(
        "publish", "--project", str(release.project), "--repository", pypi.upload_url, *args,
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "PYPI_API_TOKEN": TOKEN,
             **FAST},
    )  # fmt: skip


def validate(release: Release, repository: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_release("validate", "--project", str(release.project), "--repository",
                       repository, *args, env={**FAST, **ONLINE})  # fmt: skip


def regression_findings(release: Release) -> list[dict[str, str]]:
    record = json.loads((release.dist / ".release" / "validate.json").read_text())
    return [f for f in record["findings"] if f["check"] == "regression"]


def test_publish_refuses_a_release_that_drops_aarch64_before_any_upload(
    pypi: PyPI, tmp_path: Path
) -> None:
    before = previous_release_on(pypi, tmp_path)
    uploads = list(pypi.uploads)
    release = this_release(tmp_path / "new", [X86_64, WIN])
    proc = publish(release, pypi)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 59, output
    assert "Traceback" not in output
    assert (
        "Linux aarch64 (manylinux), CPython 3.12: the last release, 1.0, had "
        f"tiny-1.0-{AARCH64}.whl" in output
    )
    assert "Nothing was uploaded" in output
    assert '[tool.release] dropped = ["*-manylinux_aarch64"]' in output
    # Printed after the plan, before any upload: nothing of 1.1 reached the index.
    assert pypi.uploads == uploads
    assert sorted(pypi.files()) == sorted(p.name for p in before)
    assert output.index("plan against") < output.index("Linux aarch64 (manylinux)")
    record = release.record()
    assert record["status"] == "failed"
    assert record["details"]["regression"] == {
        "compared_with": "1.0",
        "lost": ["cp312-manylinux_aarch64"],
        "not_built_here": [],
        "dropped": [],
    }


def test_the_dry_run_refuses_it_as_the_real_one_would(pypi: PyPI, tmp_path: Path) -> None:
    previous_release_on(pypi, tmp_path)
    release = this_release(tmp_path / "new", [X86_64, WIN])
    proc = publish(release, pypi, "--dry-run")
    assert proc.returncode == 59, proc.stdout + proc.stderr


def test_a_platform_dropped_on_purpose_is_a_note_and_publish_goes_on(
    pypi: PyPI, tmp_path: Path
) -> None:
    previous_release_on(pypi, tmp_path)
    release = this_release(tmp_path / "new", [X86_64, WIN], 'dropped = ["*-manylinux_aarch64"]')
    proc = publish(release, pypi)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "regression guard: compared with tiny 1.0 on " + pypi.index_url in proc.stdout
    assert (
        "note: Linux aarch64 (manylinux), CPython 3.12: dropped on purpose ([tool.release] "
        'dropped "*-manylinux_aarch64")' in proc.stdout
    )
    assert {f"tiny-1.1-{X86_64}.whl", f"tiny-1.1-{WIN}.whl", "tiny-1.1.tar.gz"} <= set(pypi.files())


def test_a_yanked_release_is_not_the_one_compared_with(pypi: PyPI, tmp_path: Path) -> None:
    """1.0.1 added aarch64 and was yanked: users on aarch64 never got it, 1.1 loses nothing."""
    pypi.api_tokens.add(TOKEN)
    folder = tmp_path / "old"
    folder.mkdir()
    upload(pypi, [write_wheel(folder, "tiny", "1.0", tag) for tag in (X86_64, WIN)])
    yanked = [write_wheel(folder, "tiny", "1.0.1", tag) for tag in (X86_64, AARCH64, WIN)]
    upload(pypi, yanked)
    for path in yanked:
        pypi.yank(path.name, "broken build")
    release = this_release(tmp_path / "new", [X86_64, WIN])
    proc = publish(release, pypi)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "compared with tiny 1.0 on" in proc.stdout


def test_validate_reports_the_lost_platform_as_an_error(pypi: PyPI, tmp_path: Path) -> None:
    previous_release_on(pypi, tmp_path)
    release = this_release(tmp_path / "new", [X86_64, WIN])
    proc = validate(release, pypi.upload_url)
    assert proc.returncode == 30, proc.stdout
    errors = [f for f in regression_findings(release) if f["level"] == "error"]
    assert [f["message"] for f in errors] == [
        f"Linux aarch64 (manylinux), CPython 3.12: the last release, 1.0, had tiny-1.0-{AARCH64}"
        ".whl; this release has no wheel for it"
    ]
    assert '[tool.release] dropped = ["*-manylinux_aarch64"]' in errors[0]["remedy"]
    assert f"note: [regression] compared with 1.0 on {pypi.index_url} (3 wheel(s))" in proc.stdout


def test_validate_with_the_drop_named_notes_it(pypi: PyPI, tmp_path: Path) -> None:
    previous_release_on(pypi, tmp_path)
    release = this_release(tmp_path / "new", [X86_64, WIN], 'dropped = "*-manylinux_aarch64"')
    validate(release, pypi.upload_url)
    found = regression_findings(release)
    assert [f["level"] for f in found] == ["info", "info"]
    assert found[0]["message"] == (
        "Linux aarch64 (manylinux), CPython 3.12: dropped on purpose ([tool.release] dropped "
        '"*-manylinux_aarch64")'
    )


def test_validate_says_plainly_when_the_index_cannot_be_asked(tmp_path: Path) -> None:
    release = this_release(tmp_path, [X86_64, WIN])
    validate(release, "http://127.0.0.1:9/legacy/")
    (found,) = regression_findings(release)
    assert found["level"] == "info"
    assert found["message"].startswith(
        "not compared with the last release: the index http://127.0.0.1:9/simple/tiny/ could "
        "not be read"
    )
    # Offline on purpose: said, and nothing asked.
    proc = run_release("validate", "--project", str(release.project), "--repository",
                       "http://127.0.0.1:9/legacy/")  # fmt: skip
    assert (
        "note: [regression] not compared with the last release: NOX_RELEASE_OFFLINE is set, so "
        "http://127.0.0.1:9/simple/ was not asked" in proc.stdout
    )


def test_a_first_release_has_nothing_to_compare_with(pypi: PyPI, tmp_path: Path) -> None:
    release = this_release(tmp_path / "validated", [X86_64, WIN])
    proc = validate(release, pypi.upload_url)
    (found,) = regression_findings(release)
    assert found == {
        "level": "info",
        "check": "regression",
        "file": None,
        "message": f"the project is not on {pypi.index_url} yet (a first release): nothing "
        "to compare the wheels with",
        "remedy": None,
    }, proc.stdout
    pypi.api_tokens.add(TOKEN)
    publish_proc = publish(this_release(tmp_path / "published", [X86_64, WIN]), pypi)
    assert publish_proc.returncode == 0, publish_proc.stdout
    assert (
        f"regression guard: tiny is a new project on {pypi.index_url}: nothing to compare the "
        "wheels with" in publish_proc.stdout
    )


def test_lost_pythons_are_said_once_per_kind() -> None:
    old = ["cp39-abi3-manylinux_2_17_aarch64", "cp314-cp314t-manylinux_2_17_aarch64", X86_64]
    comparison = against(old, [X86_64])
    ((platform, losts),) = by_platform(comparison.regressions).items()
    assert describe_lost(platform, losts, Version("1.0")) == (
        "Linux aarch64 (manylinux), CPython 3.9, 3.10, 3.11, 3.12, 3.13, 3.14, 3.15, "
        "free-threaded CPython 3.14: the last release, 1.0, had "
        "tiny-1.0-cp314-cp314t-manylinux_2_17_aarch64.whl, "
        "tiny-1.0-cp39-abi3-manylinux_2_17_aarch64.whl"
    )
    assert suggested_patterns(comparison) == ["*-manylinux_aarch64"]


def test_the_index_listing_reads_yanked_files_in_html_and_json() -> None:
    """PEP 592 as Warehouse writes it: data-yanked (a reason, or empty); JSON's yanked is
    true or the reason, and false for a file that is not yanked."""
    page = (
        '<a href="/f/tiny-1.0-py3-none-any.whl#sha256=aa" data-yanked="">tiny-1.0</a>'
        '<a href="/f/tiny-1.1-py3-none-any.whl#sha256=bb" data-yanked="broken">x</a>'
        '<a href="/f/tiny-1.2-py3-none-any.whl#sha256=cc">tiny-1.2-py3-none-any.whl</a>'
    )
    files, yanked = _html_files(page, "https://example.org/simple/tiny/")
    assert set(files) == {f"tiny-1.{n}-py3-none-any.whl" for n in range(3)}
    assert yanked == {"tiny-1.0-py3-none-any.whl", "tiny-1.1-py3-none-any.whl"}
    data = {"files": [{"filename": "a.whl", "yanked": True}, {"filename": "b.whl", "yanked": "why"},
                      {"filename": "c.whl", "yanked": False}, {"filename": "d.whl"}]}  # fmt: skip
    assert _json_yanked(data) == {"a.whl", "b.whl"}


def test_a_dry_run_notes_a_platform_only_ci_builds_and_the_real_run_refuses_it(
    pypi: PyPI, tmp_path: Path
) -> None:
    """On Linux build-windows is skipped: the dry run cannot have the Windows wheel, and says
    the last release's Windows wheel must come from CI's build; without it publish refuses."""
    previous_release_on(pypi, tmp_path)
    release = this_release(tmp_path / "new", [X86_64, AARCH64])
    write_record(release.dist, StageRecord("build-windows", status=SKIPPED, reason="Linux"))
    proc = publish(release, pypi, "--dry-run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        f"note: Windows AMD64, CPython 3.12: the last release, 1.0, had tiny-1.0-{WIN}.whl; "
        "build-windows did not make it here: CI's must" in proc.stdout
    )
    assert release.record()["details"]["regression"]["not_built_here"] == ["cp312-win_amd64"]
    proc = publish(release, pypi)
    assert proc.returncode == 59, proc.stdout + proc.stderr
    assert "Windows AMD64, CPython 3.12" in proc.stdout + proc.stderr


def test_validate_notes_a_lost_platform_whose_build_did_not_run_here(tmp_path: Path) -> None:
    """Unless --strict: then the dist dir is the whole release."""
    root = tiny_project(tmp_path)
    dist = root / "dist"
    dist.mkdir()
    dists = [read_distribution(write_wheel(dist, "tiny", "1.0", X86_64))]
    config = load_config(root)
    listing = Listing("u", dict.fromkeys(wheels("0.9", X86_64, WIN)), "json")
    skipped = {"build-windows": StageRecord("build-windows", status=SKIPPED)}
    found = RegressionCheck().run(dists, check_context(config, index_listing=listing,
                                                       build_records=skipped))  # fmt: skip
    assert [f.level for f in found] == ["info", "info"]
    assert "build-windows did not make it here" in found[0].message
    strict = check_context(config, index_listing=listing, build_records=skipped, strict=True)
    assert [f.level for f in RegressionCheck().run(dists, strict)] == ["error", "info"]


def test_a_host_build_excuses_only_the_builds_it_names() -> None:
    """A CPython missing here says nothing of an architecture the release leaves out."""
    comparison = against([X86_64, AARCH64, "cp313-cp313-manylinux_2_17_x86_64"], [X86_64])
    host = StageRecord("build-linux", status=HOST_BUILD)
    host.details[NOT_BUILT] = ["cp313-manylinux_x86_64"]
    not_here = incomplete_builds({"build-linux": host})
    assert [x.slot.identifier for x in comparison.regressions if not_here.covers(x)] == [
        "cp313-manylinux_x86_64"
    ]
    assert [x.slot.identifier for x in comparison.regressions if not not_here.covers(x)] == [
        "cp312-manylinux_aarch64"
    ]
    skipped = incomplete_builds({"build-linux": StageRecord("build-linux", status=SKIPPED)})
    assert all(skipped.covers(x) for x in comparison.regressions)


def test_a_lost_platform_no_stage_builds_says_so_in_the_remedy() -> None:
    android = "cp313-cp313-android_24_arm64_v8a"
    comparison = against([X86_64, android], [X86_64])
    assert "nox-release builds no android_arm64_v8a wheels yet" in remedy(comparison)
    # macOS and aarch64 have build stages (build-macos, build-linux --arch aarch64).
    macos = "cp312-cp312-macosx_11_0_arm64"
    for other in (AARCH64, macos):
        assert remedy(against([X86_64, other], [X86_64])).startswith("build the missing wheels")


def test_pypy_and_mobile_platforms_are_slots_of_their_own() -> None:
    pypy = "pp310-pypy310_pp73-manylinux_2_17_x86_64"
    assert lost(against([X86_64, pypy], [X86_64])) == ["pp310-manylinux_x86_64"]
    assert lost(against([X86_64, pypy], [X86_64, pypy.replace("2_17", "2_28")])) == []
    ios = "cp313-cp313-ios_13_0_arm64_iphoneos"
    assert lost(against([ios], [ios.replace("13_0", "14_0")])) == []
    assert lost(against([ios], [X86_64.replace("312", "313")])) == ["cp313-ios_arm64_iphoneos"]
