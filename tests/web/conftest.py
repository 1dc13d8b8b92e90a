"""Fixtures for the web interface: the app with hand-written fake clients, a logged-in
test client, and ``csrf(...)`` to read a page's CSRF token like a browser would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.core.orders import Order
from tests.helpers import Backend
from tests.web.helpers import (
    EMAIL,
    Web,
    login,
    make_services,
    password_hash,
)


@pytest.fixture
def web(embedded_backend: Backend) -> Iterator[Web]:
    orders: dict[str, Order] = {}
    services = make_services(embedded_backend, orders)
    app = create_app(services.settings, services)
    app.config["TESTING"] = True
    services.store.users.create(EMAIL, password_hash())
    yield Web(app, app.test_client(), services, orders)


@pytest.fixture
def client(web: Web) -> FlaskClient:
    """A logged-in test client."""
    response = login(web.client)
    assert response.status_code == 302
    return web.client
