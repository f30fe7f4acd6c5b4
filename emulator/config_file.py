"""Reading `swoosh.toml`: parsed once, checked against the `config/swoosh-toml` schema, refused whole.

Every service reads its own section from what this returns, so a typo (`[segmnt]`, `max_events =
"lots"`, `code = 5`) stops `swoosh up` with one line naming the file, the key and what is allowed,
instead of being ignored or failing deep inside a service.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema

from swoosh.contracts.schemas import missing_property, validator

SCHEMA = "config/swoosh-toml"
_TYPES = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a table",
}


class ConfigFileError(ValueError):
    """The configuration file is wrong; the message names the file and the key."""


def read_config(path: Path | None) -> dict[str, Any]:
    """The whole file, checked; `{}` without a file."""
    if path is None:
        return {}
    path = Path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigFileError(f"{path}: is a folder, not a TOML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path}: cannot read it ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None
    problems = sorted(_problems(table), key=lambda item: item[0])
    if problems:
        key, text = problems[0]
        where = f"{key}: " if key else ""
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        raise ConfigFileError(f"{path}: {where}{text}{more}")
    for source in table.get("segment", {}).get("sources", []):
        plan = source.get("tracking_plan")
        if plan and not (path.parent / plan).is_file():
            raise ConfigFileError(
                f"{path}: segment.sources[{source['name']}].tracking_plan: no file {path.parent / plan}"
                " (paths are relative to the config file)"
            )
    return table


def _problems(table: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for error in validator(SCHEMA).iter_errors(table):
        yield _key(error.absolute_path), _explain(error)


def _key(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _explain(error: jsonschema.ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    instance: Any = error.instance  # typed `Any | Unset`: set on every error jsonschema raises
    rule: Any = error.validator_value
    if error.validator == "additionalProperties" and not error.absolute_path:
        extra = sorted(set(instance) - set(schema.get("properties", {})))
        return f"unknown section [{extra[0]}] (allowed: [pushwoosh], [segment])"
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {}))) or "none"
        extra = sorted(set(instance) - set(schema.get("properties", {})))
        return f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)} (allowed: {allowed})"
    if error.validator == "type":
        wanted = _TYPES.get(str(error.validator_value), str(error.validator_value))
        return f"must be {wanted}, not {_shown(error.instance)}"
    if error.validator == "required":
        return f"{missing_property(error)} is required"
    if error.validator == "propertyNames":
        return f"unknown key {error.instance} (allowed: {', '.join(schema.get('propertyNames', {}).get('enum', []))})"
    if error.validator == "enum":
        return f"must be one of {', '.join(map(str, rule))}, not {_shown(error.instance)}"
    if error.validator in {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
        bounds = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }
        return f"must be {bounds[str(error.validator)]} {error.validator_value}, not {_shown(error.instance)}"
    if error.validator == "pattern":
        what = schema.get("description") or "the expected form"
        return f"{_shown(error.instance)} is not {what[0].lower() + what[1:].rstrip('.')}"
    if error.validator in {"minLength", "minItems"}:
        return "must not be empty"
    return str(error.message)


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"' if len(value) < 40 else f'"{value[:37]}..."'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)
