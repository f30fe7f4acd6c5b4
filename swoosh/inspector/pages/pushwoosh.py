"""Pushwoosh: the fake Pushwoosh's applications, devices, users and their tags, the events its
integration API received, messages (targets, statistics, the content each device got) and each
device's inbox drawn as notifications.

Every list is a page the fake cuts (`GET /_swoosh/<collection>?offset=&limit=`, newest first), so a
page costs its own rows whatever the fake holds; the one extra row asked for says whether an older
page exists.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, render_template, request

from swoosh.contracts.shared_names import MESSAGE_EVENT_NAMES
from swoosh.emulator.client import ControlAPIError
from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.inspector.registry import Page
from swoosh.inspector.services import services

PAGE_SIZE = 25
# view -> (title, the filters its form offers: control-API field -> label)
VIEWS: dict[str, tuple[str, dict[str, str]]] = {
    "devices": ("Devices", {"hwid": "HWID", "user_id": "User ID", "platform": "Platform"}),
    "users": ("Users", {"user_id": "User ID"}),
    "events": ("Events", {"name": "Event name", "subject": "Subject (user:ID or device:HWID)"}),
    "messages": ("Messages", {"code": "Message code", "campaign": "Campaign", "status": "Status"}),
    "applications": ("Applications", {}),
}
INBOX_STATUS = {1: "unread", 2: "read", 3: "opened", 4: "deleted"}

bp = Blueprint("pushwoosh", __name__)
page = Page(slug="pushwoosh", title="Pushwoosh", blueprint=bp, order=20, endpoint="pushwoosh.index")


@bp.get("/pushwoosh")
def index() -> Any:
    pushwoosh = services().need_pushwoosh()
    view = request.args.get("view", "devices")
    if view not in VIEWS:
        abort(404, f"no view {view!r}; the views are {', '.join(VIEWS)}")
    filters = {name: value for name in VIEWS[view][1] if (value := request.args.get(name, "").strip())}
    number = page_number(request.args.get("page"))
    error = ""
    try:
        rows, older = paged(pushwoosh, view, number, **filters)
    except ControlAPIError as exc:  # a filter the fake refused: say why
        rows, older, error = [], False, str(exc)
    if view == "devices":
        for device in rows:
            device["tags"] = pushwoosh.tags(hwid=device["hwid"])
    return render_template(
        "pushwoosh.html",
        view=view,
        views={name: title for name, (title, _) in VIEWS.items()},
        fields=VIEWS[view][1],
        filters=filters,
        rows=rows,
        number=number,
        older=older,
        error=error,
        when=when,
    ), (400 if error else 200)


@bp.get("/pushwoosh/message/<code>")
def message(code: str) -> Any:
    pushwoosh = services().need_pushwoosh()
    found = known(pushwoosh.messages(code=code), f"no message {code} (deleted, reset, or never created)")
    number = page_number(request.args.get("page"))
    deliveries, older = paged(pushwoosh, "deliveries", number, message_code=code)
    return render_template(
        "pushwoosh_message.html",
        message=found[-1],
        statistics=statistics(pushwoosh.message_events(message_code=code), pushwoosh.deliveries(message_code=code)),
        deliveries=deliveries,
        number=number,
        older=older,
        when=when,
    )


@bp.get("/pushwoosh/device/<hwid>")
def device(hwid: str) -> Any:
    pushwoosh = services().need_pushwoosh()
    found = known(pushwoosh.devices(hwid=hwid), f"no device {hwid} (unregistered, reset, or never registered)")
    names = {a["code"]: a["name"] for a in pushwoosh.items("applications")}
    app = names.get(found[0]["application"]) or found[0]["application"]
    inbox = [notification(entry, app) for entry in reversed(pushwoosh.inbox(hwid))]
    return render_template(
        "pushwoosh_device.html",
        devices=found,
        tags=pushwoosh.tags(hwid=hwid),
        inbox=[entry for entry in inbox if entry["status"] != "deleted"],
        when=when,
    )


def known(found: list[dict[str, Any]], missing: str) -> list[dict[str, Any]]:
    """`found`, or a 404 saying `missing` when it is empty."""
    if not found:
        abort(404, missing)
    return found


def paged(client: PushwooshClient, collection: str, number: int, **filters: str) -> tuple[list[dict[str, Any]], bool]:
    """Page `number` (0 = newest) of `collection`, newest first, and whether an older page exists."""
    items = client.items(collection, limit=PAGE_SIZE + 1, offset=number * PAGE_SIZE, **filters)
    return list(reversed(items[-PAGE_SIZE:])), len(items) > PAGE_SIZE


def page_number(raw: str | None) -> int:
    if not raw:
        return 0
    if not raw.isdigit():
        abort(400, "page must be a whole number (0 is the newest)")
    return int(raw)


def statistics(events: list[dict[str, Any]], deliveries: list[dict[str, Any]]) -> dict[str, Any]:
    """A message's counts: message events by name (in Pushwoosh's order), deliveries by status, per platform."""
    by_name = Counter(e["event"] for e in events)
    ordered = [n for n in MESSAGE_EVENT_NAMES if by_name[n]] + sorted(set(by_name) - set(MESSAGE_EVENT_NAMES))
    return {
        "events": [(name, by_name[name]) for name in ordered],
        "deliveries": sorted(Counter(d["status"] for d in deliveries).items()),
        "platforms": sorted(Counter(str(e.get("platform")) for e in events if e["event"].endswith("Sent")).items()),
        "devices": len({d["hwid"] for d in deliveries}),
    }


def notification(entry: dict[str, Any], app: str) -> dict[str, Any]:
    """An inbox entry as a phone shows a notification: the app, when, title and text, the link, read or not."""
    return {
        "app": app,
        "title": entry.get("title") or "",
        "text": entry.get("content") or entry.get("text") or "",
        "link": entry.get("link") or "",
        "at": when(entry.get("timestamp") or float(entry.get("send_date") or 0)),
        "status": INBOX_STATUS.get(int(entry.get("status") or 1), "unread"),
        "campaign": entry.get("campaign_code") or "",
        "message_code": entry.get("message_code") or "",
        "data": entry.get("data"),
    }


def when(seconds: Any) -> str:
    """A Unix time as readable UTC; blank when there is none."""
    try:
        moment = datetime.fromtimestamp(float(seconds), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return ""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
