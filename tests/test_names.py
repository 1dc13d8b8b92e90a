"""Names are one line of visible text (app/booking/names.py): line breaks stopped a shop's
alert mails (the Subject header refused them), and direction overrides disguise a name."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import update

from app import create_app
from app.booking.alerts import digest_all
from app.booking.names import name_problem, one_line
from app.booking.pipeline import book_order
from app.states import Role
from app.store.alerts import AlertPref
from app.store.db import shops
from app.store.engine import transaction
from tests.helpers import World
from tests.smtp_server import smtp_server


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("De Theepot", True),
        ("Bakkerij ’t Hoekje — Café & Thee", True),
        ("Ünïcödé 🍵", True),
        ("Regel\nRegel", False),
        ("Regel\r\nRegel", False),
        ("Tab\tWinkel", False),
        ("Nul\x00", False),
        ("Escape\x1b[31m", False),
        ("C1\x85teken", False),
        ("Scheiding\u2028", False),
        ("Omgekeerd\u202egnp.exe", False),
        ("Isolaat\u2066x\u2069", False),
        ("x" * 201, False),
        ("   ", False),
    ],
)
def test_name_rule(name: str, ok: bool) -> None:
    assert (name_problem(name) is None) == ok


def test_one_line() -> None:
    assert one_line("De\nTheepot\t \u202eWinkel") == "De Theepot Winkel"


def test_a_stored_name_with_a_line_break_no_longer_stops_its_alert_mails(world: World) -> None:
    """Shops stored before the rule keep their name; their mails go out anyway."""
    with transaction(world.services.engine) as conn:
        conn.execute(
            update(shops)
            .where(shops.c.id == world.shop.id)
            .values(name="Test\nwinkel\r\nBcc: iedereen@example.nl")
        )
    shop = world.reload_shop()
    with smtp_server() as (inbox, url):
        world.services.settings = dataclasses.replace(
            world.services.settings, smtp_url=url, alert_from="koppeling@example.nl"
        )
        user = world.services.store.users.create("boekhouder@example.nl", "x", Role.ADMIN)
        world.services.store.alerts.save_prefs(user, [AlertPref(None, True, True)])
        world.add_order(7001, kind="oss")
        assert book_order(world.services, shop, "7001").status == "failed"
        assert digest_all(world.services) == 1
        [message] = inbox.to("boekhouder@example.nl")
        assert message["Subject"].startswith("[Test winkel Bcc: iedereen@example.nl]")
        assert message["Bcc"] is None and len(inbox.messages) == 1


def test_shops_add_refuses_control_characters(world: World) -> None:
    runner = create_app(services=world.services).test_cli_runner()
    result = runner.invoke(
        args=["shops", "add", "--name", "Twee\nregels"],
        env={"SHOP_MWW_TOKEN": "t", "SHOP_EB_API_TOKEN": "x"},
    )
    assert result.exit_code == 2 and "control characters" in result.output
    listed = runner.invoke(args=["shops", "list"])
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [str(world.shop.id)]
