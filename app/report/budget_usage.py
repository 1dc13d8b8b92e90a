"""The GetMutaties budget of every e-Boekhouden administration this month (SOAP: 5,000
calls a month, app/fastpaths.py ``GetMutatiesBudget``), for ``/metrics`` and the
administrator's page "Beheer".

What waits when it runs low (``LOW``: 500 left or fewer): the Controle's read-back of the
books is skipped with a Dutch reason once fewer than its ranges plus
``GET_MUTATIES_RESERVE`` (250) are left (app/report/read_books.py), until the month turns;
the recovery look-ups of bookings (an uncertain post, a duplicate invoice number) always
go, a booking never waits for the count.

An administration key names a username or a token digest, so neither leaves the
process: ``/metrics`` labels each administration with ``label()``, a short HMAC under
``SECRET_KEY`` (not reversible without it, the same on every scrape); the page shows the
same label beside the shops' names.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from app.services import Services
from app.states import EbApi


@dataclass(frozen=True, slots=True)
class AdministrationBudget:
    label: str
    used: int
    left: int
    low: bool
    shops: tuple[str, ...] = ()  # names of the shops booking into it (the page only)


def label(secret: str, administration: str) -> str:
    """A short, stable name for an administration that does not reveal its key."""
    key = (secret or "mww-connector").encode()
    return hmac.new(key, administration.encode(), hashlib.sha256).hexdigest()[:12]


def budgets(services: Services, *, with_shops: bool = False) -> list[AdministrationBudget]:
    """Every administration with calls this month (and, ``with_shops``, every SOAP
    administration of a shop, also without calls), the least left first."""
    counter = services.get_mutaties
    used = counter.month_used()
    names: dict[str, list[str]] = {}
    if with_shops:
        for shop in services.store.shops.all():
            if shop.credentials.eb_api == EbApi.SOAP:
                names.setdefault(shop.credentials.administration_key, []).append(shop.name)
    secret = services.settings.secret_key
    rows = []
    for admin in sorted(set(used) | set(names)):
        left = max(0, counter.LIMIT - used.get(admin, 0))
        rows.append(
            AdministrationBudget(
                label(secret, admin),
                used.get(admin, 0),
                left,
                left <= counter.LOW,
                tuple(sorted(names.get(admin, []))),
            )
        )
    return sorted(rows, key=lambda r: (r.left, r.label))


def exposition(rows: list[AdministrationBudget]) -> bytes:
    """Prometheus text: calls used and left this month per administration (gauges)."""
    lines = [
        "# HELP mww_getmutaties_used GetMutaties calls this month per e-Boekhouden "
        "administration (SOAP; 5000 a month).",
        "# TYPE mww_getmutaties_used gauge",
        *(f'mww_getmutaties_used{{administration="{r.label}"}} {r.used}' for r in rows),
        "# HELP mww_getmutaties_left GetMutaties calls left this month per administration.",
        "# TYPE mww_getmutaties_left gauge",
        *(f'mww_getmutaties_left{{administration="{r.label}"}} {r.left}' for r in rows),
    ]
    return ("\n".join(lines) + "\n").encode()
