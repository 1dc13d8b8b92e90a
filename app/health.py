"""GET /healthz (database and Redis answer) and GET /metrics (Prometheus, behind a bearer
token)."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from app.metrics import exposition

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Any, int]:
    services = current_app.extensions["services"]
    problems = {}
    try:
        services.store.ping()
    except Exception as err:  # any failure means "not healthy"; say which
        problems["database"] = type(err).__name__
    try:
        services.redis.ping()
    except Exception as err:
        problems["redis"] = type(err).__name__
    if problems:
        return jsonify(status="unavailable", failing=problems), 503
    return jsonify(status="ok"), 200


def _metrics_refusal() -> tuple[Any, int] | None:
    """``/metrics`` needs ``Authorization: Bearer $METRICS_TOKEN``; without a token set it
    is open in development and closed in production."""
    settings = current_app.extensions["settings"]
    if not settings.metrics_token:
        if settings.is_production:
            return jsonify(error="METRICS_TOKEN is not set"), 403
        return None
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), settings.metrics_token.encode()
    ):
        return None
    response = jsonify(error="bearer token required")
    response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response, 401


@bp.get("/metrics")
def metrics() -> Any:
    refusal = _metrics_refusal()
    if refusal is not None:
        return refusal
    body = exposition()
    services = current_app.extensions["services"]
    try:  # read at scrape time: the queue lives in Redis, not in any one process
        depth = services.queue.count
        body += (
            b"# HELP mww_queue_depth Jobs waiting in the booking queue.\n"
            b"# TYPE mww_queue_depth gauge\n"
            + f'mww_queue_depth{{queue="{services.queue.name}"}} {depth}\n'.encode()
        )
    except Exception:  # Redis down: /healthz says so; metrics still answer
        pass
    return Response(body, mimetype="text/plain; version=0.0.4")
