"""Every page answers within its budget (issue 26, "bounded pages"): the probe found that
two-year reports and backfill dry runs did unbounded work inside the web request. A page
lists at most ``PAGE_MAX_ORDERS`` orders and works at most ``PAGE_WORK_SECONDS``; beyond
that it says what to choose instead (a shorter period; a later date, or the backfill job
itself, which has no such limit). Against the Mijnwebwinkel simulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

import app.budget
import app.report.build
import app.web.control
from app import create_app
from app.jobs.queue import report_queue
from app.store.engine import utcnow
from tests.helpers import World
from tests.web.helpers import EMAIL, login, password_hash, post

PAGE = 4  # the pages' most orders, for these tests


@pytest.fixture
def site(embedded_world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    world = embedded_world
    flask_app = create_app(world.settings, world.services)
    flask_app.config["TESTING"] = True
    world.services.store.users.create(EMAIL, password_hash(), shop_ids=(world.shop.id,))
    client = flask_app.test_client()
    assert login(client).status_code == 302
    import worker.jobs

    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    monkeypatch.setattr(app.web.control, "PAGE_MAX_ORDERS", PAGE)
    monkeypatch.setattr(app.report.build, "PAGE_MAX_ORDERS", PAGE)
    day = utcnow().date().replace(day=2)
    for number in range(8401, 8401 + PAGE + 2):  # more than a page may list
        world.add_order(number, date=day)
    yield world, client, day


def test_a_report_too_large_for_the_page_becomes_a_job(site: Any) -> None:
    """A month the page would build itself (issue 25) but with more orders than a page
    may list: the page does not list them all, it hands the report to a job, whose
    progress it shows; the job (no page budget) builds it with every order."""
    world, client, day = site
    base = f"/koppelingen/{world.shop.id}/controle"
    response = client.get(f"{base}?periode={day:%Y-%m}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="report-progress"' in html and "In de wachtrij" in html
    SimpleWorker(
        [world.services.queue, report_queue(world.services.redis, world.settings.queue_name)],
        connection=world.services.redis,
        serializer=JSONSerializer,
    ).work(burst=True)
    html = client.get(f"{base}?periode={day:%Y-%m}").get_data(as_text=True)
    assert 'id="report-progress"' not in html
    built = client.get(f"{base}?periode={day:%Y-%m}&formaat=json")
    assert built.status_code == 200
    assert built.get_json()["shop_orders"] == PAGE + 2  # every order, listed by the job


def test_a_dry_run_too_large_for_the_page_offers_the_backfill_itself(site: Any) -> None:
    world, client, day = site
    base = f"/koppelingen/{world.shop.id}/inhalen"
    html = client.get(f"{base}?vanaf={day.isoformat()}").get_data(as_text=True)
    assert 'id="backfill-error"' in html and "te veel om op de pagina" in html
    assert 'id="dry-run"' not in html and 'id="backfill-start"' in html
    response = post(client, base, {"vanaf": day.isoformat()}, form_url=f"{base}?vanaf={day}")
    assert response.status_code == 302  # the job has no page budget: it books them all
    SimpleWorker(
        [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
    ).work(burst=True)
    fragment = client.get(f"{base}/voortgang").get_data(as_text=True)
    assert f'id="progress-booked">{PAGE + 2}<' in fragment


def test_a_slow_listing_stops_at_the_deadline(site: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each look at the clock costs 3 s here (a Mijnwebwinkel answering slowly): the page
    gives up after ``PAGE_WORK_SECONDS`` instead of running into gunicorn's timeout."""
    world, client, day = site
    monkeypatch.setattr(app.web.control, "PAGE_MAX_ORDERS", 10_000)
    clock = [0.0]

    def slow() -> float:
        clock[0] += 3.0
        return clock[0]

    monkeypatch.setattr(app.budget, "now", slow)
    html = client.get(f"/koppelingen/{world.shop.id}/inhalen?vanaf={day.isoformat()}").get_data(
        as_text=True
    )
    assert "20 seconden werk" in html
    assert 23.0 < clock[0] <= 26.0  # it stopped at its first look past the deadline
    monkeypatch.setattr(app.budget, "now", lambda: 0.0)  # a quick listing: the dry run
    html = client.get(f"/koppelingen/{world.shop.id}/inhalen?vanaf={day.isoformat()}").get_data(
        as_text=True
    )
    assert f'id="dry-run-summary"><strong>{PAGE + 2} bestellingen worden</strong>' in html
