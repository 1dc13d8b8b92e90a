""" "Controle": the period report per shop (page, CSV and xlsx downloads), and the backfill
"Bestellingen vanaf [datum] boeken" (dry run → job → live progress)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app.booking import backfill
from app.budget import Budget
from app.config import PAGE_MAX_ORDERS, PAGE_WORK_SECONDS
from app.errors import ConnectorError, WorkTooLargeError
from app.report.build import SECTIONS, build_report
from app.report.formats import to_csv, to_xlsx
from app.report.period import Period, PeriodError, parse_period
from app.web.common import html_error, services, shop_or_404

bp = Blueprint("control", __name__)
bp.register_error_handler(HTTPException, html_error)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHORTER = "Kies een kortere periode, bijvoorbeeld een maand."
LATER = (
    "Kies een latere datum voor een proefrun, of boek de bestellingen vanaf deze datum "
    "meteen: dat gebeurt op de achtergrond, de voortgang ziet u hieronder."
)


def page_budget() -> Budget:
    """What one page may do inside its request (app/budget.py)."""
    return Budget(PAGE_WORK_SECONDS, PAGE_MAX_ORDERS)


def default_period(today: dt.date) -> str:
    """The quarter before today's, the usual VAT return."""
    quarter = (today.month - 1) // 3
    return f"{today.year - 1}-Q4" if quarter == 0 else f"{today.year}-Q{quarter}"


def period_choices(today: dt.date) -> list[Period]:
    keys = [f"{today.year}-Q{q}" for q in range(1, (today.month - 1) // 3 + 2)]
    keys = [f"{today.year - 1}-Q{q}" for q in range(1, 5)] + keys
    keys += [f"{today.year}-{m:02d}" for m in range(1, today.month + 1)]
    return [parse_period(k) for k in keys]


@bp.get("/koppelingen/<int:shop_id>/controle")
def report(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    today = backfill.today_local()
    text = request.args.get("periode", "").strip()[:40] or default_period(today)
    context: dict[str, Any] = {
        "shop": shop,
        "text": text,
        "choices": period_choices(today),
        "sections": SECTIONS,
    }
    try:
        period = parse_period(text)
    except PeriodError as err:
        return render_template("control.html", error=str(err), **context), 400
    try:
        result = build_report(services(), shop, period, page_budget())
    except WorkTooLargeError as err:
        return render_template(
            "control.html", period=period, error=f"{err.explanation} {SHORTER}", **context
        ), 200
    except ConnectorError as err:
        return render_template(
            "control.html",
            period=period,
            error=f"Mijnwebwinkel kon niet worden gelezen: {err.explanation}",
            **context,
        ), 502
    return render_template("control.html", period=period, report=result, **context)


@bp.get("/koppelingen/<int:shop_id>/controle/download")
def download(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    fmt = request.args.get("formaat", "csv")
    try:
        period = parse_period(request.args.get("periode", ""))
    except PeriodError as err:
        flash(str(err), "bad")
        return redirect(url_for("control.report", shop_id=shop.id))
    if fmt not in ("csv", "xlsx"):
        flash("Kies CSV of Excel (xlsx).", "bad")
        return redirect(url_for("control.report", shop_id=shop.id, periode=period.key))
    try:
        result = build_report(services(), shop, period, page_budget())
    except WorkTooLargeError as err:
        flash(f"{err.explanation} {SHORTER}", "bad")
        return redirect(url_for("control.report", shop_id=shop.id, periode=period.key))
    except ConnectorError as err:
        flash(f"Mijnwebwinkel kon niet worden gelezen: {err.explanation}", "bad")
        return redirect(url_for("control.report", shop_id=shop.id, periode=period.key))
    name = f"aansluiting-{shop.id}-{period.key.replace('..', '_')}.{fmt}"
    if fmt == "csv":
        # A BOM, so Excel reads the UTF-8 (é, €) right.
        body: bytes = ("\ufeff" + to_csv(result)).encode("utf-8")
        mimetype = "text/csv; charset=utf-8"
    else:
        body, mimetype = to_xlsx(result), XLSX
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


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
