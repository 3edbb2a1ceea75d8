"""How publish authenticates: trusted publishing where a CI hands out OIDC tokens, else an API
token from the environment, else a clear error.

Trusted publishing, step by step (../shared/reference/trusted-publishing.md): the audience
from ``/_/oidc/audience`` on the upload host; the OIDC token from ``id.detect_credential``;
its claims decoded (no signature check: the index does that) and its ``aud`` compared;
``POST /_/oidc/mint-token``. The minted token lives 15 minutes and is minted again when fewer
than 5 remain. Every token is registered with the console first (``::add-mask::`` in
Actions), reaches twine only through the environment, and appears in no argv, log, record,
exception message or step summary.

The failures maintainers lose hours on each get their own message and remedy: a job without
``id-token: write``, a pull request from a fork, ``pull_request_target``, a reusable workflow,
every mint error code, and for ``invalid-publisher`` the token's claims beside what the trusted
publisher on PyPI must say.
"""

from __future__ import annotations

import base64
import datetime
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..config import ReleaseConfig
from ..console import Console, format_table
from ..errors import CredentialsError, GitHubError, IndexUnavailableError, MintRefusedError
from ..http import Answer, Http, UnexpectedAnswer, checked_object, retry_line
from ..workflows.actions import permissions_yaml
from .repository import Repository

# Mint again when fewer than this many seconds remain of the minted token's 15 minutes.
REFRESH_BEFORE_S = 300
# GitHub's own client (actions/toolkit) tries the id-token endpoint up to 10 times.
ID_TOKEN_ATTEMPTS = 10
API_TOKEN_VARIABLES = ("PYPI_API_TOKEN", "TWINE_PASSWORD")

# What the publishing job needs: the OIDC token (trusted publishing, Sigstore).
PUBLISH_PERMISSIONS = {"id-token": "write"}


class Credentials(Protocol):
    source: str  # how the record names them: never the token itself
    note: str | None  # a hint worth one line (how to move to trusted publishing)

    def token(self) -> str:
        """A token valid for the next upload."""


@dataclass
class ApiToken:
    value: str
    source: str
    note: str | None = None

    def token(self) -> str:
        return self.value


def decode_claims(jwt: str) -> dict[str, Any]:
    """The claims of a JWT, read without checking its signature (the index checks it)."""
    try:
        payload = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise CredentialsError(
            f"the OIDC token the CI handed out is not a JWT ({type(exc).__name__}).",
            "rerun the job; if it happens again, the CI's token service is broken.",
        ) from None
    if not isinstance(claims, dict):
        raise CredentialsError("the OIDC token's payload is not a JSON object.", "rerun the job.")
    return claims


def _workflow_file(ref: str) -> str:
    """``owner/repo/.github/workflows/release.yml@refs/tags/v1`` -> ``release.yml``."""
    return ref.split("@", 1)[0].rsplit("/", 1)[-1]


# --- talking to the index ---------------------------------------------------------------------


def _json_or_outage(answer: Answer) -> Any:
    """The JSON answer; an HTML page or a 5xx is an outage, not the index refusing us."""
    url, status, content_type = answer.url, answer.status, answer.content_type
    if answer.lost:
        raise IndexUnavailableError(
            f"{url} did not answer ({answer.problem}).",
            "check the network and the repository URL; run the stage again: it uploads only "
            "what is missing.",
        )
    if status >= 500 or "json" not in content_type:
        raise IndexUnavailableError(
            f"{url} answered HTTP {status} with {content_type or 'no content type'} instead of "
            "JSON: the index is having an outage, this is not a refusal.",
            "run the stage again later (https://status.python.org for PyPI); it uploads only "
            "what is missing.",
        )
    try:
        return answer.json()
    except UnexpectedAnswer:
        raise IndexUnavailableError(
            f"{url} answered with broken JSON: an outage, not a refusal.",
            "run the stage again later.",
        ) from None


def _outage_or_not_json(answer: Answer, attempt: int, http: Http) -> float | None:
    """The index's OIDC routes answer JSON: anything else (an HTML page from a proxy or a
    load balancer, whatever its status) is an outage worth another try, as is a 5xx."""
    if not answer.lost and answer.status < 500 and answer.is_json:
        return http.wait_for(answer, attempt) if answer.status == 429 else None
    return http.policy.backoff(attempt)


def audience(repository: Repository, http: Http | None = None) -> str | None:
    """The index's OIDC audience; None when it does not do trusted publishing."""
    url = f"{repository.oidc_base}/_/oidc/audience"
    client = http or Http()
    answer = client.call(
        "GET", url, headers={"Accept": "application/json"},
        expect=lambda a: a.status in (403, 404) or (a.status == 200 and a.is_json),
        wait=lambda a, n: _outage_or_not_json(a, n, client),
    )  # fmt: skip
    if answer.status in (403, 404):
        return None
    data = _json_or_outage(answer)
    value = data.get("audience") if isinstance(data, dict) else None
    if not isinstance(value, str):
        raise IndexUnavailableError(f"{url} gave no audience.", "run the stage again later.")
    return value


# --- the CI's side ---------------------------------------------------------------------------


def ambient_ci(environ: Mapping[str, str]) -> str | None:
    """The CI ``id`` can get an OIDC token from here, by its name; None on a laptop."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return "GitHub Actions"
    for variable, name in (("GITLAB_CI", "GitLab CI"), ("BUILDKITE", "Buildkite"),
                           ("CIRCLECI", "CircleCI")):  # fmt: skip
        if environ.get(variable):
            return name
    product = Path("/sys/class/dmi/id/product_name")
    try:
        if product.read_text().strip() in ("Google", "Google Compute Engine"):
            return "Google Cloud"
    except OSError:
        pass
    return None


def _fork_pull_request(environ: Mapping[str, str]) -> bool:
    if not environ.get("GITHUB_EVENT_NAME", "").startswith("pull_request"):
        return False
    try:
        event = json.loads(Path(environ["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
        head = event["pull_request"]["head"]["repo"]
        return bool(head.get("fork")) or head.get("full_name") != environ.get("GITHUB_REPOSITORY")
    except (KeyError, OSError, ValueError, TypeError):
        return False


def _no_id_token(
    environ: Mapping[str, str], config: ReleaseConfig, permissions: Mapping[str, str]
) -> CredentialsError:
    if _fork_pull_request(environ):
        return CredentialsError(
            "this job runs for a pull request from a fork, and GitHub gives such jobs no "
            "OIDC token (and no secrets): nothing can be published from it.",
            "publish from a tag push in the upstream repository (on: push: tags), not "
            "from pull requests.",
        )
    # The job that asked: the publish job of the generated workflow, unless it is another.
    job = environ.get("GITHUB_JOB") or "publish"
    environment = (config.publish.environment or "pypi") if job == "publish" else None
    return CredentialsError(
        "GitHub Actions gave this job no OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN are "
        "not set, which means the job lacks the id-token: write permission.",
        f"add it to the job {job} (job level, not the top of the workflow):\n"
        + permissions_yaml(job, dict(permissions), environment),
    )


def _github_oidc_token(aud: str, environ: Mapping[str, str], http: Http) -> str:
    """GitHub's OIDC token, asked of its id-token endpoint as ``id`` asks (the URL's own
    query kept, ``audience`` added), with the layer's retries: ``id`` tries once."""
    request_url = environ["ACTIONS_ID_TOKEN_REQUEST_URL"]
    parts = urlsplit(request_url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), ("audience", aud)])
    url = urlunsplit(parts._replace(query=query))
    headers = {
        "Authorization": f"bearer {environ['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}",
        "Accept": "application/json",
    }
    answer = http.call(
        "GET", url, headers=headers, attempts=ID_TOKEN_ATTEMPTS,
        expect=lambda a: not a.outage and a.status != 429 and a.is_json,
        wait=lambda a, n: _outage_or_not_json(a, n, http),
    )  # fmt: skip
    shown = request_url.split("?", 1)[0]
    if answer.outage or answer.status == 429 or not answer.is_json:
        raise GitHubError(
            f"GitHub's OIDC token endpoint ({shown}) still gave {answer.summary()} after "
            f"{answer.attempt} tries: an outage of GitHub, not a refusal.",
            "rerun the job in a few minutes (https://www.githubstatus.com).",
        )
    try:
        value = answer.json_object({"value": str})["value"] if answer.status == 200 else None
    except UnexpectedAnswer as exc:
        raise GitHubError(
            f"GitHub's OIDC token endpoint answered {exc.found}, not a token: GitHub is "
            "having a problem, this is not a refusal.",
            "rerun the job in a few minutes (https://www.githubstatus.com).",
        ) from None
    if value is None:
        said = answer.json()
        message = said.get("message", said) if isinstance(said, dict) else said
        raise CredentialsError(
            f"GitHub's OIDC token endpoint refused the request ({answer.describe()}: "
            f"{str(message)[:200]}).",
            "rerun the job; if it fails again, check the job's id-token: write permission.",
        )
    return str(value)


def fetch_oidc_token(
    aud: str,
    environ: Mapping[str, str],
    config: ReleaseConfig,
    http: Http | None = None,
    *,
    permissions: Mapping[str, str] = PUBLISH_PERMISSIONS,
) -> str | None:
    """The CI's OIDC token for ``aud``; None outside a CI that hands them out. GitHub's is
    asked for through the HTTP layer (retried); other CIs' through ``id``. ``permissions``
    is what the job needs, shown as YAML when GitHub gave it no token."""
    if environ.get("GITHUB_ACTIONS") == "true":
        if not (
            environ.get("ACTIONS_ID_TOKEN_REQUEST_URL")
            and environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        ):
            raise _no_id_token(environ, config, permissions)
        return _github_oidc_token(aud, environ, http or Http())
    try:
        import id as oidc_id  # only the publish stage needs it
    except ImportError:
        raise CredentialsError(
            "the id package is not installed; publish needs it to get the CI's OIDC token.",
            "pip install 'id>=1.6.1', or run nox -s publish, which installs it.",
        ) from None
    try:
        return oidc_id.detect_credential(aud)
    except oidc_id.GitHubOidcPermissionCredentialError as exc:
        raise _no_id_token(environ, config, permissions) from exc
    except oidc_id.IdentityError as exc:
        raise CredentialsError(
            f"the CI could not hand out an OIDC token: {exc}.",
            "rerun the job; if it fails again, check the CI's OIDC settings.",
        ) from None


# --- minting ---------------------------------------------------------------------------------


@dataclass
class Minted:
    value: str
    expires: float


MINT_REMEDIES = {
    "invalid-payload": (
        "the index could not read the token (malformed, or from an issuer it does not know)",
        "publish from a CI the index supports (GitHub Actions, GitLab CI, Google Cloud, "
        "Buildkite, CircleCI for PyPI); if this is one, rerun the job.",
    ),
    "not-enabled": (
        "trusted publishing is turned off on the index for this CI",
        "use a project-scoped API token in PYPI_API_TOKEN until the index turns it back on.",
    ),
    "invalid-token": (
        "the index refused the token's signature, expiry or audience",
        "rerun the job (tokens live minutes); if the audience is the problem, the repository "
        "URL points at another index than the one the token was made for.",
    ),
    "invalid-pending-publisher": (
        "a pending trusted publisher matched, but the project already exists on the index",
        "on the index, add the trusted publisher to the existing project (Manage > "
        "Publishing) and remove the pending one.",
    ),
    "invalid-reuse-token": (
        "the index had already minted with this OIDC token (each mints once), and a fresh "
        "token was refused the same way",
        "rerun the job.",
    ),
}


class TrustedPublishing:
    """Upload tokens minted from the CI's OIDC token, minted again before they expire."""

    def __init__(
        self,
        repository: Repository,
        aud: str,
        jwt: str,
        *,
        environ: Mapping[str, str],
        config: ReleaseConfig,
        console: Console,
        ci: str,
        http: Http | None = None,
    ) -> None:
        self.http = http or Http(announce=retry_line(console))
        self.repository = repository
        self.aud = aud
        self.environ = environ
        self.config = config
        self.console = console
        self.source = f"trusted publishing ({ci})"
        self.ci = ci
        self.note: str | None = None
        self._jwt: str | None = jwt
        self._minted: Minted | None = None
        self.mints = 0
        self.claims = self._accept(jwt)

    def _accept(self, jwt: str) -> dict[str, Any]:
        self.console.register_secret(jwt)
        claims = decode_claims(jwt)
        if claims.get("aud") != self.aud:
            raise CredentialsError(
                f"the OIDC token is for audience {claims.get('aud')!r}, and "
                f"{self.repository.oidc_base} expects {self.aud!r}.",
                "the CI made the token for another index: check the repository URL.",
            )
        if claims.get("event_name") == "pull_request_target":
            raise CredentialsError(
                "the job runs for a pull_request_target event, and PyPI refuses to publish "
                "from such workflows (they run with the secrets of the base repository for "
                "code from a pull request).",
                "publish from a tag push (on: push: tags) in a workflow of its own.",
            )
        return claims

    def token(self) -> str:
        if self._minted is None or self._minted.expires - time.time() < REFRESH_BEFORE_S:
            self._minted = self._mint()
        return self._minted.value

    def _fresh_jwt(self) -> str:
        first = self._jwt
        if first is not None:
            self._jwt = None
            return first
        jwt = fetch_oidc_token(self.aud, self.environ, self.config, self.http)
        if jwt is None:
            raise CredentialsError(
                "the CI stopped handing out OIDC tokens during the run.", "rerun the job."
            )
        self.claims = self._accept(jwt)
        return jwt

    def _mint(self, *, retried: bool = False) -> Minted:
        url = f"{self.repository.oidc_base}/_/oidc/mint-token"

        def body() -> bytes:
            # Each try with a fresh OIDC token: one that reached the index before an outage
            # may count as used there.
            self.mints += 1
            return json.dumps({"token": self._fresh_jwt()}).encode()

        answer = self.http.call(
            "POST", url, headers={"Content-Type": "application/json",
                                  "Accept": "application/json"},
            data=body, expect=lambda a: not a.outage and a.status != 429 and a.is_json,
            wait=lambda a, n: _outage_or_not_json(a, n, self.http),
        )  # fmt: skip
        data = _json_or_outage(answer)
        if answer.status == 200 and isinstance(data, dict) and data.get("success") is True:
            try:
                checked_object(data, url, {"token": str})
                expires = float(data.get("expires") or time.time() + 900)
            except (UnexpectedAnswer, TypeError, ValueError):
                raise IndexUnavailableError(
                    f"{url} answered success without a usable token or expiry: the index is "
                    "broken, this is not a refusal.",
                    "run the stage again later.",
                ) from None
            token = str(data["token"])
            self.console.register_secret(token)
            return Minted(token, expires)
        errors = data.get("errors") if isinstance(data, dict) else None
        first = errors[0] if isinstance(errors, list) and errors else {}
        first = first if isinstance(first, dict) else {"description": first}
        code = str(first.get("code", "unknown"))
        description = str(first.get("description", data))
        if code == "invalid-reuse-token" and not retried:
            return self._mint(retried=True)  # each JWT mints once: fetch a fresh one
        raise self._refusal(code, description)

    def _refusal(self, code: str, description: str) -> MintRefusedError:
        if code == "invalid-publisher":
            return self._invalid_publisher(description)
        if code == "invalid-token":
            expired = self._expired()
            if expired is not None:
                return MintRefusedError(
                    f"the index refused to mint an upload token (invalid-token): the OIDC "
                    f"token had expired ({expired}). The index says: {description}",
                    "rerun the job: it fetches a fresh token. If it expires again, the time "
                    "between the token and the mint is too long, or the runner's clock is off.",
                    code,
                )
        what, remedy = MINT_REMEDIES.get(
            code, ("the index refused the token", "read the index's description above.")
        )
        return MintRefusedError(
            f"the index refused to mint an upload token ({code}): {what}. The index says: "
            f"{description}",
            remedy,
            code,
        )

    def _expired(self) -> str | None:
        """When the OIDC token's ``exp`` has passed, how it reads; None when it has not
        (or the token has no readable ``exp``)."""
        exp = self.claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            return None
        late = time.time() - float(exp)
        if late <= 0:
            return None
        try:
            when = datetime.datetime.fromtimestamp(float(exp), datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            # A time no date can show (before year 1): the number says it as well.
            return f"its exp, {exp}, is {late:.0f} s ago"
        return f"its exp is {when:%Y-%m-%d %H:%M:%S} UTC, {late:.0f} s ago"

    def _invalid_publisher(self, description: str) -> MintRefusedError:
        claims = self.claims
        repository = str(claims.get("repository", "?"))
        owner, _, name = repository.partition("/")
        job_ref = str(claims.get("job_workflow_ref", ""))
        workflow = _workflow_file(job_ref) if job_ref else "?"
        environment = claims.get("environment")
        publish = self.config.publish
        # PyPI matches the token's claims; [tool.release.publish] is what check compares the
        # workflow with (it names no owner or repository).
        rows = [
            ["owner", owner, "-", ""],
            ["repository", name, "-", ""],
            [
                "workflow file",
                workflow,
                publish.workflow,
                "<- differs" if workflow != publish.workflow else "",
            ],
            [
                "environment",
                str(environment) if environment else "(none: the job has no environment)",
                publish.environment or "(any)",
                "<- differs"
                if publish.environment
                and str(environment or "").lower() != publish.environment.lower()
                else "",
            ],
        ]
        table = "\n".join(
            "  " + line
            for line in format_table(
                ["", "the OIDC token's claims", "[tool.release.publish]", ""], rows
            )
        )
        hints = []
        if claims.get("workflow_ref") and claims.get("workflow_ref") != job_ref:
            hints.append(
                f"the job runs in a reusable workflow ({_workflow_file(job_ref)}, called from "
                f"{_workflow_file(str(claims['workflow_ref']))}); PyPI matches the reusable "
                "workflow's file, so register that file, or move the publish job into the "
                "calling workflow"
            )
        if any(row[3] for row in rows):
            hints.append(
                "where [tool.release.publish] differs from the token, the configuration or "
                "the workflow is out of date: make them agree (nox -s check compares them)"
            )
        else:
            hints.append("the token matches [tool.release.publish]")
        remedy = (
            "on PyPI, open the project's Publishing settings: the trusted publisher must say "
            "exactly what the OIDC token's claims say (owner, repository, workflow, "
            "environment) for this job to publish"
            + ("; " + "; ".join(hints) if hints else "")
            + ".\n"
            + table
        )
        return MintRefusedError(
            f"the index found no trusted publisher for this workflow (invalid-publisher): "
            f"{description}",
            remedy,
            "invalid-publisher",
        )


# --- choosing -----------------------------------------------------------------------------------


def _api_token(environ: Mapping[str, str], note: str | None) -> ApiToken | None:
    for variable in API_TOKEN_VARIABLES:
        value = environ.get(variable)
        if value:
            return ApiToken(value, f"API token from ${variable}", note)
    return None


MOVE_TO_TRUSTED = (
    "publishing with an API token; trusted publishing needs no secret: register the "
    "workflow on PyPI (nox -s check shows the values) and drop the token"
)


def select(
    repository: Repository, config: ReleaseConfig, console: Console, environ: Mapping[str, str]
) -> Credentials:
    """Trusted publishing where the CI can do it; an API token otherwise; or an error that
    says which of the two to set up."""
    ci = ambient_ci(environ)
    if ci is not None:
        http = Http(announce=retry_line(console))
        aud = audience(repository, http)
        if aud is None:
            note = f"{repository.oidc_base} does not do trusted publishing"
            token = _api_token(environ, note)
            if token is None:
                raise CredentialsError(
                    f"{repository.oidc_base} does not do trusted publishing (its /_/oidc/audience "
                    "answered 403 or 404), and no API token is set.",
                    "set PYPI_API_TOKEN (a project-scoped token, from a secret) for this index.",
                )
            console.register_secret(token.value)
            return token
        try:
            jwt = fetch_oidc_token(aud, environ, config, http)
        except CredentialsError as exc:
            token = _api_token(environ, f"trusted publishing was not possible: {exc.cause}")
            if token is None:
                raise
            console.register_secret(token.value)
            return token
        if jwt is not None:
            return TrustedPublishing(
                repository, aud, jwt, environ=environ, config=config, console=console, ci=ci,
                http=http,
            )  # fmt: skip
    token = _api_token(environ, MOVE_TO_TRUSTED)
    if token is None:
        raise CredentialsError(
            "no credentials to upload with: this is not a CI that hands out OIDC tokens, and "
            f"neither {' nor '.join('$' + v for v in API_TOKEN_VARIABLES)} is set.",
            "publish from the release workflow (trusted publishing), or set PYPI_API_TOKEN to "
            "a project-scoped API token.",
        )
    console.register_secret(token.value)
    return token
