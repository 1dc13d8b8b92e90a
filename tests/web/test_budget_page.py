"""The GetMutaties budget, visible: per administration in ``/metrics`` (labelled by a
short HMAC, never the username) and on the administrators' page "Beheer" (a table with a
caption and headers, in Dutch, with a warning and what waits when it runs low); the log
warns once when an administration crosses the low mark."""

from __future__ import annotations

import logging

import pytest

from app.report.budget_usage import label
from app.states import Role, ShopStatus
from app.store.credentials import Credentials
from tests.web.helpers import Web, login, password_hash

ADMIN = "operator@example.nl"
EB_USER = "Boekhouder-Jansen"


def soap_shop(web: Web, name: str, user: str = EB_USER) -> str:
    web.services.store.shops.register(
        name=name,
        status=ShopStatus.ACTIVE,
        credentials=Credentials(f"mww-{name}", user, "code-1", "code-2"),
    )
    return f"soap:{user.casefold()}"


@pytest.mark.parametrize(
    ("used", "left", "state", "warned"),
    [
        (10, 4990, "Ruim voldoende", False),
        (4600, 400, "Bijna op", True),
        (5000, 0, "Op", True),
    ],
)
def test_the_budget_per_administration_on_the_page_and_in_metrics(
    web: Web, caplog: pytest.LogCaptureFixture, used: int, left: int, state: str, warned: bool
) -> None:
    admin = soap_shop(web, "Winkel Noord")
    soap_shop(web, "Winkel Zuid")  # one administration, two shops
    with caplog.at_level(logging.WARNING, logger="app.fastpaths"):
        web.services.get_mutaties.increment(admin, used - 1)
        web.services.get_mutaties.increment(admin, 1)
        web.services.get_mutaties.increment(admin, 0)
    lows = [r for r in caplog.records if "budget low" in r.getMessage()]
    assert len(lows) == (1 if warned else 0)  # once, however many calls follow

    tag = label(web.services.settings.secret_key, admin)
    metrics = web.app.test_client().get("/metrics").get_data(as_text=True)
    assert f'mww_getmutaties_used{{administration="{tag}"}} {used}' in metrics
    assert f'mww_getmutaties_left{{administration="{tag}"}} {left}' in metrics
    assert EB_USER.casefold() not in metrics.casefold()

    web.services.store.users.create(ADMIN, password_hash(), Role.ADMIN)
    client = web.app.test_client()
    assert login(client, ADMIN).status_code == 302
    page = client.get("/beheer")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<caption>Opvragingen van mutaties per administratie, deze maand</caption>" in html
    assert '<th scope="col" class="num">Over</th>' in html
    row = html[html.index(f'id="admin-{tag}"') :].split("</tr>")[0]
    assert "Winkel Noord, Winkel Zuid" in row
    assert f'<td class="num">{used}</td>' in row and f'<td class="num">{left}</td>' in row
    assert state in row
    assert ('id="getmutaties-low"' in html) is warned
    if warned:
        assert "Het boeken gaat gewoon door" in html and "volgende maand" in html
    assert EB_USER.casefold() not in html.casefold()
    assert 'href="/beheer"' in html  # in the menu, for administrators


def test_only_administrators_see_the_page(web: Web, client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/beheer").status_code == 404
    assert 'href="/beheer"' not in client.get("/meldingen").get_data(as_text=True)


def test_without_soap_administrations_the_page_says_so(web: Web) -> None:
    web.services.store.users.create(ADMIN, password_hash(), Role.ADMIN)
    client = web.app.test_client()
    assert login(client, ADMIN).status_code == 302
    assert 'id="getmutaties-none"' in client.get("/beheer").get_data(as_text=True)
