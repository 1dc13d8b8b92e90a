"""Issue 15 point 6 on the pages: with Redis (or the database) away every page answers
503 with a Dutch message, and nothing changes without the job that goes with it."""

from __future__ import annotations

import html as htmllib
from typing import Any

from flask.testing import FlaskClient

from app.clients.eboekhouden import EBoekhoudenClient
from app.fastpaths import SessionStore
from app.jobs.queue import get_queue
from app.services import redis_client
from app.states import BookingState
from app.store import Store
from app.store.engine import engine_for
from tests.helpers import EB_CODE1, EB_CODE2, EB_USER, booking_job_ids
from tests.web.helpers import Web, new_shop, post

DOWN = redis_client("redis://127.0.0.1:1/0")  # as the app builds it; nothing listens


def text(response: Any) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def failed_booking(web: Web, shop_id: int, number: str) -> int:
    store = web.services.store.bookings
    store.record_unclaimed(
        shop_id,
        number,
        state=BookingState.FAILED,
        error_code="X",
        last_error="X",
        reason="Grootboek 8999 bestaat niet.",
    )
    row = store.get(shop_id, number)
    assert row is not None
    return row.id


def test_retry_with_the_queue_down_is_503_and_changes_nothing(
    web: Web, client: FlaskClient
) -> None:
    shop_id = new_shop(web, client)
    booking_id = failed_booking(web, shop_id, "1003")
    url = f"/koppelingen/{shop_id}/boekingen/{booking_id}"
    working_queue = web.services.queue
    web.services.queue = get_queue(DOWN, "bookings")
    response = post(client, f"{url}/opnieuw", form_url=url)
    assert response.status_code == 503
    page = text(response)
    assert "Tijdelijk niet beschikbaar" in page
    assert "Bestelling 1003 kon niet opnieuw in de wachtrij worden gezet" in page
    assert "Er is niets gewijzigd" in page
    row = web.services.store.bookings.get_for_shop(shop_id, booking_id)
    assert row is not None
    assert (row.state, row.reason) == (BookingState.FAILED, "Grootboek 8999 bestaat niet.")
    # Redis back: the same button works, and the job goes with the state change.
    web.services.queue = working_queue
    response = post(client, f"{url}/opnieuw", form_url=url)
    assert response.status_code == 302
    row = web.services.store.bookings.get_for_shop(shop_id, booking_id)
    assert row is not None and row.state == BookingState.RETRYING
    assert booking_job_ids(working_queue, shop_id, "1003")


def test_settings_page_works_with_redis_down(web: Web, client: FlaskClient, eb_server: Any) -> None:
    """The shared e-Boekhouden session is only a cache: the page opens its own."""
    _, thread = eb_server
    shop_id = new_shop(web, client)
    web.services.bookkeeping_factory = lambda shop: EBoekhoudenClient(
        EB_USER,
        EB_CODE1,
        EB_CODE2,
        url=f"{thread.url}/soap.asmx",
        timeout=15.0,
        operation_timeout=15.0,
        session_store=SessionStore(DOWN, shop.id, EB_USER, web.services.vault),
    )
    response = client.get(f"/koppelingen/{shop_id}/instellingen")
    assert response.status_code == 200
    page = text(response)
    assert "De grootboekrekeningen konden niet" not in page
    assert "8000 - " in page  # the chart came from the simulator


def test_a_page_that_meets_redis_down_answers_503_in_dutch(web: Web, client: FlaskClient) -> None:
    """Any page whose Redis call fails (here the booking page, through its store)."""
    shop_id = new_shop(web, client)
    booking_id = failed_booking(web, shop_id, "1003")

    def redis_down(*args: Any, **kwargs: Any) -> Any:
        return DOWN.ping()

    web.services.store.bookings.get_for_shop = redis_down  # type: ignore[method-assign]
    response = client.get(f"/koppelingen/{shop_id}/boekingen/{booking_id}")
    assert response.status_code == 503
    page = text(response)
    assert "De wachtrij (Redis) is even niet bereikbaar" in page
    assert "probeer het over een paar minuten opnieuw" in page


def test_every_page_answers_503_in_dutch_when_the_database_is_down(
    web: Web, client: FlaskClient, tmp_path: Any
) -> None:
    shop_id = new_shop(web, client)
    web.services.store = Store(
        engine_for(f"sqlite:///{tmp_path}/missing/dir/db.sqlite"), web.services.vault
    )
    for url in ("/", f"/koppelingen/{shop_id}", f"/koppelingen/{shop_id}/instellingen"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert "De database is even niet bereikbaar" in text(response)


def test_the_webhook_answers_503_json_when_the_database_is_down(web: Web, tmp_path: Any) -> None:
    from app import create_app
    from app.services import Services

    live = web.services
    broken = Services(
        settings=live.settings,
        engine=engine_for(f"sqlite:///{tmp_path}/missing/dir/db.sqlite"),
        redis=live.redis,
        vault=live.vault,
        queue=live.queue,
        shop_api_factory=live.shop_api_factory,
        bookkeeping_factory=live.bookkeeping_factory,
    )
    client = create_app(broken.settings, broken).test_client()
    response = client.post(
        "/webhooks/mijnwebwinkel/some-shop-key",
        data=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 503
    assert response.get_json() == {"error": "database unavailable, try again later"}
    assert live.queue.count == 0
