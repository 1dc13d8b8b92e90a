"""e-Boekhouden.nl's SOAP API: ``client`` (sessions, calls, retries), ``transport`` (the
WSDL, the HTTP session, one SOAP call and its failures), ``wire`` (core types ↔ zeep's
dicts) and ``errors`` (its error codes → the connector's error types). The WSDL is package
data beside them."""

from app.clients.eboekhouden.client import EBoekhoudenClient, SessionStore
from app.clients.eboekhouden.transport import WSDL_PATH, preload_wsdl

__all__ = ["WSDL_PATH", "EBoekhoudenClient", "SessionStore", "preload_wsdl"]
