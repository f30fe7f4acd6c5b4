"""A fault rule from the Control page's form (all strings) to the control API's JSON rule.

Blank fields are left out; numbers become numbers and the checkbox a boolean. What the rule means is
checked by the service itself (emulator/faults.py), whose message the page shows as it is.
"""

from __future__ import annotations

from typing import Any

INTEGER_FIELDS = ("status", "times")
NUMBER_FIELDS = ("delay_ms", "retry_after", "probability")
TEXT_FIELDS = ("method", "path")


class FormError(ValueError):
    """A field that is not what it says (a number that is not one)."""


def rule_from_form(form: dict[str, Any]) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = str(form.get(name) or "").strip()
        if value:
            rule[name] = value
    for name in (*INTEGER_FIELDS, *NUMBER_FIELDS):
        value = str(form.get(name) or "").strip()
        if not value:
            continue
        try:
            rule[name] = int(value) if name in INTEGER_FIELDS else float(value)
        except ValueError:
            raise FormError(
                f"{name} must be a {'whole ' if name in INTEGER_FIELDS else ''}number, not {value!r}"
            ) from None
    if str(form.get("drop") or "").lower() in ("on", "true", "1", "yes"):
        rule["drop"] = True
    return rule
