"""The web interface for shop owners and bookkeepers: server-rendered Dutch pages.

``init_app`` wires everything: the page blueprints, CSRF protection on every form (the
webhook endpoint never reaches Flask: app/intake/webhooks.py), "login required" for
every page but the login page, static files and the health endpoints, and security
headers on every page.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from werkzeug.routing import IntegerConverter

from app.config import SESSION_IDLE_TIMEOUT
from app.errors import ConfigError
from app.store.shops import UnreadableShopError
from app.web import (
    account,
    alerts,
    auth,
    budget,
    control,
    filters,
    mapping,
    overview,
    people,
    shops,
)
from app.web.common import MAX_ID, PUBLIC_BLUEPRINTS

log = logging.getLogger(__name__)
csrf = CSRFProtect()


class IdConverter(IntegerConverter):
    r"""``<int:…>`` in every route: 1 … 2³¹−1, the range of the tables' integer ids, in
    ASCII digits (werkzeug's ``\d`` would also take other scripts' digits)."""

    regex = "[0-9]+"

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    if not app.secret_key:
        if app.extensions["settings"].is_production:  # Settings refuses this already
            raise RuntimeError("SECRET_KEY is required in production")
        # Development without SECRET_KEY: a random key per process; sessions do not
        # survive a restart, but nothing insecure is ever baked in.
        log.info("SECRET_KEY is not set: using a random key for this process")
        app.secret_key = secrets.token_hex(32)
    # Flask's default (31 days) is already in app.config: set, not setdefault. A permanent
    # session is re-signed on every request, so this is a limit on inactivity.
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(seconds=SESSION_IDLE_TIMEOUT)
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    # Ids in URLs beyond the database's integer range are not found (404), not a 500.
    app.url_map.converters["int"] = IdConverter
    # The token lives as long as the session: filling in the mapping table may take a while.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)

    auth.init_limits(app)
    app.before_request(auth.require_login)  # before CSRF: no session → login page first
    csrf.init_app(app)
    for blueprint in (
        auth.bp,
        shops.bp,
        mapping.bp,
        overview.bp,
        control.bp,
        alerts.bp,
        budget.bp,
        people.bp,
        account.bp,
    ):
        app.register_blueprint(blueprint)
    filters.init_app(app)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RedisError, _backend_down)
    app.register_error_handler(OperationalError, _backend_down)
    app.register_error_handler(ConfigError, _undecryptable)
    app.after_request(_security_headers)


def _csrf_error(err: CSRFError) -> tuple[str, int]:
    log.info("form refused: %s", err.description)
    return render_template(
        "error.html",
        title="Formulier verlopen",
        message="Het formulier is verlopen of ongeldig (beveiligingscontrole). Ga terug, "
        "laad de pagina opnieuw en probeer het nog een keer.",
    ), 400


def _backend_down(err: Exception) -> tuple[Any, int]:
    """Redis or the database does not answer: 503 with what to do, never a 500. Nothing
    was changed (a view that changes state rolls back what it cannot finish). The health
    endpoints answer JSON, for machines."""
    redis = isinstance(err, RedisError)
    log.warning("%s unavailable on %s: %s", "Redis" if redis else "database", request.path, err)
    if request.blueprint in PUBLIC_BLUEPRINTS:
        return jsonify(
            error=f"{'queue' if redis else 'database'} unavailable, try again later"
        ), 503
    what = "De wachtrij (Redis)" if redis else "De database"
    return render_template(
        "error.html",
        title="Tijdelijk niet beschikbaar",
        message=f"{what} is even niet bereikbaar. Er is niets gewijzigd; probeer het over "
        "een paar minuten opnieuw.",
    ), 503


def _undecryptable(err: ConfigError) -> Any:
    """A shop whose row cannot be read (its secrets stored under a key ENCRYPTION_KEY no
    longer has, or damaged settings): that shop's pages say what to do; every other page
    and shop goes on (the listings skip it)."""
    log.error("stored shop cannot be read: %s", err)
    if request.blueprint in PUBLIC_BLUEPRINTS:
        return jsonify(error="stored secret cannot be decrypted, try again later"), 503
    message = err.explanation
    if not isinstance(err, UnreadableShopError):
        message = (
            "De opgeslagen gegevens kunnen niet worden ontsleuteld: ENCRYPTION_KEY mist de "
            "sleutel waarmee ze zijn versleuteld. Zet de vorige sleutel achter de nieuwe terug "
            "en voer `flask --app app keys rotate` uit."
        )
    return render_template("error.html", title="Gegevens niet leesbaar", message=message), 500


def _security_headers(response: Response) -> Response:
    if current_app.extensions["settings"].is_production:  # served over HTTPS only
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
        )
    if request.blueprint in PUBLIC_BLUEPRINTS:
        return response
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    )
    if request.endpoint != "static":
        headers.setdefault("Cache-Control", "no-store")  # pages show webhook secrets
    return response
