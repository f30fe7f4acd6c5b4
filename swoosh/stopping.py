"""How the long-running commands (`swoosh up`, `swoosh bridge run`) wait for Ctrl-C or SIGTERM, and stop in time."""

from __future__ import annotations

import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any


def stop_requests() -> threading.Event:
    """An event that SIGINT or SIGTERM sets from now on (`docker stop` sends SIGTERM).

    Call it before anything starts: as a container's PID 1 the process ignores a SIGTERM it has no
    handler for (the kernel's rule for PID 1), so one that came while the services were starting used
    to leave the container waiting for its SIGKILL. A request made during the start stops the process
    as soon as the start is done."""
    requested = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: requested.set())
    return requested


STOP_GRACE_SECONDS = 8.0  # under a container's 10 s between SIGTERM and SIGKILL


def stop_within(
    stop: Callable[[], None], grace: float = STOP_GRACE_SECONDS, exit: Callable[[int], Any] = os._exit
) -> None:
    """Run `stop`, but never for longer than `grace`: a stuck stop then exits the process (status 1).

    Nothing acknowledged is lost by it: with --data-dir every acknowledged change is in the store
    before its answer left (docs/reliability.md), and without one the state ends with the process anyway.
    """
    done = threading.Event()

    def run() -> None:
        try:
            stop()
        finally:
            done.set()

    threading.Thread(target=run, name="swoosh-stop", daemon=True).start()
    if not done.wait(grace):
        print(f"stopping took over {grace:.0f} s; exiting now (what was acknowledged is stored)", file=sys.stderr)
        print_threads()
        exit(1)


def print_threads() -> None:
    """Where every thread is, on stderr: what a stuck stop was waiting for, for a bug report."""
    names = {thread.ident: thread.name for thread in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        stack = "".join(traceback.format_stack(frame))
        print(f"thread {names.get(ident, ident)}:\n{stack}", file=sys.stderr)
