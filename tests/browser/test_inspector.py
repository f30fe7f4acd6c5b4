"""The inspector in Debian's Chromium: Live updates without a reload, filters, Replay, Control's faults,
keyboard, labels and landmarks, a narrow window. Any console error fails the test (conftest `page`).

The stack is the pytest plugin's (started before Playwright's driver, as conftest explains); events are
sent with the official SDK, segment-analytics-python.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
import segment.analytics as analytics
from playwright.sync_api import Page, expect

from swoosh.emulator.pytest_plugin import StackView

TIMEOUT_MS = 15_000


def sdk(stack: StackView) -> analytics.Client:
    return analytics.Client(write_key=stack.segment.write_key, host=stack.segment.url, sync_mode=True)


def inspector(stack: StackView) -> str:
    assert stack.inspector_url, "the plugin's stack serves the inspector"
    return stack.inspector_url


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def assert_labelled_and_fitting(page: Page, path: str) -> None:
    """Every input of the open page has a label, and the page does not scroll sideways."""
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
             .map(el => el.name)"""
    )
    assert unlabelled == [], f"{path}: inputs without a label: {unlabelled}"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    width = page.viewport_size["width"] if page.viewport_size else "?"
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px wide"


def open_live(page: Page, stack: StackView, query: str = "") -> None:
    page.goto(f"{inspector(stack)}/live{query}")
    expect(page.locator("#live-state")).to_have_text("live", timeout=TIMEOUT_MS)


def test_sdk_events_appear_in_live_without_a_reload(page: Page, swoosh_stack: StackView) -> None:
    open_live(page, swoosh_stack)
    rows = page.locator("#live-rows tr")
    expect(rows).to_have_count(0)
    page.evaluate("window.__same_document = true")
    client = sdk(swoosh_stack)
    client.identify("browser-user", {"plan": "pro"})
    client.track("browser-user", "Order Completed", {"total": 30})
    expect(rows).to_have_count(2, timeout=TIMEOUT_MS)
    expect(rows.first).to_contain_text("Order Completed")  # newest first
    expect(rows.first).to_contain_text("good")
    expect(rows.nth(1)).to_contain_text("identify")
    assert page.evaluate("window.__same_document") is True  # no reload happened
    assert page.locator("#live-rows").get_attribute("aria-live") == "polite"
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", name="As enriched")).to_be_visible()
    expect(page.get_by_role("heading", name="Warehouse")).to_be_visible()
    expect(page.get_by_text(re.compile(r"app\.order_completed"))).to_be_visible()


def test_a_filter_narrows_the_rows_and_the_live_updates(page: Page, swoosh_stack: StackView) -> None:
    client = sdk(swoosh_stack)
    client.track("u1", "Product Viewed")
    client.track("u2", "Order Completed")
    open_live(page, swoosh_stack)
    expect(page.locator("#live-rows tr")).to_have_count(2)
    page.get_by_label("Event name").fill("Order Completed")
    page.get_by_label("Event name").press("Enter")  # the form submits by keyboard
    expect(page.locator("#live-state")).to_have_text("live", timeout=TIMEOUT_MS)
    rows = page.locator("#live-rows tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("u2")
    client.track("u3", "Product Viewed")  # filtered out of the stream too
    client.track("u4", "Order Completed")
    expect(rows).to_have_count(2, timeout=TIMEOUT_MS)
    expect(rows.first).to_contain_text("u4")
    assert "Product Viewed" not in page.locator("#live-rows").inner_text()


def test_a_dead_letter_replayed_with_the_button_is_delivered(page: Page, swoosh_stack: StackView) -> None:
    swoosh_stack.pushwoosh.client.faults.add(status=400, times=1, path="/integration")
    sdk(swoosh_stack).identify("replayed-user", {"tier": "gold"})
    eventually(lambda: bool(swoosh_stack.bridge.dead_letters()))
    [dead] = swoosh_stack.bridge.dead_letters()
    page.goto(f"{inspector(swoosh_stack)}/bridge")
    expect(page.get_by_role("heading", name="Dead letters")).to_be_visible()
    expect(page.get_by_text("swoosh fault rule")).to_be_visible()
    page.get_by_role("button", name=f"Replay dead letter {dead['id']}").click()
    expect(page.get_by_role("status")).to_contain_text("1 queued again")
    eventually(lambda: swoosh_stack.pushwoosh.tags(user_id="replayed-user").get("tier") == "gold")
    expect(page.get_by_text("No dead letters.")).to_be_visible(timeout=TIMEOUT_MS)  # the page reloads itself


def test_a_fault_added_in_control_changes_what_the_next_request_gets(page: Page, swoosh_stack: StackView) -> None:
    page.goto(f"{inspector(swoosh_stack)}/control")
    form = page.get_by_role("form", name="Add a fault rule to segment")
    form.get_by_label("Path (regex)").fill("/v1/track")
    form.get_by_label("Status").fill("503")
    form.get_by_label("Times").fill("1")
    form.get_by_role("button", name="Add rule").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("added to segment")
    track = {"userId": "u", "event": "E"}
    url = f"{swoosh_stack.segment.url}/v1/track"
    first = httpx.post(url, auth=(swoosh_stack.segment.write_key, ""), json=track)
    second = httpx.post(url, auth=(swoosh_stack.segment.write_key, ""), json=track)
    assert (first.status_code, second.status_code) == (503, 200)
    [rule] = swoosh_stack.segment.client.faults.list()  # ids count on across the session's resets
    remove = page.get_by_role("button", name=f"Remove fault rule {rule['id']} of segment")
    expect(remove).to_be_visible(timeout=TIMEOUT_MS)  # the page reloaded itself with the new rule
    remove.click()
    expect(page.get_by_role("status")).to_contain_text("removed from segment")
    assert swoosh_stack.segment.client.faults.list() == []


def test_keyboard_landmarks_labels_and_a_narrow_window(page: Page, swoosh_stack: StackView) -> None:
    sdk(swoosh_stack).track("narrow-user", "A rather long event name that has to wrap somewhere")
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/live", "/bridge", "/control"):
        page.goto(f"{inspector(swoosh_stack)}{path}")
        expect(page.get_by_role("main")).to_have_count(1)
        expect(page.get_by_role("navigation", name="Inspector pages")).to_be_visible()
        assert_labelled_and_fitting(page, path)
    page.goto(f"{inspector(swoosh_stack)}/live")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    page.goto(f"{inspector(swoosh_stack)}/live")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # Live, then the second page of the navigation
    second = page.locator("header nav a").nth(1).get_attribute("href") or ""
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(second) + "$"))
