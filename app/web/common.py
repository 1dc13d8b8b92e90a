"""Helpers shared by the page blueprints."""

from __future__ import annotations

import enum

from flask import abort, current_app, g, render_template
from werkzeug.exceptions import HTTPException

from app.booking.connections import explain  # noqa: F401  (the pages' wording for failed calls)
from app.services import Services
from app.states import ShopRole, ShopStatus
from app.store.shops import Shop, UnreadableShop
from app.store.users import User

MAX_ID = 2**31 - 1  # ids in URLs beyond the database's integer range are simply not found

# Reachable without a session: the login page, static files and the operational endpoints
# /healthz and /metrics. (The webhook endpoint, authenticated by its signature, is served
# before Flask: app/intake/webhooks.py.)
PUBLIC_ENDPOINTS = frozenset({"auth.login", "static", "account.invitation"})
PUBLIC_BLUEPRINTS = frozenset({"health"})


def services() -> Services:
    return current_app.extensions["services"]


def current_user() -> User:
    return g.user  # set by auth.require_login


class Access(enum.IntEnum):
    """What a person may do with one shop's pages, each level including the ones below."""

    REGISTER = 1  # the bookings register: Overzicht, one booking (a removed shop: only this)
    READ = 2  # + the live pages: Voorbeeld, Controle and its downloads (a meekijker)
    MANAGE = 3  # + settings, credentials, webhook secret, people, Inhalen, retries (owner)


def may_see(user: User, shop_id: int) -> bool:
    return user.is_admin or services().store.users.owns(user.id, shop_id)


def access_to(user: User, shop_id: int) -> Access | None:
    """The user's access to the shop by role (administrators: everything), or None."""
    if user.is_admin:
        return Access.MANAGE
    role = services().store.users.role_of(user.id, shop_id)
    if role is None:
        return None
    return Access.MANAGE if role == ShopRole.OWNER else Access.READ


def shop_or_404(shop_id: int, need: Access = Access.MANAGE) -> Shop:
    """The shop, when the logged-in user may do ``need`` with it. Another user's shop, and
    a page above the user's role (a meekijker's credentials, webhook, settings, people),
    answer exactly like a shop that does not exist. A removed shop keeps only its
    register. The level found is ``g.access`` for the templates."""
    access = access_to(current_user(), shop_id)
    shop = services().load_shop(shop_id) if access is not None else None
    if shop is not None and access is not None and shop.status == ShopStatus.REMOVED:
        access = min(access, Access.REGISTER)
    if shop is None or access is None or access < need:
        abort(404, "Deze koppeling bestaat niet (meer).")
    g.access = access
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


# Per status: the page's title and what it says when the code gave no Dutch reason of
# its own (werkzeug's default descriptions are English).
ERROR_PAGES = {
    400: (
        "Ongeldig verzoek",
        "Dit verzoek kan niet worden verwerkt. Ga terug en probeer het opnieuw.",
    ),
    403: ("Geen toegang", "U heeft geen toegang tot deze pagina."),
    404: (
        "Niet gevonden",
        "Deze pagina bestaat niet (meer). Controleer het adres, of ga naar de koppelingen.",
    ),
    405: (
        "Niet toegestaan",
        "Deze pagina kan zo niet worden gebruikt. Ga terug en probeer het opnieuw.",
    ),
    413: ("Te groot", "Wat u verstuurde is te groot (hoogstens 1 MB)."),
    429: (
        "Even wachten",
        "Er kwamen te veel verzoeken tegelijk. Probeer het over een minuut opnieuw.",
    ),
    503: (
        "Tijdelijk niet beschikbaar",
        "De koppeling is even niet bereikbaar. Er is niets gewijzigd; probeer het over een "
        "paar minuten opnieuw.",
    ),
}
OTHER_ERROR = ("Er ging iets mis", "Er ging iets mis. Probeer het later opnieuw.")


def html_error(err: HTTPException) -> tuple[str, int]:
    """Errors on the pages as a Dutch page (the app's default answer is JSON, for the API).
    A description the code passed to ``abort`` is Dutch; werkzeug's own is not used."""
    code = err.code or 500
    title, message = ERROR_PAGES.get(code, OTHER_ERROR)
    own = err.description if err.description != type(err).description else ""
    return render_template("error.html", title=title, message=own or message), code


def visible_shops(*, removed: bool = False) -> list[Shop]:
    """The shops the logged-in user may see: all for an administrator, else their own;
    ``removed``: only the removed ones (whose register stays readable)."""
    return visible_scan(removed=removed)[0]


def visible_scan(*, removed: bool = False) -> tuple[list[Shop], list[UnreadableShop]]:
    """``visible_shops``, and those of them that cannot be read (shown as such)."""
    store, user = services().store, current_user()
    rows, unreadable = store.shops.scan([ShopStatus.REMOVED]) if removed else store.shops.scan()
    if user.is_admin:
        return rows, unreadable
    own = store.users.shop_ids(user.id)
    return [row for row in rows if row.id in own], [row for row in unreadable if row.id in own]
