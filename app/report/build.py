"""Build the period report: what the connector booked (its stored rows and the payments
register), against the shop's own orders (one Mijnwebwinkel listing pass), and, when
asked, against e-Boekhouden's books read back (``books``: SOAP GetMutaties by date range
within the month's call budget, or the REST listing).

``progress(stage, done, total)`` is told how far it is ("winkel": orders listed;
"boekhouding": mutations read); ``deadline`` (``time.monotonic()``) makes a page's own
build give up with ``TooSlowError`` so the page can hand it to a job instead.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from app.config import PAGE_MAX_ORDERS
from app.core.orders import Order, OrderSummary
from app.report import books as bookcheck
from app.report.lines import INVOICE_PAYMENT, aggregate, doubles, payment_lines
from app.report.model import ZERO, Month, OpenItem, Report
from app.report.period import Period, today_local
from app.report.read_books import read_books
from app.report.shop import compare
from app.report.vat_return import from_rows, vat_return
from app.services import Services
from app.states import BookingMode, OpenItemKind, PaymentState
from app.store.engine import utcnow
from app.store.history_records import PeriodRow
from app.store.payment_records import PaymentRecord
from app.store.shops import Shop

Progress = Callable[[str, int, int | None], None]


class TooSlowError(Exception):
    """The page's own build passed its deadline: the report becomes a job."""


def build_report(
    services: Services,
    shop: Shop,
    period: Period,
    *,
    books: bool = False,
    progress: Progress | None = None,
    deadline: float | None = None,
    today: dt.date | None = None,
) -> Report:
    """The report for ``period``. Raises the client's errors when Mijnwebwinkel cannot be
    read (the caller says so in Dutch); e-Boekhouden's are written into ``report.books``."""
    tell = progress or (lambda stage, done, total: None)
    store = services.store
    rows = store.history.period_rows(shop.id, period.start, period.end)
    paid = store.reports.payments_between(shop.id, period.start, period.end, [PaymentState.BOOKED])
    report = Report(
        shop.id,
        shop.name,
        period,
        aggregate(rows, paid),
        doubles=doubles(rows),
        payments=payment_lines(rows, paid),
        mode=str(shop.mapping.booking_mode),
        built_at=utcnow(),
    )
    cash = shop.mapping.booking_mode == BookingMode.CASH
    listed = _listed(services, shop, period, cash, tell, deadline)
    booked = _booked(rows)
    states = store.history.order_states(shop.id, [o.number for o in listed])
    found = compare(period, shop.mapping, listed, states, booked, cash)
    report.shop_orders = found.orders
    report.not_booked, report.changed = found.not_booked, found.changed
    report.not_in_shop = found.not_in_shop
    report.open_items = _open_items(services, shop, period, today or today_local())
    report.vat_return = vat_return(from_rows(rows), "koppeling")
    report.months = _months(period, found.shop_total, rows)
    if books:
        invoices = store.reports.invoice_numbers(shop.id, [p.order_number for p in paid])
        ours = _ours(rows, paid, invoices)
        read_books(services, shop, report, ours, rows, tell)
    return report


def _listed(
    services: Services,
    shop: Shop,
    period: Period,
    cash: bool,
    tell: Progress,
    deadline: float | None,
) -> list[Order | OrderSummary]:
    """The shop's orders of the period (cash mode: from the payment look-back before it,
    so that an order paid in the period but placed before it is found)."""
    first = period.start
    if cash:
        first -= dt.timedelta(days=services.settings.payment_lookback_days)
    listed: list[Order | OrderSummary] = []
    for order in services.shop_api(shop).iter_orders_placed(first, period.end):
        # The page's own build (a deadline) stops past its time or its size (issue 26's
        # page budget, PAGE_MAX_ORDERS): then the report becomes a job, which has neither.
        if deadline is not None and (time.monotonic() > deadline or len(listed) >= PAGE_MAX_ORDERS):
            raise TooSlowError(period.key)
        if not order.is_test:
            listed.append(order)
            if len(listed) % 100 == 0:
                tell("winkel", len(listed), None)
    tell("winkel", len(listed), len(listed))
    return listed


def _booked(rows: list[PeriodRow]) -> dict[str, tuple[Decimal, dt.date]]:
    """Per order: the incl. total of its invoice rows in the period, and their first date."""
    out: dict[str, tuple[Decimal, dt.date]] = {}
    for row in rows:
        if row.row.soort == INVOICE_PAYMENT:
            continue
        total, day = out.get(row.order_number, (ZERO, row.row.date))
        out[row.order_number] = (total + row.row.incl, min(day, row.row.date))
    return out


def _ours(
    rows: list[PeriodRow], paid: list[PaymentRecord], invoices: dict[str, str]
) -> list[bookcheck.Ours]:
    """The mutations the connector booked in the period, by mutation number (a payment
    under the Factuurnummer of the invoice it pays: ``invoices``, by order number)."""
    out: dict[int, bookcheck.Ours] = {}
    for row in rows:
        number = row.row.mutation_number
        if number is None:
            continue  # booked before mutation numbers were kept per row
        mine = out.get(number)
        if mine is None:
            mine = out[number] = bookcheck.Ours(
                number,
                row.order_number,
                row.row.invoice_number,
                row.row.soort,
                row.row.date,
                ZERO,
                row.row.account,
            )
        mine.total += row.row.incl
        mine.rows.append(row.row)
    for payment in paid:
        if payment.mutation_number is not None:
            out[payment.mutation_number] = bookcheck.Ours(
                payment.mutation_number,
                payment.order_number,
                invoices.get(payment.order_number, payment.order_number),
                INVOICE_PAYMENT,
                payment.payment_date,
                payment.amount,
                payment.ledger or "",
                payment=True,
            )
    return sorted(out.values(), key=lambda m: (m.date, m.number))


# The register's open items (app/store/open_items.py, also the overview's and the
# digest's) as the report names them.
OPEN_KINDS = {
    OpenItemKind.OVERDUE: "onbetaald",  # past its payment term, still looked for
    OpenItemKind.LAPSED: "niet meer gevolgd",  # unpaid at the end of the payment lookback
    OpenItemKind.HELD: "vastgehouden",  # a payment or refund held back or refused
    OpenItemKind.NOT_BOOKED: "niet geboekt",  # a part set to "niet boeken": open in the books
}


def _open_items(services: Services, shop: Shop, period: Period, today: dt.date) -> list[OpenItem]:
    """What of the period's money is open today, with its Dutch reason: invoices of the
    period unpaid past their term or lookback, payments and refunds of the period held back
    or refused, parts deliberately not booked (the modes that book payments)."""
    term = dt.timedelta(days=shop.mapping.payment_term_days)
    items = services.store.payments.open_items(
        shop.id,
        today,
        lookback_days=shop.mapping.lookback_days(services.settings.payment_lookback_days),
        term_days=shop.mapping.payment_term_days,
    )
    invoices = (OpenItemKind.OVERDUE, OpenItemKind.LAPSED)
    return [
        OpenItem(
            OPEN_KINDS[i.kind],
            i.order_number,
            i.invoice_number,
            i.date,
            i.amount,
            i.reason,
            i.date + term if i.kind in invoices else None,
        )
        for i in items
        if period.start <= i.date <= period.end
    ]


def _months(
    period: Period, shop_total: dict[tuple[int, int], Decimal], rows: list[PeriodRow]
) -> list[Month]:
    booked: dict[tuple[int, int], Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        if row.row.soort != INVOICE_PAYMENT:
            booked[(row.row.date.year, row.row.date.month)] += row.row.incl
    return [
        Month(year, month, shop_total.get((year, month), ZERO), booked[(year, month)])
        for year, month in period.months()
    ]
