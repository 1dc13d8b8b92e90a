"""The vendor's OpenAPI document and response validation against it (tests, sandbox)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

# A verbatim copy of shared/reference/mijnwebwinkel/openapi.json (sha256 94725ae4…465f).
SPEC_PATH = Path(__file__).resolve().parent.parent / "mijnwebwinkel_openapi.json"

# Operation → its 200 response schema in the spec.
RESPONSE_SCHEMAS: dict[str, dict[str, Any]] = {
    "get_order": {"$ref": "#/components/schemas/Order"},
    "list_orders": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}},
    "count_orders": {"$ref": "#/components/schemas/CountResponse"},
    "order_statuses": {
        "type": "array",
        "items": {"$ref": "#/components/schemas/OrderStatus"},
    },
    "store": {"$ref": "#/components/schemas/Store"},
    "order_payments": {
        "type": "object",
        "required": ["payments"],
        "properties": {
            "payments": {"type": "array", "items": {"$ref": "#/components/schemas/Payment"}}
        },
    },
    "payment_methods": {"$ref": "#/components/schemas/StorePaymentGateways"},
}


@cache
def openapi_spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def _components() -> dict[str, Any]:
    """The spec's ``components`` with one defect repaired: ``TaxPrice`` has no ``type``,
    so in ``oneOf: [array of TaxPrice, TaxPrice]`` (``Order.price.tax``,
    ``OrderDetail.price``) every array also matches the bare ``TaxPrice`` and fails
    ``oneOf`` (even the spec's own example would). TaxPrice is meant as an object."""
    components = copy.deepcopy(openapi_spec()["components"])
    components["schemas"]["TaxPrice"].setdefault("type", "object")
    return components  # type: ignore[no-any-return]


@cache
def validator(schema_json: str) -> Any:
    """An ``OAS30Validator`` (with format checks) for a schema given as JSON text, with
    the spec's ``components`` alongside so ``#/components/...`` references resolve."""
    # openapi-schema-validator is a dev dependency: import it only when validating.
    from openapi_schema_validator import OAS30Validator, oas30_format_checker

    schema = {**json.loads(schema_json), "components": _components()}
    return OAS30Validator(schema, format_checker=oas30_format_checker)


def validate(schema: dict[str, Any], instance: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``instance`` matches ``schema``."""
    validator(json.dumps(schema, sort_keys=True)).validate(instance)


def validate_response(operation: str, body: Any) -> None:
    """Raise unless ``body`` is a valid 200 response of this operation per the spec."""
    validate(RESPONSE_SCHEMAS[operation], body)
