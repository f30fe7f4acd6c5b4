"""Destination delivery (signing, retries, subscriptions) and the official Python SDK over real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import segment.analytics as sa
from flask import Flask, Response, request

from swoosh.emulator.segment.backend import SegmentBackend
from swoosh.emulator.segment.client import SegmentClient
from swoosh.emulator.segment.delivery import SubscriptionError, enabled_for, parse_subscription
from swoosh.emulator.serving import ServerThread
from tests.segment.conftest import APP_KEY


class Receiver:
    """A webhook endpoint that answers with scripted statuses and records what it got."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.app = Flask("receiver")
        self.app.add_url_rule("/hook", "hook", self.hook, methods=["POST"])

    def hook(self) -> Response:
        with self.lock:
            self.received.append((request.get_data(), dict(request.headers)))
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("{}", status=status, mimetype="application/json")


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hook = Receiver()
    with ServerThread(hook.app) as server:
        yield hook, f"{server.url}/hook"


def deliveries(backend: SegmentBackend, count: int, **filters: str) -> list[dict]:
    assert backend.runtime.wait_until(lambda: len(backend.deliverer.log(filters, None)) >= count, 10)
    return backend.deliverer.log(filters, None)


def test_delivery_is_signed_and_logged(backend: SegmentBackend, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    backend.add_destination({"source": "app", "name": "bridge", "url": url, "secret": "s3cret"})
    backend.ingest("track", {"userId": "u", "event": "Signed Up", "messageId": "m1"}, APP_KEY)
    backend.ingest("track", {"userId": "u", "event": "Ignored", "messageId": "m2"}, "pushwoosh-write-key")
    done = deliveries(backend, 1, state="delivered")
    assert done[0]["messageId"] == "m1" and done[0]["attempts"] == 1
    body, headers = hook.received[0]
    assert headers["User-Agent"] == "Segment.io/1.0"
    assert headers["X-Signature"] == hmac.new(b"s3cret", body, hashlib.sha1).hexdigest()
    assert len(hook.received) == 1  # the other source has no destination


def test_retryable_failures_are_retried_on_the_clock_and_final_ones_are_not(
    backend: SegmentBackend, receiver: tuple[Receiver, str]
) -> None:
    hook, url = receiver
    hook.statuses = [503, 429, 200, 400]
    backend.add_destination({"url": url})
    backend.ingest("track", {"userId": "u", "event": "A", "messageId": "a"}, APP_KEY)
    assert backend.runtime.wait_until(lambda: len(hook.received) == 1, 5)
    for expected in (2, 3):
        backend.runtime.clock.advance(700)
        backend.tick()
        assert backend.runtime.wait_until(lambda n=expected: len(hook.received) == n, 5)
    history = deliveries(backend, 1, state="delivered")[0]["history"]
    assert [a["status"] for a in history] == [503, 429, 200]
    # each attempt says when it left and how long the answer took (the trace's timing of this hop)
    assert all(a["sent_at"] <= a["at"] and a["duration_ms"] >= 0 for a in history)
    assert history[1]["sent_at"] - history[0]["sent_at"] >= 700
    backend.ingest("track", {"userId": "u", "event": "B", "messageId": "b"}, APP_KEY)
    failed = deliveries(backend, 1, state="failed")
    assert failed[0]["messageId"] == "b" and failed[0]["last_status"] == 400


def test_reset_waits_for_a_delivery_on_the_wire_and_forgets_its_retry(backend: SegmentBackend) -> None:
    """A delivery sent before a reset must not land after it: the pytest plugin resets Segment, then the
    bridge; a request still on the wire would reach the freshly reset bridge and leak into the next test."""
    started, finished = threading.Event(), threading.Event()
    app = Flask("slow-receiver")
    arrivals: list[str] = []

    @app.post("/hook")
    def hook() -> Response:
        arrivals.append(request.get_json()["messageId"])
        started.set()
        time.sleep(0.5)
        finished.set()
        return Response("{}", status=503)  # retryable: without the reset it would be sent again

    with ServerThread(app, threads=4) as server:
        backend.add_destination({"url": f"{server.url}/hook"})
        backend.ingest("track", {"userId": "u", "event": "A", "messageId": "before-reset"}, APP_KEY)
        assert started.wait(5)
        backend.reset()
        assert finished.is_set()  # the reset returned only once the request had its answer
        assert backend.deliverer.log({}, None) == []
        backend.runtime.clock.advance(3600)
        backend.tick()
        backend.ingest("track", {"userId": "u", "event": "B", "messageId": "after-reset"}, APP_KEY)
        deliveries(backend, 1, messageId="after-reset")
        assert backend.runtime.wait_until(lambda: "after-reset" in arrivals, 5)
    assert arrivals == ["before-reset", "after-reset"]


@pytest.mark.parametrize(
    ("integrations", "expected"),
    [
        (None, True),
        ({}, True),
        ({"All": True}, True),
        ({"Pushwoosh": False}, False),
        ({"Webhooks": False}, True),
        ({"All": False}, False),
        ({"All": False, "Pushwoosh": True}, True),
        ({"All": False, "Pushwoosh": {"someOption": 1}}, True),
        ({"All": True, "Pushwoosh": False}, False),
        ("not an object", True),
    ],
)
def test_integrations_switch(integrations: object, expected: bool) -> None:
    message = {"event": "x"} if integrations is None else {"event": "x", "integrations": integrations}
    assert enabled_for(message, "Pushwoosh") is expected


def test_a_message_opted_out_of_a_destination_is_not_delivered_there(
    backend: SegmentBackend, receiver: tuple[Receiver, str]
) -> None:
    _hook, url = receiver
    backend.add_destination({"name": "Pushwoosh", "url": url})
    backend.add_destination({"name": "Webhooks", "url": url})
    for message_id, integrations in (("a", None), ("b", {"Pushwoosh": False}), ("c", {"All": False})):
        message = {"userId": "u", "event": "E", "messageId": message_id}
        backend.ingest("track", {**message, "integrations": integrations} if integrations else message, APP_KEY)
    delivered = deliveries(backend, 3)
    assert sorted((d["messageId"], d["destination"]) for d in delivered) == [
        ("a", "Pushwoosh"),
        ("a", "Webhooks"),
        ("b", "Webhooks"),
    ]


def test_deliveries_give_up_after_four_hours(backend: SegmentBackend, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    hook.statuses = [500] * 100
    backend.add_destination({"url": url})
    backend.ingest("track", {"userId": "u", "event": "A"}, APP_KEY)
    assert backend.runtime.wait_until(lambda: len(hook.received) == 1, 5)
    backend.runtime.clock.advance(4 * 3600 + 1)
    backend.tick()
    assert deliveries(backend, 1, state="failed")[0]["attempts"] == 2


def test_batched_destination_and_subscription(backend: SegmentBackend, receiver: tuple[Receiver, str]) -> None:
    hook, url = receiver
    backend.add_destination({"url": url, "max_batch": 50, "subscription": 'type = "identify" or event = "B"'})
    backend.ingest(
        "batch",
        {
            "writeKey": APP_KEY,
            "batch": [
                {"type": "identify", "userId": "u"},
                {"type": "track", "userId": "u", "event": "A"},
                {"type": "track", "userId": "u", "event": "B"},
            ],
        },
    )
    delivered = deliveries(backend, 2, state="delivered")
    assert sorted(d["type"] for d in delivered) == ["identify", "track"]
    assert httpx.Response(200, content=hook.received[0][0]).json()["batch"][0]["type"] == "identify"


@pytest.mark.parametrize(
    ("expression", "event", "expected"),
    [
        ('type = "track"', {"type": "track"}, True),
        ('type = "track" and event = "A"', {"type": "track", "event": "B"}, False),
        ('(type = "page" or type = "screen") and properties.kind != "x"', {"type": "page", "properties": {}}, True),
        ("", {"type": "alias"}, True),
    ],
)
def test_subscriptions(expression: str, event: dict, expected: bool) -> None:
    assert parse_subscription(expression)(event) is expected


@pytest.mark.parametrize("bad", ["type = ", 'type "x"', '(type = "x"', 'type = "x" nor', "type = 'x'"])
def test_bad_subscriptions_are_refused(bad: str) -> None:
    with pytest.raises(SubscriptionError):
        parse_subscription(bad)


@pytest.mark.parametrize("gzip", [False, True])
def test_official_python_sdk_messages_arrive_enriched_and_in_the_warehouse(
    backend: SegmentBackend, served: str, gzip: bool
) -> None:
    client = sa.Client(APP_KEY, host=served, sync_mode=True, gzip=gzip)
    client.identify("u1", {"searched_product": "sports shoes", "email": "a@x.io"})
    client.track("u1", "Order Completed", {"total": 12.5})
    client.page("u1", "Docs", "Home", {"path": "/home"})
    client.screen("u1", "Mobile", "Cart")
    client.group("u1", "g1", {"name": "Acme"})
    client.alias("anon-1", "u1")
    client.flush()
    control = SegmentClient(served)
    events = control.events()
    assert [e["type"] for e in events] == ["identify", "track", "page", "screen", "group", "alias"]
    for event in events:
        message = event["message"]
        assert message["context"]["library"]["name"] == "analytics-python"
        assert message["receivedAt"] and message["projectId"] == "src_app" and message["channel"] == "server"
    assert control.counts()["bad"] == 0
    assert control.sql("select searched_product, email from app.users") == [
        {"searched_product": "sports shoes", "email": "a@x.io"}
    ]
    assert control.sql("select total from app.order_completed") == [{"total": 12.5}]
    for table in ("pages", "screens", "groups", "aliases"):
        assert len(control.sql(f"select id from app.{table}")) == 1


def test_control_client_sources_destinations_and_waits(served: str, receiver: tuple[Receiver, str]) -> None:
    _, url = receiver
    control = SegmentClient(served)
    control.add_source("web", "web-key")
    destination = control.add_destination(url, source="web", secret="k")
    assert destination["secret"] == "<set>"
    httpx.post(f"{served}/v1/track", json={"userId": "u", "event": "E"}, auth=("web-key", ""))
    assert control.wait_for_events(1, timeout=5, source="web")[0]["message"]["event"] == "E"
    assert control.wait("deliveries", 1, timeout=5, state="delivered")
    control.remove_destination(destination["id"])
    assert control.items("destinations") == []
    assert control.write_key("web") == "web-key"
