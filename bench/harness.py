"""Helpers the benchmark scripts share: free ports, RSS, health waits, wrk runs, swoosh subprocesses."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    """The child processes of `pid` (a stack's worker processes)."""
    listed = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in listed.read_text().split()] if listed.exists() else []


def tree_rss_mb(pid: int) -> float:
    """RSS of `pid` and its child processes."""
    return rss_mb(pid) + sum(rss_mb(kid) for kid in children(pid))


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_healthy(url: str, timeout: float = 60.0) -> float:
    """Seconds until `url` answers (anything below 500)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if httpx.get(url, timeout=0.5).status_code < 500:
                return time.perf_counter() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.01)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> tuple[float, int, int]:
    """(requests/s, requests, non-2xx) from one bounded wrk run."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:  # a rate of failing requests measures nothing
        raise RuntimeError(f"{bad.group(1)} of {total} requests to {url} were answered with non-2xx")
    return rate, total, 0


def swoosh_up(args: list[str]) -> subprocess.Popen[bytes]:
    """`swoosh up ARGS` as a subprocess (the real serving path); one process per service unless ARGS says
    `--workers` (the default is one per core: a figure must not change with the machine it ran on)."""
    workers = [] if "--workers" in args else ["--workers", "1"]
    return subprocess.Popen(
        [sys.executable, "-c", "from swoosh.cli import main; main()", "up", *args, *workers],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def timed_get(client: httpx.Client, path: str, params: Mapping[str, Any], repeats: int = 5) -> dict[str, Any]:
    """Every time and the median (ms, client side, over HTTP) of `repeats` GETs of a control-API listing,
    and the `count` it answered."""
    times, count = [], 0
    for _ in range(repeats):
        began = time.perf_counter()
        answer = client.get(path, params=params)
        times.append((time.perf_counter() - began) * 1000)
        answer.raise_for_status()
        count = answer.json()["count"]
    return {"ms": [round(t, 1) for t in times], "median_ms": round(statistics.median(times), 1), "count": count}
