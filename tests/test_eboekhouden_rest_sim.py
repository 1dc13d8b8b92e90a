"""The e-Boekhouden REST simulator on its own: schemas, business rules, VAT, control."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from werkzeug.test import Client

from app.clients.eboekhouden_rest import errors as client_errors
from app.clients.eboekhouden_rest import wire
from app.core.mutations import Relation
from sandbox.eboekhouden_rest import EBoekhoudenRestSimulator, schemas
from sandbox.eboekhouden_rest.state import vat_for

TOKEN = "sim-api-token"
D = Decimal
SIM_DIR = Path(__file__).resolve().parents[1] / "sandbox" / "eboekhouden_rest"


@pytest.fixture
def sim() -> EBoekhoudenRestSimulator:
    simulator = EBoekhoudenRestSimulator()
    simulator.add_administration(TOKEN, name="Sim BV")
    return simulator


class Api:
    def __init__(self, sim: EBoekhoudenRestSimulator) -> None:
        self.sim = sim
        self.http = Client(sim)
        self.auth: dict[str, str] = {}

    def login(self) -> None:
        status, body = self.post("/v1/session", {"accessToken": TOKEN, "source": "Tests"})
        assert status == 200, body
        self.auth = {"Authorization": f"Bearer {body['token']}"}

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> tuple[int, Any]:
        response = self.http.open(
            path,
            method=method,
            headers=self.auth,
            query_string=query,
            data=None if body is None else json.dumps(body),
            content_type="application/json",
        )
        data = response.get_data()
        return response.status_code, json.loads(data) if data else None

    def post(self, path: str, body: Any) -> tuple[int, Any]:
        return self.call("POST", path, body)

    def ledger(self, code: str) -> int:
        _, body = self.call("GET", "/v1/ledger", code=code)
        return int(body["items"][0]["id"])

    def relation(self, code: str = "C1") -> int:
        status, body = self.post("/v1/relation", {"code": code, "name": "Jan", "type": "P"})
        assert status == 201, body
        return int(body["id"])


@pytest.fixture
def api(sim: EBoekhoudenRestSimulator) -> Api:
    client = Api(sim)
    client.login()
    return client


def mutation(api: Api, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": 2,
        "date": "2026-11-02",
        "ledgerId": api.ledger("1300"),
        "invoiceNumber": "1001",
        "inExVat": "IN",
        "relationId": api.relation() if "relationId" not in changes else None,
        "termOfPayment": 14,
        "rows": [{"ledgerId": api.ledger("8010"), "vatCode": "HOOG_VERK_21", "amount": 121.00}],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None or k == "ledgerId"}


# -- schemas -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schema",
    [
        schemas.SESSION_REQUEST,
        schemas.CREATE_MUTATION,
        schemas.CREATE_RELATION,
        schemas.PATCH_RELATION,
    ],
)
def test_the_schemas_are_valid_json_schema(schema):
    jsonschema.Draft202012Validator.check_schema(schema)


VALID = {
    "type": 2,
    "date": "2026-11-02",
    "ledgerId": 1,
    "inExVat": "IN",
    "invoiceNumber": "1",
    "rows": [{"ledgerId": 2, "vatCode": "GEEN", "amount": 1.5}],
}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({}, None),
        ({"date": None}, "MUT_003"),
        ({"date": "02-11-2026"}, "MUT_003"),
        ({"ledgerId": None}, "MUTA_001"),
        ({"ledgerId": "1"}, "MUTA_001"),
        ({"inExVat": None}, "MUTA_005"),
        ({"inExVat": "INCL"}, "MUT_017"),
        ({"invoiceNumber": "x" * 51}, "MUT_018"),
        ({"rows": []}, "MUT_100"),
        ({"rows": None}, "MUT_100"),
        ({"rows": [VALID["rows"][0]] * 101}, "MUT_101"),
        ({"rows": [{"ledgerId": 2, "vatCode": "HOOG_VERK", "amount": 1}]}, "MUT_109"),
        ({"rows": [{"ledgerId": 2, "vatCode": "GEEN"}]}, ""),
        ({"rows": [{"ledgerId": 2, "vatCode": "GEEN", "amount": "1.00"}]}, ""),
        ({"type": 8}, ""),
        ({"type": "2"}, ""),
        ({"unknown": 1}, ""),
    ],
)
def test_mutation_schema_agrees_with_jsonschema_and_carries_codes(change, code):
    body = {k: v for k, v in {**VALID, **change}.items() if v is not None}
    ours = schemas.validate(schemas.CREATE_MUTATION, body)
    theirs = list(jsonschema.Draft202012Validator(schemas.CREATE_MUTATION).iter_errors(body))
    assert bool(ours) == bool(theirs) == (code is not None)
    if code:
        assert next((v.code for v in ours if v.code), "") == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"accessToken": TOKEN, "source": "Tests"}, None),
        ({"source": "Tests"}, "API_SESSION_003"),
        ({"accessToken": "", "source": "x"}, "API_SESSION_003"),
        ({"accessToken": TOKEN}, "API_SESSION_001"),
        ({"accessToken": TOKEN, "source": "far too long source"}, "API_SESSION_002"),
        ({"accessToken": TOKEN, "source": "bad-chars!"}, "API_SESSION_002"),
    ],
)
def test_session_request_codes(sim, body, code):
    api = Api(sim)
    status, answer = api.post("/v1/session", body)
    if code is None:
        assert status == 200 and answer["expiresIn"] > 0 and len(answer["token"]) > 20
    else:
        assert (status, answer["code"], answer["type"]) == (400, code, "validation")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"type": "X"}, "REL_001"),
        ({"name": ""}, "REL_002"),
        ({"name": "x" * 101}, "REL_003"),
        ({"code": "x" * 16}, "REL_006"),
        ({"contact": "x" * 151}, "REL_009"),
        ({"emailAddress": "not-an-email"}, "REL_023"),
        ({"vatNumber": "x" * 51}, "REL_035"),
        ({"postalCode": "x" * 51}, "REL_012"),
        ({"city": "x" * 51}, "REL_013"),
    ],
)
def test_relation_schema_codes(api, change, code):
    status, body = api.post("/v1/relation", {"name": "Jan", "code": "C9", **change})
    assert (status, body.get("code")) == (400, code)
    assert not list(
        jsonschema.Draft202012Validator(schemas.CREATE_RELATION).iter_errors({"name": "Jan"})
    )


# -- business rules ------------------------------------------------------------------


def test_a_valid_mutation_is_stored_with_the_vat_e_boekhouden_computes(api, sim):
    status, body = api.post("/v1/mutation", mutation(api))
    assert status == 201 and body["id"]
    status, stored = api.call("GET", f"/v1/mutation/{body['id']}")
    assert stored["rows"][0]["vatAmount"] == 21.0 and stored["vat"] == [
        {"vatCode": "HOOG_VERK_21", "amount": 21.0}
    ]
    status, listed = api.call("GET", "/v1/mutation", invoiceNumber="1001")
    assert listed["count"] == 1 and listed["items"][0]["amount"] == 121.0


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"invoiceNumber": None}, "MUT_002"),
        ({"relationId": None}, "MUT_012"),
        ({"relationId": 999999}, "MUT_013"),
        ({"ledgerId": 999999}, "MUT_007"),
        ({"type": 5, "termOfPayment": 14}, "MUT_016"),
        ({"rows": [{"ledgerId": 999999, "vatCode": "GEEN", "amount": 1}]}, "MUT_104"),
        ({"rows": [{"vatCode": "GEEN", "amount": 1}]}, "MUTA_004"),
        ({"rows": [{"ledgerId": "BANK", "vatCode": "GEEN", "amount": 1}]}, "MUT_106"),
        ({"rows": [{"ledgerId": "OMZET", "vatCode": "HOOG_INK_21", "amount": 1}]}, "MUT_109"),
        (
            {"rows": [{"ledgerId": "OMZET", "vatCode": "GEEN", "amount": 1, "relationId": 9}]},
            "MUT_113",
        ),
    ],
)
def test_business_rules_answer_their_codes(api, change, code):
    ids = {"BANK": api.ledger("1100"), "OMZET": api.ledger("8000")}
    for row in change.get("rows", []):
        row["ledgerId"] = ids.get(row.get("ledgerId"), row.get("ledgerId"))
    body = mutation(api, **change)  # None: the field is left out
    status, answer = api.post("/v1/mutation", body)
    assert (status, answer.get("code")) == (400, code), answer


def test_invoice_numbers_are_unique_and_payments_need_their_invoice(api):
    assert api.post("/v1/mutation", mutation(api))[0] == 201
    status, answer = api.post("/v1/mutation", mutation(api, relationId=api.relation("C2")))
    assert (status, answer["code"]) == (400, "MUT_019")
    relation = api.relation("C3")
    pay_row = {"ledgerId": api.ledger("1300"), "vatCode": "GEEN", "amount": 121.0}
    payment = {
        "type": 3,
        "date": "2026-11-02",
        "ledgerId": api.ledger("1100"),
        "invoiceNumber": "1001",
        "inExVat": "IN",
        "relationId": relation,
        "rows": [pay_row],
    }
    assert api.post("/v1/mutation", payment)[1]["code"] == "MUT_120"
    payment["rows"] = [{**pay_row, "invoiceNumber": "4040"}]
    assert api.post("/v1/mutation", payment)[1]["code"] == "MUT_115"
    payment["rows"] = [{**pay_row, "invoiceNumber": "1001"}]
    assert api.post("/v1/mutation", payment)[0] == 201


def test_vat_amount_only_with_afw_codes(api):
    omzet = api.ledger("8020")
    rows = [{"ledgerId": omzet, "vatCode": "AFW_VERK", "amount": 119.0, "vatAmount": 19.0}]
    assert api.post("/v1/mutation", mutation(api, rows=rows))[0] == 201
    rows = [{"ledgerId": omzet, "vatCode": "HOOG_VERK_21", "amount": 121.0, "vatAmount": 21.0}]
    status, body = api.post(
        "/v1/mutation",
        mutation(api, invoiceNumber="1002", rows=rows, relationId=api.relation("C2")),
    )
    assert status == 400 and "AFW" in body["title"]


@pytest.mark.parametrize(
    ("code", "amount", "in_ex", "given", "vat"),
    [
        ("HOOG_VERK_21", "121.00", "IN", None, "21.00"),
        ("HOOG_VERK_21", "100.00", "EX", None, "21.00"),
        ("LAAG_VERK_9", "10.90", "IN", None, "0.90"),
        ("LAAG_VERK_9", "0.06", "IN", None, "0.00"),
        ("LAAG_VERK_9", "0.07", "IN", None, "0.01"),
        ("HOOG_VERK_21", "-12.10", "IN", None, "-2.10"),
        ("HOOG_VERK_21", "0.01", "IN", None, "0.00"),
        ("GEEN", "50.00", "IN", None, "0.00"),
        ("AFW_VERK", "119.00", "IN", "19.00", "19.00"),
        ("AFW_VERK", "119.00", "IN", None, "0"),
        ("BI_EU_VERK", "100.00", "IN", None, "0.00"),
    ],
)
def test_vat_per_row(code, amount, in_ex, given, vat):
    assert vat_for(code, D(amount), in_ex, None if given is None else D(given)) == D(vat)


# -- sessions, lists, control ---------------------------------------------------------


def test_sessions_expire_and_end(api, sim):
    assert api.call("GET", "/v1/ledger")[0] == 200
    sim.advance_clock(3601)
    status, body = api.call("GET", "/v1/ledger")
    assert (status, body["code"], body["type"]) == (401, "API_SESSION_004", "security")
    api.login()
    assert api.call("DELETE", "/v1/session") == (204, None)
    assert api.call("GET", "/v1/ledger")[0] == 401
    assert sim.admin_calls(TOKEN)["end_session"] == 1


def test_unknown_and_expired_api_tokens(sim):
    api = Api(sim)
    assert api.post("/v1/session", {"accessToken": "nope", "source": "x"})[0] == 401
    sim.expire_token(TOKEN)
    status, body = api.post("/v1/session", {"accessToken": TOKEN, "source": "x"})
    assert (status, body["code"]) == (401, "API_SESSION_004")


def test_lists_page_and_filter(api):
    _, page = api.call("GET", "/v1/ledger", limit=5, offset=0)
    assert page["count"] == 5
    _, rest = api.call("GET", "/v1/ledger", limit=500, offset=5)
    assert len(page["items"]) + len(rest["items"]) == 19
    assert api.call("GET", "/v1/ledger", category="DEB")[1]["items"][0]["code"] == "1300"
    api.relation("C1")
    assert api.call("GET", "/v1/relation", code="c1")[1]["items"][0]["code"] == "C1"
    assert api.call("GET", "/v1/relation/424242")[0] == 404
    assert api.call("GET", "/v1/nothing")[0] == 404
    assert api.call("GET", "/v1/administration/linked")[1]["items"][0]["company"] == "Sim BV"


def test_control_endpoints_and_faults(api, sim):
    sim.faults.add("http_status", operation="get_ledgers", status=429, retry_after=3)
    response = api.http.get("/v1/ledger", headers=api.auth)
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert api.call("POST", "/_sandbox/administrations", {"token": "t2", "name": "B"})[0] == 201
    assert api.call("POST", "/_sandbox/faults", {"add": [{"kind": "auth"}]})[0] == 200
    assert api.call("GET", "/v1/ledger")[0] == 401
    assert api.call("POST", "/_sandbox/sessions/expire", {})[1] == {"expired": 1}
    state = api.call("GET", "/_sandbox/state")[1]
    assert state["calls"]["get_ledgers"] == 2 and TOKEN not in json.dumps(state)
    assert api.call("POST", "/_sandbox/reset", {})[1] == {"reset": True}


def test_every_code_the_simulator_can_answer_is_in_the_client_table():
    source = "\n".join(p.read_text() for p in SIM_DIR.glob("*.py"))
    emitted = set(re.findall(r'"((?:MUTA?|REL|API_SESSION)_\d{3})"', source))
    sent = set(
        wire.relation_body(Relation("C", "N", "B", "c", "a", "p", "c", "NL", "e@x.nl", "0", "NL1"))
    )
    unsent = {
        code
        for prop, codes in schemas.CREATE_RELATION["x-codes"].items()
        if prop not in sent
        for code in codes.values()
    }
    assert emitted and unsent and not unsent & set(client_errors.ERROR_CODES)
    missing = emitted - unsent - set(client_errors.ERROR_CODES)
    assert not missing
