"""The Control page's state file carries no credential: they are taken out on export and put back,
from the running stack's own state, on import.

The services' exports keep what a restart needs, credentials included (a source's write key, a
destination's signing secret, a webhook's token, API tokens). A file a person downloads may be
shared, so the inspector replaces those with `<redacted>`; importing it back fills each one from the
same place in the stack's current state (a list of named things is matched by name, else by position).
Where the stack has nothing there (a source it does not know), `<redacted>` stays, as the services'
own exports leave a message's `writeKey`.
"""

from __future__ import annotations

from typing import Any

from swoosh.emulator.journal import REDACTED

SECRET_KEYS = frozenset({"write_key", "writeKey", "secret", "token", "api_tokens", "auth", "vapid_private_key"})


def without_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (REDACTED if k in SECRET_KEYS and v else without_secrets(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def with_secrets(value: Any, current: Any) -> Any:
    """`value` with every `<redacted>` replaced by what `current` holds at the same place, if anything."""
    if value == REDACTED:
        return current if current is not None else value
    if isinstance(value, dict):
        fields = current if isinstance(current, dict) else {}
        return {k: with_secrets(v, fields.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        items = current if isinstance(current, list) else []
        by_name = {item.get("name"): item for item in items if isinstance(item, dict) and "name" in item}
        out = []
        for index, item in enumerate(value):
            if isinstance(item, dict) and "name" in item:  # a named thing: its own twin or none
                twin = by_name.get(item["name"])
            else:
                twin = items[index] if index < len(items) else None
            out.append(with_secrets(item, twin))
        return out
    return value
