"""A page's work budget: a deadline and a most-items count for work done inside one web
request, so every page answers within ``PAGE_WORK_SECONDS`` (well under gunicorn's
30-second timeout) or says it cannot, instead of holding a thread for minutes.

Use cases that may list without end (the Controle report, the backfill's dry run) take an
optional ``Budget`` and pass what they iterate through ``budget.bounded(...)``, or call
``budget.check()`` in their own loops; beyond it they raise ``WorkTooLargeError`` and the
page says what to do. Jobs and commands pass no budget.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from app.errors import WorkTooLargeError

T = TypeVar("T")


def now() -> float:
    return time.monotonic()


class Budget:
    def __init__(self, seconds: float, items: int) -> None:
        self.seconds, self.items = seconds, items
        self.deadline = now() + seconds

    def check(self) -> None:
        if now() > self.deadline:
            raise WorkTooLargeError(
                f"more than {self.seconds:.0f} s of work", seconds=self.seconds, items=self.items
            )

    def bounded(self, items: Iterable[T]) -> Iterator[T]:
        """``items``, until more than ``self.items`` came or the deadline passed."""
        for count, item in enumerate(items, 1):
            if count > self.items:
                raise WorkTooLargeError(
                    f"more than {self.items} items", seconds=self.seconds, items=self.items
                )
            self.check()
            yield item
