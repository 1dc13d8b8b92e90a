"""What a name a person gives (a shop's name) may hold: one line of visible text.

A line break in a shop's name ended up in the alert mails' Subject header, where Python's
e-mail package refuses it: that shop's alerts silently stopped. Direction overrides and
other invisible controls let a name look like another one. ``name_problem`` refuses them
where a name is entered (the pages and ``flask shops add``); ``one_line`` makes a name
already stored safe wherever it goes into one line (mail subjects, the command output).
"""

from __future__ import annotations

import unicodedata

MAX_NAME = 200
# Unicode's controls (Cc), line and paragraph separators, and the invisible format
# characters that reorder or hide text (bidirectional overrides and isolates, marks).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _forbidden(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a shop's name (Dutch), or None when it can."""
    if not name.strip():
        return "Vul een naam in."
    if len(name) > MAX_NAME:
        return f"De naam mag hoogstens {MAX_NAME} tekens lang zijn."
    if any(_forbidden(char) for char in name):
        return (
            "De naam mag geen regeleinden, tabs of andere onzichtbare stuurtekens bevatten. "
            "Typ de naam op één regel."
        )
    return None


def one_line(text: str) -> str:
    """``text`` with every forbidden character replaced by a space: safe in a header."""
    return " ".join("".join(" " if _forbidden(c) else c for c in text).split())
