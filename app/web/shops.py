"""Shops ("koppelingen"): the list, "Koppeling toevoegen", changing the credentials, and
the webhook URL and secret with "Nieuw geheim", and who may see the shop ("Gebruikers")."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app.config import DAY, MAX_KEPT_WEBHOOK_SECRETS, WEBHOOK_ROTATIONS_PER_DAY
from app.states import BookingState
from app.store.shops import SECRET_GRACE, webhook_url
from app.web.common import current_user, html_error, services, shop_or_404, visible_scan
from app.web.connection_form import EB_APIS, read_form, verify_connections

bp = Blueprint("shops", __name__)
bp.register_error_handler(HTTPException, html_error)


@bp.get("/")
def index() -> Any:
    store = services().store
    rows, unreadable = visible_scan()  # an owner sees only the shops linked to the account
    counts = store.bookings.counts_by_shop()
    runs = store.runs.last_by_shop()
    empty = dict.fromkeys(BookingState, 0)
    return render_template(
        "shops/index.html",
        shops=rows,
        unreadable=unreadable,
        runs={row.id: runs.get(row.id) for row in rows},
        counts={row.id: counts.get(row.id, empty) for row in rows},
    )


@bp.route("/koppelingen/nieuw", methods=["GET", "POST"])
def new() -> Any:
    if request.method == "GET":
        return render_template("shops/form.html", shop=None, form={}, errors={}, eb_apis=EB_APIS)
    form, errors = read_form(request.form)
    if not errors:
        errors = verify_connections(services(), form.credentials)
    if errors:
        return render_template(
            "shops/form.html", shop=None, form=request.form, errors=errors, eb_apis=EB_APIS
        ), 400
    shop_id, _secret = services().store.shops.register(
        name=form.name, credentials=form.credentials, owner_id=current_user().id
    )
    flash("Beide verbindingen werken. Richt nu de koppeling in (stap 2 van 2).", "ok")
    return redirect(url_for("mapping.edit", shop_id=shop_id))


@bp.route("/koppelingen/<int:shop_id>/gegevens", methods=["GET", "POST"])
def credentials(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    if request.method == "GET":
        current = {
            "name": shop.name,
            "eb_username": shop.credentials.eb_username,
            "eb_api": shop.credentials.eb_api,
        }
        return render_template(
            "shops/form.html", shop=shop, form=current, errors={}, eb_apis=EB_APIS
        )
    form, errors = read_form(request.form, current=shop)
    if not errors:
        errors = verify_connections(services(), form.credentials)
    if errors:
        return render_template(
            "shops/form.html", shop=shop, form=request.form, errors=errors, eb_apis=EB_APIS
        ), 400
    services().store.shops.update_connection(shop.id, name=form.name, credentials=form.credentials)
    services().webhook_shops.forget()
    flash("De gegevens zijn gecontroleerd en opgeslagen.", "ok")
    return redirect(url_for("overview.show", shop_id=shop.id))


@bp.get("/koppelingen/<int:shop_id>/webhook")
def webhook(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    url = webhook_url(services().settings.public_base_url, shop.webhook_key)
    return render_template(
        "shops/webhook.html",
        shop=shop,
        url=url,
        secret=shop.webhook_secrets[0],
        grace_until=shop.secret_grace_until,
    )


@bp.post("/koppelingen/<int:shop_id>/webhook/nieuw-geheim")
def rotate_secret(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    if not _rotation_allowed(shop.id):
        flash(
            f"Het geheim is vandaag al {WEBHOOK_ROTATIONS_PER_DAY} keer vernieuwd; probeer het "
            "morgen opnieuw. Is een geheim uitgelekt? Kies 'Oude geheimen nu intrekken': "
            "dan werkt alleen het huidige geheim nog.",
            "bad",
        )
        return redirect(url_for("shops.webhook", shop_id=shop.id))
    dropped = len(shop.webhook_secrets) - 1 >= MAX_KEPT_WEBHOOK_SECRETS  # the oldest goes
    services().store.shops.rotate_webhook_secret(shop.id)
    services().webhook_shops.forget()  # this process accepts the new secret at once
    hours = int(SECRET_GRACE.total_seconds() // 3600)
    message = (
        "Er is een nieuw geheim gemaakt. Vul het in bij het systeem dat de meldingen "
        f"stuurt; het vorige geheim blijft nog {hours} uur geldig."
    )
    if dropped:
        message += (
            f" Er blijven hoogstens {MAX_KEPT_WEBHOOK_SECRETS} vorige geheimen geldig: het "
            "oudste werkt niet meer."
        )
    flash(message, "ok")
    return redirect(url_for("shops.webhook", shop_id=shop.id))


@bp.post("/koppelingen/<int:shop_id>/webhook/oude-geheimen-intrekken")
def revoke_secrets(shop_id: int) -> Any:
    """A leaked earlier secret stops working now, not at the end of its grace. (Other web
    processes see it within ``WEBHOOK_SHOP_CACHE_SECONDS``.)"""
    shop = shop_or_404(shop_id)
    stopped = services().store.shops.revoke_earlier_webhook_secrets(shop.id)
    services().webhook_shops.forget()
    flash(
        "De vorige geheimen zijn ingetrokken: alleen het huidige geheim werkt nog."
        if stopped
        else "Er waren geen vorige geheimen meer geldig: alleen het huidige geheim werkt.",
        "ok",
    )
    return redirect(url_for("shops.webhook", shop_id=shop.id))


def _rotation_allowed(shop_id: int) -> bool:
    """At most ``WEBHOOK_ROTATIONS_PER_DAY`` new secrets per shop per day (counted in Redis;
    without Redis the page answers 503 and nothing changes)."""
    key = f"mww:webhook-rotations:{shop_id}:{int(time.time() // DAY)}"
    pipe = services().redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, DAY)
    return int(pipe.execute()[0]) <= WEBHOOK_ROTATIONS_PER_DAY


@bp.get("/koppelingen/<int:shop_id>/gebruikers")
def owners(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    return render_template(
        "shops/owners.html", shop=shop, owners=services().store.users.owners(shop.id), email=""
    )


@bp.post("/koppelingen/<int:shop_id>/gebruikers")
def add_owner(shop_id: int) -> Any:
    """Give an existing account access to this shop (accounts are made with
    ``flask users create``; the operator makes them)."""
    shop = shop_or_404(shop_id)
    users = services().store.users
    email = request.form.get("email", "").strip().lower()[:200]
    user = users.get_by_email(email) if email else None
    if user is None or user.disabled:
        error = (
            "Er is geen (actief) account met dit e-mailadres. Vraag de beheerder van de "
            "koppeling om er een aan te maken, en voeg het daarna hier toe."
        )
        return render_template(
            "shops/owners.html", shop=shop, owners=users.owners(shop.id), email=email, error=error
        ), 400
    users.add_owner(shop.id, user.id)
    flash(f"{user.email} kan deze koppeling nu zien en beheren.", "ok")
    return redirect(url_for("shops.owners", shop_id=shop.id))


@bp.post("/koppelingen/<int:shop_id>/gebruikers/<int:user_id>/verwijderen")
def remove_owner(shop_id: int, user_id: int) -> Any:
    shop = shop_or_404(shop_id)
    users = services().store.users
    remaining = [owner for owner in users.owners(shop.id) if owner.id != user_id]
    if not remaining and not current_user().is_admin:
        flash("De laatste gebruiker van een koppeling kan niet worden verwijderd.", "bad")
        return redirect(url_for("shops.owners", shop_id=shop.id))
    users.remove_owner(shop.id, user_id)
    flash("De gebruiker heeft geen toegang meer tot deze koppeling.", "ok")
    if user_id == current_user().id and not current_user().is_admin:
        return redirect(url_for("shops.index"))
    return redirect(url_for("shops.owners", shop_id=shop.id))
