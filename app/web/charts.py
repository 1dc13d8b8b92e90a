"""The charts, as server-rendered SVG with the numbers in a table beside them (readable
without JavaScript, and by screen readers). Overzicht: bookings per day over the last 30
days by state, and turnover (excl. VAT) per BTW code per month. Controle: the shop against
the connector and the books per month (bars side by side), and open items per month."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from markupsafe import Markup, escape

from app.report.model import Report
from app.report.period import MONTHS
from app.states import BookingState
from app.store import Store
from app.store.engine import utcnow
from app.web.filters import LOCAL_TZ, money

DAYS = 30
MONTHS_SHOWN = 6
STATE_GROUPS = (
    ("Geboekt", (BookingState.BOOKED,), "#2e7d32"),
    ("Mislukt", (BookingState.FAILED,), "#c62828"),
    ("Wachtend", (BookingState.POSTING, BookingState.RETRYING), "#ef6c00"),
    ("Overgeslagen", (BookingState.SKIPPED,), "#9e9e9e"),
)
PALETTE = ("#1565c0", "#6a1b9a", "#00838f", "#ad1457", "#558b2f", "#4e342e", "#f9a825", "#37474f")
WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 220, 48, 28, 10


@dataclass
class Chart:
    title: str
    labels: list[str]  # x axis
    series: list[tuple[str, str]]  # (name, colour)
    values: list[list[Decimal]]  # per label, per series
    money: bool = False
    svg: Markup = field(default_factory=lambda: Markup(""))
    stacked: bool = True  # False: the series side by side (a comparison)

    def cell(self, value: Decimal) -> str:
        return money(value) if self.money else str(int(value))

    def totals(self) -> list[Decimal]:
        return [sum(row, Decimal(0)) for row in self.values]


def _nice_max(value: Decimal) -> Decimal:
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return Decimal(step) * magnitude
    return value


def render_svg(chart: Chart, label_every: int = 1) -> Markup:
    """Stacked bars; negative values (credit notes) are drawn as zero height and stay
    visible in the table."""
    highest = max(
        [
            sum((v for v in row if v > 0), Decimal(0))
            if chart.stacked
            else max(row, default=Decimal(0))
            for row in chart.values
        ]
        or [Decimal(0)]
    )
    # Counts: a multiple of 4, so the four grid steps are whole numbers.
    top = _nice_max(highest) if chart.money else Decimal(max(4, -(-int(highest) // 4) * 4))
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = plot_w / max(1, len(chart.labels))
    bar = max(2.0, slot * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-label="{escape(chart.title)}">'
    ]
    for i in range(5):
        y = PAD_TOP + plot_h * i / 4
        value = top * (4 - i) / 4
        text = money(value) if chart.money else f"{value:.0f}"
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{PAD_LEFT - 4}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="10">{escape(text.replace("€ ", ""))}</text>'
        )
    for i, (label, row) in enumerate(zip(chart.labels, chart.values, strict=True)):
        x = PAD_LEFT + slot * i + (slot - bar) / 2
        base = float(PAD_TOP + plot_h)
        width = bar if chart.stacked else bar / max(1, len(chart.series))
        for n, ((name, colour), value) in enumerate(zip(chart.series, row, strict=True)):
            if value <= 0:
                continue
            h = float(value / top) * plot_h
            left = x if chart.stacked else x + n * width
            y = base - h
            if chart.stacked:
                base = y
            parts.append(
                f'<rect x="{left:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(label)}: '
                f"{escape(name)} {escape(chart.cell(value))}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
                f'font-size="10">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bookings_per_day(store: Store, shop_id: int, today: dt.date) -> Chart:
    first = today - dt.timedelta(days=DAYS - 1)
    since = dt.datetime.combine(first, dt.time(), LOCAL_TZ)
    counts: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    group_of = {state: name for name, states, _ in STATE_GROUPS for state in states}
    for at, state in store.history.activity_since(shop_id, since):
        counts[at.astimezone(LOCAL_TZ).date()][group_of[state]] += 1
    days = [first + dt.timedelta(days=i) for i in range(DAYS)]
    chart = Chart(
        "Boekingen per dag, laatste 30 dagen",
        [f"{d.day}-{d.month}" for d in days],
        [(name, colour) for name, _, colour in STATE_GROUPS],
        [[Decimal(counts[d][name]) for name, _, _ in STATE_GROUPS] for d in days],
    )
    chart.svg = render_svg(chart, label_every=3)
    return chart


def turnover_per_month(store: Store, shop_id: int, today: dt.date) -> Chart:
    start = today.replace(day=1)
    for _ in range(MONTHS_SHOWN - 1):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    sums: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    codes: set[str] = set()
    for day, code, excl in store.history.turnover_by_day(shop_id, start, today):
        sums[(day.year, day.month)][code] += excl
        codes.add(code)
    months, day = [], start
    while day <= today:
        months.append((day.year, day.month))
        day = (day + dt.timedelta(days=32)).replace(day=1)
    ordered = sorted(codes)
    chart = Chart(
        "Omzet excl. btw per btw-code per maand",
        [f"{MONTHS[m - 1][:3]} {y}" for y, m in months],
        [(code, PALETTE[i % len(PALETTE)]) for i, code in enumerate(ordered)],
        [[sums[key][code] for code in ordered] for key in months],
        money=True,
    )
    chart.svg = render_svg(chart)
    return chart


def shop_charts(store: Store, shop_id: int) -> list[Chart]:
    today = utcnow().astimezone(LOCAL_TZ).date()
    return [bookings_per_day(store, shop_id, today), turnover_per_month(store, shop_id, today)]


OPEN_KINDS = (
    ("Niet geboekt", "#c62828"),
    ("Gewijzigd na boeken", "#ef6c00"),
    ("Niet in de winkel", "#f9a825"),
    ("Ontbreekt in boekhouding", "#6a1b9a"),
    ("Gewijzigd in boekhouding", "#ad1457"),
    ("Onbekend in boekhouding", "#4e342e"),
    ("Onbetaald of vastgehouden", "#00838f"),
)


def control_charts(report: Report) -> list[Chart]:
    """The Controle page's two charts for ``report``."""
    labels = [f"{MONTHS[m.month - 1][:3]} {m.year}" for m in report.months]
    every = 1 if len(labels) <= 12 else 2
    series = [("Winkel", "#1565c0"), ("Koppeling", "#2e7d32")]
    read = report.books.checked
    if read:
        series.append(("Boekhouding", "#6a1b9a"))
    amounts = Chart(
        "Bestellingen van de winkel, geboekt door de koppeling"
        + (" en in de boekhouding" if read else "")
        + " per maand (incl. btw)",
        labels,
        series,
        [[m.shop, m.booked, *([m.books or Decimal(0)] if read else [])] for m in report.months],
        money=True,
        stacked=False,
    )
    amounts.svg = render_svg(amounts, label_every=every)
    index = {(m.year, m.month): i for i, m in enumerate(report.months)}
    counts = [[Decimal(0)] * len(OPEN_KINDS) for _ in report.months]
    dated: list[tuple[int, list[dt.date | None]]] = [
        (0, [f.date for f in report.not_booked if f.needs_action]),
        (1, [f.date for f in report.changed]),
        (2, [f.date for f in report.not_in_shop]),
        (3, [d.date for d in report.books.missing if d.open]),
        (4, [d.date for d in report.books.changed if d.open]),
        (5, [d.date for d in report.books.unknown if d.open]),
        (6, [i.date for i in report.open_items]),
    ]
    for kind, days in dated:
        for day in days:
            if day is not None and (day.year, day.month) in index:
                counts[index[(day.year, day.month)]][kind] += 1
    items = Chart("Open punten per maand", labels, list(OPEN_KINDS), counts)
    items.svg = render_svg(items, label_every=every)
    return [amounts, items]
