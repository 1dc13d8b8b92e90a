"""The states things go through, named once. StrEnums: stored and compared as text.

Pure (no I/O); the core, the store, the pipeline and the pages all use these.
"""

from __future__ import annotations

from enum import StrEnum


class BookingState(StrEnum):
    """Where one order stands in the bookings register (see app/store/bookings.py)."""

    SKIPPED = "skipped"  # deliberately not booked (test order, status, zero total)
    POSTING = "posting"  # a worker holds a lease and may be posting now
    RETRYING = "retrying"  # a transient error; RQ retries, the reconciler re-enqueues
    BOOKED = "booked"  # e-Boekhouden accepted it; final
    FAILED = "failed"  # a permanent error; waits for a person ("Opnieuw proberen")


class BookingKind(StrEnum):
    ORDER = "order"  # a sale: FactuurVerstuurd (or GeldOntvangen)
    CREDIT = "credit"  # a credit order: the same, negative


class BookingMode(StrEnum):
    """How a shop books its orders ("Manier van boeken" on Instellingen)."""

    INVOICE = "invoice"  # the invoice only; the bookkeeper matches the money
    INVOICE_AND_PAYMENT = "invoice_and_payment"  # the invoice, then each payment as it arrives
    CASH = "cash"  # one GeldOntvangen once the money is in (kasstelsel)

    @classmethod
    def parse(cls, value: object) -> BookingMode | None:
        """The mode a form or stored setting names, or None for anything else."""
        try:
            return cls(str(value).strip())
        except ValueError:
            return None


class SkipCode(StrEnum):
    """Why an order is deliberately not booked (``Skip.code``: stable, for the machines)."""

    TEST_ORDER = "test_order"
    STATUS_NOT_BOOKABLE = "status_not_bookable"
    ZERO_TOTAL = "zero_total"
    BEFORE_START = "before_start"  # placed before the shop's "Boek bestellingen vanaf"


class JobOutcome(StrEnum):
    """What booking one order did (``Outcome.status`` of app/booking/pipeline.py; the job's
    result and ``flask book``'s JSON)."""

    BOOKED = "booked"
    ALREADY_BOOKED = "already_booked"
    SKIPPED = "skipped"
    FAILED = "failed"  # a person must act (the reason says what)
    IN_PROGRESS = "in_progress"  # another worker holds the claim
    NOT_FOUND = "not_found"  # Mijnwebwinkel does not know the order
    WAITING_FOR_PAYMENT = "waiting_for_payment"  # cash mode: nothing before the money is in
    SHOP_INACTIVE = "shop_inactive"  # the shop is off (paused, removed, …): nothing done
    HELD = "held"  # the shop's credentials are refused: booked by itself once they work
    RETRYING = "retrying"  # a transient error: it will be tried again
    DEFERRED = "deferred"  # asked to wait (429, no free call slot): enqueued for after it


class VatPeriod(StrEnum):
    """How often the shop files its Dutch VAT return ("Btw-aangifte per" on Instellingen)."""

    QUARTER = "quarter"  # the usual
    MONTH = "month"
    YEAR = "year"  # small businesses the Belastingdienst allows a yearly return

    @classmethod
    def parse(cls, value: object) -> VatPeriod | None:
        try:
            return cls(str(value).strip())
        except ValueError:
            return None


class EbApi(StrEnum):
    """Which e-Boekhouden adapter a shop books through."""

    REST = "rest"  # an API token (recommended)
    SOAP = "soap"  # a username and two security codes


class ShopStatus(StrEnum):
    DRAFT = "draft"  # registered, not yet installed ("Stap 2 van 2")
    ACTIVE = "active"  # books orders
    DISABLED = "disabled"  # switched off by hand
    # Mijnwebwinkel or e-Boekhouden refused the credentials (``shops.status_system`` says
    # which): nothing is posted; orders are held as failed for a system reason and
    # booked by themselves once the credentials work again (app/booking/healing.py).
    AUTH_FAILED = "auth_failed"
    PAUSED = "paused"  # paused by hand: notifications accepted, nothing booked
    REMOVED = "removed"  # removed by hand: secrets erased, the register kept (read-only)

    @property
    def books_orders(self) -> bool:
        """Jobs run and passes run (an auth failure may be brief: the passes re-test)."""
        return self in (ShopStatus.ACTIVE, ShopStatus.AUTH_FAILED)

    @property
    def accepts_notifications(self) -> bool:
        """The webhook answers 202: booking shops, and paused ones (their orders are
        found by the first pass after resuming)."""
        return self.books_orders or self == ShopStatus.PAUSED

    @property
    def can_pause(self) -> bool:
        return self.books_orders


class FailureCause(StrEnum):
    """Whose a failed booking is (``bookings.failure_cause``): the order's (its data or the
    mapping: a person must act) or the system's (credentials refused, an upstream down,
    rate limited, timed out: booked again by itself once the system is back)."""

    ORDER = "order"
    SYSTEM = "system"


class ShopRole(StrEnum):
    """What a person may do with one shop (``shop_owners.role``); administrators may do
    everything with every shop."""

    OWNER = "owner"  # everything: settings, credentials, webhook secret, people
    VIEWER = "viewer"  # "meekijker": overview, bookings, preview, Controle, downloads

    @classmethod
    def parse(cls, value: object) -> ShopRole | None:
        try:
            return cls(str(value).strip())
        except ValueError:
            return None


class RunMode(StrEnum):
    POLL = "poll"  # the fast poll (every few minutes)
    HOURLY = "hourly"  # the hourly pass with a 24 h look-back
    BACKFILL = "backfill"  # by order date, from a date a person chose
    MANUAL = "manual"  # `flask reconcile` on a shop that has a watermark


class RunOutcome(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    DRY_RUN = "dry_run"
    LOCKED = "locked"  # another pass of this shop holds the lock; nothing was done


class Role(StrEnum):
    OWNER = "owner"  # sees only the shops linked to the account (ShopRole per shop)
    ADMIN = "admin"  # the operator: every shop and the RQ dashboard


class PaymentState(StrEnum):
    """One payment (capture or refund) of one order (see app/store/payments.py)."""

    HELD = "held"  # cannot be placed (method without a ledger, no credit order): a person acts
    NOT_BOOKED = "not_booked"  # its method is set to "niet boeken": open in the books
    # Left to the bookkeeper: money of an invoice booked without payments (mode "invoice")
    # that arrived before the date the shop chose when it switched to a payment mode.
    MANUAL = "manual"
    PENDING = "pending"  # to be posted; nobody holds it
    POSTING = "posting"  # a worker holds a lease and may be posting now
    RETRYING = "retrying"  # a transient error; the next attempt looks it up first
    BOOKED = "booked"  # e-Boekhouden accepted it; final
    FAILED = "failed"  # e-Boekhouden refused it; waits for a person


class OrderPayment(StrEnum):
    """Where an order's money stands (``bookings.payment_state``); NULL: not tracked
    (mode "invoice", or nothing booked)."""

    OPEN = "open"  # wacht op betaling: not all money received (or refunded) yet
    HELD = "held"  # money arrived but a payment is held back or failed
    # Every payment placed, but a part deliberately not booked (its method on "niet
    # boeken"): that part stays open on the debtors ledger, for the bookkeeper.
    NOT_BOOKED = "not_booked"
    SETTLED = "settled"  # every part of the invoice has a booked payment


class OpenItemKind(StrEnum):
    """Why an order's money shows as open (app/store/open_items.py: the overview, the
    digest and the Controle report)."""

    HELD = "held"  # a payment or refund held back or refused: a person acts
    NOT_BOOKED = "not_booked"  # a part deliberately not booked ("niet boeken"): open in the books
    LAPSED = "lapsed"  # unpaid at the end of the shop's payment lookback: no longer looked for
    OVERDUE = "overdue"  # unpaid past its payment term, still looked for
