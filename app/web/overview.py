""""Overzicht": per shop the counts, the last reconcile run and a paged, filterable table
of bookings; a booking's details with "Opnieuw proberen"; "Voorbeeld" of any order."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app import ledger
from app.cli import preview_json
from app.core.mapping import Booking, map_order
from app.errors import ConnectorError
from app.queue import enqueue_booking
from app.store.db import transaction
from app.web.common import html_error, services, shop_or_404

bp = Blueprint("overzicht", __name__)
bp.register_error_handler(HTTPException, html_error)

PAGE_SIZE = 25
# The filter's choices: Dutch name → ledger states.
FILTERS = {
    "geboekt": (ledger.BOOKED,),
    "mislukt": (ledger.FAILED,),
    "wachtend": (ledger.POSTING, ledger.RETRYING),
    "overgeslagen": (ledger.SKIPPED,),
}
RETRYABLE = (ledger.FAILED, ledger.RETRYING)


@bp.get("/koppelingen/<int:shop_id>")
def show(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    state = request.args.get("status", "")
    search = request.args.get("zoek", "").strip()[:50]
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    with services().engine.connect() as conn:
        counts = ledger.state_counts(conn, shop.id)
        run = ledger.last_run(conn, shop.id)
        rows, total = ledger.page_bookings(
            conn, shop.id, states=FILTERS.get(state), search=search or None,
            limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    summary = {"geboekt": counts[ledger.BOOKED], "mislukt": counts[ledger.FAILED],
               "wachtend": counts[ledger.POSTING] + counts[ledger.RETRYING],
               "overgeslagen": counts[ledger.SKIPPED]}
    return render_template(
        "overview.html", shop=shop, summary=summary, run=run, rows=rows, total=total,
        page=page, pages=pages, state=state if state in FILTERS else "", search=search,
        filters=FILTERS, retryable=RETRYABLE)


@bp.get("/koppelingen/<int:shop_id>/boekingen/<int:booking_id>")
def booking(shop_id: int, booking_id: int) -> Any:
    shop = shop_or_404(shop_id)
    with services().engine.connect() as conn:
        row = ledger.get_shop_booking(conn, shop.id, booking_id)
    if row is None:
        abort(404, "Deze boeking bestaat niet.")
    return render_template("booking.html", shop=shop, row=row, retryable=RETRYABLE)


@bp.post("/koppelingen/<int:shop_id>/boekingen/<int:booking_id>/opnieuw")
def retry(shop_id: int, booking_id: int) -> Any:
    shop = shop_or_404(shop_id)
    with transaction(services().engine) as conn:
        row = ledger.get_shop_booking(conn, shop.id, booking_id)
        if row is None:
            abort(404, "Deze boeking bestaat niet.")
        if row.state in RETRYABLE:
            row = ledger.request_retry(conn, booking_id)
    if row is None or row.state not in RETRYABLE:
        flash("Deze bestelling hoeft niet opnieuw te worden geprobeerd.", "info")
    else:
        enqueue_booking(services().queue, shop.id, row.order_number, source="retry")
        flash(f"Bestelling {row.order_number} wordt opnieuw aangeboden. Ververs de pagina "
              "over een paar seconden.", "ok")
    if request.form.get("terug") == "lijst":
        return redirect(url_for("overzicht.show", shop_id=shop.id))
    return redirect(url_for("overzicht.booking", shop_id=shop.id, booking_id=booking_id))


@bp.get("/koppelingen/<int:shop_id>/voorbeeld")
def preview(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    number = request.args.get("bestelling", "").strip()[:50]
    result: dict[str, Any] = {}
    if number:
        try:
            order = services().shop_api(shop).get_order(number)
            decision = map_order(order, shop.mapping)
        except ConnectorError as err:
            result["error"] = err.explanation
        else:
            if isinstance(decision, Booking):
                result.update(booking=decision, wire=preview_json(decision))
            else:
                result["skip"] = decision.reason
    return render_template("preview.html", shop=shop, number=number, **result)
