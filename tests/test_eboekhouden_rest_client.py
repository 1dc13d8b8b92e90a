"""The real e-Boekhouden REST client against the REST simulator (and, for error codes the
simulator has no natural cause for, a small WSGI stub), over real HTTP on loopback."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from app.clients.eboekhouden_rest import EBoekhoudenRestClient, clear_caches
from app.clients.eboekhouden_rest import errors as errs
from app.clients.eboekhouden_rest import sessions as rest_sessions
from app.core.adoption import difference
from app.core.mutations import Mutation, MutationRow, Relation, Soort
from app.errors import (
    BookkeepingAuthError,
    DuplicateInvoiceError,
    RateLimitedError,
    RelationExistsError,
    SessionExpiredError,
    UnknownRelationError,
    UpstreamError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator
from sandbox.server import ServerThread

pytestmark = pytest.mark.integration  # loopback servers

TOKEN = "API-TOKEN-5EC2E7-abcdefghijklmnop"
RELATION = "MWW-C1"
DAY = dt.date(2026, 11, 2)
D = Decimal


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def sim() -> EBoekhoudenRestSimulator:
    simulator = EBoekhoudenRestSimulator()
    simulator.add_administration(TOKEN, name="Testwinkel")
    simulator.add_relation(TOKEN, RELATION, "Jan Jansen", email="jan@example.com", bp="P")
    return simulator


@pytest.fixture
def server(switch: Any, sim: EBoekhoudenRestSimulator) -> ServerThread:
    switch.app = sim
    assert switch.server is not None
    return switch.server


@pytest.fixture
def observed() -> list[tuple[str, str]]:
    return []


def make_client(url: str, token: str = TOKEN, **kw: Any) -> EBoekhoudenRestClient:
    kw.setdefault("timeout", 2.0)
    kw.setdefault("operation_timeout", 2.0)
    kw.setdefault("backoff", 0.01)
    return EBoekhoudenRestClient(token, url=url, **kw)


@pytest.fixture
def client(
    server: ServerThread, observed: list[tuple[str, str]]
) -> Iterator[EBoekhoudenRestClient]:
    c = make_client(server.url, metrics=lambda op, outcome, s: observed.append((op, outcome)))
    yield c
    c.close()


def row(
    incl: str = "121.00",
    excl: str = "100.00",
    vat: str = "21.00",
    code: str = "HOOG_VERK_21",
    rate: str = "21",
    ledger: str = "8010",
) -> MutationRow:
    return MutationRow(D(incl), D(excl), D(vat), code, D(rate), ledger)


def invoice(number: str = "1001", *rows: MutationRow, **kw: Any) -> Mutation:
    fields: dict[str, Any] = {
        "soort": Soort.FACTUUR_VERSTUURD,
        "date": DAY,
        "ledger": "1300",
        "invoice_number": number,
        "description": f"Bestelling {number}",
        "rows": rows or (row(),),
        "relation_code": RELATION,
        "payment_term_days": 14,
    }
    fields.update(kw)
    return Mutation(**fields)


def payment(number: str = "1001", total: str = "121.00") -> Mutation:
    return Mutation(
        Soort.FACTUURBETALING_ONTVANGEN,
        DAY,
        "1100",
        number,
        f"Betaling {number}",
        (row(total, total, "0.00", "GEEN", "0", "1300"),),
        relation_code=RELATION,
    )


# -- the port ------------------------------------------------------------------------


def test_add_mutation_books_every_row_and_returns_the_id(client, sim):
    booked = invoice("1001", row(), row("10.90", "10.00", "0.90", "LAAG_VERK_9", "9", "8000"))
    number = client.add_mutation(booked)
    [stored] = sim.mutations(TOKEN)
    assert stored["id"] == number and stored["type"] == 2 and stored["date"] == "2026-11-02"
    assert stored["ledgerCode"] == "1300" and stored["termOfPayment"] == 14
    assert stored["relationId"] == sim.relations(TOKEN)[0]["id"]
    assert [
        (r["ledgerCode"], r["vatCode"], r["amount"], r["vatAmount"]) for r in stored["rows"]
    ] == [
        ("8010", "HOOG_VERK_21", D("121.00"), D("21.00")),
        ("8000", "LAAG_VERK_9", D("10.90"), D("0.90")),
    ]
    assert "vatAmount" not in json.dumps(stored["rows"][0]["vatCode"])
    assert stored["inExVat"] == "IN" and stored["invoiceNumber"] == "1001"


def test_invoice_then_payment_and_money_received_without_relation(client, sim):
    client.add_mutation(invoice("1001"))
    client.add_mutation(payment("1001"))
    cash = Mutation(Soort.GELD_ONTVANGEN, DAY, "1100", "1002", "Kas", (row(),))
    client.add_mutation(cash)
    types = [(m["type"], m.get("relationId") is not None) for m in sim.mutations(TOKEN)]
    assert types == [(2, True), (3, True), (5, False)]
    pay_row = sim.mutations(TOKEN)[1]["rows"][0]
    assert pay_row["invoiceNumber"] == "1001" and pay_row["ledgerCode"] == "1300"


def test_find_mutations_returns_only_that_invoice_with_soort_and_totals(client):
    client.add_mutation(invoice("1001"))
    client.add_mutation(payment("1001"))
    client.add_mutation(invoice("10011"))
    found = client.find_mutations("1001")
    assert [(m.soort, m.invoice_number, m.total, m.date) for m in found] == [
        ("FactuurVerstuurd", "1001", D("121.00"), DAY),
        ("FactuurbetalingOntvangen", "1001", D("121.00"), DAY),
    ]
    assert client.find_mutations("9999") == []
    with pytest.raises(ValueError):
        client.find_mutations(" ")


def test_found_mutations_compare_like_soap_ones(client, server):
    """Relation and ledger ids come back as codes and the rows incl. VAT, so that
    app.core.adoption adopts our own mutation after a lost answer (issue 13)."""
    ours = invoice("1001", row(), row("10.90", "10.00", "0.90", "LAAG_VERK_9", "9", "8000"))
    client.add_mutation(ours)
    clear_caches()
    fresh = make_client(server.url)  # knows no ids yet: translates them back over HTTP
    try:
        [found] = fresh.find_mutations("1001")
    finally:
        fresh.close()
    assert found.relation_code == RELATION and found.total == D("131.90")
    assert found.rows == (
        ("8010", "HOOG_VERK_21", D("121.00")),
        ("8000", "LAAG_VERK_9", D("10.90")),
    )
    assert difference(found, ours, {RELATION}) == ""
    assert difference(found, ours.with_relation("MWW-C9"), {"MWW-C9"}) != ""
    other = invoice(
        "1001",
        row("121.00", "100.00", "21.00", "HOOG_VERK_21", "21", "8000"),
        row("10.90", "10.00", "0.90", "LAAG_VERK_9", "9", "8000"),
    )
    assert "boekingsregels" in difference(found, other, {RELATION})


def test_found_mutations_with_amounts_excl_vat_are_compared_incl_vat(client, sim):
    relation = sim.relations(TOKEN)[0]["id"]
    admin = sim.books.administrations[TOKEN]
    ids = {g["code"]: g["id"] for g in admin.ledgers.values()}
    sim.books.create_mutation(
        admin,
        {
            "type": 2,
            "date": "2026-11-02",
            "ledgerId": ids["1300"],
            "invoiceNumber": "2001",
            "inExVat": "EX",
            "relationId": relation,
            "rows": [{"ledgerId": ids["8010"], "vatCode": "HOOG_VERK_21", "amount": 100.00}],
        },
    )
    [found] = client.find_mutations("2001")
    assert (found.relation_code, found.total, found.rows) == (
        RELATION,
        D("121.00"),
        (("8010", "HOOG_VERK_21", D("121.00")),),
    )


def test_relations_found_by_code_and_email_created_and_updated(client, sim):
    found = client.find_relation("mww-c1")
    assert found is not None and found.code == RELATION
    assert client.find_relation("nobody") is None
    assert [r.code for r in client.find_relations_by_email("jan@example.com")] == [RELATION]
    rel = Relation(
        code="MWW-C2",
        name="Piet BV",
        bp="B",
        contact="Piet",
        email="p@example.com",
        city="Utrecht",
        country="NL",
        vat_number="NL001",
    )
    new_id = client.add_relation(rel)
    stored = next(r for r in sim.relations(TOKEN) if r["id"] == new_id)
    assert (stored["type"], stored["name"], stored["emailAddress"], stored["vatNumber"]) == (
        "B",
        "Piet BV",
        "p@example.com",
        "NL001",
    )
    with pytest.raises(RelationExistsError) as info:
        client.add_relation(rel)
    assert info.value.code == "REL_049" and "MWW-C2" in info.value.explanation
    existing = client.find_relation("mww-c2")
    assert existing is not None and existing.id == new_id
    # list items carry only id, type and code: the rest comes from GET /v1/relation/{id}
    assert (existing.name, existing.email, existing.vat_number) == (
        "Piet BV",
        "p@example.com",
        "NL001",
    )
    client.update_relation(
        existing, {"Bedrijf": "Piet Holding", "BTWNummer": "NL002", "Plaats": "Zeist"}
    )
    stored = next(r for r in sim.relations(TOKEN) if r["id"] == new_id)
    assert (stored["name"], stored["vatNumber"], stored["city"]) == (
        "Piet Holding",
        "NL002",
        "Utrecht",
    )  # only the fields PatchRelation maps
    existing = client.find_relation("MWW-C2")
    assert existing is not None and existing.name == "Piet Holding"
    client.update_relation(existing, {"BTWNummer": "NL003"})  # name required: current one sent
    stored = next(r for r in sim.relations(TOKEN) if r["id"] == new_id)
    assert (stored["name"], stored["vatNumber"]) == ("Piet Holding", "NL003")


def test_ledgers_administrations_and_vat_codes(client):
    accounts = {a.code: a for a in client.ledger_accounts()}
    assert accounts["1300"].category == "DEB" and accounts["8000"].description == "Omzet groep 1"
    assert [a.name for a in client.administrations()] == ["Testwinkel"]
    assert "HOOG_VERK_21" in client.vat_codes() and "HOOG_VERK" not in client.vat_codes()


def test_ledger_ids_are_looked_up_once_per_administration(server, sim):
    with make_client(server.url) as first:
        first.add_mutation(invoice("1001"))
    lookups = sim.admin_calls(TOKEN)["get_ledgers"]
    assert lookups == 2  # 1300 and 8010
    with make_client(server.url) as second:  # another job, same process and token
        second.add_mutation(invoice("1002"))
    assert sim.admin_calls(TOKEN)["get_ledgers"] == lookups


def test_vat_codes_are_translated_or_refused_before_sending(client, sim):
    legacy = row("10.90", "10.00", "0.90", "LAAG_VERK", "9", "8000")
    client.add_mutation(invoice("1001", legacy))
    assert sim.mutations(TOKEN)[0]["rows"][0]["vatCode"] == "LAAG_VERK_9"
    with pytest.raises(UpstreamRejectedError) as info:
        client.add_mutation(invoice("1002", row("11.90", "10.00", "1.90", "HOOG_VERK", "19")))
    assert info.value.code == "vat_code_unsupported" and "HOOG_VERK" in info.value.explanation
    with pytest.raises(UpstreamRejectedError) as info:  # e-Boekhouden would say 2.10
        client.add_mutation(invoice("1003", row("12.10", "10.01", "2.09")))
    assert info.value.code == "vat_mismatch"
    oss = row("119.00", "100.00", "19.00", "AFW_VERK", "19", "8020")
    client.add_mutation(invoice("1004", oss))
    assert sim.mutations(TOKEN)[-1]["rows"][0]["vatAmount"] == D("19.00")
    assert sim.admin_calls(TOKEN)["create_mutation"] == 2


def test_unknown_ledger_code_and_unknown_relation(client, sim):
    with pytest.raises(UpstreamRejectedError) as info:
        client.add_mutation(invoice("1001", row(ledger="0000")))
    assert info.value.code == "ledger_unknown" and "0000" in info.value.explanation
    with pytest.raises(UnknownRelationError):
        client.add_mutation(invoice("1002", relation_code="GHOST"))
    assert sim.admin_calls(TOKEN)["create_mutation"] == 0


def test_a_relation_deleted_since_it_was_cached_is_an_unknown_relation(client, sim):
    client.add_mutation(invoice("1001"))
    sim.books.administrations[TOKEN].relations.clear()
    with pytest.raises(UnknownRelationError) as info:
        client.add_mutation(invoice("1002"))
    assert info.value.code == "MUT_013" and RELATION in info.value.explanation
    with pytest.raises(UnknownRelationError) as info:  # the cached id was forgotten
        client.add_mutation(invoice("1002"))
    assert info.value.code == "relation_unknown"


def test_duplicate_invoice_number(client):
    client.add_mutation(invoice("1001"))
    with pytest.raises(DuplicateInvoiceError) as info:
        client.add_mutation(invoice("1001"))
    assert info.value.code == "MUT_019" and "1001" in info.value.explanation


# -- sessions ------------------------------------------------------------------------


def test_one_session_serves_many_calls_and_is_closed(client, sim):
    client.ledger_accounts()
    client.find_relation(RELATION)
    client.close()
    client.close()
    calls = sim.admin_calls(TOKEN)
    assert calls["session"] == 1 and calls["end_session"] == 1 and not sim.books.sessions
    assert sim.sources(TOKEN) == {"MWWConnect": 1}


@pytest.mark.parametrize("expire", ["fault", "server_forgot", "lifetime"])
def test_an_expired_session_is_reopened_once_transparently(client, sim, observed, expire):
    client.ledger_accounts()
    if expire == "fault":
        sim.faults.add("session_expired", operation="get_relations")
    elif expire == "server_forgot":
        sim.expire_sessions()
    else:
        sim.advance_clock(3601)
    assert client.find_relation(RELATION) is not None
    assert sim.admin_calls(TOKEN)["session"] == 2
    assert observed.count(("get_relations", "SessionExpiredError")) == 1


def test_a_session_that_expires_twice_is_an_error(client, sim):
    client.verify()
    sim.faults.add("session_expired", operation="get_ledgers", times=2)
    with pytest.raises(SessionExpiredError):
        client.ledger_accounts()


def test_the_session_is_renewed_before_expires_in_runs_out(server, sim, monkeypatch):
    monkeypatch.setattr(rest_sessions, "SESSION_MARGIN", 3600.0)  # always "about to expire"
    with make_client(server.url) as c:
        c.ledger_accounts()
        c.administrations()
    assert sim.admin_calls(TOKEN)["session"] == 2


def test_a_session_store_shares_the_token_between_clients(server, sim):
    class Store:
        value: str | None = None

        def get(self) -> str | None:
            return self.value

        def put(self, session_id: str) -> None:
            self.value = session_id

        def discard(self, session_id: str) -> None:
            if self.value == session_id:
                self.value = None

    store = Store()
    a = make_client(server.url, session_store=store)
    b = make_client(server.url, session_store=store)
    a.ledger_accounts()
    b.administrations()
    assert sim.admin_calls(TOKEN)["session"] == 1
    sim.expire_sessions()
    b.administrations()  # reopens, and shares the new token
    a.find_relation(RELATION)
    assert sim.admin_calls(TOKEN)["session"] == 2
    a.close()
    assert store.value is None


def test_bad_and_expired_api_tokens_are_auth_errors(server, sim):
    with pytest.raises(BookkeepingAuthError):
        make_client(server.url, "wrong-token").verify()
    sim.expire_token(TOKEN)
    with pytest.raises(BookkeepingAuthError) as info:
        make_client(server.url).verify()
    assert info.value.code == "API_SESSION_004" and "verlopen" in info.value.explanation


def test_a_token_that_expires_mid_session_is_an_auth_error_after_one_reopen(client, sim):
    client.verify()
    sim.expire_token(TOKEN)
    sim.expire_sessions()
    with pytest.raises(BookkeepingAuthError):
        client.ledger_accounts()


def test_close_never_raises(server, sim):
    c = make_client(server.url)
    c.verify()
    sim.faults.add("http_status", operation="end_session", status=500, times=5)
    c.close()
    c.close()


# -- retries and faults --------------------------------------------------------------


def test_429_is_retried_after_retry_after_even_for_a_mutation(client, sim):
    client.verify()
    sim.faults.add("http_status", operation="create_mutation", status=429, retry_after="0.05")
    assert client.add_mutation(invoice("1001"))
    assert len(sim.mutations(TOKEN)) == 1


def test_a_long_retry_after_goes_up_for_the_job_queue(client, sim):
    client.verify()
    sim.faults.add("http_status", operation="get_ledgers", status=429, retry_after="120")
    with pytest.raises(RateLimitedError) as info:
        client.ledger_accounts()
    assert info.value.retry_after == 120 and info.value.retryable


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("6", 6.0), ("Wed, 21 Oct 2099 07:28:00 GMT", 86400.0)],
    ids=["just-over-the-in-call-cap", "http-date-capped-at-a-day"],
)
def test_a_wait_beyond_a_few_seconds_is_never_slept_in_the_call(client, sim, retry_after, expected):
    client.verify()
    sim.faults.add("http_status", operation="create_mutation", status=429, retry_after=retry_after)
    with pytest.raises(RateLimitedError) as info:
        client.add_mutation(invoice("1001"))
    assert info.value.retry_after == expected
    assert sim.mutations(TOKEN) == [] and sim.faults.snapshot()["pending"] == []


@pytest.mark.parametrize("kind", ["http_status", "timeout", "drop"])
def test_reads_are_retried_with_backoff(client, sim, kind):
    client.verify()
    sim.faults.add(kind, operation="get_relations", seconds=2.5)
    assert client.find_relation(RELATION) is not None
    assert sim.calls["get_relations"] == 2


def test_reads_give_up_after_the_retries(client, sim):
    client.verify()
    sim.faults.add("http_status", operation="get_ledgers", status=502, times=3)
    with pytest.raises(UpstreamUnavailableError) as info:
        client.ledger_accounts()
    assert info.value.code == "http_502" and sim.calls["get_ledgers"] == 3


@pytest.mark.parametrize(
    ("kind", "code", "stored"),
    [
        ("http_status", "http_503", 0),
        ("soap_fault", "http_500", 0),
        ("timeout", "timeout", 1),
        ("drop", "connection", 0),
        ("commit_then_drop", "connection", 1),
    ],
)
def test_a_mutation_that_may_have_arrived_is_never_sent_twice(client, sim, kind, code, stored):
    client.add_mutation(invoice("1000"))
    sim.faults.add(kind, operation="create_mutation", seconds=2.5)
    with pytest.raises(UpstreamUnavailableError) as info:
        client.add_mutation(invoice("1001"))
    assert info.value.code == code and info.value.retryable
    assert sim.calls["create_mutation"] == 2
    deadline = time.monotonic() + 3
    while len(sim.mutations(TOKEN)) < 1 + stored and time.monotonic() < deadline:
        time.sleep(0.05)  # a slow server still books after the client gave up
    assert len(client.find_mutations("1001")) == stored


def test_latency_slows_the_call_but_it_succeeds(client, sim):
    sim.faults.add("latency", operation="get_ledgers", seconds=0.2)
    assert client.ledger_accounts()


def test_unreachable_server_and_bad_url():
    with pytest.raises(UpstreamUnavailableError) as info:
        make_client("http://127.0.0.1:9").verify()
    assert info.value.code == "connection"
    with pytest.raises(UpstreamRejectedError) as info:
        make_client("api.e-boekhouden.nl").verify()
    assert info.value.code == "bad_url"


# -- every error code ----------------------------------------------------------------


class Stub:
    """Answers POST /v1/session with a token and everything else with ``answer``."""

    def __init__(self) -> None:
        self.session: tuple[int, Any] = (200, {"token": "stub-session-token", "expiresIn": 60})
        self.answer: tuple[int, Any] = (200, {"items": []})

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        session = environ["PATH_INFO"] == "/v1/session" and environ["REQUEST_METHOD"] == "POST"
        status, body = self.session if session else self.answer
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        start_response(f"{status} X", [("Content-Type", "application/json")])
        return [data]


def error_body(code: str, status: int = 400, title: str = "Something is wrong.") -> dict[str, Any]:
    return {
        "type": "validation",
        "code": code,
        "title": title,
        "status": status,
        "propertyName": "field",
        "traceId": "t-1",
    }


def seed_ids(c: EBoekhoudenRestClient) -> None:
    for kind, key, value in (
        ("ledger", "1300", 1),
        ("ledger", "8010", 2),
        ("relation", RELATION.casefold(), 7),
    ):
        c._ids.put(kind, key, value)


@pytest.fixture
def stub(switch: Any) -> Stub:
    switch.app = Stub()
    return switch.app  # type: ignore[no-any-return]


MUTATION_CODES = [c for c in errs.ERROR_CODES if c.startswith("MUT")]
RELATION_CODES = [c for c in errs.ERROR_CODES if c.startswith("REL")]
SESSION_CODES = [c for c in errs.ERROR_CODES if c.startswith("API_SESSION")]


def test_the_table_covers_every_code_the_connector_can_meet():
    assert set(MUTATION_CODES) == {
        "MUT_002",
        "MUT_003",
        "MUT_007",
        "MUT_012",
        "MUT_013",
        "MUT_016",
        "MUT_017",
        "MUT_018",
        "MUT_019",
        "MUT_100",
        "MUT_101",
        "MUT_104",
        "MUT_106",
        "MUT_109",
        "MUT_112",
        "MUT_113",
        "MUT_115",
        "MUT_120",
        "MUTA_001",
        "MUTA_004",
        "MUTA_005",
    }
    assert set(SESSION_CODES) == {f"API_SESSION_00{n}" for n in range(1, 5)}
    assert "REL_049" in RELATION_CODES and len(RELATION_CODES) == 15


@pytest.mark.parametrize("code", MUTATION_CODES)
def test_every_mutation_code_maps_to_its_type_with_a_dutch_explanation(switch, stub, code):
    stub.answer = (400, error_body(code, title=f"Text of {code}."))
    c = make_client(switch.url)
    seed_ids(c)
    with pytest.raises(UpstreamError) as info:
        c.add_mutation(invoice("1001"))
    err = info.value
    assert type(err) is errs.ERROR_CODES[code].exception and err.code == code
    assert not err.retryable and "{" not in err.explanation
    expected = {
        "MUT_019": DuplicateInvoiceError,
        "MUT_013": UnknownRelationError,
        "MUT_113": UnknownRelationError,
    }.get(code, UpstreamRejectedError)
    assert type(err) is expected


@pytest.mark.parametrize("code", RELATION_CODES)
def test_every_relation_code_maps_to_its_type(switch, stub, code):
    stub.answer = (400, error_body(code, title=f"Text of {code}."))
    with pytest.raises(UpstreamRejectedError) as info:
        make_client(switch.url).add_relation(Relation(code="MWW-1", name="Jan", bp="P"))
    assert type(info.value) is (RelationExistsError if code == "REL_049" else UpstreamRejectedError)
    assert info.value.code == code and "{" not in info.value.explanation
    if code != "REL_049":  # e-Boekhouden's text: the technical message, under the Dutch one
        assert f"Text of {code}." in str(info.value)
        assert f"Text of {code}." not in info.value.explanation


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("API_SESSION_001", UpstreamRejectedError),
        ("API_SESSION_002", UpstreamRejectedError),
        ("API_SESSION_003", BookkeepingAuthError),
        ("API_SESSION_004", BookkeepingAuthError),
        ("SOMETHING_NEW", BookkeepingAuthError),
        ("", BookkeepingAuthError),
    ],
)
def test_session_codes_on_login(switch, stub, code, expected):
    stub.session = (400 if code != "API_SESSION_004" else 401, error_body(code))
    with pytest.raises(UpstreamError) as info:
        make_client(switch.url).verify()
    assert type(info.value) is expected and not info.value.retryable


def test_api_session_004_on_a_data_call_reopens_the_session(switch, stub):
    stub.answer = (401, error_body("API_SESSION_004", 401, "Access token has expired."))
    with pytest.raises(SessionExpiredError):
        make_client(switch.url).ledger_accounts()


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (400, error_body("XYZ_123", title="Nieuwe fout."), UpstreamRejectedError, "XYZ_123"),
        (
            400,
            {"type": "validation", "title": "Bad.", "errors": ["rows: wrong"]},
            UpstreamRejectedError,
            "http_400",
        ),
        (
            403,
            {"type": "security", "title": "Forbidden", "status": 403},
            BookkeepingAuthError,
            "http_403",
        ),
        (404, b"", UpstreamRejectedError, "http_404"),
        (409, b"<html>conflict</html>", UpstreamRejectedError, "http_409"),
        (500, b"oops", UpstreamUnavailableError, "http_500"),
        (200, b"not json", UpstreamUnavailableError, "bad_response"),
    ],
)
def test_other_answers(switch, stub, status, body, expected, code):
    stub.answer = (status, body)
    with pytest.raises(UpstreamError) as info:
        make_client(switch.url, retries=0).ledger_accounts()
    assert type(info.value) is expected and info.value.code == code
    # e-Boekhouden's own code and text: in the technical message, not in the Dutch sentence
    if code == "XYZ_123":
        assert "XYZ_123" in str(info.value) and "Nieuwe fout." in str(info.value)
        assert "XYZ_123" not in info.value.explanation
    if code == "http_400":
        assert "rows: wrong" in str(info.value) and "rows" not in info.value.explanation


def test_a_created_mutation_without_id_is_uncertain(switch, stub):
    stub.answer = (
        200,
        {
            "items": [
                {"id": 1, "code": "1300"},
                {"id": 2, "code": "8010"},
                {"id": 7, "code": RELATION},
            ]
        },
    )
    c = make_client(switch.url)
    seed_ids(c)
    stub.answer = (201, {})
    with pytest.raises(UpstreamUnavailableError) as info:
        c.add_mutation(invoice("1001"))
    assert info.value.code == "no_number"


# -- secrets and metrics -------------------------------------------------------------


def test_secrets_never_appear_in_errors_logs_or_repr(switch, stub, caplog):
    caplog.set_level(logging.DEBUG)
    session = "stub-session-token"
    stub.answer = (400, error_body("XYZ", title=f"bad {TOKEN} in {session}"))
    c = make_client(switch.url)
    errors: list[UpstreamError] = []
    with pytest.raises(UpstreamError) as info:
        c.ledger_accounts()
    errors.append(info.value)
    stub.session = (401, error_body("", 401, f"token {TOKEN} refused"))
    with pytest.raises(BookkeepingAuthError) as auth:
        make_client(switch.url).verify()
    errors.append(auth.value)
    texts = [repr(c), caplog.text] + [f"{e} {e.explanation} {e!r} {e.args}" for e in errors]
    assert "***" in str(errors[0])  # the technical message, redacted
    for text in texts:
        assert TOKEN not in text and session not in text


def test_metrics_see_every_call_and_a_broken_hook_is_harmless(server, caplog):
    seen: list[tuple[str, str, float]] = []
    c = make_client(server.url, metrics=lambda *a: seen.append(a))
    c.ledger_accounts()
    with pytest.raises(DuplicateInvoiceError):
        c.add_mutation(invoice("1001"))
        c.add_mutation(invoice("1001"))
    c.close()
    assert [(op, outcome) for op, outcome, _ in seen] == [
        ("session", "ok"),
        ("get_ledgers", "ok"),
        ("get_relations", "ok"),
        ("get_relation", "ok"),
        ("create_mutation", "ok"),
        ("create_mutation", "DuplicateInvoiceError"),
        ("end_session", "ok"),
    ]

    def broken(*args: Any) -> None:
        raise RuntimeError("metrics down")

    with make_client(server.url, metrics=broken) as c:
        assert c.ledger_accounts()
    assert "metrics callback failed" in caplog.text


def test_verify_checks_the_token_even_when_a_session_is_shared(server, sim):
    class Store:
        value: str | None = None

        def get(self) -> str | None:
            return self.value

        def put(self, session_id: str) -> None:
            self.value = session_id

        def discard(self, session_id: str) -> None:
            self.value = None

    store = Store()
    make_client(server.url, session_store=store).verify()
    assert store.value
    with pytest.raises(BookkeepingAuthError):
        make_client(server.url, "another-wrong-token", session_store=store).verify()
