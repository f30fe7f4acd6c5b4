"""Real clients (pypushwoosh, the PyPI `pushwoosh`) against the fake, and the seed's two use cases."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pushwoosh
import pytest
from flask import Flask, Response, request
from pypushwoosh import client as pw_client
from pypushwoosh.command import (
    CompileFilterCommand,
    CreateMessageForApplicationCommand,
    CreateTargetedMessageCommand,
    DeleteMessageCommand,
    RegisterDeviceCommand,
    SetTagsCommand,
)
from pypushwoosh.notification import Notification

from swoosh import contracts
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.emulator.serving import ServerThread
from tests.pushwoosh.conftest import APP, INTEGRATION_HEADERS, TOKEN


def pypushwoosh_client(url: str) -> pw_client.PushwooshClient:
    client = pw_client.PushwooshClient()
    client.scheme = "http"
    client.hostname = urlsplit(url).netloc
    return client


def test_pypushwoosh_commands(served: str, backend: PushwooshBackend) -> None:
    client = pypushwoosh_client(served)
    for hwid in ("h-br", "h-us"):
        assert client.invoke(RegisterDeviceCommand(APP, hwid, 3, f"token-{hwid}"))["status_code"] == 200
    backend.define_tag("Country", 2)
    assert client.invoke(SetTagsCommand(APP, "h-br", {"Country": "BR"}))["status_code"] == 200
    assert backend.device(APP, "h-br").tags == {"Country": "BR"}

    notification = Notification()
    notification.content = "Hello"
    notification.link = "https://example.com"  # pypushwoosh adds minimize_link
    command = CreateMessageForApplicationCommand(notification, APP)
    command.auth = TOKEN
    codes = client.invoke(command)["response"]["Messages"]
    assert len(codes) == 1 and len(backend.deliveries) == 2

    compile_command = CompileFilterCommand()
    compile_command.auth = TOKEN
    compile_command.devices_filter = f'A("{APP}") * T("Country", EQ, "BR")'
    assert client.invoke(compile_command)["response"] == {"devices_count": 1}

    targeted = CreateTargetedMessageCommand()
    targeted.auth = TOKEN
    targeted.devices_filter = f'A("{APP}") * T("Country", EQ, "BR")'
    targeted.content = "Ola"
    targeted.send_date = "2099-01-01 10:00"
    code = client.invoke(targeted)["response"]["messageCode"]
    assert backend.messages[code].status == "scheduled"

    delete = DeleteMessageCommand(code)
    delete.auth = TOKEN
    assert client.invoke(delete)["status_code"] == 200
    assert backend.messages[code].status == "cancelled"


class _PlainConnection(http.client.HTTPConnection):
    """The PyPI `pushwoosh` client hard-codes HTTPS; in the test it talks plain HTTP to the fake."""


def test_pypi_pushwoosh_client_with_absolute_request_line(
    served: str, backend: PushwooshBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    netloc = urlsplit(served).netloc
    monkeypatch.setattr(pushwoosh, "SERVER", netloc)
    monkeypatch.setattr(pushwoosh, "URL", f"http://{netloc}/json/1.3/")
    monkeypatch.setattr(pushwoosh.http.client, "HTTPSConnection", _PlainConnection)
    backend.register_device({"application": APP, "hwid": "h1", "device_type": 3, "push_token": "t1"})
    status, body = pushwoosh.Pushwoosh(TOKEN, APP).create_message([{"text": "Hi there", "devices": ["t1"]}])
    assert status == 200 and json.loads(body)["status_code"] == 200
    assert [d.content for d in backend.deliveries] == ["Hi there"]


def test_raw_absolute_form_request_line_routes_on_the_path(served: str) -> None:
    host, port = urlsplit(served).hostname, urlsplit(served).port
    body = json.dumps({"request": {"application": APP, "hwid": "raw", "device_type": 3}}).encode()
    head = (
        f"POST http://{host}:{port}/json/1.3/registerDevice HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(head.encode() + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert b'"status_code":200' in reply


def test_use_case_segment_of_users_who_triggered_an_event_gets_the_promo(
    served: str, backend: PushwooshBackend
) -> None:
    for user in ("u1", "u2", "u3"):
        backend.register_device({"application": APP, "hwid": f"dev-{user}", "device_type": 1, "userId": user})
    events = {
        "events": [
            {
                "user_id": u,
                "app_code": APP,
                "name": "SubscribedToOffers",
                "timestamp": "2026-11-22T14:08:43.998Z",
                "attributes": {},
            }
            for u in ("u1", "u3")
        ]
    }
    assert (
        httpx.post(f"{served}/integration-segment/v1/post-events", json=events, headers=INTEGRATION_HEADERS).status_code
        == 200
    )
    reply = httpx.post(
        f"{served}/json/1.3/createTargetedMessage",
        json={
            "request": {
                "auth": TOKEN,
                "devices_filter": f'A("{APP}") * E("SubscribedToOffers")',
                "send_date": "now",
                "content": "A promo just for you",
                "campaign": "PROMO-1",
            }
        },
    ).json()
    assert reply["status_code"] == 200
    control = PushwooshClient(served)
    assert [i["content"] for i in control.inbox("dev-u1")] == ["A promo just for you"]
    assert control.inbox("dev-u2") == []
    sent = control.message_events(event="Push Sent")
    assert sorted(e["user_id"] for e in sent) == ["u1", "u3"]
    assert {e["campaign_code"] for e in sent} == {"PROMO-1"}


def test_use_case_push_personalised_with_a_trait(served: str, backend: PushwooshBackend) -> None:
    assert (
        httpx.post(
            f"{served}/integration-segment/v1/track-user",
            headers=INTEGRATION_HEADERS,
            json={"user_id": "u1", "attributes": {"searched_product": "sports shoes"}},
        ).status_code
        == 200
    )
    backend.register_device({"application": APP, "hwid": "dev-u1", "device_type": 3, "userId": "u1"})
    backend.register_device({"application": APP, "hwid": "dev-u2", "device_type": 3, "userId": "u2"})
    httpx.post(
        f"{served}/json/1.3/createMessage",
        json={
            "request": {
                "auth": TOKEN,
                "application": APP,
                "notifications": [
                    {
                        "content": "Still thinking about {searched_product|CapitalizeFirst|}? 10% off",
                        "title": "Hi {name|CapitalizeFirst|there}",
                        "users": ["u1", "u2"],
                    }
                ],
            }
        },
    )
    control = PushwooshClient(served)
    assert control.inbox("dev-u1")[0]["content"] == "Still thinking about Sports shoes? 10% off"
    assert control.inbox("dev-u1")[0]["title"] == "Hi there"
    assert control.inbox("dev-u2")[0]["content"] == "Still thinking about {searched_product|CapitalizeFirst|}? 10% off"
    assert control.tags(user_id="u1") == {"searched_product": "sports shoes"}


def test_placeholder_without_default_skips_the_device(backend: PushwooshBackend) -> None:
    backend.register_device({"application": APP, "hwid": "h1", "device_type": 3})
    backend.create_messages({"application": APP, "notifications": [{"content": "Hi {FirstName|CapitalizeFirst}"}]})
    message = next(iter(backend.messages.values()))
    assert message.targets == 0 and message.skipped == 1 and backend.deliveries == []


def test_seeded_delivery_outcomes_and_email_bounces(backend: PushwooshBackend) -> None:
    backend.add_application("EMAIL-00001", "mail", delivery_rates={"email": 0.5}, seed=42)
    for i in range(40):
        backend.register_email({"application": "EMAIL-00001", "email": f"u{i}@example.com"})
    backend.create_messages(
        {"application": "EMAIL-00001", "notifications": [{"subject": "News", "content": "x"}]}, "email"
    )
    outcomes = [e["event"] for e in backend.lifecycle.events]
    assert outcomes.count("Email Sent") == 40
    assert outcomes.count("Email Delivered") + outcomes.count("Email Bounced") == 40
    assert 8 <= outcomes.count("Email Bounced") <= 32
    again = PushwooshBackend()
    again.add_application("EMAIL-00001", "mail", delivery_rates={"email": 0.5}, seed=42)
    for i in range(40):
        again.register_email({"application": "EMAIL-00001", "email": f"u{i}@example.com"})
    again.create_messages({"application": "EMAIL-00001", "notifications": [{"subject": "News"}]}, "email")
    assert [e["event"] for e in again.lifecycle.events] == outcomes
    again.close()


class FlakyReceiver:
    """Refuses the first `failures` posts with 503, then accepts; records the events it accepted."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.accepted: list[dict] = []
        self.auth: list[str | None] = []
        self.lock = threading.Lock()
        self.app = Flask("receiver")
        self.app.add_url_rule("/pushwoosh", "hook", self.hook, methods=["POST"])

    def hook(self) -> Response:
        with self.lock:
            self.auth.append(request.headers.get("Authorization"))
            if self.failures > 0:
                self.failures -= 1
                return Response(status=503)
            self.accepted.extend(request.get_json()["events"])
        return Response(status=204)


@pytest.fixture
def flaky() -> Iterator[tuple[FlakyReceiver, str]]:
    receiver = FlakyReceiver(failures=3)
    with ServerThread(receiver.app) as server:
        yield receiver, f"{server.url}/pushwoosh"


def test_webhook_retries_until_the_receiver_recovers(
    backend: PushwooshBackend, flaky: tuple[FlakyReceiver, str]
) -> None:
    receiver, url = flaky
    backend.webhooks.add({"url": url, "token": "secret"})
    for i in range(150):
        backend.register_device({"application": APP, "hwid": f"h{i}", "device_type": 3})
    backend.create_messages({"application": APP, "notifications": [{"content": "x", "campaign": "C"}]})
    assert backend.runtime.wait_until(lambda: len(receiver.accepted) == 300, 20)
    assert [e["id"] for e in receiver.accepted] == [e["id"] for e in backend.lifecycle.events]
    assert set(receiver.auth) == {"Bearer secret"}
    assert backend.webhooks.describe()[0]["pending"] == 0


def test_reset_drops_unsent_message_events_after_the_batch_on_the_wire_is_answered(backend: PushwooshBackend) -> None:
    """Message events are data: a reset forgets those not yet posted, and returns only once a batch already on
    the wire has its answer, so nothing from before a reset reaches the bridge after it."""
    started, answered = threading.Event(), threading.Event()
    batches: list[int] = []
    app = Flask("slow-webhook")

    @app.post("/pushwoosh")
    def receive() -> Response:
        batches.append(len(request.get_json()["events"]))
        started.set()
        time.sleep(0.5)
        answered.set()
        return Response(status=503)  # retryable: without the reset the batch would be posted again

    with ServerThread(app, threads=4) as server:
        backend.webhooks.add({"url": f"{server.url}/pushwoosh"})
        for i in range(150):  # 300 message events: two batches, the second still pending
            backend.register_device({"application": APP, "hwid": f"h{i}", "device_type": 3})
        backend.create_messages({"application": APP, "notifications": [{"content": "x"}]})
        assert started.wait(5)
        backend.reset()
        assert answered.is_set()
        assert backend.webhooks.describe()[0]["pending"] == 0
        time.sleep(0.5)  # longer than the first retry's backoff (0.1 s): nothing more is posted
    assert batches == [100]


def test_a_webhook_in_pushwoosh_format_gets_one_generic_webhook_json_per_event(backend: PushwooshBackend) -> None:
    """For a receiver written against real Pushwoosh's generic webhook integration."""
    received: list[dict] = []
    app = Flask("generic-webhook")

    @app.post("/hook")
    def hook() -> Response:
        received.append(request.get_json())
        return Response(status=200)

    with ServerThread(app, threads=4) as server:
        assert backend.webhooks.add({"url": f"{server.url}/hook", "format": "pushwoosh"})["format"] == "pushwoosh"
        backend.register_device({"application": APP, "hwid": "h1", "device_type": 1, "userId": "u1"})
        code = backend.create_messages({"application": APP, "notifications": [{"content": "x", "campaign": "C1"}]})
        assert backend.runtime.wait_until(lambda: len(received) == 2, 10)
    assert [r["event_name"] for r in received] == ["Push Sent", "Push Delivered"]
    assert received[0] == {
        "event_name": "Push Sent",
        "message_id": received[0]["message_id"],
        "message_code": code["Messages"][0],
        "campaign_id": "C1",
        "platform": "iOS",
        "application_code": APP,
        "hwid": "h1",
        "user_id": "u1",
        "payload": {"message_type": "Push", "device_type": 1, "timestamp": received[0]["payload"]["timestamp"]},
    }
    assert all(contracts.validate("events/webhook-event", r) == [] for r in received)
    with pytest.raises(ValueError, match="format must be one of"):
        backend.webhooks.add({"url": "http://127.0.0.1:9/hook", "format": "xml"})
