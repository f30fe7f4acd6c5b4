"""How the `swoosh` command reports a failure: one line `Error: ...`, never a traceback.

Usage mistakes are click's (exit 2). Environment and runtime failures that commands do not name
themselves (a refused connection, a control API refusal, a file that cannot be written) are turned
into one line here (exit 1). Anything else is a bug in swoosh: one line that says so, and the
traceback only with `swoosh --debug`.
"""

from __future__ import annotations

import errno
import tomllib

import click
import httpx

from swoosh.emulator.client import ControlAPIError
from swoosh.emulator.locator import StackNotFound


def one_line(exc: BaseException) -> str:
    """A readable, single-line account of an environment failure."""
    if isinstance(exc, httpx.TimeoutException):
        return f"{_url(exc)} did not answer in time (is the stack still running? `swoosh ps`)"
    if isinstance(exc, httpx.TransportError):
        return f"cannot reach {_url(exc)} (is the stack running? start it with `swoosh up`; `swoosh ps` lists them)"
    if isinstance(exc, ControlAPIError):
        return str(exc)
    if isinstance(exc, tomllib.TOMLDecodeError):
        return f"not valid TOML: {exc}"
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EACCES:
            return f"permission denied:{where}"
        return f"{reason}:{where}" if where else reason
    return str(exc)


def _url(exc: httpx.TransportError) -> str:
    try:
        return str(exc.request.url.copy_with(query=None))
    except RuntimeError:  # no request attached
        return "the service"


ENVIRONMENT_ERRORS: tuple[type[BaseException], ...] = (
    StackNotFound,
    httpx.TransportError,
    ControlAPIError,
    tomllib.TOMLDecodeError,
    OSError,
)


def report(exc: BaseException) -> click.ClickException:
    """The ClickException to raise for `exc` (not itself a click exception)."""
    if isinstance(exc, ENVIRONMENT_ERRORS):
        return click.ClickException(one_line(exc))
    return click.ClickException(
        f"internal error in swoosh ({type(exc).__name__}: {exc}); run `swoosh --debug ...` for the traceback"
    )
