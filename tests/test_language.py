"""One language: every template and every reason a user can read is Dutch, without raw
codes (issue 27). The rendered pages get the same check in the browser
(tests/web/test_pages.py); this one reads the sources, so a template no test renders, or
an error explanation no test provokes, is covered too.

What counts as a problem: tests/language.py. Technical detail is allowed where a template
marks it (``<code>``, ``<pre>``, ``class="technical"``)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests

from app.booking.connections import explain
from app.clients.eboekhouden import errors as soap_errors
from app.clients.eboekhouden_rest import errors as rest_errors
from app.clients.mijnwebwinkel import errors as mww_errors
from app.clients.mijnwebwinkel.transport import Transient
from app.errors import ConnectorError, UpstreamUnavailableError
from app.web import filters
from tests.language import problems

TEMPLATES = Path(__file__).resolve().parents[1] / "app" / "templates"
SKIPPED_TAGS = {"code", "pre", "script", "style"}
READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
JINJA_BLOCK = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
ATTRIBUTES = re.compile(r'[\w-]+="[^"]*"')
LITERAL = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")
# Values a reason template is filled with: what a real error carries (codes stay out of
# the Dutch sentence; the technical message next to it has them).
FIELDS: dict[str, Any] = {
    "code": "MUT_999",
    "text": "Unknown error",
    "description": "Unknown error",
    "operation": "AddMutatie",
    "status": 400,
    "invoice_number": "W1-1001",
    "relation_code": "MWW1001",
    "ledger": "8000",
    "btw_code": "HOOG_VERK_21",
    "theirs": "2,10",
    "ours": "2,11",
}


class TextOf(HTMLParser):
    """The text a template shows, outside code/pre/script/style and ``.technical``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: technical (skipped)?

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        technical = (
            tag in SKIPPED_TAGS
            or "technical" in (values.get("class") or "").split()
            or bool(self.stack and self.stack[-1])
        )
        if not technical:
            self.parts += [values[a] or "" for a in READ_ATTRIBUTES if a in values]
        if tag not in ("br", "input", "img", "meta", "link", "hr", "source"):
            self.stack.append(technical)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "input", "img", "meta", "link", "hr", "source") and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            # A macro that writes attributes (``class="invalid" aria-invalid="true"``) is
            # markup, not text, even where the parser sees it outside a tag.
            self.parts.append(ATTRIBUTES.sub(" ", data))


def template_text(source: str) -> tuple[str, list[str]]:
    """(the markup's own text, the sentences in its Jinja expressions)."""
    source = JINJA_COMMENT.sub(" ", source)
    sentences = []
    for block in JINJA_BLOCK.findall(source):
        for single, double in LITERAL.findall(block):
            literal = single or double
            if " " in literal.strip() and len(re.findall(r"[A-Za-zÀ-ÿ]{2,}", literal)) >= 2:
                sentences.append(literal)
    parser = TextOf()
    parser.feed(JINJA_BLOCK.sub(" ", source))
    return " ".join(parser.parts), sentences


def test_the_checker_finds_what_the_issue_found() -> None:
    """The texts a new user reported (issue 27) are each found."""
    for text in (
        "((geen): Unauthorized.)",
        "Melding: e-Boekhouden session failed: HTTP 401 [-] Unauthorized.",
        "Soort FactuurVerstuurd",
        "InExBTW IN",
        "Foutcode mapping/http_401",
        "€ 142.02 op 2026-10-01",
        "1 fouten, 1 boekingen",
        "error: no shop with id 9",
    ):
        assert problems(text), text
    assert problems("Er zijn 2 boekingen mislukt (€ 142,02 op 01-10-2026), 1 fout.") == []


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_every_template_is_dutch(path: Path) -> None:
    text, sentences = template_text(path.read_text(encoding="utf-8"))
    found = problems(text) + [f"{p} in {s!r}" for s in sentences for p in problems(s)]
    assert found == [], f"{path.name}: {found}"


def _filled(template: str, module: Any) -> str:
    """As the client fills it: the call by its Dutch name (``action``)."""
    return template.format_map({**FIELDS, "operation": module.action(FIELDS["operation"])})


def _rule_texts(module: Any) -> dict[str, str]:
    texts = {}
    for code, rule in module.ERROR_CODES.items():
        texts[code] = rule.explanation
        for extra in ("fallback", "login_explanation"):
            if getattr(rule, extra, ""):
                texts[f"{code}.{extra}"] = getattr(rule, extra)
    for name in dir(module):
        value = getattr(module, name)
        if name.isupper() and isinstance(value, str) and " " in value:
            texts[name] = value
        elif name.isupper() and hasattr(value, "explanation"):
            texts[name] = value.explanation
    return texts


@pytest.mark.parametrize("module", [soap_errors, rest_errors], ids=["soap", "rest"])
def test_every_e_boekhouden_reason_is_dutch(module: Any) -> None:
    found = {}
    for name, template in _rule_texts(module).items():
        text = _filled(template, module)
        if problems(text):
            found[name] = (text, problems(text))
    assert found == {}


def test_e_boekhouden_errors_keep_the_technical_text_out_of_the_sentence() -> None:
    """An unknown refusal (e.g. HTTP 401 without a code) reads as one Dutch sentence;
    the upstream's own words stay in the technical message."""
    rest = rest_errors.error_for("", "Unauthorized", operation="session", status=401)
    soap = soap_errors.error_for("XYZ_1", "Unexpected failure", operation="AddMutatie", context={})
    for err in (rest, soap):
        assert problems(err.explanation) == [], err.explanation
        assert "Unauthorized" not in err.explanation and "Unexpected" not in err.explanation
    assert "Unauthorized" in str(rest) and "Unexpected failure" in str(soap)


def _response(status: int, body: str = '{"message": "Not Found"}') -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers["Content-Type"] = "application/json"
    return response


def test_every_mijnwebwinkel_reason_is_dutch() -> None:
    texts = []
    for status in (400, 401, 403, 404, 409, 422):
        for number in ("", "1001"):
            try:
                mww_errors.read(
                    _response(status),
                    "get_order",
                    "orders/1001",
                    number,
                    redact=lambda s: s,
                    partner_token=True,
                )
            except ConnectorError as err:
                texts.append(err.explanation)
    for code in ("http_429", "http_503", "timeout", "connection"):
        texts.append(
            mww_errors.exhausted("get_order", "orders/1", Transient(code, "x"), 3).explanation
        )
    texts.append(str(getattr(mww_errors.bad_shape("get_order", "no order"), "explanation", "")))
    texts.append(mww_errors._auth_help("order_statuses", True))
    found = {text: problems(text) for text in texts if problems(text)}
    assert found == {}


def test_what_pages_say_about_slow_systems_is_dutch() -> None:
    for system in ("mijnwebwinkel", "eboekhouden"):
        for code in ("timeout", "http_503"):
            err = UpstreamUnavailableError("x", system=system, code=code, explanation="")
            assert problems(explain(err, 5.0)) == []


def test_every_label_the_pages_show_is_dutch() -> None:
    tables = [
        {k: v[0] for k, v in filters.STATE_LABELS.items()},
        {k: v[0] for k, v in filters.PAYMENT_LABELS.items()},
        {k: v[0] for k, v in filters.ORDER_PAYMENT_LABELS.items()},
        {k: v[0] for k, v in filters.CREDIT_PAYMENT_LABELS.items()},
        {k: v[0] for k, v in filters.OPEN_ITEM_LABELS.items()},
        {k: v[0] for k, v in filters.SHOP_STATUS_LABELS.items()},
        filters.PAYMENT_KINDS,
        filters.RUN_OUTCOMES,
        filters.RUN_MODES,
    ]
    found = {text: problems(text) for table in tables for text in table.values() if problems(text)}
    assert found == {}


# --- the reasons issues 23, 24 and 29 added ---------------------------------------------
# Money (23), destination and OSS (24), start date and held orders (29): built from the
# same tables their own tests use, so a new case there is checked here too.


def _mapping_texts() -> list[str]:
    """Every refusal and note the destination table, the issue's orders, the mapping
    refusals and the tax-point cases give."""
    from app.core.mapping import Booking, map_order
    from app.core.order_schema import parse_order
    from app.errors import MappingError, OrderDataError
    from tests.core import test_destination as dest
    from tests.core import test_mapping_refusals as refusals

    texts: list[str] = []

    def run(data: Any, mapping: Any) -> None:
        try:
            result = map_order(parse_order(data), mapping)
        except (MappingError, OrderDataError) as err:
            texts.append(err.explanation)
        else:
            texts.extend(result.notes if isinstance(result, Booking) else [result.reason])

    for param in dest.CASES:
        strategy, region, shipping, delivery, uses_oss = param.values
        run(
            dest.build(strategy, region, shipping, delivery),
            dest.WITH_OSS if uses_oss else dest.DEFAULT,
        )
    for _, data, mapping, _fragments in refusals.ERROR_CASES:
        run(data, mapping)
    return texts


def _money_texts() -> list[str]:
    import datetime as dt
    from decimal import Decimal

    from app.core import open_items, payments, refunds, start_date
    from app.core.mapping_settings import NOT_BOOKED, MappingSettings
    from app.core.payment_facts import CAPTURE, REFUND, MoneyMovement, PaymentFacts

    day = dt.date(2026, 11, 2)
    d = Decimal
    sale = payments.Invoice("8101", "W1-8101", "MWW8101", d("10.00"), money_from=day)
    credit = payments.Invoice("8102", "W1-8102", "MWW8101", d("-10.00"))
    moves = PaymentFacts(
        (
            MoneyMovement("a", CAPTURE, day - dt.timedelta(days=1), d("4.00"), "ideal"),
            MoneyMovement("b", CAPTURE, day, d("4.00"), "webshop_giftcard"),
            MoneyMovement("c", CAPTURE, day, d("4.00"), "cash"),
            MoneyMovement("d", REFUND, day, d("6.00"), "ideal"),
            MoneyMovement("e", REFUND, day, d("6.00"), "ideal"),
        ),
        "order",
    )
    mapping = MappingSettings(payment_ledgers={"webshop_giftcard": NOT_BOOKED})
    texts = [
        p.reason
        for invoice in (sale, credit)
        for p in payments.plan_payments(invoice, moves, mapping).payments
        if p.reason
    ]
    notes = [refunds.CreditNote("8102", d("10.00"), day), refunds.CreditNote("8103", d("5"), day)]
    for credits in ([], notes[:1], notes):
        texts += refunds.allocate_refunds("8101", credits, moves.of_kind(REFUND), {}).held.values()
    texts += [
        open_items.lapsed_reason("W1-8101", day, d("1234.50"), 60, booked=True),
        open_items.lapsed_reason("W1-8102", day, d("-10.00"), 60, booked=True),
        open_items.lapsed_reason("8103", day, d("10.00"), 60, booked=False),
        open_items.overdue_reason("W1-8101", day, d("10.00"), 14),
        start_date.before_start_reason("8101", dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)),
        payments.unmapped_reason("8101", "klarna"),
    ]
    return texts


# What the test data itself puts into a reason: the factories' line descriptions ("article
# None": type and amount) and a wrong BTW code a refusal case sets on purpose.
TEST_DATA = ("article", "payment", "None", "HOOG_21")


def test_the_reasons_of_money_destination_and_start_date_are_dutch() -> None:
    texts = _mapping_texts() + _money_texts()
    assert any("€ 1.234,50" in t for t in texts)  # the cases ran
    assert any("afleveradres" in t for t in texts)
    found = {t: problems(t, allowed=TEST_DATA) for t in texts if problems(t, allowed=TEST_DATA)}
    assert found == {}


def test_what_the_store_and_the_heal_say_is_dutch() -> None:
    from app.booking import healing
    from app.store import booking_retries

    texts = [booking_retries.RETRY_REQUESTED, booking_retries.HEALED]
    for system in ("mijnwebwinkel", "eboekhouden", None):
        shop = type("S", (), {"status_system": system, "status_error": ""})()
        texts.append(healing.held_reason(shop))  # type: ignore[arg-type]
    found = {text: problems(text) for text in texts if problems(text)}
    assert found == {}
