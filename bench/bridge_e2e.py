"""The whole stack, Segment -> bridge -> Pushwoosh: sustained events/s and ingest-to-storage latency.

    python bench/bridge_e2e.py [--seconds 10] [--rate 1000]

Runs `swoosh up` (all three services, batching on). Throughput: wrk posts 100-event /v1/batch
requests to the fake Segment for N seconds; the rate is what the bridge delivered into the fake
Pushwoosh per second (target >= 5,000 events/s). Latency: a paced sender posts 10-event batches at
--rate events/s; each event's latency is its storage time at the fake Pushwoosh minus its
`timestamp` as the fake Segment stamped it on ingest (target p99 < 250 ms at 1,000 events/s). Also
the outbox's own enqueue+ack throughput (in process, median of 5).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from harness import free_port, run_wrk, stop, swoosh_up, wait_healthy

from swoosh.bridge.outbox import Outbox

KEY = base64.b64encode(b"app-write-key:").decode()


def track_batch(tag: str, size: int) -> dict[str, object]:
    return {
        "batch": [
            {
                "type": "track",
                "userId": f"user-{i % 97}",
                "event": "Viewed Product",
                "messageId": f"{tag}-{i}",
                "properties": {"sku": f"sku-{i}", "price": 9.5},
            }
            for i in range(size)
        ]
    }


def wrk_script(folder: Path) -> Path:
    template = json.dumps(track_batch("__ID__", 100))
    path = folder / "tracks.lua"
    path.write_text(f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic {KEY}"
local template = [==[{template}]==]
local counter = 0
local thread_id = 0
local salt = ""
setup = function(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
init = function(args)
  math.randomseed(os.time() + tid * 7919)
  salt = tostring(os.time()) .. "-" .. tid .. "-" .. tostring(math.random(1, 1000000000))
end
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, string.gsub(template, "__ID__", salt .. "-" .. counter))
end
""")
    return path


def delivered(bridge: str) -> int:
    return httpx.get(f"{bridge}/_swoosh/stats").json()["segment"]["delivered"]


def throughput(urls: dict[str, str], seconds: int, folder: Path) -> dict[str, object]:
    before = delivered(urls["bridge"])
    start = time.perf_counter()
    rate, requests, bad = run_wrk(f"{urls['segment']}/v1/batch", wrk_script(folder), seconds, 16)
    ingested = requests * 100
    while delivered(urls["bridge"]) - before < ingested and time.perf_counter() - start < seconds + 120:
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    done = delivered(urls["bridge"]) - before
    return {
        "ingest_rps": round(rate),
        "events_ingested": ingested,
        "events_delivered": done,
        "non_2xx": bad,
        "seconds_until_all_delivered": round(elapsed, 1),
        "end_to_end_events_per_s": round(done / elapsed),
    }


def latency(urls: dict[str, str], seconds: int, rate: int) -> dict[str, object]:
    httpx.post(f"{urls['pushwoosh']}/_swoosh/reset")
    client = httpx.Client(headers={"Authorization": f"Basic {KEY}"})
    interval = 10 / rate
    sent = 0
    start = time.perf_counter()
    tick = start
    while time.perf_counter() - start < seconds:
        client.post(f"{urls['segment']}/v1/batch", json=track_batch(f"lat-{sent}", 10))
        sent += 10
        tick += interval
        time.sleep(max(0.0, tick - time.perf_counter()))
    actual_rate = sent / (time.perf_counter() - start)
    deadline = time.time() + 60
    while time.time() < deadline:
        events = httpx.get(f"{urls['pushwoosh']}/_swoosh/events", timeout=60).json()["items"]
        if len(events) >= sent:
            break
        time.sleep(0.5)
    lags = sorted((e["stored_at"] - e["timestamp"]) * 1000 for e in events)
    return {
        "events": sent,
        "stored": len(lags),
        "achieved_rate": round(actual_rate),
        "p50_ms": round(lags[len(lags) // 2], 1),
        "p99_ms": round(lags[int(len(lags) * 0.99) - 1], 1),
        "max_ms": round(lags[-1], 1),
    }


def outbox_throughput(items: int = 20_000) -> dict[str, object]:
    rates = []
    for _ in range(5):
        with tempfile.TemporaryDirectory() as tmp:
            box = Outbox(Path(tmp) / "o.db")
            start = time.perf_counter()
            for i in range(0, items, 100):
                box.enqueue("segment", [b'{"type":"track","event":"x"}'] * 100, now=float(i))
            while leased := box.lease("segment", 500, now=1e12):
                box.ack([item.id for item in leased])
            rates.append(items / (time.perf_counter() - start))
            box.close()
    return {
        "items_per_run": items,
        "enqueue_plus_ack_per_s": [round(r) for r in rates],
        "median_per_s": round(statistics.median(rates)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=1000)
    args = parser.parse_args()
    ports = {name: free_port() for name in ("segment", "pushwoosh", "bridge")}
    with tempfile.TemporaryDirectory() as tmp:
        process = swoosh_up([arg for name, port in ports.items() for arg in ("--port", f"{name}={port}")])
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        try:
            for url in urls.values():
                wait_healthy(f"{url}/_swoosh/health")
            time.sleep(1)
            result = {
                "latency": latency(urls, args.seconds, args.rate),
                "throughput": throughput(urls, args.seconds, Path(tmp)),
            }
        finally:
            stop(process)
    result["outbox"] = outbox_throughput()
    result.update(cpus=os.cpu_count(), command=" ".join(["python", *sys.argv]))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
