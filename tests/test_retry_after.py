"""``Retry-After`` as all three clients read it: seconds or an HTTP-date, capped."""

from __future__ import annotations

import datetime as dt

import pytest

from app.clients.retry_after import MAX_RETRY_AFTER_SECONDS, parse_retry_after

NOW = dt.datetime(2026, 12, 5, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("soon", None),
        ("nan", None),
        ("0", 0.0),
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),  # never a negative wait
        ("999999", MAX_RETRY_AFTER_SECONDS),  # a day at most
        ("Sat, 05 Dec 2026 12:00:30 GMT", 30.0),  # IMF-fixdate
        ("Saturday, 05-Dec-26 12:01:00 GMT", 60.0),  # obsolete RFC 850 form
        ("Sat Dec  5 12:00:10 2026", 10.0),  # asctime: GMT by definition
        ("Sat, 05 Dec 2026 11:00:00 GMT", 0.0),  # in the past: now
        ("Wed, 21 Oct 2099 07:28:00 GMT", MAX_RETRY_AFTER_SECONDS),
        ("Sat, 45 Foo 2026 99:00:00 GMT", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, now=lambda: NOW) == seconds
