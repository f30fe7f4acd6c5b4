"""Pages of the inspector: each is its own module with a blueprint and one `page` entry.

The navigation lists exactly the registered pages, in `order`; adding a page is one line in
`PAGE_MODULES` (swoosh.inspector.pages) and a module that defines `page`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint


@dataclass(frozen=True)
class Page:
    """One page in the navigation: its title, its blueprint (which serves `/<slug>`), its place."""

    slug: str
    title: str
    blueprint: Blueprint
    order: int
    endpoint: str  # the blueprint's view that the navigation links to, e.g. "live.index"
