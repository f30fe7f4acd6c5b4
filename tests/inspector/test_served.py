"""The inspector served by a real stack: pages, the live stream, actions, its guard, its place in the stack."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import httpx
import segment.analytics as analytics
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swoosh.bridge.client import BridgeClient
from swoosh.emulator.client import ControlClient
from swoosh.emulator.options import StackOptions
from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.emulator.segment.client import SegmentClient
from swoosh.inspector.pages import registered_pages
from swoosh.stack import Stack

ROW = re.compile(r'<tr data-seq="(\d+)"')


def sdk(stack: Stack) -> analytics.Client:
    key = SegmentClient(stack.urls["segment"]).write_key()
    return analytics.Client(write_key=key, host=stack.urls["segment"], sync_mode=True)


def test_every_registered_page_answers_and_the_nav_lists_exactly_them(inspector: httpx.Client) -> None:
    pages = registered_pages()
    assert {"Live", "Bridge", "Control"} <= {p.title for p in pages}
    for page in pages:
        answer = inspector.get(f"/{page.slug}")
        assert answer.status_code == 200, answer.text
        nav = answer.text.split("<nav", 1)[1].split("</nav>", 1)[0]
        assert re.findall(r">([^<]+)</a></li>", nav) == [p.title for p in pages]
        assert 'aria-current="page"' in nav and "<main" in answer.text
    assert inspector.get("/").headers["location"].endswith(f"/{pages[0].slug}")
    assert inspector.get("/_swoosh/health").json() == {"status": "ok", "service": "inspector"}


def test_live_pages_filters_and_opens_a_message_with_its_warehouse_row(stack: Stack, inspector: httpx.Client) -> None:
    client = sdk(stack)
    client.identify("ada", {"plan": "pro"})
    client.track("ada", "Order Completed", {"total": 12})
    client.track(anonymous_id="anon-1", event="Product Viewed")
    httpx.post(f"{stack.urls['segment']}/v1/track", auth=("app-write-key", ""), json={"event": "No user"})
    page = inspector.get("/live").text
    seqs = [int(s) for s in ROW.findall(page)]
    assert len(seqs) == 4 and seqs == sorted(seqs, reverse=True)  # newest first
    assert ROW.findall(inspector.get("/live", params={"status": "bad"}).text) == [str(seqs[0])]
    assert len(ROW.findall(inspector.get("/live", params={"user": "ada"}).text)) == 2
    assert len(ROW.findall(inspector.get("/live", params={"user": "anon-1"}).text)) == 1
    assert len(ROW.findall(inspector.get("/live", params={"type": "track", "event": "Order Completed"}).text)) == 1
    assert ROW.findall(inspector.get("/live", params={"until": "2000-01-01T00:00:00"}).text) == []
    refused = inspector.get("/live", params={"since": "last tuesday"})
    assert refused.status_code == 400 and "since must be" in refused.text
    detail = inspector.get(f"/live/event/{seqs[2]}").text  # the track of ada
    assert (
        "As received" in detail
        and "As enriched" in detail
        and "app.tracks" in detail
        and "app.order_completed" in detail
    )
    assert "app-write-key" not in detail
    assert re.search(r'href="/trace\?id=[^"]+">Trace this message<', detail)  # the message's own trace
    assert inspector.get("/live/event/999999").status_code == 404


def test_paging_walks_back_through_older_messages(stack: Stack, inspector: httpx.Client) -> None:
    client = sdk(stack)
    batch = [{"type": "track", "userId": "p", "event": f"E{i}"} for i in range(60)]
    httpx.post(
        f"{stack.urls['segment']}/v1/batch", auth=(client.write_key, ""), json={"batch": batch}
    ).raise_for_status()
    first = inspector.get("/live").text
    assert len(ROW.findall(first)) == 50
    older = re.search(r'href="(/live\?before=\d+[^"]*)"', first)
    assert older is not None
    rest = ROW.findall(inspector.get(older.group(1).replace("&amp;", "&")).text)
    assert len(rest) == 10 and int(rest[0]) < int(ROW.findall(first)[-1])


def test_the_live_stream_sends_new_messages_and_ends_when_the_client_leaves(
    stack: Stack, inspector: httpx.Client
) -> None:
    server = stack.servers["inspector"]
    received: list[str] = []
    with httpx.stream(
        "GET", f"{stack.urls['inspector']}/_swoosh/stream/live", params={"type": "track"}, timeout=20
    ) as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        lines = s.iter_lines()
        assert next(lines) == "retry: 2000"
        assert server.waiting == 1
        threading.Timer(0.3, lambda: (sdk(stack).identify("x"), sdk(stack).track("x", "Streamed"))).start()
        for line in lines:
            received.append(line)
            if line.startswith("data:"):
                break
    data = json.loads(received[-1][5:])
    assert data["event"] == "Streamed" and data["type"] == "track"  # the identify was filtered out
    deadline = time.monotonic() + 12
    while server.waiting and time.monotonic() < deadline:  # one round at most
        time.sleep(0.1)
    assert server.waiting == 0


def test_a_dead_letter_is_listed_with_its_reply_and_replayed(stack: Stack, inspector: httpx.Client) -> None:
    pushwoosh, bridge = PushwooshClient(stack.urls["pushwoosh"]), BridgeClient(stack.urls["bridge"])
    pushwoosh.faults.add(status=400, times=1, path="/integration")
    sdk(stack).identify("dl-user", {"tier": "gold"})
    deadline = time.monotonic() + 10
    while not bridge.dead_letters() and time.monotonic() < deadline:
        time.sleep(0.05)
    page = inspector.get("/bridge").text
    assert "Dead letters" in page and "swoosh fault rule" in page and "Replay all (1)" in page
    assert "dl-user" in page and "app-write-key" not in page  # the event, without its source's write key
    assert "<svg" in page and "Throughput over the last 5 minutes" in page
    dead = bridge.dead_letters()[0]
    answer = inspector.post("/bridge/replay", json={"id": dead["id"]})
    assert answer.status_code == 200 and answer.json()["replayed"] == 1
    deadline = time.monotonic() + 10
    while not pushwoosh.tags(user_id="dl-user") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pushwoosh.tags(user_id="dl-user")
    assert inspector.post("/bridge/replay", json={"id": "one"}).status_code == 400
    assert "Nothing waiting" in inspector.get("/bridge").text


def test_control_adds_a_fault_the_next_request_gets_and_removes_it(stack: Stack, inspector: httpx.Client) -> None:
    added = inspector.post("/control/faults/segment", json={"status": "503", "times": "1", "path": "/v1/track"})
    assert added.status_code == 201, added.text
    assert f'data-rule="{added.json()["id"]}"' in inspector.get("/control").text
    hit = httpx.post(
        f"{stack.urls['segment']}/v1/track", auth=("app-write-key", ""), json={"userId": "u", "event": "E"}
    )
    assert hit.status_code == 503
    assert inspector.delete(f"/control/faults/segment/{added.json()['id']}").status_code == 200
    assert inspector.delete("/control/faults/segment/9999").status_code == 400
    refused = inspector.post("/control/faults/segment", json={"path": "(a+)+", "status": "500"})
    assert refused.status_code == 400 and "repetition" in refused.json()["error"]


def test_clock_reset_and_state_round_trip_without_credentials(stack: Stack, inspector: httpx.Client) -> None:
    before = SegmentClient(stack.urls["segment"]).clock.now()
    assert inspector.post("/control/clock", json={"seconds": "3600"}).status_code == 200
    for name in ("segment", "pushwoosh", "bridge"):
        assert ControlClient(stack.urls[name]).clock.now() > before
    assert inspector.post("/control/clock", json={"seconds": "soon"}).status_code == 400
    sdk(stack).identify("kept", {"a": 1})
    exported = inspector.get("/control/state")
    assert "attachment" in exported.headers["content-disposition"]
    assert "app-write-key" not in exported.text and "pushwoosh-write-key" not in exported.text
    assert inspector.post("/control/reset", json={}).status_code == 200
    assert SegmentClient(stack.urls["segment"]).events() == []
    answer = inspector.put("/control/state", content=exported.content, headers={"content-type": "application/json"})
    assert answer.status_code == 200, answer.text
    segment = SegmentClient(stack.urls["segment"])
    assert [e["message"]["userId"] for e in segment.events()] == ["kept"]
    assert segment.write_key() == "app-write-key"  # put back from the running stack
    assert inspector.put("/control/state", json={"bridge": {}}).status_code == 400


def test_the_guard_refuses_rebinding_form_posts_and_other_origins(stack: Stack, inspector: httpx.Client) -> None:
    assert inspector.get("/live", headers={"Host": "attacker.example"}).status_code == 403
    form = inspector.post(
        "/control/reset", content="service=segment", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert form.status_code == 415
    other = inspector.post("/control/reset", json={}, headers={"Origin": "http://attacker.example"})
    assert other.status_code == 403
    same = inspector.post("/control/reset", json={}, headers={"Origin": stack.urls["inspector"]})
    assert same.status_code == 200
    assert "default-src 'self'" in inspector.get("/live").headers["content-security-policy"]


def test_the_stack_lists_the_inspector_on_loopback_even_when_exposed(tmp_path: Path) -> None:
    options = StackOptions(host="0.0.0.0", control_token="tok-123", locator_dir=tmp_path)
    with Stack(options) as exposed:
        url = exposed.urls["inspector"]
        assert url.startswith("http://127.0.0.1:")
        assert json.loads((tmp_path / "stack.json").read_text())["services"]["inspector"]["url"] == url
        page = httpx.get(f"{url}/control", timeout=15)  # no token needed here; it sends the token itself
        assert page.status_code == 200 and "tok-123" not in page.text
        assert httpx.get(exposed.urls["segment"].replace("0.0.0.0", "127.0.0.1") + "/_swoosh/config").status_code == 401


def test_pages_of_a_service_the_stack_does_not_run_say_so(tmp_path: Path) -> None:
    with Stack(StackOptions(only=("segment", "inspector"), locator_dir=tmp_path)) as partial:
        url = partial.urls["inspector"]
        assert httpx.get(f"{url}/live").status_code == 200
        missing = httpx.get(f"{url}/bridge")
        assert missing.status_code == 503 and "does not run the bridge" in missing.text
        assert httpx.get(f"{url}/control").status_code == 200


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text
json_bodies = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=8
)
live_fields = st.sampled_from(["source", "type", "event", "user", "status", "since", "until", "before", "x"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.dictionaries(live_fields, text, max_size=4),
)
def test_any_live_query_gets_a_page_never_a_server_error(inspector: httpx.Client, query: dict[str, str]) -> None:
    answer = inspector.get("/live", params=query)
    assert answer.status_code in (200, 400), answer.text[:300]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(
        [
            ("POST", "/bridge/replay"),
            ("POST", "/control/faults/segment"),
            ("POST", "/control/clock"),
            ("PUT", "/control/state"),
            ("POST", "/control/reset"),
        ]
    ),
    body=json_bodies,
)
def test_any_action_body_gets_a_clear_answer_never_a_server_error(
    inspector: httpx.Client, route: tuple[str, str], body: object
) -> None:
    method, path = route
    if path == "/control/reset" and body:
        body = {"service": "nope"} if isinstance(body, dict) and body.get("service") else {}
    answer = inspector.request(method, path, json=body)
    assert answer.status_code < 500 or (answer.status_code == 503 and "does not run" in answer.text), answer.text
    assert answer.headers["content-type"].startswith("application/json")
    if answer.status_code >= 400:
        assert answer.json()["error"]
