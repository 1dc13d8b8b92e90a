""" "Overzicht": per shop the counts, the last reconcile run and a paged, filterable table
of bookings (also "wacht op betaling": orders whose money is not booked yet); a booking's
details with its payments and "Opnieuw proberen"; "Voorbeeld" of any order."""

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
from app.states import BookingState, OrderPayment
from app.web.charts import shop_charts
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
# Orders whose money has not (all) been booked: waiting for it, or a payment held back.
AWAITING_PAYMENT = "wacht op betaling"
AWAITING_STATES = (OrderPayment.OPEN, OrderPayment.HELD)


@bp.get("/koppelingen/<int:shop_id>")
def show(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    state = request.args.get("status", "")
    search = request.args.get("zoek", "").strip()[:50]
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    store = services().store
    counts = store.bookings.counts(shop.id)
    run = store.runs.last(shop.id)
    awaiting = state == AWAITING_PAYMENT
    rows, total = store.bookings.page(
        shop.id,
        states=FILTERS.get(state),
        search=search or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        payment_states=AWAITING_STATES if awaiting else None,
    )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    summary = {name: sum(counts[s] for s in states) for name, states in FILTERS.items()}
    summary[AWAITING_PAYMENT] = store.payments.count_awaiting(shop.id)
    filters = {**FILTERS, AWAITING_PAYMENT: AWAITING_STATES}
    return render_template(
        "overview.html",
        shop=shop,
        summary=summary,
        run=run,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        state=state if state in filters else "",
        search=search,
        filters=filters,
        retryable=RETRYABLE,
        awaiting=AWAITING_STATES,
        charts=shop_charts(store, shop.id),
    )


@bp.get("/koppelingen/<int:shop_id>/boekingen/<int:booking_id>")
def booking(shop_id: int, booking_id: int) -> Any:
    shop = shop_or_404(shop_id)
    row = services().store.bookings.get_for_shop(shop.id, booking_id)
    if row is None:
        abort(404, "Deze boeking bestaat niet.")
    store = services().store
    return render_template(
        "booking.html",
        shop=shop,
        row=row,
        retryable=RETRYABLE,
        payments=store.payments.for_order(shop.id, row.order_number),
        awaiting=AWAITING_STATES,
        booked_rows=store.history.rows(row.id),
        attempts=store.history.attempts(row.id),
    )


@bp.post("/koppelingen/<int:shop_id>/boekingen/<int:booking_id>/opnieuw")
def retry(shop_id: int, booking_id: int) -> Any:
    shop = shop_or_404(shop_id)
    store = services().store.bookings
    before = store.get_for_shop(shop.id, booking_id)
    if before is None:
        abort(404, "Deze boeking bestaat niet.")
    booking_again = before.state in RETRYABLE
    payments_again = before.payment_state in AWAITING_STATES
    row = store.request_retry(shop.id, booking_id) if booking_again else before
    if row is None or (row.state not in RETRYABLE and not payments_again):
        flash("Deze bestelling hoeft niet opnieuw te worden geprobeerd.", "info")
    else:
        if payments_again:  # failed payments go back to pending; the job books them (and
            # the hourly pass looks for pending payments, should the enqueue below fail)
            services().store.payments.retry_failed(shop.id, row.order_number)
        try:
            enqueue_booking(services().queue, shop.id, row.order_number, source="retry")
        except RedisError:
            # No job, so no state change either: failed again, as it was.
            if booking_again and before.state == BookingState.FAILED:
                store.undo_retry(shop.id, booking_id, reason=before.reason)
            abort(
                503,
                f"Bestelling {row.order_number} kon niet opnieuw worden aangeboden: "
                "de wachtrij is even niet bereikbaar. Er is niets gewijzigd; probeer "
                "het over een paar minuten opnieuw.",
            )
        flash(
            f"Bestelling {row.order_number} wordt opnieuw aangeboden. Ververs de pagina "
            "over een paar seconden.",
            "ok",
        )
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
