"""Markdown pages for the JSON Schemas: one per schema plus an index, deterministic so they can be committed.

A page lists the schema's fields as a table (path, type, required, rule, description), the schemas it
includes (`allOf` / `$ref`, as links), and its examples.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from swoosh.contracts.schemas import BASE_URI, names, schema

RULE_KEYS = ("const", "enum", "pattern", "minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum")


def _name_of(ref: str, current: str) -> tuple[str, str]:
    """(schema name, fragment) that a `$ref` inside schema `current` points to."""
    uri, _, fragment = ref.partition("#")
    if not uri:
        return current, fragment
    if uri.startswith(BASE_URI):
        return uri[len(BASE_URI) : -len(".json")], fragment
    group = current.split("/")[0]
    return f"{group}/{uri[: -len('.json')]}", fragment


def _link(ref: str, current: str) -> str:
    target, fragment = _name_of(ref, current)
    depth = current.count("/")
    href = "../" * depth + f"{target}.md"
    label = target + (f"#{fragment}" if fragment else "")
    return f"[{label}]({href})"


def _flatten(node: dict[str, Any]) -> dict[str, Any]:
    """A node with its inline `allOf` parts merged in (one row per field, however the rules are split)."""
    merged = {key: value for key, value in node.items() if key != "allOf"}
    for sub in node.get("allOf", []):
        if "$ref" in sub or "if" in sub:
            continue
        for key, value in _flatten(sub).items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _type(node: dict[str, Any], current: str) -> str:
    if "$ref" in node:
        return _link(node["$ref"], current)
    kind = node.get("type")
    if kind == "array" and isinstance(node.get("items"), dict) and "$ref" in node["items"]:
        return f"array of {_link(node['items']['$ref'], current)}"
    if isinstance(kind, list):
        return " \\| ".join(kind)
    if kind:
        return str(kind)
    if "anyOf" in node:
        return " \\| ".join(_type(option, current) for option in node["anyOf"])
    if "const" in node:
        return type(node["const"]).__name__.replace("str", "string").replace("NoneType", "null")
    if "enum" in node:
        return "enum"
    return "any"


def _rule(node: dict[str, Any]) -> str:
    parts = []
    for key in RULE_KEYS:
        if key in node:
            value = node[key]
            if key == "enum":
                shown = ", ".join(f"`{json.dumps(v)}`" for v in value)
            else:
                shown = f"`{value}`" if isinstance(value, str) else f"`{json.dumps(value)}`"
            parts.append(f"{key} {shown}")
    return "; ".join(parts).replace("|", "\\|")


def _rows(node: dict[str, Any], path: str, required: bool, current: str) -> Iterator[str]:
    node = _flatten(node)
    description = str(node.get("description", "")).replace("\n", " ").replace("|", "\\|")
    if path:
        yield f"| `{path}` | {_type(node, current)} | {'yes' if required else ''} | {_rule(node)} | {description} |"
    needed = set(node.get("required", []))
    for key, child in node.get("properties", {}).items():
        if isinstance(child, dict):
            yield from _rows(child, f"{path}.{key}" if path else key, key in needed, current)
    items = node.get("items")
    if isinstance(items, dict) and "properties" in _flatten(items):
        yield from _rows({**items, "description": ""}, f"{path}[]", False, current)


def render_page(name: str) -> str:
    """The Markdown page of one schema."""
    definition = schema(name)
    lines = [f"# {definition['title']}", "", f"`{name}` · `{definition['$id']}`", "", definition["description"], ""]
    includes = [_link(sub["$ref"], name) for sub in definition.get("allOf", []) if "$ref" in sub]
    includes += [_type(option, name) for option in definition.get("anyOf", []) if "$ref" in option]
    if includes:
        lines += ["Includes: " + ", ".join(includes), ""]
    top = definition.get("type")
    if top:
        lines += [f"Type: {' or '.join(top) if isinstance(top, list) else top}", ""]
    rows = list(dict.fromkeys(_rows(definition, "", True, name)))
    if rows:
        lines += ["| field | type | required | rule | description |", "|---|---|---|---|---|", *rows, ""]
    for example in definition.get("examples", []):
        lines += ["Example:", "", "```json", json.dumps(example, indent=2, ensure_ascii=False), "```", ""]
    return "\n".join(lines)


def render_index() -> str:
    """The index page: every schema by area, with its title."""
    lines = [
        "# JSON Schemas",
        "",
        "Generated by `swoosh contracts docs` from contracts/schemas/; do not edit by hand.",
        "",
    ]
    area = None
    for name in names():
        group = name.split("/")[0]
        if group != area:
            area = group
            lines += ["", f"## {group}", ""] if len(lines) > 4 else [f"## {group}", ""]
        lines.append(f"- [`{name}`]({name}.md): {schema(name)['title']}")
    return "\n".join(lines) + "\n"


def render_all() -> dict[str, str]:
    """Relative path -> page text, for every page."""
    pages = {"index.md": render_index()}
    for name in names():
        pages[f"{name}.md"] = render_page(name)
    return pages


def write_all(out: Path) -> list[Path]:
    """Write every page under `out` and remove stale pages of schemas that no longer exist."""
    pages = render_all()
    written = []
    for relative, text in pages.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in out.glob("*/*.md"):
        if stale.relative_to(out).as_posix() not in pages:
            stale.unlink()
    return written
