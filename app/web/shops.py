"""Shops ("koppelingen"): the list, "Koppeling toevoegen", changing the credentials, the
webhook URL and secret with "Nieuw geheim", and pausing, resuming and removing a shop.
Who may see a shop ("Gebruikers") is app/web/people.py."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app.booking import lifecycle
from app.config import DAY, MAX_KEPT_WEBHOOK_SECRETS, WEBHOOK_ROTATIONS_PER_DAY
from app.states import BookingState
from app.store.engine import utcnow
from app.store.shops import SECRET_GRACE, Credentials, Shop, webhook_url
from app.web import kept_secrets
from app.web.common import (
    current_user,
    html_error,
    mask,
    services,
    shop_or_404,
    visible_scan,
    visible_shops,
)
from app.web.connection_form import EB_APIS, read_form, verify_connections

bp = Blueprint("shops", __name__)
bp.register_error_handler(HTTPException, html_error)


@bp.get("/")
def index() -> Any:
    store = services().store
    rows, unreadable = visible_scan()  # an owner sees only the shops linked to the account
    removed = visible_shops(removed=True)
    counts = store.bookings.counts_by_shop()
    runs = store.runs.last_by_shop()
    empty = dict.fromkeys(BookingState, 0)
    return render_template(
        "shops/index.html",
        shops=rows,
        removed=removed,
        unreadable=unreadable,
        runs={row.id: runs.get(row.id) for row in rows},
        counts={row.id: counts.get(row.id, empty) for row in [*rows, *removed]},
    )


@bp.route("/koppelingen/nieuw", methods=["GET", "POST"])
def new() -> Any:
    if request.method == "GET":
        return _form(None, {}, {})
    submitted = kept_secrets.restore(request.form, services().vault, current_user().id)
    form, errors = read_form(submitted)
    if not errors:
        errors = verify_connections(services(), form.credentials)
    if errors:
        return _form(None, request.form, errors, form.credentials), 400
    shop_id, _secret = services().store.shops.register(
        name=form.name,
        credentials=form.credentials,
        owner_id=current_user().id,
        book_from=utcnow(),  # the moment of connection; changeable at install
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
        return _form(shop, current, {})
    submitted = kept_secrets.restore(request.form, services().vault, current_user().id)
    form, errors = read_form(submitted, current=shop)
    if not errors:
        errors = verify_connections(services(), form.credentials)
    if errors:
        return _form(shop, request.form, errors, form.credentials), 400
    sent = lifecycle.save_credentials(
        services(), shop.id, name=form.name, credentials=form.credentials
    )
    again = (
        f" {sent} bestelling{'en worden' if sent != 1 else ' wordt'} nu alsnog geboekt."
        if sent
        else ""
    )
    flash(f"De gegevens zijn gecontroleerd en opgeslagen.{again}", "ok")
    return redirect(url_for("overview.show", shop_id=shop.id))


def _form(
    shop: Shop | None,
    form: Any,
    errors: dict[str, str],
    typed: Credentials | None = None,
) -> str:
    """Step 1 (or Gegevens); refused, it keeps the secrets that were not the problem."""
    kept = {}
    if errors and typed is not None:
        kept = kept_secrets.keep(services().vault, current_user().id, typed, errors)
    return render_template(
        "shops/form.html",
        shop=shop,
        form=form,
        errors=kept_secrets.here(errors),
        eb_apis=EB_APIS,
        kept=kept,
        kept_masks={name: mask(getattr(typed, name)) for name in kept} if typed else {},
        partner=services().settings.mijnwebwinkel_partner_name,
    )


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


@bp.post("/koppelingen/<int:shop_id>/pauzeren")
def pause(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    if lifecycle.pause(services(), shop.id):
        flash(
            "De koppeling is gepauzeerd: er wordt niets geboekt. Meldingen van de winkel "
            "worden wel aangenomen; bij hervatten worden de gemiste bestellingen alsnog geboekt.",
            "ok",
        )
    else:
        flash("Alleen een actieve koppeling kan worden gepauzeerd.", "bad")
    return redirect(url_for("overview.show", shop_id=shop.id))


@bp.post("/koppelingen/<int:shop_id>/hervatten")
def resume(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    if lifecycle.resume(services(), shop.id):
        flash(
            "De koppeling boekt weer. Wat tijdens de pauze binnenkwam, wordt nu alsnog geboekt.",
            "ok",
        )
    else:
        flash("Deze koppeling was niet gepauzeerd.", "info")
    return redirect(url_for("overview.show", shop_id=shop.id))


@bp.route("/koppelingen/<int:shop_id>/verwijderen", methods=["GET", "POST"])
def remove(shop_id: int) -> Any:
    """Asks first; removing erases the credentials and keeps the bookings register."""
    shop = shop_or_404(shop_id)
    if request.method == "GET":
        return render_template("shops/remove.html", shop=shop, error="")
    if request.form.get("bevestig") != "ja":
        error = "Vink aan dat u de koppeling wilt verwijderen; er is niets gewijzigd."
        return render_template("shops/remove.html", shop=shop, error=error), 400
    lifecycle.remove(services(), shop.id)
    flash(
        f"De koppeling '{shop.name}' is verwijderd. Haar inloggegevens zijn gewist; de "
        "boekingen blijven hieronder te zien bij Verwijderde koppelingen.",
        "ok",
    )
    return redirect(url_for("shops.index"))
