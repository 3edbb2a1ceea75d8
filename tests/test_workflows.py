"""The CI surface: the generated workflows, and the check stage that judges them.

The workflows of this repository and of the examples are what their configuration makes and
pass every judge (the audit against [tool.release], zizmor, GitHub's workflow schema); a
workflow with one seeded mistake gets exactly one finding, which names the mistake and the
fix. zizmor and check-jsonschema are the real tools, run by the check stage.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import (
    EXAMPLES,
    FORCED_COLOUR,
    REPO,
    TINY_PYPROJECT,
    run_context,
    tiny_project,
    write_text,
)
from fake_processes import FakeProcesses, make_ctx, printed

from release import cli, pipeline, system_packages
from release.config import load_config
from release.console import Console
from release.errors import CheckFailedError, ConfigValueError, SystemPackageError
from release.records import ERROR, INFO, WARNING, Finding, StageRecord
from release.stages.check import check, schema_findings, zizmor_findings
from release.workflows.audit import audit, filter_matches
from release.workflows.files import differences, write_or_check
from release.workflows.generate import workflows

TOOL_OUTPUT = Path(__file__).parent / "tool_output"
PROJECTS = [REPO, EXAMPLES / "tally", EXAMPLES / "cvec"]
PUBLISH_ENVIRONMENT = '\n[tool.release.publish]\nenvironment = "pypi"\n'


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level == ERROR]


def run_check(project: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    """``nox-release check`` in-process: exit code, its record, what it printed."""
    records = project.parent / "records"
    code = cli.main(["check", "--project", str(project), "--record-dir", str(records)])
    record = json.loads((records / "check.json").read_text())
    return code, record, capsys.readouterr().out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The tiny project with a publish environment, and its generated workflows."""
    root = tiny_project(tmp_path)
    write_text(root / "pyproject.toml", TINY_PYPROJECT + PUBLISH_ENVIRONMENT)
    for path, text in workflows(load_config(root)).items():
        write_text(path, text)
    return root


def release_yml(project: Path) -> Path:
    return project / ".github" / "workflows" / "release.yml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- the workflows of this repository and the examples ---------------------------------------


@pytest.mark.parametrize("root", PROJECTS, ids=lambda p: p.name)
def test_committed_workflows_are_what_the_config_generates(root: Path) -> None:
    assert differences(load_config(root)) == {}


@pytest.mark.parametrize("root", PROJECTS, ids=lambda p: p.name)
def test_committed_workflows_pass_every_judge(root: Path, tmp_path: Path) -> None:
    # The check stage as `nox -s check` runs it, with its record in a scratch dist dir.
    ctx = run_context(load_config(root), dist=tmp_path)
    record = StageRecord("check")
    check(ctx, record)
    assert errors(record.findings) == []
    assert [f for f in record.findings if f.level == WARNING] == []
    assert any(f.check == "workflow" and "matches [tool.release]" in f.message
               for f in record.findings)  # fmt: skip
    assert record.tool_versions["zizmor"] and record.tool_versions["check-jsonschema"]
    # This repository's CI is ci.yml; the examples' dry run is release-dry-run.yml.
    assert record.details["workflows"] == sorted(
        [
            f".github/workflows/{load_config(root).ci.workflow}",
            ".github/workflows/release.yml",
        ]
    )


def test_generated_release_workflow_is_least_privilege_and_thin(project: Path) -> None:
    text = release_yml(project).read_text()
    assert "\npermissions: {}\n" in text
    # id-token: write once, on the publish job; contents: write once, on github-release.
    assert text.count("id-token: write") == 1
    assert text.index("id-token: write") > text.index("\n  publish:")
    assert text.count("contents: write") == 1
    assert text.index("contents: write") > text.index("\n  github-release:")
    # attestations: write once, on the publish job, which runs provenance after publish;
    # the token reaches the provenance step alone there.
    publish = text[text.index("\n  publish:") :].split("\n\n")[0]
    assert text.count("attestations: write") == 1 and "attestations: write" in publish
    assert "      id-token: write\n      attestations: write\n" in publish
    assert publish.index("- run: nox -s publish") < publish.index("- run: nox -s provenance")
    assert publish.count("GITHUB_TOKEN") == 1
    assert publish.index("GITHUB_TOKEN") > publish.index("- run: nox -s provenance")
    assert "persist-credentials: false" in text
    # Both from the validated set, after validate; the GitHub Release after PyPI took it.
    needs = {"publish": "[validate]", "github-release": "[validate, publish]"}
    for job, after in needs.items():
        block = text[text.index(f"\n  {job}:") :].split("\n\n")[0]
        assert block.index(f"needs: {after}") < block.index("steps:")
        assert "          name: validated\n" in block
    # The builds' artifacts match validate's pattern; the validated set does not.
    assert 'pattern: "dist-*"' in text and "name: dist-validated" not in text
    assert text.count("overwrite: true") == text.count("upload-artifact")
    runs = [line.strip() for line in text.splitlines() if line.strip().startswith("- run:")]
    assert runs and all(
        r.startswith(("- run: nox -s ", "- run: python -m pip install nox==")) for r in runs
    )


# --- one seeded mistake, one finding ----------------------------------------------------------

Mutation = Callable[[Path], None]


def _top_level_id_token(p: Path) -> None:
    edit(release_yml(p), "\npermissions: {}\n", "\npermissions:\n  id-token: write\n")


def _wrong_environment(p: Path) -> None:
    edit(release_yml(p), "      name: pypi\n", "      name: production\n")


def _renamed(p: Path) -> None:
    release_yml(p).rename(release_yml(p).with_name("publish.yml"))


def _tag_filter(p: Path) -> None:
    edit(release_yml(p), 'tags: ["v*"]', 'tags: ["release-*"]')


PUBLISH_STEP = "      - run: nox -s publish\n"
TWINE_STEP = "      - run: pip install twine && twine upload dist/*\n"
PUBLISH_ACTION = (
    "      - uses: pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc\n"
)


def _extra_run(p: Path) -> None:
    edit(release_yml(p), PUBLISH_STEP, TWINE_STEP + PUBLISH_STEP)


def _other_action(p: Path) -> None:
    edit(release_yml(p), PUBLISH_STEP, PUBLISH_ACTION + PUBLISH_STEP)


def _pull_request_target(p: Path) -> None:
    edit(release_yml(p), "on:\n  push:\n", "on:\n  pull_request_target:\n  push:\n")


def _workflow_call(p: Path) -> None:
    edit(release_yml(p), "on:\n  push:\n", "on:\n  workflow_call:\n  push:\n")


def _publish_without_id_token(p: Path) -> None:
    edit(release_yml(p), "      id-token: write\n", "")


def _provenance_without_attestations(p: Path) -> None:
    edit(release_yml(p), "      attestations: write\n", "")


def _top_level_attestations(p: Path) -> None:
    edit(release_yml(p), "\npermissions: {}\n", "\npermissions:\n  attestations: write\n")


SEEDED: dict[str, tuple[Mutation, str, str]] = {
    # name: (the mistake, words of its one finding, words of its remedy)
    "top-level id-token": (_top_level_id_token, "grants id-token: write at the top",
                           "id-token: write on the publish job alone"),
    "wrong environment": (_wrong_environment, "runs in environment 'production'",
                          "set environment: pypi on the job"),
    "renamed workflow": (_renamed, "no such file, and it is the release workflow",
                         "set [tool.release.publish] workflow to the file's name"),
    "tag filter": (_tag_filter, "does not run for the tag v1.0", 'tags: ["v*"]'),
    "extra run step": (_extra_run, "runs `pip install twine && twine upload dist/*`",
                       "move the logic into a nox session"),
    "other action": (_other_action, "uses pypa/gh-action-pypi-publish", "call that session"),
    "pull_request_target": (_pull_request_target, "runs on pull_request_target",
                            "trigger the release workflow on tag pushes only"),
    "workflow_call": (_workflow_call, "a reusable workflow (on: workflow_call)",
                      "started by the tag push"),
    "publish job lacks id-token": (_publish_without_id_token, "lacks id-token: write",
                                   "id-token: write"),
    "provenance job lacks attestations": (
        _provenance_without_attestations, "lacks attestations: write",
        "      attestations: write   # storing the build provenance attestation"),
    "top-level attestations": (_top_level_attestations, "grants attestations: write at the top",
                               "attestations: write on the job that runs `nox -s provenance`"),
}  # fmt: skip


def test_seeded_mistakes_are_all_different() -> None:
    assert len({words for _, words, _ in SEEDED.values()}) == len(SEEDED)


@pytest.mark.parametrize("name", SEEDED)
def test_a_seeded_mistake_gets_its_own_finding(name: str, project: Path) -> None:
    mutate, words, remedy = SEEDED[name]
    assert errors(audit(load_config(project), "1.0")) == []
    mutate(project)
    found = errors(audit(load_config(project), "1.0"))
    assert len(found) == 1, [f.message for f in found]
    (finding,) = found
    assert words in finding.message
    assert finding.remedy and remedy in finding.remedy
    assert finding.file == ".github/workflows/release.yml"


def test_check_fails_showing_the_permissions_the_provenance_job_lacks(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The publish job (which runs provenance too) without either permission: one error,
    # saying what each is for, with the block to paste for that job.
    edit(release_yml(project), "      id-token: write\n      attestations: write\n", "")
    code, record, out = run_check(project, capsys)
    assert code == CheckFailedError.exit_code
    (finding,) = [f for f in record["findings"] if f["level"] == "error"]
    assert finding["message"] == (
        "the job publish runs `nox -s publish` and `nox -s provenance` and lacks id-token: "
        "write and attestations: write: GitHub will give it no OIDC token (so no trusted "
        "publishing, nothing signed with Sigstore); GitHub will refuse to store the build "
        "provenance attestation (403)"
    )
    block = (
        "jobs:\n  publish:\n    environment: pypi\n    permissions:\n      contents: read\n"
        "      id-token: write       # the OIDC token: trusted publishing, the Sigstore "
        "signing identity\n      attestations: write   # storing the build provenance "
        "attestation\n    steps: ..."
    )
    assert block in finding["remedy"]
    assert "jobs:\n  publish:\n    environment: pypi\n    permissions:" in out


def test_a_provenance_job_of_its_own_gets_its_own_yaml(project: Path) -> None:
    # A maintainer's layout: provenance in a job of its own, given nothing but contents: read.
    text = release_yml(project).read_text()
    edit(release_yml(project), "      attestations: write\n", "")
    step = (
        "      - run: nox -s provenance\n        env:\n          RELEASE_TAG: ${{ inputs.tag }}\n"
        "          GITHUB_TOKEN: ${{ github.token }}\n"
    )
    edit(release_yml(project), step, "")
    job = (
        "\n  provenance:\n    runs-on: ubuntu-24.04\n    needs: [publish]\n"
        "    permissions:\n      contents: read\n    steps:\n      - run: nox -s provenance\n"
    )
    release_yml(project).write_text(release_yml(project).read_text() + job)
    assert text != release_yml(project).read_text()
    (finding,) = errors(audit(load_config(project), "1.0"))
    assert finding.message.startswith(
        "the job provenance runs `nox -s provenance` and lacks id-token: write and "
        "attestations: write"
    )
    assert finding.remedy is not None
    assert "jobs:\n  provenance:\n    permissions:\n      contents: read\n" in finding.remedy


def test_a_job_holding_attestations_write_it_does_not_need_is_warned(project: Path) -> None:
    edit(release_yml(project), "    permissions:\n      contents: write\n",
         "    permissions:\n      contents: write\n      attestations: write\n")  # fmt: skip
    (finding,) = [f for f in audit(load_config(project), "1.0") if f.level != INFO]
    assert finding.level == WARNING
    assert "the job github-release holds attestations: write and runs no `nox -s provenance`" in (
        finding.message
    )


def test_a_publish_job_without_environment_warns_when_none_is_configured(tmp_path: Path) -> None:
    root = tiny_project(tmp_path)  # no [tool.release.publish] environment
    edit(
        release_yml(root),
        "    environment:\n      name: pypi\n      url: https://pypi.org/p/tiny\n",
        "",
    )
    (finding,) = [f for f in audit(load_config(root), "1.0") if f.level != INFO]
    assert finding.level == WARNING
    assert "anyone who can push a tag can publish" in finding.message


@pytest.mark.parametrize("colour", [{}, FORCED_COLOUR], ids=["plain", "colour-forced"])
def test_an_unpinned_action_is_zizmors_finding(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    colour: dict[str, str],
) -> None:
    for name, value in colour.items():
        monkeypatch.setenv(name, value)
    edit(release_yml(project),
         "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0",
         "actions/checkout@v5")  # fmt: skip
    code, record, out = run_check(project, capsys)
    assert code == CheckFailedError.exit_code
    found = [f for f in record["findings"] if f["level"] == ERROR]
    assert [f["check"] for f in found] == ["zizmor"], found
    assert found[0]["message"].startswith("unpinned-uses (High) at line 22: ")
    assert found[0]["file"] == ".github/workflows/release.yml"
    assert "docs.zizmor.sh" in found[0]["remedy"]
    assert "error: [zizmor]" in out and "nox -s check runs in seconds" in out


def test_a_schema_error_is_check_jsonschemas_finding(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(release_yml(project), "  sdist:\n    runs-on: ubuntu-24.04\n",
         "  sdist:\n    runs_on: ubuntu-24.04\n")  # fmt: skip
    code, record, _ = run_check(project, capsys)
    assert code == CheckFailedError.exit_code
    schema = [f for f in record["findings"] if f["check"] == "workflow-schema"]
    assert len(schema) == 1
    assert "$.jobs.sdist: 'runs-on' is a required property" in schema[0]["message"]


def test_a_workflow_that_is_not_yaml_is_one_finding(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    release_yml(project).write_text("on: [push\njobs: {}\n")
    code, record, out = run_check(project, capsys)
    assert code == CheckFailedError.exit_code
    (finding,) = [f for f in record["findings"] if f["level"] == ERROR]
    assert finding["check"] == "yaml" and finding["file"] == ".github/workflows/release.yml"
    assert finding["message"] == (
        "not valid YAML: expected ',' or ']', but got ':' at line 2, column 5 "
        "(while parsing a flow sequence)"
    )
    assert out.count("not valid YAML") == 1


def test_the_check_passes_on_the_generated_workflows(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, record, out = run_check(project, capsys)
    assert code == 0, out
    assert [f for f in record["findings"] if f["level"] != INFO] == []
    assert "check: 0 error(s), 0 warning(s)" in out


# --- workflows --write / --check --------------------------------------------------------------


def test_workflows_check_shows_a_hand_edit_and_write_restores(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(project)
    console = Console(github=False, stream=io.StringIO(), environ={})
    assert write_or_check(config, console, write=False) == 0
    edit(
        release_yml(project),
        "      - run: nox -s validate\n",
        "      - run: nox -s validate -- --strict\n",
    )
    with pytest.raises(CheckFailedError) as info:
        write_or_check(config, console, write=False)
    assert "1 workflow file(s) differ" in info.value.cause
    diff = console.stream.getvalue()  # type: ignore[attr-defined]
    assert "-      - run: nox -s validate -- --strict" in diff
    assert "+      - run: nox -s validate" in diff
    assert cli.main(["workflows", "--write", "--project", str(project)]) == 0
    assert "wrote .github/workflows/release.yml" in capsys.readouterr().out
    assert differences(config) == {}


def test_workflows_follow_the_configuration(tmp_path: Path) -> None:
    root = tiny_project(tmp_path)
    write_text(root / "pyproject.toml", TINY_PYPROJECT.replace(
        '[tool.release]\nbackend = "build"\n',
        '[tool.release]\nbackend = "build"\ntag-pattern = "release-{version}"\n'
        '[tool.release.publish]\nworkflow = "pypi.yml"\nenvironment = "release"\n'
        '[tool.release.ci]\nsessions = ["lint"]\ndry-run = ["."]\n',
    ))  # fmt: skip
    made = workflows(load_config(root))
    release = made[root / ".github/workflows/pypi.yml"]
    assert 'tags: ["release-*"]' in release and "      name: release\n" in release
    ci = made[root / ".github/workflows/release-dry-run.yml"]
    assert "  lint:\n" in ci and "run: nox -s release\n" in ci
    assert "windows-2025" in ci and "windows-2025" not in release  # windows = []


@pytest.mark.parametrize(("patterns", "tag", "matches"), [
    (["v*"], "v1.0", True),
    (["v*"], "1.0", False),
    (["v[0-9]+.[0-9]+*"], "v10.2.0", True),
    (["release/*"], "release/1.0", True),
    (["release/*"], "release/x/1.0", False),
    (["release/**"], "release/x/1.0", True),
    (["v*", "!v*-rc*"], "v1.0-rc1", False),
    (["!v0*", "v*"], "v0.1", True),  # later patterns win
])  # fmt: skip
def test_tag_filters_follow_githubs_syntax(patterns: list[str], tag: str, matches: bool) -> None:
    assert filter_matches(patterns, tag) is matches


# --- the recorded output of the judges --------------------------------------------------------


def test_zizmor_findings_from_recorded_output(tmp_path: Path) -> None:
    output = (TOOL_OUTPUT / "zizmor-old-workflows.json").read_text()
    found = zizmor_findings("some log line\n" + output, tmp_path)
    assert len(found) == 13
    assert all(f.level == ERROR and f.check == "zizmor" for f in found)
    assert {f.file for f in found} == {".github/workflows/ci.yml", ".github/workflows/release.yml"}
    first = found[0].message
    assert first.startswith("artipacked (Medium) at line ")
    assert found[0].file == ".github/workflows/ci.yml"
    assert sum(f.message.startswith("unpinned-uses (High)") for f in found) == 9
    assert zizmor_findings("[]", tmp_path) == []
    (broken,) = zizmor_findings("zizmor crashed", tmp_path)
    assert broken.message == "zizmor gave no report" and broken.remedy


def test_zizmor_findings_through_coloured_log_lines(tmp_path: Path) -> None:
    # Where CI=true zizmor colours its log lines (stderr, merged before the report): each
    # escape sequence holds a "[", and the report is the array that starts a line.
    output = (TOOL_OUTPUT / "zizmor-unpinned-ci-colour.txt").read_text()
    assert output.startswith("\x1b[")
    (finding,) = zizmor_findings(output, tmp_path)
    assert finding.file == ".github/workflows/ci.yml"
    assert finding.message == (
        "unpinned-uses (High) at line 8: unpinned action reference (this step)"
    )


def test_schema_findings_from_recorded_output(tmp_path: Path) -> None:
    output = (TOOL_OUTPUT / "check-jsonschema-bad-job.json").read_text()
    (finding,) = schema_findings(output, tmp_path)
    assert finding.file == ".github/workflows/bad.yml"
    assert (
        "$.jobs.a: Additional properties are not allowed ('stepz' was unexpected)"
        in finding.message
    )
    assert schema_findings('{"status": "ok", "errors": [], "parse_errors": []}', tmp_path) == []
    (broken,) = schema_findings("Traceback (most recent call last)", tmp_path)
    assert broken.message == "check-jsonschema gave no report"


# --- tools and system packages ----------------------------------------------------------------

ABSENT = "nox-release-test-no-such-package"
# What zizmor and check-jsonschema print for workflows they find nothing in.
JUDGES_SILENT = {
    "zizmor": "[]",
    "check-jsonschema": '{"status": "ok", "errors": [], "parse_errors": []}',
}


def apt_project(tmp_path: Path, packages: list[str]) -> Path:
    root = tiny_project(tmp_path)
    listed = ", ".join(f'"{p}"' for p in packages)
    write_text(
        root / "pyproject.toml",
        TINY_PYPROJECT + f"\n[tool.release.linux]\napt-packages = [{listed}]\n",
    )
    return root


def test_check_names_a_missing_apt_package_with_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("dpkg-query") is None:
        pytest.fail("the tests run on Debian or Ubuntu (dpkg-query is not on PATH)")
    root = apt_project(tmp_path, ["coreutils", ABSENT])
    code, record, _ = run_check(root, capsys)
    assert code == CheckFailedError.exit_code
    (finding,) = [f for f in record["findings"] if f["level"] == ERROR]
    assert finding["check"] == "tools"
    assert f"needs {ABSENT} ([tool.release.linux] apt-packages)" in finding["message"]
    assert "coreutils" not in finding["message"]  # installed
    assert f"apt-get install -y -q --no-install-recommends {ABSENT}" in finding["remedy"]


def test_check_names_a_before_build_program_missing_here(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tiny_project(tmp_path)
    write_text(
        root / "pyproject.toml",
        TINY_PYPROJECT.replace(
            "[tool.release]\n",
            f'[tool.release]\nbefore-build = ["python tools/gen.py", "{ABSENT} cython"]\n',
        ),
    )
    code, record, _ = run_check(root, capsys)
    assert code == CheckFailedError.exit_code
    (finding,) = [f for f in record["findings"] if f["level"] == ERROR]
    assert finding["check"] == "tools"
    assert finding["message"] == (
        f"{ABSENT} is not on PATH; [tool.release] before-build runs it before building"
    )


def test_in_github_actions_check_says_build_linux_installs_them(tmp_path: Path) -> None:
    config = load_config(apt_project(tmp_path, [ABSENT]))
    ctx = make_ctx(config, environ={"GITHUB_ACTIONS": "true"}, processes=FakeProcesses(
        tools={"dpkg-query": "/usr/bin/dpkg-query"},
        respond=lambda call: JUDGES_SILENT.get(call.tool, ("no packages found matching x", 1)),
    ))  # fmt: skip
    record = StageRecord("check")
    check(ctx, record)
    (note,) = [f for f in record.findings if f.check == "tools"]
    assert note.level == INFO
    assert note.message == f"build-linux installs {ABSENT} (apt-packages)"


def test_system_packages_installs_in_ci_after_refreshing_the_lists(tmp_path: Path) -> None:
    config = load_config(tiny_project(tmp_path))
    replies = {"dpkg-query": ("coreutils install ok installed\n", 1)}
    fake = FakeProcesses(
        tools={tool: f"/usr/bin/{tool}" for tool in ("dpkg-query", "apt-get", "sudo")},
        respond=lambda call: replies.get(call.tool, ""),
    )
    ctx = make_ctx(config, processes=fake)
    installed = system_packages.ensure(ctx.runner, ["coreutils", "gcc"], install=True)
    assert installed == ["gcc"]
    argv = [c.args for c in fake.calls if c.tool != "dpkg-query"]
    assert [a[-2:] for a in argv] == [("update", "-q"), ("--no-install-recommends", "gcc")]
    assert all(c.env.get("DEBIAN_FRONTEND") == "noninteractive" for c in fake.calls[1:])
    with pytest.raises(SystemPackageError) as info:
        system_packages.ensure(ctx.runner, ["gcc"], install=False)
    assert "apt-get install -y -q --no-install-recommends gcc" in info.value.remedy
    assert "apt-get" in printed(ctx)  # the install is logged like every command
    assert system_packages.install_wanted({"GITHUB_ACTIONS": "true"})
    assert not system_packages.install_wanted({})


def test_build_linux_installs_apt_packages_in_actions_before_building(tmp_path: Path) -> None:
    config = load_config(apt_project(tmp_path, ["coreutils", "m4"]))
    replies = {"dpkg-query": ("coreutils install ok installed\n", 1)}
    fake = FakeProcesses(
        tools={tool: f"/usr/bin/{tool}" for tool in ("dpkg-query", "apt-get", "sudo")},
        respond=lambda call: replies.get(call.tool, ""),
    )
    ctx = make_ctx(config, environ={"GITHUB_ACTIONS": "true"}, processes=fake)
    pipeline.run_stage(ctx, "build-linux")
    # The tool and arguments of each call, sudo (when not root) taken off.
    commands = [c.args if c.tool == "sudo" else (c.tool, *c.args) for c in fake.calls]
    names = [c[0] for c in commands]
    build = next(i for i, c in enumerate(commands) if c[1:4] == ("-m", "build", "--wheel"))
    assert names.index("dpkg-query") < names.index("apt-get") < build
    assert [c for c in commands if c[0] == "apt-get"] == [
        ("apt-get", "update", "-q"),
        ("apt-get", "install", "-y", "-q", "--no-install-recommends", "m4"),
    ]
    assert all(
        c.env.get("DEBIAN_FRONTEND") == "noninteractive"
        for c in fake.calls
        if "apt-get" in (c.tool, *c.args[:1])
    )


def test_build_linux_on_a_laptop_stops_before_building_with_the_command(tmp_path: Path) -> None:
    config = load_config(apt_project(tmp_path, ["m4"]))
    fake = FakeProcesses(
        tools={"dpkg-query": "/usr/bin/dpkg-query"},
        respond=lambda call: ("dpkg-query: no packages found matching m4", 1),
    )
    ctx = make_ctx(config, processes=fake)
    record, error = pipeline.run_stage(ctx, "build-linux")
    assert isinstance(error, SystemPackageError)
    assert "apt-get install -y -q --no-install-recommends m4" in error.remedy
    tools = [c.tool for c in fake.calls]
    assert "dpkg-query" in tools and "apt-get" not in tools and "sudo" not in tools
    assert not any(c.args[:3] == ("-m", "build", "--wheel") for c in fake.calls)  # not built
    assert record.status == "failed"


# --- what goes into job ids and run: lines -----------------------------------------------------


@pytest.mark.parametrize(("ci", "words"), [
    ('sessions = [""]', "sessions entry ''"),
    ('sessions = ["lint; curl evil"]', "is not a list of nox session names"),
    ('dry-run = ["../elsewhere"]', "is not a directory inside the project"),
    ('dry-run = ["with space"]', "is not a directory inside the project"),
    ('python = ["latest"]', "is not a list of Python versions"),
    ("python = []", "is not a list of Python versions"),
])  # fmt: skip
def test_ci_entries_that_would_break_the_workflow_are_refused(
    ci: str, words: str, tmp_path: Path
) -> None:
    root = tiny_project(tmp_path)
    write_text(root / "pyproject.toml", TINY_PYPROJECT + f"\n[tool.release.ci]\n{ci}\n")
    with pytest.raises(ConfigValueError) as info:
        load_config(root)
    assert words in info.value.cause and "[tool.release.ci]" in info.value.cause


def test_job_ids_are_ones_github_accepts_and_unique(tmp_path: Path) -> None:
    root = tiny_project(tmp_path)
    write_text(root / "pyproject.toml", TINY_PYPROJECT + (
        '\n[tool.release.ci]\nsessions = ["tests-3.12", "system-packages tests-3.12"]\n'
        'python = ["3.9", "3.12"]\ndry-run = ["a/pkg", "b/pkg"]\n'
    ))  # fmt: skip
    (root / "a" / "pkg").mkdir(parents=True)
    (root / "b" / "pkg").mkdir(parents=True)
    ci = workflows(load_config(root))[root / ".github/workflows/release-dry-run.yml"]
    body = ci[ci.index("\njobs:\n") :]
    jobs = [line.strip().rstrip(":") for line in body.splitlines() if re.fullmatch(r"  \S+:", line)]
    assert jobs == ["tests-3-12", "tests-3-12-2", "dry-run-a-pkg-linux", "dry-run-a-pkg-windows",
                    "dry-run-b-pkg-linux", "dry-run-b-pkg-windows"]  # fmt: skip
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", job) for job in jobs)
    assert "python-version: |\n            3.9\n            3.12\n" in ci


def test_apt_packages_of_a_cibuildwheel_project_need_before_all(tmp_path: Path) -> None:
    root = tmp_path / "cvec"
    shutil.copytree(EXAMPLES / "cvec", root, ignore=shutil.ignore_patterns("dist"))
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(
        'manylinux = "2014"\n', 'manylinux = "2014"\napt-packages = ["coreutils"]\n'
    ))  # fmt: skip
    record = StageRecord("check")
    check(run_context(load_config(root), dist=tmp_path / "dist"), record)
    (warning,) = [f for f in record.findings if f.level == WARNING]
    assert "manylinux containers, which do not have them" in warning.message
    assert warning.remedy and "[tool.cibuildwheel.linux] before-all" in warning.remedy
    package = root / "bindings" / "python" / "pyproject.toml"
    package.write_text(
        package.read_text().replace(
            "[tool.cibuildwheel.linux]\n",
            '[tool.cibuildwheel.linux]\nbefore-all = "yum install -y coreutils"\n',
        )
    )
    record = StageRecord("check")
    check(run_context(load_config(root), dist=tmp_path / "dist"), record)
    assert [f for f in record.findings if f.level == WARNING] == []


def test_system_packages_says_when_it_cannot_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no dpkg-query: not Debian or Ubuntu
    assert cli.main(["system-packages", "m4", "--project", str(tiny_project(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "not checked: no dpkg-query here" in out and "installed already" not in out
