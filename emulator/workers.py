"""Worker processes on one port: a service's primary process and N-1 spawned workers share its socket.

The primary (the `swoosh up` process) serves the service exactly as with one process and owns every
background task (deliveries, warehouse loads, webhooks, long-polls, the control API). Each worker
inherits the listening socket (so the kernel spreads connections over all of them), serves the
service's hot routes itself against the shared store, and forwards everything else to the primary
(emulator.proxy). A service opts in by offering `worker_role()` (a `WorkerRole`); how a worker builds
its side is the `entry` function it names, run in the worker (emulator.worker_process).
docs/decisions.md, "Worker processes on one port", has the reasons.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swoosh.emulator.proxy import TrustForwarded
from swoosh.emulator.runtime import Runtime
from swoosh.emulator.serving import ServerThread
from swoosh.emulator.shared_state import Publisher, RelayReader, Subscriber
from swoosh.emulator.store import SqliteStore, Store

log = logging.getLogger("swoosh.workers")
FOLLOW_SECONDS = 0.02  # how often the primary takes what workers stored (events, journal, log records)
RESTART_BACKOFF = (0.1, 0.5, 1.0, 2.0, 5.0)  # a worker that keeps dying is restarted less and less often
STOP_SECONDS = 3.0
READY_SECONDS = 30.0  # a stack's start waits this long at most for each worker to serve
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@dataclass
class WorkerRole:
    """What a worker-capable service gives the stack (its handle's `worker_role()`)."""

    entry: str  # "module:function" run in each worker: (args) -> WorkerSide
    args: dict[str, Any]  # JSON: what a worker needs to build its side (the store's path, ...)
    store: Store  # the primary's store: where it publishes and takes the relay
    runtime: Runtime  # the primary's: clock offset and fault rules are published, the journal gets the relay
    snapshot: Callable[[], dict[str, Any]]  # the service's configuration as workers need it
    follow: Callable[[], None]  # called every FOLLOW_SECONDS in the primary: take what workers stored


@dataclass
class WorkerSide:
    """What a worker process serves: `app` for the routes `hot(environ)` names, the rest goes upstream."""

    app: WSGIApp
    runtime: Runtime
    store: Store
    hot: Callable[[dict[str, Any]], bool]  # may read the body (leaving wsgi.input readable from its start)
    apply: Callable[[dict[str, Any]], None]  # a newly published service snapshot
    close: Callable[[], None] = field(default=lambda: None)  # the backend's; the worker closes `store` after


def store_role(
    entry: str, store: SqliteStore, runtime: Runtime, snapshot: Callable[[], dict[str, Any]], follow: Callable[[], None]
) -> WorkerRole:
    """The role of a service whose workers open the primary's store file, with its settings."""
    args = {"store": str(store.path), "synchronous": store.synchronous}
    return WorkerRole(entry=entry, args=args, store=store, runtime=runtime, snapshot=snapshot, follow=follow)


def shared_store(args: dict[str, Any]) -> SqliteStore:
    """In a worker: the store `store_role` named."""
    return SqliteStore(Path(args["store"]), synchronous=args["synchronous"])


def published(runtime: Runtime, service: dict[str, Any]) -> dict[str, Any]:
    """The whole published record: the runtime's part every service shares, and the service's own."""
    return {"clock_offset": runtime.clock.offset, "faults": bool(runtime.faults.list()), "service": service}


class Dispatch:
    """A worker's WSGI app: hot routes served here while no fault rule exists, everything else upstream
    (a fault rule's `times` then counts in one place, the primary). The published record is read first,
    so `hot` decides with the newest configuration."""

    def __init__(self, side: WorkerSide, upstream: WSGIApp, subscriber: Subscriber) -> None:
        self.side = side
        self.upstream = upstream
        self.subscriber = subscriber

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.subscriber.current().get("faults", True) and self.side.hot(environ):
            return self.side.app(environ, start_response)
        return self.upstream(environ, start_response)


def apply_published(side: WorkerSide) -> Callable[[dict[str, Any]], None]:
    def apply(snapshot: dict[str, Any]) -> None:
        side.runtime.clock.set_offset(float(snapshot.get("clock_offset", 0.0)))
        side.apply(snapshot.get("service") or {})

    return apply


class PublishChanges:
    """In front of the primary's app: after each control request (and any request while fault rules exist,
    which count their firings) the published record is written again if it changed."""

    def __init__(self, app: WSGIApp, publisher: Publisher, runtime: Runtime) -> None:
        self.app = app
        self.publisher = publisher
        self.runtime = runtime

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        result = self.app(environ, start_response)
        if environ.get("PATH_INFO", "").startswith("/_swoosh") or self.runtime.faults.list():
            self.publisher.publish()
        return result


class WorkerGroup:
    """The primary's side of one service's workers: private socket, spawning, following, restarting."""

    def __init__(
        self, name: str, app: Any, listener: socket.socket, role: WorkerRole, count: int, tls: tuple[str, str] | None
    ) -> None:
        self.name = name
        self.app = app
        self.listener = listener
        self.role = role
        self.count = count
        self.tls = tls
        self.restarts = 0
        self._failures = 0
        self._next_restart = 0.0
        self._folder = tempfile.mkdtemp(prefix=f"swoosh-{name}-workers-")
        self.socket_path = os.path.join(self._folder, "primary.sock")
        self._private: ServerThread | None = None
        self._procs: list[tuple[subprocess.Popen[bytes], int]] = []  # (process, write end of its pipe)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._publisher = Publisher(role.store, name, lambda: published(role.runtime, role.snapshot()))
        self._relay = RelayReader(role.store, role.runtime.journal)

    def start(self) -> WorkerGroup:
        self._publisher.publish()
        self.app.wsgi_app = PublishChanges(self.app.wsgi_app, self._publisher, self.role.runtime)
        self.role.runtime.journal.pull = self._relay.take
        private = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        private.bind(self.socket_path)
        private.listen(1024)
        private.setblocking(False)
        self._private = ServerThread(TrustForwarded(self.app), listener=private, name=f"swoosh-{self.name}-primary")
        self._private.start()
        ready: list[int] = []
        self._procs = [self._spawn(ready) for _ in range(self.count)]
        self._await_ready(ready)
        self._thread = threading.Thread(target=self._run, name=f"swoosh-{self.name}-follower", daemon=True)
        self._thread.start()
        return self

    @property
    def forwarded_waits(self) -> int:
        """Long-polls and streams the workers forwarded that the primary holds now (for tests, diagnostics)."""
        return self._private.waiting if self._private is not None else 0

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc, _ in self._procs]

    def _spawn(self, ready: list[int] | None = None) -> tuple[subprocess.Popen[bytes], int]:
        """A new worker; the pipe on which it says it serves goes to `ready` (else is closed at once)."""
        read_end, write_end = os.pipe()
        ready_read, ready_write = os.pipe()
        spec = {
            "service": self.name,
            "listener_fd": self.listener.fileno(),
            "pipe_fd": read_end,
            "ready_fd": ready_write,
            "upstream": self.socket_path,
            "entry": self.role.entry,
            "args": self.role.args,
            "tls": list(self.tls) if self.tls else None,
        }
        try:
            proc = subprocess.Popen(  # spawned, not forked: the primary runs threads
                [sys.executable, "-m", "swoosh.emulator.worker_process", json.dumps(spec)],
                pass_fds=(self.listener.fileno(), read_end, ready_write),
                stdin=subprocess.DEVNULL,
            )
        finally:
            os.close(read_end)
            os.close(ready_write)
        if ready is not None:
            ready.append(ready_read)
        else:
            os.close(ready_read)
        return proc, write_end

    def _await_ready(self, ready: list[int]) -> None:
        """Until every new worker serves (a worker's first requests then never all land on the primary)."""
        deadline = time.monotonic() + READY_SECONDS
        waiting = list(ready)
        while waiting and time.monotonic() < deadline:
            done = select.select(waiting, [], [], max(0.0, deadline - time.monotonic()))[0]
            waiting = [fd for fd in waiting if fd not in done]
        if waiting:
            log.warning("%s: %d worker process(es) not serving after %.0f s", self.name, len(waiting), READY_SECONDS)
        for fd in ready:
            os.close(fd)

    def _run(self) -> None:
        """Every FOLLOW_SECONDS: what workers stored and relayed, and the published record again if it changed
        (a change no control request made: a definition the follower created); every half second: restart
        the dead."""
        last_check = time.monotonic()
        while not self._stopping.wait(FOLLOW_SECONDS):
            try:
                self.role.follow()
                self._publisher.publish()
                self._relay.take()
            except Exception:  # the store is closing, or a bug: never end the follower
                log.exception("%s: following the workers failed", self.name)
            if time.monotonic() - last_check >= 0.5:
                last_check = time.monotonic()
                self._restart_dead()

    def _restart_dead(self) -> None:
        """One dead worker per check is replaced, at growing intervals while they keep dying."""
        now = time.monotonic()
        dead = [i for i, (proc, _) in enumerate(self._procs) if proc.poll() is not None]
        if not dead:
            self._failures = 0
            return
        if now < self._next_restart or self._stopping.is_set():
            return
        proc, write_end = self._procs[dead[0]]
        log.warning("%s: worker process %d ended (%s); starting another", self.name, proc.pid, proc.returncode)
        with contextlib.suppress(OSError):
            os.close(write_end)
        self._procs[dead[0]] = self._spawn()
        self.restarts += 1
        self._next_restart = now + RESTART_BACKOFF[min(self._failures, len(RESTART_BACKOFF) - 1)]
        self._failures += 1

    def stop(self) -> None:
        """Workers see their pipe close (as they would if this process died) and exit; the stubborn are killed."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for _proc, write_end in self._procs:
            with contextlib.suppress(OSError):
                os.close(write_end)
        deadline = time.monotonic() + STOP_SECONDS
        for proc, _ in self._procs:
            try:
                proc.wait(timeout=max(0.05, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=1)
        self._procs = []
        with contextlib.suppress(Exception):
            self._relay.take()
        if self._private is not None:
            self._private.stop()
        self.role.runtime.journal.pull = None
        shutil.rmtree(self._folder, ignore_errors=True)
