"""The emulators' HTTP plumbing, which lives in release/ since the rehearsal's local Sigstore
uses it too (release/ never imports tests/)."""

from release.publish.local_server import Handler, LocalServer

__all__ = ["Handler", "LocalServer"]
