"""Fake Pushwoosh: post-events throughput, a createMessage to 100,000 devices, and their memory.

    python bench/pushwoosh_integration.py [--runs 3] [--seconds 10] [--devices 100000]
    python bench/pushwoosh_integration.py --store-cost 2000   # in-process: what the --data-dir store adds
    python bench/pushwoosh_integration.py --compare-store      # post-events req/s without and with --data-dir
    python bench/pushwoosh_integration.py --workers 2          # post-events req/s, 1 process and 2 (`--workers`)
    python bench/pushwoosh_integration.py --million 1000000    # RSS holding that many posted events, queries
    python bench/pushwoosh_integration.py --cpu 1000           # in-process: CPU µs per 100-event post-events
    python bench/pushwoosh_integration.py --worker-cost 1000   # in-process: the same, one process vs worker + primary
    python bench/pushwoosh_integration.py --index-cost 1000    # SQLite alone: what each events index costs
    python bench/pushwoosh_integration.py --devices-only --devices 1000000  # devices alone: RSS, send, queries
    python bench/pushwoosh_integration.py --register --runs 3 --seconds 8   # registerDevice req/s over HTTP

1. `POST /integration-segment/v1/post-events` with 100 events per request against `swoosh up --only
   pushwoosh` (wrk, 16 connections; target >= 1,000 requests/s).
2. In one process: 100,000 devices with 10 tags each (RSS; target < 500 MB), then createMessage to a
   segment matching all of them (`conditions`), timed from the call to every delivery, inbox entry and
   message event recorded (median of runs; target < 2 s); then filtered control-API queries of the
   devices and users (rows of the store since issue 18) and the RSS once the sends' records are dropped.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from harness import (
    children,
    cpu_seconds,
    free_port,
    rss_mb,
    run_wrk,
    stop,
    swoosh_up,
    timed_get,
    tree_rss_mb,
    wait_healthy,
)

from swoosh.emulator.pushwoosh.backend import PushwooshBackend

APP, TOKEN = "ABCDE-12345", "KEY123"


def post_events_script_body() -> str:
    """The 100-event post-events body every run of this script sends (50 users, two event names)."""
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
    return json.dumps({"events": events})


def post_events_script(folder: Path) -> Path:
    path = folder / "post_events.lua"
    path.write_text(f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Token {TOKEN}"
wrk.headers["X-PW-Appcode"] = "{APP}"
wrk.body = [==[{post_events_script_body()}]==]
""")
    return path


def integration_throughput(runs: int, seconds: int, durable: bool = False, workers: int = 1) -> dict[str, object]:
    """post-events req/s through `swoosh up --only pushwoosh`; `durable`: with --data-dir (the store);
    `workers`: served by that many processes (`--workers`; RSS: all of them)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = post_events_script(Path(tmp))
        port = free_port()
        data_dir = ["--data-dir", str(Path(tmp) / "data")] if durable else []
        process = swoosh_up(
            ["--only", "pushwoosh", "--port", f"pushwoosh={port}", "--workers", str(workers), *data_dir]
        )
        try:
            startup = wait_healthy(f"http://127.0.0.1:{port}/_swoosh/health")
            url = f"http://127.0.0.1:{port}/integration-segment/v1/post-events"
            pids = [process.pid, *children(process.pid)]
            before = [cpu_seconds(pid) for pid in pids]
            results = [run_wrk(url, script, seconds, 16) for _ in range(runs)]
            cpu = [round(cpu_seconds(pid) - used, 2) for pid, used in zip(pids, before, strict=True)]
            rates = [round(r[0]) for r in results]
            return {
                "startup_s": round(startup, 2),
                "rates": rates,
                "median_rps": statistics.median(rates),
                "non_2xx": sum(r[2] for r in results),
                "rss_mb": round(tree_rss_mb(process.pid), 1),
                "cpu_s_by_process": cpu,  # the primary first: how the connections were split, and the CPU they got
                "cpu_us_per_request": round(sum(cpu) / sum(r[1] for r in results) * 1e6),
            }
        finally:
            stop(process)


def register_script(folder: Path) -> Path:
    """registerDevice with 5 tags and a user, a new hwid per request (wrk thread number and a counter)."""
    tags = json.dumps({"Country": "BR", "Level": 7, "City": "City 7", "Plan": "gold", "Age": 30})
    path = folder / "register.lua"
    path.write_text(f"""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
function request()
  counter = counter + 1
  local hwid = "hw-" .. tid .. "-" .. counter
  local body = '{{"request": {{"application": "{APP}", "hwid": "' .. hwid .. '", "device_type": 3, '
    .. '"push_token": "tok-' .. hwid .. '", "userId": "u-' .. hwid .. '", "tags": {tags}}}}}'
  return wrk.format(nil, nil, nil, body)
end
""")
    return path


def register_throughput(runs: int, seconds: int, durable: bool) -> dict[str, object]:
    """registerDevice req/s through `swoosh up --only pushwoosh` (wrk, 16 connections, every hwid new), and
    the service's RSS after the runs; `durable`: with --data-dir."""
    with tempfile.TemporaryDirectory() as tmp:
        script = register_script(Path(tmp))
        port = free_port()
        data_dir = ["--data-dir", str(Path(tmp) / "data")] if durable else []
        process = swoosh_up(["--only", "pushwoosh", "--port", f"pushwoosh={port}", *data_dir])
        try:
            wait_healthy(f"http://127.0.0.1:{port}/_swoosh/health")
            url = f"http://127.0.0.1:{port}/json/1.3/registerDevice"
            results = [run_wrk(url, script, seconds, 16) for _ in range(runs)]
            rates = [round(r[0]) for r in results]
            devices = httpx.get(f"http://127.0.0.1:{port}/_swoosh/devices", params={"limit": 1}).json()
            return {
                "data_dir": durable,
                "rates": rates,
                "median_rps": statistics.median(rates),
                "devices_registered": sum(r[1] for r in results),
                "listed": bool(devices["items"]),
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
    backend.deliveries.clear()  # what the sends observed is the run's, not the devices'
    backend.lifecycle.clear()
    backend.inboxes.clear()
    gc.collect()
    after_sends_rss = rss_mb(os.getpid()) - before
    queries = {  # the control API's /_swoosh/devices and /_swoosh/users, in-process: ms, median of 5
        "devices user_id=user-77": ("devices", {"user_id": "user-77"}, None),
        "devices push_token=token-500": ("devices", {"push_token": "token-500"}, None),
        "devices platform=iOS limit=100 offset=500": ("devices", {"platform": "iOS", "offset": "500"}, 100),
        "devices badge=7 (none)": ("devices", {"badge": "7"}, None),
        "users user_id=user-77": ("users", {"user_id": "user-77"}, None),
        "devices limit=100": ("devices", {}, 100),
    }
    query_ms = {}
    for name, (collection, filters, limit) in queries.items():
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            backend.query(collection, filters, limit)
            samples.append((time.perf_counter() - start) * 1000)
        query_ms[name] = round(statistics.median(samples), 2)
    store_mb = sum(p.stat().st_size for p in backend.store.path.parent.glob("store.db*")) / 1e6  # type: ignore[attr-defined]
    backend.close()
    return {
        "devices": devices,
        "register_seconds": round(register_seconds, 1),
        "register_per_second": round(devices / register_seconds),
        "devices_rss_mb": round(devices_rss, 1),
        "rss_after_sends_mb": round(after_sends_rss, 1),
        "store_file_mb": round(store_mb, 1),
        "send_seconds": [round(t, 2) for t in timings],
        "median_send_seconds": round(statistics.median(timings), 2),
        "query_ms": query_ms,
    }


def post_events_cpu(requests: int) -> dict[str, object]:
    """In-process, no HTTP, no --data-dir: CPU µs (this process) per 100-event `post_events` (the body of
    post_events_script: 50 users, one timestamp), after 300 to warm up; 3 rounds, a fresh backend each.
    CPU time, not wall time: steadier on a shared machine."""
    events = [
        (("Viewed Product", "Added To Cart")[i % 2], f"user-{i % 50}", None, 1_700_000_000.0, {"sku": f"sku-{i}"})
        for i in range(100)
    ]
    rounds = []
    for _ in range(3):
        backend = PushwooshBackend()
        for _ in range(300):
            backend.post_events(APP, events, auto_create=True)
        start = time.process_time()
        for _ in range(requests):
            backend.post_events(APP, events, auto_create=True)
        rounds.append(round((time.process_time() - start) / requests * 1e6))
        backend.close()
    return {"requests_per_round": requests, "cpu_us_per_request": rounds, "median": statistics.median(rounds)}


def worker_cost(requests: int) -> dict[str, object]:
    """In-process, no sockets, no --data-dir: CPU µs (this process) per 100-event post-events (the body of
    post_events_script) through the WSGI apps: served by one process (`--workers 1`); served by a worker
    (`--workers N`: the published record's read, `decidable`, the app with its journal entry relayed to
    the store); and what the primary then spends per request a worker served (applying the effects,
    taking the journal entry). 3 rounds, fresh stores each, after 100 requests to warm up."""
    from werkzeug.test import EnvironBuilder

    from swoosh.emulator.pushwoosh.app import create_app
    from swoosh.emulator.pushwoosh.shared_backend import SharedBackend
    from swoosh.emulator.pushwoosh.worker_role import worker_side
    from swoosh.emulator.shared_state import Publisher, RelayedJournal, RelayReader, Subscriber
    from swoosh.emulator.store import SqliteStore
    from swoosh.emulator.workers import Dispatch, apply_published, published

    body = post_events_script_body()
    headers = {"Authorization": f"Token {TOKEN}", "X-PW-Appcode": APP, "Content-Type": "application/json"}

    def serve(app: Any, count: int) -> float:
        environs = [
            EnvironBuilder(
                path="/integration-segment/v1/post-events", method="POST", data=body, headers=headers
            ).get_environ()
            for _ in range(count)
        ]
        start = time.process_time()
        for environ in environs:
            answer = b"".join(app(environ, lambda status, _headers, _exc=None: None))
            assert not answer, answer  # 200 with an empty body
        return (time.process_time() - start) / count * 1e6

    rounds: dict[str, list[float]] = {"one_process": [], "worker": [], "primary_per_worker_request": []}
    for _ in range(3):
        alone = PushwooshBackend(store=SqliteStore(None, "OFF"))
        serve(create_app(alone), 100)
        rounds["one_process"].append(serve(create_app(alone), requests))
        alone.close()
        alone.store.close()
        store = SqliteStore(None, "OFF")
        primary = SharedBackend(store=store)
        Publisher(store, "pushwoosh", published(primary.runtime, primary.published()).copy).publish()
        relay = RelayReader(store, primary.runtime.journal)
        side = worker_side({"store": str(store.path), "synchronous": "OFF"})
        side.runtime.journal = RelayedJournal(side.store)
        dispatch = Dispatch(side, lambda *_: [], Subscriber(side.store, "pushwoosh", apply_published(side)))
        serve(dispatch, 100)
        primary.follow()
        relay.take()
        rounds["worker"].append(serve(dispatch, requests))
        start = time.process_time()
        primary.follow()
        relay.take()
        rounds["primary_per_worker_request"].append((time.process_time() - start) / requests * 1e6)
        side.close()
        primary.close()
        store.close()
    return {
        "requests_per_round": requests,
        "cpu_us_per_request": {name: [round(t) for t in times] for name, times in rounds.items()},
        "medians": {name: round(statistics.median(times)) for name, times in rounds.items()},
    }


def index_cost(requests: int) -> dict[str, object]:
    """SQLite alone: CPU µs per 100-row write of the post-events body into the events table with no
    index, with each index alone, and with all of them (a temporary store, synchronous=OFF)."""
    from swoosh.emulator.pushwoosh.posted_table import NUMBER_COLUMNS, TEXT_COLUMNS, PostedTable, posted_row
    from swoosh.emulator.store import SqliteStore

    rows = [
        posted_row(("Viewed Product", "Added To Cart")[i % 2], f"user:user-{i % 50}", APP, 1.7e9, 1.7e9, {"n": i})
        for i in range(100)
    ]
    columns = (*TEXT_COLUMNS, *NUMBER_COLUMNS)
    result: dict[str, object] = {"requests": requests}
    for kept in ("none", *columns, "all"):
        store = SqliteStore(None, "OFF")
        table = PostedTable(store)
        with store.transaction() as sql:
            for column in columns:
                if kept not in (column, "all"):
                    sql.execute(f"DROP INDEX pushwoosh_events_{column}")
        for _ in range(200):
            table.write(rows, 10**7)
        start = time.process_time()
        for _ in range(requests):
            table.write(rows, 10**7)
        result[f"cpu_us_per_request_index_{kept}"] = round((time.process_time() - start) / requests * 1e6)
        store.close()
    return result


def store_cost(requests: int) -> dict[str, object]:
    """In-process, no HTTP: µs per request for a 100-event post-events and for a registerDevice with 10
    tags, each followed by `persist` (what the app does after every request), without --data-dir (posted
    events in a temporary store, synchronous=OFF; the rest in memory) and with the --data-dir store
    (SQLite WAL, synchronous=NORMAL, the change log written too). A fresh backend per mode and round; the
    modes alternate over 3 rounds."""
    from swoosh.emulator.store import SqliteStore

    events = [(f"Event {i % 5}", f"user-{i % 50}", None, 1_700_000_000.0 + i, {"sku": f"sku-{i}"}) for i in range(100)]
    timings: dict[str, dict[str, list[float]]] = {
        work: {"memory": [], "NORMAL": []} for work in ("post_events_100", "register_device")
    }
    with tempfile.TemporaryDirectory(prefix="swoosh-store-cost-") as tmp:
        for round_ in range(3):
            for mode in ("memory", "NORMAL"):
                store = SqliteStore(None, "OFF") if mode == "memory" else SqliteStore(Path(tmp) / f"{round_}.db")
                backend = PushwooshBackend(store=store)
                for name in ("Country", "City", "Plan"):
                    backend.define_tag(name, 2)
                if mode == "NORMAL":
                    backend.start_persisting()
                start = time.perf_counter()
                for _ in range(requests):
                    backend.post_events(APP, events, auto_create=True)
                    backend.persist()
                timings["post_events_100"][mode].append((time.perf_counter() - start) / requests * 1e6)
                start = time.perf_counter()
                for n in range(requests):
                    tags = {"Country": "BR", "City": f"City {n % 100}", "Plan": "gold"}
                    backend.register_device(
                        {"application": APP, "hwid": f"hw-{n}", "device_type": 3, "userId": f"u-{n}", "tags": tags}
                    )
                    backend.persist()
                timings["register_device"][mode].append((time.perf_counter() - start) / requests * 1e6)
                backend.close()
                store.close()
    result: dict[str, object] = {"requests_per_round": requests}
    for work, modes in timings.items():
        medians = {mode: round(statistics.median(samples), 1) for mode, samples in modes.items()}
        result[work] = {
            "us_per_request": {mode: [round(t, 1) for t in samples] for mode, samples in modes.items()},
            "median_us_per_request": medians,
            "store_adds_us": round(medians["NORMAL"] - medians["memory"], 1),
        }
    return result


def many_posted(events: int, users: int, durable: bool) -> dict[str, object]:
    """`swoosh up --only pushwoosh` fed `events` posted events (100 per post-events request, 4 clients,
    `users` distinct users), then its RSS and the time (ms, client side, over HTTP) of filtered
    `/_swoosh/events` queries, 5 of each."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        data_dir = ["--data-dir", str(Path(tmp) / "data")] if durable else []
        process = swoosh_up(["--only", "pushwoosh", "--port", f"pushwoosh={port}", *data_dir])
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(f"{url}/_swoosh/health")
            headers = {"Authorization": f"Token {TOKEN}", "X-PW-Appcode": APP, "Content-Type": "application/json"}

            bodies = [  # 100 bodies of 100 events: user-0 .. user-9999 when users = 10,000
                json.dumps(
                    {
                        "events": [
                            {
                                "user_id": f"user-{(body * 100 + i) % users}",
                                "app_code": APP,
                                "name": ("Viewed Product", "Added To Cart", "Order Completed")[i % 3],
                                "timestamp": "2026-11-22T14:08:43.998Z",
                                "attributes": {"sku": f"sku-{i}", "price": 19.99},
                            }
                            for i in range(100)
                        ]
                    }
                ).encode()
                for body in range(100)
            ]
            path = "/integration-segment/v1/post-events"

            def post(client_number: int) -> None:
                with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
                    for request in range(client_number, events // 100, 4):
                        client.post(path, content=bodies[request % 100]).raise_for_status()

            start = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(4) as pool:
                list(pool.map(post, range(4)))
            fill = time.perf_counter() - start
            config = httpx.get(f"{url}/_swoosh/config").json()
            queries = {
                "name=Order Completed&limit=100": {"name": "Order Completed", "limit": 100},
                "subject=user:user-7": {"subject": "user:user-7"},
                "subject=user:user-7&name=Added To Cart&limit=10": {
                    "subject": "user:user-7",
                    "name": "Added To Cart",
                    "limit": 10,
                },
                "application=<app>&limit=100&offset=500": {"application": APP, "limit": 100, "offset": 500},
                "name=Nothing Like It": {"name": "Nothing Like It"},
            }
            with httpx.Client(base_url=url, timeout=60) as client:
                timings = {name: timed_get(client, "/_swoosh/events", params) for name, params in queries.items()}
            return {
                "events_posted": events,
                "users": users,
                "data_dir": durable,
                "fill_seconds": round(fill, 1),
                "evicted_posted_events": config.get("evicted_posted_events"),
                "rss_mb": round(rss_mb(process.pid), 1),
                "queries": timings,
            }
        finally:
            stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--devices-only", action="store_true", help="only the devices: register, send, queries, RSS")
    parser.add_argument("--register", action="store_true", help="only registerDevice req/s over HTTP")
    parser.add_argument("--compare-store", action="store_true", help="only post-events, without and with --data-dir")
    parser.add_argument("--workers", type=int, default=1, help="only post-events, 1 process and N (alternating)")
    parser.add_argument("--store-cost", type=int, metavar="REQUESTS", help="only measure the store's cost in-process")
    parser.add_argument("--cpu", type=int, metavar="REQUESTS", help="only CPU µs per post-events in-process")
    parser.add_argument(
        "--worker-cost", type=int, metavar="REQUESTS", help="only CPU µs per post-events: one process, worker, primary"
    )
    parser.add_argument("--index-cost", type=int, metavar="REQUESTS", help="only what each events index costs")
    parser.add_argument(
        "--million", type=int, metavar="EVENTS", help="only RSS and queries holding EVENTS posted events"
    )
    parser.add_argument("--users", type=int, default=10_000, help="with --million: distinct users posting")
    parser.add_argument("--data-dir", action="store_true", help="with --million: the service runs with --data-dir")
    args = parser.parse_args()
    if args.index_cost:
        print(json.dumps({**index_cost(args.index_cost), "command": " ".join(["python", *sys.argv])}, indent=2))
        return
    if args.worker_cost:
        print(json.dumps({**worker_cost(args.worker_cost), "command": " ".join(["python", *sys.argv])}, indent=2))
        return
    if args.cpu:
        print(json.dumps({**post_events_cpu(args.cpu), "command": " ".join(["python", *sys.argv])}, indent=2))
        return
    if args.million:
        result = many_posted(args.million, args.users, args.data_dir)
        print(json.dumps({**result, "cpus": os.cpu_count(), "command": " ".join(["python", *sys.argv])}, indent=2))
        return
    if args.workers > 1:  # alternating, so a change in the machine's load hits both
        pairs = [
            (integration_throughput(1, args.seconds), integration_throughput(1, args.seconds, workers=args.workers))
            for _ in range(args.runs)
        ]
        one, many = [float(str(r["median_rps"])) for r, _ in pairs], [float(str(r["median_rps"])) for _, r in pairs]
        result = {
            "one_process_rps": one,
            f"{args.workers}_processes_rps": many,
            "medians": {"one_process": statistics.median(one), f"{args.workers}_processes": statistics.median(many)},
            "rss_mb": {"one_process": pairs[-1][0]["rss_mb"], f"{args.workers}_processes": pairs[-1][1]["rss_mb"]},
            "cpu_s_by_process": [[r["cpu_s_by_process"] for r in pair] for pair in pairs],
            "cpu_us_per_request": [[r["cpu_us_per_request"] for r in pair] for pair in pairs],
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "command": " ".join(["python", *sys.argv]),
        }
        print(json.dumps(result, indent=2))
        return
    if args.compare_store:  # alternating, so a change in the machine's load hits both modes
        pairs = [
            (integration_throughput(1, args.seconds), integration_throughput(1, args.seconds, True))
            for _ in range(args.runs)
        ]
        result = {
            "memory_rps": [r["median_rps"] for r, _ in pairs],
            "data_dir_rps": [r["median_rps"] for _, r in pairs],
            "non_2xx": sum(int(str(r["non_2xx"])) for pair in pairs for r in pair),
            "command": " ".join(["python", *sys.argv]),
        }
        print(json.dumps(result, indent=2))
        return
    if args.store_cost:
        print(json.dumps({**store_cost(args.store_cost), "command": " ".join(["python", *sys.argv])}, indent=2))
        return
    if args.register:
        result = {
            "register": [register_throughput(args.runs, args.seconds, durable) for durable in (False, True)],
            "command": " ".join(["python", *sys.argv]),
        }
        print(json.dumps(result, indent=2))
        return
    if args.devices_only:
        result = {"create_message": big_send(args.devices, args.runs), "command": " ".join(["python", *sys.argv])}
        print(json.dumps(result, indent=2))
        return
    result = {
        "post_events": integration_throughput(args.runs, args.seconds),
        "create_message": big_send(args.devices, args.runs),
        "cpus": os.cpu_count(),
        "command": " ".join(["python", *sys.argv]),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
