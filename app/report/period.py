"""Report periods as a person types them: ``2026-Q3``, ``2026-10``, ``2026-10-01..2026-10-15``
(and a single day ``2026-10-01``). Dates are Europe/Amsterdam calendar dates: the dates the
mutations carry."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
MAX_DAYS = 366 * 2


class PeriodError(ValueError):
    """The period text cannot be read; the message is Dutch and says what is expected."""


@dataclass(frozen=True, slots=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    key: str  # the text that selects it again, e.g. "2026-Q3"

    @property
    def label(self) -> str:
        """Dutch: "3e kwartaal 2026", "oktober 2026", "1 t/m 15 oktober 2026"."""
        if re.fullmatch(r"\d{4}-Q[1-4]", self.key):
            return f"{self.key[-1]}e kwartaal {self.key[:4]}"
        if re.fullmatch(r"\d{4}-\d{2}", self.key):
            return f"{MONTHS[self.start.month - 1]} {self.start.year}"
        return f"{_day(self.start)} t/m {_day(self.end)}"

    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every month the period touches."""
        out, day = [], self.start.replace(day=1)
        while day <= self.end:
            out.append((day.year, day.month))
            day = (day + dt.timedelta(days=32)).replace(day=1)
        return out


def _day(value: dt.date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"'{text}' is geen geldige datum (verwacht jjjj-mm-dd).") from None


def parse_period(text: str) -> Period:
    value = (text or "").strip().upper()
    if not value:
        raise PeriodError(
            "Kies een periode, bijvoorbeeld 2026-Q3, 2026-10 of 2026-10-01..2026-10-15."
        )
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", value):
        year, quarter = int(match[1]), int(match[2])
        first = 3 * quarter - 2
        end = dt.date(year, first + 2, calendar.monthrange(year, first + 2)[1])
        return Period(dt.date(year, first, 1), end, f"{year}-Q{quarter}")
    if match := re.fullmatch(r"(\d{4})-(\d{2})", value):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"'{text}': maand {month} bestaat niet.")
        end = dt.date(year, month, calendar.monthrange(year, month)[1])
        return Period(dt.date(year, month, 1), end, f"{year}-{month:02d}")
    if ".." in value:
        head, _, tail = value.partition("..")
        start, end = _date(head.strip()), _date(tail.strip())
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        start = end = _date(value)
    else:
        raise PeriodError(
            f"'{text}' is geen periode. Gebruik 2026-Q3 (kwartaal), 2026-10 "
            "(maand) of 2026-10-01..2026-10-15 (van t/m)."
        )
    if end < start:
        raise PeriodError(f"'{text}': de einddatum ligt vóór de begindatum.")
    if (end - start).days > MAX_DAYS:
        raise PeriodError(f"'{text}': een periode is hoogstens twee jaar.")
    return Period(
        start, end, f"{start.isoformat()}..{end.isoformat()}" if start != end else start.isoformat()
    )
