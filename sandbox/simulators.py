"""The simulators in one process, on loopback: ``python -m sandbox [--mww-port N]
[--eb-port N] [--eb-rest-port N] [--shop TOKEN] [--admin USER:CODE1:CODE2]
[--eb-token API_TOKEN] [--latency SECONDS]``.

Mijnwebwinkel, e-Boekhouden SOAP and e-Boekhouden REST (``sandbox.eboekhouden_rest``).
Prints the three base URLs and serves until interrupted. Control endpoints
(``/_sandbox/...``) on each let tests, the chaos suite and ``sandbox.activity`` add
orders, change statuses and inject faults from other processes.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading

from sandbox.eboekhouden import SOAP_PATH, EBoekhoudenSimulator
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator
from sandbox.faults import Faults
from sandbox.mijnwebwinkel import MijnwebwinkelSimulator
from sandbox.server import ServerThread


def build(
    shops: list[str], admins: list[str], latency: float = 0.0, partner_token: str = ""
) -> tuple[MijnwebwinkelSimulator, EBoekhoudenSimulator]:
    mww = MijnwebwinkelSimulator(faults=Faults(), partner_token=partner_token)
    for spec in shops:
        token, _, name = spec.partition(":")
        mww.add_shop(token, name=name or "Sandbox-winkel")
    eb = EBoekhoudenSimulator(faults=Faults())
    eb.faults.latency = latency
    for spec in admins:
        username, code1, code2 = spec.split(":", 2)
        eb.add_administration(username, code1, code2, name="Sandbox-administratie")
    return mww, eb


def build_rest(tokens: list[str], latency: float = 0.0) -> EBoekhoudenRestSimulator:
    rest = EBoekhoudenRestSimulator(faults=Faults())
    rest.faults.latency = latency
    for token in tokens:
        rest.add_administration(token, name="Sandbox-administratie")
    return rest


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="The simulators of Mijnwebwinkel and e-Boekhouden (SOAP and REST) on "
        "loopback ports; prints their URLs and serves until Ctrl-C.",
    )
    result.add_argument("--host", default="127.0.0.1", help="address to listen on")
    result.add_argument(
        "--mww-port", type=int, default=0, help="Mijnwebwinkel's port (default: a free one)"
    )
    result.add_argument(
        "--eb-port", type=int, default=0, help="e-Boekhouden SOAP's port (default: a free one)"
    )
    result.add_argument(
        "--shop",
        action="append",
        default=[],
        help="TOKEN[:name]: a shop with this API token (repeatable)",
    )
    result.add_argument(
        "--eb-rest-port", type=int, default=0, help="e-Boekhouden REST's port (default: a free one)"
    )
    result.add_argument(
        "--admin",
        action="append",
        default=[],
        help="USER:CODE1:CODE2: a SOAP administration (repeatable)",
    )
    result.add_argument(
        "--eb-token",
        action="append",
        default=[],
        help="API token of a REST administration (repeatable)",
    )
    result.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every e-Boekhouden call"
    )
    result.add_argument(
        "--partner-token", default="", help="the partner token Mijnwebwinkel asks for, if any"
    )
    return result


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    mww, eb = build(
        args.shop or ["sandbox-token:Sandbox-winkel"],
        args.admin or ["sandbox:code1:code2"],
        args.latency,
        args.partner_token,
    )
    rest = build_rest(args.eb_token or ["sandbox-api-token"], args.latency)
    servers = [
        ServerThread(mww, args.host, args.mww_port).start(),
        ServerThread(eb, args.host, args.eb_port).start(),
        ServerThread(rest, args.host, args.eb_rest_port).start(),
    ]
    print(f"Mijnwebwinkel simulator: {servers[0].url}", flush=True)
    print(f"e-Boekhouden simulator:  {servers[1].url}{SOAP_PATH}", flush=True)
    print(f"e-Boekhouden REST simulator: {servers[2].url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    for server in servers:
        server.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
