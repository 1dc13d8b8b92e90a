"""The notification contract: Standard Webhooks signature check and the payload schema.

Mijnwebwinkel sends no events itself (NOTES.md §5); this contract is ours, for any sender.
The payload is only a hint: the job always re-fetches the order.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

ORDER_NUMBER = re.compile(r"^(T-)?[0-9]{1,20}$", re.IGNORECASE)


class SignatureError(Exception):
    """Missing or wrong signature, or a timestamp more than 5 minutes off."""


def verify(body: bytes, headers: dict[str, str], secrets: tuple[str, ...]) -> None:
    """Accept if any current secret (rotation grace included) signed this body.

    The ``standardwebhooks`` package does the HMAC, the constant-time compare, the
    several-signatures header and the ±5 minute timestamp window.
    """
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
            return
        except (WebhookVerificationError, ValueError, UnicodeDecodeError):
            continue  # malformed headers and non-UTF-8 bodies count as unsigned
    raise SignatureError("missing or invalid webhook signature")


def is_test_order(number: str) -> bool:
    """Test orders carry a ``T-`` marker (never booked; app/core/orders.py)."""
    return number.upper().startswith("T-")


class OrderNumberField(fields.Field):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError("Must be an order number (digits).")
        number = str(value).strip()
        if not ORDER_NUMBER.match(number) or number.lstrip("Tt-").strip("0") == "":
            raise ValidationError("Must be an order number (digits).")
        return number.upper()


class NotificationSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    order_number = OrderNumberField(required=True)
