"""Build the period report: what was booked (stored rows, no e-Boekhouden call) against
the shop's own orders (one Mijnwebwinkel listing pass)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from app.budget import Budget
from app.core.mutations import Soort
from app.core.orders import Order, OrderSummary
from app.report.period import Period
from app.services import Services
from app.states import BookingKind, BookingState
from app.store.history_records import OrderState, PeriodRow
from app.store.shops import Shop

ZERO = Decimal("0.00")
SALES, CREDITS, PAYMENTS = "verkopen", "creditnota's", "betalingen"
SECTIONS = (SALES, CREDITS, PAYMENTS)
PAYMENT_SOORTEN = frozenset({str(Soort.FACTUURBETALING_ONTVANGEN)})
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


@dataclass(frozen=True, slots=True)
class Line:
    """Booked amounts of one section for one (BTW code, ledger)."""

    section: str
    btw_code: str
    ledger: str
    orders: int
    excl: Decimal
    vat: Decimal
    incl: Decimal
    booking_ids: frozenset[int] = field(default=frozenset(), repr=False, compare=False)


def _distinct(lines: list[Line]) -> int:
    """Orders counted once, however many lines they have."""
    return len(frozenset().union(*(line.booking_ids for line in lines)))


@dataclass(frozen=True, slots=True)
class Total:
    label: str
    orders: int
    excl: Decimal
    vat: Decimal
    incl: Decimal


@dataclass(frozen=True, slots=True)
class Finding:
    """One order the bookkeeper should look at."""

    number: str
    status: str  # the shop's status name
    state: str  # ours: "niet aangeboden", "mislukt", …
    reason: str
    booked: Decimal | None = None
    current: Decimal | None = None
    needs_action: bool = True  # False: rightly not booked (a status that is not booked)


@dataclass
class Report:
    shop_id: int
    shop_name: str
    period: Period
    lines: list[Line] = field(default_factory=list)
    shop_orders: int = 0  # orders in the shop's listing (test orders excluded)
    not_booked: list[Finding] = field(default_factory=list)
    changed: list[Finding] = field(default_factory=list)
    doubles: list[Finding] = field(default_factory=list)
    not_in_shop: list[Finding] = field(default_factory=list)

    def section_lines(self, section: str) -> list[Line]:
        return [line for line in self.lines if line.section == section]

    def total(self, section: str) -> Total:
        lines = self.section_lines(section)
        return Total(
            f"Totaal {section}",
            _distinct(lines),
            sum((line.excl for line in lines), ZERO),
            sum((line.vat for line in lines), ZERO),
            sum((line.incl for line in lines), ZERO),
        )

    def by_vat_code(self, section: str) -> dict[str, Total]:
        """Per BTW code (all ledgers together): what a VAT return needs."""
        grouped: dict[str, list[Line]] = defaultdict(list)
        for line in self.section_lines(section):
            grouped[line.btw_code].append(line)
        return {
            code: Total(
                code,
                _distinct(lines),
                sum((x.excl for x in lines), ZERO),
                sum((x.vat for x in lines), ZERO),
                sum((x.incl for x in lines), ZERO),
            )
            for code, lines in sorted(grouped.items())
        }

    @property
    def in_order(self) -> bool:
        return not (
            any(f.needs_action for f in self.not_booked)
            or self.changed
            or self.doubles
            or self.not_in_shop
        )


def section_of(row: PeriodRow) -> str:
    if row.row.soort in PAYMENT_SOORTEN:
        return PAYMENTS
    return CREDITS if row.kind == BookingKind.CREDIT else SALES


def aggregate(rows: list[PeriodRow]) -> list[Line]:
    """Rows → one line per (section, BTW code, ledger); the order count is distinct."""
    groups: dict[tuple[str, str, str], list[PeriodRow]] = defaultdict(list)
    for row in rows:
        groups[(section_of(row), row.row.btw_code, row.row.ledger)].append(row)
    lines = [
        Line(
            section,
            code,
            ledger,
            len({r.booking_id for r in members}),
            sum((r.row.excl for r in members), ZERO),
            sum((r.row.vat for r in members), ZERO),
            sum((r.row.incl for r in members), ZERO),
            frozenset(r.booking_id for r in members),
        )
        for (section, code, ledger), members in groups.items()
    ]
    order = {name: i for i, name in enumerate(SECTIONS)}
    return sorted(lines, key=lambda x: (order[x.section], x.btw_code, x.ledger))


def doubles(rows: list[PeriodRow]) -> list[Finding]:
    """Invoice numbers booked as more than one mutation of the same kind."""
    seen: dict[tuple[str, str], set[tuple[int, int | None]]] = defaultdict(set)
    for row in rows:
        seen[(row.row.invoice_number, row.row.soort)].add((row.booking_id, row.row.mutation_number))
    return [
        Finding(
            number,
            "",
            "dubbel geboekt",
            f"{len(found)} mutaties {soort}: "
            + ", ".join(str(m or "?") for _, m in sorted(found, key=str)),
        )
        for (number, soort), found in sorted(seen.items())
        if len(found) > 1
    ]


def build_report(
    services: Services, shop: Shop, period: Period, budget: Budget | None = None
) -> Report:
    """The report for ``period``. Raises the client's errors when Mijnwebwinkel cannot be
    read (the caller says so in Dutch); with a ``budget`` (the page's),
    ``WorkTooLargeError`` when the shop's listing does not fit in it."""
    rows = services.store.history.period_rows(shop.id, period.start, period.end)
    report = Report(shop.id, shop.name, period, aggregate(rows), doubles=doubles(rows))
    listing = services.shop_api(shop).iter_orders_placed(period.start, period.end)
    listed = [o for o in (budget.bounded(listing) if budget else listing) if not o.is_test]
    report.shop_orders = len(listed)
    booked_incl: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        if row.row.soort not in PAYMENT_SOORTEN:
            booked_incl[row.order_number] += row.row.incl
    states = services.store.history.order_states(shop.id, [o.number for o in listed])
    compare(report, shop, listed, states, booked_incl)
    listed_numbers = {o.number for o in listed}
    report.not_in_shop = [
        Finding(
            number,
            "",
            "geboekt",
            "Geboekt in deze periode, maar niet gevonden onder de "
            "bestellingen van de winkel in deze periode (andere besteldatum?).",
            total,
        )
        for number, total in sorted(booked_incl.items())
        if number not in listed_numbers
    ]
    return report


def compare(
    report: Report,
    shop: Shop,
    listed: list[Order | OrderSummary],
    states: dict[str, OrderState],
    booked_incl: dict[str, Decimal],
) -> None:
    names = {**DEFAULT_STATUS_NAMES, **shop.mapping.status_names}
    bookable = shop.mapping.bookable_statuses | shop.mapping.credit_statuses
    for order in sorted(listed, key=lambda o: (len(o.number), o.number)):
        status = names.get(order.status, f"status {order.status}")
        state = states.get(order.number)
        current = order.total if isinstance(order, Order) else None
        if state is not None and state.state == BookingState.BOOKED:
            booked = booked_incl.get(order.number, state.total)
            if order.status not in bookable:
                report.changed.append(
                    Finding(
                        order.number,
                        status,
                        "geboekt",
                        f"Geboekt, maar de status is nu '{status}'.",
                        booked,
                        current,
                    )
                )
            elif current is not None and booked is not None and current != booked:
                report.changed.append(
                    Finding(
                        order.number,
                        status,
                        "geboekt",
                        "Het totaal van de bestelling is na het boeken gewijzigd.",
                        booked,
                        current,
                    )
                )
            continue
        if order.status not in bookable:
            reason = f"Status '{status}' wordt niet geboekt."
            ours = STATE_NAMES.get(state.state, str(state.state)) if state else "niet aangeboden"
        elif state is None:
            reason, ours = (
                "Nog niet aangeboden; de volgende controle pakt hem op.",
                "niet aangeboden",
            )
        else:
            reason, ours = state.reason or "", STATE_NAMES.get(state.state, str(state.state))
        report.not_booked.append(
            Finding(
                order.number,
                status,
                ours,
                reason,
                None,
                current,
                needs_action=order.status in bookable,
            )
        )
