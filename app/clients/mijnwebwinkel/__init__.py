"""Mijnwebwinkel's Connect API (requests): ``client`` is the adapter behind ``ShopApi``;
``transport`` (shared session, one GET, backoff, redaction), ``wire`` (response shapes,
parameter texts) and ``errors`` (HTTP answers → the connector's error types) serve it.
``install_log_filter`` is called once per process (``app.logs.install_redaction``)."""

from app.clients.mijnwebwinkel.client import MijnwebwinkelClient
from app.clients.mijnwebwinkel.transport import install_log_filter, redact_url, shared_session

__all__ = ["MijnwebwinkelClient", "install_log_filter", "redact_url", "shared_session"]
