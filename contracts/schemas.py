"""The JSON Schema registry: every schema under contracts/schemas/, validated offline.

Schemas are Draft 2020-12 with `$id`s under `https://swoosh.dev/schemas/`; their `$ref`s resolve through
a `referencing.Registry` built from the package files only, so an unknown reference fails at once
instead of being fetched. A schema's name is its path without `.json` ("segment/track").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urldefrag, urljoin

import jsonschema
import jsonschema_rs
import referencing
import referencing.exceptions
from jsonschema.protocols import Validator
from referencing.jsonschema import DRAFT202012

BASE_URI = "https://swoosh.dev/schemas/"


@dataclass(frozen=True)
class ValidationProblem:
    """One way a payload breaks a schema: where (a JSON path like `$.batch[0].event`) and what.

    `authored` is true when the message is the schema's own text (`x-message`, `x-messages`,
    `x-required-messages`): for the request shapes of the fakes these are the real service's error texts,
    which the fakes reply with verbatim. `subject` is the path of the value the problem is about: the
    path itself, except for a missing property, where it is the path the property belongs at
    (`$.request.hwid` for a problem at `$.request`); the fakes rank problems by it.
    """

    path: str
    message: str
    authored: bool = field(default=False, compare=False)
    subject: str = field(default="", compare=False)
    plain: str = field(default="", compare=False)  # the message in plain English, for replies (see `reply`)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def reply(self, under: str = "$") -> str:
        """The text a fake answers with: the real service's words verbatim when authored, else where (relative
        to `under`, the part of the payload the caller thinks in) and what, in plain English (never a
        Python repr such as `None` or `'field'`)."""
        if self.authored:
            return self.message
        if not self.plain:
            where = self.path.removeprefix(under).lstrip(".") or under.rpartition(".")[2] or "$"
            return f"{where}: {self.message}"
        subject = self.subject or self.path
        where = subject.removeprefix(under).lstrip(".") if subject.startswith(under) else subject.lstrip("$.")
        return f"{where or under.rpartition('.')[2].lstrip('$') or 'the request body'} {self.plain}"


class SchemaViolation(ValueError):
    """Raised by `check`; `problems` holds every problem found, sorted."""

    def __init__(self, name: str, problems: list[ValidationProblem]) -> None:
        self.name = name
        self.problems = problems
        listing = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"payload does not match schema {name!r}:\n{listing}")


class UnknownSchema(KeyError):
    """A schema name that is not in contracts/schemas/."""

    def __str__(self) -> str:
        return f"unknown schema {self.args[0]!r}; known: {', '.join(names())}"


def _files() -> dict[str, Any]:
    root = resources.files("swoosh.contracts") / "schemas"
    found: dict[str, Any] = {}
    for group in sorted(root.iterdir(), key=lambda entry: entry.name):
        if not group.is_dir() or group.name.startswith(("_", ".")):
            continue
        for entry in sorted(group.iterdir(), key=lambda item: item.name):
            if entry.name.endswith(".json"):
                found[f"{group.name}/{entry.name[:-5]}"] = json.loads(entry.read_text(encoding="utf-8"))
    return found


@cache
def schemas() -> dict[str, dict[str, Any]]:
    """Every schema by name, loaded once from the package."""
    return _files()


def _refuse(uri: str) -> referencing.Resource[Any]:
    raise referencing.exceptions.NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs __init__ unseen


@cache
def registry() -> referencing.Registry[Any]:
    """All schemas by `$id`; a `$ref` to anything else raises instead of going to the network."""
    resources_by_id = [(schema["$id"], DRAFT202012.create_resource(schema)) for schema in schemas().values()]
    return referencing.Registry(retrieve=_refuse).with_resources(resources_by_id).crawl()  # type: ignore[call-arg]  # attrs __init__ mypy cannot see


def names() -> list[str]:
    """The schema names, sorted ("events/message-event", "segment/track", ...)."""
    return sorted(schemas())


def schema(name: str) -> dict[str, Any]:
    try:
        return schemas()[name]
    except KeyError:
        raise UnknownSchema(name) from None


def _inlined(node: Any, base: str, resolving: tuple[str, ...] = ()) -> Any:
    """`node` with every `$ref` replaced by what it points at (siblings kept beside it in an `allOf`).

    jsonschema resolves a `$ref` on every validation, which made small requests cost 4x their inlined
    form; resolving once, here, keeps the messages identical (the same subschemas report the errors).
    A reference back into one being inlined (recursion) stays a `$ref`, made absolute.
    """
    if isinstance(node, list):
        return [_inlined(item, base, resolving) for item in node]
    if not isinstance(node, dict):
        return node
    siblings = {key: _inlined(value, base, resolving) for key, value in node.items() if key != "$ref"}
    reference = node.get("$ref")
    if not isinstance(reference, str):
        return siblings
    target = urljoin(base, reference)
    if target in resolving:
        return {"$ref": target, **siblings}
    contents = registry().resolver().lookup(target).contents
    resolved = _inlined(contents, urldefrag(target).url, (*resolving, target))
    return {"allOf": [resolved], **siblings} if siblings else resolved


@cache
def validator(name: str) -> Validator:
    """The validator that explains: every problem with its path and (authored) message. Built once."""
    document = schema(name)
    return jsonschema.Draft202012Validator(_inlined(document, document["$id"]), registry=registry())


@cache
def verdict_validator(name: str) -> jsonschema_rs.Validator:
    """The validator that only judges, compiled to native code: ~1-2 µs where `validator` takes ~50-400 µs on
    the fakes' request shapes. The fakes call it on every request and ask `validator` why only when it says no;
    a property test holds the two to the same verdicts."""
    document = schema(name)
    return jsonschema_rs.Draft202012Validator(_inlined(document, document["$id"]), offline=True)


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if str(part).isidentifier() else f"[{part!r}]")
    return path


MAX_QUOTED = 60


def _short(instance: Any) -> str:
    if isinstance(instance, dict):
        return f"an object with {len(instance)} keys"
    if isinstance(instance, list):
        return f"an array of {len(instance)} items"
    return repr(instance)[:MAX_QUOTED] + "..."


def missing_property(error: jsonschema.ValidationError) -> str | None:
    """The property a `required` error is about ("'hwid' is a required property" -> "hwid")."""
    if error.validator != "required" or not isinstance(error.validator_value, list):
        return None
    return next((key for key in error.validator_value if error.message == f"{key!r} is a required property"), None)


def _message(error: jsonschema.ValidationError) -> tuple[str, bool]:
    """A schema's own words where jsonschema's text would be cryptic (anyOf, patterns) or where a fake must
    answer with the real service's text: `x-required-messages` per missing property, `x-messages` per
    keyword (`{value}` stands for the offending value), `x-message` for every other keyword of a
    subschema. A long quoted value (a whole batch) is summarised so a problem stays one line."""
    subschema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        text = subschema.get("x-required-messages", {}).get(missing_property(error))
        return (str(text), True) if text else (error.message, False)
    text = subschema.get("x-messages", {}).get(error.validator) or subschema.get("x-message")
    if text:
        return str(text).replace("{value}", _json(error.instance)), True
    quoted = repr(error.instance)
    if len(quoted) > MAX_QUOTED and error.message.startswith(quoted):
        return _short(error.instance) + error.message[len(quoted) :], False
    return error.message, False


_TYPE_WORDS = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + "..."


def plain_english(error: jsonschema.ValidationError) -> str:
    """A problem in words a service would use, naming the value by its place (`must be a string or null`,
    `latitude is required`): jsonschema's own texts quote Python reprs (`None is not of type 'string'`)."""
    kind, value = error.validator, error.instance
    rule: Any = error.validator_value  # typed `Any | Unset`; set on every error jsonschema raises
    if kind == "required":
        return "is required"
    if kind == "type":
        wanted = [rule] if isinstance(rule, str) else list(rule)
        return "must be " + " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in wanted)
    if kind == "enum":
        return "must be one of " + ", ".join(_json(choice) for choice in rule)
    if kind == "const":
        return f"must be {_json(rule)}"
    if kind in ("minLength", "maxLength"):
        if kind == "minLength" and rule == 1:
            return "must not be empty"
        return f"must be at {'least' if kind == 'minLength' else 'most'} {rule} characters long"
    if kind in ("minItems", "maxItems", "minProperties", "maxProperties"):
        noun = "items" if kind.endswith("Items") else "fields"
        return f"must have at {'least' if kind.startswith('min') else 'most'} {rule} {noun}"
    bounds = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "over", "exclusiveMaximum": "under"}
    if kind in bounds:
        return f"must be {bounds[kind]} {_json(rule)}"
    if kind == "additionalProperties" and isinstance(value, dict):
        known = set((error.schema or {}).get("properties", {})) if isinstance(error.schema, dict) else set()
        extra = ", ".join(sorted(str(k) for k in value if k not in known))
        return f"has fields it does not know: {extra}"
    if kind in ("pattern", "format"):
        return "is not in the expected format"
    if kind == "multipleOf":
        return f"must be a multiple of {_json(rule)}"
    if kind == "uniqueItems":
        return "must not repeat an item"
    return "is not valid here"


def _order(parts: Any) -> tuple[tuple[int, int, str], ...]:
    """Sort key of a path: array indexes numerically ($.batch[2] before $.batch[10]), keys by name."""
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in parts)


def validate(name: str, payload: Any) -> list[ValidationProblem]:
    """Every problem of `payload` against schema `name`, sorted by path; empty when it is valid."""
    if is_valid(name, payload):
        return []
    found: dict[ValidationProblem, tuple[Any, ...]] = {}
    try:
        for error in validator(name).iter_errors(payload):
            text, authored = _message(error)
            path = _json_path(error.absolute_path)
            missing = missing_property(error)
            subject = _json_path([*error.absolute_path, missing]) if missing is not None else path
            problem = ValidationProblem(path, text, authored, subject, plain_english(error))
            found.setdefault(problem, _order(error.absolute_path))
    except RecursionError:  # a payload nested deeper than Python's stack: refuse it, do not crash
        return [ValidationProblem("$", "nested too deeply to validate")]
    return sorted(found, key=lambda problem: (found[problem], problem.message))


def is_valid(name: str, payload: Any) -> bool:
    """Cheaper than `validate` when only the verdict matters."""
    try:
        return verdict_validator(name).is_valid(payload)
    except (ValueError, TypeError, OverflowError, RecursionError):  # not JSON-shaped: let jsonschema judge it
        try:
            return validator(name).is_valid(payload)
        except RecursionError:
            return False


def check(name: str, payload: Any) -> None:
    """Raise `SchemaViolation` listing every problem unless `payload` matches schema `name`."""
    problems = validate(name, payload)
    if problems:
        raise SchemaViolation(name, problems)
