"""The e-Boekhouden simulator; it lives in the ``sandbox.eboekhouden`` package."""

from sandbox.eboekhouden import CONTROL_PREFIX, SOAP_PATH, EBoekhoudenSimulator

__all__ = ["CONTROL_PREFIX", "SOAP_PATH", "EBoekhoudenSimulator"]
