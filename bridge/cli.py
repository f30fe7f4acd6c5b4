"""`swoosh bridge ...`: run the bridge against any endpoints, inspect and replay dead letters, ping."""

from __future__ import annotations

import os
from pathlib import Path

import click

from swoosh.bridge.client import BridgeClient
from swoosh.bridge.core import Bridge
from swoosh.bridge.destination import PING
from swoosh.bridge.outbox import Outbox
from swoosh.bridge.service import create_app, settings_from_env
from swoosh.bridge.transport import PushwooshSender
from swoosh.emulator.guard import access_of
from swoosh.emulator.serving import ServerThread
from swoosh.stack_choice import chosen_stack, service_endpoint, stack_options
from swoosh.stopping import stop_requests


@click.group()
def bridge() -> None:
    """The Segment <-> Pushwoosh bridge (secrets via SWOOSH_BRIDGE_* environment variables)."""


@bridge.command()
@click.option("--segment-url", help="Segment Tracking API base URL (real or fake).")
@click.option("--pushwoosh-url", help="Pushwoosh integration API base URL (real or fake).")
@click.option("--app-code", help="Pushwoosh application code.")
@click.option("--events", "allow_list", help="Comma-separated Pushwoosh events to export (blank = all).")
@click.option("--batching/--no-batching", default=None, help="Batch post-events (<= 100 per request).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".swoosh"),
    show_default=True,
    help="Where the outbox database lives.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8003, show_default=True, type=click.IntRange(0, 65535), help="Port (0 = any).")
def run(
    segment_url: str | None,
    pushwoosh_url: str | None,
    app_code: str | None,
    allow_list: str | None,
    batching: bool | None,
    data_dir: Path,
    host: str,
    port: int,
) -> None:
    """Serve the bridge: POST /segment and POST /pushwoosh, until Ctrl-C.

    API key, write key, shared secret and token come from SWOOSH_BRIDGE_API_KEY, SWOOSH_BRIDGE_WRITE_KEY,
    SWOOSH_BRIDGE_SEGMENT_SECRET and SWOOSH_BRIDGE_PUSHWOOSH_TOKEN.
    """
    settings = settings_from_env(
        segment_url=segment_url,
        pushwoosh_url=pushwoosh_url,
        app_code=app_code,
        allow_list=allow_list,
        batching=batching,
    )
    core = Bridge(settings, Outbox(data_dir / "bridge" / "outbox.db"))
    app = create_app(core)
    access_of(app).configure(host)  # its control routes answer the address it listens on, and loopback
    stopping = stop_requests()
    server = ServerThread(app, host, port, name="swoosh-bridge").start()
    core.start()
    click.echo(f"bridge listening on {server.url} (outbox {data_dir / 'bridge' / 'outbox.db'})")
    try:
        stopping.wait()
    finally:
        server.stop()
        core.stop()
        core.outbox.close()


def _bridge_client(url: str | None, stack: str | None, data_dir: Path | None) -> BridgeClient:
    """The bridge at `url`, else the running stack's (with its control token when it is exposed)."""
    token = os.environ.get("SWOOSH_CONTROL_TOKEN")
    if url is None:
        url, token = service_endpoint(stack, data_dir, "bridge")
    return BridgeClient(url, token=token)


@bridge.command("dead-letters")
@click.option("--url", help="A running bridge's URL. Default: the running stack's bridge.")
@stack_options
@click.option("--direction", type=click.Choice(["segment", "pushwoosh"]), help="Only this direction's dead letters.")
def dead_letters(url: str | None, stack: str | None, data_dir: Path | None, direction: str | None) -> None:
    """List events the downstream refused for good (with its reply)."""
    items = _bridge_client(url, stack, data_dir).dead_letters(direction)
    for item in items:
        click.echo(f"{item['id']:>6}  {item['direction']:<9}  status={item['last_status']}  {item['last_error']}")
    click.echo(f"{len(items)} dead letter(s)")


@bridge.command()
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter.")
@click.option("--url", help="A running bridge's URL. Default: the running stack's bridge.")
@stack_options
def replay(ids: tuple[int, ...], replay_all: bool, url: str | None, stack: str | None, data_dir: Path | None) -> None:
    """Queue dead letters again."""
    if not ids and not replay_all:
        raise click.UsageError("name dead-letter IDs or pass --all")
    click.echo(f"replayed {_bridge_client(url, stack, data_dir).replay(None if replay_all else list(ids))}")


@bridge.command()
@click.option("--pushwoosh-url", help="Pushwoosh integration API base URL. Default: the running stack's fake.")
@click.option("--app-code", help="Pushwoosh application code to check against. Default: the running stack's.")
@stack_options
def ping(pushwoosh_url: str | None, app_code: str | None, stack: str | None, data_dir: Path | None) -> None:
    """Check Pushwoosh credentials: the API key from SWOOSH_BRIDGE_API_KEY (or the running stack's)."""
    api_key = settings_from_env().api_key
    if pushwoosh_url is None or app_code is None or not api_key:
        fake = chosen_stack(stack, data_dir)["services"].get("pushwoosh")
        if fake is None:
            raise click.UsageError("pass --pushwoosh-url and --app-code (the running stack has no Pushwoosh)")
        pushwoosh_url, app_code = pushwoosh_url or fake["url"], app_code or fake["application"]
        api_key = api_key or fake["api_token"]
    if not api_key:
        raise click.UsageError("no API key: set SWOOSH_BRIDGE_API_KEY to the Pushwoosh API token to check")
    outcome = PushwooshSender(pushwoosh_url, api_key, app_code).send(PING)
    if not outcome.ok:
        answer = f"HTTP {outcome.status}" if outcome.status else "no answer"
        raise click.ClickException(f"ping to {pushwoosh_url} failed ({answer}): {outcome.detail}")
    click.echo(f"credentials ok for application {app_code} at {pushwoosh_url}")
