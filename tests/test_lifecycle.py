"""Pause, resume and remove a shop (`flask shops pause|resume|remove`), new credentials
from the command line (`shops set-credentials`, healing what their refusal held), and
what `shops add` says at install: the start date, the checklist and a warning for two
shops on one administration under the same invoice numbers. Both backends."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from rq import SimpleWorker
from rq.serializers import JSONSerializer

import worker.jobs
from app import create_app
from app.booking.pipeline import book_order
from app.booking.reconcile import POLL, run_pass
from app.jobs.queue import reconcile_key, waiting_key
from app.states import JobOutcome, RunMode, ShopStatus
from reconciler.schedule import enqueue_passes
from tests.helpers import EB_CODE1, EB_CODE2, EB_USER, MWW_TOKEN, World, signed_headers

SECRETS = json.dumps({"mww_token": MWW_TOKEN, "eb_code1": EB_CODE1, "eb_code2": EB_CODE2})


@pytest.fixture
def web(world: World) -> FlaskClient:
    app = create_app(services=world.services)
    app.config["TESTING"] = True
    return app.test_client()


def notify(web: FlaskClient, world: World, number: int) -> int:
    body = json.dumps({"order_number": number}).encode()
    headers = signed_headers(world.webhook_secret, body)
    world.services.webhook_shops.forget()
    return int(
        web.post(
            f"/webhooks/mijnwebwinkel/{world.shop.webhook_key}", data=body, headers=headers
        ).status_code
    )


def run_jobs(world: World, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setattr(worker.jobs, "runtime_services", lambda: world.services)
    queue = world.services.queue
    SimpleWorker([queue], connection=world.services.redis, serializer=JSONSerializer).work(
        burst=True
    )
    return [queue.fetch_job(i) for i in queue.finished_job_registry.get_job_ids()]


def cli(world: World, *args: str, stdin: str | None = None) -> Any:
    runner = create_app(services=world.services).test_cli_runner()
    return runner.invoke(args=list(args), input=stdin)


def test_a_paused_shop_accepts_notifications_books_nothing_and_catches_up_on_resume(
    world: World, web: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_pass(world.services, world.shop, mode=POLL)  # the watermark: where pausing leaves it
    paused = cli(world, "shops", "pause", str(world.shop.id))
    assert paused.exit_code == 0 and "paused" in paused.output
    assert world.reload_shop().status == ShopStatus.PAUSED
    world.add_order(9701)
    world.sim_shop.set_status(9701, 3)
    assert notify(web, world, 9701) == 202  # accepted …
    [job] = run_jobs(world, monkeypatch)
    assert job.return_value()["status"] == JobOutcome.SHOP_INACTIVE  # … and nothing booked
    assert world.mutations() == []
    assert world.services.store.bookings.get(world.shop.id, "9701") is None
    assert enqueue_passes(world.services, RunMode.POLL) == 0  # no passes while paused
    again = cli(world, "shops", "pause", str(world.shop.id))
    assert again.exit_code == 1 and "only an active shop" in again.output
    resumed = cli(world, "shops", "resume", str(world.shop.id))
    assert resumed.exit_code == 0 and world.reload_shop().status == ShopStatus.ACTIVE
    # Resuming queued a pass at once; it lists what changed while paused.
    assert world.services.redis.exists(waiting_key(reconcile_key(world.shop.id, "poll")))
    run_jobs(world, monkeypatch)  # the pass, then the booking it queued
    run_jobs(world, monkeypatch)
    assert [m["Factuurnummer"] for m in world.mutations()] == ["9701"]


def test_a_removed_shop_keeps_its_register_and_loses_its_secrets(
    world: World, web: FlaskClient
) -> None:
    world.add_order(9711)
    assert book_order(world.services, world.shop, "9711").status == JobOutcome.BOOKED
    refused = cli(world, "shops", "remove", str(world.shop.id), stdin="n\n")
    assert refused.exit_code == 1 and world.reload_shop().status == ShopStatus.ACTIVE
    removed = cli(world, "shops", "remove", str(world.shop.id), stdin="y\n")
    assert removed.exit_code == 0, removed.output
    shop = world.reload_shop()
    assert shop.status == ShopStatus.REMOVED
    assert shop.credentials.mww_token == "" and shop.credentials.eb_code2 == ""
    assert world.webhook_secret not in shop.webhook_secrets
    assert notify(web, world, 9712) == 404  # notifications refused
    assert world.services.store.bookings.get(shop.id, "9711") is not None  # register kept
    assert "Testwinkel" not in cli(world, "shops", "list").output
    assert "removed" in cli(world, "shops", "list", "--all").output
    gone = cli(world, "shops", "pause", str(shop.id))
    assert gone.exit_code == 1 and "flask shops list" in gone.output


def test_set_credentials_reads_the_secrets_from_stdin_and_heals(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.add_order(9721)
    world.eb.faults.add("auth", times=None)
    assert book_order(world.services, world.shop, "9721").status == JobOutcome.HELD
    world.eb.faults.clear()
    wrong = cli(
        world,
        "shops",
        "set-credentials",
        str(world.shop.id),
        "--secrets-stdin",
        stdin=json.dumps({"eb_code2": "fout"}),
    )
    assert wrong.exit_code == 1 and "eb:" in wrong.output  # tested live, not saved
    assert world.reload_shop().status == ShopStatus.AUTH_FAILED
    saved = cli(
        world, "shops", "set-credentials", str(world.shop.id), "--secrets-stdin", stdin=SECRETS
    )
    assert saved.exit_code == 0 and "1 held order(s) sent again" in saved.output
    assert world.reload_shop().status == ShopStatus.ACTIVE
    run_jobs(world, monkeypatch)
    assert [m["Factuurnummer"] for m in world.mutations()] == ["9721"]
    for secret in (MWW_TOKEN, EB_CODE1, EB_CODE2):
        assert secret not in saved.output


def test_shops_add_starts_at_the_moment_of_connection_or_book_from(world: World) -> None:
    before = dt.datetime.now(dt.UTC)
    added = cli(
        world,
        "shops",
        "add",
        "--name",
        "Nu",
        "--eb-username",
        EB_USER,
        "--secrets-stdin",
        stdin=SECRETS,
    )
    assert added.exit_code == 0, added.output
    shop = world.services.load_shop(json.loads(added.stdout)["id"])
    assert shop is not None and shop.book_from is not None and shop.book_from >= before
    dated = cli(
        world,
        "shops",
        "add",
        "--name",
        "Vanaf",
        "--eb-username",
        EB_USER,
        "--secrets-stdin",
        "--book-from",
        "2026-11-01",
        "--invoice-format",
        "W3-{number}",
        stdin=SECRETS,
    )
    shop = world.services.load_shop(json.loads(dated.stdout)["id"])
    assert shop is not None and shop.book_from == dt.datetime(2026, 10, 31, 23, 0, tzinfo=dt.UTC)
    bad = cli(world, "shops", "add", "--name", "X", "--book-from", "1-11-2026")
    assert bad.exit_code == 2 and "--book-from" in bad.output


def test_shops_add_warns_for_the_same_invoice_numbers_on_one_administration(
    world: World,
) -> None:
    """The world's shop books into the same SOAP administration with the bare number."""
    args = ["shops", "add", "--name", "Tweede", "--eb-username", EB_USER, "--secrets-stdin"]
    same = cli(world, *args, stdin=SECRETS)
    assert same.exit_code == 0
    assert f"shop {world.shop.id} (Testwinkel)" in same.stderr and "--invoice-format" in same.stderr
    assert "Mijnwebwinkel import" in same.stderr  # the migration checklist
    own = cli(world, *args, "--invoice-format", "W2-{number}", stdin=SECRETS)
    assert own.exit_code == 0 and "same e-Boekhouden administration" not in own.stderr


def test_no_secret_can_be_given_as_an_option(world: World) -> None:
    for option in ("--mww-token", "--eb-api-token", "--eb-code1", "--eb-code2"):
        result = cli(world, "shops", "add", "--name", "X", option, "geheim")
        assert result.exit_code == 2 and "No such option" in result.output
    not_json = cli(world, "shops", "add", "--name", "X", "--secrets-stdin", stdin="mww=1")
    assert not_json.exit_code == 2 and "not valid JSON" in not_json.output
    typo = cli(world, "shops", "add", "--name", "X", "--secrets-stdin", stdin='{"mww": "1"}')
    assert typo.exit_code == 2 and "unknown key 'mww'" in typo.output
