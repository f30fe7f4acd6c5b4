"""Tracking plans (Segment Protocols): a JSON Schema per event name plus a common schema.

A plan file is JSON:
    {"mode": "allow" | "omit" | "block",
     "common": {<schema applied to every message>},
     "events": {"Order Completed": {<schema>} | {"1": {<schema>}, "2": {<schema>}}}}
Versioned event schemas are picked by `context.protocols.event_version` (default: the highest).
Schemas validate the whole message (so `properties` is under `"properties"`), with their own
`$schema` (draft-07 or 2020-12; 2020-12 when absent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from swoosh.contracts.schemas import missing_property

MODES = ("allow", "omit", "block")


class TrackingPlanError(ValueError):
    """A plan that cannot be loaded; the message says what is wrong."""


@dataclass
class Verdict:
    violations: list[dict[str, str]] = field(default_factory=list)
    blocked: bool = False


def _validator(schema: Any, where: str) -> Validator:
    if not isinstance(schema, dict):
        raise TrackingPlanError(f"{where}: a schema must be a JSON object")
    # Segment's tracking plans are draft-07 JSON Schema; a schema naming another draft gets that one.
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    _refuse_outside_refs(schema, where)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise TrackingPlanError(f"{where}: invalid schema: {exc.message}") from exc
    return cls(schema, registry=Registry(retrieve=_never_retrieve))  # type: ignore[call-arg]  # attrs __init__


REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")


def _refuse_outside_refs(schema: dict[str, Any], where: str) -> None:
    """A plan is checked on every event: a `$ref` to a URL or a file would be fetched each time (or make
    every event a 500), so only references inside the plan's own schema (`#/...`) are accepted."""
    pending: list[Any] = [schema]
    while pending:  # iterative: a plan may nest deeper than Python's recursion limit
        node = pending.pop()
        if isinstance(node, dict):
            for keyword in REF_KEYWORDS:
                ref = node.get(keyword)
                if ref is not None and not (isinstance(ref, str) and ref.startswith("#")):
                    raise TrackingPlanError(
                        f"{where}: {keyword} {str(ref)[:200]!r} points outside the plan; tracking plans never fetch "
                        "anything: inline the schema or use a local reference such as '#/definitions/name'"
                    )
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)


def _never_retrieve(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs __init__ mypy cannot see


VIOLATION_EVENT = "Violation Generated"


def violation_generated(message: dict[str, Any], violation: dict[str, str], source: Any, plan: str) -> dict[str, Any]:
    """A violation as Segment forwards it: a track call from user `schema-violations` describing the
    offending event (`eventMessageID`, `eventName`, ...) and the violation (field, type, description)."""
    context: dict[str, Any] = message["context"] if isinstance(message.get("context"), dict) else {}
    app: dict[str, Any] = context["app"] if isinstance(context.get("app"), dict) else {}
    field = violation["field"]
    return {
        "type": "track",
        "event": VIOLATION_EVENT,
        "userId": "schema-violations",
        "properties": {
            "appVersion": str(app.get("version") or ""),
            "eventMessageID": message.get("messageId"),
            "eventName": message.get("event") or message.get("name"),
            "eventSentAt": message.get("sentAt"),
            "eventTimestamp": message.get("timestamp"),
            "eventType": message.get("type"),
            "sourceID": source.source_id,
            "sourceName": source.name,
            "sourceSlug": source.schema,
            "trackingPlanID": plan,
            "trackingPlanName": plan,
            "violationDescription": f"{field} is required" if violation["type"] == "Required" else violation["message"],
            "violationField": field,
            "violationType": violation["type"],
        },
        "context": {"app": None, "library": {"name": "swoosh-protocols", "version": "1"}},
    }


class TrackingPlan:
    def __init__(self, spec: dict[str, Any], name: str = "plan") -> None:
        if not isinstance(spec, dict):
            raise TrackingPlanError("a tracking plan must be a JSON object")
        self.name = name
        self.mode = spec.get("mode", "allow")
        if self.mode not in MODES:
            raise TrackingPlanError(f"mode must be one of {', '.join(MODES)}")
        self.spec = spec
        forward = spec.get("forward_violations_to")
        if forward is not None and not isinstance(forward, str):
            raise TrackingPlanError("forward_violations_to must be a source name")
        self.forward_violations_to: str | None = forward  # Segment's "Forwarding Settings: Violations"
        self.common = _validator(spec["common"], "common") if spec.get("common") is not None else None
        self.events: dict[str, dict[str, Validator]] = {}
        events = spec.get("events", {})
        if not isinstance(events, dict):
            raise TrackingPlanError("events must be an object of event name -> schema")
        for event, schema in events.items():
            if isinstance(schema, dict) and schema and all(str(k).isdigit() for k in schema):
                self.events[event] = {str(v): _validator(s, f"{event} v{v}") for v, s in schema.items()}
            else:
                self.events[event] = {"1": _validator(schema, event)}

    @classmethod
    def load(cls, path: Path) -> TrackingPlan:
        try:
            return cls(json.loads(Path(path).read_text()), Path(path).stem)
        except (OSError, json.JSONDecodeError) as exc:
            raise TrackingPlanError(f"{path}: {exc}") from exc

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "mode": self.mode, "events": sorted(self.events)}

    def _event_validator(self, message: dict[str, Any]) -> Validator | None:
        name = message.get("event") if message.get("type") == "track" else None
        versions = self.events.get(name) if isinstance(name, str) else None
        if not versions:
            return None
        context: dict[str, Any] = message["context"] if isinstance(message.get("context"), dict) else {}
        protocols: dict[str, Any] = context["protocols"] if isinstance(context.get("protocols"), dict) else {}
        wanted = str(protocols.get("event_version", ""))
        return versions.get(wanted) or versions[max(versions, key=int)]

    def check(self, message: dict[str, Any]) -> Verdict:
        """Violations of the common and event schemas; applies `omit` in place; `block` blocks."""
        verdict = Verdict()
        offending: set[str] = set()
        for validator in (self.common, self._event_validator(message)):
            if validator is None:
                continue
            for error in validator.iter_errors(message):
                path = list(error.absolute_path)
                missing = missing_property(error)
                field = [*path, missing] if missing is not None else path
                verdict.violations.append(
                    {
                        "path": "/".join(str(p) for p in path),
                        "message": error.message,
                        "field": ".".join(str(p) for p in field),
                        "type": str(error.validator).capitalize(),
                    }
                )
                if len(path) >= 2 and path[0] == "properties":
                    offending.add(str(path[1]))
                elif path == ["properties"] and error.validator == "additionalProperties":
                    allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
                    instance: Any = error.instance  # typed `Any | Unset`: set on every error raised
                    offending.update(k for k in instance if k not in allowed)
        if verdict.violations and self.mode == "block":
            verdict.blocked = True
        elif offending and self.mode == "omit" and isinstance(message.get("properties"), dict):
            message["properties"] = {k: v for k, v in message["properties"].items() if k not in offending}
        return verdict
