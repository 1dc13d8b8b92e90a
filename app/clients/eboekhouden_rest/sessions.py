"""The REST session: ``POST /v1/session`` → a session token, shared by threads and (through a
``SessionStore``) by processes; reopened before ``expiresIn`` runs out or once after a 401;
``DELETE /v1/session`` on close."""

from __future__ import annotations

import logging
import threading
import time
from typing import Protocol

from app.clients.eboekhouden_rest import errors as errs
from app.clients.eboekhouden_rest.http import Secret, Transport
from app.errors import UpstreamUnavailableError

log = logging.getLogger(__name__)
SESSION_MARGIN = 30.0  # reopen this many seconds before ``expiresIn`` runs out


class SessionStore(Protocol):
    """Where a session token is shared between processes (the same protocol as the SOAP
    client's, so ``app.fastpaths.SessionStore`` serves both)."""

    def get(self) -> str | None: ...

    def put(self, session_id: str) -> None: ...

    def discard(self, session_id: str) -> None: ...


class Sessions:
    """One administration's session token (the API token is only sent to open one)."""

    def __init__(
        self, http: Transport, api_token: Secret, source: str, store: SessionStore | None
    ) -> None:
        self.http = http
        self.source = source
        self._api_token = api_token
        self._store = store
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._expires_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self._token is not None

    def secrets(self) -> list[str]:
        found = [self._api_token.value]
        if self._token is not None:
            found.append(self._token.value)
        return found

    def current(self) -> Secret:
        with self._lock:
            if (
                self._token is not None
                and self._expires_at is not None
                and time.monotonic() >= self._expires_at
            ):
                self._drop(self._token)
            if self._token is None and self._store is not None:
                shared = self._store.get()
                self._token = Secret(shared) if shared else None
                self._expires_at = None
            if self._token is None:
                self._token = self._open()
            return self._token

    def verify(self) -> None:
        """Open a new session with the API token now (never a shared one: this checks the
        token), and keep it as the current one."""
        with self._lock:
            fresh = self._open()
            self._token = fresh

    def reopen(self, stale: Secret) -> Secret:
        """A new session, unless another thread (or process, through the store) already
        replaced the stale one."""
        with self._lock:
            if self._token is None or self._token is stale:
                self._drop(stale)
                shared = self._store.get() if self._store is not None else None
                fresh = shared is not None and shared != stale.value
                self._token = Secret(shared) if fresh and shared else self._open()
            return self._token

    def close(self) -> None:
        """DELETE /v1/session if a session is open. Never raises."""
        with self._lock:
            token, self._token = self._token, None
        if token is None:
            return
        if self._store is not None:  # other processes reopen once if they still use it
            self._store.discard(token.value)
        try:
            self.http.call(
                "DELETE", "/v1/session", "end_session", token=token.value, idempotent=True
            )
        except Exception as exc:  # closing is best effort: the session expires anyway
            log.warning("e-Boekhouden end_session failed (ignored): %s", type(exc).__name__)

    def _drop(self, stale: Secret) -> None:
        if self._store is not None:
            self._store.discard(stale.value)
        self._token = None

    def _open(self) -> Secret:
        result = self.http.call(
            "POST",
            "/v1/session",
            errs.SESSION,
            idempotent=True,
            body={"accessToken": self._api_token.value, "source": self.source},
        )
        token = result.get("token") if isinstance(result, dict) else None
        if not token or not isinstance(token, str):
            raise UpstreamUnavailableError(
                "e-Boekhouden session returned no token",
                system=errs.SYSTEM,
                operation=errs.SESSION,
                code="no_session",
                explanation=errs.BAD_RESPONSE,
            )
        expires_in = result.get("expiresIn")
        self._expires_at = (
            time.monotonic() + float(expires_in) - SESSION_MARGIN
            if isinstance(expires_in, int | float) and expires_in > 0
            else None
        )
        if self._store is not None:
            self._store.put(token)
        log.debug("e-Boekhouden REST session opened")
        return Secret(token)
