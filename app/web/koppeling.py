"""Shops ("koppelingen"): the list, "Koppeling toevoegen", changing the credentials, and
the webhook URL and secret with "Nieuw geheim"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app import ledger, shops
from app.intake import shop_cache
from app.store.db import transaction
from app.web.common import html_error, services, shop_or_404
from app.web.connect import encrypted, read_form, verify_connections

bp = Blueprint("koppeling", __name__)
bp.register_error_handler(HTTPException, html_error)


@bp.get("/")
def index() -> Any:
    with services().engine.connect() as conn:
        rows = ledger.list_shops(conn)
        counts = ledger.state_counts_by_shop(conn)
        runs = {row.id: ledger.last_run(conn, row.id) for row in rows}
    empty = dict.fromkeys(ledger.STATES, 0)
    return render_template("shops/index.html", shops=rows, runs=runs,
                           counts={row.id: counts.get(row.id, empty) for row in rows})


@bp.route("/koppelingen/nieuw", methods=["GET", "POST"])
def new() -> Any:
    if request.method == "GET":
        return render_template("shops/form.html", shop=None, form={}, errors={})
    form, errors = read_form(request.form)
    if not errors:
        errors = verify_connections(services(), form.credentials)
    if errors:
        return render_template("shops/form.html", shop=None, form=request.form,
                               errors=errors), 400
    with transaction(services().engine) as conn:
        shop_id, _secret = shops.register(conn, services().vault, name=form.name,
                                          credentials=form.credentials)
    flash("Beide verbindingen werken. Richt nu de koppeling in (stap 2 van 2).", "ok")
    return redirect(url_for("instellingen.edit", shop_id=shop_id))


@bp.route("/koppelingen/<int:shop_id>/gegevens", methods=["GET", "POST"])
def credentials(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    if request.method == "GET":
        current = {"name": shop.name, "eb_username": shop.credentials.eb_username}
        return render_template("shops/form.html", shop=shop, form=current, errors={})
    form, errors = read_form(request.form, current=shop)
    if not errors:
        errors = verify_connections(services(), form.credentials)
    if errors:
        return render_template("shops/form.html", shop=shop, form=request.form,
                               errors=errors), 400
    values: dict[str, Any] = {"name": form.name,
                              "credentials": encrypted(services(), form.credentials)}
    if shop.status == shops.AUTH_FAILED:  # a person fixed what the reconciler found
        values.update(status=shops.ACTIVE, status_error=None)
    with transaction(services().engine) as conn:
        ledger.update_shop(conn, shop.id, **values)
    shop_cache.clear()
    flash("De gegevens zijn gecontroleerd en opgeslagen.", "ok")
    return redirect(url_for("overzicht.show", shop_id=shop.id))


@bp.get("/koppelingen/<int:shop_id>/webhook")
def webhook(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    with services().engine.connect() as conn:
        row = ledger.get_shop(conn, shop.id)
    grace_until = None
    if row and len(shop.webhook_secrets) > 1:
        grace_until = row.previous_secret_expires_at
    url = shops.webhook_url(services().settings.public_base_url, shop.webhook_key)
    return render_template("shops/webhook.html", shop=shop, url=url,
                           secret=shop.webhook_secrets[0], grace_until=grace_until)


@bp.post("/koppelingen/<int:shop_id>/webhook/nieuw-geheim")
def rotate_secret(shop_id: int) -> Any:
    shop = shop_or_404(shop_id)
    with transaction(services().engine) as conn:
        shops.rotate_secret(conn, services().vault, shop.id)
    shop_cache.clear()  # this process accepts the new secret at once
    hours = int(shops.SECRET_GRACE.total_seconds() // 3600)
    flash("Er is een nieuw geheim gemaakt. Vul het in bij het systeem dat de meldingen "
          "stuurt; het vorige "
          f"geheim blijft nog {hours} uur geldig.", "ok")
    return redirect(url_for("koppeling.webhook", shop_id=shop.id))
