"""The fake Pushwoosh's worker role (emulator.workers): posted events recorded in worker processes against
the shared store; everything else (the control API, devices, tags, messages, ...) goes to the primary.

A worker serves a post-events (`POST /integration-segment/v1/post-events`) or a device API postEvent
(`POST /json/1.3/postEvent`, the method in any case, as the remote API matches it) only when it can
decide it exactly from what the primary published (`decidable`); the rest of those go upstream
unchanged: a user-less postEvent (its device must exist: the primary orders device writes), an event the published
definitions do not know while auto-create is off (a createEvent may have just happened), and a
post-events item with `app_id` instead of `app_code` (the warning it records is the primary's).
"""

from __future__ import annotations

import io
from typing import Any

import orjson

from swoosh.emulator.pushwoosh.app import create_app
from swoosh.emulator.pushwoosh.backend import PushwooshConfig
from swoosh.emulator.pushwoosh.shared_backend import SharedBackend, WorkerBackend
from swoosh.emulator.store import SqliteStore
from swoosh.emulator.workers import WorkerRole, WorkerSide, shared_store, store_role

ENTRY = "swoosh.emulator.pushwoosh.worker_role:worker_side"
INTEGRATION_PATH = "/integration-segment/v1/post-events"
DEVICE_PREFIX, DEVICE_METHOD = "/json/1.3/", "postevent"


def decidable(backend: WorkerBackend, environ: dict[str, Any]) -> bool:
    """Whether this worker answers the request exactly as the primary would: one of the hot routes, and
    nothing in it only the primary may decide. A body that is not what the route expects is
    refused the same everywhere, so it is answered here."""
    if environ.get("REQUEST_METHOD") != "POST":
        return False
    path = environ.get("PATH_INFO", "")
    if path == INTEGRATION_PATH:
        return not _has_app_id(_body(environ))
    if path[: len(DEVICE_PREFIX)] == DEVICE_PREFIX and path[len(DEVICE_PREFIX) :].lower() == DEVICE_METHOD:
        return _post_event_decidable(backend, _body(environ))
    return False


def _body(environ: dict[str, Any]) -> bytes:
    """The request's body, left readable from its start for whoever serves it (here or upstream)."""
    stream = environ["wsgi.input"]
    if isinstance(stream, io.BytesIO):  # what emulator.serving hands every app: the whole body
        return stream.getvalue()
    raw: bytes = stream.read()
    environ["wsgi.input"] = io.BytesIO(raw)
    return raw


def _has_app_id(raw: bytes) -> bool:
    """Whether an item names its application by `app_id` alone (the primary records a warning for it).
    Without those bytes, and without a JSON escape that could spell them, no item can: not parsed."""
    if b"app_id" not in raw and b"\\" not in raw:
        return False
    events = _member(raw, "events")
    if not isinstance(events, list):
        return False
    return any(isinstance(item, dict) and "app_id" in item and "app_code" not in item for item in events)


def _post_event_decidable(backend: WorkerBackend, raw: bytes) -> bool:
    request = _member(raw, "request")
    if not isinstance(request, dict):
        return True  # refused the same everywhere
    if not request.get("userId"):  # the device must exist: the primary orders device writes
        return False
    event = request.get("event")
    return backend.config.auto_create_tags or (isinstance(event, str) and event in backend.event_registry)


def _member(raw: bytes, key: str) -> Any:
    """`key` of a JSON object body; None when the body is not JSON or not an object."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return body.get(key) if isinstance(body, dict) else None


def role_of(backend: SharedBackend, store: SqliteStore) -> WorkerRole:
    """What the stack needs to run this primary's workers."""
    return store_role(ENTRY, store, backend.runtime, backend.published, backend.follow_and_forget)


def worker_side(args: dict[str, Any]) -> WorkerSide:
    """Run in each worker process: the full app over the shared store, serving only what `decidable` names."""
    store = shared_store(args)
    backend = WorkerBackend(PushwooshConfig(), store=store)
    app = create_app(backend)

    def hot(environ: dict[str, Any]) -> bool:
        return decidable(backend, environ)

    return WorkerSide(app, backend.runtime, store, hot, backend.apply_published, backend.close)
