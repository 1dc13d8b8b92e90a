"""e-Boekhouden.nl REST simulator: ``EBoekhoudenRestSimulator`` is a WSGI app.

Modules: ``app`` (WSGI, faults, control endpoints), ``routes`` (one handler per endpoint),
``state`` (administrations, business rules, VAT), ``schemas`` (request JSON schemas and
their validator).
"""

from sandbox.eboekhouden_rest.app import CONTROL_PREFIX, EBoekhoudenRestSimulator, token_id

__all__ = ["CONTROL_PREFIX", "EBoekhoudenRestSimulator", "token_id"]
