"""Issue 17 pages on the simulators: the booking page's rows and attempts, "Controle"
(page, CSV, xlsx), "Inhalen" (dry run, job, progress), "Meldingen" and the charts; and
``flask report``."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app import create_app
from app.booking.pipeline import book_order
from app.errors import UpstreamUnavailableError
from app.report.tables import TABLE_NAMES
from app.store.engine import utcnow
from tests.helpers import World
from tests.web.helpers import EMAIL, login, password_hash, post


@pytest.fixture
def site(
    embedded_world: World, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[World, FlaskClient]]:
    world = embedded_world
    app = create_app(world.settings, world.services)
    app.config["TESTING"] = True
    world.services.store.users.create(EMAIL, password_hash(), shop_ids=(world.shop.id,))
    client = app.test_client()
    assert login(client).status_code == 302
    import worker.jobs

    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    yield world, client


def _book(world: World, number: int) -> str:
    for _ in range(4):
        try:
            return book_order(world.services, world.shop, str(number)).status
        except UpstreamUnavailableError:  # the simulator's first SOAP call on a busy machine
            continue
    raise AssertionError(number)


def _this_month() -> dt.date:
    return utcnow().date().replace(day=2)


def test_booking_page_shows_rows_relation_invoice_and_attempts(site: Any) -> None:
    world, client = site
    world.add_order(8101, kind="mixed_rates", date=_this_month())
    assert _book(world, 8101) == "booked"
    row = world.services.store.bookings.get(world.shop.id, "8101")
    html = client.get(f"/koppelingen/{world.shop.id}/boekingen/{row.id}").get_data(as_text=True)
    rows = world.services.store.history.rows(row.id)
    invoice = [r for r in rows if r.soort == "FactuurVerstuurd"]
    assert len(invoice) >= 2 and sum(r.incl for r in invoice) == row.total
    assert 'id="booked-rows"' in html and 'id="invoice-number">8101<' in html
    for r in rows:
        assert r.btw_code in html and r.ledger in html
    assert f"(relatie {row.relation_code})" in html  # next to the customer's name
    assert 'id="attempts"' in html and "Geboekt" in html

    world.add_order(8102, kind="oss", date=_this_month())  # no BTW code for OSS: fails
    assert _book(world, 8102) == "failed"
    failed = world.services.store.bookings.get(world.shop.id, "8102")
    page = client.get(f"/koppelingen/{world.shop.id}/boekingen/{failed.id}").get_data(as_text=True)
    attempts = world.services.store.history.attempts(failed.id)
    assert [a.outcome for a in attempts] == ["failed"] and attempts[0].error_code == "mapping"
    assert "OSS-verkoop" in page and "Nog niets geboekt." in page


def test_control_page_csv_and_xlsx(site: Any) -> None:
    world, client = site
    day = dt.date(2026, 10, 5)
    for number in (8201, 8202, 8203):
        world.add_order(number, kind="mixed_rates", date=day)
        assert _book(world, number) == "booked"
    world.add_order(8204, status=1, date=day)  # new: not to be booked
    stored = world.sim_shop.orders["8202"]
    stored["price"]["total"] = f"{Decimal(stored['price']['total']) + 1:.2f}"

    url = f"/koppelingen/{world.shop.id}/controle?periode=2026-10"
    html = client.get(url).get_data(as_text=True)
    assert "Oktober 2026" in html and 'id="report-table"' in html
    assert 'id="changed-8202"' in html and 'id="not_booked-8204"' in html
    assert "Status &#39;Nieuw&#39; wordt niet geboekt." in html

    base = f"/koppelingen/{world.shop.id}/controle/download?periode=2026-10"
    archive = client.get(f"{base}&formaat=csv")  # one table per file, in a zip
    assert archive.headers["Content-Disposition"].endswith('.zip"')
    with zipfile.ZipFile(io.BytesIO(archive.get_data())) as files:
        assert set(files.namelist()) == {f"{name}.csv" for name in TABLE_NAMES}
        zipped = files.read("aansluiting.csv").decode("utf-8-sig")
    csv = client.get(f"{base}&formaat=csv&lijst=aansluiting")
    assert csv.headers["Content-Disposition"].endswith('-aansluiting.csv"')
    text = csv.get_data().decode("utf-8-sig")
    assert text == zipped
    lines = text.splitlines()
    assert lines[0].startswith("Onderdeel;BTW-code;Grootboek;Aantal")
    total = next(x for x in lines if x.startswith("Totaal verkopen;"))
    store = world.services.store
    booked = sum(
        r.incl
        for n in ("8201", "8202", "8203")
        for r in store.history.rows(store.bookings.get(world.shop.id, n).id)
        if r.soort == "FactuurVerstuurd"
    )
    assert total.split(";")[-1] == f"{booked:.2f}".replace(".", ",")
    assert total.split(";")[3] == "3"  # orders counted once, not once per line

    from openpyxl import load_workbook

    xlsx = client.get(
        f"/koppelingen/{world.shop.id}/controle/download?periode=2026-10&formaat=xlsx"
    )
    sheet = load_workbook(io.BytesIO(xlsx.get_data()))["Aansluiting"]
    totals = [r for r in sheet.iter_rows(values_only=True) if r[0] == "Totaal verkopen"]
    assert Decimal(str(totals[0][6])) == booked

    bad = client.get(f"/koppelingen/{world.shop.id}/controle?periode=2026-13")
    assert bad.status_code == 400 and "maand 13 bestaat niet" in bad.get_data(as_text=True)

    runner = client.application.test_cli_runner()
    out = runner.invoke(
        args=[
            "report",
            "--shop",
            str(world.shop.id),
            "--period",
            "2026-10-01..2026-10-31",
            "--format",
            "json",
        ]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["totals"]["verkopen"]["incl"] == f"{booked:.2f}"
    assert [f["number"] for f in data["changed"]] == ["8202"]
    out = runner.invoke(args=["report", "--shop", str(world.shop.id), "--period", "Q3"])
    assert out.exit_code == 2 and "geen periode" in out.output


def test_backfill_dry_run_job_and_progress(site: Any) -> None:
    world, client = site
    day = _this_month()
    for number in range(8301, 8306):
        world.add_order(number, date=day)
    world.add_order(8306, kind="oss", date=day)
    base = f"/koppelingen/{world.shop.id}/inhalen"
    html = client.get(f"{base}?vanaf={day.isoformat()}").get_data(as_text=True)
    assert 'id="dry-run-summary"><strong>5 bestellingen worden</strong> geboekt' in html
    assert 'id="dry-run-unmappable"' in html and "8306" in html
    assert world.mutations() == []  # a dry run books nothing

    assert client.get(f"{base}?vanaf=morgen").status_code == 400
    response = post(client, base, {"vanaf": day.isoformat()}, form_url=f"{base}?vanaf={day}")
    assert response.status_code == 302
    fragment = client.get(f"{base}/voortgang").get_data(as_text=True)
    assert "In de wachtrij" in fragment
    SimpleWorker(
        [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
    ).work(burst=True)
    fragment = client.get(f"{base}/voortgang").get_data(as_text=True)
    assert 'id="progress-booked">5<' in fragment and 'id="progress-failed">1<' in fragment
    assert 'data-finished="ja"' in fragment
    assert len(world.mutations()) >= 5


def test_alert_settings_page(site: Any) -> None:
    world, client = site
    html = client.get("/meldingen").get_data(as_text=True)
    assert 'id="alerts-off"' in html  # no SMTP_URL in this app
    response = post(
        client, "/meldingen", {f"digest-{world.shop.id}": "on", "credentials-alle": "on"}
    )
    assert response.status_code == 302
    alerts = world.services.store.alerts
    assert alerts.recipients(world.shop.id, "digest") == [EMAIL]
    assert alerts.recipients(world.shop.id + 999, "digest") == []
    # "all shops" means all the shops this user may see: not another owner's
    assert alerts.recipients(world.shop.id + 999, "credentials") == []
    html = client.get("/meldingen").get_data(as_text=True)
    assert (
        f'id="digest-{world.shop.id}" aria-label="Overzicht mislukte boekingen, Testwinkel" checked'
    ) in html
    post(client, "/meldingen", {})
    assert alerts.recipients(world.shop.id, "digest") == []


def test_overview_charts(site: Any) -> None:
    world, client = site
    today = utcnow().date()
    world.add_order(8401, date=today)
    world.add_order(8402, kind="oss", date=today)
    assert _book(world, 8401) == "booked" and _book(world, 8402) == "failed"
    html = client.get(f"/koppelingen/{world.shop.id}").get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2
    assert "Boekingen per dag, laatste 30 dagen" in html
    assert "Omzet excl. btw per btw-code per maand" in html
    row = world.services.store.history.rows(
        world.services.store.bookings.get(world.shop.id, "8401").id
    )[0]
    assert f'<th class="num">{row.btw_code}</th>' in html  # the turnover table's column
    from app.web.filters import money

    rows = world.services.store.history.rows(
        world.services.store.bookings.get(world.shop.id, "8401").id
    )
    month_total = sum((r.excl for r in rows if r.soort == "FactuurVerstuurd"), Decimal(0))
    assert f'<td class="num">{money(month_total)}</td></tr>' in html  # this month's total
