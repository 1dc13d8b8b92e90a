"""e-Boekhouden.nl SOAP simulator: ``EBoekhoudenSimulator`` is a WSGI app.

Modules: ``app`` (WSGI, faults, control endpoints), ``operations`` (one handler per SOAP
operation), ``state`` (administrations, business rules, error codes), ``soap`` (WSDL,
schema validation, envelopes).
"""

from sandbox.eboekhouden.app import CONTROL_PREFIX, SOAP_PATH, EBoekhoudenSimulator

__all__ = ["CONTROL_PREFIX", "SOAP_PATH", "EBoekhoudenSimulator"]
