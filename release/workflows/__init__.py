"""The GitHub Actions workflows: generated from ``[tool.release]`` (thin: every job checks out,
sets up Python, installs a pinned nox and runs one session), and audited against it."""
