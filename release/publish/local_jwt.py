"""RS256 JSON Web Tokens, written by hand: GitHub's signing key and PyPI's verification.

In release/ for the rehearsal, whose local Sigstore certifies a token of the rehearsal's own
identity; the tests' emulators use it through tests/emulators/jwt.py.

The compact serialization is ``base64url(header) . base64url(payload) . base64url(sig)``
(RFC 7515/7519); RS256 is RSASSA-PKCS1-v1_5 with SHA-256 over the ASCII of the first two
parts. ``verify_jwt`` checks what Warehouse's PyJWT call checks (warehouse/oidc/services.py):
RS256 only, a key id found in the issuer's JWKS, iss/iat/exp/aud present, iss and aud equal
(one audience, not a list), exp/iat/nbf against the clock with 30 s of leeway.

    signer = Signer()
    token = signer.sign(github_claims(aud="pypi"))
    claims = signer.verify(token, audience="pypi", issuer=GITHUB_ISSUER)
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
# A fixed commit for the default claims (any 40 hex digits would do).
DEFAULT_SHA = "9f2c4e1a7b3d5f6e8a0c1b2d3e4f5a6b7c8d9e0f"


class InvalidToken(Exception):
    """The token was refused; ``reason`` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding: anything outside the alphabet is refused."""
    if "=" in text or any(c not in _B64URL for c in text) or len(text) % 4 == 1:
        raise InvalidToken("segment is not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("segment is not base64url") from exc


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _int_to_b64url(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _b64url_to_int(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


def _json_segment(segment: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken(f"{what} is not JSON") from exc
    if not isinstance(value, dict):
        raise InvalidToken(f"{what} is not a JSON object")
    return value


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, claims) of a structurally valid JWT, signature NOT checked.

    This is the peek Warehouse takes to find the issuer before it knows which keys to use.
    """
    if not isinstance(token, str):
        raise InvalidToken("token is not a string")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("token does not have three segments")
    header = _json_segment(parts[0], "header")
    claims = _json_segment(parts[1], "payload")
    b64url_decode(parts[2])
    return header, claims


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidToken(f"claim {name!r} is not a number")
    return float(value)


def verify_jwt(
    token: str,
    jwks: dict[str, Any],
    *,
    audience: str,
    issuer: str,
    leeway: int = 30,
    now: float | None = None,
) -> dict[str, Any]:
    """The claims of ``token`` if it passes every check, else ``InvalidToken(reason)``."""
    header, claims = decode_unverified(token)
    if header.get("alg") != "RS256":
        raise InvalidToken(f"algorithm {header.get('alg')!r} is not allowed (only RS256)")
    keys = {key.get("kid"): key for key in jwks.get("keys", [])}
    kid = header.get("kid")
    if kid not in keys:
        raise InvalidToken(f"key id {kid!r} not found in the issuer's JWKS")
    key = keys[kid]
    public = rsa.RSAPublicNumbers(_b64url_to_int(key["e"]), _b64url_to_int(key["n"])).public_key()
    signing_input, _, signature = token.rpartition(".")
    try:
        public.verify(
            b64url_decode(signature),
            signing_input.encode("ascii"),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature as exc:
        raise InvalidToken("signature verification failed") from exc

    for name in ("iss", "iat", "exp", "aud"):
        if name not in claims:
            raise InvalidToken(f"token is missing the {name!r} claim")
    if claims["iss"] != issuer:
        raise InvalidToken(f"issuer {claims['iss']!r} is not {issuer!r}")
    # One audience, exactly ours: a list (even one holding ours) is refused (strict_aud).
    if not isinstance(claims["aud"], str):
        raise InvalidToken("audience is not a single string")
    if claims["aud"] != audience:
        raise InvalidToken(f"audience {claims['aud']!r} is not {audience!r}")
    now = time.time() if now is None else now
    if _number(claims, "exp") <= now - leeway:
        raise InvalidToken("token has expired")
    if _number(claims, "iat") > now + leeway:
        raise InvalidToken("token is not yet valid (iat in the future)")
    if "nbf" in claims and _number(claims, "nbf") > now + leeway:
        raise InvalidToken("token is not yet valid (nbf in the future)")
    return claims


class Signer:
    """An RSA-2048 key that signs RS256 JWTs and publishes itself as a JWKS."""

    def __init__(self, kid: str | None = None) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = kid or uuid.uuid4().hex

    def sign(self, claims: dict[str, Any], *, header: dict[str, Any] | None = None) -> str:
        """A compact RS256 JWT; ``header`` replaces the standard one (to forge bad tokens)."""
        head = header if header is not None else {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = (
            b64url_encode(json.dumps(head, separators=(",", ":")).encode())
            + "."
            + b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
        )
        signature = self._key.sign(
            signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
        return signing_input + "." + b64url_encode(signature)

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "alg": "RS256",
                    "use": "sig",
                    "kid": self.kid,
                    "n": _int_to_b64url(numbers.n),
                    "e": _int_to_b64url(numbers.e),
                }
            ]
        }

    def verify(self, token: str, *, audience: str, issuer: str, leeway: int = 30) -> dict[str, Any]:
        return verify_jwt(token, self.jwks(), audience=audience, issuer=issuer, leeway=leeway)


def _ref_type(ref: str) -> str:
    if ref.startswith("refs/tags/"):
        return "tag"
    if ref.startswith("refs/heads/"):
        return "branch"
    return ""


def github_claims(
    *,
    repository: str = "octo-org/tally",
    owner_id: str = "1234567",
    workflow: str = "release.yml",
    ref: str = "refs/tags/v0.3.1",
    environment: str | None = "pypi",
    event_name: str = "push",
    job_workflow_ref: str | None = None,
    lifetime: int = 300,
    **extra: Any,
) -> dict[str, Any]:
    """The claims GitHub Actions puts in a job's OIDC token (all values strings, as GitHub's).

    ``aud`` is absent: the token endpoint adds the audience the job asks for (pass
    ``aud=...`` to sign one directly). ``extra`` adds or replaces claims; an extra claim set
    to None is left out (``sha=None`` makes a token without ``sha``).
    """
    now = int(time.time())
    owner = repository.split("/", 1)[0]
    workflow_ref = f"{repository}/.github/workflows/{workflow}@{ref}"
    if environment is not None:
        sub = f"repo:{repository}:environment:{environment}"
    elif event_name == "pull_request":
        sub = f"repo:{repository}:pull_request"
    else:
        sub = f"repo:{repository}:ref:{ref}"
    claims: dict[str, Any] = {
        "iss": GITHUB_ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
        "sub": sub,
        "repository": repository,
        "repository_owner": owner,
        "repository_owner_id": owner_id,
        "repository_id": "987654321",
        "repository_visibility": "public",
        # The workflow's display name; the file name is in workflow_ref/job_workflow_ref.
        "workflow": "Release",
        "workflow_ref": workflow_ref,
        "workflow_sha": DEFAULT_SHA,
        # The file of the job that asked for the token: differs from workflow_ref when the
        # job runs a reusable workflow. PyPI matches publishers on this one.
        "job_workflow_ref": job_workflow_ref or workflow_ref,
        "job_workflow_sha": DEFAULT_SHA,
        "ref": ref,
        "ref_type": _ref_type(ref),
        "ref_protected": "false",
        "sha": DEFAULT_SHA,
        "event_name": event_name,
        "head_ref": "",
        "base_ref": "",
        "actor": "octocat",
        "actor_id": "583231",
        "run_id": "4242424242",
        "run_number": "17",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
    }
    if environment is not None:
        claims["environment"] = environment
    claims.update(extra)
    return {name: value for name, value in claims.items() if value is not None}
