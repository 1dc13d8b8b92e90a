"""The real Mijnwebwinkel client against the simulator over HTTP on loopback."""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import socket
import traceback
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests

from app.clients.mijnwebwinkel import MijnwebwinkelClient, redact_url, shared_session
from app.config import Settings
from app.core.order_schema import parse_order
from app.core.orders import OrderStatus
from app.core.payment_facts import PaymentFacts
from app.errors import (
    OrderNotFoundError,
    RateLimitedError,
    ShopAuthError,
    UpstreamError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)
from sandbox.mijnwebwinkel import MijnwebwinkelSimulator, validate_response
from sandbox.order_factory import make_order, make_orders

TOKEN = "SHOPtok-7c1e9a55-secret"
PARTNER = "PARTNERtok-0b3d22f1-secret"
SECRETS = (TOKEN, PARTNER)
WINDOW = (dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))


@pytest.fixture
def sim(switch: Any) -> MijnwebwinkelSimulator:
    sim = MijnwebwinkelSimulator(partner_token=PARTNER)
    sim.add_shop(TOKEN, name="Het Winkeltje")
    switch.app = sim
    return sim


@pytest.fixture
def url(switch: Any, sim: MijnwebwinkelSimulator) -> str:
    return str(switch.url)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def make_client(url: str, waits: list[float]) -> Callable[..., MijnwebwinkelClient]:
    def make(**kwargs: Any) -> MijnwebwinkelClient:
        options: dict[str, Any] = {
            "partner_token": PARTNER,
            "base_url": url,
            "timeout": 2.0,
            "sleep": waits.append,
        }
        return MijnwebwinkelClient(kwargs.pop("token", TOKEN), **{**options, **kwargs})

    return make


@pytest.fixture
def client(make_client: Callable[..., MijnwebwinkelClient]) -> MijnwebwinkelClient:
    return make_client()


def calls(sim: MijnwebwinkelSimulator, operation: str) -> list[dict[str, str]]:
    return [args for op, args in sim.calls if op == operation]


def assert_no_secrets(err: BaseException) -> None:
    texts = [
        str(err),
        repr(err),
        getattr(err, "explanation", ""),
        "".join(traceback.format_exception(err)),
    ]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    assert err.__cause__ is None and err.__context__ is None


# -- operations ---------------------------------------------------------------------------


def test_get_order_returns_the_parsed_order(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient
) -> None:
    order = make_order(1001, kind="mixed_rates", seed=4)
    sim.shop(TOKEN).add_order(order)
    assert client.get_order("1001") == parse_order(order)
    (args,) = calls(sim, "get_order")
    assert args == {"token": "***", "partner_token": "***", "format": "json", "language": "nl_NL"}


def test_get_unknown_order_raises_order_not_found(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient, waits: list[float]
) -> None:
    with pytest.raises(OrderNotFoundError) as caught:
        client.get_order("999")
    err = caught.value
    assert "Bestelling 999 bestaat niet (meer) in Mijnwebwinkel" in err.explanation
    assert (err.system, err.operation, err.code, err.retryable) == (
        "mijnwebwinkel",
        "get_order",
        "http_404",
        False,
    )
    assert len(calls(sim, "get_order")) == 1 and waits == []
    assert_no_secrets(err)


@pytest.mark.parametrize(("count", "offsets"), [(250, [0, 100, 200]), (100, [0, 100]), (0, [0])])
def test_paging_until_a_short_page(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient, count: int, offsets: list[int]
) -> None:
    shop = sim.shop(TOKEN)
    for number in range(1001, 1001 + count):
        shop.add_order(make_order(number, seed=number, date=dt.date(2024, 3, 1)))
    summaries = list(
        client.iter_orders_changed(
            dt.datetime(2024, 3, 1, 0, 0), dt.datetime(2024, 3, 31, 23, 59, 59)
        )
    )
    assert [s.number for s in summaries] == [str(n) for n in range(1001, 1001 + count)]
    pages = calls(sim, "list_orders")
    assert [int(p["offset"]) for p in pages] == offsets
    for page in pages:
        assert (page["limit"], page["ordering"]) == ("100", "asc")
        assert page["status_changed_start_date"] == "2024-03-01 00:00:00"
        assert page["status_changed_end_date"] == "2024-03-31 23:59:59"


def test_iter_orders_by_date_filters_on_date_and_status(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient
) -> None:
    shop = sim.shop(TOKEN)
    for number, day, status in ((1001, 1, 3), (1002, 2, 3), (1003, 2, 2), (1004, 9, 3)):
        shop.add_order(make_order(number, date=dt.date(2024, 4, day), status=status))
    found = list(client.iter_orders_by_date(dt.date(2024, 4, 1), dt.date(2024, 4, 5), 3))
    assert [(s.number, s.status) for s in found] == [("1001", 3), ("1002", 3)]
    (args,) = calls(sim, "list_orders")
    assert (args["start_date"], args["end_date"], args["status_id"]) == (
        "2024-04-01",
        "2024-04-05",
        "3",
    )


def test_repeats_are_dropped_when_an_order_shifts_between_pages(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient, url: str
) -> None:
    """An order entering the result set *before* the current offset during the pass
    (here: a status change to Betaald) shifts the rest by one, so page 2 starts with
    the last order of page 1 again. The client yields it once."""
    shop = sim.shop(TOKEN)
    shop.add_order(make_order(1000, date=dt.date(2024, 4, 1), status=1))
    for number in range(1001, 1151):
        shop.add_order(make_order(number, seed=number, date=dt.date(2024, 4, 2)))
    summaries = client.iter_orders_by_date(dt.date(2024, 4, 1), dt.date(2024, 4, 30), 3)
    first = list(itertools.islice(summaries, 100))
    shop.set_status(1000, 3)  # between the two page requests
    rest = list(summaries)
    numbers = [s.number for s in first + rest]
    assert numbers == [str(n) for n in range(1001, 1151)]
    assert len({s.uuid for s in first + rest}) == 150
    assert [int(p["offset"]) for p in calls(sim, "list_orders")] == [0, 100]
    # the server did send 1100 twice: it was last on page 1 and is first on page 2 now
    page2 = requests.get(
        f"{url}/v1/orders",
        params={
            "token": TOKEN,
            "partner_token": PARTNER,
            "status_id": 3,
            "limit": 100,
            "offset": 100,
            "start_date": "2024-04-01",
            "end_date": "2024-04-30",
        },
        timeout=5,
    ).json()
    assert [o["number"] for o in page2][:1] == [1100] and len(page2) == 51


def test_count_orders_passes_the_filters(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient
) -> None:
    shop = sim.shop(TOKEN)
    for number, status in ((1001, 3), (1002, 3), (1003, 2)):
        shop.add_order(make_order(number, date=dt.date(2024, 5, 1), status=status))
    shop.add_order(make_order(1004, kind="test", date=dt.date(2024, 5, 1)))
    assert client.count_orders() == 3
    assert client.count_orders(status_id=3, start_date=dt.date(2024, 5, 1)) == 2
    assert client.count_orders(test=True) == 4
    assert (
        client.count_orders(status_changed_start_date=dt.datetime(2030, 1, 1), archived=False) == 0
    )
    args = calls(sim, "count_orders")
    assert args[1]["start_date"] == "2024-05-01" and args[2]["test"] == "true"
    assert args[3]["status_changed_start_date"] == "2030-01-01 00:00:00"
    assert args[3]["archived"] == "false"
    with pytest.raises(TypeError, match="unknown order-count filters"):
        client.count_orders(limit=5)


def test_order_statuses_send_only_the_partner_token(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient
) -> None:
    statuses = client.order_statuses()
    assert OrderStatus(3, "Betaald", False) in statuses
    assert OrderStatus(10, "Gecrediteerd", True) in statuses
    (args,) = calls(sim, "order_statuses")
    assert "token" not in args and args["partner_token"] == "***"


def test_without_a_partner_token_the_store_token_is_sent(
    sim: MijnwebwinkelSimulator, make_client: Callable[..., MijnwebwinkelClient]
) -> None:
    sim.partner_token = ""
    client = make_client(partner_token="")
    assert client.store().name == "Het Winkeltje"
    assert len(client.order_statuses()) == 8
    for _, args in sim.calls:
        assert "partner_token" not in args and args["token"] == "***"


def test_store(sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient) -> None:
    store = client.store()
    assert (store.id, store.name, store.currency, store.region_code) == (
        sim.shop(TOKEN).id,
        "Het Winkeltje",
        "EUR",
        "NL",
    )
    assert store.extra["available_business_models"] == "ALL"


def test_quirks_mode_is_parsed_identically(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient
) -> None:
    shop = sim.shop(TOKEN)
    orders = make_orders(60, seed=21)
    for order in orders:
        shop.add_order(order)
    numbers = [str(o["number"]) for o in orders if isinstance(o["number"], int)]
    spec = [client.get_order(n) for n in numbers]
    spec_list = list(client.iter_orders_changed(*WINDOW))
    sim.quirks = True
    live = [client.get_order(n) for n in numbers]
    assert live == spec
    assert list(client.iter_orders_changed(*WINDOW)) == spec_list
    assert any(len(o.tax) == 1 for o in live)  # the single-tax-object case was exercised


def test_shared_session_and_from_settings(url: str) -> None:
    first = MijnwebwinkelClient(TOKEN)
    second = MijnwebwinkelClient("other")
    assert first._session is second._session is shared_session()
    settings = Settings(
        mijnwebwinkel_api_url=url, mijnwebwinkel_partner_token=PARTNER, http_timeout=3.0
    )
    client = MijnwebwinkelClient.from_settings(settings, TOKEN)
    assert client.store().name == "Het Winkeltje"
    assert TOKEN not in repr(client) and PARTNER not in repr(client)


# -- faults -------------------------------------------------------------------------------


def test_429_honours_retry_after(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient, waits: list[float]
) -> None:
    sim.faults.add("http_status", operation="store", times=2, status=429, retry_after=3)
    assert client.store().name == "Het Winkeltje"
    assert waits == [3.0, 3.0]


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("86400", 86400.0),  # seconds: a day is not slept in the call
        ("60", 60.0),
        ("Wed, 21 Oct 2099 07:28:00 GMT", 86400.0),  # an HTTP-date: capped at a day
    ],
    ids=["a-day", "a-minute", "http-date"],
)
def test_a_long_retry_after_is_not_slept_but_goes_up_for_the_job_queue(
    sim: MijnwebwinkelSimulator,
    client: MijnwebwinkelClient,
    waits: list[float],
    retry_after: str,
    expected: float,
) -> None:
    sim.faults.add("http_status", operation="store", status=429, retry_after=retry_after)
    with pytest.raises(RateLimitedError) as caught:
        client.store()
    assert caught.value.retry_after == expected and waits == []
    assert len(calls(sim, "store")) == 1


def test_429_until_the_retries_run_out_raises_rate_limited(
    sim: MijnwebwinkelSimulator,
    make_client: Callable[..., MijnwebwinkelClient],
    waits: list[float],
) -> None:
    sim.faults.add("http_status", operation="count_orders", times=None, status=429, retry_after=2)
    with pytest.raises(RateLimitedError) as caught:
        make_client(max_retries=2).count_orders()
    err = caught.value
    assert (err.retry_after, err.code, err.operation, err.retryable) == (
        2.0,
        "http_429",
        "count_orders",
        True,
    )
    assert len(calls(sim, "count_orders")) == 3 and waits == [2.0, 2.0]
    assert_no_secrets(err)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_with_backoff(
    sim: MijnwebwinkelSimulator,
    make_client: Callable[..., MijnwebwinkelClient],
    waits: list[float],
    status: int,
) -> None:
    sim.shop(TOKEN).add_order(make_order(1001))
    sim.faults.add("http_status", operation="get_order", times=3, status=status)
    assert make_client(backoff=0.5).get_order("1001").number == "1001"
    assert len(waits) == 3
    for retry, wait in enumerate(waits):  # equal jitter: [base/2, base], base doubling
        base = 0.5 * 2**retry
        assert base / 2 <= wait <= base


def test_5xx_until_the_retries_run_out_raises_unavailable(
    sim: MijnwebwinkelSimulator,
    make_client: Callable[..., MijnwebwinkelClient],
    waits: list[float],
) -> None:
    sim.faults.add("http_status", operation="list_orders", times=None, status=503)
    with pytest.raises(UpstreamUnavailableError) as caught:
        list(make_client(max_retries=3).iter_orders_changed(*WINDOW))
    err = caught.value
    assert type(err) is UpstreamUnavailableError and err.retryable
    assert (err.system, err.operation, err.code) == ("mijnwebwinkel", "list_orders", "http_503")
    assert "tijdelijk niet bereikbaar" in err.explanation
    assert len(calls(sim, "list_orders")) == 4 and len(waits) == 3
    assert_no_secrets(err)


def test_timeout_is_retried(
    sim: MijnwebwinkelSimulator,
    make_client: Callable[..., MijnwebwinkelClient],
    waits: list[float],
) -> None:
    sim.faults.add("timeout", operation="store", seconds=0.6)
    assert make_client(timeout=0.2).store().name == "Het Winkeltje"
    assert len(waits) == 1


def test_timeouts_until_the_retries_run_out(
    sim: MijnwebwinkelSimulator, make_client: Callable[..., MijnwebwinkelClient]
) -> None:
    sim.faults.add("timeout", operation="store", times=2, seconds=0.6)
    with pytest.raises(UpstreamUnavailableError) as caught:
        make_client(timeout=0.2, max_retries=1).store()
    assert caught.value.code == "timeout"
    assert_no_secrets(caught.value)


def test_dropped_connections_are_retried(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient, waits: list[float]
) -> None:
    sim.faults.add("drop", operation="order_statuses", times=2)
    assert len(client.order_statuses()) == 8
    assert len(waits) == 2


def test_dropped_connections_until_the_retries_run_out(
    sim: MijnwebwinkelSimulator, make_client: Callable[..., MijnwebwinkelClient]
) -> None:
    sim.faults.add("drop", operation="store", times=None)
    with pytest.raises(UpstreamUnavailableError) as caught:
        make_client(max_retries=1).store()
    assert caught.value.code == "connection_error"
    assert_no_secrets(caught.value)


@pytest.mark.parametrize("how", ["fault", "revoked", "wrong-token"])
def test_401_raises_shop_auth_error_without_retrying(
    sim: MijnwebwinkelSimulator,
    make_client: Callable[..., MijnwebwinkelClient],
    waits: list[float],
    how: str,
) -> None:
    if how == "fault":
        sim.faults.add("auth", operation="list_orders")
    elif how == "revoked":
        sim.revoke(TOKEN)
    client = make_client(token="not-the-token" if how == "wrong-token" else TOKEN)
    with pytest.raises(ShopAuthError) as caught:
        list(client.iter_orders_changed(*WINDOW))
    err = caught.value
    assert (err.system, err.operation, err.code, err.retryable) == (
        "mijnwebwinkel",
        "list_orders",
        "http_401",
        False,
    )
    assert "onjuist of ingetrokken" in err.explanation
    assert "Instellingen > API > Token toevoegen" in err.explanation
    assert len(calls(sim, "list_orders")) == 1 and waits == []
    assert_no_secrets(err)


def test_a_refused_partner_token_is_explained_as_such(
    sim: MijnwebwinkelSimulator, make_client: Callable[..., MijnwebwinkelClient]
) -> None:
    with pytest.raises(ShopAuthError) as caught:
        make_client(partner_token="wrong-partner").order_statuses()
    assert "partnertoken" in caught.value.explanation


def test_other_4xx_is_rejected_without_retrying(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient, waits: list[float]
) -> None:
    sim.faults.add("http_status", operation="store", status=400)
    with pytest.raises(UpstreamRejectedError) as caught:
        client.store()
    err = caught.value
    assert type(err) is UpstreamRejectedError and not err.retryable
    assert err.code == "http_400" and "simulated fault" in str(err)
    assert waits == []
    assert_no_secrets(err)


def test_connection_refused(make_client: Callable[..., MijnwebwinkelClient]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(UpstreamUnavailableError) as caught:
        client.store()
    err = caught.value
    assert err.code == "connection_error" and "token=***" in str(err)
    assert_no_secrets(err)


def test_metrics_are_reported_per_http_call(
    sim: MijnwebwinkelSimulator, make_client: Callable[..., MijnwebwinkelClient]
) -> None:
    seen: list[tuple[str, str, float]] = []
    client = make_client(metrics=lambda *args: seen.append(args))
    sim.faults.add("http_status", operation="store", status=503)
    client.store()
    with pytest.raises(OrderNotFoundError):
        client.get_order("1")
    assert [(op, outcome) for op, outcome, _ in seen] == [
        ("store", "http_503"),
        ("store", "ok"),
        ("get_order", "http_404"),
    ]
    assert all(seconds >= 0 for _, _, seconds in seen)


# -- secrets ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.myonlinestore.com/v1/store?token=abc&partner_token=def&format=json",
            "https://api.myonlinestore.com/v1/store?token=***&partner_token=***&format=json",
        ),
        ("/v1/orders?format=json&TOKEN=abc", "/v1/orders?format=json&TOKEN=***"),
        (
            "Max retries exceeded with url: /v1/store?partner_token=x%3Dy (Caused by X)",
            "Max retries exceeded with url: /v1/store?partner_token=*** (Caused by X)",
        ),
        ("/v1/orders?mytoken=abc&token=", "/v1/orders?mytoken=abc&token=***"),
        ("no url here", "no url here"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_tokens_never_reach_the_logs(
    sim: MijnwebwinkelSimulator,
    make_client: Callable[..., MijnwebwinkelClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    sim.shop(TOKEN).add_order(make_order(1001))
    sim.faults.add("http_status", operation="store", status=503)
    sim.faults.add("drop", operation="count_orders")
    client.store()
    client.count_orders()
    client.get_order("1001")
    client.order_statuses()
    with pytest.raises(ShopAuthError):
        make_client(token="WRONGtok-5e5e").store()
    with pytest.raises(UpstreamError):
        make_client(base_url="http://127.0.0.1:9", max_retries=0).store()
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "token=***" in text  # urllib3's request lines were logged, redacted
    for secret in (*SECRETS, "WRONGtok-5e5e"):
        assert secret not in text


def test_latency_is_measured(
    sim: MijnwebwinkelSimulator, make_client: Callable[..., MijnwebwinkelClient]
) -> None:
    seen: list[tuple[str, str, float]] = []
    sim.faults.add("latency", operation="store", seconds=0.15)
    make_client(metrics=lambda *args: seen.append(args)).store()
    assert [(op, outcome) for op, outcome, _ in seen] == [("store", "ok")]
    assert seen[0][2] >= 0.15


def test_an_unreadable_listed_order_is_skipped_and_logged(
    sim: MijnwebwinkelSimulator,
    client: MijnwebwinkelClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shop = sim.shop(TOKEN)
    shop.add_order(make_order(1001))
    broken = make_order(1002)
    broken["status"] = "kapot"
    shop.add_order(broken)
    shop.add_order(make_order(1003))
    assert [s.number for s in client.iter_orders_changed(*WINDOW)] == ["1001", "1003"]
    assert "skipped an order" in caplog.text and "status" in caplog.text


# --- payments ---------------------------------------------------------------------------


def test_the_payments_listing_is_served_as_the_spec_defines_it_and_parsed(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient, url: str
) -> None:
    shop = sim.shop(TOKEN)
    order = make_order(4001, status=2, date=dt.date(2026, 3, 2))
    order["payment"] = {
        "gateway_name": "basic",
        "method_name": "in_arrears",
        "status": {"id": 5, "text": "Pending"},
    }
    order["payment_status"] = "pending"
    shop.add_order(order)
    total = int(Decimal(str(order["price"]["total"])) * 100)
    assert client.order_payments("4001") == PaymentFacts((), "listing", ())  # not asked yet
    shop.pay(4001, "fail", method="ideal", at=dt.datetime(2026, 3, 3, 9, 0))
    shop.pay(4001, "capture", amount=1000, at=dt.datetime(2026, 3, 5, 9, 0))
    shop.pay(4001, "capture", amount=total - 1000, at=dt.datetime(2026, 3, 9, 23, 30))
    shop.pay(4001, "refund", amount=500, at=dt.datetime(2026, 3, 12, 10, 0))
    raw = requests.get(
        f"{url}/v1/orders/4001/payments",
        params={"token": TOKEN, "partner_token": PARTNER, "embed": "mutations"},
        timeout=5,
    ).json()
    validate_response("order_payments", raw)
    facts = client.order_payments("4001")
    assert facts is not None and facts.methods == ("ideal", "in_arrears")
    moves = [(m.kind, m.date, m.amount, m.method) for m in facts.movements]
    assert moves == [
        ("capture", dt.date(2026, 3, 5), Decimal("10.00"), "in_arrears"),
        ("capture", dt.date(2026, 3, 9), Decimal(total - 1000) / 100, "in_arrears"),
        ("refund", dt.date(2026, 3, 12), Decimal("5.00"), "in_arrears"),
    ]
    assert calls(sim, "order_payments")[-1]["embed"] == "mutations"
    assert shop.orders["4001"]["payment_status"] == "captured"  # the deprecated field follows


def test_no_payments_listing_means_none_and_the_fallback(
    sim: MijnwebwinkelSimulator,
    client: MijnwebwinkelClient,
    make_client: Callable[..., MijnwebwinkelClient],
) -> None:
    sim.shop(TOKEN).add_order(make_order(4002, status=3))
    sim.faults.add("http_status", operation="order_payments", status=404)
    assert client.order_payments("4002") is None
    sim.faults.add("http_status", operation="order_payments", status=503, times=None)
    with pytest.raises(UpstreamUnavailableError):
        make_client(max_retries=0).order_payments("4002")  # transient: no fallback


def test_the_shops_payment_methods(
    sim: MijnwebwinkelSimulator, client: MijnwebwinkelClient, url: str
) -> None:
    for number, method in ((4003, "ideal"), (4004, "cash"), (4005, "ideal")):
        order = make_order(number)
        order["payment"] = {"gateway_name": "basic", "method_name": method, "status": {"id": 1}}
        sim.shop(TOKEN).add_order(order)
    assert sorted(client.payment_methods()) == [("cash", "cash"), ("ideal", "ideal")]
    raw = requests.get(
        f"{url}/v1/payment/stores/me/gateways",
        params={"token": TOKEN, "partner_token": PARTNER},
        timeout=5,
    ).json()
    validate_response("payment_methods", raw)
