"""`swoosh env`, `swoosh ps` and `swoosh init`: finding running stacks, pointing apps at one, a config to start from."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path
from typing import Any

import click

from swoosh.contracts.schemas import schema
from swoosh.emulator import defaults
from swoosh.emulator.config_file import SCHEMA
from swoosh.emulator.locator import running_stacks
from swoosh.snippets import environment, snippets
from swoosh.stack_choice import chosen_stack, stack_options


@click.command()
@stack_options
@click.option(
    "--sdk",
    help="Print only this SDK's snippet, ready to paste: python, node, analytics.js, swift, kotlin, pypushwoosh, "
    "pushwoosh-android, pushwoosh-ios or pushwoosh-web (those of the services the stack runs).",
)
def env(stack: str | None, data_dir: Path | None, sdk: str | None) -> None:
    """Print environment variables (eval-able) and per-SDK snippets for pointing apps at the running stack."""
    locator = chosen_stack(stack, data_dir)
    found = snippets(locator)
    if sdk is not None:
        if sdk not in found:
            raise click.BadParameter(f"no snippet for {sdk!r}; known: {', '.join(found)}", param_hint="--sdk")
        click.echo(found[sdk])
        return
    for key, value in environment(locator).items():
        click.echo(f"export {key}={shlex.quote(value)}")
    for name, text in found.items():
        click.echo(f"\n# --- {name} (swoosh env --sdk {name}) ---")
        click.echo("\n".join(f"# {line}" for line in text.splitlines()))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per stack instead of a table.")
def ps(as_json: bool) -> None:
    """List the running stacks (newest first): id, pid, age, data dir and service URLs."""
    stacks = running_stacks()
    if as_json:
        for info in stacks:
            click.echo(
                json.dumps(
                    {k: info.get(k) for k in ("id", "pid", "started_at", "data_dir", "locator")}
                    | {"urls": {n: s["url"] for n, s in info["services"].items()}}
                )
            )
        return
    if not stacks:
        click.echo("no running swoosh stack (start one with `swoosh up`)")
        return
    for info in stacks:
        age = int(time.time() - float(info.get("started_at", 0)))
        urls = "  ".join(f"{name}={service['url']}" for name, service in info["services"].items())
        click.echo(
            f"{info.get('id')}  pid {info.get('pid')}  up {age}s  {info.get('data_dir') or '(in memory)'}  {urls}"
        )


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="swoosh.toml")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path: Path, force: bool) -> None:
    """Write PATH (default swoosh.toml) with every option at its default, commented; then `swoosh up --config PATH`."""
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; pass --force to overwrite it")
    path.write_text(default_config_text())
    click.echo(f"wrote {path}; edit it, then: swoosh up --config {path}")


def default_config_text() -> str:
    """The commented default config, drawn from the config schema (descriptions, defaults)."""
    root = schema(SCHEMA)["properties"]
    lines = ["# swoosh.toml: every key with its default. Unknown sections and keys are refused at start-up.", ""]
    examples: dict[str, list[dict[str, Any]]] = {
        "segment.sources": [{"name": name, "write_key": key, "source_id": sid} for name, key, sid in defaults.SOURCES],
        "segment.destinations": [
            {
                "source": "app",
                "name": "webhook",
                "url": "http://127.0.0.1:9000/hook",
                "subscription": 'type = "track"',
                "max_batch": 1,
                "timeout": 5,
            }
        ],
        "pushwoosh.applications": [
            {
                "code": defaults.APP_CODE,
                "name": defaults.APP_NAME,
                "seed": 0,
                "delivery_rates": {"push": 1.0, "email": 1.0, "sms": 1.0},
                "segment": {"write_key": defaults.PUSHWOOSH_WRITE_KEY, "url": "", "events": ""},
            }
        ],
    }
    scalar_defaults = {"pushwoosh.api_tokens": [defaults.API_TOKEN], "pushwoosh.device_tokens": [defaults.DEVICE_TOKEN]}
    for section, spec in root.items():
        lines += [f"# {spec['description']}", f"[{section}]"]
        tables = []
        for key, field in spec["properties"].items():
            name = f"{section}.{key}"
            if name in examples:
                tables.append((name, field))
                continue
            value = scalar_defaults.get(name, field.get("default"))
            lines += [f"# {field['description']}", f"{key} = {_toml(value)}"]
        for name, field in tables:
            lines += ["", f"# {field['description']} Uncomment to replace the default:"]
            for example in examples[name]:
                lines.append(f"# [[{name}]]")
                lines += [f"# {key} = {_toml(value)}" for key, value in example.items()]
        lines.append("")
    return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)
