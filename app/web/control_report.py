"""The "Controle" page's parts (app/web/control.py has the routes): which report to show
(the cached one, the newest of the period while a fresh one is made, or one built here
for a month), the downloads, and what the page says about its state.

Nothing here holds the page long: a report beyond one month, or one that reads
e-Boekhouden, is a job (app/report/runs.py); a month is built here within
``REPORT_INLINE_SECONDS`` or becomes a job too. Reading e-Boekhouden costs SOAP calls of
the month's 5,000: only a form (POST, with its CSRF token) starts that, never a link.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import Response, jsonify

from app.config import GET_MUTATIES_MONTHLY_LIMIT
from app.report import runs
from app.report.formats import (
    csv_table,
    file_stem,
    to_csv,
    to_csv_zip,
    to_json,
    to_xlsx,
)
from app.report.model import Report
from app.report.period import Period
from app.services import Services
from app.states import EbApi
from app.store.shops import Shop
from app.web.charts import control_charts

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx", "json")


@dataclass
class View:
    """What the page shows for one period."""

    period: Period
    books: bool
    key: str
    report: Report | None = None
    stale: bool = False  # an older result, while a fresh one is made or asked for
    progress: dict[str, Any] | None = None
    needs_start: bool = False  # reading e-Boekhouden waits for a click
    budget_left: int | None = None  # SOAP: GetMutaties calls left this month
    charts: list[Any] = field(default_factory=list)


def view(
    services: Services, shop: Shop, period: Period, books: bool, *, build: bool = True
) -> View:
    """The report to show. ``build``: a page may start a report that does not read
    e-Boekhouden (a job, or built here for a month); reading e-Boekhouden only starts
    from a form (``start``)."""
    key = runs.key(services, shop, period, books)
    shown = View(period, books, key)
    if shop.credentials.eb_api == EbApi.SOAP:
        shown.budget_left = services.get_mutaties.remaining(shop.credentials.administration_key)
    report = runs.cached(services, shop.id, key)
    if report is None:
        older = runs.latest(services, shop.id, period, books)
        if not runs.busy(services, shop.id, key):
            failed = (runs.progress(services, shop.id, key) or {}).get("state") == runs.FAILED
            if books:
                shown.needs_start = not failed  # a failed one offers "Opnieuw proberen"
            elif build and not failed and period.within_a_month:
                report = runs.inline(services, shop, period, key)
            elif build and not failed and older is None:
                runs.start(services, shop, period, books, key)
            # else: the older result, marked verouderd; "Opnieuw berekenen" makes a new one
        shown.progress = runs.progress(services, shop.id, key)
        if report is None:
            report, shown.stale = older, older is not None
    if report is not None:
        shown.report = runs.with_accords(services, report)
        shown.charts = control_charts(shown.report)
    return shown


def start(services: Services, shop: Shop, period: Period, books: bool, fresh: bool) -> None:
    """A person asked for the report (``fresh``: again): built here for a month without
    e-Boekhouden, else a job (unless one for it waits or runs already)."""
    key = runs.key(services, shop, period, books)
    if fresh:
        runs.forget(services, shop.id, key)
    elif runs.cached(services, shop.id, key) is not None:
        return
    if not books and period.within_a_month:
        runs.inline(services, shop, period, key)
    else:
        runs.start(services, shop, period, books, key)


def download(report: Report, fmt: str, table_name: str) -> Response:
    stem = file_stem(report)
    if fmt == "json":
        return Response(
            to_json(report), mimetype="application/json", headers=_attach(f"{stem}.json")
        )
    if fmt == "xlsx":
        return Response(to_xlsx(report), mimetype=XLSX, headers=_attach(f"{stem}.xlsx"))
    if table_name:
        table = csv_table(report, table_name)
        if table is not None:
            body = ("\ufeff" + to_csv(table)).encode("utf-8")  # a BOM: Excel reads é and €
            headers = _attach(f"{stem}-{table.name}.csv")
            return Response(body, mimetype="text/csv; charset=utf-8", headers=headers)
    return Response(to_csv_zip(report), mimetype="application/zip", headers=_attach(f"{stem}.zip"))


def _attach(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def not_ready(shown: View) -> Response:
    """JSON asked for a report that is being made: 202, with its progress."""
    progress = shown.progress or {}
    body = {
        "status": progress.get("state") or ("start nodig" if shown.needs_start else "bezig"),
        "message": "Het rapport wordt berekend; vraag het over een paar seconden opnieuw op."
        if not shown.needs_start
        else "Dit rapport leest e-Boekhouden uit; start het op de pagina Controle.",
        "progress": {k: progress.get(k) for k in ("stage", "done", "total", "error")},
    }
    response = jsonify(body)
    response.status_code = 202
    response.headers["Retry-After"] = "5"
    return response


def notes(shown: View, today: dt.date) -> list[str]:
    """What the page says about the period and the report shown (Dutch)."""
    out = []
    if shown.period.running(today):
        out.append(
            f"Deze periode loopt nog (t/m {shown.period.end:%d-%m-%Y}): de cijfers veranderen "
            "tot ze voorbij is."
        )
    elif shown.period.to_come(today):
        out.append("Deze periode is nog niet begonnen.")
    if shown.stale and shown.report is not None and shown.report.built_at is not None:
        out.append("Hieronder staat een eerdere berekening; er is sindsdien geboekt of gewijzigd.")
    return out


def budget_text(left: int | None) -> str:
    if left is None:
        return ""
    return (
        f"Deze administratie kan deze maand nog {left} van de "
        f"{GET_MUTATIES_MONTHLY_LIMIT:,} keer mutaties opvragen bij e-Boekhouden."
    ).replace(",", ".")  # Dutch thousands: 5.000
