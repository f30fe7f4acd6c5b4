"""A tiny shop making the Segment and Pushwoosh calls a real app makes, configured by environment variables.

    SEGMENT_WRITE_KEY      the source's write key (required)
    SEGMENT_HOST           the Tracking API host, e.g. http://127.0.0.1:8001 (default: Segment's own)
    PUSHWOOSH_APP_CODE     the Pushwoosh application code (required)
    PUSHWOOSH_API_TOKEN    a Pushwoosh server API token (required to send pushes)
    PUSHWOOSH_URL          the Pushwoosh API host, e.g. http://127.0.0.1:8002 (default: Pushwoosh's own)

Point them at a running `swoosh up` (`swoosh env` prints them), or let the tests do it with the
swoosh pytest plugin (tests/conftest.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import segment.analytics as analytics
from flask import Flask, jsonify, request
from pypushwoosh import constants
from pypushwoosh.client import PushwooshClient
from pypushwoosh.command import (
    BaseDeviceCommand,
    CreateMessageForApplicationCommand,
    RegisterDeviceCommand,
    SetTagsCommand,
)
from pypushwoosh.notification import Notification

PLATFORMS = {"ios": constants.PLATFORM_IOS, "android": constants.PLATFORM_ANDROID, "chrome": constants.PLATFORM_CHROME}


class RegisterUserCommand(BaseDeviceCommand):
    """Pushwoosh's registerUser (links a device to our user id), which pypushwoosh does not ship."""

    command_name = "registerUser"

    def __init__(self, application: str, hwid: str, user_id: str) -> None:
        BaseDeviceCommand.__init__(self, application, hwid)
        self.user_id = user_id

    def compile(self) -> None:
        self._command["userId"] = self.user_id
        BaseDeviceCommand.compile(self)


class BadRequest(Exception):
    """The client sent something the shop cannot use; answered 400."""


class PushwooshFailed(Exception):
    """Pushwoosh refused a call (its status_code is not 200); answered 502."""


class Shop:
    """The shop's two outside services, built from the environment."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.analytics = analytics.Client(env["SEGMENT_WRITE_KEY"], host=env.get("SEGMENT_HOST") or None)
        self.pushwoosh = PushwooshClient(timeout=10)
        if env.get("PUSHWOOSH_URL"):
            url = urlsplit(env["PUSHWOOSH_URL"])
            self.pushwoosh.scheme, self.pushwoosh.hostname = url.scheme, url.netloc
        self.app_code = env["PUSHWOOSH_APP_CODE"]
        self.api_token = env.get("PUSHWOOSH_API_TOKEN", "")

    def call_pushwoosh(self, command: Any) -> Any:
        reply = self.pushwoosh.invoke(command)
        if reply.get("status_code") != 200:
            raise PushwooshFailed(f"{command.command_name}: {reply.get('status_message')}")
        return reply.get("response")


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name} must be a non-empty string")
    return value


def _amount(body: Mapping[str, Any], name: str) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e9:
        raise BadRequest(f"{name} must be a number between 0 and 1e9")
    return float(value)


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    shop = Shop(os.environ if env is None else env)
    app = Flask(__name__)
    app.extensions["shop"] = shop

    def body() -> Mapping[str, Any]:
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            raise BadRequest("send a JSON object")
        return payload

    @app.errorhandler(BadRequest)
    def bad_request(error: BadRequest) -> Any:
        return jsonify(error=str(error)), 400

    @app.errorhandler(PushwooshFailed)
    def pushwoosh_failed(error: PushwooshFailed) -> Any:
        return jsonify(error=str(error)), 502

    @app.post("/signup")
    def signup() -> Any:
        data = body()
        user_id = _text(data, "user_id")
        traits = {"email": _text(data, "email"), "searched_product": data.get("searched_product")}
        shop.analytics.identify(user_id, {k: v for k, v in traits.items() if v is not None})
        return jsonify(user_id=user_id), 201

    @app.post("/search")
    def search() -> Any:
        data = body()
        shop.analytics.track(_text(data, "user_id"), "Product Searched", {"query": _text(data, "query")})
        return jsonify(results=[]), 200

    @app.post("/orders")
    def order() -> Any:
        data = body()
        properties = {"order_id": _text(data, "order_id"), "total": _amount(data, "total"), "currency": "USD"}
        shop.analytics.track(_text(data, "user_id"), "Order Completed", properties)
        return jsonify(order_id=properties["order_id"]), 201

    @app.post("/offers/subscribe")
    def subscribe() -> Any:
        data = body()
        shop.analytics.track(_text(data, "user_id"), "SubscribedToOffers", {"channel": data.get("channel", "push")})
        return jsonify(subscribed=True), 200

    @app.post("/devices")
    def register_device() -> Any:
        data = body()
        user_id, hwid = _text(data, "user_id"), _text(data, "hwid")
        platform = PLATFORMS.get(str(data.get("platform", "")).lower())
        if platform is None:
            raise BadRequest(f"platform must be one of {sorted(PLATFORMS)}")
        shop.call_pushwoosh(RegisterDeviceCommand(shop.app_code, hwid, platform, _text(data, "push_token")))
        shop.call_pushwoosh(RegisterUserCommand(shop.app_code, hwid, user_id))
        shop.call_pushwoosh(SetTagsCommand(shop.app_code, hwid, {"Language": data.get("language", "en")}))
        return jsonify(hwid=hwid), 201

    @app.post("/push")
    def push_to_user() -> Any:
        data = body()
        notification = Notification()
        notification.content = _text(data, "message")
        notification.users = [_text(data, "user_id")]
        command = CreateMessageForApplicationCommand(notification, shop.app_code)
        command.auth = shop.api_token
        codes = shop.call_pushwoosh(command)["Messages"]
        return jsonify(message_codes=codes), 201

    return app
