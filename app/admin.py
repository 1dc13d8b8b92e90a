"""The RQ dashboard under /admin/rq, behind the same login as every other page.

Its own JavaScript posts without our CSRF token, so the blueprint is CSRF-exempt; the
session cookie is SameSite=Lax, which keeps other sites from posting with it.
"""

from __future__ import annotations

from flask import Flask
from rq.serializers import JSONSerializer

from app.services import Services


def init_app(app: Flask, services: Services | None) -> None:
    from rq_dashboard import web as rq_dashboard

    rq_dashboard.config.serializer = JSONSerializer  # our jobs are JSON, not pickle
    app.config["RQ_DASHBOARD_REDIS_URL"] = app.extensions["settings"].redis_url
    rq_dashboard.setup_rq_connection(app)
    if services is not None:  # tests inject their own Redis
        app.redis_conn = services.redis  # type: ignore[attr-defined]
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/admin/rq")
    from app.web import csrf

    csrf.exempt(rq_dashboard.blueprint)
