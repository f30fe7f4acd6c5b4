"""The trace's pure assembly (swoosh/inspector/hops.py): what the services reported, turned into timed hops."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from swoosh.inspector.hops import Back, Clocks, Forward, Push, back_chain, forward_chain, push_chains

MID = "m-1"
IDENTIFY = {"type": "identify", "userId": "u1", "traits": {"plan": "gold"}, "messageId": MID}
TRACK = {"type": "track", "userId": "u1", "event": "Bought", "timestamp": "2026-11-30T10:00:00.000Z", "messageId": MID}
TRACK_USER_BODY = '{"attributes":{"plan":"gold"},"user_id":"u1"}'


def received(message: dict[str, Any], at: float = 100.0, status: str = "good", reason: str | None = None) -> dict:
    return {
        "status": status,
        "reason": reason,
        "source": "app",
        "type": message["type"],
        "received_at": at,
        "message": message,
    }


def sent(at: float, status: int | None, result: str, attempt: int = 1, **extra: Any) -> dict[str, Any]:
    record = {
        "kind": "sent",
        "direction": "segment",
        "endpoint": "track-user",
        "at": at,
        "duration_ms": 3.0,
        "attempt": attempt,
        "message_ids": [MID],
        "body": TRACK_USER_BODY,
        "body_truncated": False,
        "status": status,
        "reply": None if status == 200 else '{"message": "busy"}',
        "result": result,
        "next_attempt_at": at + 1.5 if result == "retry" else None,
    }
    return record | extra


def journal_entry(at: float, status: int, body: str = TRACK_USER_BODY, path: str = "track-user") -> dict[str, Any]:
    return {
        "method": "POST",
        "path": f"/integration-segment/v1/{path}",
        "at": at,
        "body": body,
        "body_truncated": False,
        "status": status,
        "response_body": "",
        "duration_ms": 0.5,
        "fault": "status" if status >= 500 else None,
    }


def steps(chain: Any) -> list[tuple[str, str, str]]:
    return [(h.service, h.step, h.status) for h in chain.hops]


def test_an_identify_retried_once_shows_every_hop_in_order_with_wall_clock_offsets() -> None:
    clocks = Clocks({"pushwoosh": 3600.0})  # the fake Pushwoosh's clock was advanced an hour
    seen = Forward(
        MID,
        [received(IDENTIFY)],
        deliveries=[
            {
                "destination": "Pushwoosh",
                "state": "delivered",
                "history": [{"sent_at": 100.01, "at": 100.02, "duration_ms": 10.0, "status": 200, "error": None}],
            }
        ],
        ingress=[{"at": 100.015, "status": 200, "response_body": '{"accepted":1}', "duration_ms": 2.0, "fault": None}],
        trail=[
            {"kind": "accepted", "direction": "segment", "at": 100.015, "message_ids": [MID]},
            sent(100.03, 503, "retry"),
            sent(101.60, 200, "delivered", attempt=2),
        ],
        journal=[journal_entry(3700.031, 503, ""), journal_entry(3701.601, 200), journal_entry(3701.9, 200, "{}")],
        tags={"plan": "gold"},
        warehouse=[{"table": "app.identifies", "id": MID}],
    )
    chain = forward_chain(seen, clocks)
    assert steps(chain) == [
        ("segment", "received", "ok"),
        ("segment", "delivered to Pushwoosh", "ok"),
        ("bridge", "accepted", "ok"),
        ("bridge", "sent to Pushwoosh /integration-segment/v1/track-user", "retry"),
        ("pushwoosh", "received POST /integration-segment/v1/track-user", "failed"),
        ("bridge", "sent to Pushwoosh /integration-segment/v1/track-user", "ok"),
        ("pushwoosh", "received POST /integration-segment/v1/track-user", "ok"),
        ("pushwoosh", "tags set", "ok"),
        ("segment", "warehouse row", "ok"),
    ]
    shown = chain.to_dict()
    offsets = [h["offset_ms"] for h in shown["hops"]]
    assert offsets[:7] == [0.0, 10.0, 15.0, 30.0, 31.0, 1600.0, 1601.0]  # the hour taken off Pushwoosh's times
    assert shown["hops"][-1]["offset_ms"] is None
    assert "next attempt in 1.5 s" in chain.hops[3].summary and "injected fault" in chain.hops[4].summary
    assert chain.hops[1].reply["bridge_answers"][0]["response_body"] == '{"accepted":1}'
    assert chain.hops[3].request == {"attributes": {"plan": "gold"}, "user_id": "u1"}
    assert 'plan="gold"' in chain.hops[7].summary


def test_a_track_shows_the_event_pushwoosh_recorded_and_says_when_it_is_missing() -> None:
    body = '{"events":[{"user_id":"u1","name":"Bought","timestamp":"2026-11-30T10:00:00.000Z","attributes":{}}]}'
    record = sent(100.0, 200, "delivered", endpoint="post-events", body=body)
    posted = {"name": "Bought", "subject": "user:u1", "timestamp": 1796032800.0, "stored_at": 100.01}
    seen = Forward(MID, [received(TRACK)], trail=[record], journal=[journal_entry(100.0, 200, body, "post-events")])
    missing = forward_chain(seen, Clocks())
    assert steps(missing)[-1] == ("pushwoosh", "event recorded", "waiting")
    seen.posted = [posted, {**posted, "name": "Other"}]
    [recorded] = [h for h in forward_chain(seen, Clocks()).hops if h.step == "event recorded"]
    assert recorded.status == "ok" and recorded.reply == posted


def test_a_bad_event_stops_at_segment_and_a_skipped_or_dead_one_at_the_bridge() -> None:
    bad = forward_chain(
        Forward(MID, [received(IDENTIFY, status="bad", reason="userId or anonymousId required")]), Clocks()
    )
    assert steps(bad) == [("segment", "received", "failed")] and "userId or anonymousId" in bad.hops[0].summary
    skipped = Forward(MID, [received(IDENTIFY)], skipped=[{"reason": "missing userId", "at": "2026-11-30T10:00:00Z"}])
    assert steps(forward_chain(skipped, Clocks()))[-1] == ("bridge", "skipped", "skipped")
    dead = Forward(
        MID,
        [received(IDENTIFY)],
        trail=[sent(100.0, 400, "dead")],
        dead_letters=[{"id": 7, "attempts": 1, "last_status": 400, "last_error": "bad attributes"}],
    )
    chain = forward_chain(dead, Clocks())
    assert steps(chain)[-1] == ("bridge", "dead-lettered", "failed") and "#7" in chain.hops[-1].summary
    assert not [h for h in chain.hops if h.step == "tags set"]  # a refused request changed nothing


def test_a_good_event_not_delivered_yet_says_so() -> None:
    chain = forward_chain(Forward(MID, [received(IDENTIFY)]), Clocks())
    assert steps(chain)[-1] == ("segment", "not delivered", "waiting")
    delivered = {"destination": "Pushwoosh", "state": "delivered", "history": [{"at": 100.1, "status": 200}]}
    chain = forward_chain(Forward(MID, [received(IDENTIFY)], deliveries=[delivered]), Clocks())
    assert steps(chain)[-1] == ("bridge", "not seen", "waiting")


def test_a_push_shows_each_device_and_each_message_event_back_to_the_warehouse() -> None:
    message = {"code": "C-1", "campaign": "PROMO", "kind": "push", "targets": 1, "status": "sent", "created_at": 200.0}
    created = {"body": '{"request":{"auth":"<redacted>"}}', "response_body": '{"status_code":200}', "duration_ms": 2.0}
    event = {
        "event": "Push Sent",
        "hwid": "phone-1",
        "user_id": "u1",
        "message_code": "C-1",
        "timestamp": "1970-01-01T00:03:20.005Z",
    }
    track = {"type": "track", "event": "Push Sent", "userId": "u1", "messageId": "pw-1"}
    back = Back(
        "pw-1",
        event,
        trail=[
            {"kind": "accepted", "direction": "pushwoosh", "at": 200.01, "message_ids": ["pw-1"]},
            sent(
                200.02, 200, "delivered", direction="pushwoosh", endpoint="/v1/batch", message_ids=["pw-1"], body="{}"
            ),
        ],
        events=[{**received(track, at=200.03), "source": "pushwoosh"}],
        warehouse=[{"table": "pushwoosh.push_sent", "id": "pw-1"}],
    )
    delivery = {
        "hwid": "phone-1",
        "user_id": "u1",
        "channel": "push",
        "status": "delivered",
        "content": "10% off Shoes!",
        "timestamp": 200.001,
    }
    push, back_events = push_chains(Push(message, created, [delivery], [back]), Clocks())
    assert steps(push) == [("pushwoosh", "message created", "ok"), ("pushwoosh", "push to phone-1", "ok")]
    assert "10% off Shoes!" in push.hops[1].summary and push.hops[0].reply == {"status_code": 200}
    assert steps(back_events) == [
        ("pushwoosh", "Push Sent", "ok"),
        ("bridge", "accepted", "ok"),
        ("bridge", "sent to Segment /v1/batch", "ok"),
        ("segment", "received", "ok"),
        ("segment", "warehouse row", "ok"),
    ]
    assert [h["offset_ms"] for h in back_events.to_dict()["hops"]][:4] == [0.0, 5.0, 15.0, 25.0]


def test_a_message_event_not_yet_in_segment_says_so() -> None:
    chain = back_chain(Back("pw-2", None), Clocks())
    assert steps(chain) == [("segment", "not received yet", "waiting")]


@given(
    st.lists(st.sampled_from(["good", "bad", "duplicate", "dropped"]), min_size=1, max_size=3),
    st.lists(st.sampled_from(["delivered", "retry", "dead", "narrowed"]), max_size=4),
    st.lists(st.sampled_from(["delivered", "pending", "failed"]), max_size=2),
)
def test_any_mix_of_outcomes_assembles_into_hops_with_known_statuses(
    statuses: list[str], results: list[str], states: list[str]
) -> None:
    seen = Forward(
        MID,
        [received(IDENTIFY, at=100.0 + i, status=s) for i, s in enumerate(statuses)],
        deliveries=[{"destination": "Pushwoosh", "state": s, "history": []} for s in states],
        trail=[sent(101.0 + i, 200 if r == "delivered" else 503, r) for i, r in enumerate(results)],
        journal=[journal_entry(101.0, 200)],
    )
    shown = forward_chain(seen, Clocks()).to_dict()
    assert {h["status"] for h in shown["hops"]} <= {"ok", "retry", "failed", "skipped", "waiting"}
    assert shown["hops"][0]["offset_ms"] == 0.0
    assert all(h["offset_ms"] is None or h["offset_ms"] >= 0 for h in shown["hops"])
