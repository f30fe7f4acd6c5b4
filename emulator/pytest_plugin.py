"""pytest plugin: the local stack as fixtures, reset between tests, with helpers that explain failures.

Fixtures: `segment_emulator`, `pushwoosh_emulator`, `swoosh_bridge`, `swoosh_stack` (all three, wired).
One stack serves the whole session (one per xdist worker: each worker process starts its own, on
free ports); every test gets it freshly reset. `--swoosh-url` points the same tests at an already
running `swoosh up` (its data dir or stack.json, `auto`, or `segment=URL,pushwoosh=URL,bridge=URL`).
"""

from __future__ import annotations

import json
import os
import ssl
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from swoosh.bridge.client import BridgeClient
from swoosh.emulator.client import ControlClient, WaitTimeout
from swoosh.emulator.locator import locate_stack
from swoosh.emulator.options import StackOptions
from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.emulator.segment.client import SegmentClient
from swoosh.emulator.tls import ensure_tls_files, trust_context
from swoosh.stack import Stack

SERVICES = ("segment", "pushwoosh", "bridge")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("swoosh", "swoosh emulators")
    group.addoption("--swoosh-strict", action="store_true", help="run the fakes in strict mode")
    group.addoption("--swoosh-tls", action="store_true", help="serve the fakes over https with a local CA")
    group.addoption(
        "--swoosh-url",
        default=None,
        help="use a running stack: its data dir or stack.json, 'auto', or segment=URL,pushwoosh=URL,...",
    )
    group.addoption(
        "--swoosh-workers",
        type=int,
        default=os.environ.get("SWOOSH_WORKERS") or "1",  # a string: argparse checks it as it checks the flag
        help="processes per worker-capable service of the session's stack, as `swoosh up --workers` "
        "($SWOOSH_WORKERS; default 1: everything in the test process)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "swoosh(config=...): per-test sources/applications for the swoosh fakes")


def _poll(check: Callable[[], Any], timeout: float, interval: float = 0.05) -> tuple[bool, Any]:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return True, value
        if time.monotonic() >= deadline:
            return False, value
        time.sleep(interval)


def _show(items: Any, limit: int = 10) -> str:
    if isinstance(items, list):
        shown = "\n".join(f"  - {json.dumps(i, default=str)[:300]}" for i in items[-limit:])
        more = f"\n  ... and {len(items) - limit} earlier" if len(items) > limit else ""
        return f"{len(items)} item(s):\n{shown}{more}" if items else "nothing"
    return json.dumps(items, default=str)[:2000]


class _View:
    """What every service fixture offers: URL, control client, faults, clock, reset."""

    name = ""

    def __init__(self, url: str, client: ControlClient) -> None:
        self.url = url
        self.client = client
        self.faults = client.faults
        self.clock = client.clock

    def config(self) -> dict[str, Any]:
        return self.client.config()

    def reset(self) -> None:
        self.client.reset()

    def wait_for(
        self,
        what: Callable[[], Any] | Mapping[str, Any],
        timeout: float = 10.0,
        collection: str = "events",
        count: int = 1,
    ) -> Any:
        """Wait until `what()` is truthy (returning its value), or until `count` records of `collection`
        match the filter dict `what`; on timeout, fail showing what did arrive."""
        if callable(what):
            ok, value = _poll(what, timeout)
            if not ok:
                pytest.fail(
                    f"{self.name}: condition still false after {timeout}s; last value: {_show(value)}\n"
                    f"{self.name} received: {_show(self.client.items(collection))}",
                    pytrace=False,
                )
            return value
        try:
            return self.client.wait(collection, count=count, timeout=timeout, **dict(what))
        except WaitTimeout as exc:
            pytest.fail(f"{self.name}: {exc}\nall {collection}: {_show(self.client.items(collection))}", pytrace=False)


class SegmentView(_View):
    name = "fake Segment"
    client: SegmentClient

    def __init__(self, url: str, verify: ssl.SSLContext | bool = True, token: str | None = None) -> None:
        super().__init__(url, SegmentClient(url, verify=verify, token=token))
        self.write_key = self.client.write_key("app")
        self.source_write_keys = {s["name"]: s["write_key"] for s in self.client.config()["sources"]}

    def events(self, **filters: Any) -> list[dict[str, Any]]:
        return self.client.events(**filters)

    def wait_for(
        self,
        what: Callable[[], Any] | Mapping[str, Any],
        timeout: float = 10.0,
        collection: str = "events",
        count: int = 1,
    ) -> Any:
        """As on every fake; a filter on `events` matches good events only, unless it names a `status`."""
        if collection == "events" and isinstance(what, Mapping):
            what = {"status": "good", **what}
        return super().wait_for(what, timeout, collection, count)

    def messages(self, **filters: Any) -> list[dict[str, Any]]:
        return self.client.messages(**filters)

    def bad_events(self, **filters: Any) -> list[dict[str, Any]]:
        return self.client.bad_events(**filters)

    def sql(self, statement: str) -> list[dict[str, Any]]:
        return self.client.sql(statement)

    def assert_tracked(
        self,
        event: str,
        user_id: str | None = None,
        properties: Mapping[str, Any] | None = None,
        timeout: float = 5.0,
        **filters: Any,
    ) -> dict[str, Any]:
        """Wait for a good track of `event` (for `user_id`) whose properties include `properties`."""
        wanted = {"type": "track", "event": event, **({"userId": user_id} if user_id else {}), **filters}

        def found() -> dict[str, Any] | None:
            for message in reversed(self.client.messages(**wanted)):
                got = message.get("properties") or {}
                if all(got.get(k) == v for k, v in (properties or {}).items()):
                    return message
            return None

        ok, message = _poll(found, timeout)
        if not ok:
            tracks = self.client.messages(type="track")
            near = [
                {"event": m.get("event"), "userId": m.get("userId"), "properties": m.get("properties")} for m in tracks
            ]
            pytest.fail(
                f"no track {event!r}"
                + (f" for user {user_id!r}" if user_id else "")
                + (f" with properties including {dict(properties)}" if properties else "")
                + f" within {timeout}s.\ntracks received: {_show(near)}\n"
                f"bad events: {_show([{k: e[k] for k in ('reason', 'type')} for e in self.bad_events()])}",
                pytrace=False,
            )
        return message


class PushwooshView(_View):
    name = "fake Pushwoosh"
    client: PushwooshClient

    def __init__(self, url: str, verify: ssl.SSLContext | bool = True, token: str | None = None) -> None:
        super().__init__(url, PushwooshClient(url, verify=verify, token=token))
        config = self.client.config()
        self.app_code = config["applications"][0]["code"]
        self.api_token = config["api_tokens"][0]

    def devices(self, **filters: Any) -> list[dict[str, Any]]:
        return self.client.devices(**filters)

    def tags(self, hwid: str | None = None, user_id: str | None = None) -> dict[str, Any]:
        return self.client.tags(hwid=hwid, user_id=user_id)

    def inbox(self, hwid: str) -> list[dict[str, Any]]:
        return self.client.inbox(hwid)

    def events(self, **filters: Any) -> list[dict[str, Any]]:
        return self.client.events(**filters)

    def message_events(self, **filters: Any) -> list[dict[str, Any]]:
        return self.client.message_events(**filters)


class BridgeView:
    name = "bridge"

    def __init__(self, url: str, verify: ssl.SSLContext | bool = True, token: str | None = None) -> None:
        self.url = url
        self.client = BridgeClient(url, verify=verify, token=token)

    def stats(self) -> dict[str, Any]:
        return self.client.stats()

    def dead_letters(self, direction: str | None = None) -> list[dict[str, Any]]:
        return self.client.dead_letters(direction)

    def skipped(self, **filters: Any) -> list[dict[str, Any]]:
        return self.client.skipped(**filters)

    def reset(self) -> None:
        self.client.reset()


class StackView:
    def __init__(
        self,
        segment: SegmentView,
        pushwoosh: PushwooshView,
        bridge: BridgeView,
        ca_cert: str | None = None,
        inspector_url: str | None = None,
    ) -> None:
        self.segment = segment
        self.pushwoosh = pushwoosh
        self.bridge = bridge
        self.ca_cert = ca_cert  # the CA to trust when the stack serves https (--swoosh-tls), else None
        self.inspector_url = inspector_url  # the stack's web UI (docs/inspector.md), when it serves one


def _remote_stack(value: str) -> dict[str, Any]:
    """{"urls": {service: url}, "ca_cert": path | None, "token": str | None} of the stack named by --swoosh-url;
    the control token of an exposed stack comes from its stack.json, or $SWOOSH_CONTROL_TOKEN with bare URLs."""
    if "=" in value:
        urls = dict(pair.split("=", 1) for pair in value.split(","))
        return {"urls": urls, "ca_cert": None, "token": os.environ.get("SWOOSH_CONTROL_TOKEN")}
    if value == "auto":
        locator = locate_stack()
    else:
        path = Path(value)
        locator = json.loads((path / "stack.json" if path.is_dir() else path).read_text())
    urls = {name: service["url"] for name, service in locator["services"].items()}
    return {"urls": urls, "ca_cert": (locator.get("tls") or {}).get("ca_cert"), "token": locator.get("control_token")}


@pytest.fixture(scope="session")
def _swoosh_target(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    remote = pytestconfig.getoption("--swoosh-url")
    if remote:
        yield _remote_stack(remote)
        return
    # The locator goes to this session's (this worker's) temp dir: never over a running `swoosh up`'s.
    folder = tmp_path_factory.mktemp("swoosh")
    options = StackOptions(
        strict=bool(pytestconfig.getoption("--swoosh-strict")),
        locator_dir=folder,
        workers=max(1, int(pytestconfig.getoption("--swoosh-workers"))),
    )
    if pytestconfig.getoption("--swoosh-tls"):
        options.tls_files = ensure_tls_files(folder / "tls")
    with Stack(options) as stack:
        ca_cert = str(options.tls_files.ca_cert) if options.tls_files else None
        yield {"urls": stack.urls, "ca_cert": ca_cert, "token": None}


@pytest.fixture(scope="session")
def _swoosh_views(_swoosh_target: dict[str, Any]) -> StackView:
    urls, ca_cert, token = _swoosh_target["urls"], _swoosh_target["ca_cert"], _swoosh_target["token"]
    verify = trust_context(ca_cert) if ca_cert else True
    missing = [name for name in SERVICES if name not in urls]
    if missing:
        pytest.fail(f"the swoosh stack has no {', '.join(missing)}", pytrace=False)
    return StackView(
        SegmentView(urls["segment"], verify, token),
        PushwooshView(urls["pushwoosh"], verify, token),
        BridgeView(urls["bridge"], verify, token),
        ca_cert,
        urls.get("inspector"),
    )


@pytest.fixture(scope="session")
def _swoosh_baseline(_swoosh_views: StackView) -> dict[str, dict[str, Any]]:
    """The configuration at session start (data forgotten first), restored before every test, so what one
    test declares (sources, tracking plans, applications, tags, events, filters) never leaks into the next."""
    _swoosh_views.segment.reset()
    _swoosh_views.pushwoosh.reset()
    return {
        "segment": _swoosh_views.segment.client.export_state(),
        "pushwoosh": _swoosh_views.pushwoosh.client.export_state(),
    }


def _apply_marker_config(views: StackView, config: Mapping[str, Any]) -> None:
    for source in config.get("segment", {}).get("sources", []):
        views.segment.client.add_source(**source)
    for plan_source, plan in config.get("segment", {}).get("tracking_plans", {}).items():
        views.segment.client.set_tracking_plan(plan_source, plan)
    for app in config.get("pushwoosh", {}).get("applications", []):
        views.pushwoosh.client.add_application(**app)


@pytest.fixture
def swoosh_stack(
    request: pytest.FixtureRequest, _swoosh_views: StackView, _swoosh_baseline: dict[str, dict[str, Any]]
) -> Iterator[StackView]:
    """All three services, wired, as they were at session start: data forgotten, configuration restored."""
    views = _swoosh_views
    # The services feed each other in a loop (Segment -> bridge -> Pushwoosh -> bridge -> Segment), and each
    # reset waits for what that service has on the wire. So: quiet the bridge's two feeders, then the bridge,
    # then forget what the bridge sent them before it went quiet; nothing of the previous test lands here.
    views.pushwoosh.reset()  # its message-event webhooks to the bridge settle and are dropped
    views.segment.reset()  # its deliveries to the bridge settle and are dropped
    views.bridge.reset()  # its sends to both settle; its outbox is dropped
    views.segment.reset()  # data, and the control state: faults, clock, journal
    views.segment.client.import_state(_swoosh_baseline["segment"])
    views.pushwoosh.reset()
    views.pushwoosh.client.import_state(_swoosh_baseline["pushwoosh"])
    marker = request.node.get_closest_marker("swoosh")
    config = marker.kwargs.get("config", {}) if marker else {}
    if config:
        _apply_marker_config(views, config)
    yield views


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that used the stack gets a "swoosh" section saying where to look at what happened."""
    report = yield
    view = getattr(item, "funcargs", {}).get("swoosh_stack")
    if report.failed and isinstance(view, StackView) and view.inspector_url:
        report.sections.append(("swoosh", inspector_hint(view.inspector_url, item.config)))
    return report


def inspector_hint(url: str, config: pytest.Config) -> str:
    if config.getoption("--swoosh-url"):
        return f"inspector: {url} (the stack keeps this test's state until the next test resets it)"
    return (
        f"inspector: {url} (this session's own stack, gone when pytest ends). To look at a failure after the run:"
        " `swoosh up`, then rerun the test with `--swoosh-url auto` and open the inspector URL it prints."
    )


@pytest.fixture
def segment_emulator(swoosh_stack: StackView) -> SegmentView:
    return swoosh_stack.segment


@pytest.fixture
def pushwoosh_emulator(swoosh_stack: StackView) -> PushwooshView:
    return swoosh_stack.pushwoosh


@pytest.fixture
def swoosh_bridge(swoosh_stack: StackView) -> BridgeView:
    return swoosh_stack.bridge
