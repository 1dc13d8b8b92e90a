"""e-Boekhouden read back for the period report: the shop's mutations of the period, on
the shop's own adapter, compared with what the connector booked (``books.compare``).

SOAP: GetMutaties by date ranges planned from what the connector booked per day (at most
``books.PLAN_LIMIT`` expected per call, under the 500-cap), each call counted against the
administration's 5,000 a month (``Services.count_get_mutaties``). The books are read
only while the month has enough calls left besides ``GET_MUTATIES_RESERVE`` (the
recovery look-ups of the bookings come first); otherwise the report says why it did not
read them. REST: the listing by ``date[range]`` and one call per mutation (no cap is
documented). A mutation missing from the period is looked up by its Factuurnummer (a
few, within the budget): it may have been moved to another date by hand.

An error of e-Boekhouden does not fail the report: ``report.books`` says what happened
(the rest of the report stands), and the page offers to try again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from app.config import GET_MUTATIES_RESERVE
from app.core.mutations import BookedMutation
from app.errors import ConnectorError
from app.report import books as bookcheck
from app.report.lines import INVOICE_PAYMENT
from app.report.model import ZERO, Books, Report
from app.report.vat_return import from_books, vat_return
from app.services import Services
from app.states import EbApi
from app.store.history_records import PeriodRow
from app.store.shops import Shop

MISSING_LOOKUPS = 20  # at most this many missing mutations are looked up elsewhere


def read_books(
    services: Services,
    shop: Shop,
    report: Report,
    ours: list[bookcheck.Ours],
    rows: list[PeriodRow],
    tell: Callable[[str, int, int | None], None],
) -> None:
    period = report.period
    api = shop.credentials.eb_api
    soap = api == EbApi.SOAP
    admin = shop.credentials.administration_key
    per_day = Counter(m.date for m in ours)
    ranges = (
        bookcheck.plan(period.start, period.end, per_day) if soap else [(period.start, period.end)]
    )
    result = report.books = Books(api=str(api))
    if soap:
        left = services.get_mutaties.remaining(admin) - GET_MUTATIES_RESERVE
        if left < len(ranges):
            result.budget_left = left + GET_MUTATIES_RESERVE
            result.skipped_reason = (
                f"De boekhouding is niet uitgelezen: deze administratie kan deze maand nog "
                f"{max(0, result.budget_left)} keer mutaties opvragen bij e-Boekhouden en dit "
                f"rapport heeft er minstens {len(ranges)} nodig (de laatste "
                f"{GET_MUTATIES_RESERVE} blijven voor het boeken). Kies een kortere periode of "
                "probeer het volgende maand opnieuw."
            )
            return
    client = services.bookkeeping(shop)
    expected = len(ours) or None
    mutations: list[BookedMutation] = []
    try:
        for first, last in ranges:
            before = len(mutations)

            def read(n: int, before: int = before) -> None:
                tell("boekhouding", before + n, expected)

            listing = client.list_mutations(first, last, progress=read)
            result.calls += listing.calls
            services.count_get_mutaties(shop, listing.calls)
            mutations.extend(listing.mutations)
        register, known = services.store.reports.register(
            shop.id,
            [m.invoice_number for m in mutations],
            [m.number for m in mutations],
        )
        is_shops = bookcheck.shop_pattern(shop.mapping.invoice_format).fullmatch
        outcome = bookcheck.compare(ours, mutations, lambda n: bool(is_shops(n)), register, known)
        if outcome.missing and len(outcome.missing) <= MISSING_LOOKUPS:
            elsewhere = _elsewhere(services, shop, client, outcome, result, soap)
            if elsewhere:
                outcome = bookcheck.compare(
                    ours, mutations, lambda n: bool(is_shops(n)), register, known, elsewhere
                )
    except ConnectorError as err:
        result.skipped_reason = (
            f"De boekhouding kon niet worden uitgelezen: {err.explanation} "
            "Probeer het later opnieuw."
        )
        return
    finally:
        if soap:
            result.budget_left = services.get_mutaties.remaining(admin)
    result.checked, result.read = True, len(mutations)
    result.missing, result.changed, result.unknown = (
        outcome.missing,
        outcome.changed,
        outcome.unknown,
    )
    facts = {r.order_number: (r.vat_number, r.country) for r in rows}
    report.vat_return = vat_return(from_books(outcome.shop, facts, register), "boeken")
    per_month: dict[tuple[int, int], Decimal] = {}
    for mutation, _ in outcome.shop:
        if mutation.date is None or mutation.soort == INVOICE_PAYMENT:
            continue
        month = (mutation.date.year, mutation.date.month)
        per_month[month] = per_month.get(month, ZERO) + mutation.total
    for entry in report.months:
        entry.books = per_month.get((entry.year, entry.month), ZERO)
    tell("boekhouding", len(mutations), len(mutations))


def _elsewhere(
    services: Services,
    shop: Shop,
    client: Any,
    outcome: bookcheck.Outcome,
    result: Books,
    soap: bool,
) -> dict[int, BookedMutation]:
    """Our missing mutations, looked up by Factuurnummer: moved to another date?"""
    if soap:
        left = services.get_mutaties.remaining(shop.credentials.administration_key)
        if left - GET_MUTATIES_RESERVE < len(outcome.missing):
            return {}
    found: dict[int, BookedMutation] = {}
    wanted = {d.mutation_number for d in outcome.missing}
    for invoice in sorted({d.invoice_number for d in outcome.missing}):
        matches = client.find_mutations(invoice)
        result.calls += 1 if soap else 1 + len(matches)
        services.count_get_mutaties(shop)
        found.update((m.number, m) for m in matches if m.number in wanted)
    return found
