"""RS256 JWTs for the emulators (GitHub's signing key, PyPI's and Fulcio's verification);
in release/ since the rehearsal's local Sigstore certifies a token of its own."""

from release.publish.local_jwt import (
    DEFAULT_SHA,
    GITHUB_ISSUER,
    InvalidToken,
    Signer,
    b64url_decode,
    b64url_encode,
    decode_unverified,
    github_claims,
    verify_jwt,
)

__all__ = [
    "DEFAULT_SHA",
    "GITHUB_ISSUER",
    "InvalidToken",
    "Signer",
    "b64url_decode",
    "b64url_encode",
    "decode_unverified",
    "github_claims",
    "verify_jwt",
]
