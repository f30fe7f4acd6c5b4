"""Screenshots of every inspector page, from a seeded stack, into docs/img/ (README and docs/inspector.md).

Starts a stack in this process, sends traffic with the official SDK (identifies, tracks, a page view, a
refused event, a duplicate, an anonymous event the bridge skips, a dead letter from a fault on the fake
Pushwoosh), lets the bridge settle, then opens each page the navigation lists in Debian's Chromium
(Playwright, headless) and saves `docs/img/inspector-<page>.png`, plus one message's detail.

    python scripts/inspector_screenshots.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from pathlib import Path

import httpx
import segment.analytics as analytics
from playwright.sync_api import sync_playwright

from swoosh.bridge.client import BridgeClient
from swoosh.emulator.options import StackOptions
from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.emulator.segment.client import SegmentClient
from swoosh.stack import Stack

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 860}


def seed(stack: Stack) -> None:
    segment = SegmentClient(stack.urls["segment"])
    pushwoosh, bridge = PushwooshClient(stack.urls["pushwoosh"]), BridgeClient(stack.urls["bridge"])
    key = segment.write_key()
    sdk = analytics.Client(write_key=key, host=stack.urls["segment"], sync_mode=True)
    users = ["ada", "grace", "linus", "margaret"]
    for number, user in enumerate(users):
        sdk.identify(user, {"plan": "pro" if number % 2 else "free", "country": "DE", "searched_product": "shoes"})
        sdk.track(user, "Product Viewed", {"sku": f"SKU-{number}", "price": 40 + number})
        sdk.page(user, "Shop", "Home", {"path": "/"})
    sdk.track("ada", "Order Completed", {"total": 129.9, "currency": "EUR"})
    sdk.track(anonymous_id="anon-7f3c", event="Cart Viewed")  # the bridge skips it: no userId
    sdk.track("grace", "Order Completed", {"total": 59}, message_id="order-grace-1")
    sdk.track("grace", "Order Completed", {"total": 59}, message_id="order-grace-1")  # a duplicate
    httpx.post(f"{stack.urls['segment']}/v1/track", auth=(key, ""), json={"userId": "linus"})  # no event: bad
    push_to_ada(stack, pushwoosh)
    pushwoosh.faults.add(status=400, times=1, path="/integration")
    sdk.identify("margaret", {"plan": "enterprise"})
    deadline = time.monotonic() + 15
    while not (bridge.dead_letters() and pushwoosh.inbox("ada-phone")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)  # the bridge's counters and chart settle


def push_to_ada(stack: Stack, pushwoosh: PushwooshClient) -> None:
    """A device for ada and a personalised push to her (her `searched_product` tag, set by the bridge)."""
    deadline = time.monotonic() + 15
    while "searched_product" not in pushwoosh.tags(user_id="ada") and time.monotonic() < deadline:
        time.sleep(0.1)
    api = f"{stack.urls['pushwoosh']}/json/1.3"
    device = {"application": pushwoosh.app_code, "hwid": "ada-phone", "device_type": 1, "userId": "ada"}
    httpx.post(f"{api}/registerDevice", json={"request": device})
    content = "Still looking for {searched_product|CapitalizeFirst|}? 10% off today"
    message = {"auth": pushwoosh.api_token, "devices_filter": f'A("{pushwoosh.app_code}")', "send_date": "now"}
    httpx.post(f"{api}/createTargetedMessage", json={"request": {**message, "content": content, "campaign": "PROMO"}})


def shoot(stack: Stack, out: Path) -> list[Path]:
    base = stack.urls["inspector"]
    saved: list[Path] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{base}/")
        links = page.locator("header nav a")
        targets = [(links.nth(i).inner_text(), links.nth(i).get_attribute("href") or "") for i in range(links.count())]
        for title, href in targets:
            page.goto(f"{base}{href}")
            if page.locator("#live-state").count():
                page.locator("#live-state").filter(has_text=re.compile("^live$")).wait_for()
            else:
                page.wait_for_load_state("networkidle")
            path = out / f"inspector-{re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')}.png"
            page.screenshot(path=str(path), full_page=True)
            saved.append(path)
        page.goto(f"{base}/live?type=track&event=Order+Completed&status=good")
        page.locator("#live-rows tr a").first.click()
        page.wait_for_load_state("load")
        saved.append(out / "inspector-live-message.png")
        page.screenshot(path=str(saved[-1]), full_page=True)
        identify = SegmentClient(stack.urls["segment"]).events(userId="ada", type="identify")[0]
        code = PushwooshClient(stack.urls["pushwoosh"]).messages()[-1]["code"]
        for name, where in (
            ("trace-identify", f"/trace?id={identify['message']['messageId']}"),
            ("trace-push", f"/trace?id={code}"),
            ("pushwoosh-inbox", "/pushwoosh/device/ada-phone"),
            ("pushwoosh-message", f"/pushwoosh/message/{code}"),
        ):
            page.goto(f"{base}{where}")
            saved.append(out / f"inspector-{name}.png")
            page.screenshot(path=str(saved[-1]), full_page=True)
        browser.close()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "img")
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        print("Debian's chromium is needed: apt-get install chromium", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with Stack(StackOptions()) as stack:  # before Playwright's driver: both run an event loop
        seed(stack)
        for path in shoot(stack, args.out):
            print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
