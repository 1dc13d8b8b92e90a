"""POST /webhooks/mijnwebwinkel/<shop key>: verify → validate → enqueue → 202.

Never calls Mijnwebwinkel or e-Boekhouden. Every refusal writes nothing but a counter.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import ValidationError
from redis.exceptions import RedisError
from werkzeug.exceptions import RequestEntityTooLarge

from app.intake import notifications
from app.metrics import NOTIFICATIONS
from app.queue import queue_notification
from app.services import Services

bp = Blueprint("webhooks", __name__)
MAX_BODY = 64 * 1024
_SCHEMA = notifications.NotificationSchema()  # built once: building one costs more than a load


def _refuse(status: int, outcome: str, **body: Any) -> tuple[Any, int]:
    NOTIFICATIONS.labels(outcome).inc()
    return jsonify(body), status


@bp.post("/webhooks/mijnwebwinkel/<shop_key>")
def receive_order_notification(shop_key: str) -> tuple[Any, int]:
    services: Services = current_app.extensions["services"]
    shop = services.webhook_shops.get(shop_key)
    if shop is None or not shop.accepts_notifications:
        return _refuse(404, "unknown_shop", error="unknown or disabled shop")
    # One byte over the limit is read, so that a chunked body (no Content-Length: the
    # stream just stops at the limit) that is too large is seen as such, not cut short.
    request.max_content_length = MAX_BODY + 1
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        body = b"x" * (MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return _refuse(413, "too_large", error=f"body larger than {MAX_BODY} bytes")
    if not request.is_json:
        return _refuse(415, "not_json", error="Content-Type must be application/json")
    try:
        notifications.verify(body, dict(request.headers), shop.webhook_secrets)
    except notifications.SignatureError:
        return _refuse(401, "bad_signature", error="missing or invalid signature")
    try:
        payload = _SCHEMA.load(json.loads(body))
    except (ValueError, RecursionError, ValidationError) as err:  # deep nesting too
        messages = err.messages if isinstance(err, ValidationError) else {"_": ["invalid JSON"]}
        return _refuse(400, "invalid_payload", error="invalid payload", messages=messages)
    webhook_id = request.headers["webhook-id"]
    try:  # one Redis round trip: dedupe the webhook-id and enqueue, atomically
        outcome = queue_notification(services.queue, shop.id, webhook_id,
                                     payload["order_number"])
    except RedisError:
        return _refuse(503, "unavailable", error="queue unavailable, try again later")
    NOTIFICATIONS.labels(outcome).inc()
    return jsonify(status=outcome), 202
