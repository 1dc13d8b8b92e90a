"""Report periods as a person types them, and the Dutch messages for what cannot be read."""

from __future__ import annotations

import datetime as dt

import pytest

from app.report.period import PeriodError, choices, current_quarter, parse_period


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-Q3", dt.date(2026, 7, 1), dt.date(2026, 9, 30), "3e kwartaal 2026"),
        ("2026-q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31), "1e kwartaal 2026"),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29), "februari 2024"),
        ("2026-K4", dt.date(2026, 10, 1), dt.date(2026, 12, 31), "4e kwartaal 2026"),
        ("2026-k2", dt.date(2026, 4, 1), dt.date(2026, 6, 30), "2e kwartaal 2026"),
        ("2026K1", dt.date(2026, 1, 1), dt.date(2026, 3, 31), "1e kwartaal 2026"),
        ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026"),
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
        ("2026-K0", "geen periode"),
        ("26", "geen periode"),
        ("2026-10-15..2026-10-01", "einddatum ligt vóór de begindatum"),
        ("2026-02-30..2026-03-01", "geen geldige datum"),
        ("2020-01-01..2026-01-01", "hoogstens twee jaar"),
    ],
)
def test_bad_periods_say_why(text: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        parse_period(text)


def test_k_and_q_are_the_same_quarter() -> None:
    assert parse_period("2026-K4") == parse_period("2026-Q4")
    assert parse_period("2026-K4").key == "2026-Q4"


@pytest.mark.parametrize(
    ("today", "key"),
    [
        (dt.date(2026, 1, 1), "2026-Q1"),
        (dt.date(2026, 3, 31), "2026-Q1"),
        (dt.date(2026, 4, 1), "2026-Q2"),
        (dt.date(2026, 12, 31), "2026-Q4"),
    ],
)
def test_the_page_opens_on_the_current_quarter(today: dt.date, key: str) -> None:
    period = current_quarter(today)
    assert period.key == key and period.running(today) and not period.to_come(today)


@pytest.mark.parametrize(
    ("text", "within"),
    [
        ("2026-10", True),
        ("2026-10-01..2026-10-15", True),
        ("2026-Q4", False),
        ("2026", False),
        ("2026-09-30..2026-10-01", False),
    ],
)
def test_within_a_month(text: str, within: bool) -> None:
    assert parse_period(text).within_a_month is within


def test_choices_offer_quarters_months_and_years() -> None:
    keys = [p.key for p in choices(dt.date(2026, 5, 10))]
    assert "2025-Q4" in keys and "2026-Q2" in keys and "2026-Q3" not in keys
    assert "2026-05" in keys and "2026" in keys and "2025" in keys
