"""The payment methods a shop uses, for "Betaalmethoden" on the settings page.

From Mijnwebwinkel's list of the shop's gateways and methods when the API answers it;
always completed with the methods seen on the shop's orders (the payments register).
"""

from __future__ import annotations

import logging

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
