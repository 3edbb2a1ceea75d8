"""nox-release: build, validate and publish Python packages with native code."""

__version__ = "0.1.0"
