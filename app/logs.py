"""Logging: JSON lines in production, readable text in development.

Context (shop, order, job ids) travels in ``extra={...}`` and is printed on every line.
Secrets never reach a log call: clients redact URLs and hold credentials in fields with
``repr=False``. What other libraries log (urllib3's request lines carry the Mijnwebwinkel
tokens) is redacted by filters that :func:`install_redaction` adds: every process calls
it once at start (``configure_logging`` does, and ``create_app`` for the web).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.clients.mijnwebwinkel import install_log_filter
from app.config import Settings

CONTEXT_KEYS = ("shop_id", "order", "job_id", "mutation", "run_id", "mode")
_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "log_context", default=None
)


@contextmanager
def bind(**values: Any) -> Iterator[None]:
    """Add ``values`` (e.g. job_id, shop_id, order) to every log line inside the block."""
    token = _context.set({**(_context.get() or {}), **values})
    try:
        yield
    finally:
        _context.reset(token)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    values = dict(_context.get() or {})
    values.update({k: getattr(record, k) for k in CONTEXT_KEYS if hasattr(record, k)})
    return values


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update(_fields(record))
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{k}={v}" for k, v in _fields(record).items())
        return f"{line} {context}" if context else line


def install_redaction() -> None:
    """Add the log filters that keep secrets out of third-party log records. Idempotent."""
    install_log_filter()


def configure_logging(settings: Settings) -> None:
    install_redaction()
    handler = logging.StreamHandler(sys.stdout)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    logging.getLogger("zeep").setLevel(logging.WARNING)
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    if settings.rq_log_level:  # "rq.worker: bookings: Job OK (…)" for every job
        # rq.worker sets itself to INFO when first imported unless a level is set: each
        # of RQ's loggers gets it explicitly.
        for name in ("rq", "rq.worker", "rq.job", "rq.queue", "rq.scheduler"):
            logging.getLogger(name).setLevel(settings.rq_log_level)
