"""Report periods as a person types them: a quarter ``2026-Q3`` or the Dutch ``2026-K3``
(kwartaal), a month ``2026-10``, a year ``2026``, any from–to ``2026-10-01..2026-10-15``
and a single day ``2026-10-01``. Dates are Europe/Amsterdam calendar dates: the dates the
mutations carry."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

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
LOCAL_TZ = ZoneInfo("Europe/Amsterdam")  # the dates mutations carry
EXAMPLES = "2026-K3 of 2026-Q3 (kwartaal), 2026-10 (maand), 2026 (jaar) of 2026-10-01..2026-10-15"


class PeriodError(ValueError):
    """The period text cannot be read; the message is Dutch and says what is expected."""


@dataclass(frozen=True, slots=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    key: str  # the text that selects it again, e.g. "2026-Q3"

    @property
    def label(self) -> str:
        """Dutch: "3e kwartaal 2026", "oktober 2026", "2026", "1 t/m 15 oktober 2026"."""
        if re.fullmatch(r"\d{4}-Q[1-4]", self.key):
            return f"{self.key[-1]}e kwartaal {self.key[:4]}"
        if re.fullmatch(r"\d{4}-\d{2}", self.key):
            return f"{MONTHS[self.start.month - 1]} {self.start.year}"
        if re.fullmatch(r"\d{4}", self.key):
            return self.key
        return f"{_day(self.start)} t/m {_day(self.end)}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every month the period touches."""
        out, day = [], self.start.replace(day=1)
        while day <= self.end:
            out.append((day.year, day.month))
            day = (day + dt.timedelta(days=32)).replace(day=1)
        return out

    @property
    def within_a_month(self) -> bool:
        """The period lies inside one calendar month (the page may build it itself)."""
        return (self.start.year, self.start.month) == (self.end.year, self.end.month)

    def running(self, today: dt.date) -> bool:
        """Today falls inside the period: its figures can still change."""
        return self.start <= today <= self.end

    def to_come(self, today: dt.date) -> bool:
        return today < self.start


def today_local() -> dt.date:
    return dt.datetime.now(dt.UTC).astimezone(LOCAL_TZ).date()


def _day(value: dt.date) -> str:
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"'{text}' is geen geldige datum (verwacht jjjj-mm-dd).") from None


def quarter(year: int, number: int) -> Period:
    first = 3 * number - 2
    end = dt.date(year, first + 2, calendar.monthrange(year, first + 2)[1])
    return Period(dt.date(year, first, 1), end, f"{year}-Q{number}")


def month(year: int, number: int) -> Period:
    end = dt.date(year, number, calendar.monthrange(year, number)[1])
    return Period(dt.date(year, number, 1), end, f"{year}-{number:02d}")


def current_quarter(today: dt.date) -> Period:
    """The quarter today is in: the period the page opens on (never an empty past one
    for a shop that just started)."""
    return quarter(today.year, (today.month - 1) // 3 + 1)


def parse_period(text: str) -> Period:
    value = (text or "").strip().upper()
    if not value:
        raise PeriodError(f"Kies een periode, bijvoorbeeld {EXAMPLES}.")
    if match := re.fullmatch(r"(\d{4})-?[QK]([1-4])", value):
        return quarter(int(match[1]), int(match[2]))
    if match := re.fullmatch(r"(\d{4})-(\d{2})", value):
        if not 1 <= int(match[2]) <= 12:
            raise PeriodError(f"'{text}': maand {int(match[2])} bestaat niet.")
        return month(int(match[1]), int(match[2]))
    if match := re.fullmatch(r"(\d{4})", value):
        year = int(match[1])
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year))
    if ".." in value:
        head, _, tail = value.partition("..")
        start, end = _date(head.strip()), _date(tail.strip())
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        start = end = _date(value)
    else:
        raise PeriodError(f"'{text}' is geen periode. Gebruik {EXAMPLES} (van t/m).")
    if end < start:
        raise PeriodError(f"'{text}': de einddatum ligt vóór de begindatum.")
    if (end - start).days > MAX_DAYS:
        raise PeriodError(f"'{text}': een periode is hoogstens twee jaar.")
    return Period(
        start, end, f"{start.isoformat()}..{end.isoformat()}" if start != end else start.isoformat()
    )


def choices(today: dt.date) -> list[Period]:
    """What the period field suggests: this year and last, by quarter, month and year."""
    keys = [f"{today.year}-Q{q}" for q in range(1, (today.month - 1) // 3 + 2)]
    keys = [f"{today.year - 1}-Q{q}" for q in range(1, 5)] + keys
    keys += [f"{today.year}-{m:02d}" for m in range(1, today.month + 1)]
    keys += [str(today.year - 1), str(today.year)]
    return [parse_period(k) for k in keys]
