"""Names both sides of the integration share: the seven message events and Pushwoosh's device types.

The bottom layer holds them so the fake Pushwoosh (which emits these events and stores these device
types) and the bridge (which forwards the events and names the platforms to Segment) read one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Channel = Literal["push", "email", "sms", "whatsapp"]
# The seven message events Pushwoosh's delivery emits and its Segment source sends on.
MESSAGE_EVENT_NAMES = (
    "Email Sent",
    "Push Sent",
    "SMS Sent",
    "Email Delivered",
    "Push Delivered",
    "SMS Delivered",
    "Email Bounced",
)


@dataclass(frozen=True, slots=True)
class Platform:
    """One Pushwoosh device type: `code` is the `device_type` on the wire, `name` the display name."""

    code: int
    name: str
    channel: Channel


DEVICE_TYPES: dict[int, Platform] = {
    platform.code: platform
    for platform in (
        Platform(1, "iOS", "push"),
        Platform(2, "BlackBerry", "push"),
        Platform(3, "Android", "push"),
        Platform(5, "Windows Phone", "push"),
        Platform(7, "macOS", "push"),
        Platform(8, "Windows", "push"),
        Platform(9, "Amazon", "push"),
        Platform(10, "Safari", "push"),
        Platform(11, "Chrome", "push"),
        Platform(12, "Firefox", "push"),
        Platform(13, "IE11", "push"),
        Platform(14, "Email", "email"),
        Platform(17, "Huawei", "push"),
        Platform(18, "SMS", "sms"),
        Platform(19, "Xiaomi", "push"),
        Platform(21, "WhatsApp", "whatsapp"),
    )
}


def _key(name: str) -> str:
    """Names compare case-insensitively and ignore spaces, dashes and underscores ("windows_phone")."""
    return "".join(ch for ch in name.casefold() if ch not in " -_")


# Other spellings seen in SDKs, the integration API (`ios`, `android`, `web`) and older docs.
# "web" means Chrome: the integration API does not say which browser, and Chrome is the web-push
# platform the web SDK registers most often.
_ALIASES: dict[str, int] = {
    "web": 11,
    "mac": 7,
    "macosx": 7,
    "osx": 7,
    "ie": 13,
    "internetexplorer": 13,
    "wp": 5,
    "kindle": 9,
}

_BY_NAME: dict[str, Platform] = {_key(platform.name): platform for platform in DEVICE_TYPES.values()} | {
    _key(alias): DEVICE_TYPES[code] for alias, code in _ALIASES.items()
}


def platform_by_name(name: str) -> Platform:
    """The platform called `name` ("iOS", "android", "Windows Phone", "web", ...); KeyError if none."""
    if not isinstance(name, str):
        raise KeyError(name)
    return _BY_NAME[_key(name)]
