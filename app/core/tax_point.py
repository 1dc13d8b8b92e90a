"""PURE: the date the invoice carries, and when that date lies in an earlier VAT period
than the one the order was paid or shipped in (docs/booking-rules.md, "Factuurdatum").

The invoice (FactuurVerstuurd) carries the order date: that is the date on the invoice the
customer received, and VAT on an invoiced sale is due in the period of the invoice date
(Wet OB 1968 art. 13: when the invoice is issued, at the latest on the 15th of the month
after the supply). The cash mode books on the payment date instead (kasstelsel) and gets
no note.
"""

from __future__ import annotations

import datetime as dt

from app.core.mapping_settings import MappingSettings
from app.core.orders import Order
from app.states import BookingMode, VatPeriod

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")  # fmt: skip


def vat_period(day: dt.date, period: VatPeriod) -> tuple[int, int]:
    """A sortable key of the VAT period ``day`` falls in."""
    if period == VatPeriod.MONTH:
        return day.year, day.month
    if period == VatPeriod.QUARTER:
        return day.year, (day.month - 1) // 3 + 1
    return day.year, 0


def period_name(day: dt.date, period: VatPeriod) -> str:
    """``maart 2025``, ``1e kwartaal 2025``, ``2025``."""
    year, part = vat_period(day, period)
    if period == VatPeriod.MONTH:
        return f"{MONTHS[part - 1]} {year}"
    if period == VatPeriod.QUARTER:
        return f"{part}e kwartaal {year}"
    return str(year)


def tax_point_note(order: Order, settings: MappingSettings, credit: bool) -> str | None:
    """A Dutch note when the invoice date lies in a VAT period before the one in which the
    order reached the status that is booked (paid, shipped, picked up); else None."""
    changed = order.status_changed_at
    if credit or changed is None or settings.booking_mode == BookingMode.CASH:
        return None
    period = settings.vat_period
    if vat_period(changed.date(), period) <= vat_period(order.date, period):
        return None
    status = settings.status_names.get(order.status, f"status {order.status}")
    return (
        f"De factuurdatum is de besteldatum, {order.date:%d-%m-%Y}: btw-tijdvak "
        f"{period_name(order.date, period)}. De bestelling kreeg '{status}' pas op "
        f"{changed:%d-%m-%Y} ({period_name(changed.date(), period)}). Omzet en btw horen bij "
        f"{period_name(order.date, period)}; is die aangifte al gedaan, corrigeer haar dan "
        "(suppletie, of bij minder dan € 1.000 btw in de eerstvolgende aangifte)."
    )
