"""Fake Pushwoosh: post-events throughput, a createMessage to 100,000 devices, and their memory.

    python bench/pushwoosh_integration.py [--runs 3] [--seconds 10] [--devices 100000]

1. `POST /integration-segment/v1/post-events` with 100 events per request against `swoosh up --only
   pushwoosh` (wrk, 16 connections; target >= 1,000 requests/s).
2. In one process: 100,000 devices with 10 tags each (RSS; target < 500 MB), then createMessage to a
   segment matching all of them (`conditions`), timed from the call to every delivery, inbox entry and
   message event recorded (median of runs; target < 2 s).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import free_port, rss_mb, run_wrk, stop, swoosh_up, wait_healthy

from swoosh.emulator.pushwoosh.backend import PushwooshBackend

APP, TOKEN = "ABCDE-12345", "KEY123"


def post_events_script(folder: Path) -> Path:
    events = [
        {
            "user_id": f"user-{i % 50}",
            "app_code": APP,
            "name": ("Viewed Product", "Added To Cart")[i % 2],
            "timestamp": "2026-11-22T14:08:43.998Z",
            "attributes": {"sku": f"sku-{i}", "price": 19.99},
        }
        for i in range(100)
    ]
    path = folder / "post_events.lua"
    path.write_text(f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token {TOKEN}"
wrk.headers["X-PW-Appcode"] = "{APP}"
wrk.body = [==[{json.dumps({"events": events})}]==]
""")
    return path


def integration_throughput(runs: int, seconds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        script = post_events_script(Path(tmp))
        port = free_port()
        process = swoosh_up(["--only", "pushwoosh", "--port", f"pushwoosh={port}"])
        try:
            startup = wait_healthy(f"http://127.0.0.1:{port}/_swoosh/health")
            url = f"http://127.0.0.1:{port}/integration-segment/v1/post-events"
            results = [run_wrk(url, script, seconds, 16) for _ in range(runs)]
            rates = [round(r[0]) for r in results]
            return {
                "startup_s": round(startup, 2),
                "rates": rates,
                "median_rps": statistics.median(rates),
                "non_2xx": sum(r[2] for r in results),
                "rss_mb": round(rss_mb(process.pid), 1),
            }
        finally:
            stop(process)


def big_send(devices: int, runs: int) -> dict[str, object]:
    gc.collect()
    before = rss_mb(os.getpid())
    backend = PushwooshBackend()
    for name, kind in (
        ("Country", 2),
        ("Level", 1),
        ("Premium", 5),
        ("Balance", 6),
        ("Interests", 3),
        ("City", 2),
        ("Age", 1),
        ("Plan", 2),
        ("Score", 6),
        ("Beta", 5),
    ):
        backend.define_tag(name, kind)
    start = time.perf_counter()
    for i in range(devices):
        backend.register_device(
            {
                "application": APP,
                "hwid": f"hwid-{i:07d}",
                "device_type": 1 if i % 2 else 3,
                "push_token": f"token-{i}",
                "userId": f"user-{i}",
                "tags": {
                    "Country": ("BR", "US", "DE")[i % 3],
                    "Level": i % 50,
                    "Premium": i % 2 == 0,
                    "Balance": i / 10,
                    "Interests": ["shoes", "bags"],
                    "City": f"City {i % 100}",
                    "Age": 18 + i % 60,
                    "Plan": "gold",
                    "Score": i % 7 / 3,
                    "Beta": False,
                },
            }
        )
    register_seconds = time.perf_counter() - start
    gc.collect()
    devices_rss = rss_mb(os.getpid()) - before
    timings = []
    for _ in range(runs):
        backend.deliveries.clear()
        backend.lifecycle.clear()
        backend.inboxes.clear()
        start = time.perf_counter()
        reply = backend.create_messages(
            {
                "application": APP,
                "notifications": [
                    {
                        "content": "Hi from {City|CapitalizeFirst|there}",
                        "conditions": [["Plan", "EQ", "gold"]],
                        "campaign": "BIG",
                    }
                ],
            }
        )
        timings.append(time.perf_counter() - start)
        assert reply["Messages"] and len(backend.deliveries) == devices
    backend.close()
    return {
        "devices": devices,
        "register_seconds": round(register_seconds, 1),
        "devices_rss_mb": round(devices_rss, 1),
        "send_seconds": [round(t, 2) for t in timings],
        "median_send_seconds": round(statistics.median(timings), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--devices", type=int, default=100_000)
    args = parser.parse_args()
    result = {
        "post_events": integration_throughput(args.runs, args.seconds),
        "create_message": big_send(args.devices, args.runs),
        "cpus": os.cpu_count(),
        "command": " ".join(["python", *sys.argv]),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
