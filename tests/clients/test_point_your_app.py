"""`swoosh env`: its variables eval in a shell, and its per-SDK snippets, run as printed, reach the fakes."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner

from swoosh.emulator.pushwoosh.client import PushwooshClient
from swoosh.emulator.segment.client import SegmentClient
from swoosh.stack import Stack
from swoosh.stacks_cli import env
from tests import stacks


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[Stack]:
    with Stack(stacks.options(pytestconfig, data_dir=tmp_path_factory.mktemp("stack"))) as running:
        yield running


def swoosh_env(stack: Stack, *args: str) -> str:
    result = CliRunner().invoke(env, ["--data-dir", str(stack.options.data_dir), *args])
    assert result.exit_code == 0, result.output
    return result.output


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_variables_eval_in_a_shell(stack: Stack) -> None:
    output = swoosh_env(stack)
    assert all(line.startswith(("export ", "#")) for line in output.splitlines() if line)
    shown = subprocess.run(
        ["bash", "-c", 'eval "$1" && env', "swoosh-env", output], capture_output=True, text=True, check=True
    ).stdout
    variables = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    assert variables["SEGMENT_HOST"] == stack.urls["segment"] == variables["SWOOSH_SEGMENT_URL"]
    assert variables["SEGMENT_WRITE_KEY"] == "app-write-key"
    assert variables["PUSHWOOSH_URL"] == stack.urls["pushwoosh"]
    assert (variables["PUSHWOOSH_APP_CODE"], variables["PUSHWOOSH_API_TOKEN"]) == ("ABCDE-12345", "KEY123")
    assert variables["SWOOSH_BRIDGE_URL"] == stack.urls["bridge"]
    assert "SSL_CERT_FILE" not in variables or variables["SSL_CERT_FILE"] == os.environ.get("SSL_CERT_FILE")


def test_the_python_snippet_runs_as_printed(stack: Stack) -> None:
    snippet = swoosh_env(stack, "--sdk", "python")
    assert f'analytics.host = "{stack.urls["segment"]}"' in snippet
    run_python(snippet + '\nanalytics.track("snippet-user", "Snippet Works", {"sdk": "python"})\nanalytics.flush()\n')
    message = SegmentClient(stack.urls["segment"]).wait_for_events(1, event="Snippet Works")[0]["message"]
    assert message["userId"] == "snippet-user" and message["context"]["library"]["name"] == "analytics-python"


def test_the_pypushwoosh_snippet_runs_as_printed(stack: Stack) -> None:
    snippet = swoosh_env(stack, "--sdk", "pypushwoosh")
    printed = run_python(
        snippet
        + "\nfrom pypushwoosh.command import RegisterDeviceCommand"
        + '\nprint(client.invoke(RegisterDeviceCommand("ABCDE-12345", "snippet-phone", 3, "fcm-1"))["status_code"])\n'
    )
    assert printed.strip() == "200"
    assert PushwooshClient(stack.urls["pushwoosh"]).devices(hwid="snippet-phone")


def test_the_node_snippet_runs_as_printed(stack: Stack, node_sdk: Path) -> None:
    snippet = swoosh_env(stack, "--sdk", "node")
    send = 'analytics.track({ userId: "node-snippet", event: "Snippet Works" })\nanalytics.closeAndFlush()\n'
    script = f"{snippet}\n{send}"
    subprocess.run(
        ["node", "-e", script],
        env={**os.environ, "NODE_PATH": str(node_sdk / "node_modules")},
        check=True,
        timeout=60,
    )
    message = SegmentClient(stack.urls["segment"]).wait_for_events(1, userId="node-snippet")[0]["message"]
    assert message["context"]["library"]["name"] == "@segment/analytics-node"


def test_browser_and_mobile_snippets_match_what_the_fake_serves(stack: Stack) -> None:
    url = stack.urls["segment"]
    host = urlsplit(url).netloc
    settings = httpx.get(f"{url}/v1/projects/app-write-key/settings").json()["integrations"]["Segment.io"]
    assert settings == {"apiKey": "app-write-key", "apiHost": f"{host}/v1", "protocol": "http"}
    browser = swoosh_env(stack, "--sdk", "analytics.js")
    assert f'cdnURL: "{url}"' in browser and f'apiHost: "{host}/v1"' in browser
    for sdk in ("swift", "kotlin"):
        assert f"{host}/v1" in swoosh_env(stack, "--sdk", sdk)
    # The batch route the mobile SDKs use, under the apiHost they are given.
    batch = [{"type": "track", "event": "Mobile", "userId": "m1"}]
    reply = httpx.post(f"http://{host}/v1/b", json={"writeKey": "app-write-key", "batch": batch})
    assert reply.status_code == 200


@pytest.mark.parametrize("sdk", ["pushwoosh-android", "pushwoosh-ios", "pushwoosh-web"])
def test_pushwoosh_sdk_snippets_carry_a_base_url_the_fake_answers(stack: Stack, sdk: str) -> None:
    snippet = swoosh_env(stack, "--sdk", sdk)
    base = re.search(r"(https?://[^\"<]+/json/1\.3/)", snippet)
    assert base and base.group(1) == f"{stack.urls['pushwoosh']}/json/1.3/"
    assert "ABCDE-12345" in snippet
    if sdk == "pushwoosh-web":
        assert 'apiToken: "DEVICE-TOKEN"' in snippet  # the device API token, from the running stack
    device = {"application": "ABCDE-12345", "hwid": f"{sdk}-device", "device_type": 3, "push_token": "t"}
    reply = httpx.post(f"{base.group(1)}registerDevice", json={"request": device})
    assert reply.json()["status_code"] == 200


def test_an_unknown_sdk_is_refused_with_the_known_ones(stack: Stack) -> None:
    result = CliRunner().invoke(env, ["--data-dir", str(stack.options.data_dir), "--sdk", "cobol"])
    assert result.exit_code == 2 and "pypushwoosh" in result.output


def test_env_output_is_shell_quoted(stack: Stack, tmp_path: Path) -> None:
    locator = json.loads((Path(stack.options.data_dir) / "stack.json").read_text())
    locator["services"]["segment"]["sources"][0]["write_key"] = "key with 'quotes' $HOME"
    (tmp_path / "stack.json").write_text(json.dumps(locator))
    output = CliRunner().invoke(env, ["--data-dir", str(tmp_path)]).output
    line = next(line for line in output.splitlines() if line.startswith("export SEGMENT_WRITE_KEY="))
    assert shlex.split(line.removeprefix("export "))[0] == "SEGMENT_WRITE_KEY=key with 'quotes' $HOME"
