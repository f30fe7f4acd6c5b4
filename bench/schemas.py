"""Cost of schema validation on the fakes' hot paths: µs per `swoosh.contracts.validate` / `is_valid` call.

Run: /work/venv/bin/python bench/schemas.py [--repeat N]. Prints a Markdown table for bench/RESULTS.md and
docs/contracts.md. Payloads: a typical SDK track call (fixtures), a 10-event post-events body, a message
event, the fake Pushwoosh's /json/1.3 shape check (`shape_refusal`) on typical registerDevice, setTags and
createMessage bodies; the fake Segment's own per-message check (`swoosh.emulator.segment.messages.problem`) for
comparison.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from swoosh import contracts, fixtures
from swoosh.emulator.pushwoosh.api import shape_refusal
from swoosh.emulator.segment.messages import problem


def per_call_us(action: Callable[[], Any], repeat: int) -> float:
    """Median over 5 runs of the mean µs per call."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(repeat):
            action()
        runs.append((time.perf_counter() - start) / repeat * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    repeat = parser.parse_args().repeat
    fake = fixtures.make_faker(1)
    track = fake.segment_track()
    event = next(iter(fixtures.generate("message-events", 1, seed=1)))
    post_events = {
        "events": [
            {
                "user_id": f"u{i}",
                "app_code": "ABCDE-12345",
                "name": "SubscribedToOffers",
                "timestamp": "2026-11-22T14:08:43.998Z",
                "attributes": {"plan": "gold"},
            }
            for i in range(10)
        ]
    }
    population = fixtures.Population(seed=1, size=1)
    user = population.users[0]
    device = {"request": population.pushwoosh.register_device(user.devices[0], user)}
    set_tags = {"request": population.pushwoosh.set_tags(user.devices[0], user, {"Plan": "gold", "Age": 42})}
    create_message = {
        "request": {
            "application": "ABCDE-12345",
            "auth": "KEY123",
            "notifications": [{"send_date": "now", "content": "Hi {FirstName|CapitalizeFirst|}", "users": ["u1"]}],
        }
    }
    refused = {"request": {**device["request"], "device_type": 99}}
    contracts.validate("segment/track", track)  # compile once, outside the timing
    rows = [
        ("`segment/track`, typical SDK track call", lambda: contracts.validate("segment/track", track)),
        ("`segment/track`, `is_valid` only", lambda: contracts.is_valid("segment/track", track)),
        ("fake Segment's own check (`messages.problem`)", lambda: problem(track, "track")),
        ("`pushwoosh/post-events`, 10 events", lambda: contracts.validate("pushwoosh/post-events", post_events)),
        ("`events/bridge-message-event`", lambda: contracts.validate("events/bridge-message-event", event)),
        ("`events/message-event`", lambda: contracts.validate("events/message-event", event)),
        ("/json/1.3 registerDevice shape check", lambda: shape_refusal("pushwoosh/register-device", device)),
        ("/json/1.3 setTags shape check", lambda: shape_refusal("pushwoosh/set-tags", set_tags)),
        ("/json/1.3 createMessage shape check", lambda: shape_refusal("pushwoosh/create-message", create_message)),
        ("/json/1.3 registerDevice refusal, explained", lambda: shape_refusal("pushwoosh/register-device", refused)),
    ]
    print("| payload | µs per call |")
    print("|---|---|")
    for label, action in rows:
        print(f"| {label} | {per_call_us(action, repeat):.1f} |")


if __name__ == "__main__":
    main()
