"""The two worker classes ``python -m worker`` can run (``WORKER_MODE``).

``fork``: RQ's HerokuWorker — a work horse forked per job. A job that crashes the
interpreter or leaks memory takes only its horse with it; the fork and the horse's
set-up cost every job.

``simple`` (the default; docs/benchmarks.md §5 has the measurements behind the choice):
jobs run in the worker process itself, with HerokuWorker's SIGTERM behaviour — the
running job gets ``imminent_shutdown_delay`` seconds to finish, then
``ShutDownImminentException`` is raised inside it, so RQ's Retry requeues it, well within
a platform's 30 s between SIGTERM and SIGKILL. A worker that dies mid-job (SIGKILL, OOM,
a crash) loses no booking: the register's lease and the look-up by Factuurnummer before any
repost cover it, as they cover a killed work horse.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

from rq.exceptions import ShutDownImminentException
from rq.worker import HerokuWorker, SimpleWorker, WorkerStatus

MODES = ("simple", "fork")


class BookingWorker(SimpleWorker):
    """RQ's non-forking worker, stopping like HerokuWorker on SIGTERM.

    ``handle_warm_shutdown_request`` is the hook RQ calls on the first SIGTERM (its own
    HerokuWorker extends it the same way); everything else is SimpleWorker as it is.
    tests/test_rq_contract.py pins that RQ still calls it, and that an exception raised
    inside a job is retried by the job's ``Retry``.
    """

    imminent_shutdown_delay: float = HerokuWorker.imminent_shutdown_delay  # seconds (6)

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()
        if self.get_state() != WorkerStatus.BUSY:
            return
        # The job runs in this (main) thread: a signal to ourselves interrupts it there.
        signal.signal(signal.SIGRTMIN, self._raise_imminent)
        timer = threading.Timer(
            self.imminent_shutdown_delay, os.kill, (os.getpid(), signal.SIGRTMIN)
        )
        timer.daemon = True
        timer.start()
        self.log.warning(
            "Imminent shutdown: the running job has %s s to finish", self.imminent_shutdown_delay
        )

    def _raise_imminent(self, signum: int, frame: FrameType | None) -> None:
        if self.get_state() != WorkerStatus.BUSY:
            return  # the job finished just in time; the loop stops on its own
        self.log.warning("raising ShutDownImminentException to cancel the job")
        raise ShutDownImminentException("shut down imminent (signal: SIGRTMIN)", {})


def worker_class(mode: str) -> type[SimpleWorker] | type[HerokuWorker]:
    if mode not in MODES:
        raise ValueError(f"WORKER_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    return BookingWorker if mode == "simple" else HerokuWorker
