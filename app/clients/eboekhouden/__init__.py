"""e-Boekhouden.nl's SOAP API: ``client`` (zeep, sessions, calls) and ``errors`` (its
error codes → the connector's error types). The WSDL is package data beside them."""

from app.clients.eboekhouden.client import (
    WSDL_PATH,
    EBoekhoudenClient,
    SessionStore,
    preload_wsdl,
)

__all__ = ["WSDL_PATH", "EBoekhoudenClient", "SessionStore", "preload_wsdl"]
