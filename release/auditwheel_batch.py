"""``auditwheel show --json`` on many wheels in one process:
``python -m release.auditwheel_batch WHEEL...``.

auditwheel's command line judges one wheel per process, and starting Python and importing
auditwheel costs more than judging a small wheel (validate of 300 took 18.9 s). This runs the
command line's own code (its parser and ``show``) on each wheel in turn, in this process,
and closes each wheel's output with a line ``@@auditwheel-batch <index> <exit status>``;
the report before it is the JSON ``auditwheel show --json`` prints. A failure of auditwheel
on one wheel (an exception, its parser refusing the file) is that wheel's exit status 1 or
2, its traceback the output, as the command line would have it; the next wheel is judged.

It runs as a child of nox-release, through the runner, so time limits, the process group
and the record still apply, and auditwheel reads the host (ld.so.conf, the musl loader)
exactly as its command line does. It imports nothing else of nox-release.

musllinux wheels are judged on what they hold, as ``auditwheel show --json --ldpaths ""``
does: this host's library directories are another libc's (on a glibc host, its ``libc.so``
is a linker script, on which auditwheel 6.8 raises ELFError), never what a musl system
loads. And auditwheel's musllinux policies allow musl's libc only by Alpine's name
(``libc.musl-x86_64.so.1``), while musl's own toolchains (musl-gcc, zig, Rust's
``*-linux-musl`` targets, so maturin's musllinux wheels) record it as ``libc.so``, which
musl's loader answers with itself (ldso/dynlink.c, load_library: "Catch and block
attempts to reload the implementation itself"): here its policies allow both names.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

MARKER = "@@auditwheel-batch"


class _Deferred:
    """A JSON text made only when a log record is formatted."""

    def __init__(self, dumps: Callable[[Any], str], obj: Any) -> None:
        self.dumps, self.obj = dumps, obj

    def __str__(self) -> str:
        return self.dumps(self.obj)


class _DeferredJson:
    """auditwheel's wheel_abi serialises whole ELF trees for ``log.debug`` whether or not
    debug is on, which was 40% of the time it spent on a small wheel (6.8.2). It uses its
    json module for nothing else: given this in its place, the text is made only when a
    debug line is written, and is the same then."""

    def __init__(self, json_module: Any) -> None:
        self._dumps: Callable[[Any], str] = json_module.dumps

    def dumps(self, obj: Any) -> _Deferred:
        return _Deferred(self._dumps, obj)


# musl's own name for its libc, which its loader serves itself (see above).
MUSL_LIBC = "libc.so"


def show_arguments(wheel: str) -> list[str]:
    """The ``auditwheel`` command line a wheel is judged with: ``show --json``, and for a
    musllinux wheel no library directory of this host (``--ldpaths ""``)."""
    tags = Path(wheel).name.removesuffix(".whl").split("-")[-1]
    if any(tag.startswith("musllinux_") for tag in tags.split(".")):
        return ["show", "--json", "--ldpaths", "", wheel]
    return ["show", "--json", wheel]


def allow_musl_libc_by_its_own_name(policy_module: Any) -> None:
    """auditwheel's musllinux policies allow ``libc.so`` too (see above). Only where the
    policies are made as in the versions read (6.4-6.8); another auditwheel runs unchanged."""
    fixup = getattr(policy_module, "_fixup_musl_libc_soname", None)
    musl = getattr(getattr(policy_module, "Libc", None), "MUSL", None)
    if fixup is None or musl is None:
        return

    def with_musl_libc(libc: Any, arch: Any, whitelist: list[str]) -> frozenset[str]:
        allowed: frozenset[str] = fixup(libc, arch, whitelist)
        return allowed | {MUSL_LIBC} if libc == musl else allowed

    policy_module._fixup_musl_libc_soname = with_musl_libc


def show(wheel: str) -> int:
    """``auditwheel show --json WHEEL``, as its ``main()`` runs it."""
    from auditwheel import main_show  # type: ignore[import-untyped]

    parser = argparse.ArgumentParser(prog="auditwheel")
    parser.set_defaults(verbose=0)
    main_show.configure_parser(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(show_arguments(wheel))
    status: int | None = args.func(args, parser)
    return status or 0


def main(wheels: Sequence[str]) -> int:
    # auditwheel's main() logs at INFO to stderr, and argparse complains there; here all
    # goes to stdout, so that a wheel's lines stay before its marker.
    sys.stderr = sys.stdout
    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    from auditwheel import policy, wheel_abi

    allow_musl_libc_by_its_own_name(policy)
    # Only where it is the json module, as in the versions read (6.4-6.8): another
    # auditwheel runs unchanged, only slower.
    if getattr(wheel_abi, "json", None) is json:
        wheel_abi.json = _DeferredJson(json)
    for index, wheel in enumerate(wheels):
        try:
            status = show(wheel)
        except SystemExit as exc:  # argparse's error(): the file cannot be read
            status = exc.code if isinstance(exc.code, int) else 2
        except Exception:
            traceback.print_exc(file=sys.stdout)
            status = 1
        # Its cache keeps every wheel's ELF trees; one wheel at a time bounds the memory.
        wheel_abi.get_wheel_elfdata.cache_clear()
        print(f"{MARKER} {index} {status}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
