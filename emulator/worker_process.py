"""A worker process of one service: `python -m swoosh.emulator.worker_process '<spec as JSON>'`.

Started by the primary (emulator.workers.WorkerGroup) with the listening socket and the read end of a
pipe as inherited file descriptors. It builds its side of the service (the spec's `entry`), serves the
inherited socket, and exits on SIGTERM or SIGINT, or when the pipe reaches its end: the primary closed
it, or died (even by kill -9), so a worker never outlives its primary.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from swoosh.emulator.proxy import Upstream
from swoosh.emulator.serving import ServerThread
from swoosh.emulator.shared_state import RelayedJournal, RelayHandler, Subscriber
from swoosh.emulator.workers import Dispatch, WorkerSide, apply_published


def _watch_pipe(fd: int, stop: threading.Event) -> None:
    try:
        while os.read(fd, 1):
            pass
    except OSError:
        pass
    stop.set()


def serve(spec: dict[str, Any]) -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threading.Thread(target=_watch_pipe, args=(spec["pipe_fd"], stop), name="swoosh-primary-watch", daemon=True).start()
    module, _, attr = spec["entry"].partition(":")
    side: WorkerSide = getattr(importlib.import_module(module), attr)(spec["args"])
    relay = RelayHandler(side.store)
    service_log = logging.getLogger("swoosh")
    service_log.addHandler(relay)
    service_log.setLevel(logging.INFO)  # the primary's live log may start after its workers: it filters
    service_log.propagate = False  # the primary logs them, once
    journal = side.runtime.journal
    side.runtime.journal = RelayedJournal(side.store, journal.capacity, journal.body_bytes)
    dispatch = Dispatch(
        side, Upstream(spec["upstream"]), Subscriber(side.store, spec["service"], apply_published(side))
    )
    listener = socket.socket(fileno=spec["listener_fd"])
    listener.setblocking(False)
    tls = tuple(spec["tls"]) if spec.get("tls") else None
    name = f"swoosh-{spec['service']}-w{os.getpid()}"
    server = ServerThread(dispatch, listener=listener, name=name, tls=tls, shared=True)
    server.start()
    with contextlib.suppress(OSError):  # the primary waits for this byte before it says it is up
        os.write(spec["ready_fd"], b"r")
        os.close(spec["ready_fd"])
    try:
        stop.wait()
    finally:
        server.stop()
        relay.close()
        side.close()
        side.store.close()


def main() -> None:
    serve(json.loads(sys.argv[1]))
    os._exit(0)  # daemon threads (a proxied long-poll) never hold the exit


if __name__ == "__main__":
    main()
