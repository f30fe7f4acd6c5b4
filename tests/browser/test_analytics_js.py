"""Segment's browser SDK (@segment/analytics-next, installed with npm and bundled) against the fake Segment.

The page comes from its own loopback origin; the fake is another. Every call the SDK makes is a
cross-origin request, so what the SDK sees of an answer (a fault's status, a 429's Retry-After) is
only what the fake's CORS headers let the browser read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from swoosh.emulator.pytest_plugin import SegmentView, StackView
from swoosh.snippets import snippets
from tests.browser.browser_kit import PageServer, bundle
from tests.browser.conftest import ConsoleWatch

SDK = {"@segment/analytics-next": "1.84"}
HTML = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>swoosh shop</title>
<link rel="icon" href="data:,"><script src="/app.js"></script></head>
<body><h1>swoosh shop</h1></body></html>"""
BATCHING = {"deliveryStrategy": {"strategy": "batching", "config": {"size": 3, "timeout": 60_000}}}
KEEPALIVE = {"deliveryStrategy": {"strategy": "standard", "config": {"keepalive": True}}}


@pytest.fixture(scope="session")
def app_script(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], bytes]:
    """The page's script for a fake at a given URL: the SDK bundled with the app module as a dev build."""
    built: dict[str, bytes] = {}

    def script(segment_url: str) -> bytes:
        if segment_url not in built:
            out = tmp_path_factory.mktemp("bundle") / "app.js"
            defines = {"process.env.SWOOSH_SEGMENT_URL": segment_url}
            built[segment_url] = bundle(SDK, "analytics_page.js", defines, out).read_bytes()
        return built[segment_url]

    return script


@pytest.fixture
def shop(page: Page, segment_emulator: SegmentView, app_script: Callable[[str], bytes]) -> Iterator[Shop]:
    with PageServer({"/": (HTML, "text/html"), "/app.js": (app_script(segment_emulator.url), "text/javascript")}) as s:
        yield Shop(page, segment_emulator, s.origin)


class Shop:
    """The test page with analytics.js loaded; `call` runs an SDK method and waits for its promise."""

    def __init__(self, page: Page, segment: SegmentView, origin: str) -> None:
        self.page = page
        self.segment = segment
        self.origin = origin

    def open(self, segment_io: dict[str, Any] | None = None) -> Shop:
        self.page.goto(self.origin + "/")
        self.page.evaluate(
            "async ([key, options]) => { window.analytics = loadAnalytics(key, options); await analytics.ready() }",
            [self.segment.write_key, segment_io or {}],
        )
        return self

    def call(self, method: str, *args: Any) -> Any:
        return self.page.evaluate(
            "async ([method, args]) => { const ctx = await analytics[method](...args); return ctx.event }",
            [method, list(args)],
        )

    def fire(self, method: str, *args: Any) -> None:
        """Start an SDK call without waiting for it (as an app does right before the user leaves)."""
        self.page.evaluate("([method, args]) => { analytics[method](...args) }", [method, list(args)])

    def fetch(self, path: str, body: str) -> dict[str, Any]:
        """What a script on the page can read of the fake's answer to a POST: status and Retry-After,
        or the TypeError a browser raises for an answer it may not read (or a dropped connection)."""
        return self.page.evaluate(
            """async ([url, body]) => {
                 try {
                   const res = await fetch(url, { method: "POST", body, headers: { "Content-Type": "text/plain" } })
                   return { status: res.status, retryAfter: res.headers.get("Retry-After"), body: await res.text() }
                 } catch (error) { return { error: String(error) } }
               }""",
            [self.segment.url + path, body],
        )

    def requests(self, path: str) -> list[dict[str, Any]]:
        """The POSTs the fake received on `path` (preflights left out), oldest first."""
        return self.segment.client.journal(path=path, method="POST")


def test_page_identify_track_group_alias_arrive_as_the_sdk_sent_them(shop: Shop) -> None:
    shop.open()
    shop.call("page", "Shop", "Home", {"path": "/"})
    sent = shop.call("identify", "user-7", {"email": "ada@example.com", "plan": "pro"})
    shop.call("track", "Product Viewed", {"sku": "shoe-1", "price": 59.5})
    shop.call("group", "acme", {"employees": 40})
    aliased = shop.call("alias", "user-7-new", "user-7")

    track = shop.segment.assert_tracked("Product Viewed", user_id="user-7", properties={"sku": "shoe-1"})
    assert track["context"]["library"]["name"] == "analytics.js"
    assert track["context"]["page"]["url"].startswith(shop.origin)
    assert track["context"]["ip"] == "127.0.0.1"  # filled in from the connection, as for client-side libraries
    identify = shop.segment.wait_for({"type": "identify", "userId": "user-7"})[0]
    assert identify["message"]["messageId"] == sent["messageId"]
    assert identify["message"]["traits"] == {"email": "ada@example.com", "plan": "pro"}
    page_call = shop.segment.wait_for({"type": "page"})[0]["message"]
    assert (page_call["category"], page_call["name"]) == ("Shop", "Home")
    assert shop.segment.wait_for({"type": "group"})[0]["message"]["traits"] == {"employees": 40}
    alias = shop.segment.wait_for({"type": "alias"})[0]["message"]
    assert (alias["messageId"], alias["previousId"]) == (aliased["messageId"], "user-7")
    assert {e["path"] for e in shop.requests("/v1/")} >= {"/v1/p", "/v1/i", "/v1/t", "/v1/g", "/v1/a"}


def test_batching_delivers_one_request_to_v1_b(shop: Shop) -> None:
    shop.open(BATCHING)
    for n in range(3):
        shop.fire("track", "Batched", {"n": n})
    shop.segment.wait_for({"type": "track", "event": "Batched"}, count=3)
    batches = shop.requests("/v1/b")
    assert len(batches) == 1 and batches[0]["status"] == 200
    assert not shop.requests("/v1/t")


def test_keepalive_delivery_survives_leaving_the_page(shop: Shop) -> None:
    shop.open(KEEPALIVE)
    shop.segment.faults.add(delay_ms=1500, path="^/v1/t$")  # still in flight when the page is gone
    with shop.page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/v1/t")):
        shop.fire("track", "Left Quickly")
    shop.page.goto("about:blank")  # a keepalive fetch outlives the page that started it
    shop.segment.assert_tracked("Left Quickly", timeout=10)
    assert [e["status"] for e in shop.requests("/v1/t")] == [200]


def test_unload_flushes_the_waiting_batch(shop: Shop) -> None:
    shop.open(BATCHING)
    shop.fire("track", "Queued 1")
    shop.fire("track", "Queued 2")
    time.sleep(0.3)
    assert not shop.requests("/v1/b")  # below the batch size and long before its timeout: still queued
    shop.page.goto("about:blank")  # pagehide: the SDK flushes what is queued
    shop.segment.wait_for({"type": "track", "event": "Queued 2"}, timeout=10)
    shop.segment.assert_tracked("Queued 1")


def test_a_400_fault_reaches_the_sdk_as_a_400_and_the_call_is_dropped(shop: Shop, console: ConsoleWatch) -> None:
    console.expect(r"status of 400")
    shop.open()
    rule = shop.segment.faults.add(status=400, path="^/v1/t$", times=1)
    shop.call("track", "Refused")
    shop.call("track", "Accepted")
    shop.segment.assert_tracked("Accepted")
    assert [e["status"] for e in shop.requests("/v1/t")] == [400, 200]  # no retry: the SDK read a 400
    assert not shop.segment.messages(type="track", event="Refused")
    assert shop.segment.faults.list()[0]["fired"] == 1 and rule["id"]


def test_a_429_with_retry_after_is_waited_out_then_delivered(shop: Shop, console: ConsoleWatch) -> None:
    console.expect(r"status of 429")
    shop.open()
    shop.segment.faults.add(status=429, retry_after=3, path="^/v1/t$", times=1)
    shop.fire("track", "Rate Limited")
    shop.segment.assert_tracked("Rate Limited", timeout=15)
    attempts = shop.requests("/v1/t")
    assert [e["status"] for e in attempts] == [429, 200]
    gap = attempts[1]["at"] - attempts[0]["at"]
    assert gap >= 2.5, f"the SDK retried after {gap:.2f}s, not after the Retry-After of 3s"


def test_a_5xx_storm_is_retried_until_every_call_is_delivered_once(shop: Shop, console: ConsoleWatch) -> None:
    console.expect(r"status of 50[023]")
    shop.open()
    shop.segment.faults.add(status=503, path="^/v1/t$", probability=0.5, seed=21)
    shop.segment.faults.add(status=500, path="^/v1/t$", times=2)
    for n in range(8):
        shop.fire("track", "Stormy", {"n": n})
    shop.segment.wait_for({"type": "track", "event": "Stormy"}, count=8, timeout=30)
    statuses = [e["status"] for e in shop.requests("/v1/t")]
    assert statuses.count(200) == 8 and len(statuses) > 8
    assert sorted(m["properties"]["n"] for m in shop.segment.messages(event="Stormy")) == list(range(8))


def test_what_a_page_can_read_of_faults_and_errors_below_the_routes(shop: Shop, console: ConsoleWatch) -> None:
    console.expect(r"status of (400|404|429|503)|ERR_")
    shop.open()
    faults = shop.segment.faults
    faults.add(status=503, delay_ms=200, path="^/v1/t$", times=1)
    assert shop.fetch("/v1/t", "{}")["status"] == 503
    faults.add(status=429, retry_after=7, path="^/v1/t$", times=1)
    assert shop.fetch("/v1/t", "{}")["retryAfter"] == "7"
    assert shop.fetch("/v1/t", "{not json")["status"] == 400
    assert shop.fetch("/v1/b", "x" * 600_000)["status"] == 400  # above the batch limit
    assert shop.fetch("/nowhere", "{}")["status"] == 404  # answered below the routes
    rule = faults.add(drop=True, path="^/v1/t$")  # Chromium retries once what a reused connection dropped
    assert "Failed to fetch" in shop.fetch("/v1/t", "{}").get("error", "")  # a dropped connection stays dropped
    faults.remove(rule["id"])


def test_identify_traits_arrive_as_pushwoosh_tags(shop: Shop, swoosh_stack: StackView) -> None:
    shop.open()
    shop.call("identify", "browser-user-1", {"searched_product": "sports shoes"})
    pushwoosh = swoosh_stack.pushwoosh
    pushwoosh.wait_for(lambda: "sports shoes" in str(pushwoosh.tags(user_id="browser-user-1")), timeout=15)


@pytest.mark.slow
def test_a_session_past_the_metrics_flush_logs_no_console_error(shop: Shop) -> None:
    """analytics.js posts its usage counters to /v1/m every 30 s; a 404 there is a console error."""
    shop.open()
    shop.call("track", "Long Session")
    shop.segment.assert_tracked("Long Session")
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and shop.segment.client.call("GET", "/metrics")["posts"] == 0:
        shop.page.wait_for_timeout(500)
    metrics = shop.segment.client.call("GET", "/metrics")
    assert metrics["posts"] >= 1, "analytics.js posted no metrics within 45 s"
    assert any(c["metric"].startswith("analytics_js.") for c in metrics["counters"])
    assert all(e["status"] == 200 for e in shop.requests("/v1/m"))


def test_the_swoosh_env_snippet_delivers_from_a_page(page: Page, segment_emulator: SegmentView, tmp_path: Path) -> None:
    """`swoosh env --sdk analytics.js` pasted into a page module, bundled, run: its track arrives."""
    segment = {"url": segment_emulator.url, "sources": [{"write_key": segment_emulator.write_key}]}
    snippet = snippets({"services": {"segment": segment}})["analytics.js"]
    entry = {"env_snippet.js": f"{snippet}\nwindow.analytics = analytics\n"}
    script = bundle(SDK, "env_snippet.js", {}, tmp_path / "app.js", entry).read_bytes()
    with PageServer({"/": (HTML, "text/html"), "/app.js": (script, "text/javascript")}) as server:
        page.goto(server.origin + "/")
        page.evaluate("async () => { await analytics.track('From Env Snippet') }")
    segment_emulator.assert_tracked("From Env Snippet")


def test_docs_show_the_module_the_page_runs() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "point-your-app.md").read_text()
    module = (Path(__file__).parent / "pages" / "analytics.js").read_text()
    assert f"```js\n{module}```" in docs
