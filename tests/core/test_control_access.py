"""The control API is the user's alone: no DNS-rebinding Host, no cross-site request, a token when exposed."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from swoosh.emulator.client import ControlClient
from swoosh.emulator.guard import access_of
from swoosh.emulator.guard import is_loopback_host as is_loopback
from swoosh.stack import Stack, StackOptions
from swoosh.up_cli import exposure_warning, up
from tests.core.conftest import NotesBackend, make_app
from tests.core.test_stack import two_services  # noqa: F401  (fixture)


def test_a_foreign_host_is_refused_on_the_control_api_only(served) -> None:
    _backend, url = served
    port = url.rsplit(":", 1)[1]
    refused = httpx.get(f"{url}/_swoosh/config", headers={"Host": f"attacker.example:{port}"})
    assert refused.status_code == 403 and "DNS rebinding" in refused.json()["error"]
    assert httpx.post(f"{url}/_swoosh/reset", headers={"Host": "attacker.example"}).status_code == 403
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "app.localhost", "127.0.0.2"):
        assert httpx.get(f"{url}/_swoosh/config", headers={"Host": host}).status_code == 200, host
    # the service's own API answers whatever name an SDK uses
    assert httpx.post(f"{url}/notes/hi", headers={"Host": "segment.internal"}).status_code == 201


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Origin": "https://attacker.example", "Content-Type": "text/plain"}, b'{"advance": 60}'),
        ({"Origin": "https://attacker.example", "Content-Type": "application/json"}, b'{"advance": 60}'),
        ({"Origin": "null", "Content-Type": "application/json"}, b'{"advance": 60}'),
        ({"Content-Type": "text/plain"}, b'{"advance": 60}'),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"advance=60"),
        ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x--"),
    ],
)
def test_a_request_a_web_page_could_send_changes_nothing(served, headers: dict[str, str], body: bytes) -> None:
    _backend, url = served
    response = httpx.post(f"{url}/_swoosh/clock", content=body, headers=headers)
    assert response.status_code in (403, 415) and response.json()["error"]
    assert httpx.get(f"{url}/_swoosh/clock").json()["offset_seconds"] == 0


def test_same_origin_json_and_bodyless_requests_pass(served) -> None:
    backend, url = served
    backend.add("x")
    same = {"Origin": url, "Content-Type": "application/json; charset=utf-8"}
    assert httpx.post(f"{url}/_swoosh/clock", content=b'{"advance": 5}', headers=same).status_code == 200
    assert httpx.post(f"{url}/_swoosh/reset").status_code == 200  # curl -X POST, no body, no Origin
    assert backend.notes == []
    assert httpx.get(f"{url}/_swoosh/config", headers={"Origin": "https://attacker.example"}).status_code == 200


def test_an_exposed_service_needs_the_token_on_every_control_route() -> None:
    backend = NotesBackend()
    app = make_app(backend)
    access_of(app).configure("0.0.0.0", names=("swoosh.lan",), token="tok-1")
    client = app.test_client()
    assert client.get("/_swoosh/config", headers={"Host": "192.168.1.20:8000"}).status_code == 401
    assert client.get("/_swoosh/config", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/_swoosh/config", headers={"Authorization": "Bearer tök"}).status_code == 401
    granted = {"Authorization": "Bearer tok-1"}
    for host in ("192.168.1.20:8000", "swoosh.lan:8000", "localhost"):
        assert client.get("/_swoosh/config", headers={**granted, "Host": host}).status_code == 200
    assert client.get("/_swoosh/config", headers={**granted, "Host": "attacker.example"}).status_code == 403
    assert client.post("/notes/hi", headers={"Host": "192.168.1.20"}).status_code == 201  # wire API: no token
    # a health probe (a container's HEALTHCHECK) carries no token; health alone answers without one
    assert client.get("/_swoosh/health", headers={"Host": "192.168.1.20:8000"}).status_code == 200
    assert client.post("/_swoosh/health", headers={"Host": "192.168.1.20:8000"}).status_code in (401, 405)


def test_every_service_of_the_stack_guards_its_control_api(tmp_path: Path) -> None:
    with Stack(StackOptions(data_dir=tmp_path)) as running:
        for name, url in running.urls.items():
            port = url.rsplit(":", 1)[1]
            reply = httpx.get(f"{url}/_swoosh/config", headers={"Host": f"rebound.example:{port}"})
            assert reply.status_code == 403, name
            cross = httpx.post(
                f"{url}/_swoosh/reset", headers={"Origin": "https://a.example", "Content-Type": "text/plain"}
            )
            assert cross.status_code == 403, name
        # the attack: a page adds a destination of its choosing to the fake Segment
        page = {"Origin": "https://attacker.example", "Content-Type": "text/plain"}
        body = json.dumps({"source": "app", "url": "https://attacker.example/collect"})
        added = httpx.post(f"{running.urls['segment']}/_swoosh/destinations", content=body, headers=page)
        assert added.status_code == 403
        assert stat.S_IMODE(os.stat(tmp_path / "stack.json").st_mode) == 0o600
        assert "control_token" not in json.loads((tmp_path / "stack.json").read_text())


def test_an_exposed_stack_keeps_its_token_in_the_locator_and_its_own_wiring_works(tmp_path: Path) -> None:
    options = StackOptions(data_dir=tmp_path, control_token="tok-xyz")
    with Stack(options) as running:  # the bridge wired itself to both fakes through the token
        locator = json.loads((tmp_path / "stack.json").read_text())
        assert locator["control_token"] == "tok-xyz"
        segment = running.urls["segment"]
        assert httpx.get(f"{segment}/_swoosh/config").status_code == 401
        assert ControlClient(segment, token=locator["control_token"]).config()["sources"]
        destinations = ControlClient(segment, token="tok-xyz").items("destinations")
        assert [d["url"] for d in destinations] == [f"{running.urls['bridge']}/segment"]


def test_binding_beyond_loopback_needs_expose(tmp_path: Path) -> None:
    result = CliRunner().invoke(up, ["--host", "0.0.0.0", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "--expose" in result.output
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2") and not is_loopback("host.lan")
    warning = exposure_warning("0.0.0.0", "tok-1", tmp_path / "stack.json")
    assert warning.startswith("WARNING") and "Bearer tok-1" in warning and "stack.json" in warning


def test_a_stale_locator_file_is_rewritten_private(two_services, tmp_path: Path) -> None:  # noqa: F811
    stale = tmp_path / f"stack.{os.getpid()}.tmp"
    stale.write_text("{}")
    stale.chmod(0o644)
    with Stack(StackOptions(data_dir=tmp_path)):
        assert stat.S_IMODE(os.stat(tmp_path / "stack.json").st_mode) == 0o600


def test_under_the_stack_the_bridge_ingress_refuses_unsigned_requests(tmp_path: Path) -> None:
    with Stack(StackOptions(data_dir=tmp_path)) as running:
        bridge = running.urls["bridge"]
        event = {"type": "track", "userId": "u", "event": "E"}
        unsigned = httpx.post(f"{bridge}/segment", json=event)
        assert unsigned.status_code == 401 and unsigned.json()["error"]["code"] == "bad_signature"
        assert httpx.post(f"{bridge}/pushwoosh", json={"events": []}).status_code == 401
        assert httpx.get(f"{bridge}/_swoosh/stats").json()["segment"].get("accepted", 0) == 0


def test_the_plugin_reads_the_control_token_of_a_running_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from swoosh.emulator.pytest_plugin import _remote_stack

    options = StackOptions(data_dir=tmp_path, control_token="tok-plugin")
    with Stack(options) as running:
        target = _remote_stack(str(tmp_path))
        assert target["token"] == "tok-plugin" and target["urls"] == running.urls
        monkeypatch.setenv("SWOOSH_CONTROL_TOKEN", "tok-plugin")
        bare = _remote_stack(",".join(f"{name}={url}" for name, url in running.urls.items()))
        assert bare["token"] == "tok-plugin"
        assert ControlClient(running.urls["pushwoosh"], token=bare["token"]).health()["status"] == "ok"


def test_under_the_stack_no_export_carries_the_bridges_credentials_and_the_stores_are_private(
    tmp_path: Path,
) -> None:
    with Stack(StackOptions(data_dir=tmp_path, bridge_token="hook-token-77ab", bridge_secret="sign-3c9d1e")) as running:
        pushwoosh = running.urls["pushwoosh"]
        text = httpx.get(f"{pushwoosh}/_swoosh/state").text
        assert "hook-token-77ab" not in text
        exported = json.loads(text)
        assert [h.get("token") for h in exported["backend"]["webhooks"]] == ["<redacted>"]
        # imported back into its stack, the webhook keeps its token: the bridge still takes its events
        assert httpx.post(f"{pushwoosh}/_swoosh/state", json=exported).status_code == 200
        assert [h["token"] for h in httpx.get(f"{pushwoosh}/_swoosh/webhooks").json()["items"]] == ["<set>"]
        # elsewhere (another URL), it posts without one
        exported["backend"]["webhooks"][0]["url"] = "http://127.0.0.1:9/elsewhere"
        assert httpx.post(f"{pushwoosh}/_swoosh/state", json=exported).status_code == 200
        assert [h["token"] for h in httpx.get(f"{pushwoosh}/_swoosh/webhooks").json()["items"]] == [None]
        segment = running.urls["segment"]
        state = httpx.get(f"{segment}/_swoosh/state")
        assert "sign-3c9d1e" not in state.text
        assert [d["secret"] for d in state.json()["backend"]["destinations"]] == ["<redacted>"]
        assert httpx.post(f"{segment}/_swoosh/state", json=state.json()).status_code == 200
        assert [d["secret"] for d in httpx.get(f"{segment}/_swoosh/destinations").json()["items"]] == ["<set>"]
        for store in tmp_path.glob("*.store.db*"):
            assert stat.S_IMODE(os.stat(store).st_mode) == 0o600, store.name
        assert len(list(tmp_path.glob("*.store.db"))) == 2
