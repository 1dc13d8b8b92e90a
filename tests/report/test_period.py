"""Report periods as a person types them, and the Dutch messages for what cannot be read."""

from __future__ import annotations

import datetime as dt

import pytest

from app.report.period import PeriodError, parse_period


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30), "3e kwartaal 2026"),
        ("2026-q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31), "1e kwartaal 2026"),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29), "februari 2024"),
        (
            "2026-10-01..2026-10-15",
            dt.date(2026, 10, 1),
            dt.date(2026, 10, 15),
            "1 oktober 2026 t/m 15 oktober 2026",
        ),
        (
            "2026-10-03",
            dt.date(2026, 10, 3),
            dt.date(2026, 10, 3),
            "3 oktober 2026 t/m 3 oktober 2026",
        ),
    ],
)
def test_periods(text: str, start: dt.date, end: dt.date, label: str) -> None:
    period = parse_period(text)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert parse_period(period.key) == period


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Kies een periode"),
        ("2026-13", "maand 13 bestaat niet"),
        ("2026-Q5", "geen periode"),
        ("2026-10-15..2026-10-01", "einddatum ligt vóór de begindatum"),
        ("2026-02-30..2026-03-01", "geen geldige datum"),
        ("2020-01-01..2026-01-01", "hoogstens twee jaar"),
    ],
)
def test_bad_periods_say_why(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text)
