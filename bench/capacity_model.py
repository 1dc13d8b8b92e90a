"""The capacity model: measured unit costs × a workload → processes, cores, Redis, PostgreSQL,
upstream calls per second, Heroku plans and their monthly cost, and what saturates first.

Pure: no I/O, no clock. ``bench.capacity`` measures the ``UnitCosts`` on this machine and
checks ``project`` against a simulated hour (docs/capacity.md); tests/test_capacity_model.py
pins the arithmetic.

The poll rule is an input (``PollRule``): today's fixed fast poll, or an adaptive one whose
interval steps up after each empty poll and returns to the base after a hit. A shop's mean
poll interval under the adaptive rule is the stationary mean of a small Markov chain over
the steps: at step k (interval I_k) an order arrives in the interval with probability
p_k = 1 − exp(−λ·I_k) (λ: the shop's orders per second in its selling hours; a
notification counts as a hit too); a hit returns to step 0, an empty poll goes one step
up (and stays on the last). The hourly pass replaces the fast poll whose slot it takes,
as the clock does today (reconciler/schedule.py), so a shop makes max(fast, hourly) passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

DAY = 86_400.0
MIB = 1024.0 * 1024.0
GIB = 1024.0 * MIB


@dataclass(frozen=True)
class UnitCosts:
    """What one unit of work costs, measured (``bench.capacity.measure``)."""

    web_cpu_ms_per_notification: float
    worker_cpu_ms_per_booking: float
    worker_cpu_ms_per_poll: float  # one idle shop's pass, on a worker
    clock_cpu_ms_per_poll: float  # the clock's share of one pass
    redis_bytes_per_shop: float  # the connector's keys per shop (without booked orders)
    redis_bytes_per_job: float  # a queued booking job (job hash + queue entry + mark)
    redis_bytes_per_finished_job: float  # a finished job kept for its result TTL
    redis_bytes_per_webhook_id: float  # a seen webhook-id, kept WEBHOOK_ID_TTL
    redis_bytes_per_booked_order: float  # the booked set's member, kept for its window
    sql_bytes_per_order: float  # booking, history, payment rows and their indexes
    sql_bytes_per_poll: float  # the pass's run record (kept for the runs' retention)
    mww_calls_per_order: float
    mww_calls_per_poll: float
    eb_calls_per_order: float  # the booking's own (AddMutatie), without session or relation
    eb_calls_per_poll: float = 0.0
    redis_bytes_per_finished_pass: float = 0.0  # a finished pass's job; 0: as a booking's
    db_connections_per_process: float = 10.0  # held open (SQLAlchemy pool 5 + overflow 5)
    eb_calls_per_new_customer: float = 2.0  # GetRelaties + AddRelatie
    eb_new_customer_share: float = 0.0  # of the measured orders (not an input: see Workload)


@dataclass(frozen=True)
class PollRule:
    name: str
    base_seconds: float = 300.0
    backoff_seconds: tuple[float, ...] = ()  # the steps after base: (600, 1200, 3600)
    hourly_seconds: float = 3600.0

    @property
    def steps(self) -> tuple[float, ...]:
        return (self.base_seconds, *self.backoff_seconds)

    def mean_interval(self, orders_per_second: float) -> float:
        """The mean fast-poll interval of a shop receiving orders at this rate."""
        steps = self.steps
        if len(steps) == 1 or orders_per_second <= 0:
            return steps[0] if len(steps) == 1 else steps[-1]
        hit = [1.0 - math.exp(-orders_per_second * s) for s in steps]
        # Stationary chain: π_{k+1} = π_k (1 − p_k) below the last step; the last step
        # keeps its own misses: π_last = π_{last−1}(1 − p_{last−1}) / p_last.
        weights = [1.0]
        for k in range(1, len(steps)):
            weights.append(weights[-1] * (1.0 - hit[k - 1]))
        weights[-1] = weights[-1] / hit[-1] if hit[-1] > 0 else float("inf")
        total = sum(weights)
        if math.isinf(total):
            return steps[-1]
        return sum(w * s for w, s in zip(weights, steps, strict=True)) / total

    def passes_per_second(self, orders_per_second: float) -> float:
        fast = 1.0 / self.mean_interval(orders_per_second)
        hourly = 1.0 / self.hourly_seconds if self.hourly_seconds > 0 else 0.0
        return max(fast, hourly)


FIXED = PollRule("fixed 5 min (today)")
ADAPTIVE = PollRule("adaptive 5 → 10 → 20 → 60 min", backoff_seconds=(600.0, 1200.0, 3600.0))


@dataclass(frozen=True)
class Workload:
    shops: int
    orders_per_day: float  # per active shop
    active_share: float = 1.0  # shops that sell at all; the others are idle all day
    selling_hours: float = 12.0  # the orders of a day fall in these hours
    peak_factor: float = 2.0  # the busiest hour against the selling hours' mean
    notification_share: float = 0.0  # orders that also arrive as a notification
    shops_per_administration: float = 1.0
    new_customer_share: float = 0.3  # orders from a customer the administration lacks
    eb_session_seconds: float = 1200.0  # a SOAP session is reused this long (not renewed)
    local_wait_s: float = 0.0  # per job, waiting on PostgreSQL and Redis (not CPU)
    # Per process kind, what one process can do (simple workers run one job at a time).
    mww_latency_s: float = 0.15  # one Mijnwebwinkel call, on the wire (assumed)
    eb_latency_s: float = 0.25  # one e-Boekhouden call (assumed)
    worker_utilisation: float = 0.6  # target busy share of a worker process
    # What the connector keeps (not the shops' doing): the booked set holds the last 90
    # days of bookings and is rebuilt every 30 (app/booked.py BookedCache), so 120 at most;
    # run records are kept 30 days (app/store/runs.py RunStore.RETENTION).
    booked_days_kept: float = 120.0
    run_days_kept: float = 30.0


@dataclass(frozen=True)
class Limits:
    """What cannot be scaled out by adding processes (assumed: none is documented)."""

    mww_calls_per_s: float = 20.0  # the partner token's rate, whole platform (unknown)
    eb_calls_per_s_per_administration: float = 2.0  # e-Boekhouden's (undocumented)
    redis_bytes: float = 100 * GIB  # the largest Key-Value Store plan
    pg_bytes: float = 4 * 1024 * GIB  # the largest Standard plan
    pg_connections: int = 500
    cores: float = 0.0  # 0: cores scale out (dynos); else this many at most


@dataclass(frozen=True)
class Projection:
    orders_per_s_mean: float
    orders_per_s_peak: float
    passes_per_s: float
    idle_shop_passes_per_day: float
    active_shop_passes_per_day: float
    mww_calls_per_s: float
    mww_calls_per_idle_shop_day: float
    eb_calls_per_s: float
    eb_calls_per_s_per_administration_peak: float
    web_cores: float
    worker_cores: float  # worker processes' CPU at peak
    clock_cores: float
    worker_busy_s_per_s: float  # CPU + waiting on upstream, at peak
    processes: dict[str, int]
    redis_bytes: float
    pg_bytes_per_year: float
    utilisation: dict[str, float] = field(default_factory=dict)

    @property
    def saturates_first(self) -> str:
        return max(self.utilisation, key=lambda k: self.utilisation[k])


def eb_calls_per_order(units: UnitCosts, work: Workload, orders_per_second: float) -> float:
    """The booking's calls, a new customer's relation calls, and a session: a shop opens
    one when none is open, which it keeps ``eb_session_seconds``; with orders arriving at
    rate λ that is one session per 1 + λ·TTL orders (a renewal cycle: the TTL, then the
    wait for the next order)."""
    sessions = 1.0 / (1.0 + orders_per_second * work.eb_session_seconds)
    relations = work.new_customer_share * units.eb_calls_per_new_customer
    return units.eb_calls_per_order + relations + sessions


def project(units: UnitCosts, work: Workload, rule: PollRule, limits: Limits) -> Projection:
    active = work.shops * work.active_share
    idle = work.shops - active
    selling = work.selling_hours * 3600.0
    per_shop_rate = work.orders_per_day / selling if work.orders_per_day else 0.0
    orders_mean = active * work.orders_per_day / DAY
    orders_peak = active * per_shop_rate * work.peak_factor
    # An active shop: the chain while it sells, the last step for the rest of the day.
    idle_passes = rule.passes_per_second(0.0) * DAY
    active_passes = rule.passes_per_second(per_shop_rate) * selling + rule.passes_per_second(
        0.0
    ) * (DAY - selling)
    passes = (idle * idle_passes + active * active_passes) / DAY
    passes_peak = idle * rule.passes_per_second(0.0) + active * rule.passes_per_second(
        per_shop_rate * work.peak_factor
    )
    mww = passes * units.mww_calls_per_poll + orders_mean * units.mww_calls_per_order
    eb_order = eb_calls_per_order(units, work, per_shop_rate)
    eb = passes * units.eb_calls_per_poll + orders_mean * eb_order
    admin_peak = per_shop_rate * work.peak_factor * work.shops_per_administration
    eb_admin = admin_peak * eb_order
    notifications_peak = orders_peak * work.notification_share
    web_cores = notifications_peak * units.web_cpu_ms_per_notification / 1000.0
    worker_cpu = (
        passes_peak * units.worker_cpu_ms_per_poll + orders_peak * units.worker_cpu_ms_per_booking
    ) / 1000.0
    clock_cores = passes_peak * units.clock_cpu_ms_per_poll / 1000.0
    wait = passes_peak * (
        units.mww_calls_per_poll * work.mww_latency_s + units.eb_calls_per_poll * work.eb_latency_s
    ) + orders_peak * (
        units.mww_calls_per_order * work.mww_latency_s + eb_order * work.eb_latency_s
    )
    wait += (passes_peak + orders_peak) * work.local_wait_s
    busy = worker_cpu + wait
    workers = max(1, math.ceil(busy / work.worker_utilisation))
    web = max(1, math.ceil(web_cores / work.worker_utilisation))
    processes = {"web": web, "worker": workers, "clock": 1 + (1 if clock_cores > 0.5 else 0)}
    # RQ keeps a finished job 10 minutes (BOOKING_RESULT_TTL, RECONCILE_RESULT_TTL).
    pass_bytes = units.redis_bytes_per_finished_pass or units.redis_bytes_per_finished_job
    booked_year = orders_mean * DAY * 365
    booked_kept = orders_mean * DAY * min(365.0, work.booked_days_kept)
    redis = (
        work.shops * units.redis_bytes_per_shop
        + orders_peak * 600.0 * units.redis_bytes_per_finished_job
        + passes_peak * 600.0 * pass_bytes
        + notifications_peak * 73 * 3600 * units.redis_bytes_per_webhook_id
        + booked_kept * units.redis_bytes_per_booked_order
        + work.shops * units.redis_bytes_per_job  # the hourly pass: every shop queued at once
    )
    runs_kept = passes * DAY * min(365.0, work.run_days_kept)
    pg_year = booked_year * units.sql_bytes_per_order + runs_kept * units.sql_bytes_per_poll
    connections = sum(processes.values()) * units.db_connections_per_process
    util = {
        "Mijnwebwinkel calls/s (one partner token)": mww / limits.mww_calls_per_s,
        "e-Boekhouden calls/s per administration": eb_admin
        / limits.eb_calls_per_s_per_administration,
        "Redis memory (after a year)": redis / limits.redis_bytes,
        "PostgreSQL size (after a year)": pg_year / limits.pg_bytes,
        "PostgreSQL connections": connections / limits.pg_connections,
    }
    if limits.cores:
        util["CPU cores"] = (web_cores + worker_cpu + clock_cores) / limits.cores
    return Projection(
        orders_per_s_mean=orders_mean,
        orders_per_s_peak=orders_peak,
        passes_per_s=passes,
        idle_shop_passes_per_day=idle_passes,
        active_shop_passes_per_day=active_passes,
        mww_calls_per_s=mww,
        mww_calls_per_idle_shop_day=idle_passes * units.mww_calls_per_poll,
        eb_calls_per_s=eb,
        eb_calls_per_s_per_administration_peak=eb_admin,
        web_cores=web_cores,
        worker_cores=worker_cpu,
        clock_cores=clock_cores,
        worker_busy_s_per_s=busy,
        processes=processes,
        redis_bytes=redis,
        pg_bytes_per_year=pg_year,
        utilisation=util,
    )


# --- Heroku ------------------------------------------------------------------------------
# List prices as known to the author in early 2025 (from memory: this machine has no
# internet), USD per month at 730 hours; check before buying. Cores are the author's
# assumption of what a process can use there (Heroku states "compute" shares, not cores).
PRICES_AS_OF = "early 2025 (from memory, no internet here; check before buying)"
DYNOS: dict[str, tuple[float, float, float]] = {  # name: (USD/month, RAM GiB, cores)
    "Basic": (7.0, 0.5, 0.25),
    "Standard-1X": (25.0, 0.5, 0.25),
    "Standard-2X": (50.0, 1.0, 0.5),
    "Performance-M": (250.0, 2.5, 2.0),
    "Performance-L": (500.0, 14.0, 8.0),
}
KEY_VALUE_STORE: list[tuple[str, float, float]] = [  # (plan, USD/month, memory bytes)
    ("Mini", 3.0, 25 * MIB),
    ("Premium-0", 15.0, 50 * MIB),
    ("Premium-1", 30.0, 100 * MIB),
    ("Premium-2", 60.0, 250 * MIB),
    ("Premium-3", 120.0, 500 * MIB),
    ("Premium-5", 200.0, 1 * GIB),
    ("Premium-7", 750.0, 7 * GIB),
    ("Premium-9", 1450.0, 10 * GIB),
    ("Premium-10", 2500.0, 25 * GIB),
    ("Premium-12", 4000.0, 50 * GIB),
    ("Premium-14", 7000.0, 100 * GIB),
]
POSTGRES: list[tuple[str, float, float, int]] = [  # (plan, USD/month, storage, connections)
    ("Essential-0", 5.0, 1 * GIB, 20),
    ("Essential-1", 9.0, 10 * GIB, 20),
    ("Essential-2", 20.0, 32 * GIB, 40),
    ("Standard-0", 50.0, 64 * GIB, 120),
    ("Standard-2", 200.0, 256 * GIB, 400),
    ("Standard-3", 400.0, 512 * GIB, 500),
    ("Standard-4", 750.0, 768 * GIB, 500),
    ("Standard-5", 1400.0, 1024 * GIB, 500),
    ("Standard-6", 2000.0, 1536 * GIB, 500),
    ("Standard-7", 3500.0, 2048 * GIB, 500),
    ("Standard-9", 5800.0, 4096 * GIB, 500),
]
WORKER_RSS_BYTES = 140 * MIB  # one simple worker process (docs/benchmarks-scale.md)
WEB_RSS_BYTES = 300 * MIB  # gunicorn with 2 workers


@dataclass(frozen=True)
class Line:
    what: str
    plan: str
    count: int
    usd_month: float


def heroku_bill(
    p: Projection, headroom: float = 1.5, connections_per_process: float = 10.0
) -> list[Line]:
    """Dynos and add-on plans for a projection (``headroom`` on memory and storage;
    ``connections_per_process``: PostgreSQL connections each process holds)."""
    price, ram, cores = DYNOS["Performance-M"]
    per_dyno = max(1, min(int(ram * GIB // WORKER_RSS_BYTES), int(cores / 0.6 * 4)))
    worker_dynos = max(
        math.ceil(p.processes["worker"] / per_dyno), math.ceil(p.worker_cores / (cores * 0.6))
    )
    web_price, _web_ram, web_cores = DYNOS["Standard-2X"]
    web_dynos = max(2, p.processes["web"], math.ceil(p.web_cores / (web_cores * 0.6)))
    lines = [
        Line("web", "Standard-2X", web_dynos, web_dynos * web_price),
        Line(
            f"worker ({p.processes['worker']} processes, {per_dyno} per dyno)",
            "Performance-M",
            worker_dynos,
            worker_dynos * price,
        ),
        Line("clock", "Standard-1X", p.processes["clock"], p.processes["clock"] * 25.0),
    ]
    redis_need = p.redis_bytes * headroom
    plan = next((k for k in KEY_VALUE_STORE if k[2] >= redis_need), KEY_VALUE_STORE[-1])
    lines.append(Line("Key-Value Store (Redis)", plan[0], 1, plan[1]))
    processes = web_dynos + p.processes["worker"] + p.processes["clock"]
    connections = math.ceil(processes * connections_per_process * headroom)
    pg_need = p.pg_bytes_per_year * headroom
    pg = next((k for k in POSTGRES if k[2] >= pg_need and k[3] >= connections), POSTGRES[-1])
    lines.append(Line("Postgres (first year's data)", pg[0], 1, pg[1]))
    return lines
