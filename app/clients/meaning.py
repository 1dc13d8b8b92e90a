"""What e-Boekhouden means, read from its words where its codes are unknown or new.

SOAP error codes are not documented (NOTES.md §8) and REST codes may be added: a refusal
of AddRelatie / POST /v1/relation that says the relation (code) is already there means
one thing, whatever its code: our relation exists (often made a moment ago by another
worker), so the pipeline finds it and books on it (app/booking/relations.py).
"""

from __future__ import annotations

import re

# Dutch and English wordings of "already exists / already in use / duplicate".
ALREADY_EXISTS = re.compile(
    r"bestaa?t\s+(al|reeds)|(al|reeds)\s+(in\s+gebruik|aanwezig|bekend)|dubbel"
    r"|already\s+(exists?|in\s+use|taken|registered)|duplicate|not\s+unique",
    re.IGNORECASE,
)


def says_already_exists(*texts: str) -> bool:
    return any(ALREADY_EXISTS.search(text or "") for text in texts)
