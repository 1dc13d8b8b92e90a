""" "Beheer" (administrators only): per e-Boekhouden administration, how many GetMutaties
calls it used this month and how many are left, with what waits when few are left
(app/report/budget_usage.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from app.config import GET_MUTATIES_RESERVE
from app.report.budget_usage import budgets
from app.web.common import html_error, require_admin, services

bp = Blueprint("beheer", __name__)
bp.register_error_handler(HTTPException, html_error)


@bp.get("/beheer")
def page() -> Any:
    require_admin()
    counter = services().get_mutaties
    return render_template(
        "beheer.html",
        rows=budgets(services(), with_shops=True),
        limit=counter.LIMIT,
        low=counter.LOW,
        reserve=GET_MUTATIES_RESERVE,
    )
