"""Alert mails over SMTP (``SMTP_URL``, ``ALERT_FROM``; off when either is unset).

- ``send_digest``: per shop, the failures not reported yet, at most once an hour
  (``ALERT_DIGEST_INTERVAL``); the clock enqueues ``digest_all`` every hour and the mark in
  ``alert_marks`` remembers the last attempt reported.
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
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from app.booking.names import one_line
from app.config import (
    ALERT_DIGEST_INTERVAL,
    DAY,
    SMTP_TIMEOUT_SECONDS,
    Settings,
    parse_smtp_url,
)
from app.errors import BookkeepingAuthError, ConfigError, ShopAuthError, UpstreamRejectedError
from app.services import Services
from app.store.alerts import CREDENTIALS, DIGEST
from app.store.db import utcnow
from app.store.shops import Shop

log = logging.getLogger(__name__)
DIGEST_MAX_LISTED = 50
LOCAL = "Europe/Amsterdam"


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    tls: str  # "ssl" | "starttls" | ""
    username: str
    password: str = field(repr=False)
    sender: str = ""


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """``SMTP_URL`` as ``parse_smtp_url`` reads it (app/config.py), with ``ALERT_FROM``;
    None = off. Raises ``ConfigError`` for an URL that start-up would have refused."""
    if not settings.smtp_url or not settings.alert_from:
        return None
    url = parse_smtp_url(settings.smtp_url)
    return SmtpConfig(url.host, url.port, url.tls, url.username, url.password, settings.alert_from)


def send_mail(config: SmtpConfig, recipients: list[str], subject: str, body: str) -> int:
    """One message per recipient (nobody sees the others' addresses); returns how many."""
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config.tls == "ssl":
        smtp = smtplib.SMTP_SSL(
            config.host, config.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=SMTP_TIMEOUT_SECONDS)
    with smtp:
        if config.tls == "starttls":
            smtp.starttls(context=context)
        if config.username:
            smtp.login(config.username, config.password)
        for to in recipients:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = config.sender, to, subject
            message["Date"] = formatdate(localtime=False)
            message["Message-ID"] = make_msgid(domain="mww-eboekhouden")
            message.set_content(body)
            smtp.send_message(message)
    return len(recipients)


def _local(at: dt.datetime) -> str:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo(LOCAL)).strftime("%d-%m-%Y %H:%M")


def send_digest(services: Services, shop: Shop, now: dt.datetime | None = None) -> int:
    """Mail the shop's new failures to who opted in; returns the number of mails sent."""
    config = smtp_config(services.settings)
    if config is None:
        return 0
    now = now or utcnow()
    mark = services.store.alerts.mark(shop.id, DIGEST)
    if mark.sent_at and now - mark.sent_at < dt.timedelta(seconds=ALERT_DIGEST_INTERVAL):
        return 0
    failures = services.store.history.failures_after(shop.id, mark.reported_upto)
    if not failures:
        return 0
    recipients = services.store.alerts.recipients(shop.id, DIGEST)
    if not recipients:
        return 0  # nothing marked: whoever opts in later still hears of these
    base = services.settings.public_base_url
    lines = [
        "Goedendag,",
        "",
        f"Sinds het vorige overzicht zijn {len(failures)} boekingen van "
        f"'{shop.name}' mislukt. Ze wachten op u: pas zo nodig de instellingen aan "
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
    lines += [
        "",
        f"Alle mislukte boekingen: {base}/koppelingen/{shop.id}?status=mislukt",
        "",
        "U krijgt deze mail omdat u dit heeft gekozen onder 'Meldingen'.",
        f"Afmelden: {base}/meldingen",
    ]
    sent = send_mail(
        config,
        recipients,
        f"[{one_line(shop.name)}] {len(failures)} mislukte "
        f"boeking{'en' if len(failures) != 1 else ''}",
        "\n".join(lines),
    )
    services.store.alerts.set_mark(shop.id, DIGEST, reported_upto=failures[-1].id, sent_at=now)
    log.info("alert digest sent", extra={"shop_id": shop.id, "mails": sent})
    return sent


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
                "Daarna boekt de koppeling de gemiste bestellingen vanzelf alsnog.",
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
