"""The RQ dashboard under /admin/rq: administrators only, and hardened around it.

rq-dashboard is third-party code; everything here wraps it without changing it:

- only administrators reach it (anyone else gets 404, like a page that is not there);
- its JavaScript posts without our CSRF token, so instead of the token every request that
  is not a GET must come from our own pages (Origin, else Referer, names this host), and
  the one GET that changes state (``/requeue/<queue>``) is refused;
- its pages write job data into the page with innerHTML, and job results, descriptions and
  exception texts can hold text from outside (an order line, an e-Boekhouden fault). Every
  string in its JSON answers is HTML-escaped, so the dashboard shows markup as text;
- its CSP has no 'unsafe-inline': its own inline script and style attributes are allowed
  by their hashes, computed from each page as it is sent (injected markup has neither);
- and no 'unsafe-eval': its templates are compiled as the page is sent
  (app/web/dashboard_templates.py) instead of with ``new Function`` in the browser.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html import escape
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, request
from rq.serializers import JSONSerializer
from werkzeug.exceptions import NotFound

from app.services import Services
from app.web.common import html_error, require_admin
from app.web.dashboard_templates import with_precompiled_templates

BLUEPRINT = "rq_dashboard"
STATE_CHANGING_GETS = frozenset({"rq_dashboard.requeue_all"})
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*text/template)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE
)
STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"', re.IGNORECASE)


def init_app(app: Flask, services: Services | None) -> None:
    from rq_dashboard import web as rq_dashboard

    rq_dashboard.config.serializer = JSONSerializer  # our jobs are JSON, not pickle
    app.config["RQ_DASHBOARD_REDIS_URL"] = app.extensions["settings"].redis_url
    rq_dashboard.setup_rq_connection(app)
    if services is not None:  # tests inject their own Redis
        app.redis_conn = services.redis  # type: ignore[attr-defined]
    app.register_blueprint(rq_dashboard.blueprint, url_prefix="/admin/rq")
    from app.web import csrf

    csrf.exempt(rq_dashboard.blueprint)  # replaced by the same-origin check below
    app.before_request(_guard)
    app.after_request(_harden)


def _guard() -> Any:
    if request.blueprint != BLUEPRINT:
        return None
    try:
        require_admin()
    except NotFound as err:  # the same page as any other page that is not there
        return html_error(err)
    if request.method in ("GET", "HEAD"):
        if request.endpoint in STATE_CHANGING_GETS:
            abort(405)
        return None
    if not _same_origin():
        abort(403, "Verzoek van een andere site geweigerd.")
    return None


def _same_origin() -> bool:
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return bool(source) and urlsplit(source).netloc == request.host


def _harden(response: Response) -> Response:
    if request.blueprint != BLUEPRINT:
        return response
    if response.mimetype == "application/json" and not response.direct_passthrough:
        data = json.loads(response.get_data(as_text=True))
        response.set_data(json.dumps(as_text(data)))
    elif response.mimetype == "text/html" and not response.direct_passthrough:
        html = with_precompiled_templates(response.get_data(as_text=True))
        response.set_data(html)
        response.headers["Content-Security-Policy"] = _csp(html)
    return response


def as_text(value: Any) -> Any:
    """Every string in ``value`` HTML-escaped: markup arrives in the page as text."""
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, list):
        return [as_text(item) for item in value]
    if isinstance(value, dict):
        return {key: as_text(item) for key, item in value.items()}
    return value


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def _csp(html: str) -> str:
    scripts = sorted({_digest(body) for body in INLINE_SCRIPT.findall(html)})
    styles = sorted({_digest(value) for value in STYLE_ATTRIBUTE.findall(html)})
    style_src = " ".join(["'self'", *(["'unsafe-hashes'", *styles] if styles else [])])
    # No 'unsafe-eval': its underscore.js templates arrive precompiled
    # (app/web/dashboard_templates.py), so nothing on the page builds code from text.
    return (
        f"default-src 'self'; script-src 'self' {' '.join(scripts)}; "
        f"style-src {style_src}; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ).replace("  ", " ")
