"""The intake baseline: a bare Flask view that answers 202, nothing else.

Served by the same gunicorn command and config as the real app
(``gunicorn 'bench.bare_app:create_app()' --config python:app.gunicorn_conf``).
"""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/webhooks/mijnwebwinkel/<shop_key>")
    def receive(shop_key: str) -> tuple[str, int]:
        return "", 202

    return app
