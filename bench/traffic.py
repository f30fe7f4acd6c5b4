"""`swoosh traffic` throughput: how many Segment events/s the command itself can send, and whether it keeps the
fake Segment busy at the fake's own capacity.

    python bench/traffic.py [--runs 3] [--seconds 10]

Every run is the real command in a subprocess (`swoosh traffic --json`, unbounded `--rate`, a track /
identify / page mix, 100-event batches, 4 connections), against:
  - a trivial receiver (swoosh.fixtures.traffic.sink.Sink in its own process, answering `{"success":true}` at
    once): the command's ceiling, in one sender process and with `--processes 2`;
  - the fake Segment (`swoosh up --only segment`, full processing): what a load test against it gets.
The figures are medians of the runs' events/s as the command reports them (sent over its own elapsed time).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness import free_port, stop, swoosh_up, wait_healthy

SINK = """
import sys, time
from swoosh.emulator.serving import ServerThread
from swoosh.fixtures.traffic.sink import Sink
with ServerThread(Sink(keep_bodies=False), port=int(sys.argv[1]), threads=8):
    time.sleep(float(sys.argv[2]))
"""


def traffic(url: str, seconds: int, processes: int) -> dict[str, Any]:
    """One bounded `swoosh traffic` run; its JSON summary."""
    command = [
        sys.executable, "-c", "from swoosh.cli import main; main()", "traffic", "--json", "--interval", "0",
        "--target", "segment", "--segment-url", url, "--write-key", "app-write-key",
        "--mix", "track=5,identify=1,page=2", "--rate", "1000000", "--duration", str(seconds),
        "--batch-size", "100", "--concurrency", "4", "--processes", str(processes),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    summary = json.loads(done.stdout)
    if summary["failed"] or summary["rejected"]:
        raise RuntimeError(f"a run with failures measures nothing: {summary}")
    return summary


def against_sink(runs: int, seconds: int, processes: int) -> list[float]:
    rates = []
    for _ in range(runs):
        port = free_port()
        sink = subprocess.Popen([sys.executable, "-c", SINK, str(port), str(seconds + 60)])
        try:
            wait_healthy(f"http://127.0.0.1:{port}/")
            rates.append(traffic(f"http://127.0.0.1:{port}", seconds, processes)["events_per_second"])
        finally:
            sink.terminate()
            sink.wait(timeout=20)
    return rates


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def against_fake_segment(runs: int, seconds: int) -> tuple[list[float], list[float]]:
    """Events/s, and how busy the fake was: its CPU time over the run's wall time (1.0 = one core, its GIL's limit)."""
    rates, busy = [], []
    for _ in range(runs):
        port = free_port()
        fake = swoosh_up(["--only", "segment", "--port", f"segment={port}"])
        try:
            wait_healthy(f"http://127.0.0.1:{port}/_swoosh/health")
            cpu_before, wall_before = cpu_seconds(fake.pid), time.monotonic()
            rates.append(traffic(f"http://127.0.0.1:{port}", seconds, 1)["events_per_second"])
            busy.append((cpu_seconds(fake.pid) - cpu_before) / (time.monotonic() - wall_before))
        finally:
            stop(fake)
    return rates, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    os.chdir(Path(__file__).resolve().parent.parent)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    fake_rates, fake_busy = against_fake_segment(args.runs, args.seconds)
    results = {
        "sink, 1 process": against_sink(args.runs, args.seconds, 1),
        "sink, 2 processes": against_sink(args.runs, args.seconds, 2),
        "fake Segment, 1 process": fake_rates,
    }
    print(
        json.dumps(
            {
                "command": "python bench/traffic.py " + " ".join(sys.argv[1:]),
                "started": started,
                "runs_events_per_s": {k: [round(r) for r in v] for k, v in results.items()},
                "median_events_per_s": {k: round(statistics.median(v)) for k, v in results.items()},
                "fake_segment_cpu_cores_busy": [round(b, 2) for b in fake_busy],
                "cores": os.cpu_count(),
                "python": platform.python_version(),
                "load_average_at_end": os.getloadavg(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
