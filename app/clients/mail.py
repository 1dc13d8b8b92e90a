"""Mail over SMTP (``SMTP_URL``, ``ALERT_FROM``; off when either is unset): the alert mails
(app/booking/alerts.py) and invitations (app/accounts/invitations.py) go out here."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from app.config import SMTP_TIMEOUT_SECONDS, Settings, parse_smtp_url


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
