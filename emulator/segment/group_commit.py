"""Group commit: concurrent requests share one write transaction, and each is answered after its commit.

A request hands its pending rows to `GroupCommit.submit`. When no write is running, the caller itself
writes everything that has gathered (its own and any that arrived meanwhile) in one transaction; while
one runs, the others wait and the next free caller writes the next group. So a lone request pays no
hand-off to another thread, and under load one commit (its page writes, its WAL append) serves many
requests. `submit` returns only once the transaction holding the request committed: acknowledged still
means stored (docs/decisions.md, "One write transaction per group of requests").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class _Job(Generic[T]):
    __slots__ = ("done", "error", "item")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = False
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    """Runs `write(items)` for groups of submitted items, one group at a time, in submission order."""

    def __init__(self, write: Callable[[Sequence[T]], object]) -> None:
        self._write = write
        self._ready = threading.Condition()
        self._queue: list[_Job[T]] = []
        self._writing = False

    def submit(self, item: T) -> None:
        """Return once `item` was written in some group; raise what that group's write raised."""
        job = _Job(item)
        with self._ready:
            self._queue.append(job)
            while not job.done:
                if self._writing:
                    self._ready.wait()
                    continue
                self._writing = True
                group, self._queue = self._queue, []
                self._ready.release()
                error: BaseException | None = None
                try:
                    self._write([j.item for j in group])
                except BaseException as exc:  # every request of the group is told, each in its own thread
                    error = exc
                finally:
                    self._ready.acquire()
                    for member in group:
                        member.done, member.error = True, error
                    self._writing = False
                    self._ready.notify_all()
        if job.error is not None:
            raise job.error
