"""The Flask app factory: wiring only. ``gunicorn 'app:create_app()'``."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import INSTANCE_DIR, Settings
from app.logs import install_redaction
from app.services import Services, build_services


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    settings = settings or (services.settings if services else Settings.from_env())
    install_redaction()  # gunicorn configures logging itself; the filters are still ours
    app = Flask(__name__, instance_path=str(INSTANCE_DIR))
    app.config.update(
        SECRET_KEY=settings.secret_key or None,
        MAX_CONTENT_LENGTH=1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
    )
    if settings.is_production:  # HTTPS only, this host only, every path (ASVS 3.4.4)
        app.config["SESSION_COOKIE_NAME"] = "__Host-session"
    app.extensions["settings"] = settings
    if settings.is_production:  # behind the platform's router: one proxy hop, TLS there
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    if services is not None:
        app.extensions["services"] = services
    else:
        app.extensions["services"] = _LazyServices(settings)

    from app import cli, health, web
    from app.intake import webhooks
    from app.web import admin

    app.register_blueprint(health.bp)
    # The pages: CSRF on every form (webhooks exempt), login required by default.
    web.init_app(app)
    admin.init_app(app, services)
    cli.init_app(app)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> tuple[Any, int]:
        """A URL no blueprint answers (a typo, an old link): a Dutch page for people, JSON
        for the machine endpoints and for clients that ask for JSON."""
        from app.web.common import PUBLIC_BLUEPRINTS, html_error

        wants_json = request.accept_mimetypes.best == "application/json"
        if request.blueprint in PUBLIC_BLUEPRINTS or wants_json:
            return jsonify(error=err.description or err.name), err.code or 500
        return html_error(err)

    webhooks.mount(app)  # outermost: the notification path never reaches Flask
    return app


class _LazyServices:
    """Build the real services on first use, so `flask --help` needs no Redis/DB. The
    web's clients get the short ``web_upstream_timeout``. Threaded workers (gthread):
    built once, under a lock."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._services: Services | None = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if self._services is None:
            with self._lock:
                if self._services is None:
                    self._services = build_services(
                        self._settings, upstream_timeout=self._settings.web_upstream_timeout
                    )
        return getattr(self._services, name)
