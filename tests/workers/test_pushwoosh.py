"""The fake Pushwoosh in three processes on one port: posted events recorded by any process, with the
behaviour of one (issue 18 item 1)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import httpx

from swoosh.emulator.pushwoosh.app import create_app
from swoosh.emulator.pushwoosh.backend import PushwooshBackend
from swoosh.stack import Stack, StackOptions
from tests.workers.conftest import WORKERS, acknowledged_across_a_kill, replaced_within, servers_of

APP, TOKEN = "ABCDE-12345", "KEY123"
INTEGRATION = {"Authorization": f"Token {TOKEN}", "X-PW-Appcode": APP}
CALLS = 40  # each on its own connection: enough for the kernel to hand some to every process
WHEN = "2026-11-30T12:00:00Z"


def post_events(url: str, events: list[dict[str, Any]]) -> httpx.Response:
    """One post-events on a connection of its own (so the kernel may hand it to any process)."""
    return httpx.post(f"{url}/integration-segment/v1/post-events", json={"events": events}, headers=INTEGRATION)


def item(user_id: str, name: str = "Viewed", **fields: Any) -> dict[str, Any]:
    return {"user_id": user_id, "name": name, "timestamp": WHEN, "app_code": APP, **fields}


def call(url: str, method: str, **request: Any) -> dict[str, Any]:
    answer = httpx.post(f"{url}/json/1.3/{method}", json={"request": request})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def register(url: str, hwid: str, **extra: Any) -> None:
    assert call(url, "registerDevice", application=APP, hwid=hwid, device_type=3, **extra)["status_code"] == 200


def devices_matching(url: str, expression: str) -> int:
    found = call(url, "compileFilter", auth=TOKEN, devices_filter=expression)
    assert found["status_code"] == 200, found
    count: int = found["response"]["devices_count"]
    return count


def listed(url: str, collection: str, **filters: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = httpx.get(f"{url}/_swoosh/{collection}", params=filters, timeout=30).json()["items"]
    return items


def definitions(url: str) -> list[str]:
    return [e["name"] for e in httpx.get(f"{url}/_swoosh/state").json()["backend"]["event_registry"]]


def test_post_events_land_on_workers_each_is_stored_once_and_the_control_api_shows_it_at_once(
    pushwoosh_url: str, pushwoosh_stack: Stack
) -> None:
    url = pushwoosh_url
    for n in range(CALLS):
        events = [item(f"u{n}", name, attributes={"n": n, "k": k}) for k, name in enumerate(("Viewed", "Added"))]
        assert post_events(url, events).status_code == 200
        users = listed(url, "users", user_id=f"u{n}")  # the users live in the primary's heap
        assert [u["user_id"] for u in users] == [f"u{n}"]
    served_by = servers_of(url)
    workers = set(pushwoosh_stack.worker_groups["pushwoosh"].pids)
    assert served_by & workers, served_by
    assert served_by - {None} <= workers
    stored = [(e["attributes"]["n"], e["attributes"]["k"]) for e in listed(url, "events")]
    assert sorted(stored) == [(n, k) for n in range(CALLS) for k in range(2)]
    assert httpx.get(f"{url}/_swoosh/config").json()["evicted_posted_events"] == 0


def test_histories_and_segments_see_what_every_process_recorded(pushwoosh_url: str) -> None:
    url = pushwoosh_url
    for n in range(10):
        register(url, f"d{n}", userId=f"u{n}")
    register(url, "lonely")
    for n in range(CALLS):
        assert post_events(url, [item(f"u{n % 5}", "Purchased")]).status_code == 200
    assert devices_matching(url, 'E("Purchased")') == 5
    assert devices_matching(url, 'A("ABCDE-12345") \\ E("Purchased")') == 6
    device_event = {"application": APP, "hwid": "lonely", "event": "Opened", "attributes": {}}
    assert call(url, "createEvent", auth=TOKEN, name="Opened")["status_code"] == 200
    assert call(url, "postEvent", **device_event)["status_code"] == 200  # user-less: decided by the primary
    assert devices_matching(url, 'E("Opened")') == 1
    message = {
        "application": APP,
        "auth": TOKEN,
        "notifications": [{"content": "Hi", "devices_filter": 'E("Purchased")'}],
    }
    codes = call(url, "createMessage", **message)["response"]["Messages"]
    assert [m["targets"] for m in listed(url, "messages") if m["code"] in codes] == [5]


def test_a_known_device_posted_with_a_user_is_linked_to_them(pushwoosh_url: str) -> None:
    url = pushwoosh_url
    for n in range(CALLS // 2):
        register(url, f"dev{n}")
    for n in range(CALLS // 2):
        assert post_events(url, [item(f"user{n}", device_id=f"dev{n}")]).status_code == 200
        assert listed(url, "users", user_id=f"user{n}")[0]["hwids"] == [f"dev{n}"]
    assert post_events(url, [item("nobody", device_id="unknown")]).status_code == 200
    assert listed(url, "users", user_id="nobody")[0]["hwids"] == []


def test_auto_created_events_appear_at_once_and_the_device_api_then_takes_them(pushwoosh_url: str) -> None:
    url = pushwoosh_url
    names = [f"Auto {uuid.uuid4().hex[:8]}" for _ in range(5)]
    for name in names:
        assert post_events(url, [item("u1", name)]).status_code == 200
        assert name in definitions(url)
    for n in range(CALLS):
        answer = call(url, "postEvent", application=APP, userId="u2", event=names[n % 5], attributes={"n": n})
        assert answer["status_code"] == 200, answer
    assert len(listed(url, "events", subject="user:u2")) == CALLS
    assert definitions(url) == names  # each defined once, in the order first posted


def test_what_a_worker_cannot_decide_is_answered_as_one_process_answers_it(pushwoosh_url: str) -> None:
    url = pushwoosh_url
    one_process = create_app(PushwooshBackend()).test_client()
    asks = [
        {"application": APP, "hwid": "no-such-device", "event": "Opened", "attributes": {}},  # user-less
        {"application": APP, "userId": "u1", "event": "Never Defined", "attributes": {}},  # auto-create off
    ]
    for request in asks:
        expected = one_process.post("/json/1.3/postEvent", json={"request": request}).get_json()
        assert expected["status_code"] == 210
        for _ in range(CALLS // 2):
            assert call(url, "postEvent", **request) == expected
    quirky = [{**item("u1"), "app_id": APP}]
    del quirky[0]["app_code"]
    for _ in range(CALLS // 2):
        assert post_events(url, quirky).status_code == 200
    assert len(listed(url, "warnings")) == CALLS // 2  # the warning each records is in the primary's list
    assert listed(url, "events", subject="user:u1") and not listed(url, "events", name="Never Defined")


def test_a_fault_with_times_3_on_post_events_fires_three_times_in_all(pushwoosh_url: str) -> None:
    url = pushwoosh_url
    rule = {"path": "/integration-segment/v1/post-events", "status": 500, "times": 3}
    assert httpx.post(f"{url}/_swoosh/faults", json=rule).status_code == 201
    statuses = [post_events(url, [item("u1")]).status_code for _ in range(20)]
    assert statuses.count(500) == 3 and statuses.count(200) == 17
    assert len(listed(url, "events")) == 17


def test_reset_forgets_what_every_process_recorded_and_an_export_brings_it_back(pushwoosh_url: str) -> None:
    url = pushwoosh_url
    register(url, "d1", userId="u1")
    for n in range(CALLS // 2):
        assert post_events(url, [item(f"u{n % 2}", "Kept")]).status_code == 200
    exported = httpx.get(f"{url}/_swoosh/state").json()
    assert len(exported["backend"]["events"]) == CALLS // 2
    assert httpx.post(f"{url}/_swoosh/reset", json={}).status_code == 200
    assert listed(url, "events") == [] and listed(url, "users") == []
    assert definitions(url) == ["Kept"]  # configuration: a reset keeps it
    assert devices_matching(url, 'E("Kept")') == 0
    for _ in range(10):
        assert post_events(url, [item("after-reset", "Kept")]).status_code == 200
    assert [u["user_id"] for u in listed(url, "users")] == ["after-reset"]
    assert httpx.put(f"{url}/_swoosh/state", json=exported).status_code == 200
    assert len(listed(url, "events")) == CALLS // 2
    assert sorted(u["user_id"] for u in listed(url, "users")) == ["u0", "u1"]
    assert devices_matching(url, 'E("Kept")') == 1
    for _ in range(10):
        assert post_events(url, [item("u1", "Kept")]).status_code == 200
    assert len(listed(url, "events")) == CALLS // 2 + 10


def test_kill_9_of_a_worker_loses_nothing_acknowledged_and_another_takes_its_place(
    pushwoosh_url: str, pushwoosh_stack: Stack
) -> None:
    url = pushwoosh_url
    group = pushwoosh_stack.worker_groups["pushwoosh"]
    victim = group.pids[0]
    restarts = group.restarts

    def send_once(sender: int, n: int) -> list[str]:
        ids = [f"{sender}-{n}-{k}" for k in range(10)]
        answer = post_events(url, [item(f"u{sender}", "Loaded", attributes={"id": i}) for i in ids])
        return ids if answer.status_code == 200 else []

    acknowledged = acknowledged_across_a_kill(victim, send_once)
    assert acknowledged
    stored = [e["attributes"]["id"] for e in listed(url, "events")]
    assert set(acknowledged) <= set(stored)
    assert len(stored) == len(set(stored))  # nothing stored twice (a request is never replayed)
    assert sorted(u["user_id"] for u in listed(url, "users")) == ["u0", "u1", "u2"]
    assert replaced_within(group, victim, 10) and group.restarts > restarts
    httpx.delete(f"{url}/_swoosh/journal")
    for n in range(CALLS):
        assert post_events(url, [item("after", attributes={"n": n})]).status_code == 200
    assert set(group.pids) & servers_of(url)


def test_a_long_poll_on_the_primary_answers_when_a_worker_records_what_it_waits_for(pushwoosh_url: str) -> None:
    url = pushwoosh_url
    answers: list[dict[str, Any]] = []
    waiting = threading.Thread(
        target=lambda: answers.append(
            httpx.get(f"{url}/_swoosh/wait/users", params={"user_id": "late", "timeout": 30}, timeout=60).json()
        )
    )
    waiting.start()
    for n in range(CALLS):
        assert post_events(url, [item(f"early{n}")]).status_code == 200
    assert post_events(url, [item("late")]).status_code == 200
    waiting.join(timeout=60)
    assert answers and answers[0]["matched"] and [u["user_id"] for u in answers[0]["items"]] == ["late"]


def test_with_a_data_dir_what_workers_recorded_is_there_after_a_restart_in_one_process(tmp_path: Path) -> None:
    with Stack(StackOptions(workers=WORKERS, only=("pushwoosh",), data_dir=tmp_path)) as stack:
        url = stack.urls["pushwoosh"]
        register(url, "d1")
        for n in range(CALLS):
            assert post_events(url, [item(f"u{n % 4}", f"Durable {n % 2}", device_id="d1")]).status_code == 200
        linked = listed(url, "users", user_id="u3")[0]["hwids"]
        assert linked == ["d1"]
        served_by = servers_of(url)
    assert served_by - {None}, "no worker served a post-events"
    with Stack(StackOptions(only=("pushwoosh",), data_dir=tmp_path)) as stack:
        url = stack.urls["pushwoosh"]
        assert len(listed(url, "events")) == CALLS
        assert sorted(u["user_id"] for u in listed(url, "users")) == ["u0", "u1", "u2", "u3"]
        assert listed(url, "users", user_id="u3")[0]["hwids"] == ["d1"]
        assert definitions(url) == ["Durable 0", "Durable 1"]
        assert devices_matching(url, 'E("Durable 1")') == 1
