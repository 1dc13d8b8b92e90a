"""PURE: book the VAT per rate that the order states (``price.tax``), row by row.

Every row keeps the standard relation VAT = round(incl × p / (100 + p)), half-up, so the
booking comes out the same whether or not e-Boekhouden recomputes a row's VAT from its
amount and code. Rounding per row can still miss the invoice's VAT for a rate that is
spread over several rows (article on 8010 + shipping on 8000), or that the shop rounded
per line. Then a row is split in two on the same ledger, first at an order line's
boundary (or into one row per order line when that is how the shop rounded), else by
splitting off small equal amounts, until the rate's VAT is the invoice's. Only when no
split on the rows' own ledgers can carry it (tiny amounts) does one cent move between two
of the rate's ledgers. The VAT per rate and the total never move. See
docs/booking-rules.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from app.core.mutations import CENT, MutationRow, euro
from app.errors import MappingError

ZERO = Decimal("0")
# Small rows are looked for among the first amounts of a row; the rounding pattern of a
# rate with up to two decimals repeats within 10,000 + 100 × rate cents.
MAX_CENT_SEARCH = 12_500
MAX_PIECES = 12


def vat_of(incl: Decimal, rate: Decimal) -> Decimal:
    """The standard relation: incl × rate / (100 + rate), half-up (away from zero)."""
    vat = (incl * rate / (Decimal(100) + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    return abs(vat) if vat == ZERO else vat  # credits: 0.00, never -0.00, on the wire


def standard_row(code: str, ledger: str, rate: Decimal, incl: Decimal) -> MutationRow:
    vat = vat_of(incl, rate)
    return MutationRow(
        amount_incl=incl,
        amount_excl=incl - vat,
        amount_vat=vat,
        btw_code=code,
        btw_percentage=rate,
        ledger=ledger,
    )


@dataclass(frozen=True, slots=True)
class Bucket:
    """The slices of one (BTW code, ledger, rate), in order-line order, already signed."""

    code: str
    ledger: str
    rate: Decimal
    parts: tuple[Decimal, ...]

    @property
    def amount(self) -> Decimal:
        return sum(self.parts, ZERO)

    def row(self) -> MutationRow:
        return standard_row(self.code, self.ledger, self.rate, self.amount)


def stated_vat(
    tax: dict[Decimal, Decimal], lines: dict[Decimal, list[Decimal]]
) -> dict[Decimal, Decimal]:
    """``price.tax`` per rate, signed as the booking needs it (``lines``: the rate's
    slices, already signed like the booking). Shops may send the VAT unsigned, so its sign
    is chosen, not read: the sign whose amount is the lines' own VAT, rounded per line or
    per rate; else, as before, the sign of the rate's amount incl. VAT (its VAT may round
    to 0.00 while the invoice states a cent: a credit note of -0.02 at 21%).

    Not simply the lines' sign (issue 22): when a discount almost cancels the order
    (62.53 - 31.26 - 31.26 = 0.01 at 21%), the invoice rounded per line states -0.01 VAT
    on a positive total, and +0.01 would book VAT the invoice does not have."""
    signed: dict[Decimal, Decimal] = {}
    for rate, vat in tax.items():
        slices = lines.get(rate, [])
        incl = sum(slices, ZERO)
        natural = {vat_of(incl, rate), sum((vat_of(s, rate) for s in slices), ZERO)}
        fits = [c for c in (abs(vat), -abs(vat)) if c in natural]
        if len(fits) == 1:
            signed[rate] = fits[0]
        else:  # neither sign is the lines' own VAT, or both are: the lines' sign
            signed[rate] = -abs(vat) if incl < ZERO else abs(vat)
    return signed


def allocate(
    order_number: str, buckets: list[Bucket], tax: dict[Decimal, Decimal] | None
) -> tuple[MutationRow, ...]:
    """The rows for ``buckets``, their VAT per rate equal to ``tax`` (rate → VAT, as the
    order states it). ``None`` (the order states no VAT per rate) books the standard
    rows. Raises ``MappingError`` when the order's VAT cannot be the lines' VAT."""
    if tax is None:
        return tuple(b.row() for b in buckets if b.amount != ZERO)
    per_rate: dict[Decimal, list[Bucket]] = defaultdict(list)
    for bucket in buckets:
        per_rate[bucket.rate].append(bucket)
    lines_incl = {rate: sum((b.amount for b in group), ZERO) for rate, group in per_rate.items()}
    lines_vat = {rate: vat_of(incl, rate) for rate, incl in lines_incl.items()}
    target = stated_vat(tax, {r: [p for b in g for p in b.parts] for r, g in per_rate.items()})
    for rate, vat in target.items():
        if rate not in per_rate and vat != ZERO:
            raise MappingError(
                f"Bestelling {order_number} vermeldt {euro(vat)} btw tegen "
                f"{_pct(rate)}%, maar heeft geen orderregels met dat tarief. De bestelling "
                "wordt niet geboekt; controleer haar in Mijnwebwinkel."
            )
    placed: dict[int, list[Bucket]] = {}
    for rate, group in per_rate.items():
        wanted = target.get(rate, ZERO)
        lines = sum(len(b.parts) for b in group)
        _check_close(order_number, rate, lines, lines_vat[rate], wanted)
        split = _split_to(group, wanted)
        if split is None:
            raise MappingError(
                f"Bestelling {order_number} vermeldt {euro(wanted)} btw tegen "
                f"{_pct(rate)}%; met deze bedragen kan geen enkele boekingsregel daarop "
                "uitkomen. Boek deze bestelling met de hand."
            )
        for bucket, pieces in zip(group, split, strict=True):
            placed[id(bucket)] = pieces
    return tuple(
        piece.row() for bucket in buckets for piece in placed[id(bucket)] if piece.amount != ZERO
    )


def _check_close(
    order_number: str, rate: Decimal, lines: int, lines_vat: Decimal, wanted: Decimal
) -> None:
    """The order's VAT for a rate may differ from its lines' by one cent per line."""
    if abs(wanted - lines_vat) > lines * CENT:
        raise MappingError(
            f"De orderregels van bestelling {order_number} geven {euro(lines_vat)} btw "
            f"tegen {_pct(rate)}%, maar de bestelling vermeldt {euro(wanted)}: meer dan "
            "één cent per orderregel verschil. De bestelling wordt niet geboekt; controleer "
            "haar in Mijnwebwinkel."
        )


def _pct(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def _vat(pieces: list[Bucket]) -> Decimal:
    return sum((vat_of(p.amount, p.rate) for p in pieces), ZERO)


def _split_to(group: list[Bucket], wanted: Decimal) -> list[list[Bucket]] | None:
    """Per bucket, the rows it becomes so that the group's VAT is ``wanted``; as a last
    resort one cent moves between two of the rate's ledgers (tiny amounts on two ledgers
    whose rows cannot carry the rate's VAT otherwise)."""
    found = _split_within(group, wanted)
    if found is not None:
        return found
    for source in range(len(group)):
        for target in range(len(group)):
            moved = _move_cent(group, source, target)
            found = None if moved is None else _split_within(moved, wanted)
            if found is not None:
                return found
    return None


def _move_cent(group: list[Bucket], source: int, target: int) -> list[Bucket] | None:
    """``group`` with one cent of amount moved from ``source`` to ``target`` (same sign
    side: a row may shrink to nothing, never change sign)."""
    if source == target or group[source].amount == ZERO:
        return None
    cent = CENT if group[source].amount > ZERO else -CENT
    if group[target].amount * cent < ZERO:
        return None
    moved = list(group)
    moved[source] = _with_cent(group[source], -cent)
    moved[target] = _with_cent(group[target], cent)
    return moved


def _with_cent(bucket: Bucket, cent: Decimal) -> Bucket:
    """``bucket`` with ``cent`` added to its largest part (a part the size of the move
    may become nothing; no part changes sign)."""
    if not bucket.parts:
        return Bucket(bucket.code, bucket.ledger, bucket.rate, (cent,))
    index = max(range(len(bucket.parts)), key=lambda i: abs(bucket.parts[i]))
    parts = list(bucket.parts)
    parts[index] += cent
    return Bucket(bucket.code, bucket.ledger, bucket.rate, tuple(parts))


def _split_within(group: list[Bucket], wanted: Decimal) -> list[list[Bucket]] | None:
    """Per bucket, rows on its own ledger so that the group's VAT is ``wanted``."""
    pieces = [[b] for b in group]
    for _ in range(sum(len(b.parts) for b in group) + 1):
        missing = wanted - sum((_vat(p) for p in pieces), ZERO)
        if missing == ZERO:
            return pieces
        if not _split_at_line(pieces, CENT if missing > ZERO else -CENT):
            break
    per_line = [
        [Bucket(b.code, b.ledger, b.rate, (part,)) for part in b.parts if part] for b in group
    ]
    if sum((_vat(p) for p in per_line), ZERO) == wanted:
        return per_line  # the shop rounded per line: one row per order line
    return pieces if _split_off_cents(pieces, wanted) else None


def _gain(whole: Bucket, part: Decimal) -> Decimal:
    rest = whole.amount - part
    return vat_of(part, whole.rate) + vat_of(rest, whole.rate) - vat_of(whole.amount, whole.rate)


def _split_at_line(pieces: list[list[Bucket]], step: Decimal) -> bool:
    """Split one order line off a row when that moves the rate's VAT by ``step``."""
    for rows in pieces:
        for index, row in enumerate(rows):
            for position, part in enumerate(row.parts):
                rest = row.parts[:position] + row.parts[position + 1 :]
                if part == ZERO or sum(rest, ZERO) == ZERO or _gain(row, part) != step:
                    continue
                halves = [
                    Bucket(row.code, row.ledger, row.rate, rest),
                    Bucket(row.code, row.ledger, row.rate, (part,)),
                ]
                rows[index : index + 1] = halves[::-1] if position == 0 else halves
                return True
    return False


def _split_off_cents(pieces: list[list[Bucket]], wanted: Decimal) -> bool:
    """Split k equal small amounts off one row (same ledger) so that the VAT comes out at
    ``wanted``: each small row's rounding moves the total by up to half a cent."""
    current = sum((_vat(p) for p in pieces), ZERO)
    most = min(int(abs(wanted - current) / CENT) * 2 + 2, MAX_PIECES)
    for count in range(1, most + 1):
        for rows in pieces:
            for index, row in enumerate(rows):
                amount = row.amount
                unit = CENT if amount > ZERO else -CENT
                base = current - vat_of(amount, row.rate)
                limit = min(int(abs(amount) / CENT) // (count + 1), MAX_CENT_SEARCH)
                for cents in range(1, limit + 1):
                    part = unit * cents
                    rest = amount - part * count
                    total = base + vat_of(rest, row.rate) + vat_of(part, row.rate) * count
                    if total == wanted:
                        rows[index : index + 1] = [
                            Bucket(row.code, row.ledger, row.rate, (rest,)),
                            *[Bucket(row.code, row.ledger, row.rate, (part,))] * count,
                        ]
                        return True
    return False


def oss_rows(
    order_number: str,
    buckets: list[Bucket],
    tax: dict[Decimal, Decimal] | None,
    vat_ledgers: dict[tuple[str, str, Decimal], str],
    country: str = "",
) -> tuple[MutationRow, ...]:
    """OSS (e-Boekhouden has no OSS code): per rate, the net revenue on the country's OSS
    revenue ledger at 0% and the destination country's VAT as its own 0% row on the
    "te betalen OSS-btw" ledger. The VAT is the order's own per rate. Every row carries
    ``country`` and the rate (``oss_country``, ``oss_rate``: never sent) for the OSS
    return."""
    per_rate: dict[Decimal, list[Bucket]] = defaultdict(list)
    for bucket in buckets:
        per_rate[bucket.rate].append(bucket)
    rows: list[MutationRow] = []
    for rate, group in per_rate.items():
        incl = sum((b.amount for b in group), ZERO)
        lines_vat = vat_of(incl, rate)
        wanted = lines_vat
        if tax is not None:
            parts = [p for b in group for p in b.parts]
            wanted = stated_vat({rate: tax.get(rate, ZERO)}, {rate: parts})[rate]
            lines = sum(len(b.parts) for b in group)
            _check_close(order_number, rate, lines, lines_vat, wanted)
        shares = [vat_of(b.amount, rate) for b in group]
        largest = max(range(len(group)), key=lambda i: abs(group[i].amount))
        shares[largest] += wanted - sum(shares, ZERO)
        for bucket, share in zip(group, shares, strict=True):
            if bucket.amount - share != ZERO:
                row = standard_row(bucket.code, bucket.ledger, ZERO, bucket.amount - share)
                rows.append(replace(row, oss_country=country, oss_rate=rate))
        ledger = vat_ledgers[(group[0].code, group[0].ledger, rate)]
        if wanted != ZERO:
            row = standard_row("GEEN", ledger, ZERO, wanted)
            rows.append(replace(row, oss_country=country, oss_rate=rate, oss_vat=True))
    return tuple(rows)
