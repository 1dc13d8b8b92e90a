""" "Overzicht": per shop the counts, the last reconcile run and a paged, filterable table
of bookings (also "wacht op betaling": orders whose money is not booked yet); a booking's
details with its payments and "Opnieuw proberen"; "Voorbeeld" of any order."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app.booking.retry import AWAITING_PAYMENT_STATES as AWAITING_STATES
from app.booking.retry import RETRYABLE, RetryOutcome, retry_booking
from app.core.mapping import Booking, map_order
from app.core.preview import preview_json
from app.errors import ConnectorError
from app.states import BookingState
from app.web.charts import shop_charts
from app.web.common import explain, html_error, services, shop_or_404
from app.web.mapping_form import ascii_number

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
AWAITING_PAYMENT = "wacht op betaling"  # the filter's name


@bp.get("/koppelingen/<int:shop_id>")
def show(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    state = request.args.get("status", "")
    search = request.args.get("zoek", "").strip()[:50]
    page = max(1, ascii_number(request.args.get("pagina", ""), 6) or 1)
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
    outcome, number = retry_booking(services(), shop.id, booking_id)
    if outcome == RetryOutcome.UNKNOWN:
        abort(404, "Deze boeking bestaat niet.")
    if outcome == RetryOutcome.QUEUE_DOWN:
        abort(
            503,
            f"Bestelling {number} kon niet opnieuw worden aangeboden: de wachtrij is even "
            "niet bereikbaar. Er is niets gewijzigd; probeer het over een paar minuten opnieuw.",
        )
    if outcome == RetryOutcome.NOTHING_TO_DO:
        flash("Deze bestelling hoeft niet opnieuw te worden geprobeerd.", "info")
    else:
        flash(
            f"Bestelling {number} wordt opnieuw aangeboden. Ververs de pagina over een paar "
            "seconden.",
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
