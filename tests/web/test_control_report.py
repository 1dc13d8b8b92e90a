"""Issue 25 on the Controle page, against the simulators: the current quarter by default
(with its "loopt nog" note), reports beyond a month and those that read e-Boekhouden as a
job with progress and a cache (a page never builds them itself), reading e-Boekhouden only
from a form with the month's budget shown, JSON from the page, "akkoord" on a
difference, the charts, and the xlsx checked cell by cell."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app import create_app
from app.booking.pipeline import book_order
from app.errors import UpstreamUnavailableError
from app.jobs.queue import report_queue
from app.report.period import current_quarter, today_local
from app.report.tables import TABLE_NAMES, tables
from tests.helpers import EB_USER, World
from tests.web.helpers import EMAIL, csrf, login, password_hash

DAY = dt.date(2026, 10, 5)


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


def book(world: World, number: int, day: dt.date = DAY, kind: str = "mixed_rates") -> int:
    world.add_order(number, kind=kind, date=day)
    for _ in range(4):
        try:
            assert book_order(world.services, world.shop, str(number)).status == "booked"
            break
        except UpstreamUnavailableError:
            continue
    record = world.services.store.bookings.get(world.shop.id, str(number))
    assert record is not None and record.mutation_number
    return record.mutation_number


def reports_waiting(world: World) -> int:
    return len(report_queue(world.services.redis, world.settings.queue_name).get_job_ids())


def run_reports(world: World) -> None:
    queue = report_queue(world.services.redis, world.settings.queue_name)
    SimpleWorker([queue], connection=world.services.redis, serializer=JSONSerializer).work(
        burst=True
    )


def start(client: FlaskClient, shop_id: int, period: str, books: bool, again: bool = False) -> Any:
    url = f"/koppelingen/{shop_id}/controle"
    form_page = f"{url}?periode={period}" + ("&boeken=1" if books else "")
    data = {"periode": period, "csrf_token": csrf(client, form_page)}
    data |= {"boeken": "1"} if books else {}
    data |= {"opnieuw": "1"} if again else {}
    return client.post(url, data=data)


def test_the_page_opens_on_the_current_quarter_and_builds_it_as_a_job(site: Any) -> None:
    world, client = site
    today = today_local()
    book(world, 8601, day=today)
    html = client.get(f"/koppelingen/{world.shop.id}/controle").get_data(as_text=True)
    quarter = current_quarter(today)
    assert f'value="{quarter.key}"' in html and "Deze periode loopt nog" in html
    assert 'id="report-progress"' in html and "In de wachtrij" in html
    assert 'id="report-table"' not in html  # a quarter: never built by the page itself
    assert reports_waiting(world) == 1
    client.get(f"/koppelingen/{world.shop.id}/controle")
    assert reports_waiting(world) == 1  # not twice
    run_reports(world)
    progress = client.get(
        f"/koppelingen/{world.shop.id}/controle/voortgang?periode={quarter.key}"
    ).get_data(as_text=True)
    assert 'data-reload="ja"' in progress
    world.mww.calls.clear()
    html = client.get(f"/koppelingen/{world.shop.id}/controle").get_data(as_text=True)
    assert 'id="report-table"' in html and world.mww.calls == []  # from the cache
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2
    assert "Open punten per maand" in html

    book(world, 8602, day=today)  # new data: the older result, marked, until asked again
    html = client.get(f"/koppelingen/{world.shop.id}/controle").get_data(as_text=True)
    assert 'id="report-table"' in html and "(verouderd)" in html and reports_waiting(world) == 0
    start(client, world.shop.id, quarter.key, books=False, again=True)
    assert reports_waiting(world) == 1
    html = client.get(f"/koppelingen/{world.shop.id}/controle").get_data(as_text=True)
    assert "(verouderd)" in html and 'id="report-progress"' in html  # the old one meanwhile
    key = re.search(r"sleutel=([0-9a-f]{24})", html)
    assert key
    book(world, 8603, day=today)  # booked while the job waits: its trail is not lost
    run_reports(world)
    progress = client.get(
        f"/koppelingen/{world.shop.id}/controle/voortgang?periode={quarter.key}&sleutel={key[1]}"
    ).get_data(as_text=True)
    assert 'data-reload="ja"' in progress


def test_a_month_without_the_books_is_built_by_the_page(site: Any) -> None:
    world, client = site
    book(world, 8611)
    html = client.get(f"/koppelingen/{world.shop.id}/controle?periode=2026-10").get_data(
        as_text=True
    )
    assert 'id="report-table"' in html and reports_waiting(world) == 0
    assert "Niet vergeleken met e-Boekhouden" in html


def test_reading_the_books_starts_only_from_the_form_and_counts_the_calls(site: Any) -> None:
    world, client = site
    numbers = {n: book(world, n) for n in (8621, 8622, 8623)}
    world.eb.delete_mutation(EB_USER, numbers[8622])  # deleted by hand in e-Boekhouden
    url = f"/koppelingen/{world.shop.id}/controle?periode=2026-10&boeken=1"
    html = client.get(url).get_data(as_text=True)
    assert 'id="report-start-button"' in html and reports_waiting(world) == 0  # a link: nothing
    assert "nog 5000 van de 5.000 keer mutaties opvragen" in html
    before = world.eb.admin_calls(EB_USER)["GetMutaties"]
    response = start(client, world.shop.id, "2026-10", books=True)
    assert response.status_code == 302 and response.location.endswith(url[url.index("/k") :])
    assert reports_waiting(world) == 1
    run_reports(world)
    html = client.get(url).get_data(as_text=True)
    calls = world.eb.admin_calls(EB_USER)["GetMutaties"] - before
    assert calls >= 1
    admin = world.shop.credentials.administration_key
    assert world.services.get_mutaties.used(admin) == calls
    assert f"nog {5000 - calls} van de 5.000" in html
    assert f'id="missing-{numbers[8622]}"' in html and 'id="books-open">1<' in html
    assert 'id="report-attention"' in html

    # Akkoord with a note: kept, shown, and no longer open.
    page = f"/koppelingen/{world.shop.id}/controle"
    form = {
        "csrf_token": csrf(client, url),
        "periode": "2026-10",
        "boeken": "1",
        "soort": "missing",
        "factuur": "8622",
        "mutatie": str(numbers[8622]),
        "verschil": "Niet (meer) in de boekhouding: verwijderd?",
    }
    refused = client.post(f"{page}/akkoord", data={**form, "notitie": " "})
    assert "Schrijf bij een akkoord" in client.get(refused.location).get_data(as_text=True)
    client.post(f"{page}/akkoord", data={**form, "notitie": "met de hand gecorrigeerd"})
    html = client.get(url).get_data(as_text=True)
    assert "Akkoord: met de hand gecorrigeerd" in html and 'id="books-open">0<' in html
    assert 'id="report-ok"' in html
    data = json.loads(client.get(f"{page}/download?periode=2026-10&boeken=1&formaat=json").data)
    [missing] = data["books"]["missing"]
    assert missing["accord"]["note"] == "met de hand gecorrigeerd" and missing["open"] is False
    client.post(f"{page}/akkoord", data={**form, "actie": "intrekken"})
    assert 'id="books-open">1<' in client.get(url).get_data(as_text=True)


def test_json_from_the_page(site: Any) -> None:
    world, client = site
    book(world, 8631)
    page = f"/koppelingen/{world.shop.id}/controle"
    answer = client.get(f"{page}?periode=2026-10&formaat=json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    data = json.loads(answer.data)
    assert data["period"]["key"] == "2026-10" and data["totals"]["verkopen"]["orders"] == 1
    assert {"payments", "books", "vat_return", "icp", "oss"} <= set(data)
    waiting = client.get(f"{page}/download?periode=2026-Q4&boeken=1&formaat=json")
    assert waiting.status_code == 202 and waiting.headers["Retry-After"]
    assert "start het op de pagina" in json.loads(waiting.data)["message"]
    bad = client.get(f"{page}/download?periode=2026-10&formaat=pdf")
    assert bad.status_code == 400 and "csv, xlsx (Excel) of json" in bad.get_data(as_text=True)
    bad = client.get(f"{page}/download?periode=2026-13&formaat=json")
    assert bad.status_code == 400 and "maand 13" in json.loads(bad.data)["error"]


def test_the_xlsx_cell_by_cell(site: Any) -> None:
    world, client = site
    numbers = [book(world, n) for n in (8641, 8642)]
    book(world, 8643, kind="reverse_charge")
    world.eb.change_mutation(EB_USER, numbers[1], incl=Decimal("9.99"))
    start(client, world.shop.id, "2026-10", books=True)
    run_reports(world)
    page = f"/koppelingen/{world.shop.id}/controle"
    data = client.get(f"{page}/download?periode=2026-10&boeken=1&formaat=xlsx").data
    book_ = load_workbook(io.BytesIO(data))
    assert book_.sheetnames[0] == "Overzicht" and len(book_.sheetnames) == 1 + len(TABLE_NAMES)
    summary = book_["Overzicht"]
    assert [c.value for c in summary["A"]][:5] == ["Gegeven", "Winkel", "Periode", "Begin", "Einde"]
    assert summary["B4"].value == dt.datetime(2026, 10, 1) and summary["B4"].is_date
    assert summary["B5"].value == dt.datetime(2026, 10, 31) and summary["B5"].is_date
    assert summary["B4"].number_format == "DD-MM-YYYY"
    from app.report import runs
    from app.report.period import parse_period

    key = runs.key(world.services, world.shop, parse_period("2026-10"), True)
    report = runs.with_accords(world.services, runs.cached(world.services, world.shop.id, key))
    for table in tables(report):
        sheet = book_[table.title]
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == f"A1:{chr(64 + len(table.header))}{len(table.rows) + 1}"
        assert [c.value for c in sheet[1]] == list(table.header)
        assert all(c.font.bold for c in sheet[1])
        for column in "AB":
            assert sheet.column_dimensions[column].width >= len(str(sheet[f"{column}1"].value))
        for r, row in enumerate(table.rows, start=2):
            for c, value in enumerate(row, start=1):
                cell = sheet.cell(r, c)
                if isinstance(value, Decimal):
                    assert Decimal(str(cell.value)) == value and cell.number_format == "#,##0.00"
                elif isinstance(value, dt.date):
                    assert cell.is_date and cell.value.date() == value
                    assert cell.number_format == "DD-MM-YYYY"
                else:
                    assert cell.value == (value if value != "" else None), (table.title, r, c)
    changed = book_["Gewijzigd in de boekhouding"]
    assert changed.max_row == 2 and changed["C2"].value == numbers[1]
    [in_books] = [m for m in world.mutations() if m["MutatieNr"] == numbers[1]]
    total = sum(Decimal(str(r["BedragInclBTW"])) for r in in_books["MutatieRegels"])
    assert Decimal(str(changed["F2"].value)) == total and changed["D2"].is_date
    lines = book_["Aansluiting"]
    total = next(r for r in lines.iter_rows(min_row=2) if r[0].value == "Totaal verkopen")
    assert total[3].value == 3 and total[0].font.bold


def test_flask_report_writes_every_format(site: Any, tmp_path: Any) -> None:
    world, client = site
    number = book(world, 8651)
    world.eb.delete_mutation(EB_USER, number)
    runner = client.application.test_cli_runner()
    base = ["report", "--shop", str(world.shop.id), "--period", "2026-K4"]
    out = runner.invoke(args=[*base, "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["period"]["key"] == "2026-Q4" and data["books"]["checked"]
    assert [d["mutation_number"] for d in data["books"]["missing"]] == [number]
    out = runner.invoke(args=[*base, "--no-books", "--format", "json"])
    assert json.loads(out.output)["books"]["checked"] is False
    out = runner.invoke(args=[*base, "--no-books", "--format", "csv", "--list", "btw-aangifte"])
    assert out.exit_code == 0 and out.output.splitlines()[0] == "Rubriek;Omschrijving;Omzet;Btw"
    target = tmp_path / "controle.zip"
    out = runner.invoke(args=[*base, "--no-books", "--format", "csv", "-o", str(target)])
    import zipfile

    with zipfile.ZipFile(target) as files:
        assert sorted(files.namelist()) == sorted(f"{n}.csv" for n in TABLE_NAMES)
    out = runner.invoke(args=[*base, "--format", "csv", "--list", "onzin"])
    assert out.exit_code == 2 and "choose from aansluiting" in out.output
    out = runner.invoke(args=[*base, "--no-books"])
    assert out.exit_code == 0 and "Btw-aangifte" in out.output and "Opgaaf ICP" in out.output
