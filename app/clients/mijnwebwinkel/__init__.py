"""Mijnwebwinkel's Connect API (requests): ``client`` is the adapter behind ``ShopApi``."""

from app.clients.mijnwebwinkel.client import MijnwebwinkelClient, redact_url, shared_session

__all__ = ["MijnwebwinkelClient", "redact_url", "shared_session"]
