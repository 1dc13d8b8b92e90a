"""Every page, in headless Chromium, as the shop owner and as the administrator, at 1280
and at 390 pixels wide (issue 27):

- axe-core (WCAG 2.1 A and AA rules) finds no violation;
- nothing is wider than the window (``scrollWidth <= innerWidth``): tables scroll inside
  their card, the header wraps;
- every text a user reads is Dutch, without raw codes (tests/language.py; technical
  detail only under "Technische melding": ``.technical``, ``<code>``, ``<pre>``);
- with ``PAGES_FULL=1``, a screenshot of each goes to ``test-artifacts/pages/``.

Most of a walk's time is axe (injecting its script into every page, then running it) and
the screenshots. axe's rules read the markup and styles, which hardly change with the
width, so ``make test`` runs axe on every page for the owner and the administrator at
1280 pixels and for the owner (the one on a phone) at 390 too; the other walks (the
meekijker's pages are the owner's without the buttons) check status, width and
language. ``PAGES_FULL=1`` (``make chaos``) runs axe on every walk and takes the
screenshots.

The pages come from Flask's URL map: every GET route is visited, with its arguments filled
from the data seeded below (two shops, SOAP and REST, invoice-and-payment and invoice
mode, a ``W1-{number}`` invoice format and a verzameldebiteur; bookings booked, failed,
credited, held, skipped, and one refused because e-Boekhouden has its Factuurnummer; an ICP
sale and one with its OSS amounts and notes; a start date, open money, failures grouped by
reason, a pending invitation, a paused shop and a removed one). A route added later is
walked too; one with an argument this test cannot fill, or one answering 5xx, fails the
test by name. ``SKIPPED`` lists what is not a page, with why. The meekijker walks the
same pages: those above the role answer the Dutch 404 page, which is checked too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import fakeredis
import pytest

from app import create_app
from app.accounts.passwords import hash_password
from app.booking.pipeline import book_order
from app.booking.reconcile import run_pass
from app.config import INVITATION_TTL, Settings
from app.core.mapping_settings import MappingSettings
from app.crypto import generate_key
from app.migrate import upgrade
from app.services import Services, build_services
from app.states import BookingMode, BookingState, Role, RunMode, ShopRole, ShopStatus
from app.store.alerts import AlertPref
from app.store.booking_records import Claim, OrderFacts
from app.store.shops import Credentials
from sandbox.eboekhouden import SOAP_PATH, EBoekhoudenSimulator
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator
from sandbox.mijnwebwinkel import MijnwebwinkelSimulator
from sandbox.order_factory import make_order
from sandbox.server import ServerThread
from tests.language import context_of, problems

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pages"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
PASSWORD = "een-lang-wachtwoord"
OWNER, ADMIN, VIEWER = "winkelier@example.nl", "beheer@example.nl", "boekhouder@example.nl"
ROLES = {"eigenaar": OWNER, "beheerder": ADMIN, "meekijker": VIEWER}
WIDTHS = {"breed": (1280, 900), "telefoon": (390, 844)}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PARTNER = "partner-token"
FULL = os.environ.get("PAGES_FULL") == "1"

# Pages for the administrator only (the others get the Dutch 404 page there).
ADMIN_ONLY = {"beheer.page"}
# GET routes that are no page a person reads, and why.
SKIPPED = {
    "static": "files (CSS, JavaScript)",
    "health.healthz": "for the platform's health check: JSON",
    "health.metrics": "for Prometheus: text",
    "control.download": "a CSV or Excel file (tests/web/test_control.py)",
    "control.backfill_progress": "the part of Inhalen its script refreshes; walked inside Inhalen",
    "control.report_progress": "the part of Controle its script refreshes (needs the job's "
    "period and key); walked inside Controle",
    "overview.booking_status": "the part of a booking its script refreshes; walked inside it",
    "auth.login": "walked logged out (test_the_pages_without_a_session)",
}
SKIPPED_PREFIXES = {
    "rq_dashboard.": "the RQ dashboard is third-party (English, its own markup), for operators",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="headless Chromium is not installed at /usr/bin/chromium "
        "(apt-get install -y chromium)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed"
)

# The text a person reads: text nodes and the attributes read out, without technical parts.
READABLE_TEXT = """() => {
  const skip = 'code, pre, script, style, noscript, template, .technical';
  const parts = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.parentElement.closest(skip)) parts.push(node.nodeValue);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], [alt]')) {
    if (el.closest(skip)) continue;
    for (const name of ['aria-label', 'title', 'placeholder', 'alt']) {
      if (el.getAttribute(name)) parts.push(el.getAttribute(name));
    }
  }
  return parts.join('\\n');
}"""
OVERFLOW = """() => {
  const width = window.innerWidth;
  function clipped(el) {  // inside a box that scrolls (or clips) and itself fits
    for (let up = el.parentElement; up; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (['auto', 'scroll', 'hidden'].includes(style.overflowX) &&
          up.getBoundingClientRect().right <= width + 1) { return true; }
    }
    return false;
  }
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && !clipped(el)) {
      const css = typeof el.className === 'string' && el.className ? '.' + el.className : '';
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + css + ' ' +
                Math.round(box.right) + 'px');
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 5)};
}"""


@dataclass
class Seeded:
    url: str
    services: Services
    browser: Any
    args: dict[str, list[Any]]  # route argument → the values to visit
    queries: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # endpoint → variants
    # Pages the URL map cannot name from ``args``: a removed shop's register (endpoint, path).
    extra: list[tuple[str, str]] = field(default_factory=list)


def _order(
    number: int | str, *, kind: str = "domestic", method: str = "ideal", **kw: Any
) -> dict[str, Any]:
    order = make_order(number if isinstance(number, int) else 0, kind=kind, seed=27, **kw)
    if not isinstance(number, int):
        order["number"] = number
    order.setdefault("payment", {})["method_name"] = method
    return order


def _seed(
    services: Services,
    mww: MijnwebwinkelSimulator,
    eb: EBoekhoudenSimulator,
    rest: EBoekhoudenRestSimulator,
) -> dict[str, Any]:
    store = services.store
    owner = store.users.create(OWNER, hash_password(PASSWORD))
    store.users.create(ADMIN, hash_password(PASSWORD), Role.ADMIN)
    viewer = store.users.create(VIEWER, hash_password(PASSWORD))
    today = dt.date.today() - dt.timedelta(days=2)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)  # orders before it: Inhalen

    # Shop A: SOAP, invoice and payment, its own invoice format, a verzameldebiteur.
    token_a, user_a = f"mww-a-{uuid.uuid4().hex}", "theepot-boekhouder"
    mww.add_shop(token_a, name="De Theepot")
    eb.add_administration(user_a, "code1-aaaa", "code2-bbbb")
    mapping_a = replace(
        MappingSettings(),
        booking_mode=BookingMode.INVOICE_AND_PAYMENT,
        invoice_format="W1-{number}",
        collective_debtor="PARTICULIER",
        payment_ledgers={"ideal": "1010"},  # PayPal has none: its payment is held back
    )
    shop_a, _ = store.shops.register(
        name="De Theepot",
        credentials=Credentials(token_a, user_a, "code1-aaaa", "code2-bbbb"),
        mapping=mapping_a,
        status=ShopStatus.ACTIVE,
        owner_id=owner,
        book_from=start,
    )
    store.users.add_owner(shop_a, viewer, ShopRole.VIEWER)
    shop = mww.shop(token_a)
    paid = shop.add_order(_order(1001, date=today))
    shop.pay(1001, "capture")
    shop.add_order(_order(1002, kind="oss", date=today))  # no OSS row for DE: fails
    shop.add_order(make_order(1003, kind="credit", seed=27, credited=paid, date=today))
    shop.add_order(_order(1005, method="paypal", date=today))
    shop.pay(1005, "capture", method="paypal")
    shop.add_order(_order(1006, date=today))
    shop.add_order(_order(1007, kind="reverse_charge", date=today))  # ICP: the buyer's number
    shop.add_order(_order(1009, date=today - dt.timedelta(days=20)))  # before the start date
    eb.add_relation(user_a, "HANDMATIG", "Klant met de hand")
    eb.book(user_a, {  # a hand-made invoice under 1006's Factuurnummer
        "Soort": "FactuurVerstuurd", "Datum": today, "Rekening": "1300",
        "RelatieCode": "HANDMATIG", "Factuurnummer": "W1-1006",
        "MutatieRegels": [{
            "BedragInvoer": Decimal("99.99"), "BedragExclBTW": Decimal("82.64"),
            "BedragBTW": Decimal("17.35"), "BedragInclBTW": Decimal("99.99"),
            "BTWCode": "HOOG_VERK_21", "BTWPercentage": Decimal("21"),
            "TegenrekeningCode": "8010", "KostenplaatsID": 0,
        }],
    })  # fmt: skip
    loaded = services.load_shop(shop_a)
    assert loaded is not None
    for number in ("1001", "1002", "1003", "1005", "1006", "1007"):
        book_order(services, loaded, number)
    _booked_with_notes(services, shop_a, "1008", today)
    store.bookings.record_unclaimed(  # what the pipeline records for a test order
        shop_a,
        "T-1004",
        state=BookingState.SKIPPED,
        reason="Bestelling T-1004 is een testbestelling.",
        facts=OrderFacts(total=Decimal("10.00"), date=today),
    )
    run_pass(services, loaded, mode=RunMode.POLL)

    # Shop B: REST, invoice only.
    token_b, api_token = f"mww-b-{uuid.uuid4().hex}", f"eb-api-{uuid.uuid4().hex}"
    mww.add_shop(token_b, name="Het Koffiehuis")
    rest.add_administration(api_token, name="Koffiehuis BV")
    shop_b, _ = store.shops.register(
        name="Het Koffiehuis",
        credentials=Credentials(token_b, eb_api_token=api_token),
        mapping=MappingSettings(),
        status=ShopStatus.ACTIVE,
        owner_id=owner,
    )
    mww.shop(token_b).add_order(_order(2001, kind="mixed_rates", date=today))
    loaded_b = services.load_shop(shop_b)
    assert loaded_b is not None
    book_order(services, loaded_b, "2001")
    store.shops.pause(shop_b)  # the banner and "Hervatten"
    store.alerts.save_prefs(owner, [AlertPref(None, True, False), AlertPref(shop_b, False, True)])
    token, _ = store.invitations.create(
        email="nieuw@example.nl",
        shop_id=shop_a,
        role=ShopRole.VIEWER,
        invited_by=owner,
        ttl=INVITATION_TTL,
    )

    # Shop C: removed; its register stays readable under "Verwijderde koppelingen".
    token_c, api_token_c = f"mww-c-{uuid.uuid4().hex}", f"eb-api-{uuid.uuid4().hex}"
    mww.add_shop(token_c, name="De Oude Winkel")
    rest.add_administration(api_token_c, name="Oude Winkel BV")
    shop_c, _ = store.shops.register(
        name="De Oude Winkel",
        credentials=Credentials(token_c, eb_api_token=api_token_c),
        mapping=MappingSettings(),
        status=ShopStatus.ACTIVE,
        owner_id=owner,
    )
    mww.shop(token_c).add_order(_order(3001, date=today))
    loaded_c = services.load_shop(shop_c)
    assert loaded_c is not None
    book_order(services, loaded_c, "3001")
    store.shops.remove(shop_c)
    removed = store.bookings.get(shop_c, "3001")
    assert removed is not None

    bookings = {row.order_number: row.id for row in store.bookings.page(shop_a, limit=50)[0]}
    numbers = ("1001", "1002", "1003", "1005", "1006", "1007", "1008")
    return {
        "shop_id": [shop_a, shop_b],
        "booking_id": [bookings[n] for n in numbers],
        "token": [token],
        "today": today,
        "extra": [
            ("overview.show (verwijderd)", f"/koppelingen/{shop_c}"),
            ("overview.booking (verwijderd)", f"/koppelingen/{shop_c}/boekingen/{removed.id}"),
        ],
    }


def _booked_with_notes(services: Services, shop_id: int, number: str, day: dt.date) -> None:
    """A booking as the pipeline records an OSS sale with notes for a person (issue 24):
    its destination, its OSS amounts per state and rate, and its notes."""
    store = services.store
    facts = OrderFacts(
        total=Decimal("238.00"),
        date=day,
        customer="Lukas Schneider",
        destination="DE",
        oss_amounts=[
            {"country": "DE", "rate": "19", "net": "100.00", "vat": "19.00"},
            {"country": "DE", "rate": "7", "net": "111.21", "vat": "7.79"},
        ],
    )
    claim = store.bookings.claim(shop_id, number, facts, lease_seconds=60)
    assert isinstance(claim, Claim)
    store.bookings.mark_booked(
        claim.booking_id,
        shop_id=shop_id,
        mutation_number=777,
        payment_mutation_number=None,
        relation_code="MWW1008",
        warnings=[
            "De factuurdatum valt in het btw-tijdvak 1e kwartaal 2026; geef haar daar aan.",
            "Relatie MWW1008 heeft in e-Boekhouden andere gegevens; de koppeling liet ze staan.",
        ],
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    assert hashlib.sha256(AXE.read_bytes()).hexdigest() == AXE_SHA256, "tests/web/vendor changed"
    database_url = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'connector.db'}"
    upgrade(database_url)
    mww, eb, rest = (
        MijnwebwinkelSimulator(partner_token=PARTNER),
        EBoekhoudenSimulator(),
        EBoekhoudenRestSimulator(),
    )
    holder: dict[str, Any] = {}
    with (
        ServerThread(mww) as mww_server,
        ServerThread(eb) as eb_server,
        ServerThread(rest) as rest_server,
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
            eboekhouden_rest_url=rest_server.url,
            http_timeout=10,
            soap_operation_timeout=10,
        )
        services = build_services(settings, redis=fakeredis.FakeRedis())
        holder["app"] = create_app(settings, services)
        data = _seed(services, mww, eb, rest)
        today = data.pop("today")
        extra = data.pop("extra")
        queries = {
            "overview.show": [{}, {"status": "mislukt"}, {"status": "wacht op betaling"}],
            "overview.preview": [{}, {"bestelling": "1001"}, {"bestelling": "1002"},
                                 {"bestelling": "1003"}, {"bestelling": "T-1004"},
                                 {"bestelling": "1007"}, {"bestelling": "1009"}],
            "control.report": [{}, {"periode": today.strftime("%Y-%m")}],
            "control.backfill_form": [{}, {"vanaf": (today - dt.timedelta(days=1)).isoformat()}],
        }  # fmt: skip
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield Seeded(web_server.url, services, browser, data, queries, extra)
            browser.close()
        services.close()


def page_urls(seeded: Seeded) -> list[tuple[str, str]]:
    """(endpoint, path) of every page to walk, from the app's URL map."""
    app = create_app(seeded.services.settings, seeded.services)
    urls: list[tuple[str, str]] = []
    unknown: list[str] = []
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED:
                continue
            if any(rule.endpoint.startswith(p) for p in SKIPPED_PREFIXES):
                continue
            missing = [a for a in rule.arguments if a not in seeded.args]
            if missing:
                unknown.append(f"{rule.rule} ({rule.endpoint}): no values for {missing}")
                continue
            choices: list[dict[str, Any]] = [{}]
            for argument in sorted(rule.arguments):  # every value of the first, else the first
                values = seeded.args[argument]
                choices = [{**c, argument: v} for c in choices for v in values]
            if "booking_id" in rule.arguments:  # bookings belong to the first shop
                choices = [c for c in choices if c["shop_id"] == seeded.args["shop_id"][0]]
            for values in choices:
                first = values.get("shop_id") == seeded.args["shop_id"][0]
                for query in seeded.queries.get(rule.endpoint, [{}]) if first else [{}]:
                    path = url_for(rule.endpoint, **values)
                    urls.append((rule.endpoint, path + ("?" + urlencode(query) if query else "")))
    assert unknown == [], (
        "routes this walk cannot fill in; add their arguments to the seed or to SKIPPED: "
        + "; ".join(unknown)
    )
    urls += seeded.extra
    urls.append(("(niet gevonden)", "/deze-pagina-bestaat-niet"))
    return urls


def check_page(page: Any, name: str, failures: list[str], *, axe: bool = True) -> None:
    """axe (unless told not to), overflow and language on the page as it stands; failures
    are appended."""
    if axe:
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            WCAG_21_AA,
        )
        for violation in result["violations"]:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            failures.append(f"{name}: axe {violation['id']} ({violation['help']}): {targets}")
    overflow = page.evaluate(OVERFLOW)
    if overflow["scroll"] > overflow["width"]:
        failures.append(
            f"{name}: {overflow['scroll']} px wide in a {overflow['width']} px window: "
            f"{overflow['wide']}"
        )
    text = page.evaluate(READABLE_TEXT)
    for problem in problems(text):
        word = problem.split("'")[1] if "'" in problem else ""
        failures.append(f"{name}: {problem} … {context_of(text, word)}")


def log_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Inloggen')")
    sync_api.expect(page.locator("header")).to_contain_text(email)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_is_accessible_fits_and_speaks_dutch(
    seeded: Seeded, role: str, width: str
) -> None:
    w, h = WIDTHS[width]
    context = seeded.browser.new_context(
        base_url=seeded.url,
        locale="nl-NL",
        viewport={"width": w, "height": h},
        bypass_csp=True,  # to inject axe; the CSP itself is tested in tests/web/test_browser.py
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    log_in(page, ROLES[role])
    failures: list[str] = []
    # axe where the markup is the owner's or the administrator's: the meekijker's pages are
    # the owner's without the buttons, or the Dutch 404 page (checked by the owner's walk).
    axe = FULL or (role != "meekijker" and (width == "breed" or role == "eigenaar"))
    folder = ARTIFACTS / f"{role}-{width}"
    shutil.rmtree(folder, ignore_errors=True)
    if FULL:
        folder.mkdir(parents=True)
    for number, (endpoint, path) in enumerate(page_urls(seeded), 1):
        response = page.goto(path)
        status = response.status if response else 0
        # The meekijker gets the Dutch 404 page above the role (and for the other shop);
        # everyone but the administrator on the administrators' pages.
        expected = (
            endpoint == "(niet gevonden)"
            or (role == "meekijker" and status == 404)
            or (endpoint in ADMIN_ONLY and role != "beheerder" and status == 404)
        )
        if status >= 500 or (status >= 400 and not expected):
            failures.append(f"{path} ({endpoint}): HTTP {status}")
        check_page(page, f"{path} ({endpoint})", failures, axe=axe)
        if FULL:
            page.screenshot(path=str(folder / f"{number:02d}-{endpoint}.png"), full_page=True)
    context.close()
    assert failures == [], "\n" + "\n".join(failures)


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_pages_without_a_session(seeded: Seeded, width: str) -> None:
    """The login page (also with a refusal), a page that needs a login, and an
    invitation's link (valid, and one that is not)."""
    w, h = WIDTHS[width]
    context = seeded.browser.new_context(
        base_url=seeded.url,
        locale="nl-NL",
        viewport={"width": w, "height": h},
        bypass_csp=True,  # to inject axe; the CSP itself is tested in tests/web/test_browser.py
    )
    page = context.new_page()
    failures: list[str] = []
    page.goto("/koppelingen/1")
    sync_api.expect(page.locator("h1")).to_have_text("Inloggen")
    check_page(page, "/login", failures)
    page.fill("#email", OWNER)
    page.fill("#password", "niet-het-wachtwoord")
    page.click("button:has-text('Inloggen')")
    sync_api.expect(page.locator("[role=alert]")).to_be_visible()
    check_page(page, "/login (geweigerd)", failures)
    (token,) = seeded.args["token"]
    page.goto(f"/uitnodiging/{token}")
    sync_api.expect(page.locator("h1")).to_be_visible()
    check_page(page, "/uitnodiging/<token>", failures)
    response = page.goto("/uitnodiging/verlopen-of-onbekend")
    assert response is not None and response.status == 404
    check_page(page, "/uitnodiging/<onbekend>", failures)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"inloggen-{width}.png"), full_page=True)
    context.close()
    assert failures == [], "\n" + "\n".join(failures)


def test_the_walk_fails_on_what_it_should_find(seeded: Seeded) -> None:
    """The three checks are not blind: a page with an unlabelled field, a 2 000 px table
    and an English sentence fails each of them."""
    context = seeded.browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_content(
        "<html lang='nl'><head><title>Proef</title></head><body><main>"
        "<h1>Proef</h1><input type='text'>"
        "<table style='width:2000px'><tr><td>Booking failed</td></tr></table>"
        "</main></body></html>"
    )
    failures: list[str] = []
    check_page(page, "proef", failures)
    context.close()
    assert any("axe label" in f for f in failures), failures
    assert any("px wide" in f for f in failures), failures
    assert any("English word 'failed'" in f for f in failures), failures


def test_every_route_is_walked_or_skipped_with_a_reason(seeded: Seeded) -> None:
    """A page added later shows up in the walk (or names what it needs)."""
    walked = {endpoint for endpoint, _ in page_urls(seeded)}
    app = create_app(seeded.services.settings, seeded.services)
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        skipped = rule.endpoint in SKIPPED or any(
            rule.endpoint.startswith(p) for p in SKIPPED_PREFIXES
        )
        assert skipped or rule.endpoint in walked, rule.endpoint
    assert {"shops.index", "mapping.edit", "overview.booking", "alerts.edit"} <= walked
    # The skip list does not go stale: each entry is a route that exists, with its reason.
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for endpoint, reason in SKIPPED.items():
        assert endpoint in endpoints and reason.strip(), endpoint
