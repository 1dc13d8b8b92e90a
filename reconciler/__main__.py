"""`python -m reconciler`: the Procfile's clock (``--loop``) or one pass for every shop."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import signal
import sys

from app.booking.reconcile import run_pass
from app.config import Settings
from app.errors import ConfigError
from app.logs import configure_logging
from app.services import build_services
from app.states import RunMode, RunOutcome, ShopStatus
from reconciler.schedule import run_clock, tick_for

log = logging.getLogger("reconciler")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reconciler",
        description="Without --loop: one reconcile pass for every active shop now (prints "
        "each run record as JSON; exit 1 when a pass failed). With --loop: the Procfile's "
        "clock. Settings come from the environment (README, Configuration).",
    )
    parser.add_argument(
        "--loop",
        action="store_true",
        help="run the clock: enqueue hourly and fast-poll passes forever",
    )
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as err:
        print(f"reconciler: {err}", file=sys.stderr)
        return 2
    configure_logging(settings)
    services = build_services(settings)
    if args.loop:
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        with contextlib.suppress(KeyboardInterrupt):
            run_clock(
                services,
                tick_seconds=tick_for(settings.poll_interval_seconds),
                stop=lambda: bool(stopping),
            )
        return 0
    shops, unreadable = services.store.shops.scan([s for s in ShopStatus if s.books_orders])
    failed = bool(unreadable)  # skipped (each logged): the exit code says so
    for shop in shops:  # one shop's failure never stops the others' passes
        try:
            result = run_pass(services, shop, mode=RunMode.HOURLY)
        except Exception:
            log.exception("reconcile pass failed", extra={"shop_id": shop.id})
            failed = True
            continue
        print(json.dumps(result.as_dict(), default=str))
        failed |= result.outcome == RunOutcome.FAILED
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
