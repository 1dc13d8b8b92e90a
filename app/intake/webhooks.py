"""POST /webhooks/mijnwebwinkel/<shop key>: verify → validate → enqueue → 202.

Never calls Mijnwebwinkel or e-Boekhouden. Every refusal writes nothing but a counter.

The one hot path of the web process, so it is a plain WSGI app in front of Flask
(``mount``) rather than a Flask view: it uses none of what the pages need (sessions, CSRF,
login, templates, security headers for browsers) and Flask's request machinery for those
cost more than the endpoint's own work (docs/benchmarks.md §1). Every other path goes on
to Flask unchanged.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from marshmallow import ValidationError
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_input_stream

from app.config import MAX_WEBHOOK_ID
from app.errors import ConfigError
from app.intake import notifications
from app.jobs.queue import queue_notification
from app.metrics import NOTIFICATIONS
from app.polling import PollSchedule
from app.services import Services

log = logging.getLogger(__name__)

PREFIX = "/webhooks/mijnwebwinkel/"
MAX_BODY = 64 * 1024
_SCHEMA = notifications.NotificationSchema()  # built once: building one costs more than a load
HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")

Answer = tuple[int, str, dict[str, Any]]  # status, counter outcome, JSON body
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def mount(app: Flask) -> None:
    """Serve the webhook path before Flask sees the request."""
    app.wsgi_app = WebhookIntake(app, app.wsgi_app)  # type: ignore[method-assign]


class WebhookIntake:
    def __init__(self, app: Flask, pages: WSGIApp) -> None:
        self.app, self.pages = app, pages
        self._counters: dict[str, Any] = {}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        shop_key = path[len(PREFIX) :] if path.startswith(PREFIX) else ""
        if not shop_key or "/" in shop_key:
            return self.pages(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            status, outcome, body = 405, "", {"error": "Method Not Allowed"}
        else:
            status, outcome, body = self._answer(environ, shop_key)
        if outcome:
            self._count(outcome)
        data = json.dumps(body, separators=(",", ":")).encode() + b"\n"
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        if status == 405:
            headers.append(("Allow", "POST"))
        if self.app.extensions["settings"].is_production:  # served over HTTPS only
            headers.append(HSTS)
        start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers)
        return [data]

    def _answer(self, environ: dict[str, Any], shop_key: str) -> Answer:
        """What Flask's error handlers did for the pages, for a machine: a backend that
        does not answer is 503 (the sender retries), never a 500."""
        try:
            return self._receive(environ, shop_key)
        except RedisError as err:
            log.warning("Redis unavailable on the webhook: %s", err)
            return 503, "unavailable", {"error": "queue unavailable, try again later"}
        except SQLAlchemyError as err:
            log.warning("database unavailable on the webhook: %s", err)
            return 503, "unavailable", {"error": "database unavailable, try again later"}
        except ConfigError as err:
            log.error("stored secret cannot be decrypted: %s", err)
            return (
                503,
                "unavailable",
                {"error": "stored secret cannot be decrypted, try again later"},
            )
        except Exception:
            log.exception("webhook failed")
            return 500, "error", {"error": "internal error"}

    def _receive(self, environ: dict[str, Any], shop_key: str) -> Answer:
        services: Services = self.app.extensions["services"]
        shop = services.webhook_shops.get(shop_key)
        if shop is None or not shop.accepts_notifications:
            return 404, "unknown_shop", {"error": "unknown or disabled shop"}
        # One byte over the limit is read, so that a chunked body (no Content-Length: the
        # stream just stops at the limit) that is too large is seen as such, not cut short.
        try:
            raw = get_input_stream(environ, max_content_length=MAX_BODY + 1).read()
        except RequestEntityTooLarge:
            raw = b"x" * (MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            return 413, "too_large", {"error": f"body larger than {MAX_BODY} bytes"}
        if not _is_json(environ.get("CONTENT_TYPE", "")):
            return 415, "not_json", {"error": "Content-Type must be application/json"}
        headers = {
            name: environ.get("HTTP_" + name.upper().replace("-", "_"), "")
            for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        if len(headers["webhook-id"]) > MAX_WEBHOOK_ID:  # it is kept in Redis for 73 hours
            return 400, "bad_webhook_id", {"error": f"webhook-id longer than {MAX_WEBHOOK_ID}"}
        try:
            notifications.verify(raw, headers, shop.webhook_secrets)
        except notifications.SignatureError:
            return 401, "bad_signature", {"error": "missing or invalid signature"}
        try:
            payload = _SCHEMA.load(json.loads(raw))
        except (ValueError, RecursionError, ValidationError) as err:  # deep nesting too
            messages = err.messages if isinstance(err, ValidationError) else {"_": ["invalid JSON"]}
            return 400, "invalid_payload", {"error": "invalid payload", "messages": messages}
        if notifications.is_test_order(payload["order_number"]):
            return 202, "test_order", {"status": "test_order"}  # never booked: nothing kept
        # Dedupe the webhook-id (one round trip), then enqueue and wake the shop's poll
        # schedule (a busy shop: polled at the base interval again) in another.
        schedule = PollSchedule(services.redis, services.settings)
        outcome = queue_notification(
            services.queue,
            shop.id,
            headers["webhook-id"],
            payload["order_number"],
            also=lambda pipe: schedule.wake_in(pipe, shop.id),
        )
        return 202, outcome, {"status": outcome}

    def _count(self, outcome: str) -> None:
        counter = self._counters.get(outcome)
        if counter is None:
            counter = self._counters[outcome] = NOTIFICATIONS.labels(outcome)
        counter.inc()


def _is_json(content_type: str) -> bool:
    """Werkzeug's ``Request.is_json``: application/json or application/*+json."""
    mimetype = content_type.split(";", 1)[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )
