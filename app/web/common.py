"""Helpers shared by the page blueprints."""

from __future__ import annotations

from flask import abort, current_app, render_template
from werkzeug.exceptions import HTTPException

from app.services import Services
from app.store.shops import Shop

# Reachable without a session: the login page, static files, the webhook endpoint
# (authenticated by its signature) and the operational endpoints /healthz and /metrics.
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})
PUBLIC_BLUEPRINTS = frozenset({"webhooks", "health"})


def services() -> Services:
    return current_app.extensions["services"]  # type: ignore[no-any-return]


def shop_or_404(shop_id: int) -> Shop:
    shop = services().load_shop(shop_id)
    if shop is None:
        abort(404, "Deze koppeling bestaat niet (meer).")
    return shop


def mask(secret: str, visible: int = 4) -> str:
    """``"abcdef1234"`` → ``"••••1234"``: enough to recognise, never the whole value."""
    secret = secret or ""
    if len(secret) <= visible * 2:
        return "••••"
    return "••••" + secret[-visible:]


def html_error(err: HTTPException) -> tuple[str, int]:
    """Errors on the pages as a page (the app's default answer is JSON, for the API)."""
    titles = {404: "Niet gevonden", 405: "Niet toegestaan", 400: "Ongeldig verzoek"}
    code = err.code or 500
    return render_template("error.html", title=titles.get(code, "Er ging iets mis"),
                           message=err.description or err.name), code
