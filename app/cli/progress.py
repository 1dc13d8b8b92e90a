"""A progress bar on a terminal for ``flask reconcile --since`` (rich, on stderr so the
JSON run record on stdout stays machine-readable).

Phases: listing the shop's orders (a spinner: the count is unknown until the listing
ends), offering them to the queue (a bar), and with ``--wait`` following the workers as
they book (booked / failed of the queued).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from app.booking.reconcile import PassResult
from app.services import Services
from app.states import BookingState

DONE_STATES = (BookingState.BOOKED, BookingState.FAILED, BookingState.SKIPPED)


class PassProgress:
    def __init__(self, progress: Progress, shop_name: str) -> None:
        self.progress = progress
        self.listing = progress.add_task(f"{shop_name}: listing orders", total=None)
        self.queue = progress.add_task("queued", total=None, visible=False)
        self.numbers: list[str] = []

    def __call__(self, result: PassResult, numbers: list[str], done: int) -> None:
        if done == 0:
            self.numbers = list(numbers)
            self.progress.update(
                self.listing,
                total=result.seen,
                completed=result.seen,
                description=f"seen: {result.seen} orders",
            )
            self.progress.update(self.queue, total=len(numbers), visible=True)
        self.progress.update(self.queue, completed=done)

    def follow(
        self, services: Services, shop_id: int, timeout: float, poll: float = 2.0
    ) -> dict[str, int]:
        """Until every queued order is booked, failed or skipped (or ``timeout``)."""
        task = self.progress.add_task("booked", total=len(self.numbers))
        deadline = time.monotonic() + timeout
        counts: dict[str, int] = {}
        while True:
            states = services.store.bookings.states_of(shop_id, self.numbers)
            counts = {str(s): sum(1 for v in states.values() if v == s) for s in DONE_STATES}
            finished = sum(counts.values())
            self.progress.update(
                task,
                completed=finished,
                description=f"booked {counts['booked']}, failed {counts['failed']}",
            )
            if finished >= len(self.numbers) or time.monotonic() > deadline:
                return counts
            time.sleep(poll)


@contextmanager
def pass_progress(shop_name: str, *, enabled: bool) -> Iterator[PassProgress | None]:
    if not enabled:
        yield None
        return
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        yield PassProgress(progress, shop_name)
