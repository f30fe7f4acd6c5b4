"""The inspector's Trace and Pushwoosh pages in Debian's Chromium: an identify traced across every hop, a
push traced back into Segment's warehouse, a personalised push in a device's inbox. Any console error
fails the test (conftest `page`); the stack is the pytest plugin's, started before Playwright's driver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from swoosh.emulator.pytest_plugin import StackView
from tests.browser.test_inspector import TIMEOUT_MS, assert_labelled_and_fitting, eventually, inspector, sdk
from tests.inspector.test_trace import IDENTIFY_HOPS


def pushwoosh_call(stack: StackView, method: str, **request: Any) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.post(f"{stack.pushwoosh.url}/json/1.3/{method}", json={"request": request}).json()
    assert answer["status_code"] == 200, answer
    return answer


def targeted_push(stack: StackView, devices_filter: str, content: str) -> str:
    """A push in campaign PROMO to the devices the filter selects, sent now; its message code."""
    reply = pushwoosh_call(
        stack,
        "createTargetedMessage",
        auth=stack.pushwoosh.api_token,
        devices_filter=devices_filter,
        send_date="now",
        content=content,
        campaign="PROMO",
    )
    return str(reply["response"]["messageCode"])


def search(page: Page, stack: StackView, wanted: str) -> None:
    """Type the id into the Trace page's search and submit it by keyboard, as a person would."""
    page.goto(f"{inspector(stack)}/trace")
    field = page.get_by_label("messageId, push message code or userId")
    field.fill(wanted)
    field.press("Enter")


def trace_complete(stack: StackView, wanted: str, steps: int) -> Callable[[], bool]:
    def check() -> bool:
        answer = httpx.get(f"{inspector(stack)}/_swoosh/trace/{wanted}")
        chains = answer.json().get("chains", []) if answer.status_code == 200 else []
        return all(len([h for h in c["hops"] if h["status"] == "ok"]) >= steps for c in chains[1:] or chains)

    return check


def test_the_trace_of_an_identify_shows_every_hop(page: Page, swoosh_stack: StackView) -> None:
    client = sdk(swoosh_stack)
    client.identify("traced-user", {"searched_product": "sports shoes"})
    client.flush()
    [event] = swoosh_stack.segment.client.events(userId="traced-user")
    mid = event["message"]["messageId"]
    eventually(trace_complete(swoosh_stack, mid, 7))  # received ... tags set, warehouse row
    search(page, swoosh_stack, mid)
    hops = page.locator("li.hop")
    expect(hops).to_have_count(len(IDENTIFY_HOPS))
    for index, (service, step) in enumerate(IDENTIFY_HOPS):
        expect(hops.nth(index).locator(".service")).to_have_text(service)
        expect(hops.nth(index).locator(".step")).to_have_text(step)
        expect(hops.nth(index).locator(".badge")).to_have_text("ok")
    expect(hops.first.locator(".offset")).to_have_text("+0.0 ms")
    expect(hops.nth(3).locator(".took")).to_contain_text(" ms")
    expect(hops.nth(5)).to_contain_text('searched_product="sports shoes"')
    # a hop's request and reply open by keyboard
    details = hops.nth(3).locator("details")
    details.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(details.locator("pre").first).to_contain_text('"user_id": "traced-user"')
    expect(details.locator("pre").nth(1)).to_contain_text('"result": "delivered"')


def test_the_trace_of_a_push_shows_the_message_events_back_in_the_warehouse(
    page: Page, swoosh_stack: StackView
) -> None:
    client = sdk(swoosh_stack)
    client.track("push-user", "SubscribedToOffers", {"plan": "gold"})
    client.flush()
    app = swoosh_stack.pushwoosh.app_code
    pushwoosh_call(
        swoosh_stack, "registerDevice", application=app, hwid="push-phone", device_type=1, userId="push-user"
    )
    eventually(lambda: bool(swoosh_stack.pushwoosh.client.events(name="SubscribedToOffers")))
    code = targeted_push(swoosh_stack, f'A("{app}") * E("SubscribedToOffers")', "Your offer is ready")
    eventually(trace_complete(swoosh_stack, code, 5))  # each message event: Pushwoosh, bridge x2, Segment, warehouse
    search(page, swoosh_stack, code)
    chains = page.locator("section.chain")
    expect(chains).to_have_count(3)
    expect(chains.first.get_by_role("heading")).to_have_text(f"push {code} (campaign PROMO)")
    expect(chains.first).to_contain_text("push to push-phone")
    for index, event in ((1, "Push Sent"), (2, "Push Delivered")):
        chain = chains.nth(index)
        expect(chain.get_by_role("heading")).to_have_text(f"{event} for push-phone")
        steps = chain.locator(".step")
        expect(steps).to_have_text([event, "accepted", "sent to Segment /v1/batch", "received", "warehouse row"])
        table = "pushwoosh.push_sent" if event == "Push Sent" else "pushwoosh.push_delivered"
        expect(chain.locator("li.hop").last).to_contain_text(table)
    # the message event's own messageId leads to the same chain
    chains.nth(1).locator("p.hint a").click()
    expect(page.locator("section.chain")).to_have_count(1)
    expect(page.locator("section.chain .step").last).to_have_text("warehouse row", timeout=TIMEOUT_MS)


def test_the_pushwoosh_page_shows_a_personalised_push_in_a_devices_inbox(page: Page, swoosh_stack: StackView) -> None:
    client = sdk(swoosh_stack)
    client.identify("inbox-user", {"searched_product": "sports shoes"})  # the bridge makes the trait a tag
    client.flush()
    eventually(lambda: swoosh_stack.pushwoosh.tags(user_id="inbox-user").get("searched_product") == "sports shoes")
    app = swoosh_stack.pushwoosh.app_code
    pushwoosh_call(
        swoosh_stack, "registerDevice", application=app, hwid="inbox-phone", device_type=3, userId="inbox-user"
    )
    code = targeted_push(swoosh_stack, f'A("{app}")', "10% off {searched_product|CapitalizeFirst|}!")
    eventually(lambda: bool(swoosh_stack.pushwoosh.client.inbox("inbox-phone")))
    page.goto(f"{inspector(swoosh_stack)}/pushwoosh")
    expect(page.get_by_role("navigation", name="Pushwoosh data")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="inbox-phone")
    expect(row).to_contain_text("inbox-user")
    expect(row).to_contain_text("searched_product: sports shoes")  # the user's tag, seen on the device
    row.get_by_role("link", name="inbox-phone").click()
    notification = page.locator("li.notification")
    expect(notification).to_have_count(1)
    expect(notification.locator(".notification-text")).to_have_text("10% off Sports shoes!")
    expect(notification).to_contain_text("campaign PROMO")
    expect(notification.locator(".unread-dot")).to_be_visible()
    notification.get_by_role("link", name=f"message {code}").click()
    expect(page.get_by_role("heading", name=f"Message {code}")).to_be_visible()
    expect(page.get_by_role("cell", name="10% off Sports shoes!")).to_be_visible()
    expect(page.get_by_text("{searched_product|CapitalizeFirst|}")).to_be_visible()  # the template beside it


def test_trace_and_pushwoosh_pages_are_labelled_and_fit_a_narrow_window(page: Page, swoosh_stack: StackView) -> None:
    client = sdk(swoosh_stack)
    client.identify("narrow-trace-user-with-a-long-identifier", {"a_rather_long_trait_name": "and a long value too"})
    client.flush()
    app = swoosh_stack.pushwoosh.app_code
    pushwoosh_call(
        swoosh_stack, "registerDevice", application=app, hwid="narrow-phone", device_type=3, push_token="t" * 64
    )
    page.set_viewport_size({"width": 360, "height": 740})
    paths = [
        "/trace?id=narrow-trace-user-with-a-long-identifier",
        *(f"/pushwoosh?view={view}" for view in ("devices", "users", "events", "messages", "applications")),
        "/pushwoosh/device/narrow-phone",
    ]
    for path in paths:
        page.goto(f"{inspector(swoosh_stack)}{path}")
        expect(page.get_by_role("main")).to_have_count(1)
        assert_labelled_and_fitting(page, path)
