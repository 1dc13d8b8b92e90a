"""A Mijnwebwinkel (MyOnlineStore Connect) API simulator: a WSGI app, shops in memory.

Implements ``GET /v{1|2-beta}/orders``, ``/orders/count``, ``/orders/<n>``,
``/orders/<n>/payments`` (sandbox/mijnwebwinkel/payments.py), ``/payment/stores/<store>/
gateways``, ``/orderstatuses`` and ``/store`` with the vendor spec's parameters and its token auth
(query parameters ``token`` and ``partner_token``). In the default mode every
response validates against the vendor's spec (``sandbox/mijnwebwinkel_openapi.json``);
with ``quirks=True`` orders come in the live shape of NOTES.md §10 (string numbers,
``"21.00"`` rates, one tax object instead of a one-element list, ``"country": []``).

Where the real API is undocumented (NOTES.md §12) the simulator chooses, and tests rely
on it:
- ``limit`` above 100 is silently capped to 100 (the spec only says "max: 100"); a
  ``limit`` below 1, a negative ``offset`` or an unparsable filter → 400.
- ``start_date``/``end_date`` filter the order date, both inclusive.
- ``status_changed_start_date``/``_end_date`` ("yyyy-mm-dd hh:mm:ss" or a bare date) are
  shop-local wall-clock times (Europe/Amsterdam), both inclusive, compared with the
  stored local ``status_changed_date``/``_time``: in the autumn DST hour both 02:30s
  match a window around 02:30.
- Errors use the spec's (otherwise unreferenced) ``Error`` schema ``{code, message,
  description}``; 401 for a missing, wrong or revoked token or a wrong partner token.
- Test orders (``T-<n>``) appear only with ``test=true``, on ``GET /orders/<n>`` too.
- ``/orderstatuses`` needs only the partner token (none when none is configured).

Python control API (tests)::

    sim = MijnwebwinkelSimulator(faults=Faults(), quirks=False, partner_token="p")
    shop = sim.add_shop("token", name="Winkel")
    shop.add_order(make_order(1001)); shop.generate(50, seed=1)
    shop.set_status(1001, 2, at=datetime(...)); shop.orders; sim.revoke("token")
    with ServerThread(sim) as server: ...   # sim is a WSGI app; sim.calls logs requests

HTTP control API (other processes): ``POST /_sandbox/shops`` ``{token, name}``;
``POST /_sandbox/shops/<token>/orders`` ``{count, seed, kinds, start}`` (generate)
and/or ``{orders: [...]}``; ``GET /_sandbox/shops/<token>/orders``;
``POST /_sandbox/shops/<token>/orders/<n>/status`` ``{status, at}``;
``POST /_sandbox/shops/<token>/orders/<n>/payments`` ``{action, amount, at, method}``
(capture, refund, fail, authorize; Python: ``shop.pay(n, "capture", at=…)``);
``POST /_sandbox/shops/<token>/revoke``; ``POST /_sandbox/faults`` (``Faults.configure``
JSON) and ``GET /_sandbox/faults``.
"""

from sandbox.mijnwebwinkel.app import MijnwebwinkelSimulator
from sandbox.mijnwebwinkel.shops import ORDER_STATUSES, SHOP_TZ, Shop, live_shape
from sandbox.mijnwebwinkel.spec import openapi_spec, validate, validate_response

__all__ = [
    "ORDER_STATUSES",
    "SHOP_TZ",
    "MijnwebwinkelSimulator",
    "Shop",
    "live_shape",
    "openapi_spec",
    "validate",
    "validate_response",
]
