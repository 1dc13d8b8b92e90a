""" "Overzicht": per shop the counts, the last reconcile run and a paged, filterable table
of bookings (also "wacht op betaling": orders whose money is not booked yet), the failed
ones by reason with "Alles opnieuw proberen"; a booking's details with its payments and
"Opnieuw proberen"; "Voorbeeld" of any order. A meekijker sees all but the buttons."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from app.booking.retry import AWAITING_PAYMENT_STATES as AWAITING_STATES
from app.booking.retry import (
    RETRYABLE,
    RetryOutcome,
    failure_groups,
    retry_booking,
    retry_failed,
)
from app.core.mapping import Booking, map_order
from app.core.preview import preview_json
from app.core.start_date import before_start_reason, placed_before
from app.errors import ConnectorError, OrderNotFoundError
from app.polling import PollSchedule
from app.states import BookingState
from app.web.booking_page import booking_context, status_of
from app.web.charts import shop_charts
from app.web.common import Access, explain, html_error, services, shop_or_404
from app.web.filters import LOCAL_TZ
from app.web.mapping_form import ascii_number

bp = Blueprint("overview", __name__)
bp.register_error_handler(HTTPException, html_error)

PAGE_SIZE = 25
OPEN_ITEMS_SHOWN = 50  # "Openstaande posten": the first ones; the Controle report has all
# The filter's choices: Dutch name → ledger states.
FILTERS = {
    "geboekt": (BookingState.BOOKED,),
    "mislukt": (BookingState.FAILED,),
    "wachtend": (BookingState.POSTING, BookingState.RETRYING),
    "overgeslagen": (BookingState.SKIPPED,),
}
AWAITING_PAYMENT = "wacht op betaling"  # the filter's name


def watched(shop_id: int) -> None:
    """Someone looks at the shop: its fast poll back to the base interval (app/polling.py),
    so what the page shows catches up within minutes."""
    PollSchedule(services().redis, services().settings).wake(shop_id)


@bp.get("/koppelingen/<int:shop_id>")
def show(shop_id: int) -> Any:
    shop = shop_or_404(shop_id, Access.REGISTER)
    watched(shop.id)
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
    items = store.payments.open_items(
        shop.id,
        dt.datetime.now(LOCAL_TZ).date(),
        lookback_days=shop.mapping.lookback_days(services().settings.payment_lookback_days),
        term_days=shop.mapping.payment_term_days,
    )
    filters = {**FILTERS, AWAITING_PAYMENT: AWAITING_STATES}
    manage = g.access >= Access.MANAGE
    groups = failure_groups(services(), shop.id) if manage and summary["mislukt"] else []
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
        open_items=items[:OPEN_ITEMS_SHOWN],
        open_count=len(items),
        groups=groups,
    )


@bp.get("/koppelingen/<int:shop_id>/boekingen/<int:booking_id>")
def booking(shop_id: int, booking_id: int) -> Any:
    shop = shop_or_404(shop_id, Access.REGISTER)
    watched(shop.id)
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
    shop = shop_or_404(shop_id, Access.REGISTER)
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
    shop = shop_or_404(shop_id, Access.READ)
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
                if shop.book_from and placed_before(order.date, order.time, shop.book_from):
                    result["before_start"] = before_start_reason(order.number, shop.book_from)
            else:
                result["skip"] = decision.reason
    return render_template("preview.html", shop=shop, number=number, **result)


@bp.post("/koppelingen/<int:shop_id>/opnieuw")
def retry_all(shop_id: int) -> Any:
    """ "Alles opnieuw proberen": every failed booking, or those of one reason (``reden``)."""
    shop = shop_or_404(shop_id)
    key = request.form.get("reden", "").strip()[:20] or None
    result = retry_failed(services(), shop.id, key)
    if result.outcome == RetryOutcome.REFUSED:
        flash(
            "Er is niets opnieuw in de wachtrij gezet: de inloggegevens worden geweigerd. "
            "Herstel ze bij Gegevens; de bestellingen die daardoor bleven liggen, worden "
            "daarna vanzelf geboekt.",
            "bad",
        )
    elif result.outcome == RetryOutcome.QUEUE_DOWN:
        abort(
            503,
            "De wachtrij is even niet bereikbaar: van de mislukte boekingen "
            f"{'staat' if len(result.queued) == 1 else 'staan'} er {len(result.queued)} weer "
            "in de wachtrij, de rest is ongewijzigd. Probeer het over een paar minuten opnieuw.",
        )
    elif result.outcome == RetryOutcome.NOTHING_TO_DO:
        flash("Er zijn (nu) geen mislukte boekingen met deze reden.", "info")
    else:
        count = len(result.queued)
        what = "mislukte boeking staat" if count == 1 else "mislukte boekingen staan"
        flash(
            f"{count} {what} weer in de wachtrij en {'wordt' if count == 1 else 'worden'} "
            "zo opnieuw geboekt. Ververs de pagina over een paar seconden om de uitkomst te zien.",
            "ok",
        )
    return redirect(url_for("overview.show", shop_id=shop.id, status="mislukt"))


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
