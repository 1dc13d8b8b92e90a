"""JSON schemas of the request bodies the REST simulator accepts, written from the reference
pages (SessionRequest.md, CreateMutation.md, CreateMutationRow.md, CreateRelation.md,
PatchRelation.md, MutationType.md, VatCode.md), and a small validator for them.

The schemas are plain JSON Schema (draft 2020-12; ``tests/test_eboekhouden_rest_sim.py``
checks them with ``jsonschema``, a dev dependency). The simulator ships in the main
package and ``make run`` uses it, so it validates with ``validate`` below (the subset the
schemas use: type, required, properties, additionalProperties, items, enum, minLength,
maxLength, pattern, minItems, maxItems) rather than depend on ``jsonschema`` at run time.

``x-codes`` (ignored by JSON Schema) gives e-Boekhouden's error code per property and
keyword, from the reference pages. Lengths the pages do not give are ours, marked
"assumed": the SOAP limits (NOTES.md §4, §6) or the connector's own (app/core/mapping.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

VAT_CODES = [
    "HOOG_VERK_21", "LAAG_VERK_9", "VERL_VERK", "VERL_VERK_L9", "AFW", "BU_EU_VERK",
    "BI_EU_VERK", "BI_EU_VERK_D", "AFST_VERK", "LAAG_INK_9", "HOOG_INK_21", "VERL_INK",
    "AFW_VERK", "BU_EU_INK", "BI_EU_INK", "GEEN",
]  # fmt: skip
MAX_ROWS = 100  # assumed: MUT_101 "Too many rows" gives no number
DATE = r"^\d{4}-\d{2}-\d{2}(T[0-9:.]+Z?)?$"

_INT = {"type": "integer"}
_NUMBER = {"type": "number"}


def _text(max_length: int) -> dict[str, Any]:
    return {"type": ["string", "null"], "maxLength": max_length}


SESSION_REQUEST: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "SessionRequest",
    "type": "object",
    "required": ["accessToken", "source"],
    "properties": {
        "accessToken": {"type": "string", "minLength": 1},
        "source": {"type": "string", "minLength": 1, "pattern": r"^[\w ]{1,10}$"},
    },
    "x-codes": {
        "accessToken": {"required": "API_SESSION_003", "minLength": "API_SESSION_003"},
        "source": {
            "required": "API_SESSION_001",
            "minLength": "API_SESSION_001",
            "pattern": "API_SESSION_002",
        },
    },
}

MUTATION_ROW: dict[str, Any] = {
    "type": "object",
    "required": ["vatCode", "amount"],
    "additionalProperties": False,
    "properties": {
        "ledgerId": {"type": ["integer", "null"]},
        "vatCode": {"type": "string", "enum": VAT_CODES},
        "vatAmount": {"type": ["number", "null"]},
        "costCenterId": {"type": ["integer", "null"]},
        "amount": _NUMBER,
        "description": _text(200),  # assumed
        "invoiceNumber": _text(50),
        "relationId": {"type": ["integer", "null"]},
    },
    "x-codes": {"vatCode": {"required": "MUT_109", "enum": "MUT_109", "type": "MUT_109"}},
}

CREATE_MUTATION: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "CreateMutation",
    "type": "object",
    "required": ["type", "date", "ledgerId", "inExVat", "rows"],
    "additionalProperties": False,
    "properties": {
        "type": {"type": "integer", "enum": [1, 2, 3, 4, 5, 6, 7]},
        "date": {"type": "string", "pattern": DATE},
        "ledgerId": _INT,
        "invoiceNumber": _text(50),
        "entryNumber": _text(50),  # assumed (SOAP Boekstuk)
        "termOfPayment": {"type": ["integer", "null"]},
        "checkPaymentReference": {"type": ["boolean", "null"]},
        "paymentReference": _text(50),  # assumed (SOAP Betalingskenmerk)
        "inExVat": {"type": "string", "enum": ["IN", "EX"]},
        "description": _text(200),  # assumed (SOAP Omschrijving)
        "relationId": {"type": ["integer", "null"]},
        "rows": {"type": "array", "minItems": 1, "maxItems": MAX_ROWS, "items": MUTATION_ROW},
    },
    "x-codes": {
        "date": {"required": "MUT_003", "pattern": "MUT_003", "type": "MUT_003"},
        "ledgerId": {"required": "MUTA_001", "type": "MUTA_001"},
        "invoiceNumber": {"maxLength": "MUT_018"},
        "inExVat": {"required": "MUTA_005", "enum": "MUT_017", "type": "MUT_017"},
        "rows": {"required": "MUT_100", "minItems": "MUT_100", "maxItems": "MUT_101"},
    },
}

_REL_TEXT = {  # property: (max length, too-long code); lengths assumed (app/core/mapping.py)
    "salutation": (50, "REL_010"), "contact": (150, "REL_009"), "address": (150, "REL_011"),
    "postalCode": (50, "REL_012"), "city": (50, "REL_013"), "country": (50, "REL_014"),
    "address2": (150, "REL_015"), "postalCode2": (50, "REL_016"), "city2": (50, "REL_017"),
    "country2": (50, "REL_018"), "phoneNumber": (50, "REL_019"),
    "mobilePhoneNumber": (50, "REL_020"), "faxNumber": (50, "REL_021"),
    "emailAddress": (150, "REL_022"), "emailAddressInvoice": (150, "REL_024"),
    "emailAddressReminder": (150, "REL_026"), "website": (150, "REL_028"),
    "vatNumber": (50, "REL_035"), "iban": (34, "REL_029"), "bic": (11, "REL_032"),
    "note": (2000, ""),
}  # fmt: skip
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _relation_schema(title: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "type": {"type": ["string", "null"], "enum": ["B", "P", "", None]},
        "code": {"type": ["string", "null"], "maxLength": 15},  # assumed (SOAP Code)
        "name": {"type": "string", "minLength": 1, "maxLength": 100},  # assumed
        "gender": {"type": ["string", "null"], "enum": ["m", "v", "a", "", None]},
        "inactive": {"type": ["boolean", "null"]},
        "termOfPayment": {"type": ["integer", "null"]},
        "doNotReceiveNewsletters": {"type": ["boolean", "null"]},
        "ledgerId": {"type": ["integer", "null"]},
    }
    codes: dict[str, dict[str, str]] = {
        "type": {"enum": "REL_001", "type": "REL_001"},
        "code": {"maxLength": "REL_006", "type": "REL_005"},
        "name": {"required": "REL_002", "minLength": "REL_002", "maxLength": "REL_003"},
        "gender": {"enum": "REL_004"},
        "emailAddress": {"pattern": "REL_023"},
    }
    for name, (length, code) in _REL_TEXT.items():
        properties[name] = _text(length)
        if code:
            codes[name] = {**codes.get(name, {}), "maxLength": code}
    properties["emailAddress"] = {**_text(150), "pattern": EMAIL}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "required": ["name"],
        "properties": properties,
        "x-codes": codes,
    }


CREATE_RELATION = _relation_schema("CreateRelation")
PATCH_RELATION = _relation_schema("PatchRelation")


@dataclass(frozen=True)
class Violation:
    path: str  # "rows[1].vatCode"
    keyword: str
    message: str
    code: str = ""  # e-Boekhouden's code from x-codes, if the page gives one


_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: (
        (isinstance(v, int | float) and not isinstance(v, bool)) or type(v).__name__ == "Decimal"
    ),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def validate(schema: dict[str, Any], value: Any, path: str = "") -> list[Violation]:
    """Every violation of ``schema`` by ``value``, in document order."""
    found: list[Violation] = []
    _check(schema, value, path, None, found)
    return found


def _check(
    schema: dict[str, Any],
    value: Any,
    path: str,
    codes: dict[str, str] | None,
    found: list[Violation],
) -> None:
    def fail(keyword: str, message: str) -> None:
        found.append(Violation(path or "$", keyword, message, (codes or {}).get(keyword, "")))

    types = schema.get("type")
    if types is not None:
        allowed = types if isinstance(types, list) else [types]
        if not any(_TYPES[t](value) for t in allowed):
            fail("type", f"must be of type {' or '.join(allowed)}")
            return
    if "enum" in schema and value not in schema["enum"]:
        fail("enum", f"must be one of {[e for e in schema['enum'] if e]}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            fail("minLength", "must not be empty")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            fail("maxLength", f"must be at most {schema['maxLength']} characters")
        if "pattern" in schema and value and not re.search(schema["pattern"], value):
            fail("pattern", f"does not match {schema['pattern']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            fail("minItems", f"needs at least {schema['minItems']} item(s)")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            fail("maxItems", f"allows at most {schema['maxItems']} items")
        if "items" in schema:
            for index, item in enumerate(value):
                _check(schema["items"], item, f"{path}[{index}]", None, found)
    if isinstance(value, dict):
        _check_object(schema, value, path, found)


def _check_object(
    schema: dict[str, Any], value: dict[str, Any], path: str, found: list[Violation]
) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    codes: dict[str, dict[str, str]] = schema.get("x-codes", {})
    prefix = f"{path}." if path else ""
    for name in schema.get("required", []):
        if name not in value or value[name] is None:
            code = codes.get(name, {}).get("required", "")
            found.append(Violation(prefix + name, "required", "is required", code))
    for name, item in value.items():
        if name in properties:
            if item is not None or name not in schema.get("required", []):
                _check(properties[name], item, prefix + name, codes.get(name), found)
        elif schema.get("additionalProperties") is False:
            found.append(Violation(prefix + name, "additionalProperties", "is not allowed"))
