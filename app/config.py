"""Settings: read once from the environment into a typed, frozen object.

Every process (web, worker, clock, CLI) calls ``Settings.from_env()`` at start-up. In
production (``APP_ENV=production``) every required variable must be set and a missing one
stops the process with one message listing all that are missing; no secret has a default.
In development, unset databases fall back to embedded defaults (SQLite in ``instance/``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from app.crypto import Vault
from app.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

# --- Timeouts and lifetimes, named once -------------------------------------------------
# Environment-tunable ones are Settings fields below; these are fixed by design.
HOUR = 3600
DAY = 24 * HOUR
BOOKING_JOB_TIMEOUT = 300  # one booking job (a few API calls) may run this long
# RQ keeps a finished job with its result this long (the bookings register and the runs table keep
# the truth). About 6 KiB of Redis each: at 1 000 shops (25 000 bookings and 12 000 poll
# passes an hour) ten minutes is ~35 MiB, an hour was ~215 MiB (docs/benchmarks.md §6).
BOOKING_RESULT_TTL = 10 * 60
BOOKING_FAILURE_TTL = 7 * DAY  # and a failed one, for the dashboard
# Transient failures are retried over about 1.5 hours; after that the row stays
# "retrying" and the hourly pass re-enqueues it, so nothing is ever dropped.
BOOKING_RETRY_INTERVALS = (10, 30, 60, 180, 600, 1800, 3600)
SCHEDULER_GRACE_SECONDS = 60  # a scheduled retry this late has no scheduler left
WAITING_TTL = 30 * 60  # a queued job's waiting mark (app/jobs/queue.py) lives at most this
RECONCILE_JOB_TIMEOUT = 15 * 60  # one reconcile pass job
RECONCILE_RESULT_TTL = 10 * 60
RECONCILE_FAILURE_TTL = DAY
RECONCILE_LOCK_SECONDS = 15 * 60  # a shop's pass lock; expires if its holder dies
CLOCK_TICK_SECONDS = 5.0  # how often the clock looks at its schedule
REDIS_BACKOFF_MAX_SECONDS = 30.0  # clock and worker: wait at most this long between tries
REDIS_SOCKET_TIMEOUT = 5.0  # web, clock, jobs: a Redis that does not answer is down
REDIS_MEMORY_WARN_SHARE = 0.8  # /healthz warns when Redis uses this share of maxmemory
WEBHOOK_ID_TTL = 73 * HOUR  # Standard Webhooks senders retry for up to ~3 days
EBOEKHOUDEN_SESSION_TTL = 20 * 60  # a shared SOAP session id is reused this long
WEBHOOK_SHOP_CACHE_SECONDS = 5.0  # a disabled/rotated shop shows at the webhook this late
WEBHOOK_SECRET_GRACE = DAY  # a rotated webhook secret keeps working this long
MAX_KEPT_WEBHOOK_SECRETS = 3  # earlier webhook secrets kept (each webhook checks them all)
WEBHOOK_ROTATIONS_PER_DAY = 5  # "Nieuw geheim" per shop per day (counted in Redis)
MAX_WEBHOOK_ID = 256  # characters of a webhook-id; a longer one is refused (400)
LOGIN_FAILURE_WINDOW = 15 * 60  # wrong logins are counted per account this long
LOGIN_FREE_FAILURES = 5  # per account; then each try waits 2, 4, 8 … seconds
LOGIN_MAX_DELAY = 60  # never more than this: slow an attacker, not lock out
LOGIN_RATE_WINDOW = 60  # login attempts are counted per client address per this many
LOGIN_RATE_PER_ADDRESS = 10  # seconds; beyond this the answer is 429, without hashing
LOGIN_HASH_CONCURRENCY = 2  # password checks (scrypt) at once per web process; others wait
LOGIN_HASH_WAIT_SECONDS = 3.0  # … this long for a turn, then 503 "probeer het zo opnieuw"
LOGIN_FALLBACK_MAX_KEYS = 10_000  # the in-process limiter (Redis away or full) counts this many
SESSION_IDLE_TIMEOUT = 12 * HOUR  # a session ends after this long without a request
SESSION_MAX_LIFETIME = 12 * HOUR  # and this long after its login, however busy (ASVS 3.3.2)
MIN_SECRET_KEY_LENGTH = 32  # SECRET_KEY in production: at least this many characters
DEFAULT_LEASE_SECONDS = 300  # a booking claim older than this counts as dead
BACKFILL_PROGRESS_TTL = 7 * DAY  # a backfill's progress stays readable this long
# A running backfill that shows no progress this long counts as failed (its worker died):
# RQ stops a job after RECONCILE_JOB_TIMEOUT anyway; a minute's grace on top.
BACKFILL_LEASE_SECONDS = RECONCILE_JOB_TIMEOUT + 60
ALERT_DIGEST_INTERVAL = HOUR  # a shop's failure digest is mailed at most this often
SMTP_TIMEOUT_SECONDS = 10  # one alert mail's SMTP conversation
INVITATION_TTL = 7 * DAY  # an invitation link to a shop works this long (and once)
# Creating a customer's relation: one worker per administration and relation code at a
# time (app/booking/relations.py). The lock expires if its holder dies; a worker waits
# at most RELATION_LOCK_WAIT_SECONDS for it, then goes on (recognising "already exists").
RELATION_LOCK_SECONDS = 60
RELATION_LOCK_WAIT_SECONDS = 30
LEDGER_NAMES_TTL = 5 * 60  # the booking page's ledger names, per web process
KEPT_SECRET_TTL = HOUR  # a checked secret a refused form keeps (sealed) this long
# SOAP GetMutaties: 5,000 calls a month per administration (NOTES.md §5; app/fastpaths.py).
GET_MUTATIES_MONTHLY_LIMIT = 5000
GET_MUTATIES_RESERVE = 250  # the period report leaves this many for the recovery look-ups
GET_MUTATIES_COUNT_TTL = 40 * DAY  # a month's count outlives its month, then goes
# The period report ("Controle"): a job beyond one month or when it reads e-Boekhouden.
REPORT_JOB_TIMEOUT = 30 * 60  # a two-year report against a slow e-Boekhouden
REPORT_CACHE_TTL = 6 * HOUR  # a result is kept per shop, period and data version
REPORT_PROGRESS_TTL = DAY  # a report job's progress (and its failure) stays readable
REPORT_INLINE_SECONDS = 8.0  # a month's report in the page itself, else it becomes a job
# Work inside one web request (the Controle report, the backfill's dry run): at most this
# long and this many orders listed, then the page says so (gunicorn's timeout is 30 s; one
# more upstream call may take WEB_UPSTREAM_TIMEOUT_SECONDS after the deadline).
PAGE_WORK_SECONDS = 20.0
PAGE_MAX_ORDERS = 5_000

REQUIRED_IN_PRODUCTION = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ENCRYPTION_KEY",
    "PUBLIC_BASE_URL",
)


def _normalise_database_url(url: str) -> str:
    """Heroku-style ``postgres://`` → SQLAlchemy's psycopg 3 dialect."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _normalise_redis_url(url: str) -> str:
    """Heroku Redis hands out ``rediss://`` URLs whose servers present self-signed
    certificates (the platform's documented setting is not to verify them): without
    ``ssl_cert_reqs`` every connection would fail the TLS handshake. An explicit
    ``ssl_cert_reqs`` in the URL is kept as it is."""
    if url.startswith("rediss://") and "ssl_cert_reqs=" not in url:
        return url + ("&" if "?" in url else "?") + "ssl_cert_reqs=none"
    return url


@dataclass(frozen=True, slots=True)
class Settings:
    env: str = "development"
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'connector.db'}"
    redis_url: str = "redis://127.0.0.1:6379/0"
    secret_key: str = field(default="", repr=False)
    encryption_key: str = field(default="", repr=False)  # Fernet key(s), comma-separated
    public_base_url: str = "http://127.0.0.1:5000"
    mijnwebwinkel_api_url: str = "https://api.myonlinestore.com"
    mijnwebwinkel_partner_token: str = field(default="", repr=False)
    # The name shop owners pick as "partner" when they make their Mijnwebwinkel token.
    mijnwebwinkel_partner_name: str = ""
    eboekhouden_soap_url: str = "https://soap.e-boekhouden.nl/soap.asmx"
    eboekhouden_rest_url: str = "https://api.e-boekhouden.nl"
    eboekhouden_source: str = "MWWConnect"
    http_timeout: float = 10.0
    soap_operation_timeout: float = 30.0
    # The pages' own calls to both APIs: short, so a slow upstream never hangs a page.
    web_upstream_timeout: float = 5.0
    eboekhouden_max_concurrent: int = 2  # calls at once per administration (app/limits.py)
    queue_name: str = "bookings"
    poll_interval_seconds: int = 300
    poll_idle_max_seconds: int = HOUR  # a quiet shop's poll backs off to this (core/polling)
    poll_backoff_factor: float = 2.0  # … its interval times this per empty poll
    reconcile_interval_seconds: int = HOUR
    reconcile_lookback_hours: int = 24
    reconcile_overlap_minutes: int = 15
    # How long after its order date an invoiced order is still checked for its money.
    payment_lookback_days: int = 60
    booking_lease_seconds: int = DEFAULT_LEASE_SECONDS  # a claim older than this is dead
    metrics_token: str = field(default="", repr=False)  # bearer token for GET /metrics
    log_format: str = "text"  # "json" in production
    log_level: str = "INFO"
    # RQ's own logger (a line per job): "" follows log_level; make run sets WARNING.
    rq_log_level: str = ""
    smtp_url: str = field(default="", repr=False)  # alerts are off when unset
    alert_from: str = ""

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        app_env = env.get("APP_ENV", "development").strip().lower()
        if app_env == "production":
            missing = [name for name in REQUIRED_IN_PRODUCTION if not env.get(name)]
            if missing:
                raise ConfigError("Missing required environment variables: " + ", ".join(missing))
        defaults = cls()

        def text(name: str, default: str) -> str:
            value = env.get(name)
            return value.strip() if value and value.strip() else default

        def number(name: str, default: float, kind: type = int) -> float:
            raw = env.get(name)
            if raw is None or not raw.strip():
                return default
            try:
                return kind(raw.strip())
            except ValueError:
                raise ConfigError(f"{name} must be a number, got {raw!r}") from None

        settings = cls(
            env=app_env,
            database_url=_normalise_database_url(text("DATABASE_URL", defaults.database_url)),
            redis_url=_normalise_redis_url(text("REDIS_URL", defaults.redis_url)),
            secret_key=text("SECRET_KEY", ""),
            encryption_key=text("ENCRYPTION_KEY", ""),
            public_base_url=text("PUBLIC_BASE_URL", defaults.public_base_url).rstrip("/"),
            mijnwebwinkel_api_url=text("MIJNWEBWINKEL_API_URL", defaults.mijnwebwinkel_api_url),
            mijnwebwinkel_partner_token=text("MIJNWEBWINKEL_PARTNER_TOKEN", ""),
            mijnwebwinkel_partner_name=text("MIJNWEBWINKEL_PARTNER_NAME", ""),
            eboekhouden_soap_url=text("EBOEKHOUDEN_SOAP_URL", defaults.eboekhouden_soap_url),
            eboekhouden_rest_url=text("EBOEKHOUDEN_REST_URL", defaults.eboekhouden_rest_url),
            eboekhouden_source=text("EBOEKHOUDEN_SOURCE", defaults.eboekhouden_source),
            http_timeout=float(number("HTTP_TIMEOUT_SECONDS", defaults.http_timeout, float)),
            soap_operation_timeout=float(
                number("SOAP_OPERATION_TIMEOUT_SECONDS", defaults.soap_operation_timeout, float)
            ),
            web_upstream_timeout=max(
                0.5,
                float(number("WEB_UPSTREAM_TIMEOUT_SECONDS", defaults.web_upstream_timeout, float)),
            ),
            eboekhouden_max_concurrent=max(1, int(number("EBOEKHOUDEN_MAX_CONCURRENT", 2))),
            queue_name=text("QUEUE_NAME", defaults.queue_name),
            poll_interval_seconds=int(number("POLL_INTERVAL_SECONDS", 5 * 60)),
            poll_idle_max_seconds=int(number("POLL_IDLE_MAX_SECONDS", HOUR)),
            poll_backoff_factor=number("POLL_BACKOFF_FACTOR", defaults.poll_backoff_factor, float),
            reconcile_interval_seconds=int(number("RECONCILE_INTERVAL_SECONDS", HOUR)),
            reconcile_lookback_hours=int(
                number("RECONCILE_LOOKBACK_HOURS", defaults.reconcile_lookback_hours)
            ),
            reconcile_overlap_minutes=max(
                15, int(number("RECONCILE_OVERLAP_MINUTES", defaults.reconcile_overlap_minutes))
            ),
            payment_lookback_days=max(
                0, int(number("PAYMENT_LOOKBACK_DAYS", defaults.payment_lookback_days))
            ),
            booking_lease_seconds=max(
                5, int(number("BOOKING_LEASE_SECONDS", defaults.booking_lease_seconds))
            ),
            metrics_token=text("METRICS_TOKEN", ""),
            log_format=text("LOG_FORMAT", "json" if app_env == "production" else "text"),
            log_level=text("LOG_LEVEL", defaults.log_level).upper(),
            rq_log_level=text("RQ_LOG_LEVEL", "").upper(),
            smtp_url=text("SMTP_URL", ""),
            alert_from=text("ALERT_FROM", ""),
        )
        if settings.is_production and settings.database_url.startswith("sqlite"):
            raise ConfigError("DATABASE_URL must point at PostgreSQL in production")
        if settings.is_production:
            _check_secret_key(settings.secret_key)
        if settings.encryption_key:  # a bad key stops start-up here, not at first use
            Vault(settings.encryption_key)
        if settings.smtp_url:  # so does an SMTP_URL that would send a password in clear
            parse_smtp_url(settings.smtp_url)
        return settings


@dataclass(frozen=True, slots=True)
class SmtpUrl:
    """``SMTP_URL`` read: where alert mails go and how the connection is protected."""

    host: str
    port: int
    tls: str  # "ssl" (smtps://, implicit TLS), "starttls", or "" (plain)
    username: str = ""
    password: str = field(default="", repr=False)


_YES, _NO = {"1", "true", "yes", "on", "ja"}, {"0", "false", "no", "off", "nee"}


def parse_smtp_url(url: str) -> SmtpUrl:
    """``smtps://[user:pass@]host[:465]`` (TLS from the start) or
    ``smtp://[user:pass@]host[:port][?starttls=yes|no]``. STARTTLS is the default on port
    587 (also the default port when a username is given), off elsewhere unless asked for;
    a username and password over plain SMTP are refused (they would cross in clear)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("SMTP_URL must look like smtp://host:port or smtps://user:pass@host")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"starttls"})
    if unknown:
        raise ConfigError(f"SMTP_URL: unknown option {unknown[0]!r} (only starttls=yes|no)")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError("SMTP_URL: the port must be a number from 1 to 65535") from None
    username, password = unquote(parts.username or ""), unquote(parts.password or "")
    if parts.scheme == "smtps":
        if query:
            raise ConfigError("SMTP_URL: smtps:// is TLS from the start; drop ?starttls")
        return SmtpUrl(parts.hostname, port or 465, "ssl", username, password)
    port = port or (587 if username else 25)
    starttls = port == 587
    if query:
        value = query["starttls"][-1].strip().lower()
        if value not in _YES | _NO:
            raise ConfigError(f"SMTP_URL: starttls={value!r}; use starttls=yes or starttls=no")
        starttls = value in _YES
    if username and not starttls:
        raise ConfigError(
            "SMTP_URL: refusing to send the SMTP password over plain SMTP; use smtps://… "
            "(port 465), or smtp://…:587 (STARTTLS, the default there) or ?starttls=yes"
        )
    return SmtpUrl(parts.hostname, port, "starttls" if starttls else "", username, password)


def _check_secret_key(key: str) -> None:
    """At least 32 characters that look generated: not a word, not one repeated run."""
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 12:
        raise ConfigError(
            f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters in "
            "production; generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`"
        )
