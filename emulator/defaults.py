"""The zero-config credentials: what a stack started without a config file accepts.

One place, so the fakes, the bridge's pacts, the fixtures, `swoosh init` and the docs' snippets
cannot drift apart. They are fakes' credentials, not secrets: anyone can read them here.
"""

from __future__ import annotations

APP_WRITE_KEY = "app-write-key"  # the fake Segment's `app` source (your app's SDKs)
PUSHWOOSH_WRITE_KEY = "pushwoosh-write-key"  # the fake Segment's `pushwoosh` source (the bridge's message events)
SOURCES = (("app", APP_WRITE_KEY, "src_app"), ("pushwoosh", PUSHWOOSH_WRITE_KEY, "src_pushwoosh"))

APP_CODE = "ABCDE-12345"  # the fake Pushwoosh's application
APP_NAME = "swoosh demo app"
API_TOKEN = "KEY123"  # server API token (/json/1.3 `auth`, the integration API's `Authorization: Token`)
DEVICE_TOKEN = "DEVICE-TOKEN"  # device API token (the Web SDK's and mobile SDKs' `Authorization: Token`)
