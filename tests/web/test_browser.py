"""The real pages in headless Chromium, against the connector served on loopback with
both simulators behind the real clients: log in, connect a shop, fill in the mapping,
see a booking appear after a notification, see a failed booking with its reason, fix
and retry it, rotate the webhook secret; and the refusals on the way (wrong password,
too-short username, wrong credentials, missing CSRF token, a page without login).

Screenshots of the main pages go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from rq import SimpleWorker
from rq.serializers import JSONSerializer
from standardwebhooks.webhooks import Webhook

from app import create_app
from app.accounts.passwords import hash_password
from app.config import Settings
from app.crypto import generate_key
from app.migrate import upgrade
from app.services import Services, build_services
from app.states import Role, ShopStatus
from app.store import db
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
PARTNER = "partner-token"

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
_ids = itertools.count(1)


@dataclass
class Stack:
    url: str
    services: Services
    mww: MijnwebwinkelSimulator
    eb: EBoekhoudenSimulator
    browser: Any


@dataclass
class Tenant:
    """One test's shop in both simulators (fresh names: the simulators live per module)."""

    name: str
    token: str
    username: str
    code1: str
    code2: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    database_url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'connector.db'}"
    upgrade(database_url)
    mww = MijnwebwinkelSimulator(partner_token=PARTNER)
    eb = EBoekhoudenSimulator()
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
            mijnwebwinkel_partner_token=PARTNER,
            eboekhouden_soap_url=eb_server.url + SOAP_PATH,
            http_timeout=5,
            soap_operation_timeout=10,
        )
        services = build_services(settings, redis=fakeredis.FakeRedis())
        holder["app"] = create_app(settings, services)
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield Stack(web_server.url, services, mww, eb, browser)
            browser.close()
        services.close()


@pytest.fixture
def page(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with stack.services.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    stack.services.store.users.create(EMAIL, hash_password(PASSWORD))
    stack.services.redis.flushdb()
    stack.services.webhook_shops.forget()
    import worker.jobs

    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: stack.services)
    context = stack.browser.new_context(
        base_url=stack.url, locale="nl-NL", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def tenant(stack: Stack) -> Tenant:
    n = next(_ids)
    tenant = Tenant(
        f"De Theepot {n}",
        f"mww-token-{uuid.uuid4().hex}",
        f"winkelier{n}",
        f"code1-{n}-abc",
        f"code2-{n}-def",
    )
    stack.mww.add_shop(tenant.token, name=tenant.name)
    stack.eb.add_administration(tenant.username, tenant.code1, tenant.code2)
    return tenant


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page: Any, password: str = PASSWORD) -> None:
    page.fill("#email", EMAIL)
    page.fill("#password", password)
    page.click("button:has-text('Inloggen')")


def fill_connection(page: Any, tenant: Tenant, **overrides: str) -> None:
    values = {
        "name": tenant.name,
        "mww_token": tenant.token,
        "eb_username": tenant.username,
        "eb_code1": tenant.code1,
        "eb_code2": tenant.code2,
        **overrides,
    }
    page.check("input[name='eb_api'][value='soap']")  # the tenant has SOAP codes
    for field, value in values.items():
        page.fill(f"#{field}", value)
    page.click("button:has-text('Verbinding testen en doorgaan')")


def connect_and_install(page: Any, tenant: Tenant) -> int:
    """Log in, connect the tenant's shop and install it with the default mapping."""
    page.goto("/")
    log_in(page)
    page.click("text=Koppeling toevoegen")
    fill_connection(page, tenant)
    expect(page.locator("h2").first).to_contain_text("Stap 2 van 2")
    # The simulators' orders are from 2024: book from then (the default is the moment of
    # connection, which would leave them to Inhalen).
    page.fill("#book_from", "01-01-2024 00:00")
    page.click("button:has-text('Installeer de koppeling')")
    expect(page.locator(".notice.ok")).to_contain_text("De koppeling is geïnstalleerd")
    return int(page.url.rstrip("/").split("/")[-1])


def notify(url: str, secret: str, number: str) -> int:
    """A signed Standard Webhooks notification; returns the HTTP status."""
    body = json.dumps({"order_number": number})
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = dt.datetime.now(dt.UTC)
    request = urllib.request.Request(
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code


def run_worker(stack: Stack) -> None:
    worker = SimpleWorker(
        [stack.services.queue], connection=stack.services.redis, serializer=JSONSerializer
    )
    worker.work(burst=True)


def webhook_details(page: Any, shop_id: int) -> tuple[str, str]:
    page.goto(f"/koppelingen/{shop_id}/webhook")
    page.click("summary:has-text('Toon geheim')")
    return page.inner_text("#webhook-url"), page.inner_text("#webhook-secret")


def test_login_refusals_and_pages_without_login(stack: Stack, page: Any) -> None:
    page.goto("/koppelingen/nieuw")  # no session: the login page, remembering the target
    expect(page).to_have_url(f"{stack.url}/login?next=/koppelingen/nieuw")
    shot(page, "01-inloggen")
    log_in(page, password="verkeerd-wachtwoord")
    expect(page.locator(".notice.bad")).to_have_text("Onjuist e-mailadres of wachtwoord.")
    log_in(page)
    expect(page).to_have_url(f"{stack.url}/koppelingen/nieuw")
    expect(page.locator("h1")).to_contain_text("Koppeling toevoegen")
    page.click("button:has-text('Uitloggen')")
    expect(page.locator(".notice")).to_contain_text("U bent uitgelogd.")
    for url in ("/", "/koppelingen/1/instellingen", "/koppelingen/1/webhook"):
        page.goto(url)
        expect(page.locator("h1")).to_have_text("Inloggen")


def test_connect_a_shop_with_refusals_then_fill_in_the_mapping(
    stack: Stack, page: Any, tenant: Tenant
) -> None:
    page.goto("/")
    log_in(page)
    page.click("text=Koppeling toevoegen")
    fill_connection(page, tenant, eb_username="kort")
    expect(page.locator("#error-eb_username")).to_contain_text(
        "Voor deze koppeling moet uw gebruikersnaam minimaal 6 tekens bevatten."
    )
    shot(page, "02-koppeling-toevoegen")
    fill_connection(page, tenant, mww_token="niet-de-goede-token")
    expect(page.locator("#error-mww")).to_contain_text("Mijnwebwinkel weigert de API-token")
    expect(page.locator("#error-eb")).to_have_count(0)
    fill_connection(page, tenant, eb_code2="verkeerd")
    expect(page.locator("#error-eb")).to_contain_text("e-Boekhouden weigert")
    expect(page.locator("#error-mww")).to_have_count(0)
    fill_connection(page, tenant)

    expect(page.locator("h2").first).to_contain_text("Stap 2 van 2")
    page.select_option("[name='rules.rate:9.btw_code']", "HOOG_VERK_21")  # a wrong pair
    page.select_option("[name='rules.rate:21.verzendkosten']", "8100")
    page.check("input[name=bookable_statuses][value='5']")
    page.click("button:has-text('Installeer de koppeling')")
    expect(page.locator("[id='error-rules.rate:9.btw_code']")).to_contain_text(
        "BTW-code HOOG_VERK_21 hoort bij 21%, niet bij BTW 9%."
    )
    expect(page.locator("[name='rules.rate:21.verzendkosten']")).to_have_value("8100")
    shot(page, "03-instellingen-fout")
    page.select_option("[name='rules.rate:9.btw_code']", "LAAG_VERK_9")
    page.click("button:has-text('Installeer de koppeling')")
    expect(page.locator(".notice.ok")).to_contain_text("De koppeling is geïnstalleerd")

    shop_id = int(page.url.split("/")[-1])
    shop = stack.services.load_shop(shop_id)
    assert shop is not None and shop.status == ShopStatus.ACTIVE
    assert shop.mapping.rule("rate:21").ledgers["verzendkosten"] == "8100"  # type: ignore[union-attr]
    assert shop.mapping.bookable_statuses == {2, 3, 5, 6}
    page.goto(f"/koppelingen/{shop_id}/instellingen")
    shot(page, "04-instellingen")
    assert tenant.token not in page.content() and tenant.code2 not in page.content()


def test_booking_appears_then_a_failed_one_is_fixed_and_retried(
    stack: Stack, page: Any, tenant: Tenant
) -> None:
    shop_id = connect_and_install(page, tenant)
    store = stack.mww.shop(tenant.token)
    store.add_order(make_order(1001, seed=7))
    store.add_order(make_order(1002, kind="oss"))  # DE 19% and 7%: no OSS rows yet
    url, secret = webhook_details(page, shop_id)
    assert notify(url, secret, "1001") == 202
    assert notify(url, secret, "1002") == 202
    run_worker(stack)

    page.goto(f"/koppelingen/{shop_id}")
    (booked,) = [m for m in stack.eb.mutations(tenant.username) if m["Factuurnummer"] == "1001"]
    row = page.locator("#booking-1001")
    expect(row).to_contain_text("Geboekt")
    expect(row).to_contain_text(str(booked["MutatieNr"]))
    failed = page.locator("#booking-1002")
    expect(failed).to_contain_text("Mislukt")
    expect(failed).to_contain_text("OSS-verkoop naar DE")
    expect(page.locator("#count-geboekt")).to_contain_text("1")
    expect(page.locator("#count-mislukt")).to_contain_text("1")
    shot(page, "05-overzicht")

    failed.locator("a:has-text('1002')").click()
    expect(page.locator("#failure")).to_contain_text("Voeg bij Instellingen een regel voor DE")
    shot(page, "06-boeking-mislukt")
    page.click("a.button:has-text('Voorbeeld')")
    expect(page.locator("#preview-error")).to_contain_text("OSS-verkoop naar DE")
    page.fill("#bestelling", "1001")
    page.click("button:has-text('Voorbeeld')")
    expect(page.locator("#preview")).to_contain_text("Factuur verstuurd")
    shot(page, "07-voorbeeld")
    assert len(stack.eb.mutations(tenant.username)) == 1  # the preview booked nothing

    page.goto(f"/koppelingen/{shop_id}/instellingen")  # the fix: OSS rows for Germany
    for rate in ("19", "7"):
        page.select_option("#oss_country", "DE")
        page.fill("#oss_rate", rate)
        page.click("button:has-text('Land toevoegen')")
        expect(page.locator(f"tbody[data-treatment='oss:DE:{rate}']")).to_be_visible()
        # The page opens at the new row, a ledger still to choose focused (not at the top).
        focused = "document.activeElement.closest('tbody')?.dataset.treatment"
        assert page.evaluate(focused) == f"oss:DE:{rate}"
        assert page.evaluate("window.scrollY") > 0
        # Germany's own ledgers (never the domestic 8010/8000): the net revenue (AFST_VERK,
        # rubriek 3c) and the German VAT on a "te betalen OSS-btw" balance-sheet ledger.
        page.select_option(f"select[name='rules.oss:DE:{rate}.omzet']", "8020")
        page.select_option(f"select[name='rules.oss:DE:{rate}.oss_btw']", "1520")
    page.click("button.primary:has-text('Opslaan')")
    expect(page.locator(".notice.ok")).to_contain_text("De instellingen zijn opgeslagen")

    page.click("#booking-1002 button:has-text('Opnieuw proberen')")
    expect(page.locator(".notice.ok")).to_contain_text("staat weer in de wachtrij")
    run_worker(stack)
    page.reload()
    expect(page.locator("#booking-1002")).to_contain_text("Geboekt")
    expect(page.locator("#count-mislukt")).to_contain_text("0")
    numbers = sorted(m["Factuurnummer"] for m in stack.eb.mutations(tenant.username))
    assert numbers == ["1001", "1002"]  # each exactly once
    page.goto("/")
    expect(page.locator("tbody tr")).to_contain_text(tenant.name)
    shot(page, "09-koppelingen")


def test_rotate_the_webhook_secret(stack: Stack, page: Any, tenant: Tenant) -> None:
    shop_id = connect_and_install(page, tenant)
    stack.mww.shop(tenant.token).add_order(make_order(1001))
    url, old = webhook_details(page, shop_id)
    key = stack.services.load_shop(shop_id).webhook_key  # type: ignore[union-attr]
    assert url == f"{stack.url}/webhooks/mijnwebwinkel/{key}"
    page.click("button:has-text('Nieuw geheim')")
    expect(page.locator(".notice.ok")).to_contain_text("het vorige geheim blijft nog 24 uur")
    expect(page.locator("#grace")).to_contain_text("Het vorige geheim blijft geldig tot")
    page.click("summary:has-text('Toon geheim')")
    new = page.inner_text("#webhook-secret")
    shot(page, "08-webhook")
    assert new != old and new.startswith("whsec_")
    assert notify(url, new, "1001") == 202
    assert notify(url, old, "1001") == 202  # grace period
    assert notify(url, "whsec_" + "A" * 44, "1001") == 401


def test_forms_without_csrf_token_are_refused(stack: Stack, page: Any, tenant: Tenant) -> None:
    shop_id = connect_and_install(page, tenant)
    before = stack.services.load_shop(shop_id)
    page.goto(f"/koppelingen/{shop_id}/webhook")
    page.evaluate("document.querySelector('main input[name=csrf_token]').remove()")
    page.click("button:has-text('Nieuw geheim')")
    expect(page.locator("h1")).to_have_text("Formulier verlopen")
    assert stack.services.load_shop(shop_id).webhook_secrets == before.webhook_secrets  # type: ignore[union-attr]

    page.goto("/koppelingen/nieuw")
    page.evaluate("document.querySelector('main input[name=csrf_token]').remove()")
    fill_connection(page, tenant, name="Zonder token")
    expect(page.locator("h1")).to_have_text("Formulier verlopen")
    assert [s.name for s in stack.services.store.shops.all()] == [tenant.name]


def log_in_as(page: Any, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Inloggen')")
    expect(page.locator("nav.user")).to_contain_text(email)


def test_the_rq_dashboard_shows_markup_in_job_data_as_text(
    stack: Stack, page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rq_dashboard.web

    monkeypatch.setattr(
        rq_dashboard.web,
        "from_url",  # its /0/ routes: the test's Redis
        lambda *args, **kwargs: (None, stack.services.redis),
    )
    markup = '"><img src=x onerror=alert(1)>'
    queue = stack.services.queue
    result = queue.enqueue("json.loads", json.dumps({"status": "failed", "reason": markup}))
    failure = queue.enqueue("builtins.int", markup)
    SimpleWorker([queue], connection=stack.services.redis, serializer=JSONSerializer).work(
        burst=True
    )
    stack.services.store.users.create("operator@example.nl", hash_password(PASSWORD), Role.ADMIN)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in_as(page, "operator@example.nl")
    for job in (result, failure):
        page.goto(f"/admin/rq/0/view/job/{job.id}")
        data = page.locator("#job-data")
        expect(data).to_contain_text("<img src=x onerror=alert(1)>")  # shown, as text
        assert data.locator("img").count() == 0
    page.goto("/admin/rq/0/view/jobs/bookings/failed/8/asc/1")
    expect(page.locator("body")).to_contain_text("builtins.int")  # its scripts run
    page.wait_for_timeout(500)
    assert dialogs == []
    assert not [e for e in errors if "Content Security Policy" in e], errors
    shot(page, "20-rq-dashboard-job")


def test_a_second_user_sees_nothing_of_anothers_shop(stack: Stack, page: Any) -> None:
    store = stack.services.store
    owner = store.users.get_by_email(EMAIL)
    assert owner is not None
    shop_id, secret = store.shops.register(
        name="Winkel van een ander",
        owner_id=owner.id,
        status=ShopStatus.ACTIVE,
        credentials=Credentials("geheime-token-123", "winkelier9", "code-een", "code-twee"),
    )
    store.users.create("tweede@example.nl", hash_password(PASSWORD))
    log_in_as(page, "tweede@example.nl")
    expect(page.locator("main")).not_to_contain_text("Winkel van een ander")
    for path in ("", "/instellingen", "/webhook", "/gegevens", "/voorbeeld", "/gebruikers"):
        response = page.goto(f"/koppelingen/{shop_id}{path}")
        assert response is not None and response.status == 404
        expect(page.locator("h1")).to_have_text("Niet gevonden")
        assert secret not in page.content() and "Winkel van een ander" not in page.content()
    page.goto("/admin/rq/")
    expect(page.locator("h1")).to_have_text("Niet gevonden")
    shot(page, "21-ander-zijn-winkel")
    page.click("button:has-text('Uitloggen')")
    log_in_as(page, EMAIL)  # the owner does see it, and invites the second user in
    page.goto(f"/koppelingen/{shop_id}/gebruikers")
    page.fill("#email", "tweede@example.nl")
    page.check("input[name=role][value=viewer]")  # a meekijker
    page.click("button:has-text('Uitnodigen')")
    link = page.input_value("#invitation-url")  # SMTP is off: shown to pass on
    expect(page.locator("#pending")).to_contain_text("tweede@example.nl")
    shot(page, "22-uitnodiging")
    page.click("button:has-text('Uitloggen')")
    log_in_as(page, "tweede@example.nl")
    page.goto(link)
    page.keyboard.press("Tab")  # reachable with the keyboard
    page.click("button:has-text('Uitnodiging aanvaarden')")
    expect(page.locator("h1")).to_contain_text("Winkel van een ander")
    expect(page.locator("nav.tabs a")).to_have_text(["Overzicht", "Voorbeeld", "Controle"])
    for path in ("/instellingen", "/webhook", "/gegevens", "/gebruikers", "/inhalen"):
        response = page.goto(f"/koppelingen/{shop_id}{path}")
        assert response is not None and response.status == 404, path
    assert secret not in page.content()


def test_a_retry_updates_the_booking_page_by_itself(
    stack: Stack, page: Any, tenant: Tenant
) -> None:
    """Issue 27: after "Opnieuw proberen" the booking page shows the new state once a
    worker has booked it, without the user reloading."""
    shop_id = connect_and_install(page, tenant)
    store = stack.mww.shop(tenant.token)
    store.add_order(make_order(1002, kind="oss"))  # no OSS row for DE: fails
    url, secret = webhook_details(page, shop_id)
    assert notify(url, secret, "1002") == 202
    run_worker(stack)
    page.goto(f"/koppelingen/{shop_id}")
    page.click("#booking-1002 a:has-text('1002')")
    expect(page.locator("#failure")).to_be_visible()
    store.add_order(make_order(1002))  # corrected in the shop: a domestic order now
    page.click("button.primary:has-text('Opnieuw proberen')")
    expect(page.locator(".notice.ok")).to_contain_text("Deze pagina werkt zichzelf bij")
    shown = page.url
    run_worker(stack)
    expect(page.locator("#booking-status h2")).to_contain_text("Geboekt", timeout=20_000)
    assert page.url == shown
    expect(page.locator("#booked-rows")).to_contain_text("Factuur verstuurd")


def test_step_1_shows_one_method_and_keeps_what_was_right(
    stack: Stack, page: Any, tenant: Tenant
) -> None:
    """Issue 27: only the chosen e-Boekhouden method's fields show; refused by
    e-Boekhouden, the form keeps the Mijnwebwinkel token (sealed), so only the codes are
    typed again."""
    page.goto("/")
    log_in(page)
    page.click("text=Koppeling toevoegen")
    expect(page.locator("#eb-rest")).to_be_visible()  # REST (recommended) is preselected
    expect(page.locator("#eb-soap")).to_be_hidden()
    page.check("input[name='eb_api'][value='soap']")
    expect(page.locator("#eb-soap")).to_be_visible()
    expect(page.locator("#eb-rest")).to_be_hidden()
    fill_connection(page, tenant, eb_code2="verkeerd")
    expect(page.locator("#error-eb")).to_contain_text("e-Boekhouden weigert")
    expect(page.locator("#mww_token")).to_have_attribute("placeholder", re.compile("bewaard"))
    assert tenant.token not in page.content()
    page.fill("#name", tenant.name)
    page.fill("#eb_username", tenant.username)
    page.fill("#eb_code1", tenant.code1)
    page.fill("#eb_code2", tenant.code2)
    page.click("button:has-text('Verbinding testen en doorgaan')")
    expect(page.locator("h2").first).to_contain_text("Stap 2 van 2")
    (shop,) = stack.services.store.shops.all()
    assert shop.credentials.mww_token == tenant.token
