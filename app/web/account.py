""" "Account": everyone changes their own password (the current one required; every other
session ends). And the page an invitation link opens (``/uitnodiging/<token>``, reachable
without a session): log in with an existing account, or choose a password for a new one
(the invited address), and the shop is yours as the invitation says.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash

from app.accounts.invitations import ROLE_LABELS, usable
from app.accounts.passwords import hash_password, password_problem
from app.store.invitations import Invitation
from app.store.shops import Shop
from app.web.auth import WRONG_LOGIN, check_credentials, start_session
from app.web.common import html_error, services
from app.web.login_limits import LoginLimits

bp = Blueprint("account", __name__)
bp.register_error_handler(HTTPException, html_error)

GONE = (
    "Deze uitnodiging is niet (meer) geldig: ze is al gebruikt, verlopen of ingetrokken. "
    "Vraag de eigenaar van de koppeling om een nieuwe."
)
NOT_SAME = "De twee nieuwe wachtwoorden zijn niet gelijk. Typ ze opnieuw."


def _limits() -> LoginLimits:
    return LoginLimits(services().redis)


@bp.route("/account", methods=["GET", "POST"])
def edit() -> Any:
    if request.method == "GET":
        return render_template("account.html", errors={})
    user = g.user
    current = request.form.get("current", "")
    new, again = request.form.get("password", ""), request.form.get("again", "")
    errors: dict[str, str] = {}
    refusal = _limits().refusal(request.remote_addr or "-", user.email)
    if refusal is not None:
        return render_template("account.html", errors={"current": refusal}), 429
    if not check_password_hash(user.password_hash, current):
        _limits().failed(user.email)
        errors["current"] = "Het huidige wachtwoord klopt niet."
    elif problem := password_problem(new):
        errors["password"] = problem
    elif new != again:
        errors["again"] = NOT_SAME
    if errors:
        return render_template("account.html", errors=errors), 400
    users = services().store.users
    users.set_password(user.id, hash_password(new))  # every session of the user ends …
    changed = users.get(user.id)
    assert changed is not None
    start_session(changed)  # … but this one goes on
    flash("Uw wachtwoord is gewijzigd. Uw andere sessies zijn beëindigd.", "ok")
    return redirect(url_for("account.edit"))


def _open(token: str) -> tuple[Invitation, Shop]:
    found = usable(services(), services().store.invitations.find(token))
    if found is None:
        abort(404, GONE)
    return found


def _page(invitation: Invitation, shop: Shop, status: int = 200, **extra: Any) -> Any:
    user = g.get("user")
    return render_template(
        "invitation.html",
        invitation=invitation,
        shop=shop,
        role=ROLE_LABELS[invitation.role],
        user=user,
        same=user is not None and user.email == invitation.email,
        errors=extra.pop("errors", {}),
        **extra,
    ), status


@bp.route("/uitnodiging/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Any:
    invitation, shop = _open(token)
    if request.method == "GET":
        return _page(invitation, shop)
    action = request.form.get("action", "")
    if action == "accept" and g.get("user") is not None:
        if g.user.email != invitation.email:
            return _page(invitation, shop, 400)
        return _accepted(token, g.user.id, shop)
    if action == "login":
        return _log_in_and_accept(token, invitation, shop)
    if action == "new":
        return _new_account(token, invitation, shop)
    abort(400, "Kies hoe u de uitnodiging aanvaardt.")


def _accepted(token: str, user_id: int, shop: Shop) -> Any:
    if services().store.invitations.accept(token, user_id) is None:
        abort(404, GONE)
    flash(f"Welkom: u heeft nu toegang tot de koppeling '{shop.name}'.", "ok")
    return redirect(url_for("overview.show", shop_id=shop.id))


def _log_in_and_accept(token: str, invitation: Invitation, shop: Shop) -> Any:
    limits = _limits()
    refusal = limits.refusal(request.remote_addr or "-", invitation.email)
    if refusal is not None:
        return _page(invitation, shop, 429, errors={"login": refusal})
    user = check_credentials(invitation.email, request.form.get("login_password", ""))
    if user is None or user.disabled:
        limits.failed(invitation.email)
        return _page(invitation, shop, 401, errors={"login": WRONG_LOGIN})
    limits.succeeded(invitation.email)
    start_session(user)
    return _accepted(token, user.id, shop)


def _new_account(token: str, invitation: Invitation, shop: Shop) -> Any:
    new, again = request.form.get("password", ""), request.form.get("again", "")
    problem = password_problem(new) or (NOT_SAME if new != again else None)
    if problem:
        return _page(invitation, shop, 400, errors={"new": problem})
    made = services().store.invitations.accept_new_account(token, hash_password(new))
    if made is None:
        taken = services().store.users.get_by_email(invitation.email) is not None
        if not taken:
            abort(404, GONE)
        error = "Er is al een account met dit e-mailadres: log hierboven in met uw wachtwoord."
        return _page(invitation, shop, 400, errors={"new": error})
    user = services().store.users.get(made[1])
    assert user is not None
    start_session(user)
    flash(f"Uw account is gemaakt; u heeft nu toegang tot de koppeling '{shop.name}'.", "ok")
    return redirect(url_for("overview.show", shop_id=shop.id))
