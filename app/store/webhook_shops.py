"""A short-lived in-process cache of shops by webhook key, so the webhook endpoint does
not decrypt secrets from SQL on every request. Changes (disable, rotate) show within
``WEBHOOK_SHOP_CACHE_SECONDS``; rotation keeps the old secret valid far longer than that.
One cache per ``Services`` (so per process); ``forget()`` after a change made here."""

from __future__ import annotations

import threading
import time

from app.config import WEBHOOK_SHOP_CACHE_SECONDS
from app.store.shops import Shop, ShopStore

MAX_ENTRIES = 10_000  # unknown keys are cached too: bound what a scan can fill


class WebhookShopCache:
    def __init__(self, shops: ShopStore, ttl: float = WEBHOOK_SHOP_CACHE_SECONDS) -> None:
        self.shops, self.ttl = shops, ttl
        self._entries: dict[str, tuple[float, Shop | None]] = {}
        self._lock = threading.Lock()

    def get(self, webhook_key: str) -> Shop | None:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(webhook_key)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        shop = self.shops.get_by_webhook_key(webhook_key)
        with self._lock:
            if len(self._entries) > MAX_ENTRIES:
                self._entries.clear()
            self._entries[webhook_key] = (now, shop)
        return shop

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
