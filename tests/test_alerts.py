"""Alert mails against a real SMTP server (aiosmtpd, started here): a failure digest to
who opted in, none to who did not, at most once an hour; an immediate mail when
e-Boekhouden refuses the credentials; never a secret in a mail."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest

from app.booking.alerts import digest_all, send_digest
from app.booking.pipeline import book_order
from app.store.alerts import AlertPref
from tests.helpers import (
    EB_CODE1,
    EB_CODE2,
    EB_USER,
    MWW_TOKEN,
    World,
    booking_row,
    warm_up_bookkeeping,
)
from tests.smtp_server import Inbox, smtp_server

OPTED_IN, NOT_OPTED_IN = "boekhouder@example.nl", "eigenaar@example.nl"
STRANGER = "buitenstaander@example.nl"  # opted in for all shops, owns none of them


@pytest.fixture
def mail(embedded_world: World) -> Iterator[tuple[World, Inbox]]:
    with smtp_server() as (inbox, url):
        world = embedded_world
        world.services.settings = dataclasses.replace(
            world.services.settings, smtp_url=url, alert_from="koppeling@example.nl"
        )
        users = world.services.store.users
        yes, no = users.create(OPTED_IN, "x"), users.create(NOT_OPTED_IN, "x")
        for owner in (yes, no):
            users.add_owner(world.shop.id, owner)
        world.services.store.alerts.save_prefs(
            yes, [AlertPref(world.shop.id, digest=True, credentials=True)]
        )
        stranger = users.create(STRANGER, "x")
        world.services.store.alerts.save_prefs(
            stranger, [AlertPref(None, digest=True, credentials=True)]
        )
        yield world, inbox


def _body(message) -> str:  # type: ignore[no-untyped-def]
    return (
        message.get_content()
        if hasattr(message, "get_content")
        else message.get_payload(decode=True).decode()
    )


def _assert_no_secrets(world: World, text: str) -> None:
    for secret in (MWW_TOKEN, EB_CODE1, EB_CODE2, world.webhook_secret):
        assert secret not in text


def test_a_failed_booking_reaches_the_opted_in_user_only(mail: tuple[World, Inbox]) -> None:
    world, inbox = mail
    world.add_order(7001, kind="oss")  # no BTW code for the OSS rate: fails
    assert book_order(world.services, world.shop, "7001").status == "failed"

    assert digest_all(world.services) == 1
    assert inbox.to(NOT_OPTED_IN) == []
    assert inbox.to(STRANGER) == []  # alerts go only to those who may see the shop
    [message] = inbox.to(OPTED_IN)
    assert message["From"] == "koppeling@example.nl"
    assert "Testwinkel" in message["Subject"] and "1 mislukte boeking" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert "Bestelling 7001" in body and "OSS" in body
    assert "http://connector.test/koppelingen/" in body
    _assert_no_secrets(world, message.as_string())

    # Nothing new: no second mail. A new failure within the hour waits for the next hour.
    assert digest_all(world.services) == 0
    world.add_order(7002, kind="oss")
    book_order(world.services, world.shop, "7002")
    assert digest_all(world.services) == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1, minutes=1)
    assert send_digest(world.services, world.shop, now=later) == 1
    second = inbox.to(OPTED_IN)[-1].get_payload(decode=True).decode()
    assert "7002" in second and "7001" not in second


def test_no_mail_without_opt_in_or_without_smtp(mail: tuple[World, Inbox]) -> None:
    world, inbox = mail
    world.services.store.alerts.save_prefs(world.services.store.users.get_by_email(OPTED_IN).id, [])  # type: ignore[union-attr]
    world.add_order(7003, kind="oss")
    book_order(world.services, world.shop, "7003")
    assert digest_all(world.services) == 0
    world.services.settings = dataclasses.replace(world.services.settings, smtp_url="")
    assert digest_all(world.services) == 0
    assert inbox.messages == []


def test_refused_credentials_mail_at_once(mail: tuple[World, Inbox]) -> None:
    world, inbox = mail
    world.add_order(7004)
    warm_up_bookkeeping(world)
    world.eb.faults.add("auth", times=None)  # every call: the codes were revoked
    # Held, not failed for good: booking stops and the order waits for the credentials.
    assert book_order(world.services, world.shop, "7004").status == "held"
    assert world.reload_shop().status == "auth_failed"
    [message] = inbox.to(OPTED_IN)
    assert "e-Boekhouden.nl weigert de inloggegevens" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert f"/koppelingen/{world.shop.id}/gegevens" in body
    assert "vanzelf alsnog" in body and "test ze" in body  # a promise the heal keeps
    _assert_no_secrets(world, message.as_string())
    assert inbox.to(NOT_OPTED_IN) == []
    # At most one such mail a day per shop.
    world.add_order(7005)
    book_order(world.services, world.shop, "7005")
    assert len(inbox.to(OPTED_IN)) == 1


def test_the_clock_enqueues_the_digest_job_once_an_hour(
    mail: tuple[World, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    import worker.jobs
    from app.jobs.queue import enqueue_alert_digest
    from reconciler.schedule import alert_due

    world, inbox = mail
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    now = 1_800_000_000.0
    assert alert_due(world.services, now) and not alert_due(world.services, now + 60)
    assert alert_due(world.services, now + 3600)
    off = dataclasses.replace(world.services.settings, smtp_url="")
    monkeypatch.setattr(world.services, "settings", off)
    assert not alert_due(world.services, now + 7200)  # alerts off: no slot, no job
    monkeypatch.undo()
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)

    world.add_order(7006, kind="oss")
    book_order(world.services, world.shop, "7006")
    enqueue_alert_digest(world.services.queue)
    SimpleWorker(
        [world.services.queue], connection=world.services.redis, serializer=JSONSerializer
    ).work(burst=True)
    [message] = inbox.to(OPTED_IN)
    assert "7006" in message.get_payload(decode=True).decode()


def test_an_icp_sale_on_the_buyers_own_relation_is_in_the_digest(
    mail: tuple[World, Inbox],
) -> None:
    """Issue 24: the relation its e-mail finds carries another VAT number, so the sale went
    on the buyer's own relation; the digest says so, next to the failures."""
    world, inbox = mail
    order = world.add_order(7010, kind="reverse_charge")
    world.eb.add_relation(EB_USER, "KLANT7010", "Ander Bedrijf BV", email=order["debtor"]["email"])
    stored = next(r for r in world.eb.books.admin(EB_USER).relations if r["Code"] == "KLANT7010")
    stored["BTWNummer"] = "DE999999999"
    assert book_order(world.services, world.shop, "7010").status == "booked"
    world.add_order(7011, kind="oss")  # no OSS rows: fails
    assert book_order(world.services, world.shop, "7011").status == "failed"

    assert digest_all(world.services) == 1
    [message] = inbox.to(OPTED_IN)
    assert "1 mislukte boeking, 1 boeking om na te kijken" in message["Subject"]
    body = _body(message)
    assert "Bestelling 7011" in body and "Bestelling 7010" in body
    assert "KLANT7010" in body and "DE999999999" in body and "opgaaf ICP" in body
    _assert_no_secrets(world, message.as_string())
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1, minutes=1)
    assert send_digest(world.services, world.shop, now=later) == 0  # reported once


def test_a_distance_sale_under_the_threshold_is_noted_but_not_mailed(
    mail: tuple[World, Inbox],
) -> None:
    """Dutch VAT to a consumer in Belgium (no OSS rows): the booking says so, for the
    information; nothing in it asks a person to act, so no mail."""
    world, inbox = mail
    order = world.add_order(7012)
    order["shipping"] = [{"country": {"isocode": "BE"}}]
    order["debtor"]["address"]["delivery"] = {"name": "X", "country_code": "BE", "zipcode": "9000"}
    world.sim_shop.add_order(order)
    assert book_order(world.services, world.shop, "7012").status == "booked"
    assert (booking_row(world, 7012).warnings or "").startswith("Ter informatie: afstandsverkoop")
    assert digest_all(world.services) == 0 and inbox.messages == []


def test_the_digest_counts_orders_still_failed_not_attempts(mail: tuple[World, Inbox]) -> None:
    """Issue 27: an order that failed twice is one order to look at, and one fixed since
    is none ("20 mislukte boekingen" for 17 open orders, one of them fixed, before)."""
    world, inbox = mail
    store = world.services.store

    def retry(number: int) -> None:
        row = store.bookings.get(world.shop.id, str(number))
        assert row is not None and store.bookings.request_retry(world.shop.id, row.id)

    for number in (7007, 7008, 7009):
        world.add_order(number, kind="oss")  # no BTW code for the OSS rate: fails
        assert book_order(world.services, world.shop, str(number)).status == "failed"
    retry(7007)
    assert book_order(world.services, world.shop, "7007").status == "failed"  # again
    world.add_order(7008)  # corrected in the shop: a domestic order now
    retry(7008)
    assert book_order(world.services, world.shop, "7008").status == "booked"
    row = store.bookings.get(world.shop.id, "7007")
    assert row is not None and len(store.history.attempts(row.id)) == 2

    assert digest_all(world.services) == 1
    [message] = inbox.to(OPTED_IN)
    assert "2 mislukte boekingen" in message["Subject"]
    body = message.get_payload(decode=True).decode()
    assert "2 bestellingen van 'Testwinkel' niet geboekt" in body
    assert body.count("- Bestelling 7007 (") == 1 and "- Bestelling 7009 (" in body
    assert "7008" not in body
