"""Issue 15 point 7 (and the chunked body of point 10) against the real web process: the
Procfile's gunicorn (gthread), started by ``bench.stack`` with the simulators.

- A Mijnwebwinkel stall holds one thread of the only web worker; /healthz still answers
  at once, and the preview itself gives up after WEB_UPSTREAM_TIMEOUT_SECONDS with a
  Dutch "probeer het later opnieuw".
- e-Boekhouden latency makes the settings page say so, well within gunicorn's timeout.
- A chunked (no Content-Length) notification over 64 KiB is 413 through gunicorn.
"""

from __future__ import annotations

import html as htmllib
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bench.stack import Stack, services_unavailable, signed_headers

pytestmark = pytest.mark.slow
UPSTREAM_TIMEOUT = 2.0
STALL = 15.0
EMAIL, PASSWORD = "beheer@example.nl", "een-lang-wachtwoord"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    reason = services_unavailable()
    if reason:
        pytest.skip(f"needs PostgreSQL and redis-server: {reason}")
    with Stack(
        "web-stall",
        workers=0,
        clock=False,
        shops=1,
        web_concurrency=1,
        env={
            "WEB_UPSTREAM_TIMEOUT_SECONDS": str(UPSTREAM_TIMEOUT),
            "WEB_THREADS": "4",
            # production marks the session cookie Secure: not sent over http
            "APP_ENV": "development",
        },
    ) as running:
        from app.accounts.passwords import hash_password
        from app.states import Role

        running.services().store.users.create(EMAIL, hash_password(PASSWORD), Role.ADMIN)
        yield running


def logged_in(stack: Stack) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{stack.web_url}/login", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    answer = session.post(
        f"{stack.web_url}/login",
        timeout=30,
        allow_redirects=False,
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


def text(response: requests.Response) -> str:
    return htmllib.unescape(response.text)


def test_a_stalled_mijnwebwinkel_blocks_neither_healthz_nor_the_preview(stack: Stack) -> None:
    session = logged_in(stack)
    shop = stack.shops[0]
    stack.faults(
        "mww", {"clear": True, "add": [{"kind": "latency", "seconds": STALL, "times": None}]}
    )
    preview: dict[str, Any] = {}

    def ask_preview() -> None:
        started = time.monotonic()
        preview["response"] = session.get(
            f"{stack.web_url}/koppelingen/{shop.id}/voorbeeld",
            params={"bestelling": "1001"},
            timeout=60,
        )
        preview["seconds"] = time.monotonic() - started

    try:
        waiting = threading.Thread(target=ask_preview)
        waiting.start()
        time.sleep(0.5)  # the preview now holds a thread of the only worker
        started = time.monotonic()
        health = requests.get(f"{stack.web_url}/healthz", timeout=30)
        health_seconds = time.monotonic() - started
        still_waiting = waiting.is_alive()
        waiting.join(timeout=60)
    finally:
        stack.faults("mww", {"clear": True})
    assert health.status_code == 200
    assert still_waiting, "the preview did not wait on the stall at all"
    assert health_seconds < 1.5, f"/healthz took {health_seconds:.1f}s behind a stalled preview"
    response = preview["response"]
    assert response.status_code == 200
    assert "Mijnwebwinkel reageerde niet binnen 2 seconden. Probeer het later opnieuw." in text(
        response
    )
    assert preview["seconds"] < UPSTREAM_TIMEOUT + 4, preview["seconds"]


def test_e_boekhouden_latency_makes_the_settings_page_say_so_in_time(stack: Stack) -> None:
    session = logged_in(stack)
    shop = stack.shops[0]
    stack.faults(
        "eb", {"clear": True, "add": [{"kind": "latency", "seconds": STALL, "times": None}]}
    )
    try:
        started = time.monotonic()
        response = session.get(f"{stack.web_url}/koppelingen/{shop.id}/instellingen", timeout=60)
        seconds = time.monotonic() - started
    finally:
        stack.faults("eb", {"clear": True})
    assert response.status_code == 200
    assert "e-Boekhouden.nl reageerde niet binnen 2 seconden. Probeer het later opnieuw." in text(
        response
    )
    assert seconds < 2 * UPSTREAM_TIMEOUT + 4, seconds  # well under gunicorn's 30 s


def test_a_chunked_notification_over_64_kib_is_413_through_gunicorn(stack: Stack) -> None:
    shop = stack.shops[0]
    body = json.dumps({"order_number": 1001, "pad": "x" * 80_000}).encode()
    headers = signed_headers(shop.webhook_secret, body)

    def chunks() -> Iterator[bytes]:  # a generator: requests sends it chunked
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    answer = requests.post(shop.webhook_url, data=chunks(), headers=headers, timeout=30)
    assert answer.status_code == 413, answer.text
