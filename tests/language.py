"""One language on every page: a checker for the text a user reads (not fixtures).

``problems(text)`` lists what does not belong in a Dutch interface: English words, raw
codes (``FactuurVerstuurd``, ``foreign_invoice``, ``http_401``), a wrong plural ("1
fouten"), an amount with a decimal point ("142.02") and an ISO date ("2026-10-01").
Technical detail is allowed only where the page marks it as such (``<code>``, ``<pre>``,
``.technical``: "Technische melding"); callers leave those out before calling this.

Used by tests/test_language.py (every template, every reason an upstream error or the
booking core can give) and by tests/web/test_pages.py (every page as a browser shows it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.core.mapping_settings import BTW_CODE_LABELS

# Words that are English and not Dutch. Kept to words that cannot be read as Dutch
# ("is", "in", "of", "was", "had", "door", "over", "status", "order", "webshop" are both).
ENGLISH = frozenset(  # a word list reads better as text than as 60 quoted strings
    """
    the and with without from for to not please error errors failed failure session
    unauthorized forbidden found invalid unknown request response missing required must
    cannot should would could which this that these there their your you our try again
    save cancel back next previous page booked pending held retrying posting skipped
    settled capture refund none true false null enqueued queued running locked dry
    payment payments invoice customer ledger mapping shop shops settings unavailable
    queue expired refused denied access internal
    """.split()  # noqa: SIM905
)

# Spellings with capitals inside that are names, not codes ("MijnWebwinkel": e-Boekhouden's
# own menu item, as its screens spell it; "GmbH": a customer's legal form, in its name).
NAMES = frozenset(
    {
        "iDEAL",
        "PayPal",
        "AfterPay",
        "MyOnlineStore",
        "PostgreSQL",
        "WooCommerce",
        "MijnWebwinkel",
        "GmbH",
    }
)

# e-Boekhouden's own BTW codes: the user picks them in e-Boekhouden and on Instellingen.
BTW_CODES = frozenset(BTW_CODE_LABELS)

CAMEL = re.compile(r"\b[A-Za-z]*[a-z][A-Z][A-Za-z]*\b")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
UPPER_SNAKE = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")
WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:'[a-z]+)?")
PLURAL = re.compile(
    r"(?<![\d,.])\b1 (fouten|boekingen|bestellingen|pogingen|regels|mutaties|betalingen|"
    r"koppelingen|gebruikers|dagen|uren|minuten|seconden|creditnota's)\b"
)
POINT_AMOUNT = re.compile(r"(?<![\d.,])\d+\.\d{2}(?![\d.])")
ISO_DATE = re.compile(r"(?<![\d.])\d{4}-\d{2}-\d{2}(?![\d.])")
# The invoice-number format's placeholder and the period syntax are input formats; a
# masked secret ("••••k3x=") shows four characters of it, whatever they are.
ALLOWED_SNIPPETS = re.compile(r"\{number\}|\d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2}|••••\S*")


def problems(text: str, *, allowed: Iterable[str] = ()) -> list[str]:
    """What is wrong with ``text`` for a Dutch reader ([] when nothing is)."""
    allow = set(allowed)
    text = ALLOWED_SNIPPETS.sub(" ", text)
    found: list[str] = []
    for word in WORD.findall(text):
        if word.lower() in ENGLISH and word not in allow:
            found.append(f"English word {word!r}")
    for match in CAMEL.findall(text):
        if match not in NAMES and match not in allow:
            found.append(f"raw code {match!r}")
    for match in SNAKE.findall(text):
        if match not in allow:
            found.append(f"raw code {match!r}")
    for match in UPPER_SNAKE.findall(text):
        if match not in BTW_CODES and match not in allow:
            found.append(f"raw code {match!r}")
    for match in PLURAL.finditer(text):
        found.append(f"plural after 1: {match.group(0)!r}")
    for match in POINT_AMOUNT.findall(text):
        found.append(f"amount with a decimal point: {match!r}")
    for match in ISO_DATE.findall(text):
        found.append(f"ISO date: {match!r}")
    return found


def context_of(text: str, needle: str, width: int = 60) -> str:
    """A snippet of ``text`` around the first ``needle``, for failure messages."""
    at = text.find(needle)
    if at < 0:
        return ""
    return " ".join(text[max(0, at - width) : at + len(needle) + width].split())
