"""The fake Segment's memory while it answers `GET /_swoosh/events` for every stored event.

Each mode runs in a fresh server process holding N stored events (ingested in-process in batches of 500):
`streamed` asks without `limit` (written a chunk at a time), `whole` asks with `limit=N` (the path that
still builds every event and one body, as the unlimited answer did before it streamed), `state` asks for
the export (`GET /_swoosh/state`, every event in it). The client is
this process, reading the answer in pieces; the server's RSS is read before the request and its peak
(VmHWM, reset just before the request) after. Run: `cd bench && python large_answer.py --events 100000`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
from harness import rss_mb

BATCH = 500


def serve(events: int) -> None:
    """The child: fill a fake Segment with `events` events, serve it, print its URL, wait for stdin to end."""
    from swoosh.emulator.defaults import APP_WRITE_KEY
    from swoosh.emulator.segment.app import create_app
    from swoosh.emulator.segment.backend import SegmentBackend, SegmentConfig
    from swoosh.emulator.serving import ServerThread

    backend = SegmentBackend(SegmentConfig(max_events=events))
    for start in range(0, events, BATCH):
        batch = [
            {"type": "track", "event": "Order Completed", "userId": f"u{n % 1000}", "properties": {"n": n}}
            for n in range(start, min(events, start + BATCH))
        ]
        backend.ingest("batch", {"writeKey": APP_WRITE_KEY, "batch": batch})
    with ServerThread(create_app(backend)) as server:
        print(server.url, flush=True)
        sys.stdin.read()
    backend.close()


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(mode: str, events: int) -> dict[str, object]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(events)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().decode().strip()
        Path(f"/proc/{child.pid}/clear_refs").write_text("5")  # the peak from here on, not the fill's
        before = rss_mb(child.pid)
        params = {"limit": str(events)} if mode == "whole" else {}
        path = "/_swoosh/state" if mode == "state" else "/_swoosh/events"
        began = time.perf_counter()
        size = pieces = 0
        with httpx.stream("GET", f"{url}{path}", params=params, timeout=600) as answer:
            answer.raise_for_status()
            for piece in answer.iter_raw():
                size += len(piece)
                pieces += 1
        seconds = time.perf_counter() - began
        return {
            "mode": mode,
            "events": events,
            "rss_before_mb": round(before, 1),
            "peak_rss_mb": round(peak_mb(child.pid), 1),
            "rss_after_mb": round(rss_mb(child.pid), 1),
            "answer_mb": round(size / 2**20, 1),
            "pieces_read": pieces,
            "seconds": round(seconds, 2),
        }
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--modes", default="streamed,whole,state", help="which answers to measure (comma-separated)")
    parser.add_argument("--serve", type=int, metavar="EVENTS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    for mode in args.modes.split(","):
        print(json.dumps(measure(mode, args.events)), flush=True)


if __name__ == "__main__":
    main()
