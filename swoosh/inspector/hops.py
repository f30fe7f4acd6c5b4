"""A trace's hops, assembled from what the services reported: pure, no I/O (swoosh/inspector/trace.py fetches).

A trace is one or more chains; a chain is the hops one thing took, in causal order, each with when
it happened (wall-clock seconds: every service's own clock offset, which `/_swoosh/clock` can move,
is taken off), how long it took where that is known, its status, a one-line summary, and what was
sent and answered. Three kinds of chain:
- forward: a Segment message -> the fake Segment -> its destination delivery to the bridge -> the
  bridge's request(s) to Pushwoosh -> the fake Pushwoosh's journal -> the effect (tags, event);
- push: a Pushwoosh message -> its creation -> what each device got (rendered content);
- back: one message event of a push -> the bridge -> the fake Segment -> the warehouse row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from swoosh.emulator.wire import shown

OK, RETRY, FAILED, SKIPPED, WAITING = "ok", "retry", "failed", "skipped", "waiting"
EVENT_STATUS = {"good": OK, "bad": FAILED, "duplicate": SKIPPED, "dropped": FAILED}
DELIVERY_STATUS = {"delivered": OK, "pending": RETRY, "failed": FAILED}
SENT_STATUS = {"delivered": OK, "retry": RETRY, "narrowed": RETRY, "dead": FAILED}
INTEGRATION_PATH = "/integration-segment/v1/"
SAME_REQUEST_SECONDS = 0.5  # a journal entry this close in time to a send of the same path and body is its arrival


@dataclass
class Hop:
    service: str  # segment | bridge | pushwoosh
    step: str  # what happened, a few words
    at: float | None  # wall-clock seconds; None when the service keeps no time for it
    status: str  # ok | retry | failed | skipped | waiting
    summary: str  # one line for a person
    duration_ms: float | None = None
    request: Any = None
    reply: Any = None


@dataclass
class Chain:
    title: str
    subject: str  # the messageId or message code the chain follows
    hops: list[Hop] = field(default_factory=list)

    @property
    def started_at(self) -> float | None:
        return min((h.at for h in self.hops if h.at is not None), default=None)

    @property
    def took_ms(self) -> float | None:
        start = self.started_at
        return None if start is None else _ms(max(h.at for h in self.hops if h.at is not None) - start)

    def to_dict(self) -> dict[str, Any]:
        start = self.started_at
        return {
            "title": self.title,
            "subject": self.subject,
            "started_at": start,
            "took_ms": self.took_ms,
            "hops": [
                {
                    **vars(h),
                    "offset_ms": None if h.at is None or start is None else _ms(h.at - start),
                }
                for h in self.hops
            ],
        }


@dataclass
class Trace:
    id: str
    kind: str  # message | push | user
    chains: list[Chain]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "chains": [c.to_dict() for c in self.chains]}


@dataclass
class Clocks:
    """Each service's clock offset (seconds ahead of the wall clock)."""

    offsets: dict[str, float] = field(default_factory=dict)

    def wall(self, service: str, at: float | str | None) -> float | None:
        seconds = _epoch(at)
        return None if seconds is None else seconds - self.offsets.get(service, 0.0)


@dataclass
class Forward:
    """What the services reported about one Segment message."""

    message_id: str
    events: list[dict[str, Any]]  # the fake Segment's events with this messageId, any status
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # the fake Segment's destination deliveries
    ingress: list[dict[str, Any]] = field(default_factory=list)  # the bridge's journal entries that carried it
    trail: list[dict[str, Any]] = field(default_factory=list)  # the bridge's trail records carrying it
    skipped: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    journal: list[dict[str, Any]] = field(default_factory=list)  # the fake Pushwoosh's integration requests
    tags: dict[str, Any] | None = None  # the user's tags in Pushwoosh now; None: no such user
    posted: list[dict[str, Any]] = field(default_factory=list)  # events Pushwoosh recorded for the user
    warehouse: list[dict[str, Any]] = field(default_factory=list)  # rows, each with its "table"


@dataclass
class Back:
    """What the services reported about one message event on its way back to Segment."""

    message_id: str  # the track's messageId the bridge derives from (message code, hwid, event)
    event: dict[str, Any] | None  # the fake Pushwoosh's message event (None once it is forgotten)
    trail: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # the fake Segment's events with the messageId
    warehouse: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Push:
    message: dict[str, Any]  # the fake Pushwoosh's message
    created: dict[str, Any] | None = None  # the journal entry of the call that created it
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # per device: status, rendered content
    backs: list[Back] = field(default_factory=list)


def forward_chain(seen: Forward, clocks: Clocks) -> Chain:
    first = seen.events[0]["message"] if seen.events else {}
    who = first.get("userId") or first.get("anonymousId") or "?"
    chain = Chain(f"{first.get('type', 'message')} {_name(first)}{who}".strip(), seen.message_id)
    hops = chain.hops
    for event in seen.events:
        hops.append(_received(event, clocks))
    for delivery in seen.deliveries:
        hops.append(_delivery(delivery, seen.ingress, clocks))
    for record in seen.trail:
        if record["kind"] == "accepted":
            hops.append(Hop("bridge", "accepted", clocks.wall("bridge", record["at"]), OK, "into the outbox"))
            continue
        hops.append(_sent(record, clocks))
        arrival = _arrival(record, seen.journal, clocks)
        if arrival is not None:
            hops.append(arrival)
            if record["status"] is not None and 200 <= record["status"] < 300:
                hops.extend(_effects(record, seen, arrival.at, clocks))
    for skip in seen.skipped:
        at = clocks.wall("bridge", skip.get("at"))
        hops.append(Hop("bridge", "skipped", at, SKIPPED, f"not sent to Pushwoosh: {skip['reason']}"))
    for dead in seen.dead_letters:
        summary = f"dead letter #{dead['id']} after {dead['attempts']} attempt(s): {dead['last_status'] or ''} "
        summary += f"{(dead['last_error'] or '')[:120]}"
        hops.append(Hop("bridge", "dead-lettered", None, FAILED, summary.strip(), reply=dead))
    _expect_progress(chain, seen)
    hops.extend(_warehouse(seen.warehouse, first))
    return chain


def push_chains(push: Push, clocks: Clocks) -> list[Chain]:
    message = push.message
    code = message["code"]
    chain = Chain(f"push {code}" + (f" (campaign {message['campaign']})" if message.get("campaign") else ""), code)
    created = push.created or {}
    chain.hops.append(
        Hop(
            "pushwoosh",
            "message created",
            clocks.wall("pushwoosh", message.get("created_at")),
            OK,
            f"{message.get('kind', 'push')} to {message.get('targets', 0)} target(s): {message.get('status')}",
            created.get("duration_ms"),
            _parsed(created["body"]) if created else message.get("notification"),
            _parsed(created["response_body"]) if created else None,
        )
    )
    for delivery in push.deliveries:
        status = OK if delivery.get("status") == "delivered" else FAILED
        device = str(delivery.get("hwid")) + (f" (user {delivery['user_id']})" if delivery.get("user_id") else "")
        text = delivery.get("content") or delivery.get("title") or ""
        chain.hops.append(
            Hop(
                "pushwoosh",
                f"{delivery.get('channel', 'push')} to {delivery.get('hwid')}",
                clocks.wall("pushwoosh", delivery.get("timestamp")),
                status,
                f"{device}: {delivery.get('status')}: {shown(text)}",
                reply=delivery,
            )
        )
    return [chain, *(back_chain(back, clocks) for back in push.backs)]


def back_chain(back: Back, clocks: Clocks) -> Chain:
    event = back.event or {}
    title = f"{event.get('event', 'message event')} for {event.get('hwid', '?')}"
    chain = Chain(title, back.message_id)
    if back.event is not None:
        who = f"user {event['user_id']}" if event.get("user_id") else f"device {event.get('hwid')}"
        chain.hops.append(
            Hop(
                "pushwoosh",
                event.get("event", "message event"),
                clocks.wall("pushwoosh", event.get("timestamp")),
                OK,
                f"{who}, message {event.get('message_code')}",
                reply=event,
            )
        )
    for record in back.trail:
        if record["kind"] == "accepted":
            summary = "message event from the fake Pushwoosh's webhook, into the outbox"
            chain.hops.append(Hop("bridge", "accepted", clocks.wall("bridge", record["at"]), OK, summary))
        else:
            chain.hops.append(_sent(record, clocks))
    for received in back.events:
        chain.hops.append(_received(received, clocks))
    chain.hops.extend(_warehouse(back.warehouse, back.events[0]["message"] if back.events else {}))
    if not back.events:
        chain.hops.append(Hop("segment", "not received yet", None, WAITING, "no event with this messageId in Segment"))
    return chain


def _received(event: dict[str, Any], clocks: Clocks) -> Hop:
    message = event.get("message") or {}
    state = event["status"]
    why = f" ({event['reason']})" if event.get("reason") else ""
    who = message.get("userId") or message.get("anonymousId")
    return Hop(
        "segment",
        "received",
        clocks.wall("segment", event.get("received_at")),
        EVENT_STATUS.get(state, FAILED),
        f"{event.get('type')} {_name(message)}{who} from source {event.get('source')}: {state}{why}",
        request=message,
        reply={k: event.get(k) for k in ("status", "reason", "violations")},
    )


def _delivery(delivery: dict[str, Any], ingress: list[dict[str, Any]], clocks: Clocks) -> Hop:
    """The fake Segment's delivery to a destination: every attempt, and the bridge's answers when it was the bridge."""
    history = delivery.get("history") or []
    replies = ", ".join(_attempt(a) for a in history) or "none yet"
    first = clocks.wall("segment", history[0].get("sent_at", history[0]["at"])) if history else None
    last = clocks.wall("segment", history[-1]["at"]) if history else None
    answers = [{k: e.get(k) for k in ("at", "status", "response_body", "duration_ms", "fault")} for e in ingress]
    return Hop(
        "segment",
        f"delivered to {delivery['destination']}",
        first,
        DELIVERY_STATUS.get(delivery["state"], WAITING),
        f"{delivery['state']} after {len(history)} attempt(s): {replies}",
        None if first is None or last is None else _ms(last - first),
        {k: delivery.get(k) for k in ("destination", "destination_id", "messageId", "type", "event")},
        {"attempts": history, **({"bridge_answers": answers} if answers else {})},
    )


def _attempt(attempt: dict[str, Any]) -> str:
    answer = str(attempt.get("status") or attempt.get("error"))
    took = attempt.get("duration_ms")
    return answer if took is None else f"{answer} in {took:.1f} ms"


def _sent(record: dict[str, Any], clocks: Clocks) -> Hop:
    target = "Pushwoosh " + INTEGRATION_PATH + record["endpoint"] if record["direction"] == "segment" else "Segment"
    if record["direction"] != "segment":
        target += " " + record["endpoint"]
    then = ""
    if record["result"] == "retry" and record.get("next_attempt_at"):
        then = f", next attempt in {record['next_attempt_at'] - record['at']:.1f} s"
    answer = record["status"] if record["status"] is not None else (record.get("reply") or "no answer")
    return Hop(
        "bridge",
        f"sent to {target}",
        clocks.wall("bridge", record["at"]),
        SENT_STATUS.get(record["result"], WAITING),
        f"attempt {record['attempt']}: {answer} -> {record['result']}{then}"
        + (f" ({len(record['message_ids'])} events in the request)" if len(record["message_ids"]) > 1 else ""),
        record["duration_ms"],
        _parsed(record["body"]) if not record.get("body_truncated") else record["body"],
        {k: record.get(k) for k in ("status", "reply", "result", "next_attempt_at")},
    )


def _arrival(record: dict[str, Any], journal: list[dict[str, Any]], clocks: Clocks) -> Hop | None:
    """The fake Pushwoosh's journal entry of this request: same path and body, the closest in time."""
    sent_at = clocks.wall("bridge", record["at"]) or 0.0
    path = INTEGRATION_PATH + record["endpoint"]
    same = [
        entry
        for entry in journal
        if entry["path"] == path
        and abs((clocks.wall("pushwoosh", entry["at"]) or 0.0) - sent_at) <= SAME_REQUEST_SECONDS
        and (record.get("body_truncated") or entry.get("body_truncated") or entry["body"] in (record["body"], ""))
    ]  # an injected fault answers before the body is read: its entry has none
    if not same:
        return None
    entry = min(same, key=lambda e: abs((clocks.wall("pushwoosh", e["at"]) or 0.0) - sent_at))
    fault = f" (injected fault: {entry['fault']})" if entry.get("fault") else ""
    return Hop(
        "pushwoosh",
        f"received {entry['method']} {path}",
        clocks.wall("pushwoosh", entry["at"]),
        OK if 200 <= entry["status"] < 300 else FAILED,
        f"answered {entry['status']}{fault}",
        entry.get("duration_ms"),
        _parsed(entry["body"]),
        _parsed(entry.get("response_body") or ""),
    )


def _effects(record: dict[str, Any], seen: Forward, at: float | None, clocks: Clocks) -> list[Hop]:
    """What the request changed in Pushwoosh, as it stands now: the user's tags, or the events recorded."""
    body = _parsed(record["body"])
    if not isinstance(body, dict):
        return []
    if record["endpoint"] == "track-user":
        sent = body.get("attributes") or {}
        tags = seen.tags or {}
        missing = [k for k in sent if k not in tags]
        values = ", ".join(f"{k}={shown(tags[k])}" for k in sent if k in tags) or "none"
        status = OK if seen.tags is not None and not missing else WAITING
        summary = f"tags of {body.get('user_id')} now: {values}" + (
            f"; not set: {', '.join(missing)}" if missing else ""
        )
        return [Hop("pushwoosh", "tags set", at, status, summary, reply=seen.tags)]
    if record["endpoint"] == "delete-user":
        gone = seen.tags is None
        summary = f"user {body.get('external_id')} " + ("deleted" if gone else "still there")
        return [Hop("pushwoosh", "user deleted", at, OK if gone else WAITING, summary)]
    hops = []
    for item in body.get("events") or []:
        if not _is_this_message(item, seen):
            continue
        found = [p for p in seen.posted if _same_event(p, item)]
        for posted in found:
            hops.append(
                Hop(
                    "pushwoosh",
                    "event recorded",
                    clocks.wall("pushwoosh", posted.get("stored_at")),
                    OK,
                    f"{posted['name']} for {posted['subject']}",
                    reply=posted,
                )
            )
        if not found:
            hops.append(Hop("pushwoosh", "event recorded", at, WAITING, f"no {item.get('name')} recorded (yet)"))
    return hops


def _is_this_message(item: dict[str, Any], seen: Forward) -> bool:
    message = seen.events[0]["message"] if seen.events else {}
    return item.get("name") == message.get("event") and _epoch(item.get("timestamp")) == _epoch(
        message.get("timestamp")
    )


def _same_event(posted: dict[str, Any], item: dict[str, Any]) -> bool:
    subjects = {f"user:{item.get('user_id')}", f"device:{item.get('device_id')}", f"device:{item.get('hwid')}"}
    when = _epoch(item.get("timestamp"))
    return (
        posted.get("name") == item.get("name")
        and posted.get("subject") in subjects
        and (when is None or abs(float(posted.get("timestamp", 0)) - when) < 0.002)
    )


def _expect_progress(chain: Chain, seen: Forward) -> None:
    """Say where a good message stopped, when a hop that should follow has not happened (yet)."""
    good = any(e["status"] == "good" for e in seen.events)
    if not good or seen.skipped or seen.dead_letters:
        return
    if not seen.deliveries and not seen.trail:
        chain.hops.append(Hop("segment", "not delivered", None, WAITING, "no destination delivery of it (yet)"))
    elif any(d["state"] == "delivered" for d in seen.deliveries) and not seen.trail:
        summary = "not in the bridge's trail (not a bridge destination, or older than the trail keeps)"
        chain.hops.append(Hop("bridge", "not seen", None, WAITING, summary))


def _warehouse(rows: list[dict[str, Any]], message: dict[str, Any]) -> list[Hop]:
    if not rows:
        return []
    tables = ", ".join(row["table"] for row in rows)
    return [Hop("segment", "warehouse row", None, OK, f"in {tables}", reply=rows)]


def _name(message: dict[str, Any]) -> str:
    name = message.get("event") or message.get("name")
    return f"{shown(name)} of " if name else ""


def _parsed(text: str) -> Any:
    try:
        return orjson.loads(text) if text else None
    except orjson.JSONDecodeError:
        return text


def _epoch(value: float | str | None) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return None


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
