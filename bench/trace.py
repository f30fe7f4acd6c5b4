"""The trace and the Pushwoosh page: what following one event costs, and pages over a big fake Pushwoosh.

    python bench/trace.py [--events 1000000]

1. The bridge's trail on its hot path, in process: one 100-event ingress (`accepted`) plus one
   100-event request (`sent`, 4 KB body) per round, 10,000 rounds: microseconds per event.
2. `swoosh up`: 1,000 identifies through the fake Segment and the bridge, then the time to collect one
   messageId's trace (`GET /_swoosh/trace/<id>` on the inspector) and a userId's, median of 20.
3. The fake Pushwoosh holding --events posted events (integration API post-events, 100 per request,
   4 senders) and 1,000 devices: the inspector's Pushwoosh page (events newest, an older page, devices
   with their tags) and the fake's `/_swoosh/events?limit=26&offset=...`, median of 5 (target < 1 s).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from harness import free_port, stop, swoosh_up, wait_healthy

from swoosh.bridge.trail import Sent, Trail
from swoosh.emulator.retry import Outcome

APP, TOKEN = "ABCDE-12345", "KEY123"


def trail_cost(rounds: int = 10_000, batch: int = 100) -> float:
    """Microseconds per event the trail adds to the bridge (ingress record + request record)."""
    trail = Trail()
    body = b"x" * 4096
    ok = Outcome(True, False, 200, None)
    start = time.perf_counter()
    for n in range(rounds):
        ids = [f"{n}-{i}" for i in range(batch)]
        trail.accepted("segment", ids, float(n))
        trail.sent(Sent("segment", "post-events", ids, body, float(n), 1.0, 1), ok, "delivered")
    return (time.perf_counter() - start) / (rounds * batch) * 1e6


def timed(get: httpx.Client, url: str, runs: int, **params: object) -> tuple[float, int]:
    times, status = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        status = get.get(url, params=params).status_code
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"trail: {trail_cost():.2f} us per event (accepted + sent, 100-event requests)")

    ports = {name: free_port() for name in ("segment", "pushwoosh", "bridge", "inspector")}
    process = swoosh_up([arg for name, port in ports.items() for arg in ("--port", f"{name}={port}")])
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        for url in urls.values():
            wait_healthy(f"{url}/_swoosh/health" if "inspector" not in url else url)
        wait_healthy(urls["inspector"])
        http = httpx.Client(timeout=120)
        batch = [
            {"type": "identify", "userId": f"u{i % 50}", "traits": {"n": i}, "messageId": f"m{i}"} for i in range(1000)
        ]
        for part in range(0, 1000, 100):
            http.post(
                f"{urls['segment']}/v1/batch", auth=("app-write-key", ""), json={"batch": batch[part : part + 100]}
            )
        time.sleep(3)
        one, status = timed(http, f"{urls['inspector']}/_swoosh/trace/m999", 20)
        user, user_status = timed(http, f"{urls['inspector']}/_swoosh/trace/u7", 20)
        print(
            f"trace of one messageId: median {one:.1f} ms ({status}); "
            f"of a userId with 20 identifies: {user:.1f} ms ({user_status})"
        )

        devices = [{"application": APP, "hwid": f"d{i}", "device_type": 3, "userId": f"u{i}"} for i in range(1000)]
        for device in devices:
            http.post(f"{urls['pushwoosh']}/json/1.3/registerDevice", json={"request": device})
        headers = {"Authorization": f"Token {TOKEN}", "X-PW-Appcode": APP}
        stamp = "2026-11-30T10:00:00.000Z"

        def send(first: int) -> None:
            with httpx.Client(timeout=60) as client:
                for start in range(first, args.events, 400):
                    events = [
                        {"user_id": f"u{(start + i) % 1000}", "app_code": APP, "name": "Viewed", "timestamp": stamp}
                        for i in range(min(100, args.events - start))
                    ]
                    client.post(
                        f"{urls['pushwoosh']}/integration-segment/v1/post-events",
                        json={"events": events},
                        headers=headers,
                    )

        began = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(send, range(0, 400, 100)))
        held = http.get(f"{urls['pushwoosh']}/_swoosh/config").json()
        print(
            f"posted {args.events:,} events in {time.perf_counter() - began:.0f} s; "
            f"max kept {held['max_posted_events']:,}"
        )
        for label, url, params in (
            ("page: events, newest", f"{urls['inspector']}/pushwoosh", {"view": "events"}),
            ("page: events, page 1000", f"{urls['inspector']}/pushwoosh", {"view": "events", "page": 1000}),
            ("page: devices with tags", f"{urls['inspector']}/pushwoosh", {"view": "devices"}),
            ("page: events filtered by name", f"{urls['inspector']}/pushwoosh", {"view": "events", "name": "Viewed"}),
            ("fake: /_swoosh/events page", f"{urls['pushwoosh']}/_swoosh/events", {"limit": 26, "offset": 500_000}),
        ):
            median, code = timed(http, url, 5, **params)
            print(f"{label}: median {median:.0f} ms ({code})")
    finally:
        stop(process)


if __name__ == "__main__":
    main()
