"""Sandbox shop activity: a new order every few seconds, paid a moment later.

Two of every three paid orders are announced with a signed notification to the
connector's webhook; the rest are left for the fast poll to find, so a newcomer sees
both paths work. Now and then an OSS order arrives that the default settings cannot map:
it shows up as *mislukt* with its reason, ready for "Opnieuw proberen" after adding the
OSS row. Every fourth domestic order is shipped "op rekening" (unpaid) and paid three
orders later: in the mode "factuur én betaling" its payment is booked when that money
arrives. Configured by environment (set by ``sandbox.run``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import signal
import threading
import uuid

import requests
from standardwebhooks.webhooks import Webhook

KINDS = (
    ["domestic"] * 5 + ["mixed_rates"] * 3 + ["reverse_charge", "export", "credit", "test", "oss"]
)


def notify(webhook_url: str, secret: str, number: str) -> int:
    body = json.dumps({"order_number": number})
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = dt.datetime.now(dt.UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        "Content-Type": "application/json",
    }
    return requests.post(webhook_url, data=body, headers=headers, timeout=5).status_code


def ship_unpaid(shop_url: str, number: str) -> None:
    """Status Verzonden, paid "op rekening": no money yet."""
    orders = requests.get(shop_url, timeout=10).json()
    order = next(o for o in orders if str(o["number"]) == number)
    order["payment"] = {
        "gateway_name": "basic",
        "method_name": "in_arrears",
        "status": {"id": 5, "text": "Pending"},
    }
    order["payment_status"] = "pending"
    requests.post(shop_url, json={"orders": [order]}, timeout=5).raise_for_status()
    requests.post(f"{shop_url}/{number}/status", json={"status": 2}, timeout=5)


def main() -> None:
    mww = os.environ["SANDBOX_MWW_URL"]
    token = os.environ["SANDBOX_SHOP_TOKEN"]
    webhook_url = os.environ["SANDBOX_WEBHOOK_URL"]
    secret = os.environ["SANDBOX_WEBHOOK_SECRET"]
    interval = float(os.environ.get("SANDBOX_ORDER_INTERVAL", "5"))
    rng = random.Random(os.environ.get("SANDBOX_SEED", "sandbox"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    shop_url = f"{mww}/_sandbox/shops/{token}/orders"
    unpaid: dict[int, str] = {}  # due at count → order number
    for count in itertools.count():
        if stop.wait(interval):
            break
        try:
            if count in unpaid:
                number = unpaid.pop(count)
                requests.post(
                    f"{shop_url}/{number}/payments", json={"action": "capture"}, timeout=5
                )
                requests.post(f"{shop_url}/{number}/status", json={"status": 3}, timeout=5)
                print(
                    f"order {number} paid (op rekening); notification answered "
                    f"{notify(webhook_url, secret, number)}",
                    flush=True,
                )
                continue
            kind = rng.choice(KINDS)
            created = requests.post(
                shop_url,
                json={
                    "count": 1,
                    "seed": count,
                    "kinds": [kind],
                    "start": dt.datetime.now().isoformat(),
                },
                timeout=5,
            ).json()
            number = str(created["numbers"][0])
            if kind == "domestic" and count % 4 == 0:
                ship_unpaid(shop_url, number)
                unpaid[count + 3] = number
                print(
                    f"order {number} shipped op rekening; notification answered "
                    f"{notify(webhook_url, secret, number)}",
                    flush=True,
                )
                continue
            if kind not in ("credit", "test"):
                requests.post(f"{shop_url}/{number}/status", json={"status": 3}, timeout=5)
            announced = count % 3 != 2
            status = notify(webhook_url, secret, number) if announced else None
            print(
                f"order {number} ({kind}) paid; "
                + (f"notification answered {status}" if announced else "left for the poll"),
                flush=True,
            )
        except requests.RequestException as err:
            print(f"sandbox activity: {type(err).__name__} (will try again)", flush=True)


if __name__ == "__main__":
    main()
