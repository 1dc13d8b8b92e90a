"""Alert mails over SMTP (``SMTP_URL``, ``ALERT_FROM``; off when either is unset).

- ``send_digest``: per shop, the failures not reported yet, the orders booked with a note
  for a person (an ICP sale on the buyer's own relation, …), and the money that became open
  since the last digest (a payment or refund held back or refused, an invoice still unpaid
  when the shop's payment lookback ends: app/store/open_items.py), at most once an hour
  (``ALERT_DIGEST_INTERVAL``); the clock enqueues ``digest_all`` every hour and the marks in
  ``alert_marks`` remember the last attempt reported and when the open items were.
- ``credentials_refused``: at once when Mijnwebwinkel or e-Boekhouden refuses a shop's
  credentials; at most one such mail per shop a day.

Mails go only to users who opted in on "Meldingen" (app/web/alerts.py). No secret ever
goes into a mail: the texts are built from the shop's name, order numbers and the Dutch
explanations, never from credentials, tokens or technical error texts.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from app.booking.names import one_line
from app.clients.mail import SmtpConfig as SmtpConfig
from app.clients.mail import send_mail as send_mail
from app.clients.mail import smtp_config as smtp_config
from app.config import ALERT_DIGEST_INTERVAL, DAY
from app.core.checks import FOR_INFORMATION
from app.errors import BookkeepingAuthError, ConfigError, ShopAuthError, UpstreamRejectedError
from app.services import Services
from app.states import OpenItemKind
from app.store.alerts import CREDENTIALS, DIGEST, OPEN_ITEMS
from app.store.booking_records import BookingNote
from app.store.engine import utcnow
from app.store.history_records import FailedAttempt
from app.store.open_items import OpenItem
from app.store.shops import Shop

log = logging.getLogger(__name__)
DIGEST_MAX_LISTED = 50
LOCAL = "Europe/Amsterdam"


def send_test(services: Services, email: str) -> tuple[bool, str]:
    """A test mail to ``email`` (the "Meldingen" page): (sent, the Dutch problem if not)."""
    try:
        config = smtp_config(services.settings)
    except ValueError:
        return False, (
            "De mailserver is verkeerd ingesteld (SMTP_URL). Vraag de beheerder van de "
            "koppeling om dit te controleren."
        )
    if config is None:
        return False, (
            "Er worden geen e-mails verstuurd: de beheerder heeft nog geen mailserver "
            "ingesteld (SMTP_URL en ALERT_FROM)."
        )
    base = services.settings.public_base_url
    body = "\n".join(
        [
            "Goedendag,",
            "",
            "Dit is een testmail van de koppeling Mijnwebwinkel → e-Boekhouden.nl. Komt hij "
            "aan, dan komen de meldingen die u kiest ook aan.",
            "",
            f"Uw meldingen: {base}/meldingen",
        ]
    )
    try:
        send_mail(config, [email], "Testmail van de koppeling", body)
    except (OSError, smtplib.SMTPException) as err:
        log.warning("test mail not sent: %s", type(err).__name__)
        return False, (
            "De testmail kon niet worden verstuurd: de mailserver is niet bereikbaar of "
            "weigert hem. Probeer het later opnieuw, of vraag de beheerder van de koppeling "
            "de instellingen van de mailserver (SMTP_URL) te controleren."
        )
    return True, ""


def _local(at: dt.datetime) -> str:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(LOCAL)).strftime("%d-%m-%Y %H:%M")


def send_digest(services: Services, shop: Shop, now: dt.datetime | None = None) -> int:
    """Mail the shop's new failures, the booked orders whose booking carries a note for
    a person (an ICP sale on the buyer's own relation, …) and the money that became open
    since the last digest, to who opted in; returns the number of mails sent."""
    config = smtp_config(services.settings)
    if config is None:
        return 0
    now = now or utcnow()
    mark = services.store.alerts.mark(shop.id, DIGEST)
    if mark.sent_at and now - mark.sent_at < dt.timedelta(seconds=ALERT_DIGEST_INTERVAL):
        return 0
    attempts = services.store.history.failures_after(shop.id, mark.reported_upto)
    # One line per order that is still failed (its latest attempt): an order that failed
    # three times is one order to look at, and one fixed since is none.
    latest = {a.booking_id: a for a in attempts if a.still_failed}
    failures = sorted(latest.values(), key=lambda a: a.id)
    noted = services.store.bookings.notes_after(shop.id, mark.reported_upto)
    notes = [n for n in noted if _to_check(n.notes)]
    items = new_open_items(services, shop, now)
    if not failures and not notes and not items:
        return 0  # nothing marked: what is fixed stays fixed, new failures come later
    recipients = services.store.alerts.recipients(shop.id, DIGEST)
    if not recipients:
        return 0  # nothing marked: whoever opts in later still hears of these
    base = services.settings.public_base_url
    lines = ["Goedendag,", ""]
    if failures:
        lines += _failure_lines(failures, shop, base)
    if notes:
        lines += _note_lines(notes, shop, base)
    lines += _open_item_lines(shop, items, base)
    lines += [
        "U krijgt deze mail omdat u dit heeft gekozen onder 'Meldingen'.",
        f"Afmelden: {base}/meldingen",
    ]
    subject = _subject(shop, len(failures), len(notes), len(items))
    sent = send_mail(config, recipients, subject, "\n".join(lines))
    upto = max([mark.reported_upto, *(x.id for x in attempts), *(n.attempt_id for n in noted)])
    services.store.alerts.set_mark(shop.id, DIGEST, reported_upto=upto, sent_at=now)
    services.store.alerts.set_mark(shop.id, OPEN_ITEMS, reported_upto=0, sent_at=now)
    log.info("alert digest sent", extra={"shop_id": shop.id, "mails": sent})
    return sent


def _failure_lines(failures: list[FailedAttempt], shop: Shop, base: str) -> list[str]:
    many = len(failures) != 1
    lines = [
        f"Sinds het vorige overzicht {'zijn' if many else 'is'} {len(failures)} "
        f"bestelling{'en' if many else ''} van '{shop.name}' niet geboekt. "
        f"{'Ze wachten' if many else 'Ze wacht'} op u: pas zo nodig de instellingen aan "
        "en kies daarna 'Opnieuw proberen'.",
        "",
    ]
    for failure in failures[:DIGEST_MAX_LISTED]:
        lines.append(
            f"- Bestelling {failure.order_number} ({_local(failure.at)}): "
            f"{failure.reason or 'mislukt'}"
        )
        lines.append(f"  {base}/koppelingen/{shop.id}/boekingen/{failure.booking_id}")
    if len(failures) > DIGEST_MAX_LISTED:
        lines.append(f"… en nog {len(failures) - DIGEST_MAX_LISTED} andere.")
    return [*lines, "", f"Alle mislukte boekingen: {base}/koppelingen/{shop.id}?status=mislukt", ""]


def _to_check(notes: str) -> list[str]:
    """The notes that ask a person to look (informative ones stay on the booking)."""
    return [line for line in notes.splitlines() if not line.startswith(FOR_INFORMATION)]


def _note_lines(notes: list[BookingNote], shop: Shop, base: str) -> list[str]:
    lines = [
        f"Geboekt, met een melding om na te kijken ({len(notes)}):",
        "",
    ]
    for note in notes[:DIGEST_MAX_LISTED]:
        lines.append(f"- Bestelling {note.order_number} ({_local(note.at)}):")
        lines += [f"  {text}" for text in _to_check(note.notes)]
        lines.append(f"  {base}/koppelingen/{shop.id}/boekingen/{note.booking_id}")
    if len(notes) > DIGEST_MAX_LISTED:
        lines.append(f"… en nog {len(notes) - DIGEST_MAX_LISTED} andere.")
    return [*lines, ""]


# Open money the digest reports: what a person must act on. A part on "niet boeken" was
# chosen, an invoice past its term is still looked for: both only in the overview.
DIGEST_KINDS = (OpenItemKind.HELD, OpenItemKind.LAPSED)


def new_open_items(services: Services, shop: Shop, now: dt.datetime) -> list[OpenItem]:
    """Open items that became open since the last digest reported them (each once)."""
    from zoneinfo import ZoneInfo

    last = services.store.alerts.mark(shop.id, OPEN_ITEMS).sent_at
    items = services.store.payments.open_items(
        shop.id,
        now.astimezone(ZoneInfo(LOCAL)).date(),
        lookback_days=shop.mapping.lookback_days(services.settings.payment_lookback_days),
        term_days=shop.mapping.payment_term_days,
    )
    return [
        i
        for i in items
        if i.kind in DIGEST_KINDS and (last is None or i.since > last) and i.since <= now
    ]


def _open_item_lines(shop: Shop, items: list[OpenItem], base: str) -> list[str]:
    if not items:
        return []
    many = len(items) != 1
    lines = [
        f"Sinds het vorige overzicht {'vragen' if many else 'vraagt'} {len(items)} "
        f"betaling{'en' if many else ''} van '{shop.name}' aandacht: "
        f"{'ze zijn' if many else 'ze is'} niet geboekt, of het geld van de factuur is niet "
        "binnengekomen.",
        "",
    ]
    for item in items[:DIGEST_MAX_LISTED]:
        lines.append(f"- Bestelling {item.order_number}: {item.reason}")
        if item.booking_id is not None:
            lines.append(f"  {base}/koppelingen/{shop.id}/boekingen/{item.booking_id}")
    if len(items) > DIGEST_MAX_LISTED:
        lines.append(f"… en nog {len(items) - DIGEST_MAX_LISTED} andere.")
    lines += ["", f"Alle openstaande posten: {base}/koppelingen/{shop.id}#openstaand", ""]
    return lines


def _subject(shop: Shop, failures: int, notes: int, items: int) -> str:
    parts = []
    if failures:
        parts.append(f"{failures} mislukte boeking{'en' if failures != 1 else ''}")
    if notes:
        parts.append(f"{notes} boeking{'en' if notes != 1 else ''} om na te kijken")
    if items:
        verb = "vraagt" if items == 1 else "vragen"
        parts.append(f"{items} betaling{'en' if items != 1 else ''} {verb} aandacht")
    return f"[{one_line(shop.name)}] {', '.join(parts)}"


class DigestIncompleteError(Exception):
    """Some shops' digests failed (each logged); the others were sent."""


def digest_all(services: Services) -> int:
    """The hourly job: every shop's digest. One shop's failure (its mail, its data) does not
    stop the rest: it is logged, and the job fails at the end (the dashboard shows it) after
    every other shop had its turn. Shops that cannot be read are skipped (logged)."""
    sent, failed = 0, []
    for shop in services.store.shops.all():
        try:
            sent += send_digest(services, shop)
        except (OSError, smtplib.SMTPException, ConfigError) as err:  # ConfigError: SMTP_URL
            log.error("alert digest not sent: %s", type(err).__name__, extra={"shop_id": shop.id})
            failed.append(shop.id)
        except Exception:  # this shop's own data: never the others'
            log.exception("alert digest failed", extra={"shop_id": shop.id})
            failed.append(shop.id)
    if failed:
        raise DigestIncompleteError(f"{sent} mails sent; digests of shops {failed} failed")
    return sent


def credentials_refused(
    services: Services, shop: Shop, err: UpstreamRejectedError, now: dt.datetime | None = None
) -> int:
    """At once, when a system refuses the shop's credentials. Never raises."""
    if not isinstance(err, ShopAuthError | BookkeepingAuthError):
        return 0
    try:
        config = smtp_config(services.settings)
        if config is None:
            return 0
        now = now or utcnow()
        mark = services.store.alerts.mark(shop.id, CREDENTIALS)
        if mark.sent_at and now - mark.sent_at < dt.timedelta(seconds=DAY):
            return 0
        recipients = services.store.alerts.recipients(shop.id, CREDENTIALS)
        if not recipients:
            return 0
        system = "Mijnwebwinkel" if isinstance(err, ShopAuthError) else "e-Boekhouden.nl"
        base = services.settings.public_base_url
        body = "\n".join(
            [
                "Goedendag,",
                "",
                f"{system} weigert de inloggegevens van de koppeling '{shop.name}'. Zolang dat zo "
                "is, worden bestellingen niet geboekt.",
                "",
                f"Wat {system} meldt: {err.explanation}",
                "",
                f"Vul de juiste gegevens in: {base}/koppelingen/{shop.id}/gegevens",
                "Zodra de gegevens weer werken (na opslaan, of vanzelf: de koppeling test ze "
                "elke paar minuten opnieuw, dus een korte storing herstelt zich), boekt de "
                "koppeling de bestellingen die intussen zijn blijven liggen vanzelf alsnog. "
                "U hoeft niets opnieuw te proberen.",
                "",
                "U krijgt deze mail omdat u dit heeft gekozen onder 'Meldingen'.",
                f"Afmelden: {base}/meldingen",
            ]
        )
        sent = send_mail(
            config, recipients, f"[{one_line(shop.name)}] {system} weigert de inloggegevens", body
        )
        services.store.alerts.set_mark(shop.id, CREDENTIALS, reported_upto=0, sent_at=now)
        return sent
    except (OSError, smtplib.SMTPException, ValueError, ConfigError) as mail_err:
        log.error(
            "credentials alert not sent: %s", type(mail_err).__name__, extra={"shop_id": shop.id}
        )
        return 0
