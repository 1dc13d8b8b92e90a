"""The report as JSON data (docs/report-json.md): the download, ``flask report --format
json`` and the cache of finished reports all use ``to_dict`` (``restore.from_dict`` reads
the cache back). Amounts are strings with two decimals, dates ISO 8601."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.core.mapping_settings import rate_text
from app.report.model import SECTIONS, Amounts, BookDiff, Report
from app.report.vat_return import RUBRIEKEN

FINDING_LISTS = ("not_booked", "changed", "doubles", "not_in_shop")


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def to_dict(report: Report) -> dict[str, Any]:
    books = report.books
    data: dict[str, Any] = {
        "shop_id": report.shop_id,
        "shop": report.shop_name,
        "period": {
            "key": report.period.key,
            "start": report.period.start.isoformat(),
            "end": report.period.end.isoformat(),
            "label": report.period.label,
        },
        "mode": report.mode,
        "built_at": report.built_at.isoformat() if report.built_at else None,
        "in_order": report.in_order,
        "lines": [
            {
                "section": x.section,
                "btw_code": x.btw_code,
                "ledger": x.ledger,
                "orders": x.orders,
                "excl": money(x.excl),
                "vat": money(x.vat),
                "incl": money(x.incl),
            }
            for x in report.lines
        ],
        "totals": {
            s: {
                "orders": t.orders,
                "excl": money(t.excl),
                "vat": money(t.vat),
                "incl": money(t.incl),
            }
            for s in SECTIONS
            for t in [report.total(s)]
        },
        "by_vat_code": {
            s: {
                code: {"excl": money(t.excl), "vat": money(t.vat), "incl": money(t.incl)}
                for code, t in report.by_vat_code(s).items()
            }
            for s in SECTIONS
        },
        "shop_orders": report.shop_orders,
        "payments": {
            "received": money(report.received),
            "refunded": money(report.refunded),
            "by_ledger": [
                {
                    "ledger": p.ledger,
                    "method": p.method,
                    "amount": money(p.amount),
                    "count": p.count,
                    "received": money(p.received),
                    "refunded": money(p.refunded),
                }
                for p in report.payments
            ],
        },
        "open_items": [
            {
                "kind": i.kind,
                "order_number": i.order_number,
                "invoice_number": i.invoice_number,
                "date": i.date.isoformat(),
                "due": i.due.isoformat() if i.due else None,
                "amount": money(i.amount),
                "reason": i.reason,
            }
            for i in report.open_items
        ],
        "books": {
            "checked": books.checked,
            "calls": books.calls,
            "read": books.read,
            "api": books.api,
            "budget_left": books.budget_left,
            "skipped_reason": books.skipped_reason,
            "open": books.open_count,
            "missing": [_diff(d, "missing") for d in books.missing],
            "changed": [_diff(d, "changed") for d in books.changed],
            "unknown": [_diff(d, "unknown") for d in books.unknown],
        },
        "vat_return": {
            key: {
                "turnover": money(report.vat_return.rubrieken.get(key, Amounts()).turnover),
                "vat": money(report.vat_return.rubrieken.get(key, Amounts()).vat),
            }
            for key in RUBRIEKEN
        },
        "vat_return_source": report.vat_return.source,
        "vat_outside_return": {
            "turnover": money(report.vat_return.outside.turnover),
            "vat": money(report.vat_return.outside.vat),
        },
        "icp": [
            {
                "vat_number": i.vat_number,
                "country": i.country,
                "amount": money(i.amount),
                "goods": money(i.goods),
                "services": money(i.services),
            }
            for i in report.vat_return.icp
        ],
        "oss": [
            {
                "country": o.country,
                "rate": rate_text(o.rate),
                "turnover": money(o.turnover),
                "vat": money(o.vat),
            }
            for o in report.vat_return.oss
        ],
        "months": [
            {
                "month": f"{m.year}-{m.month:02d}",
                "shop": money(m.shop),
                "booked": money(m.booked),
                "books": money(m.books),
            }
            for m in report.months
        ],
    }
    for key in FINDING_LISTS:
        data[key] = [
            {
                "number": f.number,
                "status": f.status,
                "state": f.state,
                "reason": f.reason,
                "booked": money(f.booked),
                "current": money(f.current),
                "needs_action": f.needs_action,
                "date": f.date.isoformat() if f.date else None,
            }
            for f in getattr(report, key)
        ]
    return data


def _diff(d: BookDiff, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "order_number": d.order_number,
        "invoice_number": d.invoice_number,
        "mutation_number": d.mutation_number,
    }
    if kind == "changed":
        out.update(booked=money(d.booked), in_books=money(d.in_books))
    if kind == "unknown":
        out["amount"] = money(d.in_books)
    out.update(
        reason=d.reason,
        date=d.date.isoformat() if d.date else None,
        accord=None
        if d.accord is None
        else {"note": d.accord.note, "by": d.accord.by, "at": d.accord.at.isoformat()},
        open=d.open,
    )
    return out
