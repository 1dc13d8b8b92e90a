"""Helpers shared by the page blueprints."""

from __future__ import annotations

from flask import abort, current_app, g, render_template
from werkzeug.exceptions import HTTPException

from app.booking.connections import explain  # noqa: F401  (the pages' wording for failed calls)
from app.services import Services
from app.store.shops import Shop, UnreadableShop
from app.store.users import User

MAX_ID = 2**31 - 1  # ids in URLs beyond the database's integer range are simply not found

# Reachable without a session: the login page, static files and the operational endpoints
# /healthz and /metrics. (The webhook endpoint, authenticated by its signature, is served
# before Flask: app/intake/webhooks.py.)
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})
PUBLIC_BLUEPRINTS = frozenset({"health"})


def services() -> Services:
    return current_app.extensions["services"]


def current_user() -> User:
    return g.user  # set by auth.require_login


def may_see(user: User, shop_id: int) -> bool:
    return user.is_admin or services().store.users.owns(user.id, shop_id)


def shop_or_404(shop_id: int) -> Shop:
    """The shop, when the logged-in user owns it (or is an administrator). Another
    user's shop answers exactly like a shop that does not exist."""
    shop = None
    if may_see(current_user(), shop_id):
        shop = services().load_shop(shop_id)
    if shop is None:
        abort(404, "Deze koppeling bestaat niet (meer).")
    return shop


def require_admin() -> None:
    """Only the operator: anyone else gets the same 404 as for a page that is not there."""
    if not current_user().is_admin:
        abort(404)


def mask(secret: str, visible: int = 4) -> str:
    """``"abcdef1234"`` → ``"••••1234"``: enough to recognise, never the whole value."""
    secret = secret or ""
    if len(secret) <= visible * 2:
        return "••••"
    return "••••" + secret[-visible:]


def html_error(err: HTTPException) -> tuple[str, int]:
    """Errors on the pages as a page (the app's default answer is JSON, for the API)."""
    titles = {
        404: "Niet gevonden",
        405: "Niet toegestaan",
        400: "Ongeldig verzoek",
        503: "Tijdelijk niet beschikbaar",
    }
    code = err.code or 500
    return render_template(
        "error.html",
        title=titles.get(code, "Er ging iets mis"),
        message=err.description or err.name,
    ), code


def visible_shops() -> list[Shop]:
    """The shops the logged-in user may see: all for an administrator, else their own."""
    return visible_scan()[0]


def visible_scan() -> tuple[list[Shop], list[UnreadableShop]]:
    """``visible_shops``, and those of them that cannot be read (shown as such)."""
    store, user = services().store, current_user()
    rows, unreadable = store.shops.scan()
    if user.is_admin:
        return rows, unreadable
    own = store.users.shop_ids(user.id)
    return [row for row in rows if row.id in own], [row for row in unreadable if row.id in own]
