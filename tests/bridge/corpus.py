"""A seeded corpus of Segment events with unusual values in every field the Pushwoosh destination maps.

Nulls, empty strings, wrong types (numbers, booleans, arrays, objects where text belongs and the
reverse), numeric strings, unicode, anonymous events: what a real source sends now and then.
Values a JavaScript Date parses differently from any standard (`new Date("Nov 22 2026")` and other
V8 guesses) are left out: the bridge reads ISO 8601, RFC 2822, epoch numbers and dayjs's own forms.
So is `context: null`: Segment's runtime crashes on it (a TypeError destructuring `context.personas`)
instead of applying a rule; the bridge maps such an event like one without a context.
"""

from __future__ import annotations

import random
from typing import Any

MISSING = object()
TEXTS: tuple[Any, ...] = ("plain", "Zoë 🚀 東京", "  spaced  ", "", "null", "0", "true")
ODD: tuple[Any, ...] = (
    None,
    "",
    42,
    0,
    -7,
    3.5,
    1.0,
    1e21,
    0.000001,
    True,
    False,
    [],
    ["one"],
    [5],
    [1, 2],
    {},
    {"k": "v"},
)
NUMBERISH: tuple[Any, ...] = (30.1, -76.94, 0, "30.1", " 42 ", "1e3", "0x1F", "abc", "", None, True, [5], ["7.5"], {})
TIMESTAMPS: tuple[Any, ...] = (
    "2026-11-22T14:08:43.998Z",
    "2026-11-22T14:08:43+02:00",
    "2026-11-22 14:08:43",
    "20261122",
    "2026-13-45",
    "1763820523",
    1763820523,
    "Sun, 22 Nov 2026 14:08:43 GMT",
    "yesterday",
    "",
    None,
    True,
    {},
    [],
)
PROPERTIES: tuple[Any, ...] = ({"plan": "gold"}, {}, {"nested": {"a": [1, None]}, "ü": "ñ"}, [1, 2], "text", None, 5)


def _value(rng: random.Random, usual: Any, odd: tuple[Any, ...] = ODD, odd_rate: float = 0.35) -> Any:
    roll = rng.random()
    if roll < 0.1:
        return MISSING
    if roll < 0.1 + odd_rate:
        return rng.choice(odd)
    return usual


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not MISSING:
        target[key] = value


def _context(rng: random.Random, i: int) -> dict[str, Any]:
    context: dict[str, Any] = {}
    device: dict[str, Any] = {}
    for key, usual in (("id", f"device-{i}"), ("type", rng.choice(["ios", "android", "web"])), ("model", "Pixel 8")):
        _put(device, key, _value(rng, usual))
    _put(device, "token", _value(rng, f"tok-{i}", odd_rate=0.2))
    _put(context, "device", _value(rng, device, odd=(None, "", [], "device", {}), odd_rate=0.1))
    _put(context, "app", _value(rng, {"version": _value(rng, rng.choice(["2.1", "10.0.3"]))}, odd_rate=0.1))
    _put(context, "os", {"version": _value(rng, "17.1")})
    for key, usual in (("locale", "en-US"), ("timezone", "Europe/Amsterdam"), ("userAgent", "Mozilla/5.0")):
        _put(context, key, _value(rng, usual))
    location: dict[str, Any] = {}
    _put(location, "country", _value(rng, rng.choice(TEXTS)))
    _put(location, "city", _value(rng, "San Francisco"))
    for key in ("latitude", "longitude"):
        _put(location, key, _value(rng, rng.uniform(-90, 90), odd=NUMBERISH, odd_rate=0.5))
    _put(context, "location", _value(rng, location, odd=(None, "", [], {}), odd_rate=0.1))
    return context


def event(rng: random.Random, i: int) -> dict[str, Any]:
    kind = rng.choice(["track", "track", "page", "screen", "identify", "identify"])
    message: dict[str, Any] = {"type": kind, "messageId": f"m-{i}"}
    _put(message, "userId", _value(rng, f"user-{i}", odd_rate=0.25))
    if rng.random() < 0.3:
        message["anonymousId"] = f"anon-{i}"
    _put(message, "context", _value(rng, _context(rng, i), odd=("", "ctx", []), odd_rate=0.05))
    if kind == "identify":
        traits: dict[str, Any] = {"name": rng.choice(TEXTS), "plan": _value(rng, "gold")}
        _put(traits, "email", _value(rng, f"user{i}@example.com"))
        if rng.random() < 0.3:
            traits["device_id"] = "reserved-is-dropped"
        _put(message, "traits", _value(rng, traits, odd=(None, "", [], ["x"], "traits"), odd_rate=0.1))
    else:
        name_key = "event" if kind == "track" else "name"
        _put(message, name_key, _value(rng, rng.choice(["Signed Up", "Viewed Product", "Ödeme ✓"])))
        if rng.random() < 0.15:
            message["name"] = "Fallback Name"  # a track whose `event` is missing falls back to `name`
        _put(message, "timestamp", _value(rng, "2026-11-22T14:08:43.998Z", odd=TIMESTAMPS, odd_rate=0.4))
        _put(message, "properties", _value(rng, {"n": i, "plan": "gold"}, odd=PROPERTIES, odd_rate=0.3))
    return message


def _present(value: Any) -> Any:
    """`value` without the keys whose value was left MISSING."""
    if isinstance(value, dict):
        return {k: _present(v) for k, v in value.items() if v is not MISSING}
    return [_present(v) for v in value] if isinstance(value, list) else value


def corpus(seed: int = 20261122, count: int = 400) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [_present(event(rng, i)) for i in range(count)]
