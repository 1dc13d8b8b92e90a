"""Run the simulator: ``python -m sandbox.eboekhouden --port 8082 --admin demo:code1:code2``."""

from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from sandbox.eboekhouden import SOAP_PATH, EBoekhoudenSimulator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument(
        "--admin", action="append", default=[], help="username:code1:code2 (repeatable)"
    )
    args = parser.parse_args()
    sim = EBoekhoudenSimulator()
    for spec in args.admin:
        username, code1, code2 = spec.split(":", 2)
        sim.add_administration(username, code1, code2)
    print(f"e-Boekhouden simulator on http://{args.host}:{args.port}{SOAP_PATH}")
    run_simple(args.host, args.port, sim, threaded=True)


if __name__ == "__main__":
    main()
