"""Targeting cost: parse a segment once and evaluate it over 100,000 synthetic devices.

Run: /work/venv/bin/python bench/pushwoosh_targeting.py [--devices N] [--runs R]
Prints the median wall time of R runs per expression (parse + evaluate every device).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any

from swoosh.emulator.pushwoosh.filter_tree import Filter
from swoosh.emulator.pushwoosh.seglang import from_conditions, parse
from swoosh.emulator.pushwoosh.tags import TagType, coerce

APP = "ABCDE-12345"
NOW = 1_795_000_000.0
DAY = 86400
COUNTRIES = ["BR", "US", "FR", "DE", "PT", "JP"]
INTERESTS = ["shoes", "hats", "socks", "bags", "watches"]


@dataclass(slots=True)
class SyntheticDevice:
    """Facts over dicts, shaped like what a backend would keep per device."""

    application: str
    device_type: int
    user_id: str | None
    tags: dict[str, tuple[TagType, Any]]
    events: dict[str, float]

    def tag(self, name: str, application: str | None = None) -> tuple[TagType, Any] | None:
        return self.tags.get(name)

    def triggered(self, event: str, since: float | None, application: str | None = None) -> bool:
        at = self.events.get(event)
        return at is not None and (since is None or at >= since)


def population(size: int, seed: int = 7) -> list[SyntheticDevice]:
    """`size` devices with 10 tags each and an event history, deterministic by seed."""
    rng = random.Random(seed)
    devices = []
    for index in range(size):
        tags: dict[str, tuple[TagType, Any]] = {
            "Country": (TagType.STRING, rng.choice(COUNTRIES)),
            "Age": (TagType.INTEGER, rng.randint(13, 90)),
            "Spend": (TagType.DECIMAL, round(rng.uniform(0, 500), 2)),
            "VIP": (TagType.BOOLEAN, rng.random() < 0.1),
            "Interests": (TagType.LIST, rng.sample(INTERESTS, rng.randint(0, 3))),
            "Signup": (TagType.DATE, coerce(int(NOW - rng.randint(0, 400) * DAY), TagType.DATE)),
            "AppVersion": (TagType.VERSION, f"{rng.randint(1, 3)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}"),
            "City": (TagType.STRING, f"city-{rng.randint(0, 200)}"),
            "Sessions": (TagType.INTEGER, rng.randint(0, 1000)),
            "searched_product": (TagType.STRING, rng.choice(INTERESTS)),
        }
        events = {"SubscribedToOffers": NOW - rng.randint(0, 60) * DAY} if rng.random() < 0.3 else {}
        devices.append(SyntheticDevice(APP, rng.choice([1, 3, 11, 14]), f"user-{index}", tags, events))
    return devices


EXPRESSIONS: dict[str, Any] = {
    "app + platforms + tag": 'A("ABCDE-12345", ["iOS", "Android"]) * T("Country", IN, ["BR", "PT"])',
    "event within 30 days": 'A("ABCDE-12345") * E("SubscribedToOffers", 30)',
    "mixed, six conditions": (
        'A("ABCDE-12345") * (T("Age", BETWEEN, [18, 35]) + T("VIP", EQ, true)) '
        '* T("Signup", GTE, "90 days ago") * T("AppVersion", GTE, "2.1") \\ T("Interests", IN, ["hats"])'
    ),
    "conditions array (AND, 3)": [["Country", "EQ", "BR"], ["Spend", "GTE", 100], ["Interests", "NOTIN", ["socks"]]],
}


def build(source: Any) -> Filter:
    return parse(source) if isinstance(source, str) else from_conditions(source)


def run_once(source: Any, devices: list[SyntheticDevice]) -> tuple[float, int]:
    started = time.perf_counter()
    segment = build(source)
    matched = sum(1 for device in devices if segment.matches(device, NOW))
    return time.perf_counter() - started, matched


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__)
    arguments.add_argument("--devices", type=int, default=100_000)
    arguments.add_argument("--runs", type=int, default=5)
    options = arguments.parse_args()
    devices = population(options.devices)
    print(f"{options.devices} devices, median of {options.runs} runs (parse + evaluate every device)")
    for label, source in EXPRESSIONS.items():
        timings = []
        for _ in range(options.runs):
            elapsed, matched = run_once(source, devices)
            timings.append(elapsed)
        print(f"  {label:28s} {statistics.median(timings) * 1000:8.1f} ms   {matched:6d} matched")


if __name__ == "__main__":
    main()
