"""The fake Segment's worker role (emulator.workers): the Tracking API's ingest routes served in worker
processes against the shared store; everything else (the control API, `/v1/m`, the pixel and settings
routes) goes to the primary."""

from __future__ import annotations

from typing import Any

from swoosh.emulator.segment.api import CALL_ROUTES
from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentConfig
from swoosh.emulator.segment.shared_backend import SharedBackend, WorkerBackend
from swoosh.emulator.store import SqliteStore
from swoosh.emulator.workers import WorkerRole, WorkerSide, shared_store, store_role

ENTRY = "swoosh.emulator.segment.worker_role:worker_side"
NEVER = 1e9  # a worker's warehouse never loads: the primary's does


def is_hot(environ: dict[str, Any]) -> bool:
    """A Tracking API call (`POST /v1/track`, `/v1/batch`, ... in any case, with any trailing slash)."""
    if environ.get("REQUEST_METHOD") != "POST":
        return False
    path = environ.get("PATH_INFO", "")
    return path[:4].lower() == "/v1/" and path[4:].strip("/").lower() in CALL_ROUTES


def role_of(backend: SharedBackend, store: SqliteStore) -> WorkerRole:
    """What the stack needs to run this primary's workers."""
    return store_role(ENTRY, store, backend.runtime, backend.published, backend.follow)


def worker_side(args: dict[str, Any]) -> WorkerSide:
    """Run in each worker process: the full app over the shared store, serving only what `is_hot` names."""
    store = shared_store(args)
    backend = WorkerBackend(SegmentConfig(sources=[], warehouse_quiet_seconds=NEVER), store=store)
    app = create_app(backend)
    return WorkerSide(app, backend.runtime, store, is_hot, backend.apply_published, backend.close)
