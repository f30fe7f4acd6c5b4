"""Follow one messageId, push message code or userId across the running stack (`swoosh trace`, the inspector).

`collect(services, id)` asks each service's control API what it saw (the fake Segment's events,
deliveries and warehouse, the bridge's trail, skips and dead letters, the fake Pushwoosh's journal,
tags, events, messages and message events) and hands it to the pure assembly in hops.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from swoosh.bridge.source import InvalidMessageEvent, message_id, parse_message_event
from swoosh.emulator.client import ControlAPIError
from swoosh.emulator.tls import trust_context
from swoosh.inspector.events_view import identifier, quoted, warehouse_tables
from swoosh.inspector.hops import (
    SAME_REQUEST_SECONDS,
    Back,
    Clocks,
    Forward,
    Push,
    Trace,
    back_chain,
    forward_chain,
    push_chains,
)
from swoosh.inspector.services import Services

USER_CHAINS = 20  # a userId's trace follows its latest this many messages and pushes
JOURNAL_KEPT = 1000
CREATING_PATHS = ("/json/1.3/createMessage", "/json/1.3/createTargetedMessage", "/json/1.3/createEmailMessage")


class TraceNotFound(LookupError):
    """No service has seen the id."""


def services_of(locator: dict[str, Any]) -> Services:
    """Clients of the services of a running stack, as its locator (stack.json) describes it."""
    urls = {name: str(service["url"]) for name, service in locator["services"].items() if name != "inspector"}
    ca_cert = (locator.get("tls") or {}).get("ca_cert")
    return Services.connect(urls, locator.get("control_token"), trust_context(ca_cert) if ca_cert else True)


def collect(services: Services, wanted: str) -> Trace:
    """The trace of `wanted`: a Segment messageId, a Pushwoosh message code, or a userId (in that order)."""
    wanted = wanted.strip()
    if not wanted:
        raise TraceNotFound("give a messageId, a push message code or a userId")
    looker = _Looker(services)
    events = looker.segment_events(messageId=wanted)
    if events and events[0]["source"] == "pushwoosh" and wanted.startswith("pw-"):
        back = looker.back(wanted, events)
        return Trace(wanted, "message", [back_chain(back, looker.clocks)])
    if events:
        forward = looker.forward(wanted, events)
        looker.read_journals()
        return Trace(wanted, "message", [forward_chain(forward, looker.clocks)])
    messages = looker.pushwoosh_items("messages", code=wanted)
    if messages:
        push = looker.push(messages[-1])
        looker.read_journals()
        return Trace(wanted, "push", push_chains(push, looker.clocks))
    return _user_trace(looker, wanted)


def _user_trace(looker: _Looker, user_id: str) -> Trace:
    sent = [e for e in looker.segment_events(userId=user_id) if e["source"] != "pushwoosh"][-USER_CHAINS:]
    codes = list(dict.fromkeys(e["message_code"] for e in looker.pushwoosh_items("message-events", user_id=user_id)))
    if not sent and not codes and not looker.pushwoosh_items("users", user_id=user_id):
        raise TraceNotFound(
            f"no messageId, push message code or userId {user_id!r} in the running stack "
            "(the fake Segment lists events at /_swoosh/events, the fake Pushwoosh messages at /_swoosh/messages)"
        )
    forwards = [looker.forward(mid, looker.segment_events(messageId=mid)) for mid in _message_ids(sent)]
    pushes = [
        looker.push(message, user_id)
        for code in codes[-USER_CHAINS:]
        for message in looker.pushwoosh_items("messages", code=code)
    ]
    looker.read_journals()
    groups = [[forward_chain(forward, looker.clocks)] for forward in forwards]
    groups += [push_chains(push, looker.clocks) for push in pushes]  # a push stays with its message events
    groups.sort(key=lambda group: group[0].started_at or 0.0)
    return Trace(user_id, "user", [chain for group in groups for chain in group])


def _message_ids(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["message"].get("messageId")) for e in events]


@dataclass
class _Wanted:
    """Journal entries a trace needs: those around `times` (wall clock), handed to `use` once read."""

    service: str
    path: str
    times: list[float]
    use: Callable[[list[dict[str, Any]]], None]


class _Looker:
    """Asks the services, remembering the answers one trace needs more than once; a missing service answers nothing."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.clocks = Clocks({})
        for name in ("segment", "pushwoosh", "bridge"):
            client = getattr(services, name)
            if client is not None:
                self.clocks.offsets[name] = float(client.call("GET", "/clock")["offset_seconds"])
        self._schemas: dict[str, str] | None = None
        self._wanted: list[_Wanted] = []

    def segment_events(self, **filters: Any) -> list[dict[str, Any]]:
        segment = self.services.segment
        return segment.items("events", **filters) if segment is not None else []

    def pushwoosh_items(self, collection: str, **filters: Any) -> list[dict[str, Any]]:
        pushwoosh = self.services.pushwoosh
        return pushwoosh.items(collection, **filters) if pushwoosh is not None else []

    def later(
        self, service: str, path: str, times: list[float | None], use: Callable[[list[dict[str, Any]]], None]
    ) -> None:
        """Ask for the service's requests to paths containing `path` around `times`, with the other asks."""
        known = [t for t in times if t is not None]
        if known and getattr(self.services, service) is not None:
            self._wanted.append(_Wanted(service, path, known, use))

    def read_journals(self) -> None:
        """One journal read per service and path for the whole trace (the span of every ask), each ask then
        given the entries around its own times: a trace reads a few entries however busy the service."""
        groups: dict[tuple[str, str], list[_Wanted]] = {}
        for wanted in self._wanted:
            groups.setdefault((wanted.service, wanted.path), []).append(wanted)
        for (service, path), asks in groups.items():
            offset = self.clocks.offsets.get(service, 0.0)
            since, until = _window([t for ask in asks for t in ask.times], offset)
            client = getattr(self.services, service)
            entries = client.journal(path=path, since=since, until=until, limit=JOURNAL_KEPT)
            for ask in asks:
                low, high = _window(ask.times, offset)
                ask.use([e for e in entries if low <= e["at"] <= high])
        self._wanted.clear()

    def forward(self, mid: str, events: list[dict[str, Any]]) -> Forward:
        seen = Forward(mid, events)
        if self.services.segment is not None:
            seen.deliveries = self.services.segment.deliveries(messageId=mid)
        bridge = self.services.bridge
        if bridge is not None:
            attempts = [a for d in seen.deliveries for a in d.get("history") or []]
            times = [self.clocks.wall("segment", a.get(key)) for a in attempts for key in ("sent_at", "at")]
            self.later(
                "bridge", "/segment", times, lambda found: _set(seen, "ingress", [e for e in found if mid in e["body"]])
            )
            seen.trail = bridge.trail(mid)
            seen.skipped = bridge.skipped(message_id=mid)
            seen.dead_letters = [d for d in bridge.dead_letters() if _carries(d["payload"], mid)]
        if any(r["kind"] == "sent" for r in seen.trail):
            sent = [r for r in seen.trail if r["kind"] == "sent"]
            times = [self.clocks.wall("bridge", r["at"] + r["duration_ms"] / 1000) for r in sent]
            self.later("pushwoosh", "/integration-segment/", times, lambda found: _set(seen, "journal", found))
            user_id = events[0]["message"].get("userId") if events else None
            if user_id:
                found = self.pushwoosh_items("tags", user_id=user_id)
                seen.tags = found[0]["tags"] if found else None
                seen.posted = self.pushwoosh_items("events", subject=f"user:{user_id}")
        seen.warehouse = self.warehouse(events)
        return seen

    def push(self, message: dict[str, Any], user_id: str | None = None) -> Push:
        code = message["code"]
        push = Push(message)
        created = self.clocks.wall("pushwoosh", message.get("created_at"))

        def creation(found: list[dict[str, Any]]) -> None:
            made = [e for e in found if e["path"] in CREATING_PATHS and code in (e.get("response_body") or "")]
            push.created = made[-1] if made else None

        self.later("pushwoosh", "/json/1.3/create", [created], creation)
        push.deliveries = self.pushwoosh_items("deliveries", message_code=code)
        for event in self.pushwoosh_items("message-events", message_code=code):
            if user_id is not None and event.get("user_id") != user_id:
                continue
            try:
                derived = message_id(parse_message_event(event))
            except InvalidMessageEvent:
                continue
            push.backs.append(self.back(derived, self.segment_events(messageId=derived), event))
        return push

    def back(self, mid: str, events: list[dict[str, Any]], event: dict[str, Any] | None = None) -> Back:
        if event is None and events:
            code = ((events[0]["message"].get("context") or {}).get("pushwoosh") or {}).get("message_code")
            candidates = self.pushwoosh_items("message-events", message_code=code) if code else []
            event = next((e for e in candidates if _derived(e) == mid), None)
        bridge = self.services.bridge
        trail = bridge.trail(mid) if bridge is not None else []
        return Back(mid, event, trail, events, self.warehouse(events))

    def warehouse(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The warehouse rows of the first good event (the warehouse loads a little after the answer)."""
        segment = self.services.segment
        good = next((e for e in events if e["status"] == "good"), None)
        if segment is None or good is None:
            return []
        if self._schemas is None:
            self._schemas = {s["name"]: s["schema"] for s in segment.config()["sources"]}
        message, schema = good["message"], self._schemas.get(good["source"] or "")
        if schema is None:
            return []
        rows = []
        for table in warehouse_tables(message):
            statement = (
                f"select * from {identifier(schema)}.{identifier(table)} where id = {quoted(message['messageId'])}"
            )
            try:
                rows += [{"table": f"{schema}.{table}", **row} for row in segment.sql(statement)]
            except ControlAPIError:  # no such table yet: not loaded
                continue
        return rows


def _window(times: list[float], offset: float) -> tuple[float, float]:
    """The span of `times` (wall clock) on a service's clock, widened to catch the requests made then."""
    return max(min(times) + offset - SAME_REQUEST_SECONDS, 0.0), max(times) + offset + SAME_REQUEST_SECONDS


def _set(seen: Any, name: str, value: Any) -> None:
    setattr(seen, name, value)


def _derived(event: dict[str, Any]) -> str | None:
    try:
        return message_id(parse_message_event(event))
    except InvalidMessageEvent:
        return None


def _carries(payload: str, mid: str) -> bool:
    return f'"messageId":"{mid}"' in payload or f'"messageId": "{mid}"' in payload
