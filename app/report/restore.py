"""The report back from its JSON data (``serial.to_dict``): the cache of finished reports
(app/report/runs.py) keeps that, and the page and downloads read it back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.report.model import (
    Amounts,
    BookDiff,
    Books,
    Finding,
    IcpLine,
    Line,
    Month,
    OpenItem,
    OssLine,
    PaymentLine,
    Report,
    VatReturn,
)
from app.report.period import parse_period
from app.report.serial import FINDING_LISTS


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _day(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _three(x: dict[str, Any]) -> tuple[Decimal, Decimal, Decimal]:
    return Decimal(x["excl"]), Decimal(x["vat"]), Decimal(x["incl"])


def from_dict(data: dict[str, Any]) -> Report:
    """A report as ``to_dict`` wrote it (the cache); accords are applied by the caller."""
    period = parse_period(data["period"]["key"])
    books = data["books"]
    report = Report(
        data["shop_id"],
        data["shop"],
        period,
        [
            Line(x["section"], x["btw_code"], x["ledger"], x["orders"], *_three(x))
            for x in data["lines"]
        ],
        shop_orders=data["shop_orders"],
        payments=[
            PaymentLine(
                p["ledger"],
                p["method"],
                Decimal(p["amount"]),
                p["count"],
                Decimal(p["received"]),
                Decimal(p["refunded"]),
            )
            for p in data["payments"]["by_ledger"]
        ],
        open_items=[
            OpenItem(
                i["kind"],
                i["order_number"],
                i["invoice_number"],
                dt.date.fromisoformat(i["date"]),
                Decimal(i["amount"]),
                i["reason"],
                _day(i["due"]),
            )
            for i in data["open_items"]
        ],
        books=Books(
            books["checked"],
            books["calls"],
            books["read"],
            books["api"],
            books["budget_left"],
            books["skipped_reason"],
            *(
                [
                    BookDiff(
                        kind,
                        d["order_number"],
                        d["invoice_number"],
                        d["mutation_number"],
                        _dec(d.get("booked")),
                        _dec(d.get("in_books") or d.get("amount")),
                        d["reason"],
                        _day(d["date"]),
                    )
                    for d in books[kind]
                ]
                for kind in ("missing", "changed", "unknown")
            ),
        ),
        vat_return=VatReturn(
            {
                k: Amounts(Decimal(v["turnover"]), Decimal(v["vat"]))
                for k, v in data["vat_return"].items()
            },
            Amounts(
                Decimal(data["vat_outside_return"]["turnover"]),
                Decimal(data["vat_outside_return"]["vat"]),
            ),
            [
                IcpLine(
                    i["vat_number"],
                    i["country"],
                    Decimal(i["amount"]),
                    Decimal(i["goods"]),
                    Decimal(i["services"]),
                )
                for i in data["icp"]
            ],
            [
                OssLine(o["country"], Decimal(o["rate"]), Decimal(o["turnover"]), Decimal(o["vat"]))
                for o in data["oss"]
            ],
            data["vat_return_source"],
        ),
        months=[
            Month(
                int(m["month"][:4]),
                int(m["month"][5:]),
                Decimal(m["shop"]),
                Decimal(m["booked"]),
                _dec(m["books"]),
            )
            for m in data["months"]
        ],
        mode=data["mode"],
        built_at=dt.datetime.fromisoformat(data["built_at"]) if data["built_at"] else None,
    )
    for key in FINDING_LISTS:
        setattr(
            report,
            key,
            [
                Finding(
                    f["number"],
                    f["status"],
                    f["state"],
                    f["reason"],
                    _dec(f["booked"]),
                    _dec(f["current"]),
                    f["needs_action"],
                    _day(f["date"]),
                )
                for f in data[key]
            ],
        )
    return report
