"""Tables (SQLAlchemy Core); the engine, transactions and time helpers are in engine.py.
The queries live beside this module, one module per aggregate (shops, bookings, payments,
runs, users, …).

The same schema runs on SQLite (the embedded default) and PostgreSQL. Alembic migrations
in ``migrations/`` create it; ``metadata`` here is their target and must stay in step.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from app.store.engine import utcnow

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


shops = Table(
    "shops",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    # Random, URL-safe; the webhook URL is /webhooks/mijnwebwinkel/<webhook_key>.
    Column("webhook_key", String(64), nullable=False, unique=True),
    # draft → active (after "Installeer de koppeling"); disabled by hand; auth_failed when
    # Mijnwebwinkel refuses the token (reconciler) — a person must act.
    Column("status", String(20), nullable=False, default="draft"),
    Column("credentials", Text, nullable=False),  # Fernet token of a JSON object
    Column("webhook_secret", Text, nullable=False),  # Fernet token of "whsec_…"
    # Earlier secrets still inside their grace period: [{"secret": Fernet token,
    # "until": ISO 8601 UTC}], newest first (app/store/shops.py).
    Column("retired_webhook_secrets", JSON, nullable=True),
    Column("mapping", JSON, nullable=False, default=dict),
    Column("watermark", DateTime(timezone=True), nullable=True),  # last good pass end (UTC)
    Column("status_error", Text, nullable=True),
    # auth_failed: which system refused the credentials (mijnwebwinkel | eboekhouden).
    Column("status_system", String(20), nullable=True),
    # "Boek bestellingen vanaf" (UTC): orders placed before it are booked only on request
    # (Inhalen, `reconcile --since`); NULL: no start date (shops from before issue 29).
    Column("book_from", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("order_number", String(50), nullable=False),
    Column("order_uuid", String(64), nullable=True),
    Column("kind", String(10), nullable=False, default="order"),  # order | credit
    # app.states.BookingState (see app/store/bookings.py)
    Column("state", String(10), nullable=False),
    Column("mutation_number", BigInteger, nullable=True),
    Column("payment_mutation_number", BigInteger, nullable=True),
    Column("relation_code", String(15), nullable=True),
    # The Factuurnummer this order is (being) booked with: fixed at the first claim, so a
    # changed invoice-number format applies to new bookings only; every look-up uses it.
    Column("invoice_number", String(50), nullable=True),
    # Dutch notes for a person on a booked order (e.g. a relation that kept another VAT
    # number than this order carries); one per line.
    Column("warnings", Text, nullable=True),
    Column("order_date", DateTime(timezone=False), nullable=True),
    Column("total", Numeric(14, 2), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error_code", String(64), nullable=True),
    Column("last_error", Text, nullable=True),  # technical text (e-Boekhouden's own)
    Column("reason", Text, nullable=True),  # Dutch: what happened and what to do
    # A failed row's app.states.FailureCause: order (a person acts) or system (heals).
    Column("failure_cause", String(10), nullable=True),
    # A claim is a lease: the worker holding claim_token may post until claimed_until.
    Column("claim_token", String(36), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    # True when a post may have reached e-Boekhouden without us seeing the answer.
    Column("uncertain", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow),
    Column("booked_at", DateTime(timezone=True), nullable=True),
    # app.states.OrderPayment: where the order's money stands (migration 0003).
    Column("payment_state", String(10), nullable=True),
    # The order's VAT facts (app.core.destination.vat_facts; migration i24): where the goods
    # go (a member state, "XI", or outside the EU VAT area), an ICP buyer's VAT number, and
    # an OSS sale's amounts per member state and rate (app.core.oss.OssAmount, as JSON).
    Column("destination", String(2), nullable=True),
    Column("buyer_vat_number", String(50), nullable=True),
    Column("oss_amounts", JSON, nullable=True),
    # app.states.BookingMode the order was (last) claimed in: an invoice booked without
    # payments gets none after a switch, a cash booking never (migration i23).
    Column("booking_mode", String(20), nullable=True),
    # The customer as the invoice names them (company, else name), for the booking page.
    Column("customer", String(200), nullable=True),
    UniqueConstraint("shop_id", "order_number", name="uq_bookings_shop_order_number"),
    UniqueConstraint("shop_id", "order_uuid", name="uq_bookings_shop_order_uuid"),
    Index("ix_bookings_shop_state", "shop_id", "state"),
)

# One row per money movement (capture or refund) of an order, its own claim: the invoice
# and each payment are booked exactly once, separately (app/store/payments.py).
payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("order_number", String(50), nullable=False),
    Column("payment_key", String(100), nullable=False),
    Column("kind", String(10), nullable=False),  # capture | refund
    Column("method", String(50), nullable=False, default=""),
    Column("payment_date", Date, nullable=False),
    Column("amount", Numeric(14, 2), nullable=False),  # signed: refunds negative
    Column("ledger", String(10), nullable=True),
    Column("state", String(10), nullable=False),  # app.states.PaymentState
    Column("mutation_number", BigInteger, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error_code", String(64), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("claim_token", String(36), nullable=True),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("uncertain", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow),
    Column("booked_at", DateTime(timezone=True), nullable=True),
    # The sale whose payments listing holds this movement (a refund is booked on one of
    # its credit notes, or held on the sale): one row per movement, so a refund can never
    # be booked on two credit notes (migration i23; NULL: rows from before, refunds).
    Column("sale_number", String(50), nullable=True),
    UniqueConstraint("shop_id", "order_number", "payment_key", name="uq_payments_shop_order_key"),
    UniqueConstraint("shop_id", "sale_number", "payment_key", name="uq_payments_shop_sale_key"),
)

reconcile_runs = Table(
    "reconcile_runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("mode", String(10), nullable=False),  # poll | hourly | backfill | manual
    Column("window_start", DateTime(timezone=True), nullable=True),
    Column("window_end", DateTime(timezone=True), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("duration_ms", Integer, nullable=True),
    Column("outcome", String(10), nullable=False, default="running"),  # ok|failed|dry_run
    Column("seen", Integer, nullable=False, default=0),
    Column("already_booked", Integer, nullable=False, default=0),
    Column("enqueued", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("errors", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Index("ix_reconcile_runs_shop_started", "shop_id", "started_at"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(200), nullable=False, unique=True),
    Column("password_hash", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("role", String(10), nullable=False, default="owner"),  # app.states.Role
    Column("disabled", Boolean, nullable=False, default=False),
    # Raised by logout, a password change and disabling: every older session ends.
    Column("session_version", Integer, nullable=False, default=0),
)

# Who may see which shops, and as what (a user may see several, a shop have several
# people): app.states.ShopRole, owner or viewer ("meekijker").
shop_owners = Table(
    "shop_owners",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("shop_id", Integer, ForeignKey("shops.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(10), nullable=False, default="owner", server_default="owner"),
    Index("ix_shop_owners_shop_id", "shop_id"),
)

# An owner's invitation of a person to one shop: a one-time link that expires. Only a
# digest of the link's token is stored (app/store/invitations.py).
invitations = Table(
    "invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("email", String(200), nullable=False),
    Column("shop_id", Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(10), nullable=False),  # app.states.ShopRole
    Column("invited_by", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True), nullable=True),
    Index("ix_invitations_shop_id", "shop_id"),
)


# What the pipeline booked, row by row, written with mark_booked (issue 17): the period
# report and the booking page read these; no e-Boekhouden call needed.
booked_rows = Table(
    "booked_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("booking_id", Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
    Column("shop_id", Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("mutation_number", BigInteger, nullable=True),
    Column("soort", String(40), nullable=False),  # app.core.mutations.Soort
    Column("date", Date, nullable=False),  # the date the mutation carries
    Column("ledger", String(20), nullable=False),
    Column("btw_code", String(20), nullable=False),
    Column("excl", Numeric(14, 2), nullable=False),
    Column("vat", Numeric(14, 2), nullable=False),
    Column("incl", Numeric(14, 2), nullable=False),
    Column("invoice_number", String(50), nullable=False),
    Column("account", String(20), nullable=True),  # the mutation's Rekening
    # OSS rows: destination country, its VAT rate, and whether the row is that VAT.
    Column("oss_country", String(2), nullable=True),
    Column("oss_rate", Numeric(5, 2), nullable=True),
    Column("oss_vat", Boolean, nullable=False, default=False, server_default=false()),
    Index("ix_booked_rows_shop_date", "shop_id", "date"),
    Index("ix_booked_rows_booking_id", "booking_id"),
)

# Every attempt to book an order, with its outcome (booked | failed | retrying).
booking_attempts = Table(
    "booking_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("booking_id", Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("outcome", String(10), nullable=False),
    Column("error_code", String(64), nullable=True),
    Column("error_text", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Index("ix_booking_attempts_booking_id", "booking_id"),
    Index("ix_booking_attempts_outcome_at", "outcome", "at"),
)

# Who wants which alert mails: shop_id NULL = every shop.
alert_prefs = Table(
    "alert_prefs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("shop_id", Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=True),
    Column("digest", Boolean, nullable=False, default=False),
    Column("credentials", Boolean, nullable=False, default=False),
    Index("ix_alert_prefs_user_id", "user_id"),
)

# What the alerts already reported, per shop and kind (digest | credentials).
alert_marks = Table(
    "alert_marks",
    metadata,
    Column("shop_id", Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("reported_upto", Integer, nullable=True),  # last booking_attempts.id reported
    PrimaryKeyConstraint("shop_id", "kind", name="pk_alert_marks"),
)

# A difference between the connector and e-Boekhouden that the bookkeeper accepted
# ("akkoord", with a note): kind missing | changed | unknown (app/store/accords.py).
report_accords = Table(
    "report_accords",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shop_id", Integer, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("invoice_number", String(50), nullable=False),
    Column("mutation_number", BigInteger, nullable=False),
    Column("difference", Text, nullable=False),  # what differed when it was accepted
    Column("note", Text, nullable=False),
    Column("by_email", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, default=utcnow),
    UniqueConstraint("shop_id", "kind", "invoice_number", "mutation_number"),
)
