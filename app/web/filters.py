"""Dutch display of amounts, dates and states in the templates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from app.core.mapping_settings import rate_text
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
# A payment's state, and where an order's money stands: (label, css class).
PAYMENT_LABELS = {
    "booked": ("Geboekt", "ok"),
    "failed": ("Mislukt", "bad"),
    "held": ("Tegengehouden", "bad"),
    "not_booked": ("Niet geboekt (zo ingesteld)", "muted"),
    "pending": ("Wachtend", "wait"),
    "posting": ("Wachtend", "wait"),
    "retrying": ("Wachtend", "wait"),
    "open": ("Wacht op betaling", "wait"),
    "settled": ("Betaald", "ok"),
    "manual": ("Door de boekhouder", "muted"),
}
# Why money shows as open (app.states.OpenItemKind): (label, css class).
OPEN_ITEM_LABELS = {
    "held": ("Tegengehouden", "bad"),
    "not_booked": ("Niet geboekt (zo ingesteld)", "muted"),
    "lapsed": ("Niet betaald binnen de termijn", "bad"),
    "overdue": ("Over de betalingstermijn", "wait"),
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
        "method_label": method_label,
        "rate": rate_text,
    }
    app.jinja_env.filters.update(table)
