"""The inspector's Pushwoosh page against a running stack: lists paged by the fake, a message's
statistics and per-device content, a device's inbox drawn as notifications."""

from __future__ import annotations

import re

import httpx

from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.inspector.pages.pushwoosh import PAGE_SIZE
from swoosh.stack import Stack

APP, TOKEN = "ABCDE-12345", "KEY123"
DEVICE_LINK = re.compile(r'href="/pushwoosh/device/([^"]+)"')


def pushwoosh_call(stack: Stack, method: str, **request: object) -> dict:
    answer = httpx.post(f"{stack.urls['pushwoosh']}/json/1.3/{method}", json={"request": request}).json()
    assert answer["status_code"] == 200, answer
    return answer


def define_tags(stack: Stack, *names: str) -> None:
    for name in names:  # string tags, as Pushwoosh's control panel would have them
        pushwoosh_call(stack, "addTag", auth=TOKEN, tag={"name": name, "type": 2})


def register(stack: Stack, hwid: str, user: str | None = None, **tags: str) -> None:
    pushwoosh_call(
        stack, "registerDevice", application=APP, hwid=hwid, device_type=3, push_token=f"tok-{hwid}", userId=user
    )
    if tags:
        pushwoosh_call(stack, "setTags", application=APP, hwid=hwid, tags=tags)


def test_devices_are_paged_newest_first_with_their_tags_and_filtered(stack: Stack, inspector: httpx.Client) -> None:
    define_tags(stack, "level")
    for n in range(PAGE_SIZE + 5):
        register(stack, f"pg-{n:02d}", user=f"user-{n % 3}", level=str(n))
    first = inspector.get("/pushwoosh")
    assert first.status_code == 200
    shown = DEVICE_LINK.findall(first.text)
    assert shown == [f"pg-{n:02d}" for n in range(PAGE_SIZE + 4, 4, -1)]
    assert "level: 29" in first.text and "tok-pg-29" in first.text and ">Older</a>" in first.text
    second = inspector.get("/pushwoosh", params={"view": "devices", "page": 1})
    assert DEVICE_LINK.findall(second.text) == ["pg-04", "pg-03", "pg-02", "pg-01", "pg-00"]
    assert ">Newer</a>" in second.text and ">Older</a>" not in second.text
    narrowed = inspector.get("/pushwoosh", params={"view": "devices", "user_id": "user-1"})
    assert len(DEVICE_LINK.findall(narrowed.text)) == 10
    users = inspector.get("/pushwoosh", params={"view": "users"}).text
    assert all(f"<td>user-{n}</td>" in users for n in range(3))
    assert inspector.get("/pushwoosh", params={"page": "x"}).status_code == 400
    assert inspector.get("/pushwoosh", params={"view": "nope"}).status_code == 404


def test_a_personalised_push_shows_its_statistics_per_device_content_and_the_inbox(
    stack: Stack, inspector: httpx.Client
) -> None:
    define_tags(stack, "first_name")
    register(stack, "phone-a", user="ann", first_name="ann")
    register(stack, "phone-b", user="bob", first_name="bob")
    reply = pushwoosh_call(
        stack,
        "createMessage",
        auth=TOKEN,
        application=APP,
        notifications=[{"send_date": "now", "content": "Hi {first_name|CapitalizeFirst|friend}!", "campaign": "HELLO"}],
    )
    code = reply["response"]["Messages"][0]
    PushwooshClient(stack.urls["pushwoosh"]).wait("deliveries", count=2, message_code=code)
    listed = inspector.get("/pushwoosh", params={"view": "messages"}).text
    assert f"/pushwoosh/message/{code}" in listed and "HELLO" in listed
    detail = inspector.get(f"/pushwoosh/message/{code}").text
    assert "Hi Ann!" in detail and "Hi Bob!" in detail and "{first_name|CapitalizeFirst|friend}" in detail
    assert re.search(r'<span class="stat">2</span> Push Sent', detail)
    inbox = inspector.get("/pushwoosh/device/phone-a").text
    assert '<li class="notification unread">' in inbox and "Hi Ann!" in inbox and "Hi Bob!" not in inbox
    assert "first_name: ann" in inbox
    assert inspector.get("/pushwoosh/device/no-such-phone").status_code == 404
    events = inspector.get("/pushwoosh", params={"view": "applications"}).text
    assert APP in events
