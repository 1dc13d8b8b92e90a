"""The real e-Boekhouden client against the simulator, over real HTTP on loopback."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from app.clients.eboekhouden import EBoekhoudenClient
from app.clients.eboekhouden import transport as eb
from app.core.mutations import Mutation, MutationRow, Relation, Soort
from app.errors import (
    BookkeepingAuthError,
    DuplicateInvoiceError,
    RateLimitedError,
    SessionExpiredError,
    UpstreamError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from sandbox.eboekhouden import SOAP_PATH, EBoekhoudenSimulator
from sandbox.server import ServerThread

USER = "webshop-1"
CODE1 = "S3CR3T-CODE-ONE-4711"
CODE2 = "0F1E2D3C-SECRET-CODE-TWO-99"
RELATION = "MWW-C1"


@pytest.fixture
def sim() -> EBoekhoudenSimulator:
    simulator = EBoekhoudenSimulator()
    simulator.add_administration(USER, CODE1, CODE2, name="Testwinkel", city="Utrecht")
    simulator.add_relation(USER, RELATION, "Jan Jansen", email="jan@example.com", bp="P")
    return simulator


@pytest.fixture
def server(switch: Any, sim: EBoekhoudenSimulator) -> ServerThread:
    switch.app = sim
    assert switch.server is not None
    return switch.server


@pytest.fixture
def observed() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def client(server: ServerThread, observed: list[tuple[str, str]]) -> Iterator[EBoekhoudenClient]:
    c = EBoekhoudenClient(
        USER,
        CODE1,
        CODE2,
        url=server.url + SOAP_PATH,
        timeout=2.0,
        operation_timeout=2.0,
        metrics=lambda op, outcome, seconds: observed.append((op, outcome)),
    )
    yield c
    c.close()


def row(
    incl: str = "121.00", excl: str = "100.00", vat: str = "21.00", **kw: object
) -> MutationRow:
    fields: dict[str, object] = {
        "amount_incl": Decimal(incl),
        "amount_excl": Decimal(excl),
        "amount_vat": Decimal(vat),
        "btw_code": "HOOG_VERK_21",
        "btw_percentage": Decimal("21"),
        "ledger": "8000",
    }
    fields.update(kw)
    return MutationRow(**fields)  # type: ignore[arg-type]


def invoice(number: str = "MWW-1001", **kw: object) -> Mutation:
    fields: dict[str, object] = {
        "soort": Soort.FACTUUR_VERSTUURD,
        "date": dt.date(2024, 5, 1),
        "ledger": "1300",
        "invoice_number": number,
        "description": f"Mijnwebwinkel bestelling {number}",
        "rows": (row(), row("10.90", "10.00", "0.90", btw_code="LAAG_VERK_9",
                                    btw_percentage=Decimal("9"), ledger="8010")),
        "relation_code": RELATION,
        "payment_term_days": 14,
    }  # fmt: skip
    fields.update(kw)
    return Mutation(**fields)  # type: ignore[arg-type]


def payment(number: str = "MWW-1001") -> Mutation:
    return Mutation(
        soort=Soort.FACTUURBETALING_ONTVANGEN,
        date=dt.date(2024, 5, 2),
        ledger="1010",
        invoice_number=number,
        description=f"Betaling {number}",
        rows=(row("131.90", "131.90", "0.00", btw_code="GEEN", btw_percentage=Decimal("0"),
                  ledger="1300"),),
        relation_code=RELATION,
    )  # fmt: skip


# -- operations ----------------------------------------------------------------------


def test_add_mutation_books_every_row_and_returns_the_number(client, sim):
    number = client.add_mutation(invoice())

    [stored] = sim.mutations(USER)
    assert stored["MutatieNr"] == number > 0
    assert stored["Soort"] == "FactuurVerstuurd"
    assert stored["Datum"] == dt.datetime(2024, 5, 1)
    assert (stored["Rekening"], stored["RelatieCode"]) == ("1300", RELATION)
    assert (stored["Factuurnummer"], stored["Betalingstermijn"], stored["InExBTW"]) == (
        "MWW-1001", "14", "IN"
    )  # fmt: skip
    assert [
        (r["TegenrekeningCode"], r["BTWCode"], r["BedragInclBTW"], r["BedragExclBTW"],
         r["BedragBTW"], r["KostenplaatsID"])
        for r in stored["MutatieRegels"]
    ] == [
        ("8000", "HOOG_VERK_21", Decimal("121.00"), Decimal("100.00"), Decimal("21.00"), 0),
        ("8010", "LAAG_VERK_9", Decimal("10.90"), Decimal("10.00"), Decimal("0.90"), 0),
    ]  # fmt: skip
    assert sim.sources(USER) == {"MWWConnect": 1}


def test_money_received_needs_no_relation(client, sim):
    mutation = Mutation(
        soort=Soort.GELD_ONTVANGEN,
        date=dt.date(2024, 5, 3),
        ledger="1100",
        invoice_number="MWW-1002",
        description="Bestelling 1002 betaald",
        rows=(row(),),
    )
    assert client.add_mutation(mutation) > 0
    assert sim.mutations(USER)[0]["RelatieCode"] is None


def test_find_mutations_returns_only_that_invoice_with_totals(client):
    invoice_nr = client.add_mutation(invoice("MWW-1001"))
    payment_nr = client.add_mutation(payment("MWW-1001"))
    client.add_mutation(invoice("MWW-10010"))

    found = client.find_mutations("mww-1001")

    assert [(m.number, m.soort, m.date, m.invoice_number, m.total) for m in found] == [
        (invoice_nr, "FactuurVerstuurd", dt.date(2024, 5, 1), "MWW-1001", Decimal("131.90")),
        (payment_nr, "FactuurbetalingOntvangen", dt.date(2024, 5, 2), "MWW-1001",
         Decimal("131.90")),
    ]  # fmt: skip
    assert client.find_mutations("MWW-9999") == []


def test_relations_are_found_by_code_and_by_exact_email(client, sim):
    sim.add_relation(USER, "MWW-C2", "Jan B.V.", email="jan@example.com.au")

    found = client.find_relation("mww-c1")
    assert found is not None
    assert (found.code, found.name, found.email) == (RELATION, "Jan Jansen", "jan@example.com")
    assert client.find_relation("MWW-NONE") is None
    assert [r.code for r in client.find_relations_by_email(" JAN@Example.com")] == [RELATION]
    assert client.find_relations_by_email("nobody@example.com") == []


def test_add_relation_returns_its_id(client, sim):
    relation = Relation(code="MWW-C9", name="Piet Klant", bp="P", city="Gouda",
                        email="piet@example.com", country="NL")  # fmt: skip

    rel_id = client.add_relation(relation)

    [stored] = [r for r in sim.relations(USER) if r["Code"] == "MWW-C9"]
    assert stored["ID"] == rel_id > 0
    assert (stored["Bedrijf"], stored["BP"], stored["Plaats"], stored["Email"]) == (
        "Piet Klant", "P", "Gouda", "piet@example.com"
    )  # fmt: skip
    found = client.find_relation("MWW-C9")
    assert found is not None and found.id == rel_id


def test_ledger_accounts_and_administrations(client):
    ledgers = {a.code: a for a in client.ledger_accounts()}
    assert {"1000", "1100", "1300", "1600", "1500", "1510", "8000", "8010", "8900"} <= set(ledgers)
    assert (ledgers["1300"].description, ledgers["1300"].category) == ("Debiteuren", "DEB")
    assert ledgers["8010"].category == "VW" and ledgers["8010"].id > 0

    [admin] = client.administrations()
    assert (admin.name, admin.city) == ("Testwinkel", "Utrecht") and admin.guid


# -- sessions ------------------------------------------------------------------------


def test_one_session_serves_many_calls_and_is_closed(client, sim):
    client.verify()
    for _ in range(5):
        client.ledger_accounts()
    client.find_relation(RELATION)
    client.close()
    client.close()  # idempotent

    assert sim.calls["OpenSession"] == 1
    assert sim.calls["CloseSession"] == 1
    assert sim.books.sessions == {}


def test_concurrent_calls_share_one_session(client, sim):
    errors: list[Exception] = []

    def work() -> None:
        try:
            for _ in range(3):
                client.ledger_accounts()
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sim.calls["OpenSession"] == 1
    assert sim.calls["GetGrootboekrekeningen"] == 18


@pytest.mark.parametrize("expire", ["fault", "idle_timeout", "server_forgot"])
def test_an_expired_session_is_reopened_once_transparently(client, sim, observed, expire):
    client.verify()
    if expire == "fault":
        sim.faults.add("session_expired", operation="AddMutatie")
    elif expire == "idle_timeout":
        sim.advance_clock(31 * 60)
    else:
        sim.expire_sessions()

    number = client.add_mutation(invoice())

    assert [m["MutatieNr"] for m in sim.mutations(USER)] == [number]
    assert sim.calls["OpenSession"] == 2
    assert observed[-3:] == [
        ("AddMutatie", "SessionExpiredError"),
        ("OpenSession", "ok"),
        ("AddMutatie", "ok"),
    ]


def test_a_session_that_expires_twice_is_an_error(client, sim):
    client.verify()
    sim.faults.add("session_expired", operation="GetGrootboekrekeningen", times=2)

    with pytest.raises(SessionExpiredError) as info:
        client.ledger_accounts()

    assert info.value.retryable and info.value.code == "SESSIE_ONGELDIG"
    assert sim.calls["OpenSession"] == 2
    assert client.ledger_accounts()  # and the next call works again


def test_close_never_raises(server, sim):
    c = EBoekhoudenClient(USER, CODE1, CODE2, url=server.url + SOAP_PATH, operation_timeout=1)
    c.close()  # never opened: no call
    assert sim.calls["CloseSession"] == 0
    c.verify()
    sim.faults.add("drop", operation="CloseSession")
    c.close()
    assert "session=closed" in repr(c)


# -- business errors -----------------------------------------------------------------

EXPECTED_TYPES = {"RELATIE_ONBEKEND": "UnknownRelationError"}


@pytest.mark.parametrize(
    ("mutation", "code", "explanation"),
    [
        (invoice(rows=(row(ledger="8999"),)), "GROOTBOEK_ONBEKEND",
         "Grootboekrekening 8999 bestaat niet in e-Boekhouden. Maak hem aan of kies een "
         "andere rekening bij Instellingen."),
        (invoice(ledger="1399"), "GROOTBOEK_ONBEKEND", "Grootboekrekening 1399 bestaat niet"),
        (invoice(relation_code="MWW-NOPE"), "RELATIE_ONBEKEND",
         "Relatie MWW-NOPE bestaat niet in e-Boekhouden"),
        (invoice(relation_code=""), "VELD_VERPLICHT", "mist een verplicht gegeven"),
        (invoice(rows=(row(btw_code="HOOG_21"),)), "BTWCODE_ONGELDIG",
         "e-Boekhouden kent BTW-code HOOG_21 niet"),
        (invoice(rows=(row(incl="121.01"),)), "BEDRAG_ONGELIJK", "fout in de koppeling"),
        (invoice(in_ex_btw="INCL"), "WAARDE_ONGELDIG", "weigert een waarde van de boeking"),
    ],
    ids=["row-ledger", "main-ledger", "relation", "no-relation", "btw-code", "amounts", "in-ex"],
)  # fmt: skip
def test_rejected_mutations_raise_permanent_errors_with_dutch_explanations(
    client, sim, mutation, code, explanation
):
    with pytest.raises(UpstreamRejectedError) as info:
        client.add_mutation(mutation)

    err = info.value
    assert isinstance(err, UpstreamRejectedError) and not err.retryable
    assert type(err).__name__ == EXPECTED_TYPES.get(code, "UpstreamRejectedError")
    assert (err.system, err.operation, err.code) == ("eboekhouden", "AddMutatie", code)
    assert explanation in err.explanation
    assert code in str(err)
    assert sim.mutations(USER) == []


def test_duplicate_invoice_number(client, sim):
    client.add_mutation(invoice("MWW-1001"))

    with pytest.raises(DuplicateInvoiceError) as info:
        client.add_mutation(invoice("mww-1001"))

    assert info.value.code == "FACTUURNUMMER_BESTAAT" and not info.value.retryable
    assert info.value.explanation.startswith("Factuurnummer mww-1001 staat al in e-Boekhouden")
    assert len(sim.mutations(USER)) == 1


def test_duplicate_relation_code_is_rejected(client):
    with pytest.raises(UpstreamRejectedError) as info:
        client.add_relation(Relation(code=RELATION, name="Ander", bp="B"))
    assert info.value.code == "RELATIE_BESTAAT"
    assert f"Relatiecode {RELATION} is in e-Boekhouden al in gebruik" in info.value.explanation


@pytest.mark.parametrize(
    ("username", "code1", "code2"),
    [("someone-else", CODE1, CODE2), (USER, "wrong", CODE2), (USER, CODE1, "wrong")],
    ids=["username", "code1", "code2"],
)
def test_bad_credentials_raise_bookkeeping_auth_error(server, sim, username, code1, code2):
    c = EBoekhoudenClient(username, code1, code2, url=server.url + SOAP_PATH)

    for call in (c.verify, c.ledger_accounts):
        with pytest.raises(BookkeepingAuthError) as info:
            call()
        err = info.value
        assert (err.code, err.operation, err.retryable) == ("INLOG_ONGELDIG", "OpenSession", False)
        assert "Controleer de gebruikersnaam en beveiligingscodes" in err.explanation
    assert sim.books.sessions == {}


# -- transport faults ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        ({"kind": "http_status", "status": 503}, UpstreamUnavailableError, "http_503"),
        ({"kind": "http_status", "status": 500}, UpstreamUnavailableError, "http_500"),
        ({"kind": "http_status", "status": 502}, UpstreamUnavailableError, "http_502"),
        ({"kind": "http_status", "status": 429, "retry_after": 7}, RateLimitedError, "http_429"),
        ({"kind": "http_status", "status": 403}, UpstreamRejectedError, "http_403"),
        ({"kind": "timeout", "seconds": 1.0}, UpstreamUnavailableError, "timeout"),
        ({"kind": "drop"}, UpstreamUnavailableError, "connection"),
        ({"kind": "soap_fault"}, UpstreamUnavailableError, "soap:Server"),
        ({"kind": "soap_fault", "code": "Client"}, UpstreamRejectedError, "soap:Client"),
        ({"kind": "auth"}, BookkeepingAuthError, "BEVEILIGINGSCODE_ONGELDIG"),
    ],
    ids=["503", "500", "502", "429", "403", "timeout", "drop", "server-fault", "client-fault",
         "auth"],
)  # fmt: skip
def test_faults_become_typed_errors_and_the_client_recovers(
    server, sim, observed, fault, error, code
):
    c = EBoekhoudenClient(
        USER, CODE1, CODE2, url=server.url + SOAP_PATH, operation_timeout=0.3,
        metrics=lambda op, outcome, seconds: observed.append((op, outcome)),
    )  # fmt: skip
    c.verify()
    sim.faults.configure({"add": [{"operation": "GetGrootboekrekeningen", **fault}]})

    with pytest.raises(UpstreamError) as info:
        c.ledger_accounts()

    err = info.value
    assert type(err) is error
    assert (err.system, err.operation, err.code) == ("eboekhouden", "GetGrootboekrekeningen", code)
    assert err.retryable is issubclass(error, UpstreamUnavailableError)
    assert err.explanation and "e-Boekhouden" in err.explanation
    assert observed[-1] == ("GetGrootboekrekeningen", error.__name__)
    if error is RateLimitedError:
        assert err.retry_after == 7.0
    assert c.ledger_accounts()  # the next call goes through
    c.close()


def test_latency_slows_the_call_but_it_succeeds(client, sim):
    client.verify()
    sim.faults.add("latency", operation="GetAdministraties", seconds=0.2)
    started = time.monotonic()
    assert client.administrations()
    assert time.monotonic() - started >= 0.2


def test_commit_then_drop_stores_the_mutation_but_the_client_sees_a_transient_error(client, sim):
    client.verify()
    sim.faults.add("commit_then_drop", operation="AddMutatie")

    with pytest.raises(UpstreamUnavailableError) as info:
        client.add_mutation(invoice("MWW-1001"))

    assert info.value.code == "connection"
    [stored] = sim.mutations(USER)
    # The booking layer reconciles with find_mutations before it retries:
    assert [m.number for m in client.find_mutations("MWW-1001")] == [stored["MutatieNr"]]
    with pytest.raises(DuplicateInvoiceError):
        client.add_mutation(invoice("MWW-1001"))
    assert len(sim.mutations(USER)) == 1


def test_unreachable_server_wrong_path_and_bad_url(server):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}{SOAP_PATH}"
    with pytest.raises(UpstreamUnavailableError) as info:
        EBoekhoudenClient(USER, CODE1, CODE2, url=url, timeout=0.5).verify()
    assert info.value.code == "connection"

    with pytest.raises(UpstreamRejectedError) as info:
        EBoekhoudenClient(USER, CODE1, CODE2, url=server.url + "/wrong.asmx").verify()
    assert info.value.code == "http_404"

    with pytest.raises(UpstreamRejectedError) as info:
        EBoekhoudenClient(USER, CODE1, CODE2, url="soap.e-boekhouden.nl/soap.asmx").verify()
    assert info.value.code == "bad_url"


# -- secrets, WSDL, metrics ----------------------------------------------------------


def test_secrets_never_appear_in_errors_logs_or_repr(server, sim, caplog):
    caplog.set_level(logging.DEBUG)
    c = EBoekhoudenClient(USER, CODE1, CODE2, url=server.url + SOAP_PATH)
    c.verify()
    [session_id] = sim.books.sessions
    secrets = (CODE1, CODE2, session_id)
    errors: list[UpstreamError] = []
    sim.faults.add("soap_fault", operation="GetAdministraties",
                   message=f"bad {CODE2} in session {session_id} ({CODE1})")  # fmt: skip
    sim.faults.add("auth", operation="GetRelaties")
    for call in (c.administrations, lambda: c.find_relation("x"),
                 lambda: c.add_mutation(invoice(ledger="0000"))):  # fmt: skip
        with pytest.raises(UpstreamError) as info:
            call()
        errors.append(info.value)
    with pytest.raises(BookkeepingAuthError) as info:
        EBoekhoudenClient(USER, CODE1, CODE2 + "x", url=server.url + SOAP_PATH).verify()
    errors.append(info.value)

    texts = [repr(c), caplog.text] + [f"{e} {e.explanation} {e!r} {e.args}" for e in errors]
    assert "***" in str(errors[0])  # the technical message, redacted
    for text in texts:
        for secret in secrets:
            assert secret not in text
    c.close()


def test_the_wsdl_is_never_fetched_from_the_network(switch, sim, monkeypatch):
    wsdl_gets = []

    def broken_wsdl(environ, start_response):
        if "wsdl" in environ.get("QUERY_STRING", "").lower():
            wsdl_gets.append(environ["PATH_INFO"])
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"no WSDL here"]
        return sim(environ, start_response)

    def no_get(*args, **kwargs):
        raise AssertionError(f"unexpected HTTP GET {args[1:]!r}")

    monkeypatch.setattr(requests.Session, "get", no_get)
    eb._wsdl_document.cache_clear()  # parse it again, now with GETs forbidden
    switch.app = broken_wsdl
    c = EBoekhoudenClient(USER, CODE1, CODE2, url=switch.server.url + SOAP_PATH)
    assert c.ledger_accounts()
    c.close()
    assert requests.get(switch.server.url + SOAP_PATH + "?WSDL", timeout=2).status_code == 500
    assert wsdl_gets == [SOAP_PATH] and sim.wsdl_requests == 0


def test_the_parsed_wsdl_is_shared_between_clients(server):
    a = EBoekhoudenClient(USER, CODE1, CODE2, url=server.url + SOAP_PATH)
    b = EBoekhoudenClient("other", "x", "y", url="https://example.invalid/soap.asmx")
    assert a._service._client.wsdl is b._service._client.wsdl
    assert a._service._binding_options["address"] != b._service._binding_options["address"]


def test_metrics_see_every_call_and_a_broken_hook_is_harmless(server, caplog):
    seen: list[tuple[str, str, float]] = []
    c = EBoekhoudenClient(USER, CODE1, CODE2, url=server.url + SOAP_PATH,
                          metrics=lambda *a: seen.append(a))  # fmt: skip
    c.ledger_accounts()
    with pytest.raises(UpstreamRejectedError):
        c.add_mutation(invoice(ledger="0000"))
    c.close()
    assert [(op, outcome) for op, outcome, _ in seen] == [
        ("OpenSession", "ok"),
        ("GetGrootboekrekeningen", "ok"),
        ("AddMutatie", "UpstreamRejectedError"),
        ("CloseSession", "ok"),
    ]
    assert all(seconds >= 0 for *_, seconds in seen)

    def broken(*args):
        raise RuntimeError("metrics down")

    c = EBoekhoudenClient(USER, CODE1, CODE2, url=server.url + SOAP_PATH, metrics=broken)
    assert c.ledger_accounts()
    assert "metrics callback failed" in caplog.text
    c.close()
