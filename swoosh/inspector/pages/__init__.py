"""The inspector's pages, one module each; every module named here defines `page: Page`.

Order in this list does not matter: the navigation sorts by each page's `order`
(Live 10, Pushwoosh 20, Bridge 30, Trace 40, Control 50).
"""

from __future__ import annotations

import importlib

from swoosh.inspector.registry import Page

PAGE_MODULES = (
    "swoosh.inspector.pages.live",
    "swoosh.inspector.pages.bridge",
    "swoosh.inspector.pages.control",
    "swoosh.inspector.pages.trace",
    "swoosh.inspector.pages.pushwoosh",
)


def registered_pages() -> list[Page]:
    """Every page of `PAGE_MODULES`, in navigation order."""
    pages = [importlib.import_module(name).page for name in PAGE_MODULES]
    return sorted(pages, key=lambda page: page.order)
