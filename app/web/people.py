""" "Gebruikers" of a shop (owners only): who may see it and as what (eigenaar or meekijker),
inviting a person by e-mail (a one-time link that expires: app/accounts/invitations.py),
changing a role, taking access away, and revoking an invitation not yet used.

The answer to an invitation is the same whether the address has an account or not.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app.accounts import invitations
from app.accounts.passwords import normal_email
from app.config import DAY, INVITATION_TTL
from app.states import ShopRole
from app.store.shops import Shop
from app.web.common import current_user, html_error, services, shop_or_404

bp = Blueprint("people", __name__)
bp.register_error_handler(HTTPException, html_error)

ROLES = {ShopRole.OWNER: "Eigenaar", ShopRole.VIEWER: "Meekijker"}
ROLE_HINTS = {
    ShopRole.OWNER: "alles: boekingen, instellingen, gegevens, webhook en gebruikers",
    ShopRole.VIEWER: "alleen lezen: overzicht, boekingen, voorbeeld, Controle en downloads",
}
LAST_OWNER = "Een koppeling houdt minstens één eigenaar: maak eerst iemand anders eigenaar."


def _page(shop: Shop, status: int = 200, **extra: Any) -> Any:
    store = services().store
    context: dict[str, Any] = {
        "shop": shop,
        "people": store.users.people(shop.id),
        "pending": store.invitations.pending(shop.id),
        "roles": ROLES,
        "role_hints": ROLE_HINTS,
        "days": INVITATION_TTL // DAY,
        "email": "",
        "role": ShopRole.VIEWER,
        "error": "",
        **extra,
    }
    return render_template("shops/owners.html", **context), status


def _owners_left(shop_id: int, without: int) -> int:
    return sum(
        1
        for user, role in services().store.users.people(shop_id)
        if user.id != without and role == ShopRole.OWNER and not user.disabled
    )


@bp.get("/koppelingen/<int:shop_id>/gebruikers")
def owners(shop_id: int) -> Any:
    return _page(shop_or_404(shop_id))


@bp.post("/koppelingen/<int:shop_id>/gebruikers")
def invite(shop_id: int) -> Any:
    """Invite a person: mailed, or the link shown to pass on; the same answer whether the
    address has an account or not."""
    shop = shop_or_404(shop_id)
    typed = request.form.get("email", "").strip()[:200]
    email = normal_email(typed)
    role = ShopRole.parse(request.form.get("role", ""))
    if email is None or role is None:
        error = "Vul een geldig e-mailadres in." if email is None else "Kies een rol."
        return _page(shop, 400, email=typed, role=role or ShopRole.VIEWER, error=error)
    me = current_user()
    sent = invitations.invite(services(), shop, email, role, me.email, me.id)
    if sent.mailed:
        flash(
            f"Er is een uitnodiging gemaild naar {email} ({ROLES[role].lower()}). De link "
            f"werkt één keer en {INVITATION_TTL // DAY} dagen.",
            "ok",
        )
        return redirect(url_for("people.owners", shop_id=shop.id))
    # No mail: the link is shown here (never put in the session cookie) to pass on.
    return _page(shop, sent=sent, sent_role=ROLES[role])


@bp.post("/koppelingen/<int:shop_id>/uitnodigingen/<int:invitation_id>/intrekken")
def revoke(shop_id: int, invitation_id: int) -> Any:
    shop = shop_or_404(shop_id)
    if services().store.invitations.revoke(shop.id, invitation_id):
        flash("De uitnodiging is ingetrokken: de link werkt niet meer.", "ok")
    else:
        flash("Deze uitnodiging was al gebruikt, verlopen of ingetrokken.", "info")
    return redirect(url_for("people.owners", shop_id=shop.id))


@bp.post("/koppelingen/<int:shop_id>/gebruikers/<int:user_id>/rol")
def set_role(shop_id: int, user_id: int) -> Any:
    shop = shop_or_404(shop_id)
    role = ShopRole.parse(request.form.get("role", ""))
    if role is None:
        flash("Kies een rol.", "bad")
    elif role != ShopRole.OWNER and _owners_left(shop.id, user_id) == 0:
        flash(LAST_OWNER, "bad")
    elif services().store.users.set_role(shop.id, user_id, role):
        flash(f"De rol is nu {ROLES[role].lower()}.", "ok")
    return redirect(url_for("people.owners", shop_id=shop.id))


@bp.post("/koppelingen/<int:shop_id>/gebruikers/<int:user_id>/verwijderen")
def remove_owner(shop_id: int, user_id: int) -> Any:
    shop = shop_or_404(shop_id)
    users = services().store.users
    role = users.role_of(user_id, shop.id)
    last = role == ShopRole.OWNER and _owners_left(shop.id, user_id) == 0
    if last and not current_user().is_admin:
        flash(LAST_OWNER, "bad")
        return redirect(url_for("people.owners", shop_id=shop.id))
    users.remove_owner(shop.id, user_id)
    flash("De gebruiker heeft geen toegang meer tot deze koppeling.", "ok")
    if user_id == current_user().id and not current_user().is_admin:
        return redirect(url_for("shops.index"))
    return redirect(url_for("people.owners", shop_id=shop.id))
