"""The e-Boekhouden simulator itself: schema validation both ways, business rules, the
GetMutaties cap, call counting, sessions, the WSDL and the control endpoints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
import zeep
from lxml import etree

from app.clients.eboekhouden import EBoekhoudenClient
from app.core.mutations import Mutation, MutationRow, Relation, Soort
from app.errors import UpstreamError
from sandbox.eboekhouden import SOAP_PATH, EBoekhoudenSimulator, soap
from sandbox.eboekhouden.state import BusinessError
from sandbox.server import ServerThread

PAYLOADS = Path(__file__).parent / "payloads" / "eboekhouden"
TNS = soap.TNS
SOAP_ENV = soap.SOAP_ENV
USER, CODE1, CODE2 = "shop", "code-one", "code-two"


class Recorder:
    """WSGI middleware: the app under test, with every response body kept."""

    def __init__(self) -> None:
        self.app: Callable[..., Iterable[bytes]] | None = None
        self.server: ServerThread | None = None
        self.responses: list[tuple[str, bytes]] = []

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        assert self.app is not None
        status: list[str] = []

        def record(s: str, headers: list, exc_info: Any = None) -> Any:
            status.append(s)
            return start_response(s, headers, exc_info)

        body = b"".join(self.app(environ, record))
        self.responses.append((status[0], body))
        return [body]


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    with ServerThread(rec) as srv:
        rec.server = srv
        yield rec


@pytest.fixture
def sim() -> EBoekhoudenSimulator:
    s = EBoekhoudenSimulator(validate_responses=False)  # validated by the tests instead
    s.add_administration(USER, CODE1, CODE2, name="Testwinkel")
    s.add_relation(USER, "36", "Test", email="klant@example.com")
    return s


@pytest.fixture
def url(recorder: Recorder, sim: EBoekhoudenSimulator) -> str:
    recorder.app = sim
    recorder.responses.clear()
    assert recorder.server is not None
    return recorder.server.url + SOAP_PATH


def post(url: str, body: bytes | str, action: str | None = "") -> requests.Response:
    """POST an envelope; ``action`` "" means: the right SOAPAction for the body."""
    if isinstance(body, str):
        body = body.encode()
    if action == "":
        op = etree.QName(etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body")[0]).localname
        action = f"{TNS}/{op}"
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    if action is not None:
        headers["SOAPAction"] = f'"{action}"'
    return requests.post(url, data=body, headers=headers, timeout=5)


def envelope(operation: str, inner: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="{SOAP_ENV}">'
        f'<soap:Body><{operation} xmlns="{TNS}">{inner}</{operation}></soap:Body></soap:Envelope>'
    )


def result_of(response: requests.Response) -> etree._Element:
    return etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body")[0]


def fault_of(response: requests.Response) -> tuple[str, str]:
    fault = result_of(response)
    assert fault.tag == f"{{{SOAP_ENV}}}Fault"
    return fault.findtext("faultcode"), fault.findtext("faultstring")


def texts(element: etree._Element, name: str) -> list[str]:
    return [e.text or "" for e in element.iter(f"{{{TNS}}}{name}")]


def open_session(url: str, code2: str = CODE2) -> str:
    response = post(url, envelope("OpenSession", (
        f"<Username>{USER}</Username><SecurityCode1>{CODE1}</SecurityCode1>"
        f"<SecurityCode2>{code2}</SecurityCode2><Source>test</Source>")))  # fmt: skip
    [session_id] = texts(result_of(response), "SessionID")
    return session_id


def get_mutaties(url: str, session_id: str, flt: str, code2: str = CODE2) -> etree._Element:
    inner = f"<SessionID>{session_id}</SessionID><SecurityCode2>{code2}</SecurityCode2>"
    return result_of(post(url, envelope("GetMutaties", inner + f"<cFilter>{flt}</cFilter>")))


DATE_RANGE = "<MutatieNr>0</MutatieNr><DatumVan>2000-01-01</DatumVan><DatumTm>2030-12-31</DatumTm>"


def seed(sim: EBoekhoudenSimulator, number: str, day: dt.date = dt.date(2024, 5, 1)) -> int:
    return sim.book(USER, {
        "Soort": "FactuurVerstuurd", "Datum": day, "Rekening": "1300", "RelatieCode": "36",
        "Factuurnummer": number,
        "MutatieRegels": [{"BedragInvoer": Decimal("12.10"), "BedragExclBTW": Decimal("10.00"),
                           "BedragBTW": Decimal("2.10"), "BedragInclBTW": Decimal("12.10"),
                           "BTWCode": "HOOG_VERK_21", "BTWPercentage": Decimal("21"),
                           "TegenrekeningCode": "8000", "KostenplaatsID": 0}],
    })  # fmt: skip


# -- requests: schema validation -----------------------------------------------------

ADD_MUTATIE = (PAYLOADS / "request_AddMutatie_FactuurVerstuurd.zeep-generated.xml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("<ns0:KostenplaatsID>0</ns0:KostenplaatsID>", "", "KostenplaatsID"),
        ("<ns0:MutatieNr>0</ns0:MutatieNr>", "", "MutatieNr"),
        (">FactuurVerstuurd<", ">Bogus<", "Bogus"),
        (">FactuurVerstuurd<", ">factuurverstuurd<", "factuurverstuurd"),
        ("<ns0:InExBTW>", "<ns0:Kleur>rood</ns0:Kleur><ns0:InExBTW>", "Kleur"),
        ("<ns0:MutatieNr>0<", "<ns0:MutatieNr>abc<", "abc"),
        (">121.00<", ">121,00<", "121,00"),
        (">2024-05-01<", ">01-05-2024<", "01-05-2024"),
        ("<ns0:BTWPercentage>21</ns0:BTWPercentage>", "", "BTWPercentage"),
        ("</ns0:oMut>", "</ns0:oMut><ns0:oMut/>", "oMut"),
        ("</ns0:AddMutatie>", "", "error in XML document"),
    ],
    ids=["no-kostenplaats", "no-mutatienr", "bad-soort", "soort-case", "unknown-element",
         "long-not-number", "decimal-comma", "date-format", "no-btwpercentage", "two-omut",
         "not-well-formed"],
)  # fmt: skip
def test_a_request_the_real_service_rejects_gets_a_client_fault(url, sim, old, new, expected):
    assert old in ADD_MUTATIE
    response = post(url, ADD_MUTATIE.replace(old, new, 1), action=f"{TNS}/AddMutatie")

    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/xml")
    code, text = fault_of(response)
    assert code == "soap:Client"
    assert expected in text
    assert sim.mutations(USER) == []


SALDO_FILTER = (
    "<cFilter><KostenPlaatsId>0</KostenPlaatsId><DatumVan>2024-01-01</DatumVan>"
    "<DatumTot>2024-12-31</DatumTot></cFilter>"
)


@pytest.mark.parametrize(
    ("action", "body", "expected"),
    [
        (f"{TNS}/Nonsense", envelope("OpenSession", ""), "did not recognize the value of HTTP"),
        (f"{TNS}/GetMutaties", envelope("OpenSession", ""), "was not expected"),
        (None, envelope("Nonsense", ""), "without a valid action"),
        (None, envelope("GetSaldo", SALDO_FILTER), "GetSaldo is not supported by the simulator"),
        (None, "<Envelope/>", "Envelope namespace was unexpected"),
    ],
    ids=["unknown-action", "action-body-mismatch", "unknown-body", "unsupported", "not-soap"],
)  # fmt: skip
def test_protocol_errors_are_client_faults(url, action, body, expected):
    response = post(url, body, action=action)
    assert response.status_code == 500
    code, text = fault_of(response)
    assert (code, expected in text) == ("soap:Client", True)


def test_the_operation_can_come_from_the_body_alone(url):
    response = post(url, envelope("GetAdministraties", ""), action=None)
    assert response.status_code == 200
    assert texts(result_of(response), "LastErrorCode") == ["SESSIE_ONGELDIG"]


@pytest.mark.parametrize(
    "name", sorted(p.name for p in PAYLOADS.glob("request_*.zeep-generated.xml"))
)
def test_zeep_generated_requests_pass_validation(url, name):
    """Placeholder credentials: valid requests reach the business layer (HTTP 200)."""
    response = post(url, (PAYLOADS / name).read_bytes())
    assert response.status_code == 200, response.text
    expected = {"CloseSession": [], "OpenSession": ["INLOG_ONGELDIG"]}
    operation = name.split("_")[1].split(".")[0]
    assert texts(result_of(response), "LastErrorCode") == expected.get(
        operation, ["SESSIE_ONGELDIG"]
    )
    soap.schema().validate(result_of(response))


# -- responses: schema validation ----------------------------------------------------


def test_every_response_the_simulator_produces_matches_the_wsdl(url, recorder, sim):
    sim.faults.add("session_expired", operation="GetRelaties")
    sim.faults.add("soap_fault", operation="GetAdministraties")
    client = EBoekhoudenClient(USER, CODE1, CODE2, url=url)
    rows = (MutationRow(Decimal("121.00"), Decimal("100.00"), Decimal("21.00"), "HOOG_VERK_21",
                        Decimal("21"), "8000"),)  # fmt: skip
    good = Mutation(Soort.FACTUUR_VERSTUURD, dt.date(2024, 5, 1), "1300", "F-1", "x", rows, "36")
    client.find_relation("36")  # session error, reopened
    client.add_mutation(good)
    client.add_relation(Relation(code="R2", name="Twee", bp="B", email="twee@example.com"))
    client.find_relations_by_email("twee@example.com")
    client.find_mutations("F-1")
    client.find_mutations("none")
    client.ledger_accounts()
    for call in (
        client.administrations,  # SOAP fault
        lambda: client.add_mutation(good),  # duplicate
        lambda: client.add_mutation(
            Mutation(Soort.FACTUUR_VERSTUURD, dt.date(2024, 5, 1), "9999", "F-2", "x", rows, "36")
        ),
        lambda: client.add_relation(Relation(code="R2", name="Twee", bp="B")),
        lambda: EBoekhoudenClient(USER, "bad", CODE2, url=url).verify(),
    ):
        with pytest.raises(UpstreamError):
            call()
    client.administrations()
    client.close()
    post(url, envelope("GetMutaties", f"<SessionID>x</SessionID><cFilter>{DATE_RANGE}</cFilter>"))

    checked = set()
    for status, body in recorder.responses:
        element = etree.fromstring(body).find(f"{{{SOAP_ENV}}}Body")[0]
        if status.startswith("500"):
            assert element.tag == f"{{{SOAP_ENV}}}Fault"
            assert [c.tag for c in element] == ["faultcode", "faultstring", "detail"]
            continue
        soap.schema().validate(element)
        checked.add(etree.QName(element).localname)
    assert checked == {
        "OpenSessionResponse", "CloseSessionResponse", "AddMutatieResponse",
        "GetMutatiesResponse", "AddRelatieResponse", "GetRelatiesResponse",
        "GetGrootboekrekeningenResponse", "GetAdministratiesResponse",
    }  # fmt: skip


def test_error_results_have_the_wsdl_shape(url):
    element = get_mutaties(url, "no-such-session", DATE_RANGE)
    assert etree.tostring(element, encoding=str) == (
        f'<GetMutatiesResponse xmlns="{TNS}" xmlns:soap="{SOAP_ENV}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema"><GetMutatiesResult><ErrorMsg>'
        "<LastErrorCode>SESSIE_ONGELDIG</LastErrorCode>"
        "<LastErrorDescription>Sessie is verlopen of ongeldig.</LastErrorDescription>"
        "</ErrorMsg></GetMutatiesResult></GetMutatiesResponse>"
    )


# -- GetMutaties ---------------------------------------------------------------------


def test_get_mutaties_returns_at_most_the_last_500(url, sim):
    sim.get_mutaties_cap = 500
    numbers = [seed(sim, f"F-{i}") for i in range(520)]
    session_id = open_session(url)

    result = get_mutaties(url, session_id, DATE_RANGE)

    returned = [int(n) for n in texts(result, "MutatieNr")]
    assert returned == numbers[-500:]
    by_range = get_mutaties(url, session_id, (
        f"<MutatieNr>0</MutatieNr><MutatieNrVan>{numbers[3]}</MutatieNrVan>"
        f"<MutatieNrTm>{numbers[5]}</MutatieNrTm>"
        "<DatumVan>2000-01-01</DatumVan><DatumTm>2030-12-31</DatumTm>"))  # fmt: skip
    assert [int(n) for n in texts(by_range, "MutatieNr")] == numbers[3:6]
    assert sim.admin_calls(USER)["GetMutaties"] == 2


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("<MutatieNr>0</MutatieNr><Factuurnummer>f-2</Factuurnummer>"
         "<DatumVan>1900-01-01</DatumVan><DatumTm>2200-01-01</DatumTm>", ["F-2"]),
        ("<MutatieNr>0</MutatieNr><DatumVan>2024-05-02</DatumVan><DatumTm>2024-05-02</DatumTm>",
         ["F-2"]),
        ("<MutatieNr>0</MutatieNr><DatumVan>2024-05-02T00:00:00</DatumVan>"
         "<DatumTm>2030-01-01T00:00:00</DatumTm>", ["F-2", "F-3"]),
        ("<MutatieNr>1</MutatieNr><DatumVan>2000-01-01</DatumVan><DatumTm>2030-01-01</DatumTm>",
         ["F-1"]),
    ],
    ids=["invoice", "one-day", "datetime-from", "number"],
)  # fmt: skip
def test_get_mutaties_filters(url, sim, flt, expected):
    for i, day in enumerate((dt.date(2024, 5, 1), dt.date(2024, 5, 2), dt.date(2024, 6, 1)), 1):
        seed(sim, f"F-{i}", day)
    result = get_mutaties(url, open_session(url), flt)
    assert texts(result, "Factuurnummer")[::2] == expected  # mutation + its row


def test_calls_are_counted_per_operation_and_per_administration(url, sim):
    sim.add_administration("other", "o1", "o2")
    mine = open_session(url)
    for _ in range(3):
        get_mutaties(url, mine, DATE_RANGE)
    get_mutaties(url, "not-a-session", DATE_RANGE)

    assert sim.calls["GetMutaties"] == 4
    assert sim.calls["OpenSession"] == 1
    assert sim.admin_calls(USER) == {"OpenSession": 1, "GetMutaties": 3}
    assert sim.admin_calls("other") == {}


# -- sessions and credentials --------------------------------------------------------


def test_sessions_expire_after_30_idle_minutes(url, sim):
    session_id = open_session(url)
    for _ in range(3):  # in use: the lifetime slides
        sim.advance_clock(29 * 60)
        assert texts(get_mutaties(url, session_id, DATE_RANGE), "LastErrorCode") == [""]
    sim.advance_clock(30 * 60 + 1)
    assert texts(get_mutaties(url, session_id, DATE_RANGE), "LastErrorCode") == ["SESSIE_ONGELDIG"]
    assert sim.books.sessions == {}


@pytest.mark.parametrize(
    ("username", "code1", "code2"),
    [("nobody", CODE1, CODE2), (USER, "x", CODE2), (USER, CODE1, "x"), ("", "", "")],
)
def test_open_session_checks_all_three_credentials(url, username, code1, code2):
    inner = (f"<Username>{username}</Username><SecurityCode1>{code1}</SecurityCode1>"
             f"<SecurityCode2>{code2}</SecurityCode2>")  # fmt: skip
    result = result_of(post(url, envelope("OpenSession", inner)))
    assert texts(result, "LastErrorCode") == ["INLOG_ONGELDIG"]
    assert texts(result, "SessionID") == []


def test_data_calls_need_the_matching_security_code2(url):
    session_id = open_session(url)
    result = get_mutaties(url, session_id, DATE_RANGE, code2="someone-elses")
    assert texts(result, "LastErrorCode") == ["BEVEILIGINGSCODE_ONGELDIG"]


# -- business rules (in process) -----------------------------------------------------


def mutation(**changes: Any) -> dict[str, Any]:
    row = {"BedragInvoer": Decimal("12.10"), "BedragExclBTW": Decimal("10.00"),
           "BedragBTW": Decimal("2.10"), "BedragInclBTW": Decimal("12.10"),
           "BTWCode": "HOOG_VERK_21", "BTWPercentage": Decimal("21"),
           "TegenrekeningCode": "8000", "KostenplaatsID": 0}  # fmt: skip
    row.update(changes.pop("row", {}))
    base = {"Soort": "FactuurVerstuurd", "Datum": dt.date(2024, 5, 1), "Rekening": "1300",
            "RelatieCode": "36", "Factuurnummer": "F-1", "MutatieRegels": [row]}  # fmt: skip
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"Rekening": "1399"}, "GROOTBOEK_ONBEKEND"),
        ({"Rekening": None}, "VELD_VERPLICHT"),
        ({"row": {"TegenrekeningCode": "8011"}}, "GROOTBOEK_ONBEKEND"),
        ({"row": {"BTWCode": "HOOG_VERK_19"}}, "BTWCODE_ONGELDIG"),
        ({"row": {"BTWCode": None}}, "BTWCODE_ONGELDIG"),
        ({"row": {"BedragBTW": Decimal("2.11")}}, "BEDRAG_ONGELIJK"),
        ({"RelatieCode": "37"}, "RELATIE_ONBEKEND"),
        ({"RelatieCode": None}, "VELD_VERPLICHT"),
        ({"Soort": "FactuurbetalingOntvangen", "RelatieCode": "37"}, "RELATIE_ONBEKEND"),
        ({"Factuurnummer": ""}, "VELD_VERPLICHT"),
        ({"Factuurnummer": "f-0"}, "FACTUURNUMMER_BESTAAT"),
        ({"MutatieRegels": []}, "VELD_VERPLICHT"),
        ({"InExBTW": "BOTH"}, "WAARDE_ONGELDIG"),
    ],
    ids=["main-ledger", "no-ledger", "row-ledger", "btw-code", "no-btw-code", "amounts",
         "relation", "no-relation", "payment-relation", "no-invoice", "duplicate-invoice",
         "no-rows", "in-ex"],
)  # fmt: skip
def test_business_rules(sim, changes, code):
    sim.book(USER, mutation(Factuurnummer="F-0"))
    with pytest.raises(BusinessError) as info:
        sim.book(USER, mutation(**changes))
    assert info.value.code == code
    assert len(sim.mutations(USER)) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"Factuurnummer": "F-0"},
        {"Factuurnummer": " f-0 "},
        {
            "Factuurnummer": "F-0",
            "RelatieCode": "36",
            "row": {
                "BedragInvoer": Decimal("24.20"),
                "BedragExclBTW": Decimal("20.00"),
                "BedragBTW": Decimal("4.20"),
                "BedragInclBTW": Decimal("24.20"),
            },
        },
    ],
    ids=["same", "case-and-spaces", "other-amount"],
)
def test_duplicate_sales_invoice_number_is_refused(sim, changes):
    sim.book(USER, mutation(Factuurnummer="F-0"))
    with pytest.raises(BusinessError) as info:
        sim.book(USER, mutation(**changes))
    assert info.value.code == "FACTUURNUMMER_BESTAAT"
    assert "Invoice number already exists" in str(info.value)
    assert "'F-0'" in str(info.value) or "'f-0'" in str(info.value)
    assert len(sim.mutations(USER)) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"Soort": "GeldOntvangen", "RelatieCode": None, "Factuurnummer": None, "Rekening": "1100"},
        {"Soort": "FactuurbetalingOntvangen", "Factuurnummer": "F-0", "Rekening": "1010",
         "row": {"TegenrekeningCode": "1300", "BTWCode": "GEEN"}},
        {"Factuurnummer": "F-1", "InExBTW": "EX"},
    ],
    ids=["money-received", "payment-of-existing-invoice", "another-invoice"],
)  # fmt: skip
def test_valid_mutations_are_stored(sim, changes):
    sim.book(USER, mutation(Factuurnummer="F-0"))
    number = sim.book(USER, mutation(**changes))
    assert sim.mutations(USER)[-1]["MutatieNr"] == number == 2


def test_update_relatie_replaces_the_relation(url, sim):
    update = (PAYLOADS / "request_UpdateRelatie.zeep-generated.xml").read_text()
    [rel] = sim.relations(USER)
    update = update.replace("&lt;SESSION-ID&gt;", open_session(url))
    update = update.replace("&lt;SECURITY-CODE-2&gt;", CODE2).replace("1234567", str(rel["ID"]))
    response = post(url, update)
    assert texts(result_of(response), "LastErrorCode") == [""]
    [updated] = sim.relations(USER)
    assert (updated["ID"], updated["Code"], updated["Email"], updated["Geslacht"]) == (
        rel["ID"], "MWW-CUST-42", "jan.jansen@example.com", "m"
    )  # fmt: skip
    response = post(url, update.replace(f">{rel['ID']}<", ">1<"))
    assert texts(result_of(response), "LastErrorCode") == ["RELATIE_ONBEKEND"]


def test_relation_codes_are_unique(sim):
    with pytest.raises(BusinessError) as info:
        sim.add_relation(USER, "36", "Ander")
    assert info.value.code == "RELATIE_BESTAAT"


# -- WSDL and control endpoints ------------------------------------------------------


@pytest.mark.parametrize("query", ["WSDL", "wsdl"])
def test_the_wsdl_is_served_with_its_address_pointing_here(url, sim, query):
    response = requests.get(f"{url}?{query}", timeout=5)
    assert response.status_code == 200
    assert f'location="{url}"' in response.text
    assert "soap.e-boekhouden.nl" not in response.text
    assert sim.wsdl_requests == 1


def test_zeep_can_use_the_served_wsdl(url):
    service = zeep.Client(f"{url}?WSDL").service
    result = service.OpenSession(Username=USER, SecurityCode1=CODE1, SecurityCode2=CODE2)
    assert result.SessionID and not result.ErrorMsg.LastErrorCode


def test_control_endpoints(url, sim):
    base = url.removesuffix(SOAP_PATH) + "/_sandbox"
    admin = {"username": "u2", "code1": "a", "code2": "b"}
    created = requests.post(f"{base}/administrations", json=admin, timeout=5)
    assert created.status_code == 201
    faults = requests.post(f"{base}/faults", timeout=5, json={
        "add": [{"kind": "http_status", "operation": "GetMutaties", "status": 503}]})  # fmt: skip
    assert faults.json()["pending"][0]["kind"] == "http_status"
    seed(sim, "F-9")
    assert post(url, envelope("GetMutaties", "")).status_code == 503

    state = requests.get(f"{base}/state", timeout=5).json()
    assert set(state["administrations"]) == {USER, "u2"}
    [booked] = state["administrations"][USER]["mutations"]
    assert booked["Factuurnummer"] == "F-9"
    assert booked["MutatieRegels"][0]["BedragInclBTW"] == "12.10"
    assert state["calls"] == {"GetMutaties": 1}
    assert state["faults"]["injected"] == {"http_status:GetMutaties": 1}
    assert "code1" not in str(state["administrations"]["u2"])

    open_session(url)
    assert requests.post(f"{base}/clock", json={"advance": 3600}, timeout=5).ok
    assert requests.post(f"{base}/sessions/expire", json={}, timeout=5).json() == {"expired": 1}
    assert requests.post(f"{base}/reset", timeout=5).ok
    assert sim.mutations(USER) == [] and sim.calls == {}
    assert requests.post(f"{base}/faults", data="not json", timeout=5).status_code == 400
    assert requests.get(f"{base}/nothing", timeout=5).status_code == 404
