"""How the long-running commands (`swoosh up`, `swoosh bridge run`) wait: until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading


def wait_for_stop() -> None:
    """Block until SIGINT or SIGTERM; the caller then stops cleanly (`docker stop` sends SIGTERM)."""
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    stopping.wait()
