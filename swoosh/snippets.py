"""What `swoosh env` prints for a running stack: environment variables and a ready-to-paste snippet per SDK.

Everything is derived from the stack's locator (stack.json), so the snippets always carry the real
ports, keys and, with `--tls`, the CA to trust. docs/point-your-app.md explains each one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def environment(locator: dict[str, Any]) -> dict[str, str]:
    """`SWOOSH_<SERVICE>_URL`, each service's own variables, and the CA variables of a TLS stack."""
    services = locator["services"]
    variables: dict[str, str] = {}
    for name, service in services.items():
        variables[f"SWOOSH_{name.upper()}_URL"] = service["url"]
        variables.update({key: str(value) for key, value in service.get("env", {}).items()})
    # The names apps commonly read (examples/shop reads exactly these), so `eval "$(swoosh env)"` is enough.
    if "segment" in services:
        sources = services["segment"].get("sources") or []
        variables["SEGMENT_WRITE_KEY"] = sources[0]["write_key"] if sources else ""
        variables["SEGMENT_HOST"] = services["segment"]["url"]
    if "pushwoosh" in services:
        variables["PUSHWOOSH_URL"] = services["pushwoosh"]["url"]
        variables["PUSHWOOSH_APP_CODE"] = services["pushwoosh"].get("application", "")
        variables["PUSHWOOSH_API_TOKEN"] = services["pushwoosh"].get("api_token", "")
    tls = locator.get("tls")
    if tls:
        variables["SWOOSH_CA_CERT"] = tls["ca_cert"]
        variables["NODE_EXTRA_CA_CERTS"] = tls["ca_cert"]  # Node adds it to its own roots
        variables["REQUESTS_CA_BUNDLE"] = tls["ca_bundle"]  # requests and Python's ssl replace their
        variables["SSL_CERT_FILE"] = tls["ca_bundle"]  # roots, so they get public roots + the CA
    return variables


def snippets(locator: dict[str, Any]) -> dict[str, str]:
    """SDK name -> a snippet pointing that SDK at this stack (only for the services that run)."""
    services = locator["services"]
    found: dict[str, str] = {}
    if "segment" in services:
        found.update(_segment_snippets(services["segment"]))
    if "pushwoosh" in services:
        found.update(_pushwoosh_snippets(services["pushwoosh"]))
    return found


def _segment_snippets(segment: dict[str, Any]) -> dict[str, str]:
    url = segment["url"]
    parts = urlsplit(url)
    host, scheme = parts.netloc, parts.scheme
    sources = segment.get("sources") or [{"write_key": ""}]
    key = sources[0]["write_key"]
    return {
        "python": (f'import segment.analytics as analytics\nanalytics.write_key = "{key}"\nanalytics.host = "{url}"'),
        "node": (
            'const { Analytics } = require("@segment/analytics-node")\n'
            f'const analytics = new Analytics({{ writeKey: "{key}", host: "{url}", path: "/v1/batch" }})'
        ),
        "analytics.js": (
            'import { AnalyticsBrowser } from "@segment/analytics-next"\n'
            f"// settings come from {url}/v1/projects/{key}/settings and point at apiHost {host}/v1\n"
            f'const analytics = AnalyticsBrowser.load({{ writeKey: "{key}", cdnURL: "{url}" }},\n'
            f'  {{ integrations: {{ "Segment.io": {{ apiHost: "{host}/v1", protocol: "{scheme}" }} }} }})'
        ),
        "swift": (
            "// analytics-swift speaks https only: run `swoosh up --tls` and trust the CA on the device\n"
            f'let configuration = Configuration(writeKey: "{key}")\n'
            f'    .apiHost("{host}/v1")\n'
            f'    .cdnHost("{host}/v1")'
        ),
        "kotlin": (
            "// analytics-kotlin speaks https only: run `swoosh up --tls` and trust the CA on the device\n"
            f'Analytics("{key}", applicationContext) {{\n'
            f'    apiHost = "{host}/v1"\n'
            f'    cdnHost = "{host}/v1"\n'
            "}"
        ),
    }


def _pushwoosh_snippets(pushwoosh: dict[str, Any]) -> dict[str, str]:
    url = pushwoosh["url"]
    parts = urlsplit(url)
    code, token = pushwoosh.get("application", ""), pushwoosh.get("api_token", "")
    device_token = pushwoosh.get("device_token", "")
    base = f"{url}/json/1.3/"
    return {
        "pypushwoosh": (
            "from pypushwoosh.client import PushwooshClient\n"
            "client = PushwooshClient()\n"
            f'client.scheme = "{parts.scheme}"\n'
            f'client.hostname = "{parts.netloc}"\n'
            f'# application code "{code}", server API token "{token}"'
        ),
        "pushwoosh-android": (
            "<!-- AndroidManifest.xml, inside <application>; from the emulator the host is 10.0.2.2 -->\n"
            f'<meta-data android:name="com.pushwoosh.appid" android:value="{code}" />\n'
            f'<meta-data android:name="com.pushwoosh.base_url" android:value="{base}" />'
        ),
        "pushwoosh-ios": (
            "<!-- Info.plist -->\n"
            f"<key>Pushwoosh_APPID</key><string>{code}</string>\n"
            f"<key>Pushwoosh_BASEURL</key><string>{base}</string>"
        ),
        "pushwoosh-web": (
            'Pushwoosh.push(["init", {\n'
            f'  applicationCode: "{code}",\n'
            f'  pushwooshUrl: "{base}",\n'
            f'  apiToken: "{device_token}", // the device API token; optional unless the fake runs strict\n'
            "}])"
        ),
    }
