"""Server-sent events for the live views, on the server's waiting pool (`/_swoosh/stream/...`).

A stream answers with `text/event-stream` and yields as things happen. Each round waits (a long-poll
on a service's control API, bounded) and then yields, even if only a comment: the server checks
between chunks whether the client is still there, so a closed tab ends its stream within one round
instead of holding a thread (emulator/serving.py, docs/decisions.md "Serving design").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
from flask import Response, request

from swoosh.emulator.client import ControlAPIError
from swoosh.emulator.runtime import CLIENT_GONE_KEY

STREAM_PREFIX = "/_swoosh/stream"
ROUND_SECONDS = 5.0  # the longest a closed tab holds a waiting-pool thread
MAX_STREAM_SECONDS = 600.0  # then the browser's EventSource reconnects on its own (with Last-Event-ID)

# One round: wait up to the given seconds, return (id, event name, data) triples, possibly none.
Round = Callable[[float], list[tuple[str, str, Any]]]


def frame(event_id: str, name: str, data: Any) -> bytes:
    return b"id: %b\nevent: %b\ndata: %b\n\n" % (event_id.encode(), name.encode(), orjson.dumps(data, default=str))


def event_stream(next_round: Round, clock: Callable[[], float]) -> Response:
    """A streaming response running `next_round` until the client leaves or the stream's time is up."""
    gone: threading.Event = request.environ.get(CLIENT_GONE_KEY) or threading.Event()

    def generate() -> Iterator[bytes]:
        yield b"retry: 2000\n\n"
        deadline = clock() + MAX_STREAM_SECONDS
        while not gone.is_set() and clock() < deadline:
            try:
                found = next_round(ROUND_SECONDS)
            except (ControlAPIError, httpx.HTTPError) as exc:  # refused or gone: say so, the browser reconnects
                yield frame("", "trouble", {"error": str(exc)})
                return
            yield b"".join(frame(*item) for item in found) or b": still here\n\n"

    response = Response(generate(), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
