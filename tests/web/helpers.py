"""Shared test helpers (not fixtures): imported by test modules and by conftest."""

from __future__ import annotations

import functools
import html as htmllib
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.security import generate_password_hash

from app.config import Settings
from app.core.mutations import LedgerAccount
from app.core.order_schema import parse_order
from app.core.orders import Order, OrderStatus, ShopInfo
from app.core.payment_facts import PaymentFacts, facts_from_order
from app.crypto import Vault, generate_key
from app.errors import BookkeepingAuthError, OrderNotFoundError, ShopAuthError
from app.jobs.queue import get_queue
from app.services import Services
from app.store.engine import engine_for
from app.store.shops import Shop
from tests.helpers import Backend

GOOD_TOKEN = "mww-token-0123456789"


GOOD_USER, GOOD_CODE1, GOOD_CODE2 = "winkelier", "code1-abcdef", "code2-ghijkl"
GOOD_API_TOKEN = "eb-api-token-0123456789abcdef"


EMAIL, PASSWORD = "beheer@example.nl", "een-lang-wachtwoord"


CHART = [
    ("1100", "Bank", "FIN"),
    ("1300", "Debiteuren", "DEB"),
    ("8000", "Omzet groep 1", "VW"),
    ("8010", "Omzet groep 2", "VW"),
    ("8100", "Omzet verzendkosten", "VW"),
    ("8040", "Omzet OSS DE", "VW"),
    ("1650", "Te betalen OSS-btw DE", "BAL"),
]


STATUSES = [
    OrderStatus(1, "Nieuw"),
    OrderStatus(2, "Verzonden"),
    OrderStatus(3, "Betaald"),
    OrderStatus(6, "Betaald & afgehaald"),
    OrderStatus(10, "Gecrediteerd", True),
]


@dataclass
class FakeShopApi:
    token: str
    orders: dict[str, Order]

    def _check(self) -> None:
        if self.token != GOOD_TOKEN:
            raise ShopAuthError(
                "401",
                system="mijnwebwinkel",
                explanation=("Mijnwebwinkel weigert de API-token van deze winkel."),
            )

    def store(self) -> ShopInfo:
        self._check()
        return ShopInfo(id="s1", name="Testwinkel")

    def order_statuses(self) -> list[OrderStatus]:
        return list(STATUSES)

    def payment_methods(self) -> list[tuple[str, str]]:
        self._check()
        return [("ideal", "iDEAL"), ("cash", "Contant"), ("webshop_giftcard", "Cadeaubon")]

    def order_payments(self, number: str) -> PaymentFacts | None:
        self._check()
        return facts_from_order(self.get_order(number))

    def get_order(self, number: str) -> Order:
        self._check()
        if number not in self.orders:
            raise OrderNotFoundError(
                "404",
                system="mijnwebwinkel",
                explanation=(f"Bestelling {number} bestaat niet (meer) in Mijnwebwinkel."),
            )
        return self.orders[number]


@dataclass
class FakeBookkeeping:
    username: str
    codes: tuple[str, str]
    api_token: str = ""  # set: the shop books through REST
    closed: bool = False

    def verify(self) -> None:
        if self.api_token:
            if self.api_token != GOOD_API_TOKEN:
                raise BookkeepingAuthError(
                    "API_SESSION_004",
                    system="eboekhouden",
                    explanation="Het API-token is verlopen.",
                )
            return
        if self.username != GOOD_USER or self.codes != (GOOD_CODE1, GOOD_CODE2):
            raise BookkeepingAuthError(
                "INLOG_ONGELDIG",
                system="eboekhouden",
                explanation=("e-Boekhouden weigert de inloggegevens."),
            )

    def ledger_accounts(self) -> list[LedgerAccount]:
        return [LedgerAccount(i, code, text, cat) for i, (code, text, cat) in enumerate(CHART)]

    def close(self) -> None:
        self.closed = True


@dataclass
class Web:
    app: Flask
    client: FlaskClient
    services: Services
    orders: dict[str, Order] = field(default_factory=dict)

    def add_order(self, data: dict[str, Any]) -> Order:
        order = parse_order(data)
        self.orders[order.number] = order
        return order


# scrypt is slow on purpose (about 120 ms of CPU a check at the service's cost), and the
# tests' users log in hundreds of times: their stored hash is made once, at a small cost
# (werkzeug reads the cost from the stored hash), so a test login checks in milliseconds.
# The service's own hashes keep the full cost (``hash_password``, tests/test_passwords.py).
TEST_SCRYPT = "scrypt:1024:8:1"


@functools.cache
def password_hash() -> str:
    """The tests' users' stored password hash (see ``TEST_SCRYPT``)."""
    return generate_password_hash(PASSWORD, method=TEST_SCRYPT)


def csrf(client: FlaskClient, url: str) -> str:
    """The CSRF token of the form on ``url``."""
    html = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def make_services(backend: Backend, orders: dict[str, Order]) -> Services:
    settings = Settings(
        database_url=backend.database_url,
        secret_key="test-secret-key",
        encryption_key=generate_key(),
        public_base_url="https://koppeling.example.nl",
    )
    return Services(
        settings=settings,
        engine=engine_for(backend.database_url),
        redis=backend.redis,
        vault=Vault(settings.encryption_key),
        queue=get_queue(backend.redis, "bookings"),
        shop_api_factory=lambda shop: FakeShopApi(shop.credentials.mww_token, orders),
        bookkeeping_factory=lambda shop: FakeBookkeeping(
            shop.credentials.eb_username,
            (shop.credentials.eb_code1, shop.credentials.eb_code2),
            shop.credentials.eb_api_token,
        ),
    )


def login(client: FlaskClient, email: str = EMAIL, password: str = PASSWORD) -> Any:
    token = csrf(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def post(
    client: FlaskClient, url: str, data: dict[str, Any] | None = None, form_url: str | None = None
) -> Any:
    """POST with the CSRF token of the page the form is on (``form_url``, default ``url``)."""
    token = csrf(client, form_url or url)
    return client.post(url, data={**(data or {}), "csrf_token": token})


def shop_of(web: Web, shop_id: int) -> Shop:
    shop = web.services.load_shop(shop_id)
    assert shop is not None
    return shop


GOOD = {
    "name": "De Theepot",
    "mww_token": GOOD_TOKEN,
    "eb_username": GOOD_USER,
    "eb_code1": GOOD_CODE1,
    "eb_code2": GOOD_CODE2,
}


def add_shop(client: FlaskClient, **overrides: str) -> Any:
    return post(client, "/koppelingen/nieuw", {**GOOD, **overrides})


def new_shop(web: Web, client: FlaskClient) -> int:
    response = add_shop(client)
    return int(response.location.split("/")[-2])


def form_values(page: str) -> MultiDict[str, str]:
    """What a browser would submit for the form as rendered (selected/checked values)."""
    values: MultiDict[str, str] = MultiDict()
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page):
        values.add(name, value)
    for match in re.finditer(r'<select name="([^"]+)".*?</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', match.group(0))
        values.add(match.group(1), chosen.group(1) if chosen else "")
    for name, value in re.findall(
        r'<input type="checkbox" name="([^"]+)" value="([^"]+)"\s+checked', page
    ):
        values.add(name, value)
    for name in ("payment_term_days", "invoice_format", "collective_debtor"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page, re.S)
        values.add(name, htmllib.unescape(found.group(1)) if found else "")
    values.pop("csrf_token", None)
    return values


def submit(client: FlaskClient, shop_id: int, action: str = "install", **changes: Any) -> Any:
    url = f"/koppelingen/{shop_id}/instellingen"
    page = client.get(url).get_data(as_text=True)
    data = form_values(page)
    for key, value in changes.items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
    data["action"] = action
    data["csrf_token"] = csrf(client, url)
    return client.post(url, data=data)
