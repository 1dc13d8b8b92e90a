"""The fast poll's back-off: how long a shop waits for its next poll (pure).

A shop's fast poll runs every ``POLL_INTERVAL_SECONDS`` (the base, 5 minutes) while it
is busy. Each empty poll (no status change found, nothing to book or settle) makes the
next wait longer: the interval is multiplied by ``POLL_BACKOFF_FACTOR`` (2), except that
a step whose own next step would pass ``POLL_IDLE_MAX_SECONDS`` (1 hour) goes straight to
that maximum (no short last step). With the defaults: 5 → 10 → 20 → 60 minutes. A hit
(a poll or pass that found something), a notification or a person looking at the shop's
pages sets the count of empty polls back to 0: the base interval again.
``POLL_IDLE_MAX_SECONDS`` equal to the base (or a factor of 1) switches back-off off:
every shop is polled at the base. The hourly pass runs for every shop whatever its
back-off (README, Adaptive polling).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_STEPS = 32  # more empty polls in a row than this change nothing


@dataclass(frozen=True, slots=True)
class Backoff:
    """The rule's parameters (from Settings): base and maximum interval in seconds and
    the factor per empty poll."""

    base: float
    maximum: float
    factor: float = 2.0

    @property
    def enabled(self) -> bool:
        return self.base > 0 and self.maximum > self.base and self.factor > 1

    def interval(self, empty_polls: int) -> float:
        """Seconds until the next fast poll after ``empty_polls`` empty polls in a row."""
        if not self.enabled:
            return self.base
        interval = self.base
        for _ in range(min(max(empty_polls, 0), MAX_STEPS)):
            if interval * self.factor * self.factor > self.maximum:
                return self.maximum  # the next step would overshoot: straight to the top
            interval *= self.factor
        return min(interval, self.maximum)
