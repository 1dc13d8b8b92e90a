"""``SMTP_URL`` read properly (app/config.py): STARTTLS by default on 587, and never an SMTP
password over plain SMTP. The probe: the password crossed in clear unless the query was
exactly ``starttls=1`` (``?starttls=true`` meant plain)."""

from __future__ import annotations

import dataclasses
import re
import smtplib

import pytest

from app.booking.alerts import send_mail, smtp_config
from app.config import Settings, SmtpUrl, parse_smtp_url
from app.errors import ConfigError
from tests.smtp_server import smtp_server

GOOD = [
    ("smtp://mail.example.nl", SmtpUrl("mail.example.nl", 25, "")),
    ("smtp://127.0.0.1:2525", SmtpUrl("127.0.0.1", 2525, "")),
    ("smtp://mail.example.nl:587", SmtpUrl("mail.example.nl", 587, "starttls")),
    ("smtp://u:p@mail.example.nl:587", SmtpUrl("mail.example.nl", 587, "starttls", "u", "p")),
    ("smtp://u:p@mail.example.nl", SmtpUrl("mail.example.nl", 587, "starttls", "u", "p")),
    (
        "smtp://u:p@mail.example.nl:25?starttls=true",
        SmtpUrl("mail.example.nl", 25, "starttls", "u", "p"),
    ),
    (
        "smtp://u:p@mail.example.nl:2525?starttls=1",
        SmtpUrl("mail.example.nl", 2525, "starttls", "u", "p"),
    ),
    (
        "smtp://u:p@mail.example.nl:25?starttls=Yes",
        SmtpUrl("mail.example.nl", 25, "starttls", "u", "p"),
    ),
    ("smtp://mail.example.nl:587?starttls=no", SmtpUrl("mail.example.nl", 587, "")),
    (
        "smtps://u%40x.nl:p%3Aw@mail.example.nl",
        SmtpUrl("mail.example.nl", 465, "ssl", "u@x.nl", "p:w"),
    ),
    ("smtps://mail.example.nl:2465", SmtpUrl("mail.example.nl", 2465, "ssl")),
]
BAD = [
    ("smtp://u:p@mail.example.nl:25", "plain SMTP"),
    ("smtp://u:p@mail.example.nl:587?starttls=no", "plain SMTP"),
    ("smtp://u:p@mail.example.nl:25?starttls=0", "plain SMTP"),
    ("smtp://mail.example.nl?starttls=maybe", "starttls=yes"),
    ("smtp://mail.example.nl?tls=1", "unknown option"),
    ("smtps://mail.example.nl?starttls=1", "drop ?starttls"),
    ("smtp://mail.example.nl:99999", "port"),
    ("http://mail.example.nl", "must look like"),
    ("smtp://", "must look like"),
]


@pytest.mark.parametrize(("url", "expected"), GOOD)
def test_good_urls(url: str, expected: SmtpUrl) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(("url", "fragment"), BAD)
def test_bad_urls_stop_start_up(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        parse_smtp_url(url)
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        Settings.from_env({"SMTP_URL": url})


def test_the_password_is_not_in_repr() -> None:
    assert "geheim" not in repr(parse_smtp_url("smtps://u:geheim@mail.example.nl"))


def test_starttls_asked_of_a_server_without_it_sends_nothing() -> None:
    """A real SMTP server that offers no STARTTLS: the mail is not sent, and neither is
    the password (smtplib stops before AUTH)."""
    with smtp_server() as (inbox, url):
        settings = dataclasses.replace(
            Settings(), smtp_url=f"smtp://u:geheim@{url[7:]}?starttls=yes", alert_from="a@b.nl"
        )
        config = smtp_config(settings)
        assert config is not None and config.tls == "starttls"
        with pytest.raises(smtplib.SMTPNotSupportedError):
            send_mail(config, ["c@d.nl"], "onderwerp", "tekst")
        assert inbox.messages == []
