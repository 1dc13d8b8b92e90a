""" "Controle": the period report per shop (page, progress, downloads as CSV, xlsx and
JSON, "akkoord" on a difference with e-Boekhouden; app/web/control_report.py), and the
backfill "Bestellingen vanaf [datum] boeken" (dry run → job → live progress)."""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from app.booking import backfill
from app.budget import Budget
from app.config import PAGE_MAX_ORDERS, PAGE_WORK_SECONDS
from app.errors import ConnectorError, WorkTooLargeError
from app.report import runs
from app.report.model import SECTIONS
from app.report.period import Period, PeriodError, current_quarter, parse_period
from app.report.period import choices as period_choices
from app.report.tables import TABLE_NAMES
from app.report.vat_return import RUBRIEK_LABELS, RUBRIEKEN
from app.web import control_report as parts
from app.web.common import Access, current_user, html_error, services, shop_or_404

bp = Blueprint("control", __name__)
KEY = re.compile(r"[0-9a-f]{24}")  # app.report.runs.key
bp.register_error_handler(HTTPException, html_error)
LATER = (
    "Kies een latere datum voor een proefrun, of boek de bestellingen vanaf deze datum "
    "meteen: dat gebeurt op de achtergrond, de voortgang ziet u hieronder."
)


def page_budget() -> Budget:
    """What one page may do inside its request (app/budget.py); the Controle report past
    a month is a job instead (app/report/runs.py)."""
    return Budget(PAGE_WORK_SECONDS, PAGE_MAX_ORDERS)


def _period_and_books(values: Any, default: Period | None = None) -> tuple[Period, bool]:
    """The period and "read e-Boekhouden" of a form or query; PeriodError when unreadable."""
    text = (values.get("periode") or "").strip()[:40]
    period = parse_period(text) if text or default is None else default
    return period, values.get("boeken") in ("1", "on", "ja")


def _here(shop_id: int, period: Period, books: bool, anchor: str = "") -> str:
    """The report page of this period (with "read e-Boekhouden" when asked)."""
    if books:
        return url_for("control.report", shop_id=shop_id, periode=period.key, boeken="1") + anchor
    return url_for("control.report", shop_id=shop_id, periode=period.key) + anchor


def _page(shop: Any, **context: Any) -> dict[str, Any]:
    today = backfill.today_local()
    return {
        "shop": shop,
        "choices": period_choices(today),
        "sections": SECTIONS,
        "tables": TABLE_NAMES,
        "rubrieken": RUBRIEKEN,
        "rubriek_labels": RUBRIEK_LABELS,
        **context,
    }


@bp.get("/koppelingen/<int:shop_id>/controle")
def report(shop_id: int) -> Any:
    shop = shop_or_404(shop_id, Access.READ)
    if request.args.get("formaat"):
        return download(shop_id)
    today = backfill.today_local()
    text = request.args.get("periode", "").strip()[:40]
    try:
        period, books = _period_and_books(request.args, current_quarter(today))
    except PeriodError as err:
        return render_template("control.html", **_page(shop, text=text, error=str(err))), 400
    try:
        shown = parts.view(services(), shop, period, books)
    except ConnectorError as err:
        error = f"Mijnwebwinkel kon niet worden gelezen: {err.explanation}"
        page = _page(shop, text=text or period.key, period=period, books=books, error=error)
        return render_template("control.html", **page), 502
    return render_template(
        "control.html",
        **_page(
            shop,
            text=text or period.key,
            period=period,
            books=books,
            shown=shown,
            notes=parts.notes(shown, today),
            budget=parts.budget_text(shown.budget_left),
        ),
    )


@bp.post("/koppelingen/<int:shop_id>/controle")
def report_start(shop_id: int) -> Any:
    """The form: build (or fetch) the report; reading e-Boekhouden only starts here."""
    shop = shop_or_404(shop_id, Access.READ)
    try:
        period, books = _period_and_books(request.form)
    except PeriodError as err:
        text = request.form.get("periode", "").strip()[:40]
        page = _page(shop, text=text, books=bool(request.form.get("boeken")), error=str(err))
        return render_template("control.html", **page), 400
    try:
        parts.start(services(), shop, period, books, fresh=request.form.get("opnieuw") == "1")
    except ConnectorError as err:
        flash(f"Mijnwebwinkel kon niet worden gelezen: {err.explanation}", "bad")
    return redirect(_here(shop.id, period, books))


@bp.get("/koppelingen/<int:shop_id>/controle/voortgang")
def report_progress(shop_id: int) -> Any:
    """The progress block alone: the page's script fetches it every few seconds."""
    shop = shop_or_404(shop_id, Access.READ)
    try:
        period, books = _period_and_books(request.args)
    except PeriodError:
        abort(400, "Onbekende periode.")
    # The key the page was made for: data booked meanwhile does not lose the job's trail.
    given = request.args.get("sleutel", "")
    key = given if KEY.fullmatch(given) else runs.key(services(), shop, period, books)
    progress = runs.progress(services(), shop.id, key)
    done = runs.cached(services(), shop.id, key) is not None
    return render_template(
        "_report_progress.html", shop=shop, progress=progress, done=done, period=period
    )


@bp.get("/koppelingen/<int:shop_id>/controle/download")
def download(shop_id: int) -> Any:
    shop = shop_or_404(shop_id, Access.READ)
    fmt = request.args.get("formaat", "csv")
    json_wanted = fmt == "json"
    try:
        period, books = _period_and_books(request.args)
    except PeriodError as err:
        if json_wanted:
            return jsonify(error=str(err)), 400
        flash(str(err), "bad")
        return redirect(url_for("control.report", shop_id=shop.id))
    if fmt not in parts.FORMATS:
        message = "Kies als formaat csv, xlsx (Excel) of json."
        if json_wanted or request.accept_mimetypes.best == "application/json":
            return jsonify(error=message), 400
        abort(400, message)
    here = _here(shop.id, period, books)
    try:
        shown = parts.view(services(), shop, period, books)
    except ConnectorError as err:
        if json_wanted:
            return jsonify(error=f"Mijnwebwinkel kon niet worden gelezen: {err.explanation}"), 502
        flash(f"Mijnwebwinkel kon niet worden gelezen: {err.explanation}", "bad")
        return redirect(here)
    if shown.report is None or shown.stale:
        if json_wanted:
            return parts.not_ready(shown)
        flash("Het rapport wordt nog berekend; download het als het klaar is.", "info")
        return redirect(here)
    return parts.download(shown.report, fmt, request.args.get("lijst", ""))


@bp.post("/koppelingen/<int:shop_id>/controle/akkoord")
def accord(shop_id: int) -> Any:
    """Mark a difference with e-Boekhouden akkoord (with a note), or take the mark back."""
    shop = shop_or_404(shop_id)
    form = request.form
    try:
        period, books = _period_and_books(form)
        key = (form["soort"], form["factuur"][:50], int(form["mutatie"]))
    except (PeriodError, KeyError, ValueError):
        abort(400, "Dit verschil is onbekend.")
    if key[0] not in ("missing", "changed", "unknown"):
        abort(400, "Dit verschil is onbekend.")
    store = services().store.reports
    if form.get("actie") == "intrekken":
        store.drop_accord(shop.id, key)
        flash("Het akkoord is ingetrokken.", "ok")
    else:
        note = form.get("notitie", "").strip()[:500]
        if not note:
            flash("Schrijf bij een akkoord waarom het verschil klopt.", "bad")
        else:
            by = current_user().email
            store.set_accord(
                shop.id, key, difference=form.get("verschil", "")[:2000], note=note, by_email=by
            )
            flash("Het verschil is akkoord gegeven.", "ok")
    return redirect(_here(shop.id, period, books, "#boekhouding"))


# --- backfill -------------------------------------------------------------------------


@bp.get("/koppelingen/<int:shop_id>/inhalen")
def backfill_form(shop_id: int) -> Any:
    """With ``vanaf``: the dry run; without: the form and the last backfill's progress."""
    shop = shop_or_404(shop_id)
    since_text = request.args.get("vanaf", "").strip()[:20]
    context: dict[str, Any] = {
        "shop": shop,
        "since_text": since_text,
        "progress": backfill.progress(services(), shop.id),
    }
    if not since_text:
        return render_template("backfill.html", **context)
    try:
        since = backfill.parse_since(since_text)
    except ValueError as err:
        return render_template("backfill.html", error=str(err), **context), 400
    try:
        preview = backfill.preview(services(), shop, since, page_budget())
    except WorkTooLargeError as err:
        return render_template(
            "backfill.html",
            error=f"{err.explanation} {LATER}",
            since=since,
            too_large=True,
            **context,
        ), 200
    except ConnectorError as err:
        return render_template(
            "backfill.html",
            error=f"Mijnwebwinkel kon niet worden gelezen: {err.explanation}",
            **context,
        ), 502
    return render_template("backfill.html", preview=preview, since=since, **context)


@bp.post("/koppelingen/<int:shop_id>/inhalen")
def backfill_start(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    try:
        since = backfill.parse_since(request.form.get("vanaf", ""))
    except ValueError as err:
        flash(str(err), "bad")
        return redirect(url_for("control.backfill_form", shop_id=shop.id))
    if not shop.status.books_orders:
        flash("Deze koppeling boekt niet: ze is nog niet geïnstalleerd of uitgeschakeld.", "bad")
        return redirect(url_for("control.backfill_form", shop_id=shop.id))
    if backfill.start(services(), shop, since):
        flash(f"De bestellingen vanaf {since:%d-%m-%Y} worden geboekt.", "ok")
    else:
        flash("Er loopt al een inhaalslag voor deze winkel.", "info")
    return redirect(url_for("control.backfill_form", shop_id=shop.id))


@bp.get("/koppelingen/<int:shop_id>/inhalen/voortgang")
def backfill_progress(shop_id: int) -> Any:
    """The progress block alone: the page's script fetches it every few seconds."""
    shop = shop_or_404(shop_id)
    return render_template(
        "_backfill_progress.html", shop=shop, progress=backfill.progress(services(), shop.id)
    )
