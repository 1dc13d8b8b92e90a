""" "Overzicht": per shop the counts, the last reconcile run and a paged, filterable table
of bookings (also "wacht op betaling": orders whose money is not booked yet); a booking's
details with its payments and "Opnieuw proberen"; "Voorbeeld" of any order."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app.booking.retry import AWAITING_PAYMENT_STATES as AWAITING_STATES
from app.booking.retry import RETRYABLE, RetryOutcome, retry_booking
from app.core.mapping import Booking, map_order
from app.core.preview import preview_json
from app.errors import ConnectorError, OrderNotFoundError
from app.states import BookingState
from app.web.booking_page import booking_context, status_of
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
AWAITING_PAYMENT = "wacht op betaling"  # the filter's name


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
    return render_template(
        "booking.html", retryable=RETRYABLE, awaiting=AWAITING_STATES, **booking_context(shop, row)
    )


@bp.get("/koppelingen/<int:shop_id>/boekingen/<int:booking_id>/status")
def booking_status(shop_id: int, booking_id: int) -> Any:
    """Where the booking stands, for the page's script: it reloads the page when this
    changes (after "Opnieuw proberen", while a worker books)."""
    shop = shop_or_404(shop_id)
    row = services().store.bookings.get_for_shop(shop.id, booking_id)
    if row is None:
        abort(404, "Deze boeking bestaat niet.")
    return jsonify(status_of(shop, row))


@bp.post("/koppelingen/<int:shop_id>/boekingen/<int:booking_id>/opnieuw")
def retry(shop_id: int, booking_id: int) -> Any:
    shop = shop_or_404(shop_id)
    outcome, number = retry_booking(services(), shop.id, booking_id)
    if outcome == RetryOutcome.UNKNOWN:
        abort(404, "Deze boeking bestaat niet.")
    if outcome == RetryOutcome.QUEUE_DOWN:
        abort(
            503,
            f"Bestelling {number} kon niet opnieuw in de wachtrij worden gezet: die is even "
            "niet bereikbaar. Er is niets gewijzigd; probeer het over een paar minuten opnieuw.",
        )
    to_list = request.form.get("terug") == "lijst"
    if outcome == RetryOutcome.NOTHING_TO_DO:
        flash("Deze bestelling hoeft niet opnieuw te worden geprobeerd.", "info")
    else:
        flash(
            f"Bestelling {number} staat weer in de wachtrij en wordt zo opnieuw geboekt. "
            + (
                "Ververs de lijst over een paar seconden om de uitkomst te zien."
                if to_list
                else "Deze pagina werkt zichzelf bij zodra dat gebeurd is."
            ),
            "ok",
        )
    if to_list:
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
        except OrderNotFoundError as err:
            result.update(not_found(shop.id, number, err))
        except ConnectorError as err:
            result["error"] = explain(err, services().settings.web_upstream_timeout)
            if str(err) != err.explanation:
                result["technical_text"] = str(err)
        else:
            if isinstance(decision, Booking):
                result.update(booking=decision, wire=preview_json(decision))
            else:
                result["skip"] = decision.reason
    return render_template("preview.html", shop=shop, number=number, **result)


def not_found(shop_id: int, number: str, err: OrderNotFoundError) -> dict[str, str]:
    """Mijnwebwinkel does not give this order: a test order (never given to a koppeling,
    never booked) or one the register skipped says so; any other is not there (any more)."""
    known = services().store.history.order_states(shop_id, [number]).get(number)
    if known is not None and known.state == BookingState.SKIPPED and known.reason:
        return {"skip": known.reason}
    if number.upper().startswith("T-"):
        return {
            "skip": f"bestelling {number} is een testbestelling. Mijnwebwinkel geeft "
            "testbestellingen niet aan koppelingen, en ze worden nooit geboekt."
        }
    return {"error": err.explanation}
