"""Dutch display of amounts, dates and states in the templates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from app.core.eu_vat import country_name
from app.core.mapping_settings import rate_text
from app.core.mutations import SOORT_LABELS, Soort
from app.core.payment_facts import method_label
from app.web.common import mask

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")

# Booking states as the overview shows and filters them: (label, css class).
STATE_LABELS = {
    "booked": ("Geboekt", "ok"),
    "failed": ("Mislukt", "bad"),
    "retrying": ("Wachtend", "wait"),
    "posting": ("Wachtend", "wait"),
    "skipped": ("Overgeslagen", "muted"),
}
# A payment's state (app.states.PaymentState): (label, css class).
PAYMENT_LABELS = {
    "booked": ("Geboekt", "ok"),
    "failed": ("Mislukt", "bad"),
    "held": ("Tegengehouden", "bad"),
    "not_booked": ("Niet geboekt (zo ingesteld)", "muted"),
    "pending": ("Wachtend", "wait"),
    "posting": ("Wachtend", "wait"),
    "retrying": ("Wachtend", "wait"),
    "manual": ("Door de boekhouder", "muted"),
}
# Where an order's money stands (app.states.OrderPayment), for a sale and for a credit
# note (whose money goes back): (label, css class). "held" covers a payment held back
# and one e-Boekhouden refused; the booking page names which (``order_payment``).
ORDER_PAYMENT_LABELS = {
    "open": ("Wacht op betaling", "wait"),
    "held": ("Betaling vraagt actie", "bad"),
    "not_booked": ("Deels niet geboekt (zo ingesteld)", "muted"),
    "settled": ("Betaald", "ok"),
}
# Why money shows as open (app.states.OpenItemKind): (label, css class).
OPEN_ITEM_LABELS = {
    "held": ("Tegengehouden", "bad"),
    "not_booked": ("Niet geboekt (zo ingesteld)", "muted"),
    "lapsed": ("Niet betaald binnen de termijn", "bad"),
    "overdue": ("Over de betalingstermijn", "wait"),
}
CREDIT_PAYMENT_LABELS = {
    "open": ("Wacht op terugbetaling", "wait"),
    "held": ("Terugbetaling vraagt actie", "bad"),
    "not_booked": ("Deels niet geboekt (zo ingesteld)", "muted"),
    "settled": ("Terugbetaald", "ok"),
}
PAYMENT_KINDS = {"capture": "Ontvangst", "refund": "Terugbetaling"}
SHOP_STATUS_LABELS = {
    "draft": ("Nog niet geïnstalleerd", "wait"),
    "active": ("Actief", "ok"),
    "disabled": ("Uitgeschakeld", "muted"),
    "auth_failed": ("Inloggegevens geweigerd", "bad"),
    "paused": ("Gepauzeerd", "wait"),
    "removed": ("Verwijderd", "muted"),
}
RUN_OUTCOMES = {
    "ok": "Gelukt",
    "failed": "Mislukt",
    "dry_run": "Proefrun",
    "running": "Bezig",
    "locked": "Overgeslagen (een andere controle liep nog)",
}
RUN_MODES = {
    "poll": "snelle controle",
    "hourly": "uurlijkse controle",
    "backfill": "inhaalslag",
    "manual": "handmatig",
}


def money(value: Decimal | str | None) -> str:
    """``Decimal("1234.5")`` → ``"€ 1.234,50"`` (also from stored JSON text, ``"1234.50"``)."""
    if value is None:
        return ""
    value = Decimal(value)
    text = f"{abs(value):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"€ -{text}" if value < 0 else f"€ {text}"


def date(value: dt.date | None) -> str:
    return value.strftime("%d-%m-%Y") if value else ""


def datetime(value: dt.datetime | None) -> str:
    """UTC (or naive UTC) → Dutch local time."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(LOCAL_TZ).strftime("%d-%m-%Y %H:%M")


def capital(text: str) -> str:
    """A label as the first word of a line: ``"contant"`` → ``"Contant"``; a name written
    with a capital inside stays as it is (``iDEAL``)."""
    if not text or (len(text) > 1 and text[0].islower() and text[1].isupper()):
        return text
    return text[:1].upper() + text[1:]


def count(number: int | None, singular: str, plural: str) -> str:
    """``count(1, "fout", "fouten")`` → ``"1 fout"``; 0 and more: the plural."""
    number = number or 0
    return f"{number} {singular if number == 1 else plural}"


def order_payment(state: str | None, kind: str = "order", payments: Any = ()) -> tuple[str, str]:
    """Where an order's money stands, in the words of its kind (a credit note's money goes
    back). With its payment rows: a held state says whether a payment is held back (no
    ledger for its method) or was refused (Mislukt), as the rows below it do."""
    labels = CREDIT_PAYMENT_LABELS if kind == "credit" else ORDER_PAYMENT_LABELS
    label, css = labels.get(state or "", (state or "", "muted"))
    if state == "held" and payments:
        states = {str(p.state) for p in payments}
        what = "Terugbetaling" if kind == "credit" else "Betaling"
        if "failed" in states:
            label = f"{what} mislukt"
        elif "held" in states:
            label = f"{what} tegengehouden"
    return label, css


def percentage(value: Decimal | None) -> str:
    """``Decimal("5.50")`` → ``"5,5%"``."""
    if value is None:
        return ""
    return f"{value.normalize():f}".replace(".", ",") + "%"


def soort_label(soort: str) -> str:
    """``FactuurVerstuurd`` → ``Factuur verstuurd`` (as e-Boekhouden's screens say it)."""
    return SOORT_LABELS[Soort(soort)] if soort in tuple(Soort) else soort


def country(code: str | None) -> str:
    """``"DE"`` → ``"Duitsland (DE)"``; a code the EU table does not name stays as it is."""
    if not code:
        return ""
    name = country_name(code)
    return code if name == code else f"{name} ({code})"


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, (state, ""))[0]


def state_class(state: str) -> str:
    return STATE_LABELS.get(state, ("", "muted"))[1]


def init_app(app: Flask) -> None:
    def shop_status(status: str) -> tuple[str, str]:
        return SHOP_STATUS_LABELS.get(status, (status, "muted"))

    table: dict[str, Any] = {
        "money": money,
        "date": date,
        "datetime": datetime,
        "mask": mask,
        "state_label": state_label,
        "state_class": state_class,
        "shop_status_label": lambda s: shop_status(s)[0],
        "shop_status_class": lambda s: shop_status(s)[1],
        "run_outcome": lambda o: RUN_OUTCOMES.get(o, o),
        "run_mode": lambda m: RUN_MODES.get(m, m),
        "payment_label": lambda s: PAYMENT_LABELS.get(s, (s, ""))[0],
        "payment_class": lambda s: PAYMENT_LABELS.get(s, ("", "muted"))[1],
        "payment_kind": lambda k: PAYMENT_KINDS.get(k, k),
        "open_item_label": lambda k: OPEN_ITEM_LABELS.get(k, (k, ""))[0],
        "open_item_class": lambda k: OPEN_ITEM_LABELS.get(k, ("", "muted"))[1],
        "method_label": lambda m: capital(method_label(m)),
        "capital": capital,
        "count": count,
        "order_payment_label": lambda s, kind="order", rows=(): order_payment(s, kind, rows)[0],
        "order_payment_class": lambda s, kind="order": order_payment(s, kind)[1],
        "soort_label": soort_label,
        "percentage": percentage,
        "country": country,
        "rate": rate_text,
    }
    app.jinja_env.filters.update(table)
