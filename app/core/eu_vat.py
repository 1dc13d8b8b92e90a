"""PURE: the EU member states' VAT rates, from the data file ``app/core/data/eu_vat_rates.json``
(its sources and the date it was checked are in the file; docs/booking-rules.md, "OSS").

An OSS row's rate is checked against it on the settings page (the country must have known
the rate at some time) and when an order is booked (the rate must apply on the invoice
date). The file is package data, read once; no network.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

DATA_FILE = "data/eu_vat_rates.json"


@dataclass(frozen=True, slots=True)
class Rate:
    rate: Decimal
    start: dt.date | None = None  # None: before anything the file knows
    end: dt.date | None = None  # inclusive; None: still applies
    note: str = ""

    def applies_on(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True, slots=True)
class RateTable:
    checked: dt.date
    sources: tuple[str, ...]
    names: dict[str, str]  # country code → Dutch name
    rates: dict[str, tuple[Rate, ...]]


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)) if value else None


@cache
def rate_table() -> RateTable:
    """The data file, read once per process."""
    data = json.loads(files("app.core").joinpath(DATA_FILE).read_text(encoding="utf-8"))
    countries: dict[str, Any] = data["countries"]
    return RateTable(
        checked=dt.date.fromisoformat(data["checked"]),
        sources=tuple(data["sources"]),
        names={code: str(entry["name"]) for code, entry in countries.items()},
        rates={
            code: tuple(
                Rate(
                    Decimal(str(item["rate"])),
                    _date(item.get("from")),
                    _date(item.get("until")),
                    str(item.get("note", "")),
                )
                for item in entry["rates"]
            )
            for code, entry in countries.items()
        },
    )


def country_name(code: str) -> str:
    return rate_table().names.get(code, code)


def rates_of(country: str, on: dt.date | None = None) -> list[Decimal]:
    """The country's rates on ``on`` (every rate the file knows when None), high to low."""
    found = {
        r.rate.normalize()
        for r in rate_table().rates.get(country, ())
        if on is None or r.applies_on(on)
    }
    return sorted(found, reverse=True)


def _text(rates: list[Decimal]) -> str:
    return ", ".join(f"{format(r, 'f').replace('.', ',')}%" for r in rates) or "geen"


def rate_problem(country: str, rate: Decimal, on: dt.date | None = None) -> str | None:
    """Why ``rate`` is not a VAT rate of ``country`` (on ``on``), in Dutch; None if it is."""
    table = rate_table()
    if country not in table.rates:
        return f"{country} is geen EU-lidstaat in de tarieventabel van de koppeling"
    known = rates_of(country, on)
    if rate.normalize() in known:
        return None
    when = f" op {on:%d-%m-%Y}" if on is not None else ""
    ever = rates_of(country) if on is not None else known
    history = (
        f" ({_text([rate.normalize()])} gold daar op een andere datum)"
        if rate.normalize() in ever
        else ""
    )
    return (
        f"{country_name(country)} ({country}) kent{when} geen btw-tarief van "
        f"{_text([rate.normalize()])}{history}; de tarieven zijn {_text(known)} (tarieventabel "
        f"van de Europese Commissie, bijgewerkt tot {table.checked:%d-%m-%Y})"
    )
