"""A small Python client for the `/_swoosh/` control API; the pytest plugin and CLI use it."""

from __future__ import annotations

from typing import Any

import httpx


class ControlAPIError(RuntimeError):
    """The control API refused a call; the message is its own."""


class WaitTimeout(AssertionError):
    """wait() gave up; carries what did arrive so the failure explains itself."""

    def __init__(self, message: str, items: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.items = items


class _Faults:
    def __init__(self, client: ControlClient) -> None:
        self._client = client

    def add(self, **rule: Any) -> dict[str, Any]:
        """e.g. add(status=503, times=2) or add(status=429, retry_after=1, path="/v1/batch")."""
        return self._client.call("POST", "/faults", json=rule)

    def list(self) -> list[dict[str, Any]]:
        return self._client.call("GET", "/faults")["faults"]

    def remove(self, rule_id: int) -> None:
        self._client.call("DELETE", f"/faults/{rule_id}")

    def clear(self) -> None:
        self._client.call("DELETE", "/faults")


class _Clock:
    def __init__(self, client: ControlClient) -> None:
        self._client = client

    def now(self) -> str:
        return self._client.call("GET", "/clock")["now"]

    def advance(self, seconds: float) -> str:
        return self._client.call("POST", "/clock", json={"advance": seconds})["now"]


class ControlClient:
    """Talks to one fake's control namespace; service clients add their own conveniences."""

    def __init__(
        self,
        base_url: str,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
        verify: Any = True,
        token: str | None = None,
    ) -> None:
        """`token`: the control token of a stack exposed beyond loopback (stack.json's `control_token`)."""
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = http or httpx.Client(timeout=timeout, verify=verify, headers=headers)
        self.faults = _Faults(self)
        self.clock = _Clock(self)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, f"{self.base_url}/_swoosh{path}", **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise ControlAPIError(f"{method} /_swoosh{path} -> {response.status_code}: {message}")
        return response.json()

    def health(self) -> dict[str, Any]:
        return self.call("GET", "/health")

    def reset(self) -> None:
        self.call("POST", "/reset")

    def config(self) -> dict[str, Any]:
        return self.call("GET", "/config")

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        return self.call("GET", "/journal", params=_params(filters))["requests"]

    def items(self, collection: str, limit: int | None = None, **filters: Any) -> list[dict[str, Any]]:
        params = _params(filters)
        if limit is not None:
            params["limit"] = str(limit)
        answer = self.call("GET", f"/{collection}", params=params)
        if "error" in answer:  # a streamed answer that could not list every record (control.streamed_items)
            raise ControlAPIError(f"GET /_swoosh/{collection}: {answer['error']}")
        return answer["items"]

    def wait(self, collection: str, count: int = 1, timeout: float = 10.0, **filters: Any) -> list[dict[str, Any]]:
        """Long-poll until `count` records match; raises WaitTimeout listing what did arrive."""
        params = {**_params(filters), "count": str(count), "timeout": str(timeout)}
        http_timeout = httpx.Timeout(timeout + 10.0)
        result = self.call("GET", f"/wait/{collection}", params=params, timeout=http_timeout)
        if "error" in result:  # a streamed answer that could not list every record (control.streamed_items)
            raise ControlAPIError(f"GET /_swoosh/wait/{collection}: {result['error']}")
        if not result["matched"]:
            shown = ", ".join(f"{k}={v!r}" for k, v in filters.items()) or "no filter"
            raise WaitTimeout(
                f"waited {timeout}s for {count} {collection} ({shown}); {result['count']} matched", result["items"]
            )
        return result["items"]

    def export_state(self) -> dict[str, Any]:
        state = self.call("GET", "/state")
        if "error" in state:  # a streamed export that could not read every record (emulator.json_stream)
            raise ControlAPIError(f"GET /_swoosh/state: {state['error']}")
        return state

    def import_state(self, state: dict[str, Any]) -> None:
        self.call("PUT", "/state", json=state)

    def close(self) -> None:
        self._http.close()


def _params(filters: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in filters.items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out
