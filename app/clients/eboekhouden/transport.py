"""e-Boekhouden's SOAP transport: the HTTP session, the WSDL, one call and its failures.

- The WSDL is package data (``eboekhouden.wsdl``), parsed once per process and never
  fetched from the network; each client binds its own address (``create_service``).
- zeep's own DEBUG logging of envelopes is bypassed (see ``_Transport.post``): it would
  carry the security codes and session id.
- ``send`` makes one SOAP call and turns every way it can fail (SOAP fault, HTTP status,
  timeout, connection error, WSDL mismatch, unreadable XML) into an ``UpstreamError``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import zeep
import zeep.exceptions
import zeep.helpers
from requests.adapters import HTTPAdapter, Retry
from zeep.wsdl import Document

from app.clients.eboekhouden import errors as errs
from app.clients.retry_after import parse_retry_after
from app.clients.sessions import ProcessSession
from app.errors import (
    RateLimitedError,
    UpstreamError,
    UpstreamRejectedError,
    UpstreamUnavailableError,
)

WSDL_PATH = Path(__file__).with_name("eboekhouden.wsdl")
BINDING = "{http://www.e-boekhouden.nl/soap}soapAppSoap"
SYSTEM = errs.SYSTEM

# A wrong EBOEKHOUDEN_SOAP_URL setting: permanent, not worth retrying.
_BAD_URL = (
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidURL,
)
_SETTINGS = zeep.Settings(strict=True, xml_huge_tree=False, forbid_entities=True)


class _HttpStatusError(Exception):
    """A non-SOAP HTTP answer (raised from inside zeep's call, caught in ``send``)."""

    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class _Transport(zeep.Transport):
    """zeep's Transport, minus its DEBUG log of every envelope (which would carry the
    security codes and session id), with a (connect, read) timeout, no redirects (requests
    would turn a redirected POST into a GET) and HTTP status checks: only 200 and a 500
    carrying a SOAP envelope (a Fault) go on to zeep."""

    def post(self, address: str, message: Any, headers: dict[str, str]) -> requests.Response:
        response = self.session.post(
            address,
            data=message,
            headers=headers,
            timeout=(self.load_timeout, self.operation_timeout),
            allow_redirects=False,
        )
        if response.status_code == 200:
            return response
        if response.status_code == 500 and b"Envelope" in response.content[:2000]:
            return response
        raise _HttpStatusError(response.status_code, response.headers.get("Retry-After"))


def _configure(session: requests.Session) -> None:
    # Only connection *establishment* is retried: a request that may have reached the
    # server never is.
    retry = Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0, backoff_factor=0.1)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)


_http_session = ProcessSession(_configure).get  # one per process (again after a fork)


@functools.cache
def _wsdl_document() -> Document:
    """The parsed WSDL, shared by all clients of this process (read from the local file)."""
    transport = zeep.Transport(session=_http_session())
    return Document(str(WSDL_PATH), transport, settings=_SETTINGS)  # type: ignore[arg-type]


def preload_wsdl() -> None:
    """Parse the WSDL now (the worker's parent process), so forked jobs inherit it."""
    _wsdl_document()


def create_service(url: str, timeout: float, operation_timeout: float) -> Any:
    """A zeep service proxy for ``url`` over the shared WSDL and HTTP session."""
    transport = _Transport(
        session=_http_session(), timeout=timeout, operation_timeout=operation_timeout
    )
    client = zeep.Client(_wsdl_document(), transport=transport, settings=_SETTINGS)
    return client.create_service(BINDING, url)


def send(
    service: Any, operation: str, kwargs: dict[str, Any], redact: Callable[[str], str]
) -> dict[str, Any]:
    """One SOAP call; the serialized result, or an ``UpstreamError`` (texts pass through
    ``redact``; requests' and zeep's exceptions are not chained where they carry data)."""

    def error(cls: type[UpstreamError], what: str, code: str, explanation: str) -> Any:
        return cls(
            f"e-Boekhouden {operation}: {what}",
            system=SYSTEM,
            operation=operation,
            code=code,
            explanation=explanation,
        )

    try:
        raw = getattr(service, operation)(**kwargs)
    except zeep.exceptions.Fault as exc:
        raise _fault(operation, exc, redact) from None
    except _HttpStatusError as exc:
        raise _http_status(operation, exc) from None
    except requests.Timeout as exc:
        raise error(UpstreamUnavailableError, "timeout", "timeout", errs.TIMEOUT) from exc
    except _BAD_URL as exc:
        raise error(
            UpstreamRejectedError,
            f"invalid service URL ({type(exc).__name__})",
            "bad_url",
            errs.BAD_URL,
        ) from exc
    except requests.RequestException as exc:
        raise error(
            UpstreamUnavailableError,
            f"connection failed ({type(exc).__name__})",
            "connection",
            errs.CONNECTION,
        ) from exc
    except zeep.exceptions.ValidationError as exc:
        text = redact(str(exc))
        raise error(
            UpstreamRejectedError,
            f"request does not match the WSDL: {text}",
            "invalid_request",
            errs.INVALID_REQUEST,
        ) from None
    except zeep.exceptions.Error as exc:  # unparseable or unexpected XML
        raise error(
            UpstreamUnavailableError,
            f"unreadable response ({type(exc).__name__})",
            "bad_response",
            errs.BAD_RESPONSE,
        ) from None
    return zeep.helpers.serialize_object(raw, target_cls=dict) or {}


def _fault(
    operation: str, exc: zeep.exceptions.Fault, redact: Callable[[str], str]
) -> UpstreamError:
    faultcode = (exc.code or "").rsplit(":", 1)[-1]
    text = redact(str(exc.message or ""))[:300]
    message = f"e-Boekhouden {operation}: SOAP fault {exc.code or '-'}: {text}"
    if faultcode in ("Client", "Sender", "VersionMismatch", "MustUnderstand"):
        return UpstreamRejectedError(
            message,
            system=SYSTEM,
            operation=operation,
            code=f"soap:{faultcode}",
            explanation=errs.CLIENT_FAULT,
        )
    return UpstreamUnavailableError(
        message,
        system=SYSTEM,
        operation=operation,
        code=f"soap:{faultcode or 'Server'}",
        explanation=errs.SERVER_FAULT,
    )


def _http_status(operation: str, exc: _HttpStatusError) -> UpstreamError:
    message = f"e-Boekhouden {operation}: HTTP {exc.status}"
    code = f"http_{exc.status}"
    if exc.status == 429:
        return RateLimitedError(
            message,
            retry_after=parse_retry_after(exc.retry_after),
            system=SYSTEM,
            operation=operation,
            code=code,
            explanation=errs.RATE_LIMITED,
        )
    if exc.status >= 500 or exc.status == 408:
        return UpstreamUnavailableError(
            message,
            system=SYSTEM,
            operation=operation,
            code=code,
            explanation=errs.UNAVAILABLE.format(status=exc.status),
        )
    return UpstreamRejectedError(
        message,
        system=SYSTEM,
        operation=operation,
        code=code,
        explanation=errs.HTTP_REJECTED.format(status=exc.status),
    )
