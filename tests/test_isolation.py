"""One tenant's fault never takes the others down (issue 26, "tenants isolated").

The probe: a shop whose stored secrets cannot be decrypted (added or restored under
another ``ENCRYPTION_KEY``) crashed the clock (no shop polled or reconciled), made the
digest fail and gave a traceback from ``shops list``, because ``ShopStore.all()`` decrypted
every row. The same for a shop whose stored settings are damaged. Now such a shop is
skipped with a logged error and shown as unreadable; everything else carries on. (The
pages: tests/web/test_isolation_pages.py; under load: tests/chaos/test_kill_everything.py.)
"""

from __future__ import annotations

import dataclasses
import logging

import pytest
from sqlalchemy import update

from app import create_app
from app.booking.alerts import DigestIncompleteError, digest_all
from app.booking.pipeline import book_order
from app.crypto import Vault, generate_key
from app.states import Role, ShopStatus
from app.store.alerts import AlertPref
from app.store.db import shops
from app.store.engine import transaction
from app.store.shops import Credentials, ShopStore, UnreadableShopError
from reconciler.schedule import run_clock
from tests.helpers import EB_CODE1, EB_CODE2, EB_USER, MWW_TOKEN, World
from tests.smtp_server import smtp_server


def add_broken_shops(world: World) -> tuple[int, int]:
    """A shop stored under another key, and one whose settings are damaged."""
    creds = Credentials(MWW_TOKEN, EB_USER, EB_CODE1, EB_CODE2)
    foreign = ShopStore(world.services.engine, Vault(generate_key()))
    other_key, _ = foreign.register(
        name="Oude sleutel", credentials=creds, status=ShopStatus.ACTIVE
    )
    damaged, _ = world.services.store.shops.register(
        name="Beschadigd", credentials=creds, status=ShopStatus.ACTIVE
    )
    with transaction(world.services.engine) as conn:
        conn.execute(
            update(shops).where(shops.c.id == damaged).values(mapping={"booking_mode": "??"})
        )
    return other_key, damaged


def test_listings_skip_unreadable_shops_with_a_logged_error(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    other_key, damaged = add_broken_shops(world)
    store = world.services.store.shops
    with caplog.at_level(logging.ERROR, logger="app.store.shops"):
        assert [s.id for s in store.all()] == [world.shop.id]
        assert [s.id for s in store.booking()] == [world.shop.id]
    skipped = {r.shop_id: r.problem for r in caplog.records if hasattr(r, "shop_id")}
    assert skipped == {other_key: "secrets", damaged: "data"}
    found, unreadable = store.scan()
    assert [s.id for s in found] == [world.shop.id]
    assert [(u.id, u.name, u.problem) for u in unreadable] == [
        (other_key, "Oude sleutel", "secrets"),
        (damaged, "Beschadigd", "data"),
    ]
    with pytest.raises(UnreadableShopError) as err:
        store.get(other_key)
    assert "keys rotate" in err.value.explanation  # what to do, in Dutch
    assert store.get(world.shop.id) is not None  # the others read as ever


def test_the_clock_goes_on_and_enqueues_the_readable_shops(world: World) -> None:
    add_broken_shops(world)
    ticks = []

    def stop() -> bool:
        ticks.append(1)
        return len(ticks) > 1  # one tick

    run_clock(world.services, tick_seconds=0.01, stop=stop, sleep=lambda _: None)
    jobs = world.services.queue.get_jobs()
    assert sorted(job.args[0] for job in jobs) == [world.shop.id]  # a pass, for the good shop


def test_the_digest_mails_the_other_shops(world: World) -> None:
    add_broken_shops(world)
    with smtp_server() as (inbox, url):
        world.services.settings = dataclasses.replace(
            world.services.settings, smtp_url=url, alert_from="koppeling@example.nl"
        )
        user = world.services.store.users.create("boekhouder@example.nl", "x", Role.ADMIN)
        world.services.store.alerts.save_prefs(user, [AlertPref(None, True, True)])
        world.add_order(7001, kind="oss")  # no BTW code for the OSS rate: fails
        assert book_order(world.services, world.shop, "7001").status == "failed"
        assert digest_all(world.services) == 1
        [message] = inbox.to("boekhouder@example.nl")
        assert "Testwinkel" in message["Subject"]


def test_one_shops_digest_failure_does_not_stop_the_others(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any one shop's bad data (here: its failures cannot be read) is logged, the other
    shops get their mail, and the job still fails at the end so the dashboard shows it."""
    second_id, _ = world.services.store.shops.register(
        name="Tweede", credentials=world.shop.credentials, status=ShopStatus.ACTIVE
    )
    history = world.services.store.history
    real = history.failures_after

    def broken_for_the_first(shop_id: int, after: int) -> object:
        if shop_id == world.shop.id:
            raise KeyError("until")  # a damaged row
        return real(shop_id, after)

    monkeypatch.setattr(history, "failures_after", broken_for_the_first)
    with smtp_server() as (inbox, url):
        world.services.settings = dataclasses.replace(
            world.services.settings, smtp_url=url, alert_from="koppeling@example.nl"
        )
        user = world.services.store.users.create("boekhouder@example.nl", "x", Role.ADMIN)
        world.services.store.alerts.save_prefs(user, [AlertPref(None, True, True)])
        second = world.services.load_shop(second_id)
        assert second is not None
        world.add_order(7002, kind="oss")
        assert book_order(world.services, second, "7002").status == "failed"
        with pytest.raises(DigestIncompleteError, match=str(world.shop.id)):
            digest_all(world.services)
        [message] = inbox.to("boekhouder@example.nl")
        assert "Tweede" in message["Subject"]


def test_shops_list_shows_unreadable_shops(world: World) -> None:
    other_key, damaged = add_broken_shops(world)
    runner = create_app(services=world.services).test_cli_runner()
    result = runner.invoke(args=["shops", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        [str(world.shop.id), "active"],
        [str(other_key), "UNREADABLE (secrets)"],
        [str(damaged), "UNREADABLE (data)"],
    ]
    assert "keys rotate" in result.stderr and "Traceback" not in result.output


def test_commands_on_an_unreadable_shop_fail_in_one_line(world: World) -> None:
    other_key, _ = add_broken_shops(world)
    runner = create_app(services=world.services).test_cli_runner()
    book = runner.invoke(args=["book", "--shop", str(other_key), "1001"])
    assert book.exit_code == 1 and "cannot be read" in book.stderr
    assert "Traceback" not in book.output and book.stderr.count("\n") == 1
