"""Reading a period's mutations over SOAP: GetMutaties answers at most the last 500
mutations of a filter (NOTES.md §5), and an administration has 5,000 calls a month.

An answer of 500 may be cut off, whichever 500 e-Boekhouden chose (the newest by number,
or by date: undocumented), so its range is read again in halves: by date while it spans
days, and within one day by mutation number (``MutatieNrVan``/``MutatieNrTm``) around the
middle of what was found. A range of one number holds one mutation, so the halving ends;
a period of N mutations that are spread over the days costs about N / 500 calls plus one
per halving. The caller (the period report) plans its ranges from what it expects, so a
halving is rare.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from app.clients.eboekhouden import wire
from app.core.mutations import BookedMutation, MutationListing

GET_MUTATIES_CAP = 500
Range = tuple[dt.date, dt.date, int, int]  # first day, last day, lowest and highest number


def read_period(
    call: Callable[..., dict[str, Any]],
    start: dt.date,
    end: dt.date,
    progress: Callable[[int], None] | None = None,
) -> MutationListing:
    """Every mutation dated in [start, end]; ``call(cFilter=…)`` is one GetMutaties."""
    found: dict[int, BookedMutation] = {}
    calls = 0
    todo: list[Range] = [(start, end, 0, 0)]
    while todo:
        first, last, low, high = todo.pop()
        batch = wire.listed_mutations(call(cFilter=wire.range_filter(first, last, low, high)))
        calls += 1
        found.update((m.number, m) for m in batch)
        if progress is not None:
            progress(len(found))
        if len(batch) >= GET_MUTATIES_CAP:
            todo.extend(halves((first, last, low, high), [m.number for m in batch]))
    ordered = sorted(found.values(), key=lambda m: (m.date or start, m.number))
    return MutationListing(tuple(ordered), calls)


def halves(full: Range, numbers: list[int]) -> list[Range]:
    """The two halves of a range whose answer was full."""
    first, last, low, high = full
    if first < last:
        day = first + (last - first) // 2
        return [(first, day, low, high), (day + dt.timedelta(days=1), last, low, high)]
    ordered = sorted(set(numbers))
    number = ordered[len(ordered) // 2 - 1]
    return [(first, last, low, number), (first, last, number + 1, high)]
