"""The web interface for shop owners and bookkeepers: server-rendered Dutch pages.

``init_app`` wires everything: the page blueprints, CSRF protection on every form (the
webhook endpoint is exempt: it is authenticated by its signature), "login required" for
every page but the login page, static files, the webhook and the health endpoints, and
security headers on every page.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.web import auth, filters, mapping, overview, shops, users_cli
from app.web.common import PUBLIC_BLUEPRINTS

log = logging.getLogger(__name__)
csrf = CSRFProtect()



def init_app(app: Flask) -> None:
    if not app.secret_key:
        if app.extensions["settings"].is_production:  # Settings refuses this already
            raise RuntimeError("SECRET_KEY is required in production")
        # Development without SECRET_KEY: a random key per process; sessions do not
        # survive a restart, but nothing insecure is ever baked in.
        log.info("SECRET_KEY is not set: using a random key for this process")
        app.secret_key = secrets.token_hex(32)
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", dt.timedelta(hours=12))
    # The token lives as long as the session: filling in the mapping table may take a while.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)

    app.before_request(auth.require_login)  # before CSRF: no session → login page first
    csrf.init_app(app)
    if "webhooks" in app.blueprints:
        csrf.exempt(app.blueprints["webhooks"])
    for blueprint in (auth.bp, shops.bp, mapping.bp, overview.bp):
        app.register_blueprint(blueprint)
    filters.init_app(app)
    app.cli.add_command(users_cli.users)
    app.register_error_handler(CSRFError, _csrf_error)
    app.after_request(_security_headers)


def _csrf_error(err: CSRFError) -> tuple[str, int]:
    log.info("form refused: %s", err.description)
    return render_template(
        "error.html", title="Formulier verlopen",
        message="Het formulier is verlopen of ongeldig (beveiligingscontrole). Ga terug, "
                "laad de pagina opnieuw en probeer het nog een keer.",
    ), 400


def _security_headers(response: Response) -> Response:
    if request.blueprint in PUBLIC_BLUEPRINTS:
        return response
    headers = response.headers
    if request.blueprint == "rq_dashboard":  # its pages carry inline scripts and styles
        headers.setdefault("Content-Security-Policy",
                           "default-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "frame-ancestors 'none'")
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
