"""``python -m sandbox.mailsink --port N --dir DIR``: a local SMTP server (aiosmtpd) for
``make run`` that keeps every alert mail as an .eml file in DIR and prints one line per
mail (to, subject), so the alerts can be seen without a real mail server."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import threading
from email import message_from_bytes
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = self.directory / f"{stamp}-{self.count:04d}.eml"
        path.write_bytes(envelope.content)
        message = message_from_bytes(envelope.content)
        print(f"mail to {', '.join(envelope.rcpt_tos)}: {message['Subject']} ({path})", flush=True)
        return "250 Message accepted for delivery"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    directory = Path(args.dir)
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"mail sink: smtp://127.0.0.1:{args.port}, mails kept in {directory}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
