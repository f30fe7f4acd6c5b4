"""What every fake carries besides its own state: clock, journal, fault rules and a change signal.

`install(app, runtime)` wraps a Flask app's WSGI callable so that every request is journaled and
faults apply before routing, behind the control guard (emulator.guard); the control blueprint
(emulator.control) exposes all of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Flask

from swoosh.emulator.clock import Clock
from swoosh.emulator.faults import CONTROL_PREFIX, FaultBody, FaultMiddleware, FaultRules, generic_fault_body
from swoosh.emulator.guard import protect
from swoosh.emulator.journal import Journal, JournalEntry, redact_text
from swoosh.emulator.logfields import ARRIVAL, REFUSAL, REQUEST, fields

# The server puts a `threading.Event` under this environ key that is set when the client disconnects
# (or the server stops), so a long-poll ends with its client instead of holding a thread.
CLIENT_GONE_KEY = "swoosh.client_gone"
# What a route notes about its request for the log line the journal writes (see JournalMiddleware).
REFUSAL_KEY = "swoosh.refusal"
LOGGED_KEY = "swoosh.logged"


def note_refusal(environ: dict[str, Any], reason: str) -> None:
    """The service refused this request (even with a 200, as /json/1.3 does) for `reason`: never a secret."""
    environ[REFUSAL_KEY] = reason


def note_logged(environ: dict[str, Any]) -> None:
    """The service logged what this request brought itself (per message, or the sender did): the request's
    own line is a detail, logged at DEBUG."""
    environ[LOGGED_KEY] = True


class Runtime:
    """Per-service infrastructure; two fakes in one process each get their own."""

    def __init__(self, service: str, clock: Clock | None = None, journal_capacity: int = 1000) -> None:
        self.log = logging.getLogger(f"swoosh.{service}")  # arrivals, refusals, deliveries; never a secret
        self.service = service
        self.clock = clock or Clock()
        self.journal = Journal(journal_capacity)
        self.faults = FaultRules()
        self.started_at = time.time()
        self._changed = threading.Condition()
        self._version = 0
        # Cleared while a stack wires its services and writes its locator: health answers "starting" until
        # then, so whoever waits for health can read the locator and send to a wired stack.
        self.ready = threading.Event()
        self.ready.set()

    def notify(self) -> None:
        """Wake every wait-until long-poll: state they watch may have changed."""
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait_until(
        self, predicate: Callable[[], bool], timeout: float, cancelled: threading.Event | None = None
    ) -> bool:
        """Block until `predicate()` holds or `timeout` seconds pass (or `cancelled` is set: its client
        went away); re-checks on every change."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            if predicate():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (cancelled is not None and cancelled.is_set()):
                return False
            self._wait_for_change(min(remaining, 0.25))

    def _wait_for_change(self, timeout: float) -> None:
        with self._changed:
            seen = self._version
            self._changed.wait_for(lambda: self._version != seen, timeout=timeout)

    def reset(self) -> None:
        self.journal.clear()
        self.faults.clear()
        self.clock.reset()
        self.notify()

    def export_state(self) -> dict[str, Any]:
        return {"clock_offset": self.clock.offset, "faults": self.faults.export()}

    def import_state(self, state: dict[str, Any]) -> None:
        self.clock.set_offset(float(state.get("clock_offset", 0.0)))
        self.faults.load(state.get("faults", []))


class _TeeInput:
    """Wraps wsgi.input to keep the first bytes read for the journal without buffering the rest."""

    def __init__(self, stream: Any, keep: int) -> None:
        self._stream = stream
        self._keep = keep
        self.captured = bytearray()
        self.total = 0

    def _seen(self, data: bytes) -> bytes:
        self.total += len(data)
        room = self._keep - len(self.captured)
        if room > 0:
            self.captured += data[:room]
        return data

    def read(self, *args: Any) -> bytes:
        return self._seen(self._stream.read(*args))

    def readline(self, *args: Any) -> bytes:
        return self._seen(self._stream.readline(*args))

    def readlines(self, *args: Any) -> list[bytes]:
        return [self._seen(line) for line in self._stream.readlines(*args)]

    def __iter__(self) -> Iterator[bytes]:
        for line in self._stream:
            yield self._seen(line)


class JournalMiddleware:
    """Records each non-control request and its answer in the runtime's journal."""

    def __init__(self, app: Callable[..., Iterable[bytes]], runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        journal = self.runtime.journal
        if path.startswith(CONTROL_PREFIX) or journal.capacity <= 0:
            return self.app(environ, start_response)
        return self._journaled(environ, start_response)

    def _journaled(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        path = environ.get("PATH_INFO", "")
        journal = self.runtime.journal
        started = time.perf_counter()
        tee = _TeeInput(environ["wsgi.input"], journal.body_bytes + 1)
        environ["wsgi.input"] = tee
        headers = {k[5:].replace("_", "-").title(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        status_box: list[int] = [0]

        def recording_start_response(status: str, response_headers: list[Any], exc_info: Any = None) -> Any:
            status_box[0] = int(status.split(" ", 1)[0])
            return start_response(status, response_headers, exc_info)

        body = self.app(environ, recording_start_response)
        chunks: list[bytes] = []
        kept = 0
        try:
            for chunk in body:
                if kept < journal.body_bytes:
                    chunks.append(chunk[: journal.body_bytes - kept])
                    kept += len(chunks[-1])
                yield chunk
        finally:
            if hasattr(body, "close"):
                body.close()
            entry: JournalEntry = journal.new_entry(
                self.runtime.clock.time(),
                environ.get("REQUEST_METHOD", ""),
                path,
                environ.get("QUERY_STRING", ""),
                headers,
                bytes(tee.captured),
            )
            entry.status = status_box[0]
            entry.response_body = redact_text(journal.clip(b"".join(chunks))[0])
            entry.duration_ms = round((time.perf_counter() - started) * 1000, 3)
            entry.fault = environ.get("swoosh.fault")
            journal.record(entry)
            _log_request(self.runtime.log, entry, environ)


def _log_request(log: logging.Logger, entry: JournalEntry, environ: dict[str, Any]) -> None:
    """One line per request: an arrival, or a refusal (an error status, an injected fault, or what the route
    noted); at DEBUG when the service logged the request's outcome otherwise. The path only: query strings
    can carry write keys."""
    reason = environ.get(REFUSAL_KEY) or (f"fault {entry.fault}" if entry.fault else None)
    refused = reason is not None or entry.status >= 400
    level = logging.DEBUG if environ.get(LOGGED_KEY) and not refused else logging.INFO
    if not log.isEnabledFor(level):
        return
    kind = REFUSAL if refused else REQUEST if level == logging.DEBUG else ARRIVAL
    values = {"method": entry.method, "path": entry.path, "status": entry.status, "duration_ms": entry.duration_ms}
    fault = f" (fault {entry.fault})" if entry.fault else ""
    log.log(
        level,
        "%s %s -> %d in %.1f ms%s",
        entry.method,
        entry.path,
        entry.status,
        entry.duration_ms,
        fault,
        extra=fields(kind, **values, **({"reason": reason} if reason else {})),
    )


def install(app: Flask, runtime: Runtime, fault_body: FaultBody = generic_fault_body) -> Flask:
    """Put journal and fault handling in front of the app's routing (outermost: journal); an injected fault
    without a body of its own answers `fault_body(status, path, text)`, the service's error shape."""
    faults = FaultMiddleware(app.wsgi_app, runtime.faults, body=fault_body, now=runtime.clock.time)
    app.wsgi_app = JournalMiddleware(faults, runtime)  # type: ignore[method-assign]  # Flask's own documented way to wrap its WSGI callable
    app.extensions["swoosh.runtime"] = runtime
    return protect(app)
