""" "Instellingen" (the incumbent's "Stap 2 van 2"): the mapping table per tax treatment,
the bookable statuses, debtors ledger, booking mode and payment term, a ledger per payment
method ("Betaalmethoden"), the start date ("Boek bestellingen vanaf"), and "Installeer de
koppeling" (validate, save, activate) with the checklist of what to switch off first and
a warning when another shop on the administration books under the same invoice numbers."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app.booking.lifecycle import same_invoice_numbers
from app.core.mapping_settings import (
    BTW_CODE_LABELS,
    INCOME_TYPES,
    NOT_BOOKED,
    OSS_VAT,
    OSS_VAT_LABEL,
    MappingSettings,
    describe_treatment,
)
from app.core.mutations import LedgerAccount
from app.core.orders import OrderStatus
from app.core.payment_facts import method_label
from app.core.settings_checks import validate
from app.core.start_date import local_text, parse_start
from app.errors import ConnectorError
from app.states import BookingMode, EbApi, ShopStatus, VatPeriod
from app.store.engine import utcnow
from app.store.shops import Shop
from app.web.common import explain, html_error, services, shop_or_404
from app.web.ledgers import BALANCE, PROFIT_AND_LOSS, forget, ledger_groups
from app.web.mapping_form import (
    OSS_COUNTRIES,
    PAYMENT_LINE_TYPES,
    STANDARD_TREATMENTS,
    add_oss_rule,
    first_open,
    ordered_rules,
    parse,
    remove_rule,
)
from app.web.payment_methods import payment_methods, proposed_ledgers

bp = Blueprint("mapping", __name__)
bp.register_error_handler(HTTPException, html_error)
log = logging.getLogger(__name__)

INCOME_LABELS = {income: income.capitalize() for income in INCOME_TYPES}
INCOME_LABELS[OSS_VAT] = OSS_VAT_LABEL.capitalize()
VAT_PERIODS = [
    (VatPeriod.QUARTER, "kwartaal"),
    (VatPeriod.MONTH, "maand"),
    (VatPeriod.YEAR, "jaar"),
]
MODE_LABELS = {
    BookingMode.INVOICE: "Factuur (Factuur verstuurd); de betaling boekt u zelf",
    BookingMode.INVOICE_AND_PAYMENT: (
        "Factuur én betaling (Factuur verstuurd + Factuurbetaling ontvangen)"
    ),
    BookingMode.CASH: "Direct ontvangen (Geld ontvangen), zonder factuur",
}


@dataclass
class Remote:
    """What the form's selects offer, fetched live from both systems."""

    accounts: list[LedgerAccount] = field(default_factory=list)
    statuses: list[OrderStatus] = field(default_factory=list)
    methods: list[tuple[str, str]] = field(default_factory=list)  # "Betaalmethoden"
    problems: list[str] = field(default_factory=list)

    @property
    def ledger_codes(self) -> set[str] | None:
        return {a.code for a in self.accounts} if self.accounts else None

    @property
    def status_ids(self) -> set[int] | None:
        return {s.status for s in self.statuses} if self.statuses else None


def fetch_remote(shop: Shop) -> Remote:
    remote = Remote()
    timeout = services().settings.web_upstream_timeout
    try:
        remote.accounts = sorted(
            services().bookkeeping(shop).ledger_accounts(), key=lambda a: a.code
        )
    except ConnectorError as err:
        log.info("ledger accounts unavailable: %s", err)
        remote.problems.append(
            "De grootboekrekeningen konden niet uit e-Boekhouden.nl "
            "worden gehaald: " + explain(err, timeout)
        )
    try:
        remote.statuses = sorted(services().shop_api(shop).order_statuses(), key=lambda s: s.status)
    except ConnectorError as err:
        log.info("order statuses unavailable: %s", err)
        remote.problems.append(
            "De orderstatussen konden niet uit Mijnwebwinkel worden "
            "gehaald: " + explain(err, timeout)
        )
    remote.methods = payment_methods(shop)
    return remote


def _btw_codes(shop: Shop) -> dict[str, str]:
    """The BTW codes to offer: over REST only the ones its API knows (LAAG_VERK is sent
    as LAAG_VERK_9; HOOG_VERK, 19 %, does not exist there)."""
    if shop.credentials.eb_api != EbApi.REST:
        return BTW_CODE_LABELS
    from app.clients.eboekhouden_rest.wire import LEGACY_VAT_CODES, VAT_RATES

    return {
        code: label
        for code, label in BTW_CODE_LABELS.items()
        if code in VAT_RATES or code in LEGACY_VAT_CODES
    }


def _render(
    shop: Shop,
    mapping: MappingSettings,
    remote: Remote,
    errors: dict[str, str],
    status: int = 200,
    **extra: Any,
) -> Any:
    start = shop.book_from or (shop.created_at if _installing(shop) else None)
    extra.setdefault("book_from", local_text(start) if start else "")
    statuses = remote.statuses or [
        OrderStatus(s, mapping.status_names.get(s, f"Status {s}"), s in mapping.credit_statuses)
        for s in sorted(mapping.bookable_statuses | mapping.credit_statuses)
    ]
    return render_template(
        "mapping.html",
        shop=shop,
        mapping=mapping,
        rules=ordered_rules(mapping.rules),
        ledgers=ledger_groups(remote.accounts, _used_ledgers(mapping)),  # kept if not found
        REVENUE=PROFIT_AND_LOSS,
        BALANCE=BALANCE,
        statuses=statuses,
        problems=remote.problems,
        errors=errors,
        btw_codes=_btw_codes(shop),
        income_types=INCOME_TYPES,
        income_labels=INCOME_LABELS,
        modes=[(m, MODE_LABELS[m]) for m in tuple(BookingMode)],
        vat_periods=VAT_PERIODS,
        describe=describe_treatment,
        standard=STANDARD_TREATMENTS,
        oss_countries=OSS_COUNTRIES,
        NOT_BOOKED=NOT_BOOKED,
        methods=_methods_with_settings(remote.methods, mapping),
        proposed=proposed_ledgers(remote.methods, mapping, remote.accounts),
        payment_line_types=PAYMENT_LINE_TYPES,
        default_lookback=services().settings.payment_lookback_days,
        installing=_installing(shop),
        peers=same_invoice_numbers(services(), shop, mapping.invoice_format),
        **extra,
    ), status


def _installing(shop: Shop) -> bool:
    return shop.status in (ShopStatus.DRAFT, ShopStatus.DISABLED)


def _book_from(shop: Shop, text: str | None, errors: dict[str, str]) -> dt.datetime | None:
    """The start date as typed (None: unchanged). A shop without one may leave it empty;
    a form without the field (an old page) changes nothing."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        if shop.book_from is not None or _installing(shop):
            errors["book_from"] = "Vul in vanaf wanneer bestellingen worden geboekt."
        return None
    try:
        return parse_start(text, utcnow())
    except ValueError as err:
        errors["book_from"] = str(err)
        return None


def _methods_with_settings(
    methods: list[tuple[str, str]], mapping: MappingSettings
) -> list[tuple[str, str]]:
    """The shop's methods, plus any that already has a setting."""
    known = dict(methods)
    for method in mapping.payment_ledgers:
        known.setdefault(method, method_label(method))
    return sorted(known.items(), key=lambda item: item[1].lower())


def _used_ledgers(mapping: MappingSettings) -> set[str]:
    codes = {
        mapping.debtors_ledger,
        mapping.payment_ledger,
        *(c for c in mapping.payment_ledgers.values() if c != NOT_BOOKED),
    }
    for rule in mapping.rules:
        codes.update(rule.ledgers.values())
    return {c for c in codes if c}


def _follow_earlier_invoices(shop: Shop, mapping: MappingSettings) -> None:
    """Invoices booked without payments (mode "invoice") get their money booked after a
    switch to a payment mode only with a date ("payments_from"): those that may still be
    paid (placed within the lookback) are followed from now on; without a date, none."""
    store = services().store.payments
    paying = mapping.booking_mode != BookingMode.INVOICE
    if paying and mapping.payments_from is not None:
        days = mapping.lookback_days(services().settings.payment_lookback_days)
        store.track_from(shop.id, dt.date.today() - dt.timedelta(days=days))
        return
    store.track_from(shop.id, None)
    if paying and shop.mapping.booking_mode == BookingMode.INVOICE:
        flash(
            "Facturen die al zonder betaling zijn geboekt, krijgen geen betalingen: die "
            "verwerkt de boekhouder. Wilt u dat de koppeling hun betalingen vanaf een datum "
            "wel boekt, kies dan bij Boeken 'Betalingen van eerder geboekte facturen'.",
            "info",
        )


@bp.get("/koppelingen/<int:shop_id>/instellingen")
def edit(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    return _render(shop, shop.mapping, fetch_remote(shop), {})


@bp.post("/koppelingen/<int:shop_id>/instellingen")
def save(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    remote = fetch_remote(shop)
    mapping, errors = parse(request.form, shop.mapping, remote.status_ids)
    action = request.form.get("action", "save")
    if action == "add_oss":
        before = {rule.treatment for rule in mapping.rules}
        mapping, oss_errors = add_oss_rule(
            mapping, request.form.get("oss_country", ""), request.form.get("oss_rate", "")
        )
        added = [r for r in mapping.rules if r.treatment not in before]
        return _render(
            shop,
            mapping,
            remote,
            oss_errors,
            400 if oss_errors else 200,
            unsaved=True,
            oss_form=request.form,
            # the page opens at the new row, its first ledger still to choose focused
            focus=first_open(added[0]) if added else "oss_country",
        )
    if action.startswith("remove:"):
        mapping = remove_rule(mapping, action.removeprefix("remove:"))
        return _render(shop, mapping, remote, {}, unsaved=True)
    errors.update(validate(mapping, remote.ledger_codes))
    typed = request.form.get("book_from")
    book_from = _book_from(shop, typed, errors)
    if errors:
        extra = {"book_from": typed} if typed is not None else {}
        return _render(shop, mapping, remote, errors, 400, unsaved=True, **extra)
    names = {s.status: s.description for s in remote.statuses} or mapping.status_names
    mapping = replace(mapping, status_names=names)
    installing = services().store.shops.save_mapping(
        shop.id, mapping, install=action == "install", book_from=book_from
    )
    services().webhook_shops.forget()
    _follow_earlier_invoices(shop, mapping)
    start = book_from or shop.book_from
    since = f"geplaatst vanaf {local_text(start)} " if start else ""
    forget(shop.id)
    flash(
        f"De koppeling is geïnstalleerd: bestellingen {since}worden vanaf nu geboekt."
        if installing
        else "De instellingen zijn opgeslagen.",
        "ok",
    )
    for other in same_invoice_numbers(services(), shop, mapping.invoice_format):
        flash(
            f"Let op: koppeling '{other.name}' boekt in dezelfde administratie van "
            f"e-Boekhouden.nl met hetzelfde factuurnummer ({mapping.invoice_format}). Geef "
            "elke webwinkel een eigen factuurnummer, bijvoorbeeld W1-{number}, anders worden "
            "bestellingen met hetzelfde nummer geweigerd.",
            "bad",
        )
    return redirect(url_for("overview.show", shop_id=shop.id))
