"""GitHub Actions' OIDC token endpoint, as a job with ``permissions: id-token: write`` sees it.

The job gets ACTIONS_ID_TOKEN_REQUEST_URL (a URL that already carries ``?api-version=2.0``)
and ACTIONS_ID_TOKEN_REQUEST_TOKEN; a client appends ``&audience=<aud>`` and sends
``Authorization: bearer <token>``, and reads ``value`` from ``{"count": ..., "value": jwt}``.

    with GitHubOIDC() as oidc:
        monkeypatch.setattr(os, "environ", {**os.environ, **oidc.env()})
        token = id.detect_credential("pypi")
        oidc.claims["environment"] = "staging"      # the next token says so

Each token is ``claims`` plus the audience asked for and a fresh iat/nbf/exp/jti, so two
requests never return the same JWT (PyPI lets each JWT mint only once).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._server import Handler, LocalServer
from .jwt import Signer, github_claims

API_VERSION = "2.0"
UNICORN_HTML = """<!DOCTYPE html>
<html><head><title>Unicorn! &middot; GitHub</title></head>
<body><p><strong>No server is currently available to service your request.</strong></p></body>
</html>
"""


class _OIDCHandler(Handler):
    def do_GET(self) -> None:
        self.dispatch(self._get)

    def _get(self) -> None:
        oidc: GitHubOIDC = self.server.emulator
        status, data = oidc._answer(self.path, self.headers.get("Authorization"))
        if isinstance(data, str):
            self.send_html(status, data)
        else:
            self.send_json(status, data)


class GitHubOIDC:
    """The token endpoint on 127.0.0.1; ``signer`` is the key PyPI must trust."""

    def __init__(
        self,
        signer: Signer | None = None,
        claims: dict[str, Any] | None = None,
        *,
        lifetime: int = 300,
    ) -> None:
        self.signer = signer or Signer()
        self.claims: dict[str, Any] = claims if claims is not None else github_claims()
        # Seconds each token lives (GitHub: 5 minutes); negative issues expired tokens.
        self.lifetime = lifetime
        self.request_token = secrets.token_urlsafe(32)
        self.issued: list[str] = []
        self.audiences: list[str | None] = []  # the audience of each request (None: absent)
        self._failures: list[tuple[int, bool]] = []  # (status, with an HTML page)
        self._replays = 0
        self._lock = threading.Lock()
        self._server = LocalServer(_OIDCHandler, self)
        # A path like GitHub's: per run and job, under the Actions service.
        self.path = (
            f"/_apis/distributedtask/hubs/Actions/plans/{uuid.uuid4()}/jobs/{uuid.uuid4()}/idtoken"
        )
        self.url = f"http://127.0.0.1:{self._server.port}{self.path}?api-version={API_VERSION}"

    # --- lifecycle --------------------------------------------------------------------

    def __enter__(self) -> GitHubOIDC:
        self._server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.stop()

    @property
    def errors(self) -> list[str]:
        """Tracebacks of requests the emulator itself failed on (should stay empty)."""
        return self._server.errors

    # --- what a job sees --------------------------------------------------------------

    def env(self) -> dict[str, str]:
        """The environment of a job in this repository with ``id-token: write``."""
        claims = self.claims
        ref = str(claims.get("ref", ""))
        return {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.request_token,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": str(claims.get("repository", "")),
            "GITHUB_REPOSITORY_OWNER": str(claims.get("repository_owner", "")),
            "GITHUB_REPOSITORY_OWNER_ID": str(claims.get("repository_owner_id", "")),
            "GITHUB_REPOSITORY_ID": str(claims.get("repository_id", "")),
            "GITHUB_REF": ref,
            "GITHUB_REF_NAME": ref.rsplit("/", 1)[-1] if ref.startswith("refs/") else ref,
            "GITHUB_REF_TYPE": str(claims.get("ref_type", "")),
            "GITHUB_EVENT_NAME": str(claims.get("event_name", "")),
            "GITHUB_WORKFLOW": str(claims.get("workflow", "")),
            "GITHUB_WORKFLOW_REF": str(claims.get("workflow_ref", "")),
            "GITHUB_SHA": str(claims.get("sha", "")),
            "GITHUB_RUN_ID": str(claims.get("run_id", "")),
            "GITHUB_RUN_NUMBER": str(claims.get("run_number", "")),
            "GITHUB_RUN_ATTEMPT": str(claims.get("run_attempt", "")),
            "GITHUB_ACTOR": str(claims.get("actor", "")),
            "RUNNER_ENVIRONMENT": str(claims.get("runner_environment", "")),
        }

    def fail_requests(self, n: int, status: int = 503, *, html: bool = False) -> None:
        """The next ``n`` token requests answer ``status`` (GitHub having a bad moment), with
        a JSON message or, with ``html``, the front's HTML page."""
        with self._lock:
            self._failures.extend([(status, html)] * n)

    def replay(self, n: int) -> None:
        """The next ``n`` requests get the last token issued again (same jti)."""
        with self._lock:
            self._replays += n

    # --- the endpoint -----------------------------------------------------------------

    def _answer(self, target: str, authorization: str | None) -> tuple[int, dict[str, Any] | str]:
        parts = urlsplit(target)
        if parts.path != self.path:
            return 404, {"message": "Not Found"}
        scheme, _, credential = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            credential.strip(), self.request_token
        ):
            return 401, {"message": "Bad credentials"}
        query = parse_qs(parts.query, keep_blank_values=True)
        # The URL's own query must survive: a client that replaces it loses api-version.
        if query.get("api-version") != [API_VERSION]:
            return 400, {"message": f"api-version must be {API_VERSION}"}
        audiences = query.get("audience")
        if audiences is not None and len(audiences) != 1:
            return 400, {"message": "audience must be given once"}
        with self._lock:
            self.audiences.append(audiences[0] if audiences else None)
            if self._failures:
                status, html = self._failures.pop(0)
                if html:
                    return status, UNICORN_HTML
                return status, {"message": "Service unavailable"}
            if self._replays and self.issued:
                # The token handed out last, again: what a caching client would present.
                self._replays -= 1
                return 200, {"count": 1, "value": self.issued[-1]}
            owner = self.claims.get("repository_owner", "")
            now = int(time.time())
            claims = {
                **self.claims,
                "aud": audiences[0] if audiences else f"https://github.com/{owner}",
                "iat": now,
                "nbf": now,
                "exp": now + self.lifetime,
                "jti": str(uuid.uuid4()),
            }
            token = self.signer.sign(claims)
            self.issued.append(token)
        return 200, {"count": 1, "value": token}
