"""How far each destination got, kept in the store, so a restart delivers what a kill interrupted.

A destination's mark is a seq: every good event of its source up to it was delivered, given up on, or
not for that destination (Deliverer keeps it; `_Lane.mark`). With `--data-dir` the mark is written
under a key naming the destination by source, name and URL (ids change across restarts) whenever it
moves, at most every MARK_EVERY seconds while busy. After a restart the events past each mark are
offered again: at-least-once, as Segment's own delivery is, so an event that was on the wire at the
kill may arrive twice (the bridge's outbox and Pushwoosh see it again; the fake Segment's dedupe is on
ingest, not delivery).
"""

from __future__ import annotations

import logging

from swoosh.emulator.segment.delivery import Deliverer, Destination
from swoosh.emulator.segment.event_table import EventTable
from swoosh.emulator.segment.stored import GOOD
from swoosh.emulator.store import Store, StoreError


def mark_key(destination: Destination) -> str:
    return f"delivered:{destination.source}|{destination.name}|{destination.url}"


def track(deliverer: Deliverer, store: Store, newest_seq: int, log: logging.Logger) -> None:
    """Write every destination's mark to `store` from now on; one without a mark yet starts at `newest_seq`."""

    def save(destination: Destination, mark: int) -> None:
        try:
            store.put(mark_key(destination), mark)
        except StoreError as exc:  # deliveries go on; a restart would offer some of them again
            log.warning("could not save the delivery mark of %s: %s", destination.name, exc)

    deliverer.on_mark = save
    for destination in deliverer.destinations():
        if store.get(mark_key(destination)) is None:
            save(destination, newest_seq)


def resume(deliverer: Deliverer, table: EventTable, store: Store) -> int:
    """Offer each destination again the good events of its source past its saved mark; how many."""
    resumed = 0
    for destination in deliverer.destinations():
        mark = store.get(mark_key(destination))
        if not isinstance(mark, int):
            continue
        events = table.select({"source": destination.source, "status": GOOD, "after": str(mark)}, None)
        deliverer.offer(destination.source, [(e["seq"], e["message"]) for e in events], destination.id)
        resumed += len(events)
    return resumed
