"""GET /healthz (database and Redis answer) and GET /metrics (Prometheus)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from app.metrics import exposition

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Any, int]:
    services = current_app.extensions["services"]
    problems = {}
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:  # any failure means "not healthy"; say which
        problems["database"] = type(err).__name__
    try:
        services.redis.ping()
    except Exception as err:
        problems["redis"] = type(err).__name__
    if problems:
        return jsonify(status="unavailable", failing=problems), 503
    return jsonify(status="ok"), 200


@bp.get("/metrics")
def metrics() -> Response:
    return Response(exposition(), mimetype="text/plain; version=0.0.4")
