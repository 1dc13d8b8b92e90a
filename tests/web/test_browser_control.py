"""Issue 17 in headless Chromium: the period report ("Controle"), the backfill with its
live progress ("Inhalen": the bar moves without reloading the page), the alert settings
("Meldingen") and the overview's charts. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from app import create_app
from app.accounts.passwords import hash_password
from app.booking.pipeline import book_order
from app.config import Settings
from app.crypto import generate_key
from app.jobs.queue import report_queue
from app.migrate import upgrade
from app.services import Services, build_services
from app.states import ShopStatus
from app.store import db
from app.store.engine import utcnow
from app.store.shops import Credentials
from sandbox.eboekhouden import SOAP_PATH, EBoekhoudenSimulator
from sandbox.mijnwebwinkel import MijnwebwinkelSimulator
from sandbox.order_factory import make_order
from sandbox.server import ServerThread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
EMAIL, PASSWORD = "boekhouder@example.nl", "een-lang-wachtwoord"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="headless Chromium is not installed at "
        "/usr/bin/chromium (apt-get install -y chromium)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)
expect = sync_api.expect


@dataclass
class Stack:
    url: str
    services: Services
    mww: MijnwebwinkelSimulator
    eb: EBoekhoudenSimulator
    browser: Any


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('control') / 'connector.db'}"
    upgrade(database_url)
    mww, eb = MijnwebwinkelSimulator(), EBoekhoudenSimulator()
    holder: dict[str, Any] = {}
    with (
        ServerThread(mww) as mww_server,
        ServerThread(eb) as eb_server,
        ServerThread(lambda env, start: holder["app"](env, start)) as web_server,
    ):
        settings = Settings(
            database_url=database_url,
            secret_key=generate_key(),
            encryption_key=generate_key(),
            public_base_url=web_server.url,
            mijnwebwinkel_api_url=mww_server.url,
            eboekhouden_soap_url=eb_server.url + SOAP_PATH,
            http_timeout=10,
            soap_operation_timeout=10,
        )
        services = build_services(settings, redis=fakeredis.FakeRedis())
        holder["app"] = create_app(settings, services)
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield Stack(web_server.url, services, mww, eb, browser)
            browser.close()
        services.close()


@dataclass
class Shop:
    id: int
    token: str


@pytest.fixture
def page(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with stack.services.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    stack.services.store.users.create(EMAIL, hash_password(PASSWORD))
    stack.services.redis.flushdb()
    import worker.jobs

    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: stack.services)
    context = stack.browser.new_context(
        base_url=stack.url, locale="nl-NL", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Inloggen')")
    expect(page.locator("h1")).to_be_visible()
    yield page
    context.close()


@pytest.fixture
def shop(stack: Stack) -> Shop:
    suffix = uuid.uuid4().hex[:8]
    token, user = f"mww-token-{suffix}", f"winkelier{suffix}"
    stack.mww.add_shop(token, name="De Theepot")
    stack.eb.add_administration(user, "code1-abc", "code2-def")
    shop_id, _ = stack.services.store.shops.register(
        name="De Theepot",
        status=ShopStatus.ACTIVE,
        credentials=Credentials(token, user, "code1-abc", "code2-def"),
    )
    owner = stack.services.store.users.get_by_email(EMAIL)
    assert owner is not None
    stack.services.store.users.add_owner(shop_id, owner.id)  # owners see their shops only
    return Shop(shop_id, token)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def add_and_book(
    stack: Stack, shop: Shop, numbers: list[int], day: dt.date, kind: str = "domestic"
) -> None:
    loaded = stack.services.load_shop(shop.id)
    assert loaded is not None
    for number in numbers:
        stack.mww.shop(shop.token).add_order(make_order(number, kind=kind, date=day))
        book_order(stack.services, loaded, str(number))


def run_worker(stack: Stack) -> None:
    reports = report_queue(stack.services.redis, stack.services.queue.name)
    SimpleWorker(
        [stack.services.queue, reports], connection=stack.services.redis, serializer=JSONSerializer
    ).work(burst=True)


def test_report_page_lists_totals_and_the_changed_order(
    stack: Stack, page: Any, shop: Shop
) -> None:
    add_and_book(stack, shop, [101, 102, 103], dt.date(2026, 9, 10), kind="mixed_rates")
    add_and_book(stack, shop, [104], dt.date(2026, 9, 11), kind="oss")  # fails: no OSS code
    order = stack.mww.shop(shop.token).orders["102"]
    order["price"]["total"] = f"{Decimal(order['price']['total']) + 5:.2f}"

    page.goto(f"/koppelingen/{shop.id}/controle")
    page.fill("#periode", "2026-09")
    page.click("#period-form button")
    expect(page.locator("#report h2")).to_contain_text("September 2026")
    expect(page.locator("#report-table")).to_contain_text("Totaal verkopen")
    expect(page.locator("#changed-102")).to_contain_text("gewijzigd")
    expect(page.locator("#not_booked-104")).to_contain_text("mislukt")
    expect(page.locator("#report-attention")).to_be_visible()
    shot(page, "17-01-controle")
    with page.expect_download() as download:
        page.click("#download-csv")
    assert download.value.suggested_filename.endswith(".zip")  # one CSV per list

    page.fill("#periode", "2026-13")
    page.click("#period-form button")
    expect(page.locator("#report-error")).to_contain_text("maand 13 bestaat niet")


def test_a_quarter_is_a_job_whose_progress_the_page_follows(
    stack: Stack, page: Any, shop: Shop
) -> None:
    """Issue 25: beyond a month the report is a job; the page shows its progress and then
    the report, without being reloaded by hand, with its charts and the VAT return."""
    add_and_book(stack, shop, [111, 112], dt.date(2026, 8, 10), kind="mixed_rates")
    add_and_book(stack, shop, [113], dt.date(2026, 8, 11), kind="reverse_charge")
    page.goto(f"/koppelingen/{shop.id}/controle")
    page.fill("#periode", "2026-K3")
    page.click("#period-form button")
    expect(page.locator("#report-progress")).to_contain_text("In de wachtrij")
    run_worker(stack)  # the reports queue is the bookings queue's "-reports"
    expect(page.locator("#report-table")).to_contain_text("Totaal verkopen", timeout=20_000)
    expect(page.locator("#report h2")).to_contain_text("3e kwartaal 2026")
    expect(page.locator("#rubriek-1a")).to_contain_text("€")
    expect(page.locator("#icp")).to_contain_text("DE")
    expect(page.locator("svg.chart")).to_have_count(2)
    shot(page, "25-01-controle-kwartaal")


def test_backfill_dry_run_then_live_progress(stack: Stack, page: Any, shop: Shop) -> None:
    day = utcnow().date() - dt.timedelta(days=3)
    for number in range(201, 207):
        stack.mww.shop(shop.token).add_order(make_order(number, date=day))
    page.goto(f"/koppelingen/{shop.id}")
    page.click("nav.tabs a:has-text('Inhalen')")
    page.fill("#vanaf", (day - dt.timedelta(days=1)).isoformat())
    page.click("#backfill-form button")
    expect(page.locator("#dry-run-summary")).to_contain_text("6 bestellingen worden geboekt")
    expect(page.locator("#dry-run-table")).to_contain_text("Totaal")
    shot(page, "17-02-inhalen-proefrun")
    assert stack.eb.mutations(stack.services.load_shop(shop.id).credentials.eb_username) == []

    page.click("#backfill-start")
    expect(page.locator(".notice.ok")).to_contain_text("worden geboekt")
    expect(page.locator("#backfill-progress")).to_contain_text("In de wachtrij")
    url = page.url
    run_worker(stack)  # the pass, then the bookings it queued
    run_worker(stack)
    # The page was not reloaded: its script fetched the progress block.
    expect(page.locator("#progress-booked")).to_have_text("6", timeout=20_000)
    expect(page.locator("#backfill-progress")).to_contain_text("Klaar")
    assert page.url == url
    shot(page, "17-03-inhalen-voortgang")


def test_alert_settings(stack: Stack, page: Any, shop: Shop) -> None:
    page.click("header nav a:has-text('Meldingen')")
    expect(page.locator("h1")).to_have_text("Meldingen")
    expect(page.locator("#alerts-off")).to_be_visible()  # no SMTP_URL in this stack
    page.check(f"#digest-{shop.id}")
    page.check("#credentials-alle")
    page.click("#alerts-form button")
    expect(page.locator(".notice.ok")).to_have_text("Uw keuze is opgeslagen.")
    expect(page.locator(f"#digest-{shop.id}")).to_be_checked()
    expect(page.locator("#credentials-alle")).to_be_checked()
    assert stack.services.store.alerts.recipients(shop.id, "digest") == [EMAIL]
    shot(page, "17-04-meldingen")


def test_overview_charts(stack: Stack, page: Any, shop: Shop) -> None:
    today = utcnow().date()
    add_and_book(stack, shop, [301, 302, 303], today, kind="mixed_rates")
    add_and_book(stack, shop, [304], today, kind="oss")
    page.goto(f"/koppelingen/{shop.id}")
    expect(page.locator("svg.chart")).to_have_count(2)
    expect(page.locator("#chart-1 svg rect")).not_to_have_count(0)
    page.click("#chart-2 summary")
    expect(page.locator("#chart-2 table.chart-data")).to_be_visible()
    expect(page.locator("#chart-2 table.chart-data")).to_contain_text("€")
    shot(page, "17-05-grafieken")
