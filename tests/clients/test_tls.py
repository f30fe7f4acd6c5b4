"""HTTPS: the local CA, a TLS fake that verifies only with that CA, and a whole stack wired over https."""

from __future__ import annotations

import json
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import segment.analytics as sa
from click.testing import CliRunner

from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.emulator.segment.app import create_app
from swoosh.emulator.segment.backend import SegmentBackend
from swoosh.emulator.segment.client import SegmentClient
from swoosh.emulator.segment.config import load_config
from swoosh.emulator.serving import ServerThread
from swoosh.emulator.tls import TlsFiles, ensure_tls_files, trust_context
from swoosh.snippets import snippets
from swoosh.stack import Stack, StackOptions
from swoosh.stacks_cli import env

APP, TOKEN = "ABCDE-12345", "KEY123"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return ensure_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_segment(tls_files: TlsFiles) -> Iterator[str]:
    backend = SegmentBackend(load_config(None))
    with ServerThread(create_app(backend), tls=tls_files.server_pair) as server:
        yield server.url
    backend.close()


def test_the_ca_is_created_once_and_reused(tmp_path: Path) -> None:
    first = ensure_tls_files(tmp_path)
    ca_pem, server_pem = first.ca_cert.read_bytes(), first.server_cert.read_bytes()
    second = ensure_tls_files(tmp_path)
    assert second.ca_cert.read_bytes() == ca_pem, "a restart must keep the CA users already trust"
    assert second.server_cert.read_bytes() != server_pem, "the server certificate is issued afresh"
    assert stat.S_IMODE((tmp_path / "ca-key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(second.server_key.stat().st_mode) == 0o600
    bundle = second.ca_bundle.read_text()
    assert bundle.endswith(ca_pem.decode()) and bundle.count("BEGIN CERTIFICATE") > 10


def test_a_tls_fake_verifies_with_the_ca(tls_files: TlsFiles, tls_segment: str) -> None:
    assert tls_segment.startswith("https://127.0.0.1:")
    with httpx.Client(verify=trust_context(tls_files.ca_cert)) as http:
        reply = http.post(f"{tls_segment}/v1/track", auth=("app-write-key", ""), json={"userId": "u", "event": "E"})
    assert reply.status_code == 200 and reply.json() == {"success": True}
    bundle = ssl.create_default_context(cafile=str(tls_files.ca_bundle))
    assert httpx.get(f"{tls_segment}/_swoosh/health", verify=bundle).status_code == 200
    localhost = tls_segment.replace("127.0.0.1", "localhost")
    assert httpx.get(f"{localhost}/_swoosh/health", verify=bundle).status_code == 200


def test_without_the_ca_verification_fails(tls_segment: str, tmp_path: Path) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_segment}/_swoosh/health")
    other_ca = ensure_tls_files(tmp_path).ca_cert
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_segment}/_swoosh/health", verify=trust_context(other_ca))


def test_plain_http_to_a_tls_port_gets_no_answer(tls_segment: str) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.get(tls_segment.replace("https://", "http://") + "/_swoosh/health", timeout=5)


def test_a_tls_stack_carries_an_identify_to_tags_and_a_push_to_the_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = ensure_tls_files(tmp_path / "tls")
    with Stack(StackOptions(data_dir=tmp_path, tls_files=files)) as stack:
        services = {name: url for name, url in stack.urls.items() if name != "inspector"}
        assert all(url.startswith("https://") for url in services.values())
        # the inspector stays plain http on loopback (a local browser has no reason to trust the CA)
        # and reaches the services over https, trusting the stack's CA
        assert stack.urls["inspector"].startswith("http://127.0.0.1:")
        assert httpx.get(f"{stack.urls['inspector']}/control", timeout=15).status_code == 200
        locator = json.loads((tmp_path / "stack.json").read_text())
        assert locator["tls"]["ca_cert"] == str(files.ca_cert)
        # the banner's hint says https like `swoosh env --sdk pypushwoosh` (it said "http")
        hints = " ".join(locator["services"]["pushwoosh"]["hints"])
        assert 'client.scheme = "https"' in hints and 'client.scheme = "https"' in snippets(locator)["pypushwoosh"]
        verify = trust_context(files.ca_cert)
        segment = SegmentClient(stack.urls["segment"], verify=verify)
        pushwoosh = PushwooshClient(stack.urls["pushwoosh"], verify=verify)

        # The official SDK (requests) trusts the CA the documented way: REQUESTS_CA_BUNDLE = the bundle.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(files.ca_bundle))
        client = sa.Client(segment.write_key(), host=stack.urls["segment"], sync_mode=True)
        client.identify("tls-user", {"searched_product": "running shoes"})
        client.flush()
        pushwoosh.wait("tags", 1, timeout=15, user_id="tls-user")
        assert pushwoosh.tags(user_id="tls-user") == {"searched_product": "running shoes"}
        assert segment.wait("deliveries", 1, timeout=10, state="delivered")

        with httpx.Client(verify=verify) as http:
            http.post(
                f"{stack.urls['pushwoosh']}/json/1.3/registerDevice",
                json={"request": {"application": APP, "hwid": "h1", "device_type": 1, "userId": "tls-user"}},
            )
            http.post(
                f"{stack.urls['pushwoosh']}/json/1.3/createMessage",
                json={"request": {"auth": TOKEN, "application": APP, "notifications": [{"content": "Hi"}]}},
            )
        segment.wait_for_events(2, timeout=15, source="pushwoosh")
        assert segment.sql("select user_id from pushwoosh.push_sent") == [{"user_id": "tls-user"}]

        printed = CliRunner().invoke(env, ["--data-dir", str(tmp_path)]).output
        assert f"export NODE_EXTRA_CA_CERTS={files.ca_cert}" in printed
        assert f"export REQUESTS_CA_BUNDLE={files.ca_bundle}" in printed
