"""The fakes vs WireMock, side by side in one run: /v1/batch, post-events, start-up, RSS, 1M stored events.

    python bench/segment_batch.py [--runs 3] [--seconds 10] [--connections 16] [--workers N]  # N: both fakes
    python bench/segment_batch.py --store-cost 2000   # in-process: the store per request, OFF / NORMAL / FULL
    python bench/segment_batch.py --per-event 300     # in-process: µs per event of a 100-event /v1/batch
    python bench/segment_batch.py --per-event 300 --profile   # the same under cProfile, top entries

Workload: 100-event /v1/batch requests (~20 KB, realistic track/identify/page events, a fresh
messageId per event per request so dedupe never short-circuits), `wrk` from Debian's packages with
16 connections. The fake Segment runs as `swoosh up --only segment` (the real serving path, full
processing: auth, validation, enrichment, dedupe, storage, warehouse); WireMock 3 (from the npm
package `wiremock`, which bundles the standalone jar) answers `{"success":true}` from a stub and
journals every request. The fake Pushwoosh's `post-events` (100 events per request, the body of
bench/pushwoosh_integration.py) runs against a WireMock stub of the same path in the same run. With
1,000,000 stored events: the fake Segment's RSS and the time filtered control-API queries take.
Loopback only; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from harness import free_port, rss_mb, run_wrk, stop, swoosh_up, timed_get, tree_rss_mb, wait_healthy
from pushwoosh_integration import post_events_script

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
WRITE_KEY = "app-write-key"


def batch_template(events: int = 100) -> str:
    """A ~20 KB batch body; `__ID__` is replaced per request by wrk so every messageId is new."""
    batch = []
    for i in range(events):
        kind = ("track", "identify", "page")[i % 3]
        event = {
            "type": kind,
            "messageId": f"__ID__-{i}",
            "userId": f"user-{i % 37}",
            "anonymousId": f"anon-{i:04d}-5f1c2a",
            "timestamp": "2026-11-22T14:08:43.998Z",
            "context": {
                "library": {"name": "analytics-python", "version": "2.4.0"},
                "ip": "203.0.113.7",
                "locale": "en-US",
                "timezone": "Europe/Amsterdam",
                "device": {"id": f"dev-{i}", "type": "ios", "model": "iPhone15,2"},
                "app": {"name": "Shop", "version": "4.2.1", "build": "421"},
            },
        }
        if kind == "track":
            event.update(
                event="Order Completed",
                properties={"order_id": f"o-{i}", "total": 42.5 + i, "currency": "EUR", "coupon": "SPRING"},
            )
        elif kind == "identify":
            event.update(traits={"email": f"user{i}@example.com", "plan": "gold", "searched_product": "shoes"})
        else:
            event.update(name="Pricing", properties={"path": "/pricing", "title": "Pricing", "url": "/pricing"})
        batch.append(event)
    return json.dumps({"batch": batch, "sentAt": "2026-11-22T14:08:44.100Z"}, separators=(",", ":"))


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic %s"
local template = [==[%s]==]
local counter = 0
local thread_id = 0
setup = function(thread)
  thread:set("tid", thread_id)
  thread_id = thread_id + 1
end
local salt = ""
init = function(args)
  math.randomseed(os.time() + tid * 7919)
  salt = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
end
request = function()
  counter = counter + 1
  local body = string.gsub(template, "__ID__", salt .. "-" .. tid .. "-" .. counter)
  return wrk.format(nil, nil, nil, body)
end
"""


def write_wrk_script(folder: Path) -> Path:
    import base64

    token = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    path = folder / "batch.lua"
    path.write_text(WRK_SCRIPT % (token, batch_template()))
    return path


def wiremock_jar() -> Path:
    folder = OUT / "wiremock"
    jars = list(folder.glob("node_modules/wiremock/build/*.jar"))
    if not jars:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(folder), "wiremock@3"], check=True, timeout=300)
        jars = list(folder.glob("node_modules/wiremock/build/*.jar"))
    return jars[0]


def start_swoosh(port: int, data_dir: Path, workers: int = 1) -> subprocess.Popen[bytes]:
    """`swoosh up --only segment`, with `workers` processes on its port (`--workers`)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from swoosh.cli import main; main()",
            "up",
            "--only",
            "segment",
            "--port",
            f"segment={port}",
            "--data-dir",
            str(data_dir),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


POST_EVENTS = "/integration-segment/v1/post-events"
# What each stub answers: the fake Segment's body, and the fake Pushwoosh's empty 200 for post-events.
STUBS = {"batch": ("/v1/batch", '{"success":true}'), "post_events": (POST_EVENTS, "")}


def start_wiremock(port: int, root: Path) -> subprocess.Popen[bytes]:
    mappings = root / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    for name, (path, body) in STUBS.items():
        response = {"status": 200, "body": body, "headers": {"Content-Type": "application/json"}}
        (mappings / f"{name}.json").write_text(
            json.dumps({"request": {"method": "POST", "urlPath": path}, "response": response})
        )
    return subprocess.Popen(
        [
            "java",
            "-jar",
            str(wiremock_jar()),
            "--port",
            str(port),
            "--root-dir",
            str(root),
            "--disable-banner",
            "--async-response-enabled",
            "false",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def measure(
    name: str,
    process: subprocess.Popen[bytes],
    health: str,
    url: str,
    script: Path,
    runs: int,
    seconds: int,
    connections: int,
) -> dict[str, object]:
    startup = wait_healthy(health)
    time.sleep(1.0)
    idle = tree_rss_mb(process.pid)
    rates = []
    bad = 0
    for _ in range(runs):
        rate, _total, non2xx = run_wrk(url, script, seconds, connections)
        rates.append(rate)
        bad += non2xx
    return {
        "name": name,
        "startup_s": round(startup, 2),
        "idle_rss_mb": round(idle, 1),
        "rates": [round(r) for r in rates],
        "median_rps": round(statistics.median(rates)),
        "non_2xx": bad,
        "rss_after_mb": round(tree_rss_mb(process.pid), 1),
    }


def store_cost(requests: int) -> dict[str, object]:
    """In-process, no HTTP: µs per 100-event request for `SegmentBackend.ingest` with its store's three
    settings: OFF (the temporary store without --data-dir: never fsyncs), NORMAL (--data-dir: WAL, no
    fsync per commit) and FULL (an fsync per commit). Each mode gets fresh bodies (new messageIds) and a
    fresh backend and store; the modes alternate over 3 rounds."""
    import orjson

    from swoosh.emulator.segment import messages
    from swoosh.emulator.segment.backend import SegmentBackend
    from swoosh.emulator.store import SqliteStore

    template = batch_template()
    timings: dict[str, list[float]] = {"OFF": [], "NORMAL": [], "FULL": []}
    with tempfile.TemporaryDirectory(prefix="swoosh-store-cost-") as tmp:
        for round_ in range(3):
            for mode, samples in timings.items():
                store = SqliteStore(Path(tmp) / f"{mode}-{round_}.db", mode)
                backend = SegmentBackend(store=store)
                bodies = [orjson.loads(template.replace("__ID__", f"{mode}-{round_}-{n}")) for n in range(requests)]
                start = time.perf_counter()
                for body in bodies:
                    backend.ingest(messages.BATCH, body, WRITE_KEY)
                samples.append((time.perf_counter() - start) / requests * 1e6)
                backend.close()
                store.close()
    medians = {mode: round(statistics.median(samples), 1) for mode, samples in timings.items()}
    return {
        "requests_per_round": requests,
        "us_per_request": {mode: [round(t, 1) for t in samples] for mode, samples in timings.items()},
        "median_us_per_request": medians,
        "fsync_adds_us": {mode: round(medians[mode] - medians["OFF"], 1) for mode in ("NORMAL", "FULL")},
    }


def per_event(requests: int, profile: bool) -> dict[str, object]:
    """In-process, no sockets: µs per event of 100-event `/v1/batch` requests through the Flask app (body
    parse, auth, validation, enrichment, dedupe, the store's transaction), 3 rounds on a fresh backend
    each; with `profile`, one more round under cProfile and its top entries by self time."""
    import base64
    import cProfile
    import io
    import pstats

    from swoosh.emulator.segment.app import create_app
    from swoosh.emulator.segment.backend import SegmentBackend

    template = batch_template()
    headers = {
        "Authorization": "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode(),
        "Content-Type": "application/json",
    }

    def round_(tag: str) -> tuple[float, float]:
        """Wall and CPU µs per event (CPU: this process's, all threads; steadier on a shared machine)."""
        backend = SegmentBackend()
        client = create_app(backend).test_client()
        bodies = [template.replace("__ID__", f"{tag}-{n}").encode() for n in range(requests)]
        start, cpu = time.perf_counter(), time.process_time()
        for body in bodies:
            client.post("/v1/batch", data=body, headers=headers)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert backend.counts()["good"] == requests * 100, backend.counts()
        backend.close()
        return elapsed / (requests * 100) * 1e6, cpu / (requests * 100) * 1e6

    rounds = [round_(f"r{n}") for n in range(3)]
    timings = [round(wall, 2) for wall, _ in rounds]
    result: dict[str, object] = {"requests_per_round": requests, "us_per_event": timings}
    result["median_us_per_event"] = statistics.median(timings)
    result["cpu_us_per_event"] = [round(cpu, 2) for _, cpu in rounds]
    result["median_cpu_us_per_event"] = round(statistics.median(cpu for _, cpu in rounds), 2)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        round_("profiled")
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        result["profile"] = out.getvalue()
    return result


def million_events(port: int, process: subprocess.Popen[bytes], script: Path) -> dict[str, object]:
    """Fill the store to its default cap (1,000,000 events), read RSS, time filtered control-API queries."""
    url = f"http://127.0.0.1:{port}"
    httpx.post(f"{url}/_swoosh/reset", timeout=120)
    start = time.perf_counter()
    while True:
        counts = httpx.get(f"{url}/_swoosh/counts").json()
        if counts["stored"] >= 1_000_000 or time.perf_counter() - start > 1800:
            break
        run_wrk(f"{url}/v1/batch", script, 10, 16)
    fill = time.perf_counter() - start
    return {
        "stored": counts["stored"],
        "evicted": counts["evicted"],
        "good": counts["good"],
        "rss_mb": round(rss_mb(process.pid), 1),
        "fill_seconds": round(fill, 1),
        "queries_ms": filtered_queries(url, lambda: rss_mb(process.pid)),
        "rss_after_queries_mb": round(rss_mb(process.pid), 1),
    }


def filtered_queries(url: str, rss: Callable[[], float], repeats: int = 5) -> dict[str, dict[str, object]]:
    """Median and every time (ms, client side, over HTTP) of filtered `/_swoosh/events` queries, and the
    service's RSS after each query's repeats."""
    newest = httpx.get(f"{url}/_swoosh/events", params={"limit": 1}).json()["items"][0]
    message = newest["message"]
    queries = {
        "messageId=<one>": {"messageId": message["messageId"]},
        "userId=<one>&limit=100": {"userId": message["userId"], "limit": 100},
        "anonymousId=<one>&limit=100": {"anonymousId": message["anonymousId"], "limit": 100},
        "event=Order Completed&limit=100": {"event": "Order Completed", "limit": 100},
        "type=identify&source=app&limit=100": {"type": "identify", "source": "app", "limit": 100},
        "status=bad": {"status": "bad"},
        "reason=duplicate_message_id": {"reason": "duplicate_message_id"},
        "since=<newest - 1 s>&limit=100": {"since": newest["received_at"] - 1, "limit": 100},
        "wait/events?messageId=<one>": {"messageId": message["messageId"]},
        # last, as it shows what a large answer costs: 1% of the stored events, every one in the answer
        "anonymousId=<one> (no limit)": {"anonymousId": message["anonymousId"]},
    }
    results: dict[str, dict[str, object]] = {}
    with httpx.Client(base_url=url, timeout=30) as client:
        for name, params in queries.items():
            path = "/_swoosh/wait/events" if name.startswith("wait/") else "/_swoosh/events"
            results[name] = {**timed_get(client, path, params, repeats), "rss_mb": round(rss(), 1)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--skip-million", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="also measure both fakes with N processes each")
    parser.add_argument("--store-cost", type=int, metavar="REQUESTS", help="only measure the store's cost in-process")
    parser.add_argument("--per-event", type=int, metavar="REQUESTS", help="only measure µs per event in-process")
    parser.add_argument("--profile", action="store_true", help="with --per-event: a cProfile of one more round")
    args = parser.parse_args()
    if args.per_event:
        result = per_event(args.per_event, args.profile)
        profile = result.pop("profile", "")
        print(json.dumps({**result, "command": " ".join(["python", *sys.argv])}, indent=2))
        print(profile)
        return
    if args.store_cost:
        print(json.dumps({**store_cost(args.store_cost), "command": " ".join(["python", *sys.argv])}, indent=2))
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get update && apt-get install -y wrk")
    if shutil.which("java") is None or shutil.which("npm") is None:
        sys.exit("WireMock needs java and npm")
    with tempfile.TemporaryDirectory(prefix="swoosh-bench-") as tmp:
        folder = Path(tmp)
        script = write_wrk_script(folder)
        results = []
        port = free_port()
        swoosh = start_swoosh(port, folder / "data")
        try:
            results.append(measure_segment("swoosh fake Segment", swoosh, port, script, args))
            if not args.skip_million:
                results[-1]["million"] = million_events(port, swoosh, script)
        finally:
            stop(swoosh)
        if args.workers > 1:
            results.append(segment_with_workers(args, folder, script))
        pw_script = post_events_script(folder)
        for workers in sorted({1, args.workers}):
            results.append(pushwoosh_post_events(args, pw_script, workers))
        wm_port = free_port()
        wiremock = start_wiremock(wm_port, folder / "wiremock")
        try:
            for path, wrk_script in (("/v1/batch", script), (POST_EVENTS, pw_script)):
                results.append(
                    measure(
                        f"WireMock 3.13 stub {path}",
                        wiremock,
                        f"http://127.0.0.1:{wm_port}/__admin/health",
                        f"http://127.0.0.1:{wm_port}{path}",
                        wrk_script,
                        args.runs,
                        args.seconds,
                        args.connections,
                    )
                )
        finally:
            stop(wiremock)
    with_workers = [results[1], results[3]] if args.workers > 1 else []
    segment, pushwoosh_result, wm_batch, wm_post = [r for r in results if r not in with_workers]
    print(
        json.dumps(
            {
                "results": results,
                "ratio_segment": ratio(segment, wm_batch),
                "ratio_pushwoosh": ratio(pushwoosh_result, wm_post),
                **(
                    {
                        "ratio_segment_workers": ratio(with_workers[0], wm_batch),
                        "ratio_pushwoosh_workers": ratio(with_workers[1], wm_post),
                    }
                    if with_workers
                    else {}
                ),
                "cpus": os.cpu_count(),
                "load_average_at_end": os.getloadavg(),
                "command": " ".join(["python", *sys.argv]),
            },
            indent=2,
        )
    )


def pushwoosh_post_events(args: argparse.Namespace, script: Path, workers: int) -> dict[str, object]:
    """The fake Pushwoosh's post-events, served by `workers` processes (`--workers`; RSS: all of them)."""
    port = free_port()
    pushwoosh = swoosh_up(["--only", "pushwoosh", "--port", f"pushwoosh={port}", "--workers", str(workers)])
    try:
        return measure(
            "swoosh fake Pushwoosh post-events" + (f", {workers} processes" if workers > 1 else ""),
            pushwoosh,
            f"http://127.0.0.1:{port}/_swoosh/health",
            f"http://127.0.0.1:{port}{POST_EVENTS}",
            script,
            args.runs,
            args.seconds,
            args.connections,
        )
    finally:
        stop(pushwoosh)


def segment_with_workers(args: argparse.Namespace, folder: Path, script: Path) -> dict[str, object]:
    """The fake Segment again, with `--workers N` (RSS: all its processes)."""
    port = free_port()
    swoosh = start_swoosh(port, folder / "data-workers", args.workers)
    try:
        return measure_segment(f"swoosh fake Segment, {args.workers} processes", swoosh, port, script, args)
    finally:
        stop(swoosh)


def measure_segment(
    name: str, process: subprocess.Popen[bytes], port: int, script: Path, args: argparse.Namespace
) -> dict[str, object]:
    """`measure` for a fake Segment on `port`, with its counts afterwards."""
    base = f"http://127.0.0.1:{port}"
    result = measure(
        name, process, f"{base}/_swoosh/health", f"{base}/v1/batch", script, args.runs, args.seconds, args.connections
    )
    result["counts"] = httpx.get(f"{base}/_swoosh/counts", timeout=60).json()
    return result


def ratio(ours: dict[str, object], theirs: dict[str, object]) -> float:
    return round(ours["median_rps"] / theirs["median_rps"], 2) if theirs["median_rps"] else float("nan")  # type: ignore[operator]


if __name__ == "__main__":
    main()
