"""Run the swoosh image with podman and check it as a user would (called by .ci/container-smoke).

- the health answers on the published ports;
- an identify sent with the official Segment SDK from the host becomes a tag in the fake Pushwoosh;
- a push's message events reach the fake Segment's warehouse;
- `podman stop` ends it within 10 s;
- a second run on the same volume still has the first run's events.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import segment.analytics as sa

PORTS = {"segment": 8001, "pushwoosh": 8002, "bridge": 8003}
TOKEN = f"ci-{uuid.uuid4().hex}"  # the control token the container is started with (it listens beyond loopback)
CONTROL = {"Authorization": f"Bearer {TOKEN}"}
CONFIG_TOKEN = "CI-CONFIG-TOKEN"  # set only by the mounted swoosh.toml


def podman(*args: str, check: bool = True) -> str:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise SystemExit(f"podman {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def mounted_config() -> Path:
    """A swoosh.toml to mount at /config, readable by the image's unprivileged user."""
    folder = Path(tempfile.mkdtemp(prefix="swoosh-ci-config-"))
    folder.chmod(0o755)
    (folder / "swoosh.toml").write_text(f'[pushwoosh]\napi_tokens = ["{CONFIG_TOKEN}", "KEY123"]\n')
    (folder / "swoosh.toml").chmod(0o644)
    return folder


def start(image: str, volume: str, config: Path) -> tuple[str, dict[str, str]]:
    name = f"swoosh-ci-{uuid.uuid4().hex[:8]}"
    published = [arg for port in PORTS.values() for arg in ("-p", f"127.0.0.1::{port}")]
    settings = ["-e", f"SWOOSH_CONTROL_TOKEN={TOKEN}", "-e", "SWOOSH_CONFIG=/config/swoosh.toml"]
    mounts = ["-v", f"{volume}:/data", "-v", f"{config}:/config:ro"]
    podman("run", "-d", "--name", name, *settings, *mounts, *published, image)
    urls = {}
    for service, port in PORTS.items():
        host_port = podman("port", name, f"{port}/tcp").rsplit(":", 1)[1]
        urls[service] = f"http://127.0.0.1:{host_port}"
    return name, urls


def eventually(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.5)
    raise SystemExit(f"timed out waiting for {what} (last: {last})")


def healthy(urls: dict[str, str]) -> bool:
    return all(httpx.get(f"{url}/_swoosh/health", timeout=2).status_code == 200 for url in urls.values())


def stop(name: str) -> float:
    started = time.monotonic()
    podman("stop", "--time", "10", name)
    took = time.monotonic() - started
    logs = podman("logs", name, check=False)
    podman("rm", name)
    if took >= 10:
        raise SystemExit(f"podman stop took {took:.1f} s\n{logs}")
    if took >= 3:  # within the grace, but slower than a stop should be: the log names the slow step
        print(f"a slow stop ({took:.1f} s); the container's log:\n{logs[-4000:]}")
    return took


def sql(url: str, statement: str) -> list[Any]:
    return httpx.post(f"{url}/_swoosh/sql", json={"sql": statement}, headers=CONTROL, timeout=10).json().get("rows", [])


def main(image: str) -> None:
    volume = f"swoosh-ci-data-{uuid.uuid4().hex[:8]}"
    config_dir = mounted_config()
    podman("volume", "create", volume)
    try:
        name, urls = start(image, volume, config_dir)
        eventually(lambda: healthy(urls), "the health of all three services")
        print(f"healthy on {urls}")
        podman("healthcheck", "run", name)  # the image's own HEALTHCHECK passes too
        print("the image's HEALTHCHECK passes")
        banner = eventually(lambda: (lambda out: out if "bridge" in out else "")(podman("logs", name)), "the banner")
        assert "http://localhost:8001" in banner and "0.0.0.0" not in banner, banner
        refused = httpx.get(f"{urls['pushwoosh']}/_swoosh/config")
        assert refused.status_code == 401, f"an exposed stack's control API answered without a token: {refused}"
        config = httpx.get(f"{urls['pushwoosh']}/_swoosh/config", headers=CONTROL).json()
        assert CONFIG_TOKEN in config["api_tokens"], f"the mounted swoosh.toml was not applied: {config}"
        print("the mounted swoosh.toml (SWOOSH_CONFIG) was applied")
        app, token = config["applications"][0]["code"], config["api_tokens"][0]
        client = sa.Client("app-write-key", host=urls["segment"], sync_mode=True)
        client.identify("ci-user", {"plan": "gold"})
        client.flush()
        tags = eventually(
            lambda: (
                "gold"
                in httpx.get(f"{urls['pushwoosh']}/_swoosh/tags", params={"user_id": "ci-user"}, headers=CONTROL).text
            ),
            "the identify's trait as a Pushwoosh tag",
        )
        print(f"identify became a Pushwoosh tag: {tags}")
        api = f"{urls['pushwoosh']}/json/1.3"
        register = {"application": app, "hwid": "ci-phone", "device_type": 1, "userId": "ci-user", "push_token": "t"}
        httpx.post(f"{api}/registerDevice", json={"request": register}).raise_for_status()
        message = {
            "auth": token,
            "application": app,
            "notifications": [{"send_date": "now", "content": "hello", "campaign": "CI", "devices": ["ci-phone"]}],
        }
        reply = httpx.post(f"{api}/createMessage", json={"request": message}).json()
        assert reply["status_code"] == 200, reply
        rows = eventually(
            lambda: sql(urls["segment"], "select user_id, campaign_code from pushwoosh.push_sent"),
            "the push's message events in the warehouse",
        )
        print(f"message events in the warehouse: {rows}")
        print(f"stopped in {stop(name):.1f} s")
        name, urls = start(image, volume, config_dir)
        eventually(lambda: healthy(urls), "the health after a restart")
        again = eventually(
            lambda: sql(urls["segment"], "select user_id from pushwoosh.push_sent"), "the first run's events"
        )
        print(f"after a restart on the same volume the warehouse still has {again}")
        events = httpx.get(f"{urls['segment']}/_swoosh/events", params={"userId": "ci-user"}, headers=CONTROL).json()
        assert events.get("count", 0) >= 1, json.dumps(events)[:500]
        print(f"stopped in {stop(name):.1f} s")
    finally:
        for leftover in podman(
            "ps", "-a", "--filter", "name=swoosh-ci-", "--format", "{{.Names}}", check=False
        ).split():
            podman("rm", "-f", leftover, check=False)
        podman("volume", "rm", "-f", volume, check=False)
        shutil.rmtree(config_dir, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1])
