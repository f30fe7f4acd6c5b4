"""The bridge's HTTP side: ingress for both directions, metrics, the `/_swoosh/` control API; stack wiring.

`POST /segment` takes Segment events (one, a list, or `{"batch": [...]}`), verifying `X-Signature`
when a secret is set; `POST /pushwoosh` takes message events (one, a list, or `{"events": [...]}`),
checking the Bearer token when set. Both answer 200 only after the events are committed to the
outbox; invalid items are reported in the body and never enqueued (their valid neighbours are).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from swoosh.bridge.control import bridge_control
from swoosh.bridge.core import Bridge, BridgeSettings, IngressError
from swoosh.bridge.outbox import Outbox
from swoosh.emulator.client import ControlClient
from swoosh.emulator.options import StackOptions
from swoosh.emulator.runtime import install, note_logged, note_refusal
from swoosh.emulator.tls import trust_context
from swoosh.emulator.wire import BodyError, parse_json, read_raw

MAX_BODY = 5 * 1024 * 1024


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status=status, mimetype="application/json")


def _error(status: int, code: str, message: str) -> Response:
    return _json({"error": {"code": code, "message": message}}, status)


def create_app(bridge: Bridge) -> Flask:
    app = Flask("swoosh.bridge")

    def body() -> tuple[bytes, Any]:
        try:
            raw = read_raw(request.environ["wsgi.input"], request.content_length, MAX_BODY)
            return raw, parse_json(raw)
        except BodyError as exc:
            raise IngressError(400 if exc.code != "request_too_large" else 413, exc.code, exc.message) from exc

    @app.errorhandler(IngressError)
    def _ingress_error(exc: IngressError) -> Response:
        note_refusal(request.environ, exc.code)
        return _error(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        return _error(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")

    @app.post("/segment")
    def from_segment() -> Response:
        raw, parsed = body()
        bridge.verify_signature(raw, request.headers.get("X-Signature"))
        accepted = bridge.accept_segment(parsed)
        note_logged(request.environ)  # the fake Segment logs the delivery; the bridge logs refused items
        return _json(accepted)

    @app.post("/pushwoosh")
    def from_pushwoosh() -> Response:
        bridge.check_token(request.headers.get("Authorization"))
        _raw, parsed = body()
        accepted = bridge.accept_pushwoosh(parsed)
        note_logged(request.environ)  # the webhook logs the delivery; the bridge logs refused items
        return _json(accepted)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(bridge.metrics(), mimetype="text/plain; version=0.0.4")

    control, runtime = bridge_control(bridge)
    app.register_blueprint(control)
    return install(app, runtime, fault_body=_fault_body)


def _fault_body(status: int, path: str, text: str) -> Any:
    """An injected fault on the ingress, in the bridge's own error shape."""
    return {"error": {"code": "fault_injected", "message": text}}


def settings_from_env(**overrides: Any) -> BridgeSettings:
    """Secrets come from the environment so they never appear in a command line or a log."""
    env = os.environ
    settings = BridgeSettings(
        pushwoosh_url=env.get("SWOOSH_BRIDGE_PUSHWOOSH_URL", ""),
        api_key=env.get("SWOOSH_BRIDGE_API_KEY", ""),
        app_code=env.get("SWOOSH_BRIDGE_APP_CODE", ""),
        segment_url=env.get("SWOOSH_BRIDGE_SEGMENT_URL", ""),
        ca_file=env.get("SWOOSH_BRIDGE_CA_FILE", ""),
        write_key=env.get("SWOOSH_BRIDGE_WRITE_KEY", ""),
        segment_secret=env.get("SWOOSH_BRIDGE_SEGMENT_SECRET") or None,
        pushwoosh_token=env.get("SWOOSH_BRIDGE_PUSHWOOSH_TOKEN") or None,
        allow_list=env.get("SWOOSH_BRIDGE_EVENTS", ""),
        batching=env.get("SWOOSH_BRIDGE_BATCHING", "").lower() in ("1", "true", "yes"),
    )
    for key, value in overrides.items():
        if value is not None:
            setattr(settings, key, value)
    return settings


class BridgeService:
    """The bridge in the local stack: wires itself to the fake Segment and the fake Pushwoosh."""

    name = "bridge"

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self._tmp = None if options.data_dir else tempfile.TemporaryDirectory(prefix="swoosh-bridge-")
        folder = Path(options.data_dir) / "bridge" if options.data_dir else Path(self._tmp.name)  # type: ignore[union-attr]  # _tmp is set exactly when no data dir is given
        ca_file = str(options.tls_files.ca_cert) if options.tls_files else ""
        self.bridge = Bridge(BridgeSettings(batching=True, ca_file=ca_file), Outbox(folder / "outbox.db"))
        self.verify = trust_context(ca_file) if ca_file else True
        self.app = create_app(self.bridge)
        self.url = ""

    def on_started(self, urls: dict[str, str]) -> None:
        self.url = urls[self.name]
        settings = self.bridge.settings
        token = self.options.control_token
        source: dict[str, Any] = {}  # the application's Segment-source settings, as Pushwoosh's UI sets them
        if "pushwoosh" in urls:  # the fake's webhook carries the token the bridge's /pushwoosh then requires
            settings.pushwoosh_token = self.options.bridge_token or secrets.token_urlsafe(24)
            pushwoosh = ControlClient(urls["pushwoosh"], verify=self.verify, token=token)
            config = pushwoosh.config()
            application = config["applications"][0]
            settings.pushwoosh_url = urls["pushwoosh"]
            settings.app_code = application["code"]
            settings.api_key = config["api_tokens"][0]
            source = application.get("segment") or {}
            settings.allow_list = source.get("events") or settings.allow_list
            for old in pushwoosh.items("webhooks"):  # a previous run's bridge, restored from the data dir
                if self._was_ours(old["url"], "/pushwoosh"):
                    pushwoosh.call("DELETE", f"/webhooks/{old['id']}")
            hook = {"url": f"{self.url}/pushwoosh", "token": settings.pushwoosh_token}
            pushwoosh.call("POST", "/webhooks", json=hook)
        if "segment" in urls:  # the fake's destination signs with the secret the bridge's /segment then checks
            settings.segment_secret = self.options.bridge_secret or secrets.token_urlsafe(24)
            segment = ControlClient(urls["segment"], verify=self.verify, token=token)
            sources = {s["name"]: s for s in segment.config()["sources"]}
            settings.segment_url = source.get("url") or urls["segment"]
            settings.write_key = source.get("write_key") or sources["pushwoosh"]["write_key"]
            for old in segment.items("destinations"):  # a previous run's bridge, restored from the data dir
                if old["name"] == "Pushwoosh" and self._was_ours(old["url"], "/segment"):
                    segment.call("DELETE", f"/destinations/{old['id']}")
            segment.call(  # named like Segment's destination: `integrations: {"Pushwoosh": false}` opts out
                "POST",
                "/destinations",
                json={
                    "source": "app",
                    "name": "Pushwoosh",
                    "max_batch": 100,
                    "url": f"{self.url}/segment",
                    "secret": settings.segment_secret,
                },
            )
        self.bridge.configure(settings)
        self.bridge.start()

    def _was_ours(self, url: str, path: str) -> bool:
        """A registration of this stack's bridge, this run's or an earlier one's (same host, any port)."""
        old, mine = urlsplit(url), urlsplit(self.url)
        return old.path == path and old.hostname == mine.hostname

    def summary(self) -> dict[str, Any]:
        return {
            "settings": self.bridge.settings.describe(),
            "hints": [
                "Segment events -> POST /segment; Pushwoosh message events -> POST /pushwoosh",
                f"stats: {self.url}/_swoosh/stats, metrics: {self.url}/metrics",
            ],
            "env": {"SWOOSH_BRIDGE_URL": self.url},
        }

    def close(self) -> None:
        self.bridge.stop()
        self.bridge.outbox.close()
        if self._tmp is not None:
            self._tmp.cleanup()


def build(options: StackOptions) -> BridgeService:
    return BridgeService(options)
