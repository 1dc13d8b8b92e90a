"""A short-lived in-process cache of shops by webhook key, so the webhook endpoint does
not decrypt secrets from SQL on every request. Changes (disable, rotate) show within
``TTL_SECONDS``; rotation keeps the old secret valid far longer than that."""

from __future__ import annotations

import threading
import time

from app import shops
from app.services import Services

TTL_SECONDS = 5.0
_cache: dict[str, tuple[float, shops.Shop | None]] = {}
_lock = threading.Lock()


def shop_for_key(services: Services, webhook_key: str) -> shops.Shop | None:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(webhook_key)
    if hit and now - hit[0] < TTL_SECONDS:
        return hit[1]
    with services.engine.connect() as conn:
        shop = shops.load_by_key(conn, services.vault, webhook_key)
    with _lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[webhook_key] = (now, shop)
    return shop


def clear() -> None:
    with _lock:
        _cache.clear()
