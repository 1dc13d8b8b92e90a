"""The payment methods a shop uses, for "Betaalmethoden" on the settings page.

From Mijnwebwinkel's list of the shop's gateways and methods when the API answers it;
always completed with the methods seen on the shop's orders (the payments register).
"""

from __future__ import annotations

import logging

from app.core.mapping_settings import MappingSettings
from app.core.mutations import LedgerAccount
from app.core.payment_facts import METHOD_LABELS, method_key, method_label
from app.errors import ConnectorError
from app.store.shops import Shop
from app.web.common import services
from app.web.filters import capital

log = logging.getLogger(__name__)


def payment_methods(shop: Shop) -> list[tuple[str, str]]:
    """(method, Dutch label) for every method the shop offers or its orders used."""
    found: dict[str, str] = {}
    try:
        for name, display in services().shop_api(shop).payment_methods():
            key = method_key(name)
            found.setdefault(key, method_label(key) if key in METHOD_LABELS else display)
    except ConnectorError as err:  # not offered: the methods seen on orders remain
        log.info("payment methods unavailable: %s", err)
    for method in services().store.payments.methods_seen(shop.id):
        found.setdefault(method, method_label(method))
    labels = {method: capital(label) for method, label in found.items()}
    return sorted(labels.items(), key=lambda item: item[1].lower())


# Gift cards and store credit are paid from the voucher liability: a redemption releases
# it (docs/booking-rules.md, "Gift cards and store credit"). Never "niet boeken" by default.
VOUCHER_METHODS = ("webshop_giftcard", "podium_giftcard")
VOUCHER_WORDS = ("cadeaubon", "cadeaukaart", "waardebon", "tegoed")
VOUCHER_LEDGER_NAME = "Uitstaande cadeaubonnen"


def proposed_ledgers(
    methods: list[tuple[str, str]], mapping: MappingSettings, accounts: list[LedgerAccount]
) -> dict[str, str]:
    """A ledger to propose for each gift-card method that has none yet: the one the shop
    uses for gift-card order lines, else a balance-sheet ledger of its chart named like
    'Uitstaande cadeaubonnen'. "" when there is none (the page says to make one)."""
    line_ledger = mapping.line_type_ledgers.get("gift_card", "")
    named = next(
        (
            a.code
            for a in accounts
            if a.category.upper() not in ("VW", "FIN", "DEB", "CRED")
            and any(word in a.description.lower() for word in VOUCHER_WORDS)
        ),
        "",
    )
    shown = {m for m, _ in methods} | set(mapping.payment_ledgers)
    return {
        method: line_ledger or named
        for method in VOUCHER_METHODS
        if method in shown and method not in mapping.payment_ledgers
    }
