"""The two worker classes ``python -m worker`` can run (``WORKER_MODE``).

``fork``: RQ's HerokuWorker — a work horse forked per job. A job that crashes the
interpreter or leaks memory takes only its horse with it; the fork and the horse's
set-up cost every job.

``simple`` (the default; docs/benchmarks.md §5 has the measurements behind the choice):
jobs run in the worker process itself, with HerokuWorker's SIGTERM behaviour — the
running job gets ``imminent_shutdown_delay`` seconds to finish, then
``ShutDownImminentException`` is raised inside it, so RQ's Retry requeues it, well within
a platform's 30 s between SIGTERM and SIGKILL. A worker that dies mid-job (SIGKILL, OOM,
a crash) loses no booking: the ledger's lease and the look-up by Factuurnummer before any
repost cover it, as they cover a killed work horse.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from types import FrameType
from typing import Any

from rq.exceptions import ShutDownImminentException
from rq.utils import now
from rq.worker import HerokuWorker, SimpleWorker, WorkerStatus

MODES = ("simple", "fork")


class BookingWorker(SimpleWorker):
    """A non-forking worker that stops like HerokuWorker on SIGTERM, with fewer Redis
    round trips per job than RQ's own (9 → 6: docs/benchmarks.md §5)."""

    imminent_shutdown_delay = HerokuWorker.imminent_shutdown_delay  # seconds (6)
    # RQ renews the worker's key three times per job outside a pipeline (three round
    # trips each: 9 of a job's 57 Redis commands); the key lives worker_ttl + 60 s
    # (480 s), so one renewal every few seconds keeps it as alive. Heartbeats inside
    # RQ's pipelines (job start and end, with their own timeouts) are never skipped.
    heartbeat_every = 5.0

    # RQ asks Redis whether workers are suspended (`rq suspend`) before every job; once a
    # second is as good for a person typing the command.
    suspension_check_every = 1.0
    _suspension_checked = 0.0

    def check_for_suspension(self, burst: bool) -> None:
        moment = time.monotonic()
        if moment - self._suspension_checked < self.suspension_check_every:
            return
        self._suspension_checked = moment
        super().check_for_suspension(burst)

    def set_state(self, state: str, pipeline: Any = None) -> None:
        if pipeline is None and state == self._state:
            return  # RQ sets IDLE after each job and again before the next one
        super().set_state(state, pipeline=pipeline)

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        if pipeline is not None or timeout is not None:
            super().heartbeat(timeout, pipeline=pipeline)
            return
        last = self.last_heartbeat
        if last is not None and (now() - last).total_seconds() < self.heartbeat_every:
            return
        pipe = self.connection.pipeline()
        super().heartbeat(pipeline=pipe)
        pipe.execute()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._imminent: threading.Timer | None = None

    def handle_warm_shutdown_request(self) -> None:
        super().handle_warm_shutdown_request()
        if self.get_state() != WorkerStatus.BUSY:
            return
        # The job runs in this (main) thread: a signal to ourselves interrupts it there.
        signal.signal(signal.SIGRTMIN, self._raise_imminent)
        pid = os.getpid()
        self._imminent = threading.Timer(
            self.imminent_shutdown_delay, os.kill, (pid, signal.SIGRTMIN)
        )
        self._imminent.daemon = True
        self._imminent.start()
        self.log.warning(
            "Imminent shutdown: the running job has %d s to finish", self.imminent_shutdown_delay
        )

    def _raise_imminent(self, signum: int, frame: FrameType | None) -> None:
        if self.get_state() != WorkerStatus.BUSY:
            return  # the job finished just in time; the loop stops on its own
        self.log.warning("raising ShutDownImminentException to cancel the job")
        raise ShutDownImminentException("shut down imminent (signal: SIGRTMIN)", {})

    def execute_job(self, job: Any, queue: Any) -> None:
        try:
            super().execute_job(job, queue)
        finally:
            if self._imminent is not None:
                self._imminent.cancel()


def worker_class(mode: str) -> type[SimpleWorker] | type[HerokuWorker]:
    if mode not in MODES:
        raise ValueError(f"WORKER_MODE must be one of {', '.join(MODES)}, not {mode!r}")
    return BookingWorker if mode == "simple" else HerokuWorker
