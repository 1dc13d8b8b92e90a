"""Every setting together (issue 23, point 6): the whole pipeline on the simulators over
adapter (SOAP, REST) × mode (invoice, invoice and payment, cash) × the first shop's invoice
format (bare, W1-{number}) × verzameldebiteur (on, off), with two shops on one
administration booking the same order numbers (tests/money_matrix.py says which orders and
what happens to their money). Invariants, on the simulators' books: every payment carries
its own invoice's Factuurnummer and relation; per invoice the booked payments equal the
captures, per credit family the refunds; every capture and refund booked exactly once;
nothing of one shop on the other's invoices.

``make test`` runs the reduced matrix (every value of every setting); ``make chaos`` the
full one (``MONEY_MATRIX=full``), and random families (hypothesis) on top.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.helpers import Backend
from tests.money import money_rest_server, open_money
from tests.money_matrix import MATRIX, REDUCED, Combo, check, play

__all__ = ["money_rest_server"]  # the session fixture, used through open_money

FULL = os.environ.get("MONEY_MATRIX") == "full"


def run_combo(
    combo: Combo,
    request: pytest.FixtureRequest,
    backend: Backend,
    mww_server: Any,
    eb_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for money in open_money(request, backend, mww_server, eb_server, adapter=combo.adapter):
        shops = play(money, combo, monkeypatch)
        problems = check(money, combo, shops)
        assert not problems, "\n".join(problems)


@pytest.mark.parametrize("combo", REDUCED, ids=[c.id for c in REDUCED])
def test_every_setting_together(
    combo: Combo,
    request: pytest.FixtureRequest,
    backend: Backend,
    mww_server: Any,
    eb_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_combo(combo, request, backend, mww_server, eb_server, monkeypatch)


@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="the full matrix runs in make chaos (MONEY_MATRIX=full)")
@pytest.mark.parametrize("combo", [c for c in MATRIX if c not in REDUCED], ids=lambda c: c.id)
def test_every_setting_together_full_matrix(
    combo: Combo,
    request: pytest.FixtureRequest,
    backend: Backend,
    mww_server: Any,
    eb_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_combo(combo, request, backend, mww_server, eb_server, monkeypatch)
