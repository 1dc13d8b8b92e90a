""" "Meldingen": each user chooses which alert mails they get (per shop, or for all)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from app.booking.alerts import send_test, smtp_config
from app.errors import ConfigError
from app.store.alerts import AlertPref
from app.web.common import html_error, services, visible_shops

bp = Blueprint("alerts", __name__)
bp.register_error_handler(HTTPException, html_error)

ALL = "alle"


@bp.get("/meldingen")
def edit() -> Any:
    store = services().store
    try:
        enabled = smtp_config(services().settings) is not None
    except ConfigError:
        enabled = False
    prefs = store.alerts.prefs(g.user.id)
    return render_template(
        "alerts.html", shops=visible_shops(), prefs=prefs, enabled=enabled, all_key=ALL
    )


@bp.post("/meldingen")
def save() -> Any:
    store = services().store
    known = {shop.id for shop in visible_shops()}
    prefs = [AlertPref(None, f"digest-{ALL}" in request.form, f"credentials-{ALL}" in request.form)]
    for shop_id in sorted(known):
        prefs.append(
            AlertPref(
                shop_id,
                f"digest-{shop_id}" in request.form,
                f"credentials-{shop_id}" in request.form,
            )
        )
    store.alerts.save_prefs(g.user.id, prefs)
    chosen = sum(p.digest + p.credentials for p in prefs)
    flash(
        "Uw keuze is opgeslagen." if chosen else "Uw keuze is opgeslagen: u krijgt geen meldingen.",
        "ok",
    )
    return redirect(url_for("alerts.edit"))


@bp.post("/meldingen/testmail")
def test_mail() -> Any:
    """A test mail to the logged-in user, at once: does the mail server deliver?"""
    sent, problem = send_test(services(), g.user.email)
    if sent:
        flash(
            f"Er is een testmail verstuurd naar {g.user.email}. Staat hij er over een paar "
            "minuten niet, kijk dan ook bij de ongewenste e-mail.",
            "ok",
        )
    else:
        flash(problem, "bad")
    return redirect(url_for("alerts.edit"))
