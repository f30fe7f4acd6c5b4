"""Web push end to end: browsers registered with their push subscriptions receive a targeted push into
their inboxes, read it the Web SDK's way, and the message events reach Segment through the bridge."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from swoosh.emulator.segment.client import SegmentClient
from swoosh.stack import Stack
from tests import stacks

APP, TOKEN = "ABCDE-12345", "KEY123"
BROWSERS = {10: "Safari", 11: "Chrome", 12: "Firefox"}


@pytest.fixture
def stack(tmp_path: Path, pytestconfig: pytest.Config) -> Iterator[Stack]:
    with Stack(stacks.options(pytestconfig, data_dir=tmp_path)) as running:
        yield running


def _call(url: str, method: str, **request: Any) -> Any:
    reply = httpx.post(f"{url}/json/1.3/{method}", json={"request": request}, timeout=10).json()
    assert reply["status_code"] == 200, (method, reply)
    return reply["response"]


def test_browsers_receive_a_targeted_push_and_its_events_reach_segment(stack: Stack) -> None:
    url = stack.urls["pushwoosh"]
    for device_type in BROWSERS:
        _call(
            url,
            "registerDevice",
            application=APP,
            hwid=f"browser-{device_type}",
            device_type=device_type,
            userId=f"web-user-{device_type}",
            push_token=f"https://push.example/send/{device_type}",
            public_key="BPk3c3Vic2NyaXB0aW9u",
            auth_token="YXV0aA",
        )
    _call(url, "registerDevice", application=APP, hwid="phone", device_type=3, userId="someone-else", push_token="fcm")
    targeted = [f"web-user-{t}" for t in BROWSERS]
    notification = {"content": "Back in stock", "title": "Shoes", "campaign": "WEB-1", "users": targeted}
    code = _call(url, "createMessage", application=APP, auth=TOKEN, notifications=[notification])["Messages"][0]

    for device_type in BROWSERS:
        inbox = _call(url, "getInboxMessages", application=APP, hwid=f"browser-{device_type}", count=0, last_code="")
        assert [(m["inbox_id"], m["title"], m["text"], m["status"]) for m in inbox["messages"]] == [
            (code, "Shoes", "Back in stock", 1)
        ]
    assert _call(url, "getInboxMessages", application=APP, hwid="phone", count=0, last_code="")["messages"] == []

    segment = SegmentClient(stack.urls["segment"])
    segment.wait_for_events(6, timeout=20, source="pushwoosh")
    sent = segment.sql("select user_id, device_type, campaign_code from pushwoosh.push_sent order by user_id")
    assert sent == [
        {"user_id": f"web-user-{t}", "device_type": name, "campaign_code": "WEB-1"} for t, name in BROWSERS.items()
    ]
    assert len(segment.sql("select id from pushwoosh.push_delivered")) == 3
