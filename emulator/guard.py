"""Who may use the `/_swoosh/` control API: the user, never a web page or another machine uninvited.

A WSGI middleware in front of every service's control routes refuses
- a Host that is not loopback, the listening address or a configured name (DNS rebinding: a page on
  attacker.example whose name later resolves to 127.0.0.1 sends `Host: attacker.example`);
- a state-changing request (POST, PUT, PATCH, DELETE) whose Origin is another site's, or `null`, or
  which declares a Content-Type other than JSON (the only requests a page can send without a CORS
  preflight are form and text/plain ones, and browsers always add Origin to a cross-site POST);
- any request without `Authorization: Bearer <token>` when a token is set (the stack is exposed
  beyond loopback with `swoosh up --expose`).
The rest of each service (its wire API) is never touched: SDKs point at it by any name.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

if TYPE_CHECKING:  # annotations only: the loopback checks are used by CLIs that never start Flask
    from flask import Flask

from swoosh.emulator.faults import CONTROL_PREFIX

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
ACCESS_EXTENSION = "swoosh.access"

ErrorBody = Callable[[int, str, str], Any]


def control_error_body(status: int, code: str, message: str) -> Any:
    """The fakes' control API error shape (as ControlError answers)."""
    return {"error": message}


@dataclass
class ControlAccess:
    """The listening address, extra names and token; the stack fills them in once it knows them."""

    bind_host: str = "127.0.0.1"
    names: frozenset[str] = field(default_factory=frozenset)
    token: str | None = None

    def configure(self, bind_host: str, names: Iterable[str] = (), token: str | None = None) -> None:
        self.bind_host = _plain_host(bind_host)
        self.names = frozenset(_plain_host(n) for n in names)
        self.token = token or None

    def host_allowed(self, host_header: str) -> bool:
        host = _host_name(host_header)
        if is_loopback_host(host) or host in self.names or host == self.bind_host:
            return True
        # a name nobody configured is the DNS rebinding case; an address is fine on a wildcard bind
        return _ip(host) is not None and self.bind_host in WILDCARD_HOSTS

    def refusal(self, environ: dict[str, Any]) -> tuple[int, str, str] | None:
        """(status, code, message) when the request must be refused, else None."""
        host = environ.get("HTTP_HOST")
        if host is not None and not self.host_allowed(host):
            return (
                403,
                "host_not_allowed",
                (
                    f"Host {host!r} is not this stack's address; the control API answers only loopback, the "
                    "listening address and names given with --allow-host (DNS rebinding protection)"
                ),
            )
        is_health = environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in SAFE_METHODS
        if self.token and not is_health and not _bearer_matches(environ.get("HTTP_AUTHORIZATION", ""), self.token):
            return (
                401,
                "token_required",
                (
                    "this stack is exposed beyond loopback: send the control token from stack.json as "
                    "`Authorization: Bearer <token>`"
                ),
            )
        if environ.get("REQUEST_METHOD", "GET").upper() in SAFE_METHODS:
            return None
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not _same_origin(origin, host, environ.get("wsgi.url_scheme", "http")):
            return 403, "cross_origin", f"control requests from another origin ({origin!r}) are refused"
        content_type = (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
        if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
            return (
                415,
                "json_required",
                (f"control requests that change state must be sent as application/json, not {content_type!r}"),
            )
        return None


# A health probe (a container's HEALTHCHECK, a load balancer) cannot carry a token; it reveals nothing.
HEALTH_PATH = f"{CONTROL_PREFIX}/health"


class ControlGuard:
    """Applies a ControlAccess to the `/_swoosh/` paths of a WSGI app; other paths pass untouched."""

    def __init__(self, app: Callable[..., Iterable[bytes]], access: ControlAccess, error_body: ErrorBody) -> None:
        self.app = app
        self.access = access
        self.error_body = error_body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/"):
            refused = self.access.refusal(environ)
            if refused is not None:
                status, code, message = refused
                body = orjson.dumps(self.error_body(status, code, message))
                start_response(
                    f"{status} {_REASONS[status]}",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
        return self.app(environ, start_response)


_REASONS = {401: "Unauthorized", 403: "Forbidden", 415: "Unsupported Media Type"}


def protect(app: Flask, error_body: ErrorBody = control_error_body) -> Flask:
    """Put the control guard outermost on `app`; `access_of(app)` configures it."""
    access = ControlAccess()
    app.wsgi_app = ControlGuard(app.wsgi_app, access, error_body)  # type: ignore[method-assign]  # Flask's own documented way to wrap its WSGI callable
    app.extensions[ACCESS_EXTENSION] = access
    return app


def access_of(app: Flask) -> ControlAccess:
    access: ControlAccess = app.extensions[ACCESS_EXTENSION]
    return access


def _host_name(host: str) -> str:
    """The name of a Host header or URL authority, lower-case, without port, brackets or final dot."""
    return (urlsplit(f"//{host.strip()}").hostname or "").rstrip(".")


def is_loopback_host(host: str) -> bool:
    """True for names and addresses only this machine can reach: localhost, *.localhost, 127/8, ::1."""
    plain = _plain_host(host)
    if plain in LOOPBACK_HOSTS or plain.endswith(".localhost"):
        return True
    address = _ip(plain)
    return address is not None and address.is_loopback


def is_loopback_url(url: str) -> bool:
    """Whether `url` points at this machine (the fakes), not at a real service."""
    return is_loopback_host(urlsplit(url).hostname or "")


def _plain_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _authority(url: str) -> tuple[str, str, int] | None:
    parts = urlsplit(url.strip())
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        return None
    if default is None or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.rstrip("."), port or default


def _same_origin(origin: str, host: str | None, scheme: str) -> bool:
    """`Origin: null` (sandboxed frames, file pages) and anything unparseable count as another origin."""
    mine = _authority(f"{scheme}://{host}") if host is not None else None
    return mine is not None and _authority(origin) == mine


def _bearer_matches(authorization: str, token: str) -> bool:
    scheme, _, given = authorization.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
