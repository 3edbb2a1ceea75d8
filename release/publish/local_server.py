"""The HTTP plumbing the emulators share: a threaded server on 127.0.0.1 in a daemon thread.

In release/ for the rehearsal's local Sigstore (:mod:`release.publish.local_sigstore`); the
tests' emulators (tests/emulators/) use it through tests/emulators/_server.py.

Each emulator subclasses ``Handler`` for its routes and owns one ``LocalServer``; the
emulator object itself is reachable from a handler as ``self.server.emulator``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LocalServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer bound to 127.0.0.1 on a port the OS picks (never 0.0.0.0)."""

    daemon_threads = True  # a stuck client must not keep the test process alive
    # Closing must not wait for handler threads: a test may leave a connection half open.
    block_on_close = False

    def __init__(self, handler: type[BaseHTTPRequestHandler], emulator: Any) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.emulator = emulator
        self.errors: list[str] = []  # tracebacks of handler crashes: a test can assert none
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        # A short poll so that stop() returns at once (serve_forever checks between polls).
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.02,), name=f"emulator:{self.port}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    """Helpers for answering; subclasses implement do_GET/do_POST through ``dispatch``."""

    server: LocalServer
    # HTTP/1.0: one request per connection, so a deliberately dropped connection never
    # leaves a client waiting on a keep-alive socket.
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests' output stays readable; what matters is recorded on the emulator

    def dispatch(self, route: Any) -> None:
        """Run ``route()``; a crash answers 500 (with the traceback) instead of hanging up."""
        try:
            route()
        except Exception:
            text = traceback.format_exc()
            self.server.errors.append(text)
            with contextlib.suppress(OSError):  # the client may be gone already
                self.send_text(500, text, reason="Emulator error")

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        reason: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        # The reason phrase goes on the status line, which is latin-1 and one line.
        if reason is not None:
            reason = reason.replace("\r", " ").replace("\n", " ")
            reason = reason.encode("latin-1", "replace").decode("latin-1")
        self.send_response(status, reason)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(
        self,
        status: int,
        data: Any,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send(status, json.dumps(data).encode(), content_type, headers=headers)

    def send_text(self, status: int, text: str, *, reason: str | None = None) -> None:
        self.send(status, text.encode(), "text/plain; charset=utf-8", reason=reason)

    def send_html(self, status: int, html: str, *, reason: str | None = None) -> None:
        self.send(status, html.encode(), "text/html; charset=utf-8", reason=reason)

    def hang_up(self) -> None:
        """Close the connection without any HTTP response (the client sees a reset/EOF)."""
        self.close_connection = True
        self.wfile.flush()
