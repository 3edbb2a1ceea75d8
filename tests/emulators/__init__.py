"""Test emulators of the services the publish stage talks to, on 127.0.0.1.

- ``emulators.jwt``: RS256 JWTs by hand (``Signer``, ``verify_jwt``, ``github_claims``).
- ``emulators.github_oidc``: GitHub Actions' OIDC token endpoint (``GitHubOIDC``).
- ``emulators.pypi``: PyPI's trusted publishing, upload rules and index before a real
  pypiserver (``PyPI``, ``TrustedPublisher``).
- ``emulators.sigstore``: a local Sigstore, a Fulcio-like CA and a Rekor v1-like log with
  their trust root (``LocalSigstore``); tests/test_sigstore_emulator.py signs and verifies
  against it with the real sigstore-python and pypi-attestations.

Each server is a context manager; tests/test_emulators.py shows what each one refuses.
"""
