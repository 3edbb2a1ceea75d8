"""The test emulators refuse what the real services refuse, driven by the real clients.

GitHub's OIDC endpoint is asked by ``id.detect_credential`` (the library the publish stage
uses), uploads go through ``twine upload`` in a child process with the credentials in its
environment, and the index is read with urllib and ``pip download``. The expected codes and
descriptions are Warehouse's (warehouse/oidc/views.py, models/github.py, forklift).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import id as id_
import pytest
from conftest import PUBLISHER
from emulators.github_oidc import GitHubOIDC
from emulators.jwt import GITHUB_ISSUER, InvalidToken, Signer, b64url_encode, github_claims
from emulators.pypi import INVALID_AUTH, PyPI, TrustedPublisher, negotiate
from wheel_factory import write_sdist, write_wheel

SHA = github_claims()["sha"]
NOT_FOUND = (
    "valid token, but no corresponding publisher (Publisher with matching claims was not found)"
)


# --- fixtures and helpers ----------------------------------------------------------------


@pytest.fixture
def oidc(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubOIDC]:
    """The token endpoint, and this process's environment that of a GitHub job using it."""
    with GitHubOIDC() as server:
        for name in ("GITLAB_CI", "BUILDKITE", "CIRCLECI", "GOOGLE_SERVICE_ACCOUNT_NAME"):
            monkeypatch.delenv(name, raising=False)
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        yield server
        assert not server.errors


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    path = tmp_path / "dist"
    path.mkdir()
    return path


def request(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str, bytes]:
    """(status, content type, body) of a GET (or a POST with ``data``), errors included."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def mint(pypi: PyPI, token: Any, *, raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
    body = raw if raw is not None else json.dumps({"token": token}).encode()
    status, _, answer = request(
        pypi.url + "_/oidc/mint-token", body, {"Content-Type": "application/json"}
    )
    return status, json.loads(answer)


def refusal(answer: dict[str, Any]) -> tuple[str, str]:
    assert answer["message"] == "Token request failed"
    (error,) = answer["errors"]
    return error["code"], error["description"]


def github_token(audience: str = "pypi") -> str:
    """A token fetched the way the publish stage fetches it."""
    token = id_.detect_credential(audience)
    assert token is not None
    return str(token)


def minted_token(pypi: PyPI) -> str:
    status, answer = mint(pypi, github_token())
    assert status == 200, answer
    return str(answer["token"])


def twine_upload(
    pypi: PyPI,
    *files: Path,
    password: str,
    username: str = "__token__",
    flags: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """``twine upload`` as the publish stage runs it: credentials in the environment only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWINE_", "PIP_"))}
    env.update(
        TWINE_USERNAME=username,
        TWINE_PASSWORD=password,
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        COLUMNS="400",  # twine's messages unwrapped, so that tests can find them
    )
    command = [sys.executable, "-m", "twine", "upload", "--non-interactive", *flags]
    command += ["--disable-progress-bar", "--repository-url", pypi.upload_url]
    command += map(str, files)
    return subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=120
    )


def output(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- JWT ---------------------------------------------------------------------------------


def test_jwt_round_trip() -> None:
    signer = Signer()
    token = signer.sign(github_claims(aud="pypi"))
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "RS256", "typ": "JWT", "kid": signer.kid}
    claims = signer.verify(token, audience="pypi", issuer=GITHUB_ISSUER)
    assert claims["repository"] == "octo-org/tally"
    (key,) = signer.jwks()["keys"]
    assert key["kty"] == "RSA" and key["kid"] == signer.kid and key["e"] == "AQAB"


def test_jwt_refuses_other_keys_and_tampering() -> None:
    signer = Signer()
    stranger = Signer(kid=signer.kid)  # same key id, another key: the signature fails
    with pytest.raises(InvalidToken, match="signature"):
        signer.verify(
            stranger.sign(github_claims(aud="pypi")), audience="pypi", issuer=GITHUB_ISSUER
        )
    with pytest.raises(InvalidToken, match="key id"):
        signer.verify(
            Signer().sign(github_claims(aud="pypi")), audience="pypi", issuer=GITHUB_ISSUER
        )
    header, _, signature = signer.sign(github_claims(aud="pypi")).split(".")
    forged = b64url_encode(json.dumps(github_claims(aud="pypi", repository="evil/x")).encode())
    with pytest.raises(InvalidToken, match="signature"):
        signer.verify(f"{header}.{forged}.{signature}", audience="pypi", issuer=GITHUB_ISSUER)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS512"])
def test_jwt_refuses_other_algorithms(alg: str) -> None:
    signer = Signer()
    token = signer.sign(github_claims(aud="pypi"), header={"alg": alg, "kid": signer.kid})
    with pytest.raises(InvalidToken, match="algorithm"):
        signer.verify(token, audience="pypi", issuer=GITHUB_ISSUER)


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": -31}, "expired"),
        ({"iat": 31}, "iat"),
        ({"nbf": 31}, "nbf"),
    ],
)
def test_jwt_time_checks_with_leeway(claims: dict[str, int], reason: str) -> None:
    signer = Signer()
    now = int(time.time())
    shifted: dict[str, Any] = {name: now + offset for name, offset in claims.items()}
    with pytest.raises(InvalidToken, match=reason):
        signer.verify(
            signer.sign(github_claims(aud="pypi", **shifted)), audience="pypi", issuer=GITHUB_ISSUER
        )
    # Within the 30 s of leeway the same skew passes.
    within: dict[str, Any] = {
        name: now + (offset + 2 if offset < 0 else offset - 2) for name, offset in claims.items()
    }
    signer.verify(
        signer.sign(github_claims(aud="pypi", **within)), audience="pypi", issuer=GITHUB_ISSUER
    )


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"aud": "testpypi"}, "audience"),
        ({"aud": ["pypi"]}, "single string"),
        ({"aud": "pypi", "iss": "https://gitlab.com"}, "issuer"),
        ({"aud": "pypi", "exp": None}, "'exp'"),
        ({}, "'aud'"),
    ],
)
def test_jwt_audience_issuer_and_required_claims(extra: dict[str, Any], reason: str) -> None:
    signer = Signer()
    with pytest.raises(InvalidToken, match=reason):
        signer.verify(signer.sign(github_claims(**extra)), audience="pypi", issuer=GITHUB_ISSUER)


@pytest.mark.parametrize("token", ["a.b", "!!.e30.AA", "e30.W10.AA", "e30.e30.A=A", "a.b.c.d"])
def test_jwt_refuses_malformed(token: str) -> None:
    with pytest.raises(InvalidToken):
        Signer().verify(token, audience="pypi", issuer=GITHUB_ISSUER)


def test_github_claims() -> None:
    claims = github_claims()
    assert claims["sub"] == "repo:octo-org/tally:environment:pypi"
    assert claims["workflow_ref"] == "octo-org/tally/.github/workflows/release.yml@refs/tags/v0.3.1"
    assert claims["job_workflow_ref"] == claims["workflow_ref"]
    assert claims["repository_owner"] == "octo-org" and claims["ref_type"] == "tag"
    assert "aud" not in claims and claims["exp"] - claims["iat"] == 300
    bare = github_claims(environment=None, sha=None, actor="someone")
    assert bare["sub"] == "repo:octo-org/tally:ref:refs/tags/v0.3.1"
    assert "environment" not in bare and "sha" not in bare and bare["actor"] == "someone"
    assert github_claims()["jti"] != github_claims()["jti"]


# --- GitHub's token endpoint -------------------------------------------------------------


def test_id_gets_tokens_from_the_oidc_emulator(oidc: GitHubOIDC) -> None:
    first, second = github_token("pypi"), github_token("pypi")
    assert oidc.issued == [first, second] and oidc.audiences == ["pypi", "pypi"]
    claims = oidc.signer.verify(first, audience="pypi", issuer=GITHUB_ISSUER)
    assert {k: v for k, v in claims.items() if k not in ("aud", "iat", "nbf", "exp", "jti")} == {
        k: v for k, v in oidc.claims.items() if k not in ("iat", "nbf", "exp", "jti")
    }
    again = oidc.signer.verify(second, audience="pypi", issuer=GITHUB_ISSUER)
    assert again["jti"] != claims["jti"]  # each request is a new JWT
    assert "?api-version=2.0" in oidc.url and oidc.env()["GITHUB_REPOSITORY"] == "octo-org/tally"


def test_oidc_refuses_missing_or_wrong_bearer(
    oidc: GitHubOIDC, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = oidc.url + "&audience=pypi"
    assert request(url)[0] == 401
    assert request(url, headers={"Authorization": "bearer nope"})[0] == 401
    assert request(url, headers={"Authorization": f"token {oidc.request_token}"})[0] == 401
    status, _, body = request(url, headers={"Authorization": f"Bearer {oidc.request_token}"})
    assert status == 200 and json.loads(body)["count"] == 1
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "stale")
    with pytest.raises(id_.AmbientCredentialError, match="401"):
        id_.detect_credential("pypi")
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    with pytest.raises(id_.GitHubOidcPermissionCredentialError):
        id_.detect_credential("pypi")


def test_oidc_default_audience_and_kept_query(oidc: GitHubOIDC) -> None:
    auth = {"Authorization": f"bearer {oidc.request_token}"}
    status, _, body = request(oidc.url, headers=auth)
    token = json.loads(body)["value"]
    claims = oidc.signer.verify(token, audience="https://github.com/octo-org", issuer=GITHUB_ISSUER)
    assert status == 200 and claims["aud"] == "https://github.com/octo-org"
    # A client that drops the URL's own query (api-version) is refused.
    assert request(oidc.url.split("?")[0] + "?audience=pypi", headers=auth)[0] == 400
    oidc.fail_requests(1, 500)
    with pytest.raises(id_.AmbientCredentialError, match="500"):
        id_.detect_credential("pypi")


# --- PyPI: trusted publishing ------------------------------------------------------------


def test_audience_endpoint(pypi: PyPI) -> None:
    status, content_type, body = request(pypi.url + "_/oidc/audience")
    assert (status, json.loads(body)) == (200, {"audience": "pypi"})
    assert content_type.startswith("application/json")
    pypi.audience_status = 403
    status, _, body = request(pypi.url + "_/oidc/audience")
    assert status == 403 and "not enabled" in json.loads(body)["message"]
    assert refusal(mint(pypi, github_token())[1])[0] == "not-enabled"
    pypi.audience_status = 404
    assert request(pypi.url + "_/oidc/audience")[0] == 404
    assert request(pypi.url + "_/oidc/mint-token", b"{}")[0] == 404


def test_mint_success(pypi: PyPI) -> None:
    status, answer = mint(pypi, github_token())
    assert status == 200 and answer["success"] is True
    assert answer["token"].startswith("pypi-")
    assert abs(answer["expires"] - (time.time() + 900)) < 5
    assert pypi.minted == {answer["token"]: answer["expires"]}
    (attempt,) = pypi.mint_requests
    assert attempt["code"] == "success" and attempt["claims"]["repository"] == "octo-org/tally"


def test_mint_refuses_wrong_audience(pypi: PyPI) -> None:
    status, answer = mint(pypi, github_token("testpypi"))
    assert status == 422
    assert refusal(answer) == ("invalid-token", "malformed or invalid token")
    assert "audience" in pypi.mint_requests[-1]["detail"]


def test_mint_refuses_reused_jwt(pypi: PyPI) -> None:
    token = github_token()
    assert mint(pypi, token)[0] == 200
    status, answer = mint(pypi, token)
    assert status == 422
    assert refusal(answer) == ("invalid-reuse-token", "invalid token: already used")
    assert mint(pypi, github_token())[0] == 200  # a fresh JWT mints again


def test_mint_refuses_expired_jwt(oidc: GitHubOIDC, pypi: PyPI) -> None:
    oidc.lifetime = -60  # past the 30 s of leeway
    assert refusal(mint(pypi, github_token())[1])[0] == "invalid-token"
    assert "expired" in pypi.mint_requests[-1]["detail"]


def test_mint_refuses_jwt_signed_by_another_key(oidc: GitHubOIDC, pypi: PyPI) -> None:
    stranger = Signer(kid=oidc.signer.kid)
    forged = stranger.sign(github_claims(aud="pypi"))
    assert refusal(mint(pypi, forged)[1])[0] == "invalid-token"
    assert "signature" in pypi.mint_requests[-1]["detail"]
    pypi.issuer_jwks = Signer().jwks()  # GitHub rotated to a key PyPI does not know
    assert refusal(mint(pypi, github_token())[1])[0] == "invalid-token"


@pytest.mark.parametrize(
    ("raw", "description"),
    [
        (b"not json", "Invalid JSON"),
        (b'{"jwt": "x"}', "Field required"),
        (b'{"token": 5}', "valid string"),
        (b'{"token": "a.b"}', "malformed JWT"),
        (b'{"token": "e30.e30.AA"}', "malformed JWT"),  # no iss
    ],
)
def test_mint_refuses_bad_payloads(pypi: PyPI, raw: bytes, description: str) -> None:
    status, answer = mint(pypi, None, raw=raw)
    code, text = refusal(answer)
    assert (status, code) == (422, "invalid-payload") and description in text


def test_mint_refuses_unknown_issuer(oidc: GitHubOIDC, pypi: PyPI) -> None:
    token = oidc.signer.sign(github_claims(aud="pypi", iss="https://gitlab.example"))
    assert refusal(mint(pypi, token)[1]) == ("invalid-payload", "unknown trusted publishing issuer")


def test_mint_not_enabled(pypi: PyPI) -> None:
    pypi.enabled = False
    code, description = refusal(mint(pypi, github_token())[1])
    assert code == "not-enabled" and "not enabled" in description


def test_mint_outage_is_not_json(pypi: PyPI) -> None:
    pypi.outage = True
    status, content_type, body = request(
        pypi.url + "_/oidc/mint-token", json.dumps({"token": github_token()}).encode()
    )
    assert status == 503 and content_type.startswith("text/html")
    with pytest.raises(ValueError):
        json.loads(body)
    assert pypi.mint_requests[-1]["code"] == "outage" and not pypi.minted


def test_mint_refuses_pull_request_target(oidc: GitHubOIDC, pypi: PyPI) -> None:
    oidc.claims["event_name"] = "pull_request_target"
    code, description = refusal(mint(pypi, github_token())[1])
    assert code == "invalid-publisher"
    assert (
        "Publishing from a workflow invoked via 'pull_request_target' is not supported."
        in description
    )


@pytest.mark.parametrize(
    "change",
    [
        {"repository": "octo-org/other"},
        {"owner_id": "7654321"},  # the same name, re-registered by someone else
        {"workflow": "build.yml"},  # job_workflow_ref names another file
        {"environment": "staging"},
        {"environment": None},
    ],
    ids=["repository", "owner-id", "workflow", "environment", "no-environment"],
)
def test_mint_refuses_publisher_mismatches(
    oidc: GitHubOIDC, pypi: PyPI, change: dict[str, Any]
) -> None:
    # PyPI looks the publisher up by all four: a mismatch in any is "not found".
    oidc.claims = github_claims(**change)
    assert refusal(mint(pypi, github_token())[1]) == ("invalid-publisher", NOT_FOUND)


def test_mint_workflow_file_comes_from_job_workflow_ref(oidc: GitHubOIDC, pypi: PyPI) -> None:
    # The caller is ci.yml, the job runs the publisher's release.yml (reusable, same repo).
    oidc.claims = github_claims(
        workflow="ci.yml",
        job_workflow_ref="octo-org/tally/.github/workflows/release.yml@refs/tags/v0.3.1",
    )
    assert mint(pypi, github_token())[0] == 200
    # The caller is release.yml, the job runs build.yml: the publisher's file did not ask.
    oidc.claims = github_claims(
        job_workflow_ref="octo-org/tally/.github/workflows/build.yml@refs/tags/v0.3.1"
    )
    assert refusal(mint(pypi, github_token())[1]) == ("invalid-publisher", NOT_FOUND)


def test_mint_refuses_reusable_workflow_of_another_repository(oidc: GitHubOIDC, pypi: PyPI) -> None:
    elsewhere = "other-org/shared/.github/workflows/release.yml@refs/heads/main"
    oidc.claims = github_claims(job_workflow_ref=elsewhere)
    code, description = refusal(mint(pypi, github_token())[1])
    expected = [
        f"octo-org/tally/.github/workflows/release.yml@{SHA}",
        "octo-org/tally/.github/workflows/release.yml@refs/tags/v0.3.1",
    ]
    assert code == "invalid-publisher"
    assert (
        f"The job_workflow_ref claim does not match, expecting one of {expected!r}, "
        f"got {elsewhere!r}" in description
    )


def test_mint_matches_repository_and_environment_case_insensitively(
    oidc: GitHubOIDC, pypi: PyPI
) -> None:
    oidc.claims = github_claims(repository="Octo-Org/Tally", environment="PyPI")
    assert mint(pypi, github_token())[0] == 200


def test_mint_publisher_without_environment_accepts_any(oidc: GitHubOIDC, pypi: PyPI) -> None:
    pypi.publishers = [TrustedPublisher("octo-org/tally", "1234567", "release.yml")]
    for environment in ("pypi", "staging", None):
        oidc.claims = github_claims(environment=environment)
        assert mint(pypi, github_token())[0] == 200, environment


@pytest.mark.parametrize("claim", ["sha", "ref", "repository_owner_id", "job_workflow_ref"])
def test_mint_refuses_missing_claims(oidc: GitHubOIDC, pypi: PyPI, claim: str) -> None:
    del oidc.claims[claim]
    description = f"valid token, but no corresponding publisher (Missing claim {claim!r})"
    assert refusal(mint(pypi, github_token())[1]) == ("invalid-publisher", description)


def test_pending_publisher(oidc: GitHubOIDC, pypi: PyPI) -> None:
    pypi.publishers = []
    pypi.pending_publishers = [("tally", PUBLISHER)]
    assert mint(pypi, github_token())[0] == 200  # the project is made, the publisher kept
    assert pypi.pending_publishers == [] and pypi.publishers == [PUBLISHER]
    assert pypi.project_exists("Tally")
    # A pending publisher for a project someone else has made meanwhile is void.
    pypi.publishers = []
    write_wheel(pypi.packages, name="taken")
    pypi.pending_publishers = [("taken", PUBLISHER)]
    code, description = refusal(mint(pypi, github_token())[1])
    assert (code, description) == (
        "invalid-pending-publisher",
        "valid token, but project already exists",
    )
    assert pypi.pending_publishers == []


# --- PyPI: uploads -----------------------------------------------------------------------


def test_minted_token_uploads_with_twine(pypi: PyPI, dist: Path) -> None:
    wheel, sdist = write_wheel(dist), write_sdist(dist)
    proc = twine_upload(pypi, wheel, sdist, password=minted_token(pypi))
    assert proc.returncode == 0, output(proc)
    assert pypi.files() == {wheel.name: sha256(wheel), sdist.name: sha256(sdist)}
    assert pypi.uploads == [(wheel.name, 200), (sdist.name, 200)]


def test_without_sigstore_attestations_are_refused_saying_why(
    pypi: PyPI, dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where pypi-attestations cannot be imported (the compat session's Python 3.9), the
    emulator refuses attestations it cannot check, saying so, and stores nothing; uploads
    without attestations work as before."""
    monkeypatch.setitem(sys.modules, "pypi_attestations", None)  # import fails, as on 3.9
    wheel, sdist = write_wheel(dist), write_sdist(dist)
    (dist / f"{wheel.name}.publish.attestation").write_text("{}")
    proc = twine_upload(pypi, wheel, dist / f"{wheel.name}.publish.attestation",
                        password=minted_token(pypi), flags=("--attestations",))  # fmt: skip
    assert proc.returncode != 0
    assert (
        "Invalid attestations supplied during upload: the emulator cannot verify attestations "
        "here: pypi_attestations is not importable"
    ) in output(proc)
    assert pypi.files() == {} and pypi.provenance == {}
    assert twine_upload(pypi, sdist, password=minted_token(pypi)).returncode == 0
    assert pypi.files() == {sdist.name: sha256(sdist)}


def test_upload_refuses_expired_unknown_and_non_token_credentials(pypi: PyPI, dist: Path) -> None:
    wheel = write_wheel(dist)
    token = minted_token(pypi)
    pypi.minted[token] = time.time() - 1  # 15 minutes later
    for password, username in [(token, "__token__"), ("pypi-unknown", "__token__")]:
        proc = twine_upload(pypi, wheel, password=password, username=username)
        assert proc.returncode != 0 and "403" in output(proc)
        assert INVALID_AUTH in output(proc)
    pypi.api_tokens.add("pypi-classic")
    proc = twine_upload(pypi, wheel, password="pypi-classic", username="someone")
    assert proc.returncode != 0 and "403" in output(proc)
    assert pypi.files() == {}
    assert twine_upload(pypi, wheel, password="pypi-classic").returncode == 0
    assert pypi.uploads == [(wheel.name, 403)] * 3 + [(wheel.name, 200)]


def test_reupload_rules(pypi: PyPI, dist: Path, tmp_path: Path) -> None:
    pypi.api_tokens.add("pypi-classic")
    wheel, sdist = write_wheel(dist), write_sdist(dist)
    assert twine_upload(pypi, wheel, sdist, password="pypi-classic").returncode == 0
    # Byte-identical again: 200, nothing stored twice.
    proc = twine_upload(pypi, wheel, password="pypi-classic")
    assert proc.returncode == 0, proc.stderr
    # The same name with other bytes: refused, whatever twine's --skip-existing would think.
    other = tmp_path / "other"
    other.mkdir()
    changed = write_wheel(other, files={"demo_pkg/__init__.py": b"VALUE = 2\n"})
    proc = twine_upload(pypi, changed, password="pypi-classic")
    blake2 = hashlib.blake2b(changed.read_bytes(), digest_size=32).hexdigest()
    assert proc.returncode != 0 and "400" in output(proc)
    assert f"File already exists ('{changed.name}', with blake2_256 hash '{blake2}')" in output(
        proc
    )
    # A second sdist for the release (1.0.0 is version 1.0).
    second = write_sdist(other, version="1.0.0")
    proc = twine_upload(pypi, second, password="pypi-classic")
    assert proc.returncode != 0 and "Only one sdist may be uploaded per release." in output(proc)
    assert pypi.files() == {wheel.name: sha256(wheel), sdist.name: sha256(sdist)}
    assert [status for _, status in pypi.uploads] == [200, 200, 200, 400, 400]
    # A deleted file's name is never accepted again.
    pypi.delete_file(wheel.name)
    proc = twine_upload(pypi, wheel, password="pypi-classic")
    assert proc.returncode != 0 and "This filename has already been used" in output(proc)


def test_drop_after_store_leaves_the_file_in_the_index(pypi: PyPI, dist: Path) -> None:
    pypi.api_tokens.add("pypi-classic")
    wheel = write_wheel(dist)
    pypi.drop_after_store(1)
    proc = twine_upload(pypi, wheel, password="pypi-classic")
    assert proc.returncode != 0 and "ConnectionError" in output(proc)
    assert pypi.files() == {wheel.name: sha256(wheel)}  # it landed all the same
    assert pypi.uploads == [(wheel.name, 0)]
    # Uploading the same bytes again is how to recover: 200.
    assert twine_upload(pypi, wheel, password="pypi-classic").returncode == 0


def test_drop_before_store_stores_nothing(pypi: PyPI, dist: Path) -> None:
    pypi.api_tokens.add("pypi-classic")
    wheel = write_wheel(dist)
    pypi.drop_before_store(1)
    proc = twine_upload(pypi, wheel, password="pypi-classic")
    assert proc.returncode != 0 and "ConnectionError" in output(proc)
    assert pypi.files() == {} and pypi.uploads == [(wheel.name, 0)]


def test_failed_uploads_and_twines_own_retries(pypi: PyPI, dist: Path) -> None:
    pypi.api_tokens.add("pypi-classic")
    wheel = write_wheel(dist)
    # twine itself retries a POST that gets a 5xx, 5 attempts in all.
    pypi.fail_uploads(2)
    assert twine_upload(pypi, wheel, password="pypi-classic").returncode == 0
    assert pypi.uploads == [(wheel.name, 503), (wheel.name, 503), (wheel.name, 200)]
    pypi.delete_file(wheel.name)
    pypi.deleted.clear()
    pypi.uploads.clear()
    pypi.fail_uploads(5, status=502)
    proc = twine_upload(pypi, wheel, password="pypi-classic")
    assert proc.returncode != 0 and "502" in output(proc)
    assert pypi.uploads == [(wheel.name, 502)] * 5 and pypi.files() == {}


def test_pypiserver_takes_uploads_only_from_the_front(pypi: PyPI) -> None:
    backend = f"http://127.0.0.1:{pypi.backend_port}/"
    body = b'--B\r\nContent-Disposition: form-data; name=":action"\r\n\r\nfile_upload\r\n--B--\r\n'
    headers = {"Content-Type": "multipart/form-data; boundary=B"}
    assert request(backend, body, headers)[0] == 401
    token = base64.b64encode(f"__token__:{minted_token(pypi)}".encode()).decode()
    assert request(backend, body, {**headers, "Authorization": f"Basic {token}"})[0] == 403


# --- PyPI: the index ---------------------------------------------------------------------

JSON_FIRST = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "text/html"),
        ("*/*", "text/html"),
        (JSON_FIRST, "application/vnd.pypi.simple.v1+json"),
        ("application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.v1+json"),
        ("application/*;q=0.5, text/html;q=0.4", "application/vnd.pypi.simple.v1+html"),
        ("application/vnd.pypi.simple.v1+json;q=0, */*", "text/html"),
        ("image/png", "text/html"),
    ],
)
def test_negotiate(accept: str | None, chosen: str) -> None:
    assert negotiate(accept) == chosen


def test_index_json_and_html_list_the_same_files(pypi: PyPI, dist: Path) -> None:
    wheel, sdist = write_wheel(dist), write_sdist(dist)
    pypi.api_tokens.add("pypi-classic")
    assert twine_upload(pypi, wheel, sdist, password="pypi-classic").returncode == 0
    expected = {wheel.name: sha256(wheel), sdist.name: sha256(sdist)}

    status, content_type, body = request(
        pypi.index_url + "demo-pkg/", headers={"Accept": JSON_FIRST}
    )
    assert (status, content_type) == (200, "application/vnd.pypi.simple.v1+json")
    page = json.loads(body)
    assert page["meta"]["api-version"] == "1.4" and page["name"] == "demo-pkg"
    assert {f["filename"]: f["hashes"]["sha256"] for f in page["files"]} == expected
    assert page["versions"] == ["1.0"]
    for entry in page["files"]:
        assert sha256_of_url(entry["url"]) == entry["hashes"]["sha256"]

    status, content_type, body = request(pypi.index_url + "demo-pkg/")
    assert status == 200 and content_type.startswith("text/html")
    html = body.decode()
    for name, digest in expected.items():
        assert f"{name}#sha256={digest}" in html
    assert pypi.files() == expected and pypi.index_queries == 2


def sha256_of_url(url: str) -> str:
    status, _, body = request(url)
    assert status == 200
    return hashlib.sha256(body).hexdigest()


def test_index_unknown_project_and_plain_html_mode(pypi: PyPI) -> None:
    for accept in (JSON_FIRST, "text/html"):
        assert request(pypi.index_url + "nothing-here/", headers={"Accept": accept})[0] == 404
    write_wheel(pypi.packages)
    pypi.json_api = False  # a plain pypiserver: HTML whatever is asked for
    status, content_type, body = request(
        pypi.index_url + "demo-pkg/", headers={"Accept": JSON_FIRST}
    )
    assert status == 200 and content_type.startswith("text/html") and b"#sha256=" in body
    # Non-normalized names redirect to the normalized page, on the front's own address.
    status, _, _ = request(pypi.index_url + "Demo_Pkg/")
    assert status == 200


def test_pip_downloads_from_the_index(pypi: PyPI, dist: Path, tmp_path: Path) -> None:
    wheel = write_wheel(dist)
    pypi.api_tokens.add("pypi-classic")
    assert twine_upload(pypi, wheel, password="pypi-classic").returncode == 0
    target = tmp_path / "downloaded"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-cache-dir",
         "--disable-pip-version-check", "--index-url", pypi.index_url,
         "--dest", str(target), "demo-pkg==1.0"],
        check=False, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, output(proc)
    assert sha256(target / wheel.name) == sha256(wheel)


# --- the faults the HTTP layer must ride out -------------------------------------------------


@pytest.mark.parametrize(("existing_status", "said"), [(409, "already exists"),
                                                        (400, "already exists")])  # fmt: skip
def test_other_indexes_answer_a_byte_identical_reupload_with_a_refusal(
    pypi: PyPI, dist: Path, existing_status: int, said: str
) -> None:
    pypi.api_tokens.add("pypi-classic")
    pypi.existing_status = existing_status
    wheel = write_wheel(dist)
    assert twine_upload(pypi, wheel, password="pypi-classic").returncode == 0
    proc = twine_upload(pypi, wheel, password="pypi-classic")
    assert proc.returncode != 0 and str(existing_status) in output(proc) and said in output(proc)
    assert [status for _, status in pypi.uploads] == [200, existing_status]


def test_a_lagging_listing_shows_a_new_file_late(pypi: PyPI, dist: Path) -> None:
    pypi.api_tokens.add("pypi-classic")
    pypi.listing_lag = 1.0
    wheel = write_wheel(dist)
    assert twine_upload(pypi, wheel, password="pypi-classic").returncode == 0
    page = pypi.index_url + "demo-pkg/"
    assert request(page)[0] == 404  # a new project: not there yet
    time.sleep(1.1)
    status, _, body = request(page)
    assert status == 200 and wheel.name in body.decode()
    sdist = write_sdist(dist)
    assert twine_upload(pypi, sdist, password="pypi-classic").returncode == 0
    status, _, body = request(page, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    names = [f["filename"] for f in json.loads(body)["files"]]
    assert status == 200 and names == [wheel.name]  # the sdist lags, the wheel is listed


@pytest.mark.parametrize("store", [True, False])
def test_a_stalled_upload_says_nothing_then_hangs_up(
    pypi: PyPI, dist: Path, *, store: bool
) -> None:
    pypi.api_tokens.add("pypi-classic")
    wheel = write_wheel(dist)
    pypi.stall_uploads(1, seconds=1.0, store=store)
    started = time.monotonic()
    proc = twine_upload(pypi, wheel, password="pypi-classic")
    assert proc.returncode != 0 and time.monotonic() - started >= 1.0
    assert pypi.files() == ({wheel.name: sha256(wheel)} if store else {})
    assert pypi.uploads == [(wheel.name, 0)]


def test_an_html_page_with_200_stores_nothing_though_twine_believes_it(
    pypi: PyPI, dist: Path
) -> None:
    pypi.api_tokens.add("pypi-classic")
    wheel = write_wheel(dist)
    pypi.html_ok_uploads(1)
    assert twine_upload(pypi, wheel, password="pypi-classic").returncode == 0
    assert pypi.files() == {} and pypi.uploads == [(wheel.name, 200)]


def test_index_and_mint_outages_pass(pypi: PyPI) -> None:
    pypi.fail_index_queries(1, status=502)
    status, content_type, _ = request(pypi.index_url + "demo-pkg/")
    assert status == 502 and content_type.startswith("text/html")
    assert request(pypi.index_url + "demo-pkg/")[0] == 404  # the index again: no such project
    pypi.fail_mints(1)
    jwt = github_token()
    status, content_type, _ = request(pypi.url + "_/oidc/mint-token",
                                      json.dumps({"token": jwt}).encode(),
                                      {"Content-Type": "application/json"})  # fmt: skip
    assert status == 503 and content_type.startswith("text/html")
    assert mint(pypi, jwt)[0] == 200  # the outage used nothing up: the JWT mints
    assert [m["code"] for m in pypi.mint_requests] == ["outage", "success"]


def test_the_oidc_endpoint_fails_with_json_or_a_page(oidc: GitHubOIDC) -> None:
    oidc.fail_requests(1, status=503)
    oidc.fail_requests(1, status=502, html=True)
    headers = {"Authorization": f"bearer {oidc.request_token}"}
    status, content_type, _ = request(oidc.url + "&audience=pypi", headers=headers)
    assert status == 503 and content_type.startswith("application/json")
    status, content_type, body = request(oidc.url + "&audience=pypi", headers=headers)
    assert status == 502 and content_type.startswith("text/html") and b"Unicorn" in body
    assert request(oidc.url + "&audience=pypi", headers=headers)[0] == 200
