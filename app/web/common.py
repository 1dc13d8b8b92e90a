"""Helpers shared by the page blueprints."""

from __future__ import annotations

from flask import abort, current_app, render_template
from werkzeug.exceptions import HTTPException

from app.errors import ConnectorError, UpstreamUnavailableError
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
    titles = {404: "Niet gevonden", 405: "Niet toegestaan", 400: "Ongeldig verzoek",
              503: "Tijdelijk niet beschikbaar"}
    code = err.code or 500
    return render_template("error.html", title=titles.get(code, "Er ging iets mis"),
                           message=err.description or err.name), code


SYSTEM_NAMES = {"mijnwebwinkel": "Mijnwebwinkel", "eboekhouden": "e-Boekhouden.nl"}


def explain(err: ConnectorError, timeout: float) -> str:
    """What a page says about a failed call: for a slow or unreachable system (the pages
    wait at most ``timeout`` seconds, without retries) that the user should
    try again later; otherwise the error's own explanation."""
    if isinstance(err, UpstreamUnavailableError):
        name = SYSTEM_NAMES.get(err.system, err.system)
        if err.code == "timeout":
            return (f"{name} reageerde niet binnen "
                    f"{timeout:g} seconden. Probeer het "
                    "later opnieuw.")
        return f"{name} is nu niet bereikbaar. Probeer het later opnieuw."
    return err.explanation
