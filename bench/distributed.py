"""Events/s into a fake Segment from `swoosh traffic` (1, 2 processes) and Locust (1, 2 workers), side by side.

    python bench/distributed.py [--runs 3] [--seconds 8] [--users-per-worker 4]

Every run gets a fresh `swoosh up --only segment` and one sender:
  - `swoosh traffic` as bench/traffic.py runs it (unbounded rate, track/identify/page mix, 100-event batches,
    4 connections), `--processes 1` or `2`;
  - Locust with fixtures/locustfile.py, one master and 1 or 2 workers on loopback, `--users-per-worker` users
    each, every user as fast as it can (one Segment event per request, as an app's SDK with flushAt 1 sends).
The rate is read from the fake itself (its good-event count, sampled every 0.25 s, over the window from the
first sample above zero to the last one still rising), so both senders are measured the same way. What
limits a configuration shows in the CPU columns: the fake's cores busy (its one-GIL ceiling is 1.0) and the
sender's (every sender process, summed). The machine's load average is printed with the figures.
A Locust run whose master dropped a worker (`failed to send heartbeat`: a worker starved of CPU for 3 s,
after which the master stops the test when no worker is left) measures nothing: it is counted apart as
`dropped`, not as a figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from harness import free_port, stop, swoosh_up, wait_healthy
from traffic import cpu_seconds, traffic

from swoosh.emulator.segment.client import SegmentClient

ROOT = Path(__file__).resolve().parent.parent
LOCUST = Path(sys.executable).parent / "locust"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Counter(threading.Thread):
    """Samples the fake's good-event count until stopped; `rate()` is its steady slope."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.client, self.samples, self.done = SegmentClient(url), [], threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.25):
            self.samples.append((time.monotonic(), self.client.counts().get("good", 0)))

    def rate(self) -> float:
        moving = [(t, n) for t, n in self.samples if n > 0]
        if not moving:
            return 0.0
        last = max(range(len(moving)), key=lambda i: (moving[i][1], -i))  # first sample at the final count
        (t0, n0), (t1, n1) = moving[0], moving[last]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


def locust(url: str, seconds: int, workers: int, users: int) -> bool:
    """One distributed run to its end; False when the master dropped a worker (the run measures nothing)."""
    port = free_port()
    env = {**os.environ, "SWOOSH_ACTIONS_PER_SECOND": "100000", "SWOOSH_WRITE_KEY": "app-write-key"}
    common = [str(LOCUST), "-f", str(ROOT / "fixtures" / "locustfile.py"), "--host", url]
    master = subprocess.Popen(
        [
            *common,
            "--master",
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--only-summary",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    helpers = [
        subprocess.Popen(
            [*common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    output, _ = master.communicate(timeout=seconds + 120)
    for process in helpers:
        process.wait(timeout=60)
    return "failed to send heartbeat" not in output


def one_run(sender: str, count: int, seconds: int, users: int) -> dict[str, float] | None:
    port = free_port()
    fake = swoosh_up(["--only", "segment", "--port", f"segment={port}"])
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(f"{url}/_swoosh/health")
        counter = Counter(url)
        counter.start()
        fake_before, sender_before, wall_before = cpu_seconds(fake.pid), children_cpu(), time.monotonic()
        if sender == "traffic":
            traffic(url, seconds, count)
        elif not locust(url, seconds, count, users):
            counter.done.set()
            return None
        wall = time.monotonic() - wall_before
        counter.done.set()
        counter.join()
        return {
            "events_per_s": counter.rate(),
            "fake_cores": (cpu_seconds(fake.pid) - fake_before) / wall,
            "sender_cores": (children_cpu() - sender_before) / wall,
        }
    finally:
        stop(fake)


def medians(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "events_per_s_runs": [round(r["events_per_s"]) for r in runs],
        "median_events_per_s": round(statistics.median(r["events_per_s"] for r in runs)),
        "median_fake_cores": round(statistics.median(r["fake_cores"] for r in runs), 2),
        "median_sender_cores": round(statistics.median(r["sender_cores"] for r in runs), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--users-per-worker", type=int, default=4)
    args = parser.parse_args()
    os.chdir(ROOT)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    configurations = [("traffic", 1), ("traffic", 2), ("locust", 1), ("locust", 2)]
    results: dict[str, Any] = {}
    for run in range(args.runs):  # interleaved, so a burst of load elsewhere hits every configuration alike
        for sender, count in configurations:
            name = f"swoosh traffic --processes {count}" if sender == "traffic" else f"locust, {count} worker(s)"
            results.setdefault(name, []).append(one_run(sender, count, args.seconds, args.users_per_worker * count))
            print(f"run {run + 1}: {name}: {results[name][-1]}", file=sys.stderr)
    summary = {}
    for name, all_runs in results.items():
        runs = [r for r in all_runs if r is not None]
        summary[name] = {"dropped": len(all_runs) - len(runs)}
        if runs:
            summary[name].update(medians(runs))
    print(
        json.dumps(
            {
                "command": "python bench/distributed.py " + " ".join(sys.argv[1:]),
                "started": started,
                "loadavg_before": load_before,
                "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "results": summary,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
