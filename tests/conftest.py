"""Loaded before any test. httpx imports httpcore lazily, when its first transport is made; if that first
import happened inside a test that uses `pytester` (whose snapshot of sys.modules drops every module the
test imported), httpcore was imported a second time later and httpx no longer recognised its exceptions:
a refused connection escaped as `httpcore.ConnectError` instead of `httpx.ConnectError` (seen in the
bridge restart test after tests/plugin, in one process)."""

import httpx

httpx.HTTPTransport().close()  # httpcore is imported once, for the whole session
