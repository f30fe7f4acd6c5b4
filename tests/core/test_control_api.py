"""The shared /_swoosh/ API over real HTTP, on a backend defined in conftest."""

import http.client
import threading

import httpx
import pytest

from swoosh.emulator.client import ControlAPIError, ControlClient, WaitTimeout


def test_health_config_and_inspection(served) -> None:
    backend, url = served
    client = ControlClient(url)
    assert client.health()["service"] == "notes"
    httpx.post(f"{url}/notes/hello")
    backend.add("other", author="bob")
    assert client.config() == {"notes_kept": 2}
    assert [n["text"] for n in client.items("notes", author="bob")] == ["other"]
    assert len(client.items("notes", limit=1)) == 1
    with pytest.raises(ControlAPIError, match="unknown filter"):
        client.items("notes", colour="red")
    with pytest.raises(ControlAPIError, match="unknown collection"):
        client.items("widgets")


def test_wait_returns_when_enough_arrive_and_explains_a_timeout(served) -> None:
    backend, url = served
    client = ControlClient(url)
    threading.Timer(0.2, backend.add, args=("late",)).start()
    assert [n["text"] for n in client.wait("notes", count=1, timeout=5)] == ["late"]
    with pytest.raises(WaitTimeout) as timeout:
        client.wait("notes", count=2, timeout=0.3, author="ann")
    assert timeout.value.items == [{"text": "late", "author": "ann"}]
    assert "1 matched" in str(timeout.value)


def test_faults_apply_to_service_routes_only_and_are_journaled(served) -> None:
    _, url = served
    client = ControlClient(url)
    client.faults.add(status=429, retry_after=2, times=1)
    limited = httpx.post(f"{url}/notes/a")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2"
    assert "X-RateLimit-Reset" in limited.headers
    assert client.health()["status"] == "ok"  # control namespace is never faulted
    assert httpx.post(f"{url}/notes/b").status_code == 201
    client.faults.add(drop=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{url}/notes/c")
    assert httpx.post(f"{url}/notes/d").status_code == 201
    statuses = [(e["status"], e["fault"]) for e in client.journal(path="/notes")]
    assert statuses == [(429, 1), (201, None), (0, 2), (201, None)]
    with pytest.raises(ControlAPIError, match="at least one of"):
        client.faults.add(times=1)


def test_delay_fault_and_removal(served) -> None:
    _, url = served
    client = ControlClient(url)
    rule = client.faults.add(delay_ms=50)
    assert httpx.post(f"{url}/notes/slow").status_code == 201
    client.faults.remove(rule["id"])
    assert client.faults.list() == []
    assert client.journal()[-1]["duration_ms"] >= 50


def test_state_export_reset_import_round_trip(served) -> None:
    backend, url = served
    client = ControlClient(url)
    backend.add("keep me")
    client.faults.add(status=500, path="^/never")
    client.clock.advance(120)
    state = client.export_state()
    client.reset()
    assert client.items("notes") == [] and client.faults.list() == []
    client.import_state(state)
    assert [n["text"] for n in client.items("notes")] == ["keep me"]
    assert client.faults.list()[0]["path"] == "^/never"
    assert client.call("GET", "/clock")["offset_seconds"] == 120


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/state", b"{broken"),
        ("PUT", "/state", b"[]"),
        ("PUT", "/state", b'{"backend": {"notes": 5}}'),
        ("PUT", "/state", b'{"service": "other", "backend": {"notes": []}}'),
        ("POST", "/clock", b'{"advance": -5}'),
        ("POST", "/clock", b'{"advance": "soon"}'),
        ("POST", "/clock", b"{}"),
        ("POST", "/faults", b'"nope"'),
        ("DELETE", "/faults/99", b""),
        ("GET", "/wait/notes?timeout=abc", b""),
        ("GET", "/journal?status=x", b""),
        ("GET", "/journal?since=yesterday", b""),
        ("GET", "/journal?until=-1", b""),
    ],
)
def test_bad_control_input_is_a_clear_4xx_and_changes_nothing(served, method: str, path: str, body: bytes) -> None:
    backend, url = served
    backend.add("untouched")
    response = httpx.request(method, f"{url}/_swoosh{path}", content=body)
    assert 400 <= response.status_code < 500
    assert response.json()["error"]
    assert [n["text"] for n in backend.notes] == ["untouched"]


def test_many_keep_alive_clients_keep_their_connections(served) -> None:
    """SDKs pool connections; the fakes, like the real services, keep each one open (cheroot closed every
    connection past its tenth idle keep-alive one)."""
    backend, url = served
    host, port = url.removeprefix("http://").split(":")
    connections = [http.client.HTTPConnection(host, int(port), timeout=5) for _ in range(16)]
    try:
        for round_ in range(2):
            for index, connection in enumerate(connections):
                connection.request("POST", f"/notes/n{round_}-{index}")
                reply = connection.getresponse()
                reply.read()
                assert reply.status == 201
                assert reply.getheader("Connection", "").lower() != "close", (round_, index)
            assert all(connection.sock is not None for connection in connections)
    finally:
        for connection in connections:
            connection.close()
    assert len(backend.notes) == 32
