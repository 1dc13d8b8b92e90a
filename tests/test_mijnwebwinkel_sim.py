"""The Mijnwebwinkel simulator over real HTTP: spec conformance, auth, filters, DST."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from app.clients.mijnwebwinkel import MijnwebwinkelClient
from sandbox.mijnwebwinkel import SHOP_TZ, MijnwebwinkelSimulator, validate, validate_response
from sandbox.order_factory import make_order, make_orders
from sandbox.server import ServerThread

TOKEN = "shop-token-4f1c2a"
PARTNER = "partner-token-9d8e7f"
AUTH = {"token": TOKEN, "partner_token": PARTNER}


@pytest.fixture
def sim() -> MijnwebwinkelSimulator:
    sim = MijnwebwinkelSimulator(partner_token=PARTNER)
    sim.add_shop(TOKEN, name="Het Winkeltje")
    return sim


@pytest.fixture
def server(sim: MijnwebwinkelSimulator, switch: Any) -> ServerThread:
    switch.app = sim
    return switch.server  # type: ignore[no-any-return]


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def get(http: requests.Session, server: ServerThread, path: str, **params: Any) -> Any:
    query = {**AUTH, **params}
    return http.get(f"{server.url}/v1/{path}", params=query, timeout=5)


def test_every_response_validates_against_the_spec(
    sim: MijnwebwinkelSimulator, server: ServerThread, http: requests.Session
) -> None:
    shop = sim.shop(TOKEN)
    orders = make_orders(130, seed=11)
    for order in orders:
        shop.add_order(order)
    listed: list[dict[str, Any]] = []
    for offset in (0, 100):
        page = get(http, server, "orders", limit=100, offset=offset).json()
        validate_response("list_orders", page)
        listed += page
    assert len(listed) == sum(1 for o in orders if isinstance(o["number"], int))
    validate_response("list_orders", get(http, server, "orders", ordering="desc").json())
    validate_response(
        "list_orders", get(http, server, "orders", status_id=3, archived="false").json()
    )
    for order in listed:
        answer = get(http, server, f"orders/{order['number']}")
        assert answer.status_code == 200
        validate_response("get_order", answer.json())
    validate_response("count_orders", get(http, server, "orders/count").json())
    for language in ("nl_NL", "en_GB"):
        answer = http.get(
            f"{server.url}/v1/orderstatuses",
            params={"partner_token": PARTNER, "language": language},
            timeout=5,
        )
        validate_response("order_statuses", answer.json())
    validate_response("store", get(http, server, "store").json())


def test_the_version_2_beta_path_is_served_too(
    server: ServerThread, http: requests.Session
) -> None:
    answer = http.get(f"{server.url}/v2-beta/store", params=AUTH, timeout=5)
    assert answer.status_code == 200
    assert http.get(f"{server.url}/v3/store", params=AUTH, timeout=5).status_code == 404


ENDPOINTS = ["orders", "orders/count", "orders/1001", "store"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"partner_token": PARTNER},
        {"token": "wrong", "partner_token": PARTNER},
        {"token": TOKEN},
        {"token": TOKEN, "partner_token": "wrong"},
    ],
    ids=["none", "no-token", "wrong-token", "no-partner", "wrong-partner"],
)
def test_401_without_valid_tokens(
    sim: MijnwebwinkelSimulator,
    server: ServerThread,
    http: requests.Session,
    path: str,
    params: dict[str, str],
) -> None:
    sim.shop(TOKEN).add_order(make_order(1001))
    answer = http.get(f"{server.url}/v1/{path}", params=params, timeout=5)
    assert answer.status_code == 401
    validate({"$ref": "#/components/schemas/Error"}, answer.json())
    assert answer.json()["code"] == 401


def test_a_revoked_token_is_refused(
    sim: MijnwebwinkelSimulator, server: ServerThread, http: requests.Session
) -> None:
    assert get(http, server, "store").status_code == 200
    sim.revoke(TOKEN)
    assert get(http, server, "store").status_code == 401


def test_orderstatuses_needs_only_the_partner_token(
    server: ServerThread, http: requests.Session
) -> None:
    url = f"{server.url}/v1/orderstatuses"
    answer = http.get(url, params={"partner_token": PARTNER}, timeout=5)
    assert answer.status_code == 200
    statuses = {s["status"]: s for s in answer.json()}
    assert statuses[3]["description"] == "Betaald"
    assert statuses[10]["credit_order"] and not statuses[3]["credit_order"]
    assert http.get(url, params={"token": TOKEN}, timeout=5).status_code == 401
    english = http.get(url, params={"partner_token": PARTNER, "language": "en_GB"}, timeout=5)
    assert english.json()[0]["description"] == "Order Pending"


def test_without_a_configured_partner_token_only_the_store_token_counts(
    sim: MijnwebwinkelSimulator, server: ServerThread, http: requests.Session
) -> None:
    sim.partner_token = ""
    assert http.get(f"{server.url}/v1/store", params={"token": TOKEN}).status_code == 200
    assert http.get(f"{server.url}/v1/orderstatuses").status_code == 200


def test_limit_above_100_is_capped_and_bad_paging_is_refused(
    sim: MijnwebwinkelSimulator, server: ServerThread, http: requests.Session
) -> None:
    # The spec says "max: 100"; we judge the real API caps (PHP backends commonly
    # clamp) rather than refuses. A client asking for more sees a full page of 100.
    shop = sim.shop(TOKEN)
    for number in range(1001, 1151):
        shop.add_order(make_order(number, seed=number))
    assert len(get(http, server, "orders").json()) == 10  # the default limit
    assert len(get(http, server, "orders", limit=250).json()) == 100
    assert len(get(http, server, "orders", limit=100, offset=100).json()) == 50
    for bad in ({"limit": 0}, {"offset": -1}, {"limit": "x"}, {"ordering": "up"}):
        answer = get(http, server, "orders", **bad)
        assert answer.status_code == 400, bad
        validate({"$ref": "#/components/schemas/Error"}, answer.json())


def test_filters_and_ordering(
    sim: MijnwebwinkelSimulator, server: ServerThread, http: requests.Session
) -> None:
    shop = sim.shop(TOKEN)
    for day, status, number in ((1, 3, 1001), (2, 2, 1002), (3, 3, 1003), (4, 3, 1004)):
        shop.add_order(
            make_order(
                number, date=dt.date(2024, 5, day), status=status, email=f"k{number}@example.nl"
            )
        )
    shop.add_order(make_order(1005, kind="test", date=dt.date(2024, 5, 2)))
    shop.orders["1004"]["archived"] = True

    def numbers(**params: Any) -> list[Any]:
        return [o["number"] for o in get(http, server, "orders", **params).json()]

    assert numbers() == [1001, 1002, 1003, 1004]
    assert numbers(ordering="desc") == [1004, 1003, 1002, 1001]
    assert numbers(start_date="2024-05-02", end_date="2024-05-03") == [1002, 1003]
    assert numbers(status_id=3, start_date="2024-05-02") == [1003, 1004]
    assert numbers(archived="true") == [1004]
    assert numbers(archived="false") == [1001, 1002, 1003]
    assert numbers(debtor_email="K1002@example.nl") == [1002]
    assert numbers(test="true") == [1001, 1002, 1003, 1004, "T-1005"]
    count = get(http, server, "orders/count", status_id=3, archived="false").json()
    assert count == {"count": 2}
    assert get(http, server, "orders/count", test="true").json() == {"count": 5}
    # test orders only with test=true, on the single-order endpoint too
    assert get(http, server, "orders/T-1005").status_code == 404
    assert get(http, server, "orders/T-1005", test="true").json()["number"] == "T-1005"
    assert get(http, server, "orders/999").status_code == 404
    assert get(http, server, "orders", start_date="05-02-2024").status_code == 400


def test_status_changed_filters_are_inclusive_local_times(
    sim: MijnwebwinkelSimulator, server: ServerThread, http: requests.Session
) -> None:
    shop = sim.shop(TOKEN)
    shop.add_order(make_order(1001))
    shop.add_order(make_order(1002))
    shop.set_status(1001, 2, at=dt.datetime(2024, 6, 1, 12, 0, 0))  # naive = local
    shop.set_status(1002, 2, at=dt.datetime(2024, 6, 1, 10, 0, 1, tzinfo=dt.UTC))
    order = get(http, server, "orders/1002").json()
    assert (order["status_changed_date"], order["status_changed_time"]) == (
        "2024-06-01",
        "12:00:01",
    )  # CEST = UTC+2

    def numbers(start: str, end: str) -> list[Any]:
        answer = get(
            http, server, "orders", status_changed_start_date=start, status_changed_end_date=end
        )
        return [o["number"] for o in answer.json()]

    assert numbers("2024-06-01 12:00:00", "2024-06-01 12:00:00") == [1001]
    assert numbers("2024-06-01 12:00:00", "2024-06-01 12:00:01") == [1001, 1002]
    assert numbers("2024-06-01 12:00:01", "2024-06-01 13:00:00") == [1002]
    assert numbers("2024-06-01", "2024-06-01") == [1001, 1002]  # bare dates: whole day
    assert numbers("2024-06-02 00:00:00", "2024-06-03 00:00:00") == []


@pytest.mark.parametrize("utc_hour", [0, 1], ids=["first-0230-CEST", "second-0230-CET"])
def test_a_change_at_0230_on_the_autumn_dst_night_is_found(
    sim: MijnwebwinkelSimulator, server: ServerThread, utc_hour: int
) -> None:
    """27 Oct 2024: clocks go back at 03:00 CEST to 02:00 CET, so 02:30 happens twice
    (00:30 and 01:30 UTC). Both must be found by a local window around 02:30, and by
    the client given the same window as aware datetimes."""
    shop = sim.shop(TOKEN)
    shop.add_order(make_order(1001, date=dt.date(2024, 10, 26)))
    shop.add_order(make_order(1002, date=dt.date(2024, 10, 26)))
    at = dt.datetime(2024, 10, 27, utc_hour, 30, tzinfo=dt.UTC)
    shop.set_status(1001, 2, at=at)
    shop.set_status(1002, 2, at=dt.datetime(2024, 10, 27, 3, 30, tzinfo=dt.UTC))  # 04:30
    stored = shop.orders["1001"]
    assert (stored["status_changed_date"], stored["status_changed_time"]) == (
        "2024-10-27",
        "02:30:00",
    )
    client = MijnwebwinkelClient(TOKEN, partner_token=PARTNER, base_url=server.url)
    found = list(
        client.iter_orders_changed(
            dt.datetime(2024, 10, 27, 2, 0), dt.datetime(2024, 10, 27, 2, 59, 59)
        )
    )
    assert [s.number for s in found] == ["1001"]
    assert found[0].status_changed_at == dt.datetime(2024, 10, 27, 2, 30)
    # The same instant as an aware datetime: converted to local 02:30 by the client.
    aware = list(
        client.iter_orders_changed(at - dt.timedelta(minutes=5), at + dt.timedelta(minutes=5))
    )
    assert [s.number for s in aware] == ["1001"]
    assert at.astimezone(SHOP_TZ).strftime("%H:%M") == "02:30"


def test_quirks_mode_answers_in_the_live_shape(
    sim: MijnwebwinkelSimulator, server: ServerThread, http: requests.Session
) -> None:
    shop = sim.shop(TOKEN)
    shop.add_order(make_order(1001, kind="domestic", seed=3, status=6))  # picked up
    sim.quirks = True
    order = get(http, server, "orders/1001").json()
    assert order["number"] == "1001"
    assert isinstance(order["price"]["tax"], dict)  # one rate: one object
    assert order["price"]["tax"]["rate"] == "21.00"
    assert order["shipping"] == [{"country": []}]
    assert all(len(line["id"]) == 36 for line in order["orderlines"])
    assert isinstance(get(http, server, "orders").json()[0]["number"], str)


def test_faults_are_injected_per_operation(
    sim: MijnwebwinkelSimulator, server: ServerThread, http: requests.Session
) -> None:
    sim.faults.add("http_status", operation="store", status=429, retry_after=3)
    sim.faults.add("http_status", operation="count_orders", status=503)
    sim.faults.add("auth", operation="list_orders")
    answer = get(http, server, "store")
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "3")
    assert get(http, server, "store").status_code == 200
    assert get(http, server, "orders/count").status_code == 503
    assert get(http, server, "orders").status_code == 401
    sim.faults.add("drop", operation="store")
    with pytest.raises(requests.ConnectionError):
        get(http, server, "store")
    assert sim.faults.snapshot()["injected"] == {
        "http_status:store": 1,
        "http_status:count_orders": 1,
        "auth:list_orders": 1,
        "drop:store": 1,
    }


def test_http_control_api(server: ServerThread, http: requests.Session) -> None:
    base = f"{server.url}/_sandbox"
    assert http.post(f"{base}/shops", json={"token": "t2", "name": "Tweede"}).status_code == 201
    answer = http.post(f"{base}/shops/t2/orders", json={"count": 20, "seed": 3})
    numbers = answer.json()["numbers"]
    assert len(numbers) == 20 and numbers[0] == 1001
    extra = http.post(f"{base}/shops/t2/orders", json={"orders": [make_order(5000)]})
    assert extra.json()["numbers"] == [5000]
    stored = http.get(f"{base}/shops/t2/orders").json()
    assert len(stored) == 21
    changed = http.post(
        f"{base}/shops/t2/orders/5000/status",
        json={"status": 2, "at": "2024-07-01T10:00:00+00:00"},
    ).json()
    assert (changed["status"], changed["status_changed_time"]) == (2, "12:00:00")
    assert http.post(f"{base}/shops/nope/orders/1/status", json={"status": 2}).status_code == 404
    api = {"token": "t2", "partner_token": PARTNER}
    assert http.get(f"{server.url}/v1/orders/count", params=api).json()["count"] >= 19
    faults = http.post(
        f"{base}/faults", json={"add": [{"kind": "http_status", "status": 500}]}
    ).json()
    assert faults["pending"][0]["kind"] == "http_status"
    assert http.get(f"{server.url}/v1/store", params=api).status_code == 500
    assert http.post(f"{base}/shops/t2/revoke").json() == {"revoked": True}
    assert http.get(f"{server.url}/v1/store", params=api).status_code == 401


def test_generated_orders_have_no_future_status_changes() -> None:
    now = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
    sim = MijnwebwinkelSimulator(clock=lambda: now)
    orders = sim.add_shop(TOKEN).generate(50, seed=2)
    local_now = now.astimezone(SHOP_TZ).replace(tzinfo=None)
    for order in orders:
        changed = f"{order['status_changed_date']} {order['status_changed_time']}"
        assert dt.datetime.fromisoformat(changed) <= local_now
        assert dt.date.fromisoformat(order["date"]) <= local_now.date()


def test_a_credit_order_is_listed_on_the_order_it_credits(
    sim: MijnwebwinkelSimulator, server: ServerThread, http: requests.Session
) -> None:
    """NOTES.md §8: the original order lists its credit orders (``credit_order_numbers``);
    the connector allocates the sale's refunds over them."""
    shop = sim.shop(TOKEN)
    original = shop.add_order(make_order(3001, date=dt.date(2026, 11, 2)))
    for number in (3002, 3003):
        shop.add_order(make_order(number, kind="credit", credited=original))
    shop.add_order(make_order(3002, kind="credit", credited=original))  # stored again: once
    answer = get(http, server, "orders/3001")
    assert answer.status_code == 200
    assert answer.json()["credit_order_numbers"] == [3002, 3003]
    assert get(http, server, "orders/3002").json()["credited_order_number"] == 3001
