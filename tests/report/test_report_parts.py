"""The report's pure parts, table-driven: the three-way comparison with the books, the VAT
return (code → rubriek, ICP, OSS), the GetMutaties plan, the shop's invoice numbers, and
the JSON round trip the cache relies on."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from decimal import Decimal

import pytest

from app.core.mutations import BookedMutation
from app.report import books
from app.report.books import Ours, compare, plan, shop_pattern
from app.report.model import Amounts, BookDiff, Finding, Line, Month, OpenItem, PaymentLine, Report
from app.report.period import parse_period
from app.report.restore import from_dict
from app.report.serial import to_dict
from app.report.vat_return import TaxRow, vat_return
from app.states import BookingKind, BookingState
from app.store.history_records import BookedRow, RegisterEntry

D = Decimal
DAY = dt.date(2026, 10, 5)


def ours(number: int, invoice: str, total: str, rows: list[tuple[str, str, str]]) -> Ours:
    booked = [
        BookedRow("FactuurVerstuurd", DAY, ledger, code, D(incl), D(0), D(incl), invoice, number)
        for ledger, code, incl in rows
    ]
    order = invoice.removeprefix("W1-")
    return Ours(number, order, invoice, "FactuurVerstuurd", DAY, D(total), "1300", booked)


def theirs(
    number: int, invoice: str, rows: list[tuple[str, str, str]], **kw: object
) -> BookedMutation:
    values = {
        "soort": "FactuurVerstuurd",
        "date": DAY,
        "total": sum((D(r[2]) for r in rows), D(0)),
        "ledger": "1300",
        **kw,
    }
    return BookedMutation(
        number,
        str(values["soort"]),
        values["date"],  # type: ignore[arg-type]
        invoice,
        values["total"],  # type: ignore[arg-type]
        rows=tuple((g, c, D(a)) for g, c, a in rows),
        ledger=str(values["ledger"]),
    )


MINE = [ours(1, "W1-7001", "121.00", [("8010", "HOOG_VERK_21", "121.00")])]
SHOPS = shop_pattern("W1-{number}").fullmatch


@pytest.mark.parametrize(
    ("books_have", "expect"),
    [
        ([theirs(1, "W1-7001", [("8010", "HOOG_VERK_21", "121.00")])], ([], [], [])),
        ([], (["1"], [], [])),
        ([theirs(1, "W1-7001", [("8010", "HOOG_VERK_21", "100.00")])], ([], ["bedrag"], [])),
        ([theirs(1, "W1-7001", [("8010", "LAAG_VERK_9", "121.00")])], ([], ["btw-code"], [])),
        ([theirs(1, "W1-7001", [("8000", "HOOG_VERK_21", "121.00")])], ([], ["grootboek"], [])),
        (
            [theirs(1, "W1-7001", [("8010", "HOOG_VERK_21", "121.00")], date=DAY.replace(day=9))],
            ([], ["datum"], []),
        ),
        (
            [theirs(1, "W1-7001", [("8010", "HOOG_VERK_21", "121.00")], ledger="1310")],
            ([], ["rekening"], []),
        ),
        (
            [
                theirs(1, "W1-7001", [("8010", "HOOG_VERK_21", "121.00")]),
                theirs(2, "W1-7002", [("8010", "HOOG_VERK_21", "60.50")]),  # by hand
                theirs(3, "W2-7002", [("8010", "HOOG_VERK_21", "60.50")]),  # the other shop's
                theirs(4, "7002", [("8010", "HOOG_VERK_21", "60.50")]),  # another format
                theirs(5, "W1-7003", [("4000", "HOOG_INK_21", "60.50")], soort="FactuurOntvangen"),
            ],
            ([], [], ["2"]),
        ),
    ],
)
def test_three_lists(books_have: list[BookedMutation], expect: tuple[list[str], ...]) -> None:
    found = compare(MINE, books_have, lambda n: bool(SHOPS(n)), {}, set())
    missing, changed, unknown = expect
    assert [str(d.mutation_number) for d in found.missing] == missing
    assert len(found.changed) == len(changed)
    for diff, word in zip(found.changed, changed, strict=True):
        assert word in diff.reason.lower() and diff.mutation_number == 1
    assert [str(d.mutation_number) for d in found.unknown] == unknown
    assert all(d.reason for d in [*found.missing, *found.changed, *found.unknown])


def test_laag_verk_is_laag_verk_9_in_the_books() -> None:
    """Since 2019 LAAG_VERK is 9 %; REST knows it only as LAAG_VERK_9: not a change."""
    mine = [ours(1, "W1-7001", "10.90", [("8000", "LAAG_VERK", "10.90")])]
    books_have = [theirs(1, "W1-7001", [("8000", "LAAG_VERK_9", "10.90")])]
    found = compare(mine, books_have, lambda n: True, {}, set())
    assert (found.missing, found.changed, found.unknown) == ([], [], [])


def test_a_number_of_the_register_is_this_shops_and_a_known_mutation_is_not_unknown() -> None:
    entry = RegisterEntry("7009", "7009", BookingState.FAILED, BookingKind.ORDER, None, "", "NL")
    other = theirs(9, "7009", [("8010", "HOOG_VERK_21", "12.10")])  # the failed order, by hand
    known = theirs(8, "7008", [("1300", "GEEN", "12.10")], soort="FactuurbetalingOntvangen")
    found = compare([], [other, known], lambda n: False, {"7009": entry}, {8})
    assert [(d.order_number, d.mutation_number) for d in found.unknown] == [("7009", 9)]
    assert "7009 (failed)" in found.unknown[0].reason
    assert {m.number for m, _ in found.shop} == {8, 9}


def test_a_mutation_moved_out_of_the_period_is_changed_not_missing() -> None:
    moved = theirs(1, "W1-7001", [("8010", "HOOG_VERK_21", "121.00")], date=dt.date(2026, 12, 1))
    found = compare(MINE, [], lambda n: True, {}, set(), {1: moved})
    assert found.missing == [] and "01-12-2026" in found.changed[0].reason


@pytest.mark.parametrize(
    ("invoice_format", "number", "theirs_"),
    [
        ("{number}", "7001", True),
        ("{number}", "W1-7001", False),
        ("{number}", "2026-001", False),
        ("W1-{number}", "w1-7001", True),
        ("W1-{number}", "W2-7001", False),
        ("F{number}/26", "F7001/26", True),
        ("F{number}/26", "F7001/27", False),
    ],
)
def test_the_shops_invoice_numbers(invoice_format: str, number: str, theirs_: bool) -> None:
    assert bool(shop_pattern(invoice_format).fullmatch(number)) is theirs_


def test_plan_keeps_each_range_under_the_limit() -> None:
    start, end = dt.date(2026, 7, 1), dt.date(2026, 9, 30)
    assert plan(start, end, Counter()) == [(start, end)]  # a quiet quarter: one call
    busy = Counter({start + dt.timedelta(days=i): 150 for i in range(92)})
    ranges = plan(start, end, busy)
    assert ranges[0][0] == start and ranges[-1][1] == end
    for (_, last), (first, _) in itertools.pairwise(ranges):
        assert first == last + dt.timedelta(days=1)
    for first, last in ranges:
        days = range((last - first).days + 1)
        assert sum(busy[first + dt.timedelta(days=i)] for i in days) <= books.PLAN_LIMIT
    assert len(ranges) == 46  # two days of 150 a range


@pytest.mark.parametrize(
    ("row", "rubriek", "turnover", "vat"),
    [
        (TaxRow("HOOG_VERK_21", D("100"), D("21")), "1a", D("100"), D("21")),
        (TaxRow("HOOG_VERK", D("100"), D("19")), "1a", D("100"), D("19")),
        (TaxRow("LAAG_VERK_9", D("100"), D("9")), "1b", D("100"), D("9")),
        (TaxRow("LAAG_VERK", D("100"), D("9")), "1b", D("100"), D("9")),
        (TaxRow("AFW_VERK", D("100"), D("13")), "1c", D("100"), D("13")),
        (TaxRow("VERL_VERK", D("100"), D("0")), "1e", D("100"), D("0")),
        (TaxRow("VERL_VERK_L9", D("100"), D("0")), "1e", D("100"), D("0")),
        (TaxRow("BU_EU_VERK", D("100"), D("0")), "3a", D("100"), D("0")),
        (TaxRow("BI_EU_VERK", D("100"), D("0"), vat_number="DE123456789"), "3b", D("100"), D(0)),
        (TaxRow("BI_EU_VERK_D", D("100"), D("0"), vat_number="DE123456789"), "3b", D(100), D(0)),
        (TaxRow("AFST_VERK", D("100"), D("0")), "3c", D("100"), D("0")),
        (TaxRow("GEEN", D("100"), D("0"), "DE", D(19)), "3c", D("100"), D("0")),  # OSS revenue
        (TaxRow("HOOG_VERK_21", D("-50"), D("-10.50")), "1a", D("-50"), D("-10.50")),  # credit
    ],
)
def test_code_to_rubriek(row: TaxRow, rubriek: str, turnover: D, vat: D) -> None:
    result = vat_return([row], "koppeling")
    assert result.rubrieken[rubriek] == Amounts(turnover, vat)
    assert sum(a.turnover for a in result.rubrieken.values()) == turnover  # once only
    assert result.outside == Amounts()


def test_outside_icp_and_oss() -> None:
    rows = [
        TaxRow("GEEN", D("25"), D("0")),  # a gift card sold at 0 %: not in the return
        TaxRow("BI_EU_VERK", D("100"), D("0"), vat_number="DE123456789", country="DE"),
        TaxRow("BI_EU_VERK_D", D("40"), D("0"), vat_number="DE123456789", country="DE"),
        TaxRow("BI_EU_VERK", D("-30"), D("0"), vat_number="DE123456789", country="DE"),
        TaxRow("BI_EU_VERK", D("70"), D("0"), vat_number="FR40303265045", country="FR"),
        TaxRow("GEEN", D("100"), D("0"), "DE", D(19)),
        TaxRow("GEEN", D("19"), D("0"), "DE", D(19), oss_vat=True),
        TaxRow("GEEN", D("50"), D("0"), "FR", D("5.5")),
        TaxRow("GEEN", D("2.75"), D("0"), "FR", D("5.5"), oss_vat=True),
    ]
    result = vat_return(rows, "boeken")
    assert result.outside == Amounts(D("25"), D("0"))
    assert [(i.vat_number, i.country, i.goods, i.services, i.amount) for i in result.icp] == [
        ("DE123456789", "DE", D("70"), D("40"), D("110")),
        ("FR40303265045", "FR", D("70"), D("0"), D("70")),
    ]
    assert [(o.country, o.rate, o.turnover, o.vat) for o in result.oss] == [
        ("DE", D(19), D("100"), D("19")),
        ("FR", D("5.5"), D("50"), D("2.75")),
    ]
    assert result.rubrieken["3c"].turnover == D("150") and result.rubrieken["3b"].turnover == D(180)


def test_the_json_reads_back_as_the_same_report() -> None:
    report = Report(3, "De Theepot", parse_period("2026-K3"))
    report.lines = [
        Line("verkopen", "HOOG_VERK_21", "8010", 2, D("100.00"), D("21.00"), D("121.00"))
    ]
    report.shop_orders = 4
    report.not_booked = [
        Finding("7001", "Nieuw", "nog niet verwerkt", "r", None, D("5.00"), False, DAY)
    ]
    report.payments = [PaymentLine("1010", "ideal", D("90.00"), 3, D("100.00"), D("10.00"))]
    report.open_items = [OpenItem("onbetaald", "7002", "W1-7002", DAY, D("12.10"), "te laat", DAY)]
    report.books.checked, report.books.calls, report.books.budget_left = True, 3, 4990
    report.books.changed = [
        BookDiff("changed", "7003", "W1-7003", 11, D("1.00"), D("2.00"), "x", DAY)
    ]
    report.vat_return = vat_return([TaxRow("HOOG_VERK_21", D("100"), D("21"))], "boeken")
    report.months = [Month(2026, 7, D("1.00"), D("2.00"), D("3.00"))]
    report.built_at = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    data = to_dict(report)
    assert to_dict(from_dict(data)) == data
    assert data["payments"] == {
        "received": "100.00",
        "refunded": "10.00",
        "by_ledger": [
            {
                "ledger": "1010",
                "method": "ideal",
                "amount": "90.00",
                "count": 3,
                "received": "100.00",
                "refunded": "10.00",
            }
        ],
    }
    assert (
        data["books"]["changed"][0].items()
        >= {
            "order_number": "7003",
            "invoice_number": "W1-7003",
            "mutation_number": 11,
            "booked": "1.00",
            "in_books": "2.00",
        }.items()
    )
    assert data["vat_return"]["1a"] == {"turnover": "100.00", "vat": "21.00"}
    assert set(data["vat_return"]) == {"1a", "1b", "1c", "1e", "3a", "3b", "3c"}
