"""The notification endpoint's contract: every answer, and nothing enqueued on refusal."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import create_app
from app.config import MAX_WEBHOOK_ID
from app.states import ShopStatus
from app.store.shops import new_webhook_secret
from tests.helpers import World, booking_job_ids, signed_headers


@pytest.fixture
def client(world: World) -> FlaskClient:
    app = create_app(services=world.services)
    app.config["TESTING"] = True
    return app.test_client()


def url(world: World, key: str | None = None) -> str:
    return f"/webhooks/mijnwebwinkel/{key or world.shop.webhook_key}"


def post(client: FlaskClient, world: World, payload: Any, **kw: Any) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = kw.pop("headers", None) or signed_headers(
        kw.pop("secret", world.webhook_secret), body, **kw
    )
    return client.post(url(world), data=body, headers=headers)


def queued(world: World) -> list[str]:
    return list(world.services.queue.get_job_ids())


@pytest.mark.parametrize("number", [1001, "1001", " 1001 "])
def test_a_signed_notification_is_queued(client: FlaskClient, world: World, number: object) -> None:
    response = post(client, world, {"order_number": number, "other": "ignored"})
    assert response.status_code == 202
    assert response.get_json() == {"status": "queued"}
    assert queued(world) == booking_job_ids(world.services.queue, world.shop.id, "1001")
    assert len(queued(world)) == 1
    job = world.services.queue.fetch_job(queued(world)[0])
    assert job.func_name == "worker.jobs.book_order_job" and job.args == [world.shop.id, "1001"]


def test_the_same_webhook_id_twice_is_a_duplicate(client: FlaskClient, world: World) -> None:
    body = json.dumps({"order_number": 7}).encode()
    headers = signed_headers(world.webhook_secret, body, msg_id="msg_fixed")
    assert client.post(url(world), data=body, headers=headers).get_json() == {"status": "queued"}
    again = client.post(url(world), data=body, headers=headers)
    assert (again.status_code, again.get_json()) == (202, {"status": "duplicate"})
    assert len(queued(world)) == 1
    [key] = world.services.redis.keys("mww:webhook-id:*")
    assert world.services.redis.ttl(key) >= 72 * 3600


def test_a_second_notification_for_a_queued_order_does_not_pile_up(
    client: FlaskClient, world: World
) -> None:
    for _ in range(3):
        assert post(client, world, {"order_number": 8}).status_code == 202
    assert len(queued(world)) == 1
    assert queued(world) == booking_job_ids(world.services.queue, world.shop.id, "8")


REFUSALS = [
    ("invalid-json", b"{not json", {}, 400),
    ("missing-number", json.dumps({"order": 1}).encode(), {}, 400),
    ("negative-number", json.dumps({"order_number": -4}).encode(), {}, 400),
    ("zero", json.dumps({"order_number": 0}).encode(), {}, 400),
    ("letters", json.dumps({"order_number": "abc"}).encode(), {}, 400),
    ("bool", json.dumps({"order_number": True}).encode(), {}, 400),
    ("list-body", json.dumps([1]).encode(), {}, 400),
]


@pytest.mark.parametrize(("body", "status"), [pytest.param(b, s, id=i) for i, b, _, s in REFUSALS])
def test_invalid_payloads_are_400_with_messages(
    client: FlaskClient, world: World, body: bytes, status: int
) -> None:
    response = post(client, world, body)
    assert response.status_code == status
    assert response.get_json()["error"] == "invalid payload"
    assert response.get_json()["messages"]
    assert queued(world) == []


def _old(minutes: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


@pytest.mark.parametrize(
    "kind", ["missing", "wrong-secret", "too-old", "too-new", "garbled", "tampered-body"]
)
def test_bad_signatures_are_401(client: FlaskClient, world: World, kind: str) -> None:
    body = json.dumps({"order_number": 9}).encode()
    if kind == "missing":
        headers = {"Content-Type": "application/json"}
    elif kind == "wrong-secret":
        headers = signed_headers(new_webhook_secret(), body)
    elif kind in ("too-old", "too-new"):
        headers = signed_headers(
            world.webhook_secret, body, at=_old(-6 if kind == "too-old" else 6)
        )
    elif kind == "garbled":
        headers = {**signed_headers(world.webhook_secret, body), "webhook-signature": "v1"}
    else:
        headers = signed_headers(world.webhook_secret, body)
        body = json.dumps({"order_number": 10}).encode()
    response = client.post(url(world), data=body, headers=headers)
    assert response.status_code == 401
    assert queued(world) == []


def test_several_signatures_any_valid_one_counts(client: FlaskClient, world: World) -> None:
    body = json.dumps({"order_number": 11}).encode()
    headers = signed_headers(world.webhook_secret, body, extra_sigs=("v1,bm90IGEgc2lnbmF0dXJl",))
    assert client.post(url(world), data=body, headers=headers).status_code == 202


def test_unknown_or_disabled_shop_is_404(client: FlaskClient, world: World) -> None:
    body = json.dumps({"order_number": 12}).encode()
    headers = signed_headers(world.webhook_secret, body)
    assert client.post(url(world, "nope"), data=body, headers=headers).status_code == 404
    world.services.store.shops.set_status(world.shop.id, ShopStatus.DISABLED)

    world.services.webhook_shops.forget()
    assert client.post(url(world), data=body, headers=headers).status_code == 404
    assert queued(world) == []


def test_too_large_is_413_and_not_json_is_415(client: FlaskClient, world: World) -> None:
    big = json.dumps({"order_number": 13, "pad": "x" * 70_000}).encode()
    response = client.post(url(world), data=big, headers=signed_headers(world.webhook_secret, big))
    assert response.status_code == 413
    body = b"order_number=13"
    headers = {**signed_headers(world.webhook_secret, body), "Content-Type": "text/plain"}
    assert client.post(url(world), data=body, headers=headers).status_code == 415
    assert queued(world) == []


def test_rotated_secret_old_one_works_during_grace(client: FlaskClient, world: World) -> None:
    new_secret = world.services.store.shops.rotate_webhook_secret(world.shop.id)

    world.services.webhook_shops.forget()
    assert post(client, world, {"order_number": 14}, secret=new_secret).status_code == 202
    assert post(client, world, {"order_number": 15}).status_code == 202  # old one
    assert post(client, world, {"order_number": 16}, secret=new_webhook_secret()).status_code == 401


def test_refusals_write_nothing_but_counters(client: FlaskClient, world: World) -> None:
    post(client, world, b"{bad")
    client.post(url(world, "nope"), data=b"{}", headers={"Content-Type": "application/json"})
    assert world.services.store.bookings.page(world.shop.id)[1] == 0
    assert [k for k in world.services.redis.keys("mww:webhook-id:*")] == []
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'mww_notifications_total{outcome="invalid_payload"}' in metrics


def test_health_and_metrics(client: FlaskClient, world: World) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    post(client, world, {"order_number": 21})
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'mww_queue_depth{queue="bookings"} 1' in metrics
    assert 'mww_notifications_total{outcome="queued"}' in metrics


def test_healthz_names_what_is_down(world: World) -> None:
    import redis as redislib

    from app.services import Services

    broken = Services(
        settings=world.settings,
        engine=world.services.engine,
        redis=redislib.Redis(port=1, socket_connect_timeout=0.2),
        vault=world.services.vault,
        queue=world.services.queue,
        shop_api_factory=world.services.shop_api_factory,
        bookkeeping_factory=world.services.bookkeeping_factory,
    )
    response = create_app(services=broken).test_client().get("/healthz")
    assert response.status_code == 503
    assert list(response.get_json()["failing"]) == ["redis"]


def test_queue_down_answers_503_and_the_retry_is_not_a_duplicate(
    client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    import app.intake.webhooks

    def broken(*args: object, **kwargs: object) -> str:
        raise RedisConnectionError("down")

    body = json.dumps({"order_number": 31}).encode()
    headers = signed_headers(world.webhook_secret, body, msg_id="msg_retry")
    monkeypatch.setattr(app.intake.webhooks, "queue_notification", broken)
    assert client.post(url(world), data=body, headers=headers).status_code == 503
    monkeypatch.undo()
    again = client.post(url(world), data=body, headers=headers)
    assert again.get_json() == {"status": "queued"}


def test_redis_down_at_the_webhook_id_check_answers_503(world: World) -> None:
    """Issue 15 point 6: the duplicate check itself needs Redis; with Redis away the
    sender gets 503 (and retries), not 500."""
    import redis as redislib

    from app.jobs.queue import get_queue
    from app.services import Services

    down = redislib.Redis(port=1, socket_connect_timeout=0.2)
    broken = Services(
        settings=world.settings,
        engine=world.services.engine,
        redis=down,
        vault=world.services.vault,
        queue=get_queue(down, "bookings"),
        shop_api_factory=world.services.shop_api_factory,
        bookkeeping_factory=world.services.bookkeeping_factory,
    )
    client = create_app(services=broken).test_client()
    body = json.dumps({"order_number": 41}).encode()
    response = client.post(
        url(world), data=body, headers=signed_headers(world.webhook_secret, body)
    )
    assert response.status_code == 503
    assert response.get_json() == {"error": "queue unavailable, try again later"}


def test_deeply_nested_json_is_400_not_500(client: FlaskClient, world: World) -> None:
    body = b"[" * 30_000 + b"]" * 30_000  # validly signed, within the size limit
    response = post(client, world, body)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid payload"
    body = b'{"order_number": 5, "x": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    assert post(client, world, body).status_code == 400
    assert queued(world) == []


@pytest.mark.parametrize("size", [64 * 1024 + 1, 200_000])
def test_a_chunked_body_over_the_limit_is_413(client: FlaskClient, world: World, size: int) -> None:
    """A body without Content-Length (chunked; the server has removed the chunking and
    says so with wsgi.input_terminated, as gunicorn does) must not be cut at the limit
    and then fail the signature check."""
    import io

    head = json.dumps({"order_number": 14, "pad": ""}).encode()[:-2]
    big = head + b"x" * (size - len(head) - 2) + b'"}'
    assert len(big) == size
    response = client.post(
        url(world),
        input_stream=io.BytesIO(big),
        headers={**signed_headers(world.webhook_secret, big), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert queued(world) == []


def test_a_chunked_body_within_the_limit_is_accepted(client: FlaskClient, world: World) -> None:
    import io

    head = json.dumps({"order_number": 15, "pad": ""}).encode()[:-2]
    body = head + b"x" * (64 * 1024 - len(head) - 2) + b'"}'
    assert len(body) == 64 * 1024
    response = client.post(
        url(world),
        input_stream=io.BytesIO(body),
        headers={**signed_headers(world.webhook_secret, body), "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 202, response.get_json()
    assert len(queued(world)) == 1
    assert queued(world) == booking_job_ids(world.services.queue, world.shop.id, "15")


def test_other_methods_and_paths_are_refused_in_json(client: FlaskClient, world: World) -> None:
    """The endpoint is served before Flask (app/intake/webhooks.py): what Flask answered
    for other methods and paths stays the same."""
    response = client.get(url(world))
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.get_json() == {"error": "Method Not Allowed"}
    for path in (url(world) + "/extra", "/webhooks/mijnwebwinkel/"):
        response = client.post(path, data=b"{}")  # no such page: Flask's login redirect
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert queued(world) == []


def test_a_long_webhook_id_is_refused_and_nothing_is_kept(
    client: FlaskClient, world: World
) -> None:
    """The probe: an 8,000-character webhook-id was accepted and kept 73 hours, about 11 KB
    of Redis per notification. At most 256 characters; longer is 400, before anything."""
    body = json.dumps({"order_number": 8}).encode()
    longest = post(client, world, body, msg_id="m" * MAX_WEBHOOK_ID)
    assert longest.status_code == 202
    for length in (MAX_WEBHOOK_ID + 1, 8_000):
        response = post(client, world, body, msg_id="x" * length)
        assert response.status_code == 400, length
        assert "webhook-id" in response.get_json()["error"]
    assert len(world.services.redis.keys("mww:webhook-id:*")) == 1  # the accepted one


def test_a_test_order_number_writes_nothing(client: FlaskClient, world: World) -> None:
    """The probe: a signed notification with an invented T- number wrote a register row
    without any look-up. Test orders are never booked: 202, and nothing is kept."""
    before = set(world.services.redis.keys("*"))
    response = post(client, world, {"order_number": "T-424242"})
    assert (response.status_code, response.get_json()) == (202, {"status": "test_order"})
    assert queued(world) == []
    assert set(world.services.redis.keys("*")) == before
    assert world.services.store.bookings.get(world.shop.id, "T-424242") is None
