"""What the live log of `swoosh up` costs: /v1/batch throughput with it (the default) and with `--quiet`.

    python bench/live_log.py [--rounds 3] [--seconds 8] [--connections 16] [--events 100]

The fake Segment runs as `swoosh up --only segment` (no data dir), once per mode per round, the modes
alternating so a busy machine hurts both alike; the workload is segment_batch.py's (`--events` per
batch, 100 by default, 1 for the worst case of one record per event; fresh messageIds; `wrk`). With
the live log every request makes a log record that is formatted or counted by the per-second
summariser; `--quiet` leaves the INFO records uncreated. Loopback only.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import free_port, run_wrk, stop, wait_healthy
from segment_batch import WRITE_KEY, WRK_SCRIPT, batch_template

MODES = {"live log": [], "--quiet": ["--quiet"]}


def write_script(folder: Path, events: int) -> Path:
    token = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    path = folder / "batch.lua"
    path.write_text(WRK_SCRIPT % (token, batch_template(events)))
    return path


def one_run(script: Path, extra: list[str], seconds: int, connections: int) -> float:
    port = free_port()
    command = [sys.executable, "-c", "from swoosh.cli import main; main()", "up", "--only", "segment", "--workers", "1"]
    process = subprocess.Popen(
        [*command, "--port", f"segment={port}", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_swoosh/health")
        run_wrk(f"http://127.0.0.1:{port}/v1/batch", script, 2, connections)  # warm-up
        rate, _total, _bad = run_wrk(f"http://127.0.0.1:{port}/v1/batch", script, seconds, connections)
        return rate
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--events", type=int, default=100, help="events per /v1/batch request")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get update && apt-get install -y wrk")
    rates: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="swoosh-bench-live-log-") as tmp:
        script = write_script(Path(tmp), args.events)
        for _ in range(args.rounds):
            for mode, extra in MODES.items():
                rates[mode].append(one_run(script, extra, args.seconds, args.connections))
    medians = {mode: statistics.median(found) for mode, found in rates.items()}
    result = {
        "requests_per_s": {mode: [round(r) for r in found] for mode, found in rates.items()},
        "median_events_per_s": {mode: round(m * args.events) for mode, m in medians.items()},
        "live_log_cost_pct": round(100 * (1 - medians["live log"] / medians["--quiet"]), 1),
        "command": " ".join(["python", *sys.argv]),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
