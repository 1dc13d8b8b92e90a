"""PURE: the shop's own orders of the period against what the connector did with them.

- Which orders belong to the period: those placed in it; in cash mode (kasstelsel) the
  ones paid in it instead: an order is booked on the day its money arrived, so an order
  placed on 30-09 and paid in October is October's. (The caller lists the shop's orders
  from ``PAYMENT_LOOKBACK_DAYS`` before the period, to find those paid late.)
- A credit order may come unsigned (positive amounts; the mapping books it negative): its
  total is compared signed, so it is not "gewijzigd na boeken".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.core.mapping_settings import MappingSettings
from app.core.orders import Order, OrderSummary
from app.report.model import Finding
from app.report.period import Period
from app.states import BookingKind, BookingState, OrderPayment
from app.store.history_records import OrderState

DEFAULT_STATUS_NAMES = {
    1: "Nieuw",
    2: "Verzonden",
    3: "Betaald",
    4: "Geannuleerd",
    5: "Wacht op betaling",
    6: "Afgehaald",
    10: "Gecrediteerd",
    11: "Creditering afgerond",
}
STATE_NAMES = {
    BookingState.FAILED: "mislukt",
    BookingState.RETRYING: "wacht op nieuwe poging",
    BookingState.POSTING: "wordt geboekt",
    BookingState.SKIPPED: "overgeslagen",
    BookingState.BOOKED: "geboekt",
}


@dataclass
class Comparison:
    orders: int  # the shop's orders of the period
    not_booked: list[Finding]
    changed: list[Finding]
    not_in_shop: list[Finding]
    shop_total: dict[tuple[int, int], Decimal]  # per (year, month): the charts


def compare(
    period: Period,
    mapping: MappingSettings,
    listed: Iterable[Order | OrderSummary],
    states: dict[str, OrderState],
    booked: dict[str, tuple[Decimal, dt.date]],
    cash: bool,
) -> Comparison:
    """``booked``: per order number, the incl. total of its invoice rows dated in the
    period and the first such date."""
    names = {**DEFAULT_STATUS_NAMES, **mapping.status_names}
    bookable = mapping.bookable_statuses | mapping.credit_statuses
    result = Comparison(0, [], [], [], {})
    numbers: set[str] = set()
    for order in sorted(listed, key=lambda o: (len(o.number), o.number)):
        state = states.get(order.number)
        placed = order.date if isinstance(order, Order) else None
        if not _in_period(period, order.number, placed, state, booked, cash):
            continue
        numbers.add(order.number)
        result.orders += 1
        day = booked[order.number][1] if order.number in booked else placed
        current = _signed(order, state) if isinstance(order, Order) else None
        if day is not None and current is not None:
            month = (day.year, day.month)
            result.shop_total[month] = result.shop_total.get(month, Decimal(0)) + current
        status = names.get(order.status, f"status {order.status}")
        if state is not None and state.state == BookingState.BOOKED:
            total = booked[order.number][0] if order.number in booked else state.total
            reason = ""
            if order.status not in bookable:
                reason = f"Geboekt, maar de status is nu '{status}'."
            elif current is not None and total is not None and current != total:
                reason = "Het totaal van de bestelling is na het boeken gewijzigd."
            if reason:
                result.changed.append(
                    Finding(order.number, status, "geboekt", reason, total, current, date=day)
                )
            continue
        result.not_booked.append(_not_booked(order, status, state, bookable, current, day))
    result.not_in_shop = [
        Finding(
            number,
            "",
            "geboekt",
            "Geboekt in deze periode, maar niet gevonden onder de bestellingen van de winkel"
            + (
                " (betaald in deze periode)." if cash else " in deze periode (andere besteldatum?)."
            ),
            total,
            date=day,
        )
        for number, (total, day) in sorted(booked.items())
        if number not in numbers
    ]
    return result


def _in_period(
    period: Period,
    number: str,
    placed: dt.date | None,
    state: OrderState | None,
    booked: dict[str, tuple[Decimal, dt.date]],
    cash: bool,
) -> bool:
    if not cash:
        return True  # the listing is the period's by order date
    if number in booked:
        return True  # paid (so booked) in the period
    in_period = placed is None or period.start <= placed <= period.end
    return in_period and (state is None or state.state != BookingState.BOOKED)


def _signed(order: Order, state: OrderState | None) -> Decimal:
    """The order's total as the connector books it: a credit order negative, whether the
    shop sends its amounts signed or not."""
    credit = (state is not None and state.kind == BookingKind.CREDIT) or (
        order.credited_order_number is not None
    )
    return -abs(order.total) if credit else order.total


def _not_booked(
    order: Order | OrderSummary,
    status: str,
    state: OrderState | None,
    bookable: frozenset[int],
    current: Decimal | None,
    day: dt.date | None,
) -> Finding:
    waiting = (
        state is not None
        and state.state == BookingState.SKIPPED
        and state.payment_state == OrderPayment.OPEN
    )  # cash mode: booked once the money is in
    if order.status not in bookable:
        reason = f"Status '{status}' wordt niet geboekt."
        ours = STATE_NAMES.get(state.state, str(state.state)) if state else "nog niet verwerkt"
    elif state is None:
        reason, ours = "Nog niet verwerkt; de volgende controle pakt hem op.", "nog niet verwerkt"
    elif waiting:
        reason = state.reason or "Wacht op betaling: wordt geboekt zodra het geld binnen is."
        ours = "wacht op betaling"
    else:
        reason, ours = state.reason or "", STATE_NAMES.get(state.state, str(state.state))
    action = order.status in bookable and not waiting
    return Finding(order.number, status, ours, reason, None, current, action, day)
