"""e-Boekhouden.nl's REST API, the second bookkeeping adapter: ``client`` (the
``BookkeepingApi`` methods), ``ids`` (ledger/relation id caches), ``sessions`` (session token),
``http`` (one call: retries, status and error mapping), ``errors`` (REST error codes → the
connector's error types), ``wire`` (JSON shapes, VAT codes, mutation types)."""

from app.clients.eboekhouden_rest.client import DEFAULT_URL, EBoekhoudenRestClient
from app.clients.eboekhouden_rest.ids import IdCache, MemoryIds, clear_caches
from app.clients.eboekhouden_rest.sessions import SessionStore

__all__ = [
    "DEFAULT_URL",
    "EBoekhoudenRestClient",
    "IdCache",
    "MemoryIds",
    "SessionStore",
    "clear_caches",
]
