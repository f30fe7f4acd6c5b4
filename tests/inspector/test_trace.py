"""The trace against a running stack: collected from the services' control APIs, and `swoosh trace` in the terminal."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import segment.analytics as sa
from click.testing import CliRunner, Result

from swoosh.cli import main
from swoosh.inspector.hops import Trace
from swoosh.inspector.services import Services
from swoosh.inspector.trace import TraceNotFound, collect
from swoosh.stack import Stack, StackOptions

APP, TOKEN = "ABCDE-12345", "KEY123"
IDENTIFY_HOPS = [  # every hop of an identify, in order (the browser test checks the page shows them)
    ("segment", "received"),
    ("segment", "delivered to Pushwoosh"),
    ("bridge", "accepted"),
    ("bridge", "sent to Pushwoosh /integration-segment/v1/track-user"),
    ("pushwoosh", "received POST /integration-segment/v1/track-user"),
    ("pushwoosh", "tags set"),
    ("segment", "warehouse row"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as patch:  # the locator goes where only these tests look
        patch.setenv("XDG_RUNTIME_DIR", str(tmp_path_factory.mktemp("run")))
        patch.delenv("SWOOSH_DATA_DIR", raising=False)
        with Stack(StackOptions()) as running:
            yield running


@pytest.fixture
def services(stack: Stack) -> Iterator[Services]:
    found = Services.connect({k: v for k, v in stack.urls.items() if k != "inspector"})
    for client in (found.segment, found.pushwoosh, found.bridge):
        assert client is not None
        client.reset()
        client.faults.clear()
    yield found
    found.close()


def sdk(stack: Stack) -> sa.Client:
    return sa.Client("app-write-key", host=stack.urls["segment"], sync_mode=True)


def traced(services: Services, wanted: str, done: Callable[[Trace], bool], timeout: float = 15.0) -> Trace:
    """The trace once `done` holds (the loop is asynchronous: deliveries, retries, the warehouse load)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = collect(services, wanted)
            if done(found):
                return found
        except TraceNotFound:
            found = None
        if time.monotonic() > deadline:
            raise AssertionError(f"the trace of {wanted} did not complete: {found and found.to_dict()}")
        time.sleep(0.1)


def steps(found: Trace, chain: int = 0) -> list[tuple[str, str]]:
    return [(hop.service, hop.step) for hop in found.chains[chain].hops if hop.status == "ok"]


def identify(stack: Stack, user: str, traits: dict[str, str]) -> str:
    client = sdk(stack)
    client.identify(user, traits)
    client.flush()
    mid = str(
        httpx.get(f"{stack.urls['segment']}/_swoosh/events", params={"userId": user}).json()["items"][-1]["message"][
            "messageId"
        ]
    )
    return mid


def test_the_trace_of_an_identify_shows_every_hop_with_timings(stack: Stack, services: Services) -> None:
    mid = identify(stack, "trace-u1", {"searched_product": "sports shoes"})
    found = traced(
        services, mid, lambda t: ("segment", "warehouse row") in steps(t) and ("pushwoosh", "tags set") in steps(t)
    )
    assert found.kind == "message" and len(found.chains) == 1
    assert steps(found) == IDENTIFY_HOPS
    hops = found.to_dict()["chains"][0]["hops"]
    assert hops[0]["request"]["messageId"] == mid and hops[0]["request"]["writeKey"] == "<redacted>"
    sent, arrived = hops[3], hops[4]
    assert sent["request"] == {"attributes": {"searched_product": "sports shoes"}, "user_id": "trace-u1"}
    assert sent["duration_ms"] > 0 and arrived["duration_ms"] > 0
    assert 0 <= hops[1]["offset_ms"] <= sent["offset_ms"] <= arrived["offset_ms"]
    assert hops[1]["reply"]["bridge_answers"][0]["status"] == 200
    assert TOKEN not in json.dumps(found.to_dict())  # the API token of the integration requests is not shown


def test_a_refused_attempt_is_shown_then_the_retry_that_got_through(stack: Stack, services: Services) -> None:
    assert services.pushwoosh is not None
    services.pushwoosh.faults.add(status=503, times=1, path="/integration-segment/v1/track-user")
    mid = identify(stack, "trace-u2", {"plan": "gold"})
    found = traced(services, mid, lambda t: ("pushwoosh", "tags set") in steps(t))
    sends = [h for h in found.chains[0].hops if h.step.startswith(("sent to", "received POST"))]
    assert [(h.service, h.status) for h in sends] == [
        ("bridge", "retry"),
        ("pushwoosh", "failed"),
        ("bridge", "ok"),
        ("pushwoosh", "ok"),
    ]
    assert "attempt 1: 503" in sends[0].summary and "injected fault" in sends[1].summary
    assert "attempt 2: 200" in sends[2].summary


def push_to(stack: Stack, user: str) -> str:
    pushwoosh = stack.urls["pushwoosh"]
    client = sdk(stack)
    client.identify(user, {"searched_product": "sports shoes"})
    client.flush()
    device = {"application": APP, "hwid": f"{user}-phone", "device_type": 1, "userId": user, "push_token": "t"}
    httpx.post(f"{pushwoosh}/json/1.3/registerDevice", json={"request": device}).raise_for_status()
    services = Services.connect({k: v for k, v in stack.urls.items() if k != "inspector"})
    assert services.pushwoosh is not None
    deadline = time.monotonic() + 10
    while "searched_product" not in services.pushwoosh.tags(user_id=user) and time.monotonic() < deadline:
        time.sleep(0.05)
    request = {
        "auth": TOKEN,
        "devices_filter": f'A("{APP}") * T("searched_product", EQ, "sports shoes")',
        "send_date": "now",
        "content": "10% off {searched_product|CapitalizeFirst|}!",
        "campaign": "PROMO",
    }
    reply = httpx.post(f"{pushwoosh}/json/1.3/createTargetedMessage", json={"request": request}).json()
    services.close()
    return str(reply["response"]["messageCode"])


def test_the_trace_of_a_push_shows_each_message_event_back_in_the_warehouse(stack: Stack, services: Services) -> None:
    code = push_to(stack, "trace-u3")

    def complete(t: Trace) -> bool:
        backs = t.chains[1:]
        return len(backs) == 2 and all(("segment", "warehouse row") in steps(t, i + 1) for i in range(2))

    found = traced(services, code, complete)
    assert found.kind == "push"
    push = found.chains[0]
    assert [h.step for h in push.hops] == ["message created", "push to trace-u3-phone"]
    assert "10% off Sports shoes!" in push.hops[1].summary
    assert push.hops[0].request["request"]["auth"] == "<redacted>"
    assert {c.title for c in found.chains[1:]} == {"Push Sent for trace-u3-phone", "Push Delivered for trace-u3-phone"}
    for chain in found.chains[1:]:
        assert [h.service for h in chain.hops] == ["pushwoosh", "bridge", "bridge", "segment", "segment"]
        assert chain.subject.startswith("pw-")
        [row] = [r for r in chain.hops[-1].reply if r["table"].startswith("pushwoosh.push_")]
        assert row["id"] == chain.subject and row["user_id"] == "trace-u3"
    # one message event's own messageId traces the same chain
    again = collect(services, found.chains[1].subject)
    assert again.kind == "message" and [h.step for h in again.chains[0].hops] == [h.step for h in found.chains[1].hops]
    # and the user's trace holds the identify and the push with its message events
    user = collect(services, "trace-u3")
    assert user.kind == "user" and [c.title for c in user.chains][:2] == ["identify trace-u3", found.chains[0].title]
    assert len(user.chains) == 4


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_swoosh_trace_prints_the_timeline_or_json_and_one_error_line_for_an_unknown_id(
    stack: Stack, services: Services
) -> None:
    mid = identify(stack, "trace-u4", {"plan": "gold"})
    traced(services, mid, lambda t: ("pushwoosh", "tags set") in steps(t))
    text = run("trace", mid, "--stack", stack.id)
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0] == f"trace of message {mid}: 1 chain(s)"
    assert any(line.split()[:3] == ["+0.0", "ms", "segment"] for line in lines)
    assert any("tags set" in line and 'plan="gold"' in line for line in lines)
    assert any(line.strip().startswith("took ") for line in lines)
    as_json = json.loads(run("trace", mid, "--json").output)
    assert as_json["id"] == mid and as_json["chains"][0]["hops"][0]["service"] == "segment"
    unknown = run("trace", "no-such-id")
    assert unknown.exit_code == 1 and unknown.output.count("Error:") == 1
    assert (
        "no messageId, push message code or userId 'no-such-id'" in unknown.output and "Traceback" not in unknown.output
    )


def test_swoosh_trace_without_a_stack_is_one_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    result = run("trace", "anything")
    assert result.exit_code == 1 and result.output.count("Error:") == 1
    assert "no running swoosh stack found" in result.output and "swoosh up" in result.output


def test_the_inspector_serves_the_trace_as_json_and_as_a_page(stack: Stack, services: Services) -> None:
    mid = identify(stack, "trace-u5", {"plan": "gold"})
    found = traced(services, mid, lambda t: ("pushwoosh", "tags set") in steps(t))
    with httpx.Client(base_url=stack.urls["inspector"], timeout=15) as inspector:
        as_json = inspector.get(f"/_swoosh/trace/{mid}").json()
        assert [h["step"] for h in as_json["chains"][0]["hops"]][:6] == [h.step for h in found.chains[0].hops][:6]
        unknown = inspector.get("/_swoosh/trace/nobody-at-all")
        assert unknown.status_code == 404 and "'nobody-at-all'" in unknown.json()["error"]
        page = inspector.get("/trace", params={"id": mid})
        assert page.status_code == 200
        assert page.text.count('<li class="hop ') == len(as_json["chains"][0]["hops"])
        assert "tags set" in page.text and "Request and reply" in page.text and '<svg class="waterfall"' in page.text
        missing = inspector.get("/trace", params={"id": "nobody-at-all"})
        assert missing.status_code == 404 and 'role="alert"' in missing.text
        assert inspector.get("/trace").status_code == 200  # the empty search form
