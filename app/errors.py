"""The connector's exception hierarchy.

Two questions decide what happens with a failure, and the classes answer them:
- retry or not? ``UpstreamUnavailableError`` (timeouts, 5xx, connection errors, rate
  limits) is retried with backoff; everything else is recorded as failed and waits for a
  person.
- what does the shop owner read? ``explanation`` is the Dutch text shown in the
  interface: what went wrong and what to do about it. ``str(err)`` stays technical.
- whose failure is it? The order's (a person must act) or the system's (it heals by
  itself once the system is back): ``app.booking.healing.failure_cause``.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class. ``explanation`` is for the shop owner (Dutch), ``str()`` for logs."""

    def __init__(self, message: str, *, explanation: str = "") -> None:
        super().__init__(message)
        self.explanation = explanation or message


class ConfigError(ConnectorError):
    """The process's environment is incomplete or invalid."""


class WorkTooLargeError(ConnectorError):
    """Work asked for inside a web request does not fit in the page's budget
    (app/budget.py); the page says what to choose instead."""

    def __init__(self, message: str, *, seconds: float, items: int) -> None:
        super().__init__(
            message,
            explanation=f"Dit is te veel om op de pagina uit te rekenen (meer dan {items:,} "
            f"bestellingen of {seconds:.0f} seconden werk).".replace(",", "."),
        )
        self.seconds, self.items = seconds, items


class OrderDataError(ConnectorError):
    """The order JSON from Mijnwebwinkel does not have the shape we can read."""


class MappingError(ConnectorError):
    """The order cannot be turned into mutations with the shop's settings.

    The message is Dutch and says what to configure; nothing is ever guessed.
    """


class UpstreamError(ConnectorError):
    """An external system (Mijnwebwinkel or e-Boekhouden) refused or failed a call."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        system: str,
        operation: str = "",
        code: str = "",
        explanation: str = "",
    ) -> None:
        super().__init__(message, explanation=explanation)
        self.system = system
        self.operation = operation
        self.code = code


class UpstreamUnavailableError(UpstreamError):
    """Transient: try again later (timeouts, connection errors, HTTP 5xx, server faults)."""

    retryable = True


class RateLimitedError(UpstreamUnavailableError):
    """HTTP 429. ``retry_after`` is the server's hint in seconds, if it sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: str) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class AdministrationBusyError(RateLimitedError):
    """No free call slot for the e-Boekhouden administration (EBOEKHOUDEN_MAX_CONCURRENT,
    app/limits.py): nothing was sent; the job waits ``retry_after`` like after a 429."""


class SessionExpiredError(UpstreamUnavailableError):
    """The e-Boekhouden session is no longer valid; the client reopens it once."""


class UpstreamRejectedError(UpstreamError):
    """Permanent: the request itself is wrong; retrying the same call cannot help."""


class ShopAuthError(UpstreamRejectedError):
    """Mijnwebwinkel answered 401/403: the token is wrong or revoked."""


class OrderNotFoundError(UpstreamRejectedError):
    """Mijnwebwinkel answered 404 for an order number."""


class BookkeepingAuthError(UpstreamRejectedError):
    """e-Boekhouden refused the username or security codes."""


class DuplicateInvoiceError(UpstreamRejectedError):
    """e-Boekhouden already has a mutation with this Factuurnummer."""


class ForeignInvoiceError(UpstreamRejectedError):
    """e-Boekhouden has a mutation with our Factuurnummer that is not this order's booking
    (another shop's order, a hand-made invoice): never adopted, the booking fails."""


class RelationExistsError(UpstreamRejectedError):
    """AddRelatie: the relation code is already in use (often: another worker just
    created the same customer)."""


class UnknownRelationError(UpstreamRejectedError):
    """AddMutatie: the RelatieCode does not exist (e.g. deleted by hand since we cached it)."""
