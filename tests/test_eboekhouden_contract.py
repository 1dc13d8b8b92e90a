"""One contract, two e-Boekhouden backends.

Each ``backend`` test runs the real client twice: against the simulator, and against the
recorded/synthetic response envelopes in ``tests/payloads/eboekhouden/`` served as canned
answers over HTTP. The same assertions must hold for both; in canned mode every request
the client sends is also checked against the simulator's schema validator. Further down:
the simulator's codes against the client's error table, and the fixtures' shapes against
the WSDL and against what the simulator answers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from app.clients.eboekhouden import EBoekhoudenClient
from app.clients.eboekhouden import errors as errs
from app.core.mutations import Mutation, MutationRow, Relation, Soort
from app.errors import (
    BookkeepingAuthError,
    DuplicateInvoiceError,
    RelationExistsError,
    SessionExpiredError,
    UnknownRelationError,
    UpstreamRejectedError,
)
from sandbox.eboekhouden import SOAP_PATH, EBoekhoudenSimulator, soap, state

PAYLOADS = Path(__file__).parent / "payloads" / "eboekhouden"
USER, CODE1, CODE2 = "contract", "code-one-123", "code-two-456"
SOAP_ENV = soap.SOAP_ENV


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


class Canned:
    """WSGI app answering each operation with a stored envelope; it validates every
    request it receives with the simulator's schema validator."""

    def __init__(self) -> None:
        self.answers: dict[str, str] = {
            "OpenSession": "response_OpenSession_success.pinelab-test.xml",
            "CloseSession": "response_CloseSession.synthetic.xml",
        }
        self.calls: Counter[str] = Counter()

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        operation, element = soap.parse_request(
            environ["wsgi.input"].read(length), environ.get("HTTP_SOAPACTION")
        )
        soap.validate_request(element)  # raises: the client sent an invalid request
        self.calls[operation] += 1
        name = self.answers[operation]
        status = "500 Internal Server Error" if "Fault" in name else "200 OK"
        start_response(status, [("Content-Type", "text/xml; charset=utf-8")])
        return [payload(name)]


ROWS_175 = tuple(
    MutationRow(Decimal(incl), Decimal(excl), Decimal(vat), "HOOG_VERK_21", Decimal("21"), "8140")
    for incl, excl, vat in (("121", "100", "21"), ("242", "200", "42"))
)
INVOICE = Mutation(Soort.FACTUUR_VERSTUURD, dt.date(2023, 4, 1), "1300", "test-123", "test",
                   ROWS_175, relation_code="36", payment_term_days=14)  # fmt: skip
PAYMENT = Mutation(Soort.FACTUURBETALING_ONTVANGEN, dt.date(2023, 4, 10), "1010", "test-123",
                   "Betaling test-123", (MutationRow(Decimal("363"), Decimal("363"), Decimal("0"),
                   "GEEN", Decimal("0"), "1300"),), relation_code="36")  # fmt: skip


def seeded_simulator() -> EBoekhoudenSimulator:
    """The simulator holding what the synthetic fixtures describe."""
    sim = EBoekhoudenSimulator()
    sim.add_administration(USER, CODE1, CODE2)
    sim.add_ledger(USER, "8140", "Omzet diensten")
    sim.add_relation(USER, "36", "Test", email="klant@example.com", bp="P")
    for mutation in (INVOICE, PAYMENT):
        sim.book(USER, mutation.to_wire())
    return sim


@dataclasses.dataclass
class Backend:
    kind: str
    url: str
    sim: EBoekhoudenSimulator | None = None
    canned: Canned | None = None

    def client(self, code1: str = CODE1) -> EBoekhoudenClient:
        return EBoekhoudenClient(USER, code1, CODE2, url=self.url, operation_timeout=5)

    def arrange(self, operation: str, fixture: str, **sim_fault: Any) -> None:
        """Canned: answer ``operation`` with ``fixture``. Simulator: add ``sim_fault``
        if given (otherwise the simulator produces the situation from its data)."""
        if self.canned is not None:
            self.canned.answers[operation] = fixture
        elif sim_fault:
            assert self.sim is not None
            self.sim.faults.add(operation=operation, **sim_fault)

    def calls(self) -> Counter[str]:
        if self.canned is not None:
            return self.canned.calls
        assert self.sim is not None
        return self.sim.calls


@pytest.fixture(params=["simulator", "fixtures"])
def backend(request: pytest.FixtureRequest, switch: Any) -> Backend:
    if request.param == "simulator":
        sim = seeded_simulator()
        switch.app = sim
        return Backend("simulator", switch.url + SOAP_PATH, sim=sim)
    canned = Canned()
    switch.app = canned
    return Backend("fixtures", switch.url + SOAP_PATH, canned=canned)


# -- the contract --------------------------------------------------------------------


def test_a_session_is_opened_reused_and_closed(backend):
    backend.arrange("GetMutaties", "response_GetMutaties_empty.synthetic.xml")
    client = backend.client()
    client.verify()
    client.find_mutations("nothing")
    client.find_mutations("nothing")
    client.close()
    calls = backend.calls()
    assert (calls["OpenSession"], calls["GetMutaties"], calls["CloseSession"]) == (1, 2, 1)


def test_add_mutation_returns_the_mutatienummer(backend):
    backend.arrange("AddMutatie", "response_AddMutatie_success.pinelab-test.xml")
    number = backend.client().add_mutation(dataclasses.replace(INVOICE, invoice_number="new-1"))
    assert isinstance(number, int) and number > 0


def test_find_mutations_reads_mutations_and_rows(backend):
    backend.arrange("GetMutaties", "response_GetMutaties_two_mutaties.synthetic.xml")

    found = backend.client().find_mutations("TEST-123")

    assert [(m.soort, m.date, m.invoice_number, m.total) for m in found] == [
        ("FactuurVerstuurd", dt.date(2023, 4, 1), "test-123", Decimal("363")),
        ("FactuurbetalingOntvangen", dt.date(2023, 4, 10), "test-123", Decimal("363")),
    ]
    assert 0 < found[0].number < found[1].number


def test_find_mutations_when_there_are_none(backend):
    backend.arrange("GetMutaties", "response_GetMutaties_empty.synthetic.xml")
    assert backend.client().find_mutations("no-such-invoice") == []


def test_relations_by_code_and_by_email(backend):
    backend.arrange("GetRelaties", "response_GetRelaties_one.synthetic.xml")
    client = backend.client()

    found = client.find_relation("36")

    assert found is not None and found.id > 0
    assert (found.code, found.name, found.email) == ("36", "Test", "klant@example.com")
    assert client.find_relations_by_email("KLANT@example.com") == [found]
    assert client.find_relations_by_email("other@example.com") == []


def test_add_relation_returns_the_rel_id(backend):
    backend.arrange("AddRelatie", "response_AddRelatie_success.synthetic.xml")
    rel_id = backend.client().add_relation(Relation(code="37", name="Nieuw", bp="B"))
    assert isinstance(rel_id, int) and rel_id > 0


def test_refused_credentials(backend):
    backend.arrange("OpenSession", "response_OpenSession_error.synthetic.xml")
    with pytest.raises(BookkeepingAuthError) as info:
        backend.client(code1="wrong").verify()
    assert info.value.code and not info.value.retryable
    assert "Beheer > Instellingen" in info.value.explanation


def test_a_rejected_mutation_is_permanent_and_explained(backend):
    backend.arrange("AddMutatie", "response_AddMutatie_error.synthetic.xml")
    with pytest.raises(UpstreamRejectedError) as info:
        backend.client().add_mutation(dataclasses.replace(INVOICE, ledger="9999"))
    err = info.value
    assert (err.system, err.operation, err.retryable) == ("eboekhouden", "AddMutatie", False)
    assert err.code and err.code in str(err)
    assert "e-Boekhouden" in err.explanation


def test_a_client_fault_is_permanent(backend):
    backend.arrange("GetGrootboekrekeningen", "response_SoapFault_client.synthetic.xml",
                    kind="soap_fault", code="Client")  # fmt: skip
    with pytest.raises(UpstreamRejectedError) as info:
        backend.client().ledger_accounts()
    assert info.value.code == "soap:Client"


# -- error table ---------------------------------------------------------------------

EXPECTED_CLASSES = {
    state.LOGIN_INVALID: BookkeepingAuthError,
    state.SECURITYCODE2_INVALID: BookkeepingAuthError,
    state.SESSION_INVALID: SessionExpiredError,
    state.INVOICE_EXISTS: DuplicateInvoiceError,
    state.RELATION_UNKNOWN: UnknownRelationError,
    state.RELATION_EXISTS: RelationExistsError,
    state.LEDGER_UNKNOWN: UpstreamRejectedError,
    state.BTW_CODE_INVALID: UpstreamRejectedError,
    state.AMOUNTS_MISMATCH: UpstreamRejectedError,
    state.FIELD_REQUIRED: UpstreamRejectedError,
    state.VALUE_INVALID: UpstreamRejectedError,
}


def test_every_code_the_simulator_emits_is_in_the_clients_table():
    assert set(EXPECTED_CLASSES) == state.ALL_CODES
    assert set(errs.ERROR_CODES) >= state.ALL_CODES
    for code, cls in EXPECTED_CLASSES.items():
        assert errs.ERROR_CODES[code].exception is cls, code


@pytest.mark.parametrize(
    ("code", "description", "operation", "context", "cls", "explanation"),
    [
        ("GROOTBOEK_ONBEKEND", "Grootboekrekening met code '8010' bestaat niet.", "AddMutatie",
         {}, UpstreamRejectedError,
         "Grootboekrekening 8010 bestaat niet in e-Boekhouden. Maak hem aan of kies een andere "
         "rekening bij Instellingen."),
        ("GROOTBOEK_ONBEKEND", "Unknown ledger", "AddMutatie", {}, UpstreamRejectedError,
         "Een grootboekrekening van deze boeking bestaat niet in e-Boekhouden (zie de "
         "technische melding)."),
        ("FACTUURNUMMER_BESTAAT", "dubbel", "AddMutatie", {"invoice_number": "MWW-7"},
         DuplicateInvoiceError, "Factuurnummer MWW-7 staat al in e-Boekhouden"),
        ("E999", "Er ging iets mis", "AddMutatie", {}, UpstreamRejectedError,
         "e-Boekhouden weigerde de boeking. Opnieuw proberen helpt waarschijnlijk niet"),
        ("E998", "Uw sessie is verlopen", "GetMutaties", {}, SessionExpiredError,
         "De sessie bij e-Boekhouden was verlopen"),
        ("", "Session expired", "GetRelaties", {}, SessionExpiredError, "sessie"),
        ("E997", "Dit factuurnummer bestaat al", "AddMutatie", {"invoice_number": "A-1"},
         DuplicateInvoiceError, "Factuurnummer A-1 staat al"),
        ("E996", "Ongeldige gegevens", "OpenSession", {}, BookkeepingAuthError,
         "e-Boekhouden weigerde de aanmelding. Controleer de gebruikersnaam"),
        ("yo", "uiuidrg", "AddFactuur", {}, UpstreamRejectedError,
         "e-Boekhouden weigerde het verzoek."),
    ],
    ids=["ledger", "ledger-no-value", "duplicate", "unknown", "session-by-text",
         "session-text-no-code", "duplicate-by-text", "unknown-on-login", "jboekhouden"],
)  # fmt: skip
def test_error_table(code, description, operation, context, cls, explanation):
    err = errs.error_for(code, description, operation=operation, context=context)
    assert type(err) is cls
    assert (err.system, err.operation, err.code) == ("eboekhouden", operation, code)
    assert explanation in err.explanation
    assert description in str(err)  # e-Boekhouden's own words: the technical message
    if code not in ("GROOTBOEK_ONBEKEND", "FACTUURNUMMER_BESTAAT") or "'" not in description:
        assert description not in err.explanation


# -- fixtures and the WSDL -----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in PAYLOADS.glob("response_*.xml")))
def test_response_fixtures_match_the_wsdl(name):
    element = etree.fromstring(payload(name)).find(f"{{{SOAP_ENV}}}Body")[0]
    if "Fault" in name:
        assert [c.tag for c in element] == ["faultcode", "faultstring", "detail"]
    else:
        soap.schema().validate(element)


def shape(element: etree._Element) -> list[str]:
    """Element paths (local names) in document order: the structure without the values."""
    paths: list[str] = []

    def walk(node: etree._Element, prefix: str) -> None:
        path = f"{prefix}/{etree.QName(node).localname}"
        paths.append(path)
        for child in node:
            if isinstance(child.tag, str):
                walk(child, path)

    walk(element, "")
    return paths


@pytest.mark.parametrize(
    ("operation", "fixture"),
    [
        ("OpenSession", "response_OpenSession_success.pinelab-test.xml"),
        ("AddMutatie", "response_AddMutatie_success.pinelab-test.xml"),
        ("GetMutaties", "response_GetMutaties_two_mutaties.synthetic.xml"),
        ("GetRelaties", "response_GetRelaties_one.synthetic.xml"),
        ("AddRelatie", "response_AddRelatie_success.synthetic.xml"),
        ("CloseSession", "response_CloseSession.synthetic.xml"),
    ],
)
def test_the_simulator_answers_in_the_shape_of_the_fixtures(switch, operation, fixture):
    sim = seeded_simulator()
    answers: dict[str, bytes] = {}

    def recording(environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = b"".join(sim(environ, start_response))
        answers[etree.QName(etree.fromstring(body)[0][0]).localname] = body
        return [body]

    switch.app = recording
    client = EBoekhoudenClient(USER, CODE1, CODE2, url=switch.url + SOAP_PATH)
    {
        "AddMutatie": lambda: client.add_mutation(dataclasses.replace(INVOICE, invoice_number="n")),
        "GetMutaties": lambda: client.find_mutations("test-123"),
        "GetRelaties": lambda: client.find_relation("36"),
        "AddRelatie": lambda: client.add_relation(Relation(code="37", name="Nieuw", bp="B")),
    }.get(operation, client.verify)()
    client.close()

    ours = etree.fromstring(answers[f"{operation}Response"]).find(f"{{{SOAP_ENV}}}Body")[0]
    theirs = etree.fromstring(payload(fixture)).find(f"{{{SOAP_ENV}}}Body")[0]
    assert shape(ours) == shape(theirs)
