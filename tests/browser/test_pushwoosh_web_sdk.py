"""Pushwoosh's Web SDK (npm `web-push-notifications`, installed with npm and bundled) against the fake Pushwoosh.

The page comes from its own loopback origin and runs the snippet `swoosh env --sdk pushwoosh-web` prints,
with its `apiToken` and without it (with it the SDK sends `Authorization` and cookies, so every call is
preflighted). Only the browser's push service is stood in for (pages/push_service_stand_in.js): headless
Chromium cannot reach one here, and the fake never sends to a subscription's endpoint anyway.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page

from swoosh.emulator.pytest_plugin import PushwooshView
from swoosh.snippets import snippets
from swoosh.stack import Stack, StackOptions
from tests.browser.browser_kit import PAGES, PageServer, bundle, install_packages

SDK = {"web-push-notifications": "latest"}
HTML = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>swoosh shop</title>
<link rel="icon" href="data:,"><script src="/app.js"></script></head>
<body><h1>swoosh shop</h1></body></html>"""
READY_TIMEOUT_MS = 30_000


@pytest.fixture(scope="session")
def sdk_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, str]]:
    """The page's files: the HTML, the SDK bundled with the app module, and the SDK's service worker."""
    out = tmp_path_factory.mktemp("pushwoosh-bundle") / "app.js"
    script = bundle(SDK, "pushwoosh_page.js", {}, out).read_bytes()
    worker = install_packages(SDK) / "node_modules" / "web-push-notifications" / "service-worker.js"
    return {
        "/": (HTML, "text/html"),
        "/app.js": (script, "text/javascript"),
        "/pushwoosh-service-worker.js": (worker.read_bytes(), "text/javascript"),
    }


def web_snippet(pushwoosh: PushwooshView) -> str:
    """What `swoosh env --sdk pushwoosh-web` prints for this fake."""
    config = pushwoosh.client.config()
    service = {
        "url": pushwoosh.url,
        "application": pushwoosh.app_code,
        "api_token": pushwoosh.api_token,
        "device_token": config["device_tokens"][0],
    }
    return snippets({"services": {"pushwoosh": service}})["pushwoosh-web"]


def without_api_token(snippet: str) -> str:
    kept = [line for line in snippet.splitlines() if not line.strip().startswith("apiToken:")]
    assert len(kept) == len(snippet.splitlines()) - 1, snippet
    return "\n".join(kept)


@contextlib.contextmanager
def serve_site(page: Page, context: BrowserContext, pushwoosh: PushwooshView, files: Any) -> Iterator[Site]:
    """The page on its own origin, notifications allowed there, the push service stood in for."""
    context.add_init_script(path=str(PAGES / "push_service_stand_in.js"))
    with PageServer(files) as server:
        context.grant_permissions(["notifications"], origin=server.origin)
        yield Site(page, pushwoosh, server.origin)


@pytest.fixture
def site(
    page: Page, browser_context: BrowserContext, pushwoosh_emulator: PushwooshView, sdk_files: Any
) -> Iterator[Site]:
    with serve_site(page, browser_context, pushwoosh_emulator, sdk_files) as served:
        yield served


@pytest.fixture
def strict_pushwoosh(tmp_path: Path) -> Iterator[PushwooshView]:
    """A fake Pushwoosh in strict mode (device methods demand the device API token) on its own stack."""
    with Stack(StackOptions(data_dir=tmp_path, strict=True, only=("pushwoosh",))) as stack:
        yield PushwooshView(stack.urls["pushwoosh"])


@pytest.fixture
def strict_site(
    strict_pushwoosh: PushwooshView, page: Page, browser_context: BrowserContext, sdk_files: Any
) -> Iterator[Site]:
    """The stack first: its server cannot start its loop once Playwright's driver runs (see conftest.py)."""
    with serve_site(page, browser_context, strict_pushwoosh, sdk_files) as served:
        yield served


class Site:
    """The test page; `run` evaluates an async function body with `pw` (the SDK) and `api` (after ready)."""

    def __init__(self, page: Page, pushwoosh: PushwooshView, origin: str) -> None:
        self.page = page
        self.pushwoosh = pushwoosh
        self.origin = origin

    def open(self, snippet: str) -> str:
        """Load the page, run the snippet, wait for the SDK's ready; the device's hwid."""
        self.page.goto(self.origin + "/")
        self.page.evaluate(snippet)
        return str(
            self.page.evaluate(
                """(timeout) => new Promise((resolve, reject) => {
                     setTimeout(() => reject(new Error("the SDK never became ready")), timeout)
                     Pushwoosh.push(["onReady", async () => resolve(await Pushwoosh.getHWID())])
                   })""",
                READY_TIMEOUT_MS,
            )
        )

    def run(self, body: str, *args: Any) -> Any:
        script = f"async (args) => {{ const pw = Pushwoosh, api = Pushwoosh.api; {body} }}"
        return self.page.evaluate(script, list(args))

    def server_call(self, method: str, **request: Any) -> Any:
        """A server method (createMessage, addTag, ...) as the app's backend calls it."""
        reply = httpx.post(
            f"{self.pushwoosh.url}/json/1.3/{method}",
            json={"request": {"auth": self.pushwoosh.api_token, **request}},
            timeout=10,
        ).json()
        assert reply["status_code"] == 200, (method, reply)
        return reply["response"]


SNIPPETS: dict[str, Callable[[str], str]] = {"with apiToken": lambda s: s, "without apiToken": without_api_token}


@pytest.mark.parametrize("variant", list(SNIPPETS))
def test_the_web_sdk_runs_against_the_fake(site: Site, variant: str) -> None:
    app = site.pushwoosh.app_code
    site.server_call("addTag", tag={"name": "Plan", "type": 2})
    site.server_call("addTag", tag={"name": "Visits", "type": 1})
    site.server_call("createEvent", name="Checkout", attributes=[])
    snippet = SNIPPETS[variant](web_snippet(site.pushwoosh))
    assert ("apiToken" in snippet) is (variant == "with apiToken")

    hwid = site.open(snippet)
    device = site.pushwoosh.devices(hwid=hwid)[0]
    assert device["device_type"] == 11 and device["platform"] == "Chrome"
    vapid_key = site.pushwoosh.client.config()["applications"][0]["vapid_public_key"]
    assert site.run("return window.swooshPushService.serverKeys") == [vapid_key]  # subscribed with the fake's key
    token = site.run("return await pw.getPushToken()")
    assert token.startswith(site.origin + "/push-service/")
    assert device["push_token"] == token and set(device["web_push"]) == {"endpoint", "p256dh", "auth"}
    assert any(o["hwid"] == hwid for o in site.pushwoosh.client.items("app-opens"))

    site.run("await api.registerUser(args[0])", "web-user-1")
    assert site.pushwoosh.devices(hwid=hwid)[0]["user_id"] == "web-user-1"

    tags = {"Plan": "gold", "Visits": 3}
    site.run("await api.setTags(args[0])", tags)
    assert site.run("return (await api.getTags()).result") == tags

    site.run("await api.postEvent('Checkout', {amount: 42})")
    events = site.pushwoosh.client.events()
    assert [(e["name"], e["attributes"]) for e in events] == [("Checkout", {"amount": 42})]

    message = {"content": "Back in stock", "title": "Shoes", "devices": [hwid]}
    code = site.server_call("createMessage", application=app, notifications=[message])["Messages"][0]
    inbox = site.run("await pw.pwinbox.syncMessages(); return await pw.pwinbox.loadMessages()")
    assert [(m["code"], m["title"], m["message"], m["isRead"]) for m in inbox] == [
        (code, "Shoes", "Back in stock", False)
    ]
    site.run("await pw.pwinbox.readMessagesWithCodes([args[0]])", code)
    assert [e["status"] for e in site.pushwoosh.client.inbox(hwid)] == [2]

    site.run("await pw.unsubscribe()")
    unsubscribed = site.pushwoosh.devices(hwid=hwid)[0]
    assert unsubscribed["push_token"] is None and unsubscribed["unsubscribed"] is True
    assert site.run("return await pw.isSubscribed()") is False


def test_with_its_api_token_the_sdk_passes_a_strict_fake(strict_site: Site) -> None:
    """Strict mode refuses device calls without `Authorization: Token <device token>`: the SDK sends it,
    every call preflighted, and registers."""
    hwid = strict_site.open(web_snippet(strict_site.pushwoosh))
    token = strict_site.run("return await pw.getPushToken()")
    assert token and strict_site.pushwoosh.devices(hwid=hwid)[0]["push_token"] == token


def test_docs_show_the_module_and_the_snippet_this_test_runs() -> None:
    """docs/point-your-app.md carries, word for word, the page module bundled here and the snippet
    `swoosh env --sdk pushwoosh-web` prints for the default stack."""
    default = {"url": "http://127.0.0.1:8002", "application": "ABCDE-12345", "device_token": "DEVICE-TOKEN"}
    snippet = snippets({"services": {"pushwoosh": default}})["pushwoosh-web"]
    assert 'pushwooshUrl: "http://127.0.0.1:8002/json/1.3/"' in snippet
    docs = (Path(__file__).resolve().parents[2] / "docs" / "point-your-app.md").read_text()
    assert snippet in docs
    assert (PAGES / "pushwoosh_page.js").read_text().strip() in docs
