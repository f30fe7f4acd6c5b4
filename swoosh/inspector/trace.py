"""Follow one messageId, push message code or userId across the running stack (`swoosh trace`, the inspector).

`collect(services, id)` asks each service's control API what it saw (the fake Segment's events,
deliveries and warehouse, the bridge's trail, skips and dead letters, the fake Pushwoosh's journal,
tags, events, messages and message events) and hands it to the pure assembly in hops.py.
"""

from __future__ import annotations

from typing import Any

from swoosh.bridge.source import InvalidMessageEvent, message_id, parse_message_event
from swoosh.emulator.client import ControlAPIError
from swoosh.emulator.tls import trust_context
from swoosh.inspector.events_view import identifier, quoted, warehouse_tables
from swoosh.inspector.hops import (
    SAME_REQUEST_SECONDS,
    Back,
    Chain,
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
    if events:
        back = events[0]["source"] == "pushwoosh" and wanted.startswith("pw-")
        chain = back_chain(looker.back(wanted, events), looker.clocks) if back else None
        return Trace(wanted, "message", [chain or forward_chain(looker.forward(wanted, events), looker.clocks)])
    messages = looker.pushwoosh_items("messages", code=wanted)
    if messages:
        return Trace(wanted, "push", push_chains(looker.push(messages[-1]), looker.clocks))
    return _user_trace(looker, wanted)


def _user_trace(looker: _Looker, user_id: str) -> Trace:
    sent = [e for e in looker.segment_events(userId=user_id) if e["source"] != "pushwoosh"][-USER_CHAINS:]
    codes = list(dict.fromkeys(e["message_code"] for e in looker.pushwoosh_items("message-events", user_id=user_id)))
    if not sent and not codes and not looker.pushwoosh_items("users", user_id=user_id):
        raise TraceNotFound(
            f"no messageId, push message code or userId {user_id!r} in the running stack "
            "(the fake Segment lists events at /_swoosh/events, the fake Pushwoosh messages at /_swoosh/messages)"
        )
    groups: list[list[Chain]] = []  # a push stays together with its message events' chains
    for event in sent:
        mid = event["message"].get("messageId")
        groups.append([forward_chain(looker.forward(mid, looker.segment_events(messageId=mid)), looker.clocks)])
    for code in codes[-USER_CHAINS:]:
        for message in looker.pushwoosh_items("messages", code=code):
            groups.append(push_chains(looker.push(message, user_id), looker.clocks))
    groups.sort(key=lambda group: group[0].started_at or 0.0)
    return Trace(user_id, "user", [chain for group in groups for chain in group])


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

    def segment_events(self, **filters: Any) -> list[dict[str, Any]]:
        segment = self.services.segment
        return segment.items("events", **filters) if segment is not None else []

    def pushwoosh_items(self, collection: str, **filters: Any) -> list[dict[str, Any]]:
        pushwoosh = self.services.pushwoosh
        return pushwoosh.items(collection, **filters) if pushwoosh is not None else []

    def journal(self, service: str, path: str, times: list[float | None]) -> list[dict[str, Any]]:
        """The service's requests to paths containing `path` that arrived around `times` (wall clock), so
        a trace reads a few journal entries however busy the service is."""
        client = getattr(self.services, service)
        known = [t for t in times if t is not None]
        if client is None or not known:
            return []
        offset = self.clocks.offsets.get(service, 0.0)
        since = max(min(known) + offset - SAME_REQUEST_SECONDS, 0.0)
        until = max(known) + offset + SAME_REQUEST_SECONDS
        found: list[dict[str, Any]] = client.journal(path=path, since=since, until=until, limit=JOURNAL_KEPT)
        return found

    def forward(self, mid: str, events: list[dict[str, Any]]) -> Forward:
        seen = Forward(mid, events)
        if self.services.segment is not None:
            seen.deliveries = self.services.segment.deliveries(messageId=mid)
        bridge = self.services.bridge
        if bridge is not None:
            attempts = [a for d in seen.deliveries for a in d.get("history") or []]
            times = [self.clocks.wall("segment", a.get(key)) for a in attempts for key in ("sent_at", "at")]
            seen.ingress = [e for e in self.journal("bridge", "/segment", times) if mid in e["body"]]
            seen.trail = bridge.trail(mid)
            seen.skipped = bridge.skipped(message_id=mid)
            seen.dead_letters = [d for d in bridge.dead_letters() if _carries(d["payload"], mid)]
        if any(r["kind"] == "sent" for r in seen.trail):
            sent = [r for r in seen.trail if r["kind"] == "sent"]
            times = [self.clocks.wall("bridge", r["at"] + r["duration_ms"] / 1000) for r in sent]
            seen.journal = self.journal("pushwoosh", "/integration-segment/", times)
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
        push.created = next(
            (
                e
                for e in reversed(self.journal("pushwoosh", "/json/1.3/create", [created]))
                if e["path"] in CREATING_PATHS and code in (e.get("response_body") or "")
            ),
            None,
        )
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


def _derived(event: dict[str, Any]) -> str | None:
    try:
        return message_id(parse_message_event(event))
    except InvalidMessageEvent:
        return None


def _carries(payload: str, mid: str) -> bool:
    return f'"messageId":"{mid}"' in payload or f'"messageId": "{mid}"' in payload
