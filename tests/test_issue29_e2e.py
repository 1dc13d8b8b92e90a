"""Issue 29 end to end: the Procfile's processes (gunicorn, two workers, the clock) against
both simulators (one shop books through SOAP, one through REST), driven as a user would:
notifications, the pages over HTTP and `flask` commands.

- a 60-second e-Boekhouden refusal during notifications ends with every order booked,
  with no click;
- two first orders of one new customer booked at once by two workers, repeated, never fail;
- a shop added with `shops add --secrets-stdin --book-from` books nothing older by
  notification, poll or pass, while Inhalen still can;
- pause and resume; invite, accept and read-only access; bulk retry.

Slow (minutes): it needs PostgreSQL and ``redis-server`` (skips with the reason otherwise).
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from app.accounts.passwords import hash_password
from app.states import BookingState, Role, ShopStatus
from bench.stack import ROOT, ShopInfo, Stack, services_unavailable
from sandbox.order_factory import make_order
from tests.helpers import booking_jobs

pytestmark = pytest.mark.slow
AMS = ZoneInfo("Europe/Amsterdam")
# How long e-Boekhouden refuses in the healing test: 20 s in ``make test``, the issue's
# 60 s in ``make chaos`` (REFUSAL_SECONDS=60): the same backoff and healing either way.
REFUSAL_SECONDS = int(os.environ.get("REFUSAL_SECONDS") or 20)
ENV = {
    "POLL_INTERVAL_SECONDS": "5",
    "RECONCILE_INTERVAL_SECONDS": "30",
    "HTTP_TIMEOUT_SECONDS": "3",
    "SOAP_OPERATION_TIMEOUT_SECONDS": "3",
    "BOOKING_LEASE_SECONDS": "20",
    "WEB_CONCURRENCY": "2",
}
ADMIN, PASSWORD = "beheer@example.nl", "een-lang-wachtwoord"
_numbers = iter(range(20_000, 90_000))


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    if os.environ.get("TEST_BACKENDS") == "embedded":
        pytest.skip("TEST_BACKENDS=embedded: the end-to-end run needs PostgreSQL and Redis")
    reason = services_unavailable()
    if reason:
        pytest.skip(f"the end-to-end run needs PostgreSQL and redis-server: {reason}")
    with Stack("i29-e2e", workers=2, shops=2, env=ENV, eb_apis="mixed") as running:
        running.services().store.users.create(ADMIN, hash_password(PASSWORD), Role.ADMIN)
        yield running


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def new_orders(
    stack: Stack, shop: ShopInfo, count: int, *, at: dt.datetime | None = None, email: str = ""
) -> list[str]:
    when = (at or dt.datetime.now(AMS)).replace(tzinfo=None, microsecond=0)
    orders = [
        make_order(next(_numbers), date=when, **({"email": email} if email else {}))
        for _ in range(count)
    ]
    stack.add_orders(shop, orders)
    numbers = [str(o["number"]) for o in orders]
    for number in numbers:  # paid just now (the factory may date the change later)
        requests.post(
            f"{stack.mww_url}/_sandbox/shops/{shop.mww_token}/orders/{number}/status",
            json={"status": 3},
            timeout=30,
        ).raise_for_status()
    return numbers


def notify(stack: Stack, shop: ShopInfo, number: str) -> int:
    return stack.notify(shop, number).status_code


def states(stack: Stack, shop_id: int, numbers: list[str]) -> dict[str, str]:
    return dict(stack.services().store.bookings.states_of(shop_id, numbers))


def all_booked(stack: Stack, shop_id: int, numbers: list[str]) -> bool:
    found = states(stack, shop_id, numbers)
    return len(found) == len(numbers) and set(found.values()) == {BookingState.BOOKED}


def booked_once(stack: Stack, shop: ShopInfo, numbers: list[str]) -> None:
    invoices = [m["Factuurnummer"] for m in stack.eb_admin(shop)["mutations"]]
    for number in numbers:
        assert invoices.count(number) == 1, (number, invoices.count(number))


class Browser:
    """A person at the pages, over HTTP (the stack runs in production mode: its cookies
    are marked Secure, which this loopback test sends over http anyway)."""

    def __init__(self, stack: Stack) -> None:
        self.base, self.http = stack.web_url, requests.Session()

    def _unsecure(self) -> None:
        for cookie in self.http.cookies:
            cookie.secure = False

    def token(self, path: str) -> str:
        page = self.get(path).text
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, f"no form on {path}"
        return match.group(1)

    def get(self, path: str) -> requests.Response:
        answer = self.http.get(self.base + path, timeout=30, allow_redirects=False)
        self._unsecure()
        return answer

    def post(self, path: str, data: dict[str, str], form: str | None = None) -> requests.Response:
        token = self.token(form or path)
        answer = self.http.post(
            self.base + path, data={**data, "csrf_token": token}, timeout=30, allow_redirects=False
        )
        self._unsecure()
        return answer

    def log_in(self, email: str, password: str = PASSWORD) -> None:
        answer = self.post("/login", {"email": email, "password": password, "next": "/"})
        assert answer.status_code == 302, answer.text


def flask_cli(stack: Stack, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", *args],
        input=stdin,
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_e_boekhouden_refusal_during_notifications_heals_without_a_click(
    stack: Stack,
) -> None:
    soap, rest = stack.shops
    rounds = REFUSAL_SECONDS // 5
    numbers = {shop.id: new_orders(stack, shop, rounds) for shop in stack.shops}
    stack.faults("eb", {"clear": True, "add": [{"kind": "auth", "times": None}]})
    started = time.monotonic()
    for index in range(rounds):  # a notification every 5 seconds during the refusal
        for shop in (soap, rest):
            assert notify(stack, shop, numbers[shop.id][index]) == 202
        time.sleep(max(0.0, started + 5 * (index + 1) - time.monotonic()))
    store = stack.services().store
    assert {store.shops.get(s.id).status for s in stack.shops} == {ShopStatus.AUTH_FAILED}  # type: ignore[union-attr]
    time.sleep(max(0.0, started + REFUSAL_SECONDS - time.monotonic()))
    stack.faults("eb", {"clear": True})  # the refusal ends by itself
    for shop in (soap, rest):
        wait_for(lambda s=shop: all_booked(stack, s.id, numbers[s.id]), 120, f"{shop.name} booked")
        booked_once(stack, shop, numbers[shop.id])
        assert store.shops.get(shop.id).status == ShopStatus.ACTIVE  # type: ignore[union-attr]


def test_two_first_orders_of_one_new_customer_at_once_never_fail(stack: Stack) -> None:
    stack.faults(
        "eb",
        {
            "clear": True,
            "add": [{"kind": "latency", "operation": "GetRelaties", "seconds": 0.3, "times": None}],
        },
    )
    try:
        for shop in stack.shops:
            before = stack.eb_admin(shop)["calls"]
            made = before.get("AddRelatie", before.get("create_relation", 0))
            numbers: list[str] = []
            for round_ in range(6):
                pair = new_orders(stack, shop, 2, email=f"nieuw{shop.id}-{round_}@example.nl")
                with cf.ThreadPoolExecutor(2) as pool:  # at once: one for each worker
                    assert list(pool.map(lambda n, s=shop: notify(stack, s, n), pair)) == [202] * 2
                numbers += pair
            wait_for(lambda s=shop, n=numbers: all_booked(stack, s.id, n), 120, "pairs booked")
            booked_once(stack, shop, numbers)
            calls = stack.eb_admin(shop)["calls"]
            added = calls.get("AddRelatie", calls.get("create_relation", 0)) - made
            assert added == 6  # one relation per customer, made once
    finally:
        stack.faults("eb", {"clear": True})


def test_a_shop_added_with_a_start_date_books_nothing_older_but_inhalen_can(
    stack: Stack,
) -> None:
    http = requests.Session()
    token, api_token = "tok-new-shop-29", "api-new-shop-29-0123456789"
    http.post(f"{stack.mww_url}/_sandbox/shops", json={"token": token, "name": "Nieuw"})
    http.post(f"{stack.rest_base}/_sandbox/administrations", json={"token": api_token})
    today = dt.datetime.now(AMS).date()
    secrets = json.dumps({"mww_token": token, "eb_api_token": api_token})
    added = flask_cli(
        stack, "shops", "add", "--name", "Nieuwe winkel", "--secrets-stdin",
        "--book-from", today.isoformat(), "--invoice-format", "N-{number}", stdin=secrets,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert token not in added.stdout + added.stderr and api_token not in added.stdout
    info = json.loads(added.stdout)
    shop = ShopInfo(
        id=info["id"],
        name="Nieuwe winkel",
        mww_token=token,
        eb_username="",
        eb_code1="",
        eb_code2="",
        webhook_url=info["webhook_url"],
        webhook_secret=info["webhook_secret"],
        eb_api_token=api_token,
    )
    yesterday = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(15), AMS)
    older = new_orders(stack, shop, 3, at=yesterday)
    for number in older:  # paid just now: the passes see them change
        http.post(
            f"{stack.mww_url}/_sandbox/shops/{token}/orders/{number}/status", json={"status": 3}
        )
    newer = new_orders(stack, shop, 2)
    assert [notify(stack, shop, n) for n in [older[0], *newer]] == [202] * 3
    wait_for(lambda: all_booked(stack, shop.id, newer), 90, "the newer orders")
    since = time.time()
    runs = stack.services().store.runs

    def an_hourly_pass_since() -> bool:
        run = runs.last(shop.id)
        started = run.started_at if run else None
        return bool(run and run.mode == "hourly" and started and started.timestamp() > since)

    wait_for(an_hourly_pass_since, 90, "an hourly pass")
    found = states(stack, shop.id, older)
    assert found == {older[0]: BookingState.SKIPPED}, found  # notified: skipped; others untouched
    assert sorted(m["Factuurnummer"] for m in stack.eb_admin(shop)["mutations"]) == sorted(
        f"N-{n}" for n in newer
    )
    person = Browser(stack)
    person.log_in(ADMIN)
    path = f"/koppelingen/{shop.id}/inhalen"
    start = person.post(path, {"vanaf": (today - dt.timedelta(days=1)).isoformat()})
    assert start.status_code == 302
    wait_for(lambda: all_booked(stack, shop.id, older + newer), 120, "Inhalen")
    invoices = [m["Factuurnummer"] for m in stack.eb_admin(shop)["mutations"]]
    assert sorted(invoices) == sorted(f"N-{n}" for n in older + newer)


def test_pause_and_resume(stack: Stack) -> None:
    shop = stack.shops[0]
    paused = flask_cli(stack, "shops", "pause", str(shop.id))
    assert paused.returncode == 0, paused.stderr
    numbers = new_orders(stack, shop, 3)
    assert [notify(stack, shop, n) for n in numbers] == [202] * 3  # still accepted
    queue = stack.services().queue

    def jobs_done() -> list[Any]:
        done = [j for n in numbers for j in booking_jobs(queue, shop.id, n) if j.is_finished]
        return done if len(done) == len(numbers) else []

    for job in wait_for(jobs_done, 60, "the notifications' jobs"):
        assert job.return_value()["status"] == "shop_inactive"
    assert states(stack, shop.id, numbers) == {}  # nothing booked, nothing recorded
    resumed = flask_cli(stack, "shops", "resume", str(shop.id))
    assert resumed.returncode == 0, resumed.stderr
    wait_for(lambda: all_booked(stack, shop.id, numbers), 60, "the catch-up after resume")
    booked_once(stack, shop, numbers)


def test_invite_accept_and_read_only_access(stack: Stack) -> None:
    shop = stack.shops[1]
    owner = Browser(stack)
    owner.log_in(ADMIN)
    people = f"/koppelingen/{shop.id}/gebruikers"
    page = owner.post(people, {"email": "meekijker@example.nl", "role": "viewer"}).text
    link = re.search(r'id="invitation-url" readonly value="[^"]*(/uitnodiging/[^"]+)"', page)
    assert link, "SMTP is off: the link is shown"
    viewer = Browser(stack)
    path = link.group(1)
    made = viewer.post(path, {"action": "new", "password": PASSWORD, "again": PASSWORD})
    assert made.status_code == 302
    assert viewer.get(f"/koppelingen/{shop.id}").status_code == 200
    assert viewer.get(f"/koppelingen/{shop.id}/voorbeeld").status_code == 200
    for secret_page in ("gegevens", "webhook", "instellingen", "gebruikers"):
        answer = viewer.get(f"/koppelingen/{shop.id}/{secret_page}")
        assert answer.status_code == 404, secret_page
        assert shop.webhook_secret not in answer.text
    assert viewer.get(path).status_code == 404  # the link worked once


def test_bulk_retry(stack: Stack) -> None:
    shop = stack.shops[0]
    store = stack.services().store
    good = store.shops.get(shop.id).mapping  # type: ignore[union-attr]
    rule = good.rule("rate:21")
    assert rule is not None
    bad = good.with_rule(replace(rule, ledgers={**rule.ledgers, "omzet": "8999"}))
    rule9 = bad.rule("rate:9")
    assert rule9 is not None
    bad = bad.with_rule(replace(rule9, ledgers={**rule9.ledgers, "omzet": "8999"}))
    store.shops.save_mapping(shop.id, bad)
    numbers = new_orders(stack, shop, 3)
    for number in numbers:
        assert notify(stack, shop, number) == 202
    wait_for(
        lambda: set(states(stack, shop.id, numbers).values()) == {BookingState.FAILED},
        60,
        "three failures",
    )
    store.shops.save_mapping(shop.id, good)  # the owner fixes the ledger …
    owner = Browser(stack)
    owner.log_in(ADMIN)
    url = f"/koppelingen/{shop.id}"
    assert "Alles opnieuw proberen" in owner.get(url).text
    assert owner.post(f"{url}/opnieuw", {}, form=url).status_code == 302  # … and clicks once
    wait_for(lambda: all_booked(stack, shop.id, numbers), 60, "the retried orders")
    booked_once(stack, shop, numbers)


def test_secrets_never_reach_the_logs(stack: Stack) -> None:
    logs = "\n".join(log for name, log in stack.logs().items() if name != "sims")  # ours
    for shop in stack.shops:
        for secret in (shop.mww_token, shop.eb_code1, shop.eb_code2, shop.eb_api_token):
            if secret:
                assert secret not in logs
    assert "tok-new-shop-29" not in logs and "api-new-shop-29" not in logs
