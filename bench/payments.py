"""Benchmark — what payments cost in calls (``python -m bench.payments``).

One shop in mode "invoice_and_payment" with ``orders`` orders: ``settled_share`` paid at
checkout (invoice and payment booked in the first job), the rest shipped "op rekening".
Both simulators in this process (loopback HTTP), SQLite + fakeredis, the real clients and
the real pipeline and reconcile pass; jobs are run in this process.

Measured, per step, as calls counted by the simulators (Mijnwebwinkel operations and
e-Boekhouden SOAP operations):

1. first booking of every order (the webhook path);
2. an hourly pass with nothing new: settled orders must cost nothing, each open order
   one ``get_order`` + one ``order_payments``;
3. ``paid_share`` of the open orders get their money; the next hourly pass books it;
4. notifications again for every order (the fast path: settled orders cost no call).

Prints a Markdown table; ``--write`` writes docs/benchmarks-payments.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import fakeredis
from rq import SimpleWorker
from rq.serializers import JSONSerializer

import worker.jobs
from app.booking.pipeline import book_order
from app.booking.reconcile import HOURLY, run_pass
from app.clients.eboekhouden import EBoekhoudenClient
from app.clients.mijnwebwinkel import MijnwebwinkelClient
from app.config import Settings
from app.core.mapping_settings import MappingSettings
from app.crypto import Vault, generate_key
from app.fastpaths import SessionStore
from app.jobs.queue import get_queue
from app.migrate import upgrade
from app.services import Services
from app.states import BookingMode, ShopStatus
from app.store.engine import engine_for
from app.store.shops import Credentials
from sandbox.eboekhouden import EBoekhoudenSimulator
from sandbox.faults import Faults
from sandbox.mijnwebwinkel import MijnwebwinkelSimulator
from sandbox.order_factory import make_order
from sandbox.server import ServerThread

TOKEN, USER, CODE1, CODE2 = "bench-token-1234567890", "bench", "code-1", "C0DE-2"
LEDGERS = {"ideal": "1010", "in_arrears": "1100"}
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks-payments.md"
HEADER = """# Payments: what they cost in calls

`python -m bench.payments --write` (this file). One shop booking invoice and payment;
both simulators over loopback HTTP in one process, SQLite + fakeredis, the real clients,
pipeline and reconcile pass. Calls are counted by the simulators.

"""
FOOTER = """
Read: a settled order costs no call at all, in the hourly pass (it is never listed as
outstanding) and on a repeated notification (the fast path reads `payment_state` from
SQL). An order still waiting for its money costs two Mijnwebwinkel calls per check
(`get_order`, `order_payments`) and no e-Boekhouden call until money arrives; the fast
poll checks only the waiting orders whose status changed, the hourly pass all of them
placed within `PAYMENT_LOOKBACK_DAYS`. Each capture is one AddMutatie.
"""


@dataclass
class PaymentsConfig:
    orders: int = 200
    settled_share: float = 0.7
    paid_share: float = 0.5


class Counts:
    def __init__(self, mww: MijnwebwinkelSimulator, eb: EBoekhoudenSimulator) -> None:
        self.mww, self.eb = mww, eb
        self.mww_mark, self.eb_mark = 0, Counter[str]()

    def start(self) -> None:
        self.mww_mark, self.eb_mark = len(self.mww.calls), Counter(self.eb.calls)

    def since(self) -> tuple[Counter[str], Counter[str]]:
        mww = Counter(op for op, _ in self.mww.calls[self.mww_mark :])
        eb = Counter(self.eb.calls) - self.eb_mark
        return mww, eb


def run(config: PaymentsConfig) -> list[tuple[str, float, Counter[str], Counter[str]]]:
    mww, eb = MijnwebwinkelSimulator(faults=Faults(seed=1)), EBoekhoudenSimulator()
    eb.add_administration(USER, CODE1, CODE2, name="Bench BV")
    mww.add_shop(TOKEN, name="Bench")
    results: list[tuple[str, float, Counter[str], Counter[str]]] = []
    with TemporaryDirectory() as tmp, ServerThread(mww) as mww_http, ServerThread(eb) as eb_http:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        redis = fakeredis.FakeRedis()
        settings = Settings(
            database_url=url,
            secret_key="bench",
            encryption_key=generate_key(),
            mijnwebwinkel_api_url=mww_http.url,
            eboekhouden_soap_url=f"{eb_http.url}/soap.asmx",
        )
        services = Services(
            settings=settings,
            engine=engine_for(url),
            redis=redis,
            vault=Vault(settings.encryption_key),
            queue=get_queue(redis, "bookings"),
            shop_api_factory=lambda shop: MijnwebwinkelClient(
                shop.credentials.mww_token, base_url=mww_http.url, timeout=10
            ),
            bookkeeping_factory=lambda shop: EBoekhoudenClient(
                USER,
                CODE1,
                CODE2,
                url=settings.eboekhouden_soap_url,
                timeout=10,
                operation_timeout=10,
                session_store=SessionStore(redis, shop.id, USER, Vault(settings.encryption_key)),
            ),
        )
        shop_id, _ = services.store.shops.register(
            name="Bench",
            status=ShopStatus.ACTIVE,
            credentials=Credentials(TOKEN, USER, CODE1, CODE2),
        )
        services.store.shops.save_mapping(
            shop_id,
            MappingSettings(booking_mode=BookingMode.INVOICE_AND_PAYMENT, payment_ledgers=LEDGERS),
        )
        shop = services.load_shop(shop_id)
        assert shop is not None
        sim_shop = mww.shop(TOKEN)
        today = dt.date.today()
        numbers, unpaid = [], []
        for index in range(config.orders):
            number = 10_001 + index
            order = make_order(number, status=2, date=today - dt.timedelta(days=5))
            settled = index < config.orders * config.settled_share
            order["payment"] = {
                "gateway_name": "mollie" if settled else "basic",
                "method_name": "ideal" if settled else "in_arrears",
                "status": {"id": 1 if settled else 5, "text": "x"},
            }
            order["payment_status"] = "captured" if settled else "pending"
            sim_shop.add_order(order)
            sim_shop.set_status(number, 2)
            numbers.append(str(number))
            if not settled:
                unpaid.append(str(number))
        counts = Counts(mww, eb)

        def step(name: str, action: Any) -> None:
            counts.start()
            started = time.perf_counter()
            action()
            results.append((name, time.perf_counter() - started, *counts.since()))

        def drain() -> None:  # the enqueued jobs, run here by RQ's own worker
            worker.jobs.runtime_services = lambda: services  # type: ignore[assignment]
            SimpleWorker([services.queue], connection=redis, serializer=JSONSerializer).work(
                burst=True
            )

        step(
            f"1. first booking of {config.orders} orders",
            lambda: [book_order(services, shop, n) for n in numbers],
        )
        step(
            "2. hourly pass, nothing new", lambda: (run_pass(services, shop, mode=HOURLY), drain())
        )
        paid = unpaid[: int(len(unpaid) * config.paid_share)]
        for number in paid:
            sim_shop.pay(number, "capture", at=dt.datetime.combine(today, dt.time(10)))
        step(
            f"3. hourly pass after {len(paid)} captures",
            lambda: (run_pass(services, shop, mode=HOURLY), drain()),
        )
        step(
            f"4. {config.orders} notifications again (fast path)",
            lambda: [book_order(services, shop, n) for n in numbers],
        )
        services.close()
    return results


def report(
    config: PaymentsConfig, results: list[tuple[str, float, Counter[str], Counter[str]]]
) -> str:
    open_orders = config.orders - int(config.orders * config.settled_share)
    lines = [
        f"{config.orders} orders: {config.orders - open_orders} paid at checkout, "
        f"{open_orders} op rekening; {config.paid_share:.0%} of those paid before step 3.",
        "",
        "| step | seconds | Mijnwebwinkel calls | e-Boekhouden calls |",
        "| --- | ---: | --- | --- |",
    ]
    for name, seconds, mww, eb in results:
        lines.append(f"| {name} | {seconds:.1f} | {_calls(mww)} | {_calls(eb)} |")
    return "\n".join(lines)


def _calls(counter: Counter[str]) -> str:
    return ", ".join(f"{op} {n}" for op, n in sorted(counter.items()) if n) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--orders", type=int, default=PaymentsConfig.orders)
    parser.add_argument("--write", action="store_true", help=f"write {DOC}")
    args = parser.parse_args()
    logging.getLogger("rq.worker").setLevel(logging.WARNING)
    config = PaymentsConfig(orders=args.orders)
    table = report(config, run(config))
    print(table)
    if args.write:
        DOC.write_text(HEADER + table + "\n" + FOOTER)


if __name__ == "__main__":
    main()
