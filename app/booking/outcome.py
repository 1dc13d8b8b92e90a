"""What booking one order did: the job's result and ``flask book``'s JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from app.states import JobOutcome


@dataclass(frozen=True, slots=True)
class Outcome:
    status: JobOutcome
    order_number: str
    mutation_number: int | None = None
    reason: str = ""
    payment_state: str = ""  # app.states.OrderPayment when payments are tracked
    payments_booked: int = 0

    def as_dict(self) -> dict[str, object]:
        return asdict(self)
