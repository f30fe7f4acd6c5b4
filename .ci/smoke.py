"""Smoke test of an installed swoosh (run by .ci/package-smoke in a fresh venv, outside the checkout).

Starts `swoosh up` as a user would, sends an identify with the official Segment SDK, waits for the
trait to become a Pushwoosh tag, then stops the stack with SIGTERM and checks it ended promptly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import segment.analytics as sa


def main() -> int:
    data = Path(tempfile.mkdtemp(prefix="swoosh-smoke-"))
    env = {**os.environ, "XDG_RUNTIME_DIR": str(data / "run")}
    up = subprocess.Popen(
        ["swoosh", "up", "--data-dir", str(data / "state")], env=env, stdout=subprocess.PIPE, text=True
    )
    locator = data / "state" / "stack.json"
    deadline = time.monotonic() + 60
    while not locator.exists():
        if up.poll() is not None or time.monotonic() > deadline:
            print("swoosh up did not start", file=sys.stderr)
            return 1
        time.sleep(0.2)
    services = json.loads(locator.read_text())["services"]
    try:
        client = sa.Client(
            services["segment"]["sources"][0]["write_key"], host=services["segment"]["url"], sync_mode=True
        )
        client.identify("smoke-user", {"plan": "gold"})
        client.flush()
        tags_url = f"{services['pushwoosh']['url']}/_swoosh/tags"
        while time.monotonic() < deadline:
            if "gold" in httpx.get(tags_url, params={"user_id": "smoke-user"}).text:
                print("identify became a Pushwoosh tag")
                break
            time.sleep(0.2)
        else:
            print("the trait never became a Pushwoosh tag", file=sys.stderr)
            return 1
        inspector = services["inspector"]["url"]  # its templates and static files come with the wheel
        live, style = httpx.get(f"{inspector}/live"), httpx.get(f"{inspector}/static/inspector.css")
        if live.status_code != 200 or "smoke-user" not in live.text or style.status_code != 200:
            print(f"the inspector did not serve its pages: {live.status_code} {style.status_code}", file=sys.stderr)
            return 1
        print("the inspector shows the identify")
    finally:
        started = time.monotonic()
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=30)
    took = time.monotonic() - started
    print(f"swoosh up stopped with {code} in {took:.1f} s")
    return 0 if code == 0 and took < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
