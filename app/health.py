"""GET /healthz (database and Redis answer) and GET /metrics (Prometheus, behind a bearer
token)."""

from __future__ import annotations

import contextlib
import hmac
import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from redis.exceptions import RedisError

from app.config import REDIS_MEMORY_WARN_SHARE
from app.metrics import exposition
from app.report.budget_usage import budgets
from app.report.budget_usage import exposition as budget_exposition

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz() -> tuple[Any, int]:
    """200 when the database and Redis answer (with ``warnings`` when Redis is near its
    memory limit or may evict keys), 503 naming the one that does not."""
    services = current_app.extensions["services"]
    problems, warnings = {}, {}
    try:
        services.store.ping()
    except Exception as err:  # any failure means "not healthy"; say which
        problems["database"] = type(err).__name__
    try:
        services.redis.ping()
    except Exception as err:
        problems["redis"] = type(err).__name__
    else:
        with contextlib.suppress(RedisError):  # a Redis that hides INFO: no warnings
            warnings = redis_memory_warnings(services.redis.info("memory"))
    if problems:
        return jsonify(status="unavailable", failing=problems), 503
    if warnings:
        log.warning("health: %s", "; ".join(warnings.values()))
        return jsonify(status="ok", warnings=warnings), 200
    return jsonify(status="ok"), 200


def redis_memory_warnings(info: dict[str, Any]) -> dict[str, str]:
    """Redis's ``INFO memory`` against the README's budget: near ``maxmemory`` (a full
    Redis refuses writes: notifications get 503, jobs wait), or a policy that evicts keys
    (RQ's jobs and our marks would silently go)."""
    warnings = {}
    used, limit = int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))
    if limit and used >= REDIS_MEMORY_WARN_SHARE * limit:
        warnings["redis_memory"] = (
            f"Redis uses {100 * used // limit}% of maxmemory ({used} of {limit} bytes)"
        )
    policy = str(info.get("maxmemory_policy", "noeviction"))
    if limit and policy != "noeviction":
        warnings["redis_policy"] = f"maxmemory-policy is {policy}, not noeviction: jobs can be lost"
    return warnings


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
    with contextlib.suppress(Exception):  # the GetMutaties budget (app/report/budget_usage.py)
        body += budget_exposition(budgets(services))
    return Response(body, mimetype="text/plain; version=0.0.4")
