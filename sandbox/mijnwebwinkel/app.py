"""The simulator's WSGI app: the API, fault injection and the /_sandbox control API."""

from __future__ import annotations

import copy
import datetime as dt
import hmac
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox.faults import Fault, Faults, drop_connection
from sandbox.mijnwebwinkel.payments import GATEWAYS
from sandbox.mijnwebwinkel.shops import (
    ORDER_STATUSES,
    BadRequest,
    Filters,
    Shop,
    bool_arg,
    int_arg,
    is_test_order,
    live_shape,
    number_key,
)
from sandbox.ratelimit import RateLimit

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
# The spec's language-query enum.
LANGUAGES = frozenset(
    {"nl_NL", "en_GB", "de_DE", "fr_FR", "es_ES", "en_US", "pt_PT", "it_IT", "da_DK"}
    | {"sv_SE", "no_NO", "tr_TR", "pl_PL"}
)


class MijnwebwinkelSimulator:
    """The simulated API. A WSGI app itself (``ServerThread(sim)``); also ``sim.app``.

    ``clock`` returns the current time (aware, or naive shop-local); it stamps status
    changes. ``calls`` records every API request as ``(operation, args)``, token values
    replaced by ``"***"``.
    """

    def __init__(
        self,
        faults: Faults | None = None,
        quirks: bool = False,
        partner_token: str = "",
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        rate_limit: float | None = None,
    ) -> None:
        self.faults = faults if faults is not None else Faults()
        self.quirks = quirks
        self.partner_token = partner_token
        self.clock = clock
        self.lock = threading.RLock()
        self.shops: dict[str, Shop] = {}
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.rate_limit = RateLimit(rate_limit)  # requests/second per shop token (None: off)
        self.app = self._build_app()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)

    def __repr__(self) -> str:
        return f"MijnwebwinkelSimulator(shops={len(self.shops)}, quirks={self.quirks})"

    # -- control API (Python) ---------------------------------------------------------

    def add_shop(self, token: str, name: str = "Testwinkel") -> Shop:
        with self.lock:
            shop = self.shops[token] = Shop(token, name, lock=self.lock, clock=self.clock)
            return shop

    def shop(self, token: str) -> Shop:
        return self.shops[token]

    def revoke(self, token: str) -> None:
        """The merchant deleted the token: every call with it now answers 401."""
        self.shops[token].revoked = True

    # -- the API ----------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.json.sort_keys = False  # type: ignore[attr-defined]
        app.json.ensure_ascii = False  # type: ignore[attr-defined]

        @app.errorhandler(HTTPException)
        def http_error(err: HTTPException) -> Response:
            return _error(err.code or 500, err.name, err.description or "")

        def route(rule: str, operation: str, partner_only: bool = False) -> Any:
            def register(view: Callable[..., Any]) -> Callable[..., Any]:
                def endpoint(version: str, **kwargs: Any) -> Any:
                    return self._handle(
                        operation,
                        version,
                        partner_only,
                        lambda shop: view(shop, **kwargs),
                    )

                app.add_url_rule(f"/v<version>{rule}", operation, endpoint, methods=["GET"])
                return view

            return register

        @route("/orders", "list_orders")
        def list_orders(shop: Shop) -> Any:
            filters = Filters(request.args)
            limit = min(int_arg(request.args, "limit", DEFAULT_LIMIT) or 0, MAX_LIMIT)
            offset = int_arg(request.args, "offset", 0) or 0
            ordering = request.args.get("ordering", "asc")
            if limit < 1 or offset < 0 or ordering not in ("asc", "desc"):
                raise BadRequest("limit must be 1..100, offset >= 0, ordering asc|desc")
            with self.lock:
                orders = [o for o in shop.orders.values() if filters.match(o)]
                orders.sort(key=lambda o: number_key(o["number"]), reverse=ordering == "desc")
                return [self._render(o) for o in orders[offset : offset + limit]]

        @route("/orders/count", "count_orders")
        def count_orders(shop: Shop) -> Any:
            filters = Filters(request.args)
            with self.lock:
                return {"count": sum(1 for o in shop.orders.values() if filters.match(o))}

        @route("/orders/<number>", "get_order")
        def get_order(shop: Shop, number: str) -> Any:
            with self.lock:
                order = shop.orders.get(number)
                if order is None or (is_test_order(order) and not bool_arg(request.args, "test")):
                    return _error(404, "Not Found", f"Order {number} not found")
                return self._render(order)

        @route("/orders/<number>/payments", "order_payments")
        def order_payments(shop: Shop, number: str) -> Any:
            with self.lock:
                order = shop.orders.get(number)
                if order is None or is_test_order(order):
                    return _error(404, "Not Found", f"Order {number} not found")
                listing = shop.payments.listing(order)
            embed = {e.strip() for e in request.args.get("embed", "").split(",")}
            if "mutations" not in embed:
                for payment in listing:
                    payment.pop("mutations", None)
            return {"payments": listing}

        @route("/payment/stores/<store>/gateways", "payment_methods")
        def payment_methods(shop: Shop, store: str) -> Any:
            if store not in ("me", shop.id):
                return _error(404, "Not Found", f"Store {store} not found")
            with self.lock:
                seen = {
                    str((o.get("payment") or {}).get("method_name") or "")
                    for o in shop.orders.values()
                } - {""}
            gateways: dict[str, list[dict[str, Any]]] = {}
            for method in sorted(seen):
                gateways.setdefault(GATEWAYS.get(method, "mollie"), []).append(
                    {"name": method, "displayName": method, "settings": {}}
                )
            return {
                "gateways": [
                    {"name": name, "displayName": name, "websiteUrl": "", "methods": methods}
                    for name, methods in gateways.items()
                ]
            }

        @route("/orderstatuses", "order_statuses", partner_only=True)
        def order_statuses(shop: None) -> Any:
            dutch = request.args.get("language", "nl_NL") == "nl_NL"
            return [
                {
                    "status": status,
                    "description": nl if dutch else en,
                    "credit_order": credit,
                }
                for status, nl, en, credit in ORDER_STATUSES
            ]

        @route("/store", "store")
        def store(shop: Shop) -> Any:
            slug = re.sub(r"[^a-z0-9]+", "-", shop.name.lower()).strip("-") or "winkel"
            return {
                "id": shop.id,
                "name": shop.name,
                "primary_domain": f"https://{slug}.mijnwebwinkel.nl",
                "open": True,
                "version": "Premium",
                "administration_language": "nl_NL",
                "currency": "EUR",
                "prices_include_tax": True,
                "default_language": "nl_NL",
                "active_languages": ["nl_NL"],
                "currency_format_locale": "nl_NL",
                "available_business_models": "ALL",
                "region_code": "NL",
            }

        self._control_routes(app)
        return app

    def _render(self, order: dict[str, Any]) -> dict[str, Any]:
        return live_shape(order) if self.quirks else copy.deepcopy(order)

    def _handle(
        self,
        operation: str,
        version: str,
        partner_only: bool,
        view: Callable[[Any], Any],
    ) -> Any:
        args = {
            k: ("***" if k in ("token", "partner_token") else v) for k, v in request.args.items()
        }
        with self.lock:
            self.calls.append((operation, args))
        # The limit is per partner + store (NOTES §3.2): keyed by the shop token, or the
        # partner token on partner-only endpoints. Over it: 429 + Retry-After, nothing done.
        wait = self.rate_limit.admit(request.args.get("token") or "partner")
        if wait is not None:
            response = _error(429, "Too Many Requests", "rate limit exceeded")
            response.headers["Retry-After"] = str(wait)
            return response
        if self.faults.latency:
            time.sleep(self.faults.latency)
        fault = self.faults.take(operation)
        if fault is not None:
            answer = self._apply_fault(fault)
            if answer is not None:
                return answer
        if version not in ("1", "2-beta"):
            return _error(404, "Not Found", f"unknown API version {version}")
        shop = self._authenticate(partner_only)
        if isinstance(shop, Response):
            return shop
        if request.args.get("format", "json") != "json":
            return _error(400, "Bad Request", "the simulator only answers format=json")
        if request.args.get("language", "nl_NL") not in LANGUAGES:
            return _error(400, "Bad Request", "unknown language")
        try:
            body = view(shop)
        except BadRequest as err:
            return _error(400, "Bad Request", str(err))
        return body if isinstance(body, Response) else jsonify(body)

    def _apply_fault(self, fault: Fault) -> Response | None:
        params = fault.params
        if fault.kind == "latency":
            time.sleep(float(params.get("seconds", 0.1)))
            return None
        if fault.kind == "timeout":  # the client gives up first; answer normally after
            time.sleep(float(params.get("seconds", 30)))
            return None
        if fault.kind in ("drop", "commit_then_drop"):  # GETs: nothing to commit
            drop_connection(request.environ)
            return Response(b"", 500)
        if fault.kind == "auth":
            return _error(401, "Unauthorized", "Invalid token")
        status = int(params.get("status", 500)) if fault.kind == "http_status" else 500
        response = _error(
            status,
            "Too Many Requests" if status == 429 else "Server Error",
            "simulated fault",
        )
        if status == 429 and params.get("retry_after") is not None:
            response.headers["Retry-After"] = str(params["retry_after"])
        return response

    def _authenticate(self, partner_only: bool) -> Shop | Response | None:
        """The shop of ``token`` (None on partner-only endpoints), or a 401 answer."""
        if self.partner_token and not hmac.compare_digest(
            request.args.get("partner_token", "").encode(), self.partner_token.encode()
        ):
            return _error(401, "Unauthorized", "Invalid or missing partner token")
        if partner_only:
            return None
        token = request.args.get("token", "")
        with self.lock:
            shop = self.shops.get(token) if token else None
        if shop is None or shop.revoked:
            return _error(401, "Unauthorized", "Invalid or missing token")
        return shop

    # -- control API (HTTP, for other processes) --------------------------------------

    def _control_routes(self, app: Flask) -> None:
        def shop_or_404(token: str) -> Shop:
            shop = self.shops.get(token)
            if shop is None:
                raise _NotFound("no shop with this token")
            return shop

        @app.errorhandler(_NotFound)
        def not_found(err: _NotFound) -> Response:
            return _error(404, "Not Found", str(err))

        @app.post("/_sandbox/rate_limit")
        def set_rate_limit() -> Any:
            """``{"per_second": n}`` (null: no limit): 429 + Retry-After beyond it."""
            self.rate_limit.per_second = (request.get_json(force=True) or {}).get("per_second")
            return jsonify({"per_second": self.rate_limit.per_second})

        @app.post("/_sandbox/shops")
        def add_shop() -> Any:
            body = request.get_json(force=True)
            shop = self.add_shop(str(body["token"]), name=body.get("name", "Testwinkel"))
            return jsonify({"name": shop.name, "id": shop.id}), 201

        @app.post("/_sandbox/shops/<token>/orders")
        def add_orders(token: str) -> Any:
            shop, body = shop_or_404(token), request.get_json(force=True) or {}
            added = [shop.add_order(order) for order in body.get("orders", [])]
            if body.get("count"):
                start = dt.datetime.fromisoformat(body["start"]) if body.get("start") else None
                added += shop.generate(
                    int(body["count"]), body.get("seed", 0), body.get("kinds"), start
                )
            return jsonify({"numbers": [order["number"] for order in added]}), 201

        @app.get("/_sandbox/shops/<token>/orders")
        def list_shop_orders(token: str) -> Any:
            shop = shop_or_404(token)
            with self.lock:
                return jsonify(sorted(shop.orders.values(), key=lambda o: number_key(o["number"])))

        @app.post("/_sandbox/shops/<token>/orders/<number>/status")
        def set_status(token: str, number: str) -> Any:
            shop, body = shop_or_404(token), request.get_json(force=True)
            if number not in shop.orders:
                raise _NotFound(f"no order {number}")
            at = dt.datetime.fromisoformat(body["at"]) if body.get("at") else None
            return jsonify(shop.set_status(number, int(body["status"]), at))

        @app.post("/_sandbox/shops/<token>/orders/<number>/payments")
        def pay(token: str, number: str) -> Any:
            """``{action: capture|refund|fail|authorize, amount (minor units), at, method}``;
            ``{payments: [...]}`` replaces the listing."""
            shop, body = shop_or_404(token), request.get_json(force=True) or {}
            if number not in shop.orders:
                raise _NotFound(f"no order {number}")
            if "payments" in body:
                with self.lock:
                    shop.payments.set(number, body["payments"])
                return jsonify({"payments": body["payments"]})
            at = dt.datetime.fromisoformat(body["at"]) if body.get("at") else None
            amount = int(body["amount"]) if body.get("amount") is not None else None
            return jsonify(
                shop.pay(
                    number, str(body["action"]), at=at, amount=amount, method=body.get("method")
                )
            )

        @app.post("/_sandbox/shops/<token>/revoke")
        def revoke(token: str) -> Any:
            shop_or_404(token).revoked = True
            return jsonify({"revoked": True})

        @app.post("/_sandbox/faults")
        def faults() -> Any:
            self.faults.configure(request.get_json(force=True) or {})
            return jsonify(self.faults.snapshot())

        @app.get("/_sandbox/faults")
        def faults_snapshot() -> Any:
            return jsonify(self.faults.snapshot())


class _NotFound(Exception):
    pass


def _error(status: int, message: str, description: str) -> Response:
    """The spec's ``Error`` schema; the real bodies are undocumented (NOTES.md §3.3)."""
    response = jsonify({"code": status, "message": message, "description": description})
    response.status_code = status
    return response
