"""GET /healthz (database and Redis answer) and GET /metrics (Prometheus)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

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


@bp.get("/metrics")
def metrics() -> Response:
    body = exposition()
    services = current_app.extensions["services"]
    try:  # read at scrape time: the queue lives in Redis, not in any one process
        depth = services.queue.count
        body += (b"# HELP mww_queue_depth Jobs waiting in the booking queue.\n"
                 b"# TYPE mww_queue_depth gauge\n"
                 + f'mww_queue_depth{{queue="{services.queue.name}"}} {depth}\n'.encode())
    except Exception:  # Redis down: /healthz says so; metrics still answer
        pass
    return Response(body, mimetype="text/plain; version=0.0.4")
