"""Run a real pypiserver for the PyPI emulator (a child process): ``python THIS ROOT``.

Uploads need HTTP Basic auth as FRONT_USER with the secret in $EMULATOR_PYPISERVER_SECRET,
which only the emulator's front server knows; listing and downloads are open, as on PyPI.
pypiserver's own ``-P htpasswd`` needs passlib, which is not installed, so the check is an
``auther`` given to pypiserver's Python API. It binds 127.0.0.1 port 0 and prints
``PORT <n>`` once it listens, so no port is guessed and none can be taken in between.
"""

from __future__ import annotations

import hmac
import os
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

# Run as a script, this file's directory would come first on sys.path, and its siblings
# (jwt.py, pypi.py) would shadow real modules for pypiserver and its imports.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import pypiserver  # noqa: E402

FRONT_USER = "emulator-front"


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    root = Path(sys.argv[1])
    secret = os.environ["EMULATOR_PYPISERVER_SECRET"]

    def auther(user: str, password: str) -> bool:
        return hmac.compare_digest(user.encode(), FRONT_USER.encode()) and hmac.compare_digest(
            password.encode(), secret.encode()
        )

    app = pypiserver.app(
        roots=[root],
        authenticate=["update"],
        auther=auther,
        disable_fallback=True,  # an unknown project is a 404, never a redirect to pypi.org
        hash_algo="sha256",
        overwrite=False,
    )
    server = make_server(
        "127.0.0.1", 0, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
