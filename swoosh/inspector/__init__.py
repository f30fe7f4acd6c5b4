"""The inspector: a web UI over the whole stack, served by `swoosh up` on its own loopback port.

It reads and changes the services only through their `/_swoosh/` control APIs (swoosh.emulator.*
clients, with the stack's control token), never through their backends. docs/inspector.md explains
each page; docs/decisions.md says why it is built this way.
"""
