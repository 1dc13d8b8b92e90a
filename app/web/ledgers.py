"""The shop's chart of accounts on the pages: grouped for the selects (balance sheet apart
from profit and loss, as e-Boekhouden's own screens do), and ledger names for the booking
page, kept a few minutes per process so a page of bookings does not call e-Boekhouden
every time."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from app.config import LEDGER_NAMES_TTL
from app.core.mutations import LedgerAccount
from app.errors import ConnectorError
from app.store.shops import Shop
from app.web.common import services

log = logging.getLogger(__name__)

PROFIT_AND_LOSS = "Winst en verlies"  # omzet, kosten: Categorie VW
BALANCE = "Balans"  # bank, kas, debiteuren, btw, tussenrekeningen: every other Categorie
NOT_FOUND = "Niet gevonden in e-Boekhouden"

Groups = list[tuple[str, list[tuple[str, str]]]]


def group_of(account: LedgerAccount) -> str:
    """e-Boekhouden's Categorie ``VW`` is profit and loss; every other one (BAL, FIN,
    DEB, CRED, AF*, VOOR, BTWRC) is on the balance sheet. Without a category (an older
    answer): the Dutch chart's numbering, 0–3 balance, 4–9 profit and loss."""
    category = account.category.strip().upper()
    if category:
        return PROFIT_AND_LOSS if category == "VW" else BALANCE
    first = account.code[:1]
    return PROFIT_AND_LOSS if first and first in "456789" else BALANCE


def ledger_groups(accounts: Iterable[LedgerAccount], used: Iterable[str] = ()) -> Groups:
    """(group, [(code, "code - description")]) for the selects: profit and loss, balance,
    and the codes the settings use that the chart lacks (kept, so nothing is lost)."""
    groups: dict[str, list[tuple[str, str]]] = {PROFIT_AND_LOSS: [], BALANCE: []}
    known = set()
    for account in sorted(accounts, key=lambda a: a.code):
        groups[group_of(account)].append((account.code, f"{account.code} - {account.description}"))
        known.add(account.code)
    missing = sorted({code for code in used if code and code not in known})
    if missing:
        groups[NOT_FOUND] = [(code, f"{code} (niet gevonden in e-Boekhouden)") for code in missing]
    return [(title, rows) for title, rows in groups.items() if rows]


_cache: dict[int, tuple[float, dict[str, str]]] = {}
_lock = threading.Lock()


def ledger_names(shop: Shop) -> dict[str, str]:
    """Code → description from the shop's chart ({} when e-Boekhouden cannot be read:
    the page then shows the codes alone)."""
    now = time.monotonic()
    with _lock:
        cached = _cache.get(shop.id)
    if cached and cached[0] > now:
        return cached[1]
    try:
        names = {a.code: a.description for a in services().bookkeeping(shop).ledger_accounts()}
    except ConnectorError as err:
        log.info("ledger names unavailable: %s", err)
        return {}
    with _lock:
        _cache[shop.id] = (now + LEDGER_NAMES_TTL, names)
    return names


def forget(shop_id: int) -> None:
    """After the settings are saved: the chart may have been changed in e-Boekhouden."""
    with _lock:
        _cache.pop(shop_id, None)
