"""``python -m release.publish.local_index ROOT PID_FILE``: the dry run's throwaway index.

pypiserver on 127.0.0.1 (a port of the OS's choosing, printed once it listens), serving and
storing ROOT, with uploads allowed only for user ``__token__`` with the token in
``$NOX_RELEASE_INDEX_TOKEN``: the same authentication as PyPI's, so the rehearsal exercises
the same upload path. The token travels in the environment, never in argv or a file.

It writes its pid to PID_FILE before it listens: a run killed outright (SIGKILL) leaves the
server behind, and the next run finds it by that file and by its command line (this module
and ROOT), and stops it (:func:`release.publish.rehearsal.remove_orphans`).
"""

from __future__ import annotations

import hmac
import os
import sys
from pathlib import Path
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

READY = "local index listening on "


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        sys.stdout.write(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}\n")
        sys.stdout.flush()


def main(argv: list[str]) -> int:
    import pypiserver  # type: ignore[import-untyped]  # only the rehearsal needs it

    root = Path(argv[0]).resolve()
    token = os.environ["NOX_RELEASE_INDEX_TOKEN"]
    if len(argv) > 1:
        pid_file = Path(argv[1])
        written = pid_file.with_name(pid_file.name + ".new")
        written.write_text(f"{os.getpid()}\n", encoding="utf-8")
        written.replace(pid_file)  # never half a number

    def auther(username: str, password: str) -> bool:
        return username == "__token__" and hmac.compare_digest(password, token)

    app = pypiserver.app(
        roots=[root], authenticate=["update"], auther=auther, disable_fallback=True
    )
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    print(f"{READY}http://127.0.0.1:{server.server_port}/", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
