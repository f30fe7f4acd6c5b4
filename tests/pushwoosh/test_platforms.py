"""Device types: every code in the reference, name lookup as the APIs spell it, channels."""

from __future__ import annotations

import pytest

from swoosh.contracts.shared_names import DEVICE_TYPES, Platform, platform_by_name
from swoosh.emulator.pushwoosh.platforms import message_type

REFERENCE_CODES = {
    1: "iOS",
    2: "BlackBerry",
    3: "Android",
    5: "Windows Phone",
    7: "macOS",
    8: "Windows",
    9: "Amazon",
    10: "Safari",
    11: "Chrome",
    12: "Firefox",
    13: "IE11",
    14: "Email",
    17: "Huawei",
    18: "SMS",
    19: "Xiaomi",
    21: "WhatsApp",
}


def test_every_reference_code_is_known_with_its_name() -> None:
    assert {code: platform.name for code, platform in DEVICE_TYPES.items()} == REFERENCE_CODES
    assert all(platform.code == code for code, platform in DEVICE_TYPES.items())


def test_channels() -> None:
    channels = {code: platform.channel for code, platform in DEVICE_TYPES.items()}
    assert channels[14] == "email"
    assert channels[18] == "sms"
    assert channels[21] == "whatsapp"
    assert {code for code, channel in channels.items() if channel == "push"} == set(REFERENCE_CODES) - {14, 18, 21}


def test_platform_is_frozen() -> None:
    with pytest.raises(AttributeError):
        DEVICE_TYPES[1].name = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("iOS", 1),
        ("ios", 1),
        ("IOS", 1),
        ("Android", 3),
        ("android", 3),
        ("Chrome", 11),
        ("web", 11),
        ("Email", 14),
        ("SMS", 18),
        ("Windows Phone", 5),
        ("windows_phone", 5),
        ("macOS", 7),
        ("Mac OS X", 7),
        ("IE11", 13),
        ("WhatsApp", 21),
        ("Huawei", 17),
    ],
)
def test_platform_by_name(name: str, code: int) -> None:
    assert platform_by_name(name) == DEVICE_TYPES[code]


@pytest.mark.parametrize("name", ["", "Symbian", "i0s", 3, None])
def test_platform_by_name_unknown_raises_key_error(name: object) -> None:
    with pytest.raises(KeyError):
        platform_by_name(name)  # type: ignore[arg-type]


def test_message_type_per_channel() -> None:
    assert message_type("push") == "Push"
    assert message_type("email") == "Email"
    assert message_type("sms") == "SMS"
    assert message_type("whatsapp") == "SMS"
    with pytest.raises(KeyError):
        message_type("pigeon")


def test_every_platform_has_a_message_type() -> None:
    assert all(isinstance(message_type(p.channel), str) for p in DEVICE_TYPES.values())
    assert isinstance(DEVICE_TYPES[1], Platform)
