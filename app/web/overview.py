""""Overzicht": per shop the counts, the last reconcile run and a paged, filterable table
of bookings; a booking's details with "Opnieuw proberen"; "Voorbeeld" of any order."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

from app.core.mapping import Booking, map_order
from app.core.preview import preview_json
from app.errors import ConnectorError
from app.queue import enqueue_booking
from app.states import BookingState
from app.web.common import explain, html_error, services, shop_or_404

bp = Blueprint("overview", __name__)
bp.register_error_handler(HTTPException, html_error)

PAGE_SIZE = 25
# The filter's choices: Dutch name → ledger states.
FILTERS = {
    "geboekt": (BookingState.BOOKED,),
    "mislukt": (BookingState.FAILED,),
    "wachtend": (BookingState.POSTING, BookingState.RETRYING),
    "overgeslagen": (BookingState.SKIPPED,),
}
RETRYABLE = (BookingState.FAILED, BookingState.RETRYING)


@bp.get("/koppelingen/<int:shop_id>")
def show(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    state = request.args.get("status", "")
    search = request.args.get("zoek", "").strip()[:50]
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    store = services().store
    counts = store.bookings.counts(shop.id)
    run = store.runs.last(shop.id)
    rows, total = store.bookings.page(
        shop.id, states=FILTERS.get(state), search=search or None,
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    summary = {name: sum(counts[s] for s in states) for name, states in FILTERS.items()}
    return render_template(
        "overview.html", shop=shop, summary=summary, run=run, rows=rows, total=total,
        page=page, pages=pages, state=state if state in FILTERS else "", search=search,
        filters=FILTERS, retryable=RETRYABLE)


@bp.get("/koppelingen/<int:shop_id>/boekingen/<int:booking_id>")
def booking(shop_id: int, booking_id: int) -> Any:
    shop = shop_or_404(shop_id)
    row = services().store.bookings.get_for_shop(shop.id, booking_id)
    if row is None:
        abort(404, "Deze boeking bestaat niet.")
    return render_template("booking.html", shop=shop, row=row, retryable=RETRYABLE)


@bp.post("/koppelingen/<int:shop_id>/boekingen/<int:booking_id>/opnieuw")
def retry(shop_id: int, booking_id: int) -> Any:
    shop = shop_or_404(shop_id)
    store = services().store.bookings
    before = store.get_for_shop(shop.id, booking_id)
    if before is None:
        abort(404, "Deze boeking bestaat niet.")
    row = store.request_retry(shop.id, booking_id) if before.state in RETRYABLE else None
    if row is None or row.state not in RETRYABLE:
        flash("Deze bestelling hoeft niet opnieuw te worden geprobeerd.", "info")
    else:
        try:
            enqueue_booking(services().queue, shop.id, row.order_number, source="retry")
        except RedisError:
            # No job, so no state change either: failed again, as it was.
            if before.state == BookingState.FAILED:
                store.undo_retry(shop.id, booking_id, reason=before.reason)
            abort(503, f"Bestelling {row.order_number} kon niet opnieuw worden aangeboden: "
                       "de wachtrij is even niet bereikbaar. Er is niets gewijzigd; probeer "
                       "het over een paar minuten opnieuw.")
        flash(f"Bestelling {row.order_number} wordt opnieuw aangeboden. Ververs de pagina "
              "over een paar seconden.", "ok")
    if request.form.get("terug") == "lijst":
        return redirect(url_for("overview.show", shop_id=shop.id))
    return redirect(url_for("overview.booking", shop_id=shop.id, booking_id=booking_id))


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
            result["error"] = explain(err, services().settings.web_upstream_timeout)
        else:
            if isinstance(decision, Booking):
                result.update(booking=decision, wire=preview_json(decision))
            else:
                result["skip"] = decision.reason
    return render_template("preview.html", shop=shop, number=number, **result)
