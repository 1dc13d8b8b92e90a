"""docs/capacity.md from a ``python -m bench capacity`` run (``bench.capacity``)."""

from __future__ import annotations

from typing import Any

from bench.capacity_model import (
    ADAPTIVE,
    DAY,
    DYNOS,
    FIXED,
    GIB,
    MIB,
    PRICES_AS_OF,
    Limits,
    PollRule,
    Projection,
    UnitCosts,
    Workload,
    eb_calls_per_order,
    heroku_bill,
    project,
)

# local_wait_s: a job's wait on PostgreSQL and Redis beside its CPU, from §4's check
# (2 saturated workers: about 33 ms of wall time a pass against 10 ms of CPU).
LOCAL_WAIT_S = 0.02
PLATFORM = Workload(
    shops=25_000, orders_per_day=30, notification_share=0.0, local_wait_s=LOCAL_WAIT_S
)
# Most shops of a platform sell little: a fifth sells 30 a day, the rest 1 a day.
REALISTIC = (
    Workload(shops=5_000, orders_per_day=30, local_wait_s=LOCAL_WAIT_S),
    Workload(shops=20_000, orders_per_day=1, local_wait_s=LOCAL_WAIT_S),
)


def n(x: float, digits: int = 1) -> str:
    return f"{x:,.{digits}f}".replace(",", " ")


def size(b: float) -> str:
    return f"{b / GIB:,.1f} GiB".replace(",", " ") if b >= GIB else f"{b / MIB:,.1f} MiB"


def check_workload(check: dict[str, Any]) -> Workload:
    """The check's hour in model terms: every shop sells at the working day's rate."""
    c = check["config"]
    return Workload(
        shops=c["shops"],
        orders_per_day=c["orders_per_day"] * 3,
        peak_factor=1.0,
        selling_hours=24.0,
        new_customer_share=check["scale"]["config"]["first_time_share"],
    )


def check_rule(check: dict[str, Any]) -> PollRule:
    """The poll rule the check ran under: a run from before adaptive polling has no
    ``idle_max_seconds`` (the fixed poll); otherwise back-off unless its maximum is the
    base interval (``None``: the service's default, 60 minutes)."""
    sc = check["scale"]["config"]
    if "idle_max_seconds" not in sc:
        return FIXED
    idle_max = sc["idle_max_seconds"]
    return FIXED if idle_max is not None and idle_max <= sc["poll_seconds"] else ADAPTIVE


def compare(units: UnitCosts, check: dict[str, Any]) -> list[tuple[str, float, float]]:
    """(figure, predicted, measured) for the simulated hour."""
    c, result, samples = check["config"], check["scale"], check["samples"]
    comp = c["compression"]
    window = c["simulated_hours"] * 3600 / comp
    work = check_workload(check)
    p = project(units, work, check_rule(check), Limits())
    first = samples[0]
    inside = [s for s in samples if s["t"] <= first["t"] + window] or samples
    last = inside[-1]
    real = max(1e-9, last["t"] - first["t"])
    elapsed_sim = result["elapsed_s"] * comp
    mww_total = sum(result["mww_calls"].values())
    eb_total = sum(result["eb_calls"].values())
    booked = result["booked"]
    # Rates in simulated seconds: the run is compressed, so per real second ×comp.
    rows = [
        (
            "fast-poll passes per simulated second",
            p.passes_per_s,
            (last["passes"] - first["passes"]) / real / comp,
        ),
        ("Mijnwebwinkel calls per simulated second", p.mww_calls_per_s, mww_total / elapsed_sim),
        (
            "e-Boekhouden calls per booked order",
            eb_calls_per_order(units, work, work.orders_per_day / DAY),
            eb_total / booked if booked else 0.0,
        ),
        (
            f"worker CPU, cores (real time, compressed ×{comp:g})",
            p.worker_cores * comp,
            (last["worker"] - first["worker"]) / 1000 / real,
        ),
        (
            "clock CPU, cores (real time)",
            p.clock_cores * comp,
            (last["clock"] - first["clock"]) / 1000 / real,
        ),
    ]
    jobs = (
        (
            p.orders_per_s_peak * units.redis_bytes_per_finished_job
            + p.passes_per_s
            * (units.redis_bytes_per_finished_pass or units.redis_bytes_per_finished_job)
        )
        * comp
        * 600
    )
    predicted_redis = (
        c["shops"] * units.redis_bytes_per_shop + jobs + booked * units.redis_bytes_per_booked_order
    )
    rows.append(
        (
            "Redis memory growth over the hour (MiB)",
            predicted_redis / MIB,
            (last["redis"] - first["redis"]) / MIB,
        )
    )
    return rows


def _projection_rows(units: UnitCosts, work: Workload | tuple[Workload, ...]) -> list[str]:
    lines = []
    projections = []
    for rule in (FIXED, ADAPTIVE):
        projections.append((rule, combined(units, work, rule)))
    lines.append("| | " + " | ".join(r.name for r, _ in projections) + " |")
    lines.append("|---|" + "---|" * len(projections))

    def row(label: str, fn: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(fn(p) for _, p in projections) + " |")

    row(
        "orders per second, mean / peak",
        lambda p: f"{n(p.orders_per_s_mean, 2)} / {n(p.orders_per_s_peak, 2)}",
    )
    row(
        "passes per idle / busy shop per day",
        lambda p: f"{n(p.idle_shop_passes_per_day, 0)} / {n(p.active_shop_passes_per_day, 0)}",
    )
    row("passes per second", lambda p: n(p.passes_per_s, 1))
    row("**Mijnwebwinkel calls per second**", lambda p: f"**{n(p.mww_calls_per_s, 1)}**")
    row("e-Boekhouden calls per second (mean)", lambda p: n(p.eb_calls_per_s, 2))
    row("… per administration at peak", lambda p: n(p.eb_calls_per_s_per_administration_peak, 3))
    row("worker CPU at peak (cores)", lambda p: n(p.worker_cores, 2))
    row(
        "worker busy incl. waiting on upstream (process-seconds/s)",
        lambda p: n(p.worker_busy_s_per_s, 1),
    )
    row("web CPU (cores; 0 without notifications)", lambda p: n(p.web_cores, 2))
    row("clock CPU (cores)", lambda p: n(p.clock_cores, 3))
    row(
        "processes web / worker / clock",
        lambda p: " / ".join(str(p.processes[k]) for k in ("web", "worker", "clock")),
    )
    row("Redis memory after a year", lambda p: size(p.redis_bytes))
    row("PostgreSQL after a year (bookings; runs of 30 days)", lambda p: size(p.pg_bytes_per_year))
    row(
        "saturates first (share of its limit)",
        lambda p: f"{p.saturates_first} ({n(p.utilisation[p.saturates_first] * 100, 0)} %)",
    )
    for rule, p in projections:
        bill = heroku_bill(p, connections_per_process=units.db_connections_per_process)
        total = sum(item.usd_month for item in bill)
        lines.append("")
        lines.append(
            f"Heroku, {rule.name}: **USD {n(total, 0)} a month** — "
            + "; ".join(f"{i.what}: {i.count} × {i.plan} (USD {n(i.usd_month, 0)})" for i in bill)
            + "."
        )
        ranking = sorted(p.utilisation.items(), key=lambda kv: -kv[1])
        lines.append("")
        lines.append(
            f"Against the limits ({rule.name}): "
            + "; ".join(f"{k} {n(v * 100, 1)} %" for k, v in ranking)
            + "."
        )
    return lines


def combined(units: UnitCosts, work: Workload | tuple[Workload, ...], rule: PollRule) -> Projection:
    """One projection, or the sum of several shop groups' (processes recomputed)."""
    if isinstance(work, Workload):
        return project(units, work, rule, Limits())
    parts = [project(units, w, rule, Limits()) for w in work]
    shops = sum(w.shops for w in work)
    total = project(units, work[0], rule, Limits())
    merged: dict[str, Any] = {}
    for name in (
        "orders_per_s_mean",
        "orders_per_s_peak",
        "passes_per_s",
        "mww_calls_per_s",
        "eb_calls_per_s",
        "web_cores",
        "worker_cores",
        "clock_cores",
        "worker_busy_s_per_s",
        "redis_bytes",
        "pg_bytes_per_year",
    ):
        merged[name] = sum(getattr(p, name) for p in parts)
    merged["idle_shop_passes_per_day"] = total.idle_shop_passes_per_day
    merged["active_shop_passes_per_day"] = (
        sum(p.active_shop_passes_per_day * w.shops for p, w in zip(parts, work, strict=True))
        / shops
    )
    merged["mww_calls_per_idle_shop_day"] = total.mww_calls_per_idle_shop_day
    merged["eb_calls_per_s_per_administration_peak"] = max(
        p.eb_calls_per_s_per_administration_peak for p in parts
    )
    import math

    work0 = work[0]
    merged["processes"] = {
        "web": max(1, math.ceil(merged["web_cores"] / work0.worker_utilisation)),
        "worker": max(1, math.ceil(merged["worker_busy_s_per_s"] / work0.worker_utilisation)),
        "clock": 1,
    }
    limits = Limits()
    conns = sum(merged["processes"].values()) * units.db_connections_per_process
    merged["utilisation"] = {
        **total.utilisation,
        "Mijnwebwinkel calls/s (one partner token)": merged["mww_calls_per_s"]
        / limits.mww_calls_per_s,
        "e-Boekhouden calls/s per administration": merged["eb_calls_per_s_per_administration_peak"]
        / limits.eb_calls_per_s_per_administration,
        "Redis memory (after a year)": merged["redis_bytes"] / limits.redis_bytes,
        "PostgreSQL size (after a year)": merged["pg_bytes_per_year"] / limits.pg_bytes,
        "PostgreSQL connections": conns / limits.pg_connections,
    }
    return Projection(**merged)


def render(data: dict[str, Any], units: UnitCosts) -> str:
    m = data["measure"]
    b, q, p = m["bookings"], m["queued"], m["polls"]
    out = [
        "# Capacity: measured unit costs, a model, 25 000 shops",
        "",
        f"Generated by `python -m bench capacity` (`bench/capacity.py`, model in "
        f"`bench/capacity_model.py`) on **{data['date']}**, "
        f"in {n(data.get('duration_s', 0), 0)} s. "
        "Do not edit the figures by hand; run it again (`--from-json` re-renders a saved run). "
        f"Invoked as `python -m bench capacity {' '.join(data.get('argv', []))}`.",
        "",
    ]
    if data.get("note"):
        out += [f"> **Note.** {data['note']}", ""]
    mach = data["machine"]
    out += [
        f"Machine: {mach.get('cpus')} CPUs ({mach.get('cpu_model')}), Python {mach.get('python')}, "
        f"PostgreSQL {mach.get('postgresql', '?')}, Redis {mach.get('redis', '?')}"
        + (f", commit {mach['commit']}" if mach.get("commit") else "")
        + f". Load average at start {mach.get('load_at_start')}, after "
        f"the measurement {' '.join(f'{x:.2f}' for x in m['load_average'])}"
        + (
            f", after the check {' '.join(f'{x:.2f}' for x in data['check_load'])}"
            if data.get("check_load")
            else ""
        )
        + ".",
        "",
        "## 1. Unit costs, measured",
        "",
        f"One stack (gunicorn with 2 workers, {m['config']['workers']} simple RQ workers, the "
        "clock, both simulators without added latency, PostgreSQL, Redis). Bookings: "
        f"{b['notifications']} signed notifications at {m['config']['rate']:g}/s over "
        f"{m['config']['booking_shops']} shops ({m['config']['orders_per_shop']} orders each, "
        f"every customer new to its administration); idle polls: {m['config']['shops']} shops "
        f"polled every {m['config']['poll_real']} s for {m['config']['idle_seconds']:g} s. "
        "CPU is utime + stime from /proc of each process and its children, before and after.",
        "",
        "| Unit | Measured | From |",
        "|---|---|---|",
        f"| web CPU per notification | {n(units.web_cpu_ms_per_notification, 2)} ms | "
        f"{n(b['web_cpu_ms'], 0)} ms over {b['notifications']} ({b['accepted']} accepted) |",
        f"| worker CPU per booking (fetch, map, claim, post, RQ) | "
        f"{n(units.worker_cpu_ms_per_booking, 2)} ms | {n(b['worker_cpu_ms'], 0)} ms over "
        f"{b['booked']} bookings |",
        f"| worker CPU per idle-shop poll pass | {n(units.worker_cpu_ms_per_poll, 2)} ms | "
        f"{n(p['worker_cpu_ms'], 0)} ms over {p['passes']} passes |",
        f"| clock CPU per poll pass | {n(units.clock_cpu_ms_per_poll, 3)} ms | "
        f"{n(p['clock_cpu_ms'], 0)} ms |",
        f"| Redis bytes per shop (connector keys) | {n(units.redis_bytes_per_shop, 0)} | "
        f"{p['shop_keys'][0]} keys, {n(p['shop_keys'][1], 0)} B |",
        f"| Redis bytes per queued booking job | {n(units.redis_bytes_per_job, 0)} | "
        f"INFO used_memory over {q['jobs']} jobs |",
        f"| Redis bytes per finished booking job (kept 10 min) | "
        f"{n(units.redis_bytes_per_finished_job, 0)} | {b['finished_jobs'][0]} job hashes |",
        f"| Redis bytes per finished poll pass (kept 10 min) | "
        f"{n(units.redis_bytes_per_finished_pass, 0)} | {p['finished_jobs'][0]} job hashes |",
        f"| Redis bytes per kept webhook id (73 h) | {n(units.redis_bytes_per_webhook_id, 0)} | "
        f"{b['webhook_ids'][0]} keys |",
        f"| Redis bytes per booked order (booked set, kept 90 to 120 days) | "
        f"{n(units.redis_bytes_per_booked_order, 1)} | a set of a year's "
        f"{p['booked_year_set'][0]} numbers (this run's small sets: "
        f"{n(b['booked_sets'][1] / b['booked'], 1)} B each) |",
        f"| PostgreSQL bytes per booked order (all tables, indexes) | "
        f"{n(units.sql_bytes_per_order, 0)} | "
        + ", ".join(f"{k} {n(v / 1024, 0)} KiB" for k, v in sorted(b["pg_delta"].items()))
        + " |",
        f"| PostgreSQL bytes per poll pass (its run record; the shops table's dead rows "
        f"are vacuumed) | {n(units.sql_bytes_per_poll, 0)} | "
        + (
            ", ".join(f"{k} {n(v / 1024, 0)} KiB" for k, v in sorted(p["pg_delta"].items()))
            or "no growth"
        )
        + " |",
        f"| PostgreSQL connections held per process | "
        f"{n(units.db_connections_per_process, 1)} | {p['pg_connections']} for "
        f"{p['processes']} processes (web, workers, clock) |",
        f"| Mijnwebwinkel calls per order / per poll pass | {n(units.mww_calls_per_order, 2)} / "
        f"{n(units.mww_calls_per_poll, 2)} | {b['mww_calls']} / {p['mww_calls']} |",
        f"| e-Boekhouden: the booking's calls per order / per poll pass | "
        f"{n(units.eb_calls_per_order, 2)} / {n(units.eb_calls_per_poll, 2)} | "
        f"{b['eb_calls']} / {p['eb_calls'] or 'none'} |",
        f"| e-Boekhouden: relation calls per new customer | "
        f"{n(units.eb_calls_per_new_customer, 2)} | {n(units.eb_new_customer_share * 100, 0)} % "
        "of this run's orders had one; a session (OpenSession) is modelled per shop from its "
        "order rate and the 20-minute session (§2) |",
        "",
    ]
    out += noise(data)
    out += [
        "## 2. The model",
        "",
        "`bench/capacity_model.py`, `project(units, workload, poll_rule, limits)`, pure. "
        "Inputs: the unit costs above; the workload (shops, orders a day per selling shop, the "
        "share that sells, selling hours 12 and a peak hour twice their mean, notification "
        "share, shops per administration); the poll rule (base interval, back-off steps, "
        "hourly pass); assumed wire latencies (Mijnwebwinkel 150 ms, e-Boekhouden 250 ms a "
        "call: the simulators here answer in about a millisecond) and a 60 % busy target per "
        "simple worker. A worker process runs one job at a time, so worker processes = "
        "(CPU + time waiting on upstream) at peak ÷ 0.6. The adaptive rule's passes follow a "
        "Markov chain over the back-off steps (the module docstring). Redis = shops' keys + "
        "ten minutes of finished jobs + 73 h of webhook ids + the booked sets (the last 90 "
        "days of bookings, rebuilt every 30: 120 days at most, `app/booked.py`); PostgreSQL = "
        "a year of bookings + one run record per pass for 30 days (`reconcile_runs` is pruned "
        "by the hourly pass, `app/store/runs.py`).",
        "",
        "Limits that adding processes does not lift (assumed, none is documented): one partner "
        "token's Mijnwebwinkel rate 20 calls/s for the whole platform; e-Boekhouden 2 calls/s "
        "per administration; Redis 100 GiB and PostgreSQL 4 TiB (the largest plans); 500 "
        "PostgreSQL connections (the measured connections per process).",
        "",
        "## 3. Projection: 25 000 shops × 30 orders a day",
        "",
        "Every shop sells 30 orders a day in 12 selling hours, no notifications (Mijnwebwinkel "
        "sends none today). Both poll rules:",
        "",
        *_projection_rows(units, PLATFORM),
        "",
        "### A more likely platform: 5 000 shops × 30 a day, 20 000 × 1 a day",
        "",
        *_projection_rows(units, REALISTIC),
        "",
        f"Prices as known on {PRICES_AS_OF}. Dynos, USD a month: "
        + ", ".join(f"{k} {n(v[0], 0)} ({v[1]:g} GB)" for k, v in DYNOS.items())
        + ". Cores per dyno are an assumption (Heroku sells compute shares). Key-Value Store "
        "and Postgres plans: the smallest with 1.5× the memory / the first year's data, and "
        "enough connections.",
        "",
    ]
    out += reading(units)
    out += data.get("check_text", [])
    out += [
        "## 5. Noise and what is not measured",
        "",
        "The machine is shared (2 cores; the load averages in the header and §1: other "
        "engineers ran test suites beside it). CPU time (utime + stime) is what a process "
        "itself used, so it is less sensitive to that load than wall time, but a busy "
        "machine's cache misses and frequency still move it (the spread in §1). Sizes "
        "(Redis, PostgreSQL) are counts of bytes and do not depend on the load; "
        "PostgreSQL grows in 8 KiB pages, so a few "
        "hundred items give a granular figure. Not measured, assumed: the wire latency of "
        "the real systems (the simulators answer on loopback), the upstream rate limits, the "
        "cores behind a Heroku dyno, the list prices. Payments (invoice-and-payment mode) "
        "and the Controle report are not in the per-order costs.",
        "",
    ]
    return "\n".join(out) + "\n"


def noise(data: dict[str, Any]) -> list[str]:
    """The unit costs of every run side by side (the model takes each one's median)."""
    from bench.capacity import unit_costs

    runs = [data["measure"], *(r["measure"] for r in data.get("repeats", []))]
    if len(runs) < 2:
        return ["Measured once (no repeats): the spread of these figures is not known.", ""]
    costs = [unit_costs(m) for m in runs]
    out = [
        f"The measurement ran {len(runs)} times; the model takes each unit cost's median. "
        "Load average (1 min) at the end of each run: "
        + ", ".join(f"{m['load_average'][0]:.1f}" for m in runs)
        + ".",
        "",
        "| Unit | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " | spread |",
        "|---|" + "---|" * (len(runs) + 1),
    ]
    for name, label in (
        ("web_cpu_ms_per_notification", "web CPU per notification (ms)"),
        ("worker_cpu_ms_per_booking", "worker CPU per booking (ms)"),
        ("worker_cpu_ms_per_poll", "worker CPU per idle poll (ms)"),
        ("clock_cpu_ms_per_poll", "clock CPU per poll (ms)"),
        ("sql_bytes_per_order", "PostgreSQL bytes per order"),
        ("sql_bytes_per_poll", "PostgreSQL bytes per poll"),
        ("redis_bytes_per_job", "Redis bytes per queued job"),
        ("eb_calls_per_order", "e-Boekhouden booking calls (AddMutatie) per order"),
    ):
        values = [getattr(c, name) for c in costs]
        low, high = min(values), max(values)
        spread = (high - low) / low * 100 if low else 0.0
        out.append(f"| {label} | " + " | ".join(n(v, 2) for v in values) + f" | {n(spread, 0)} % |")
    return [*out, ""]


def reading(units: UnitCosts) -> list[str]:
    """What the projection says, with its own figures."""
    fixed = project(units, PLATFORM, FIXED, Limits())
    adaptive = project(units, PLATFORM, ADAPTIVE, Limits())
    year_orders = PLATFORM.shops * PLATFORM.orders_per_day * 365
    kept_orders = PLATFORM.shops * PLATFORM.orders_per_day * PLATFORM.booked_days_kept
    booked_set = kept_orders * units.redis_bytes_per_booked_order
    booked_year_set = year_orders * units.redis_bytes_per_booked_order
    runs = fixed.passes_per_s * 86_400 * PLATFORM.run_days_kept * units.sql_bytes_per_poll
    runs_year = fixed.passes_per_s * 86_400 * 365 * units.sql_bytes_per_poll
    orders_sql = year_orders * units.sql_bytes_per_order
    return [
        "### Reading the projection",
        "",
        f"- **Mijnwebwinkel's rate gives out first.** Today's fixed poll costs "
        f"{n(fixed.mww_calls_per_s, 0)} calls/s day and night "
        f"({n(fixed.idle_shop_passes_per_day, 0)} a day per shop even when idle); "
        "the adaptive rule brings it to "
        f"{n(adaptive.mww_calls_per_s, 0)}/s ({n(adaptive.mww_calls_per_idle_shop_day, 0)} a day"
        " per idle shop). Whatever the partner limit is, it is one limit for the whole "
        "platform: more processes do not help, fewer calls do.",
        f"- **e-Boekhouden** is far from its limits per administration "
        f"({n(fixed.eb_calls_per_s_per_administration_peak, 3)} calls/s at peak for a shop of "
        f"30 a day; 50 such shops on one accountant's administration "
        f"{n(50 * fixed.eb_calls_per_s_per_administration_peak, 2)}/s); in total "
        f"{n(fixed.eb_calls_per_s, 1)} calls/s, spread over {n(PLATFORM.shops, 0)} "
        "administrations.",
        f"- **Workers wait, they hardly compute**: {n(fixed.worker_cores, 1)} cores of CPU at "
        f"peak against {n(fixed.worker_busy_s_per_s, 0)} process-seconds a second busy with "
        "the assumed latencies; the worker count follows the real systems' latency, not CPU.",
        "- **The booked sets no longer grow for good** (changed after the first rendering, "
        "issue 28): each shop's set of booked order numbers holds the orders booked in the "
        "last 90 days and is rebuilt from SQL every 30 (a fast path only: an order booked "
        "earlier is a miss, and the SQL register answers it). At "
        f"{n(units.redis_bytes_per_booked_order, 0)} B per booked order that is "
        f"{size(booked_set)} for {n(kept_orders / 1e6, 0)} million orders, where a year's "
        f"sets took {size(booked_year_set)}; the rest (shops, ten minutes of jobs, webhook "
        f"ids) is {size(fixed.redis_bytes - booked_set)}. The per-order cost was measured on "
        "a year-sized set; a 120-day set (3 600 members at 30 a day) has the same encoding.",
        "- **Run records are kept 30 days** (also changed after the first rendering): the "
        "hourly pass deletes its shop's older `reconcile_runs` (500 at most a pass, never a "
        "shop's latest of a mode). Under the fixed poll that is "
        f"{size(runs)} of run records ({n(units.sql_bytes_per_poll, 0)} B a pass), where a "
        f"year of them took {size(runs_year)}; bookings add {size(orders_sql)} a year and "
        "stay (they are the register).",
        "",
    ]


# What the adaptive check shows, and why it is no check of the model (yet).
ADAPTIVE_CHECK_READING = [
    "Reading this one. **It does not check the adaptive part of the model**, whose passes "
    "are a stationary chain (a shop that has been quiet for hours sits at 60 minutes): this "
    "hour starts cold, with every shop due at once and then backing off through 5, 10 and "
    "20 minutes inside the hour, and under the ×4 compression a fast poll looks back at least "
    "15 real minutes, an hour of simulated time, so it sees status changes it already saw "
    "and counts them as hits (back to 5 minutes). Both make more passes than the steady "
    "state, which the measured idle shops of `bench scale` (docs/benchmarks-scale.md: 24 "
    "calls a day per idle shop, as the model says) do check. A check of the steady state "
    "needs a run of several simulated hours without compression artefacts: a follow-up.",
    "",
    "**What it does show: the lag of shops that sell about once an hour.** With one order an "
    "hour and no notifications, most orders find their shop backed off to 10 or 20 minutes, "
    "so status change → booked p99 is about twice the fixed poll's (see the row above "
    "against §4's). That is the price of the back-off for small shops without "
    "notifications; notifications, or a lower `POLL_IDLE_MAX_SECONDS`, buy it back.",
    "",
]


def check_text(units: UnitCosts, check: dict[str, Any], index: int = 0) -> list[str]:
    c, r = check["config"], check["scale"]
    rows = compare(units, check)
    lag = r["lag_s"]
    rule = check_rule(check)
    out = [
        f"## 4. Check: a simulated hour of {n(c['shops'], 0)} shops"
        if index == 0
        else f"### 4.{index + 1}. The same hour under the {rule.name} poll",
        "",
        f"`bench.scale`'s machinery: {n(c['shops'], 0)} shops, {c['orders_per_day']} orders per "
        f"shop per 8-hour day ({r['orders']} orders in the hour), compressed ×{c['compression']:g} "
        f"({n(r['elapsed_s'], 0)} s real including the drain), poll rule "
        f"{check_rule(check).name} (base {r['config']['poll_real']} s real), hourly pass, "
        f"{c['workers']} simple workers, no notifications. Booked {r['booked']} of "
        f"{r['orders']}, {r['violation_count']} invariant violations.",
        "",
        "| Figure | Predicted | Measured | Error |",
        "|---|---|---|---|",
    ]
    for label, predicted, measured in rows:
        error = (predicted - measured) / measured * 100 if measured else float("nan")
        out.append(f"| {label} | {n(predicted, 3)} | {n(measured, 3)} | {n(error, 0)} % |")
    samples = check["samples"]
    real = samples[-1]["t"] - samples[0]["t"]
    per_pass = c["workers"] * real / max(1, samples[-1]["passes"]) * 1000
    out += [
        f"| status change → booked p50 / p99 (simulated s) | ≤ poll 300 + drain | "
        f"{n((lag['p50'] or 0) * c['compression'], 0)} / "
        f"{n((lag['p99'] or 0) * c['compression'], 0)} | not modelled |",
        "",
    ]
    if rule is not FIXED:
        return out + ADAPTIVE_CHECK_READING
    out += [
        f"Reading the check. The {c['workers']} workers were saturated by the poll: "
        f"{n(samples[-1]['passes'] / real, 1)} passes a real second where the clock asked "
        f"for {n(c['shops'] / max(1, r['config']['poll_real']), 1)}, about {n(per_pass, 0)} ms "
        f"of worker wall time a pass against {n(units.worker_cpu_ms_per_poll, 0)} ms of CPU "
        "(the rest: waiting on PostgreSQL, Redis and the simulator on a loaded machine). A "
        "pass already waiting is not queued again, so passes and Mijnwebwinkel calls fell "
        "short of the model by that much, and the lag grew past the poll interval. The model "
        "counts processes with that local wait (`local_wait_s`, 20 ms, in the projection) "
        "besides the CPU and the upstream latency. e-Boekhouden calls per order: the model "
        "takes the run's 30 % new customers and a session per 1 + λ·20 min orders; every "
        "shop here had one order in the hour, so each opened its own session.",
        "",
    ]
    return out
