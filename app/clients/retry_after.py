"""``Retry-After`` read once for all three clients (RFC 9110 §10.2.3: delay-seconds or an
HTTP-date), and how long a client may wait for it inside the call.

A wait up to ``IN_CALL_WAIT_SECONDS`` is slept in the call itself (a short burst limit);
a longer one goes up as ``RateLimitedError.retry_after`` and the booking job is deferred
until then (app/jobs/defer.py) instead of holding a worker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.utils import parsedate_to_datetime

IN_CALL_WAIT_SECONDS = 5.0  # a longer Retry-After is not slept inside a call
MAX_RETRY_AFTER_SECONDS = 24 * 3600.0  # a hint beyond a day is taken as a day


def parse_retry_after(
    value: str | None, now: Callable[[], dt.datetime] | None = None
) -> float | None:
    """Seconds to wait (0 or more, at most a day), or None when absent or unreadable.
    An HTTP-date in the past means "now" (0)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110: an HTTP-date is always GMT
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or (lambda: dt.datetime.now(dt.UTC)))()).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)
