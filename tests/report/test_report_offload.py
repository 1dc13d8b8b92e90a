"""Issue 25, done-when: "16 at once left /healthz unanswered for 30 s". Against the
Procfile's gunicorn (one worker, four threads), an RQ worker and simulators that answer
slowly (``bench.stack``): sixteen two-year reports asked for at once, and one that reads
e-Boekhouden, each answer in well under a second (they become jobs), and /healthz keeps
answering within a second while the worker builds them."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from bench.stack import Stack, services_unavailable, wait_until
from sandbox.order_factory import make_orders

pytestmark = pytest.mark.slow
EMAIL, PASSWORD = "beheer@example.nl", "een-lang-wachtwoord"
LATENCY = 1.0  # seconds every simulator call takes


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    reason = services_unavailable()
    if reason:
        pytest.skip(f"needs PostgreSQL and redis-server: {reason}")
    with Stack(
        "report-offload",
        workers=1,
        clock=False,
        shops=1,
        web_concurrency=1,
        env={"WEB_THREADS": "4", "APP_ENV": "development", "WEB_UPSTREAM_TIMEOUT_SECONDS": "5"},
    ) as running:
        from app.accounts.passwords import hash_password
        from app.states import Role

        running.services().store.users.create(EMAIL, hash_password(PASSWORD), Role.ADMIN)
        running.add_orders(
            running.shops[0], make_orders(300, seed=25, start=dt.datetime(2025, 1, 2, 9))
        )
        yield running


def logged_in(stack: Stack) -> tuple[requests.Session, str]:
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=20))
    page = session.get(f"{stack.web_url}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    answer = session.post(
        f"{stack.web_url}/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:300]
    page = session.get(f"{stack.web_url}/", timeout=30).text  # the logout form: its token
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    return session, token.group(1)


def test_two_year_reports_leave_healthz_answering(stack: Stack) -> None:
    shop = stack.shops[0]
    session, token = logged_in(stack)
    page = f"{stack.web_url}/koppelingen/{shop.id}/controle"
    for system in ("mww", "eb"):
        stack.faults(system, {"clear": True, "latency": LATENCY})
    timings: dict[str, list[float]] = {"report": [], "healthz": []}
    statuses: list[int] = []
    lock = threading.Lock()

    def ask(index: int) -> None:
        first = dt.date(2024, 1, 1) + dt.timedelta(days=index)
        period = f"{first}..{first + dt.timedelta(days=729)}"
        started = time.monotonic()
        if index < 16:  # a link to a two-year report: a job, never built by the page
            answer = session.get(page, params={"periode": period}, timeout=60)
        else:  # the form that reads e-Boekhouden (SOAP, slow too)
            data = {"periode": period, "boeken": "1", "csrf_token": token}
            answer = session.post(page, data=data, allow_redirects=False, timeout=60)
        with lock:
            timings["report"].append(time.monotonic() - started)
            statuses.append(answer.status_code)

    def health() -> float:
        started = time.monotonic()
        assert requests.get(f"{stack.web_url}/healthz", timeout=30).status_code == 200
        return time.monotonic() - started

    try:
        askers = [threading.Thread(target=ask, args=(i,)) for i in range(17)]
        for thread in askers:
            thread.start()
        during = health()  # behind seventeen page answers at most, never behind a report
        for thread in askers:
            thread.join(timeout=60)
        deadline = time.monotonic() + 10  # the worker builds them, slowly, meanwhile
        while time.monotonic() < deadline:
            timings["healthz"].append(health())
            time.sleep(0.2)
        # The worker really is building them, slowly (the simulators' latency).
        progress = [
            key
            for key in stack.redis().scan_iter("mww:report-progress:*")
            if b'"bezig"' in (stack.redis().get(key) or b"")
            or b'"klaar"' in (stack.redis().get(key) or b"")
        ]
    finally:
        for system in ("mww", "eb"):
            stack.faults(system, {"clear": True, "latency": 0})
    assert sorted(set(statuses)) == [200, 302] and len(statuses) == 17
    assert max(timings["report"]) < 3.0, timings["report"]
    assert during < 3.0, during
    assert len(timings["healthz"]) >= 20
    assert max(timings["healthz"]) < 1.0, timings["healthz"]
    assert progress, "no report job was running"
    html = session.get(page, params={"periode": "2024-01-01..2025-12-30"}, timeout=30).text
    assert 'id="report-progress"' in html or 'id="report-table"' in html

    def done() -> bool:  # without latency the worker finishes them all
        queue_key = "rq:queue:bookings-reports"
        return stack.redis().llen(queue_key) == 0

    wait_until(done, 300, "the report jobs")
