"""A connected shop on either e-Boekhouden adapter (SOAP or REST), for tests that must hold
on both: ``books`` is parametrized over the two and hides which simulator answers.

Fixtures are defined here (``books``, ``rest_sim``) and imported by the test modules that
use them: ``from tests.adapter_worlds import books_fixture, rest_sim_fixture``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from app.clients.eboekhouden_rest import clear_caches
from app.services import real_bookkeeping_factory
from app.store.shops import Credentials
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator
from sandbox.faults import Faults
from sandbox.server import ServerThread
from tests.helpers import EB_USER, World

API_TOKEN = "rest-api-token-issue29-0123456789"
# SOAP operation → the REST simulator's operation.
REST_NAMES = {
    "AddMutatie": "create_mutation",
    "AddRelatie": "create_relation",
    "GetRelaties": "get_relations",
    "OpenSession": "session",
    "GetMutaties": "get_mutations",
}


@pytest.fixture(scope="session", name="rest_sim")
def rest_sim_fixture() -> Iterator[tuple[EBoekhoudenRestSimulator, ServerThread]]:
    sim = EBoekhoudenRestSimulator()
    sim.add_administration(API_TOKEN, name="Testwinkel BV")
    with ServerThread(sim) as server:
        yield sim, server


@dataclasses.dataclass
class Books:
    """The e-Boekhouden side of ``world``'s shop, whichever adapter it books through."""

    api: str  # "soap" | "rest"
    world: World
    rest: EBoekhoudenRestSimulator | None = None

    @property
    def faults(self) -> Faults:
        return self.world.eb.faults if self.rest is None else self.rest.faults

    def fault(self, kind: str, operation: str | None = None, **kw: Any) -> None:
        if self.rest is not None and operation is not None:
            operation = REST_NAMES[operation]
        self.faults.add(kind, operation=operation, **kw)

    def invoice_numbers(self) -> list[str]:
        if self.rest is None:
            return sorted(str(m["Factuurnummer"]) for m in self.world.mutations())
        return sorted(str(m["invoiceNumber"]) for m in self.rest.mutations(API_TOKEN))

    def relation_codes(self) -> list[str]:
        if self.rest is None:
            return sorted(str(r["Code"]) for r in self.world.eb.relations(EB_USER))
        return sorted(str(r["code"]) for r in self.rest.relations(API_TOKEN))

    def calls(self, operation: str) -> int:
        """Calls of a SOAP operation (or its REST twin) that reached the administration."""
        if self.rest is None:
            return int(self.world.eb.admin_calls(EB_USER)[operation])
        return int(self.rest.admin_calls(API_TOKEN)[REST_NAMES[operation]])


def use_rest(world: World, rest_url: str) -> None:
    """What "Gegevens" does when the owner fills in an API token."""
    settings = dataclasses.replace(world.settings, eboekhouden_rest_url=rest_url)
    world.services.bookkeeping_factory = real_bookkeeping_factory(settings, world.services.redis)
    creds = world.shop.credentials
    world.services.store.shops.update_connection(
        world.shop.id,
        name=world.shop.name,
        credentials=Credentials(
            creds.mww_token, creds.eb_username, creds.eb_code1, creds.eb_code2, API_TOKEN
        ),
    )
    world.reload_shop()


@pytest.fixture(params=["soap", "rest"], name="books")
def books_fixture(request: pytest.FixtureRequest, world: World, rest_sim: Any) -> Iterator[Books]:
    if request.param == "soap":
        yield Books("soap", world)
        return
    sim, thread = rest_sim
    sim.reset()
    clear_caches()
    use_rest(world, thread.url)
    yield Books("rest", world, sim)
    clear_caches()
