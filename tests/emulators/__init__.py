"""Test emulators of the services the publish stage talks to, on 127.0.0.1.

- ``emulators.jwt``: RS256 JWTs by hand (``Signer``, ``verify_jwt``, ``github_claims``).
- ``emulators.github_oidc``: GitHub Actions' OIDC token endpoint (``GitHubOIDC``).
- ``emulators.pypi``: PyPI's trusted publishing, upload rules and index before a real
  pypiserver (``PyPI``, ``TrustedPublisher``).

Each server is a context manager; tests/test_emulators.py shows what each one refuses.
"""
