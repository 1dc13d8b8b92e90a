"""Login and logout; ``require_login`` guards every other page."""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts.passwords import MAX_EMAIL
from app.config import LOGIN_RATE_WINDOW, SESSION_MAX_LIFETIME
from app.store.users import User
from app.web.common import PUBLIC_BLUEPRINTS, PUBLIC_ENDPOINTS, html_error, services
from app.web.login_limits import CROWDED, HashSlots, LoginLimits, MemoryCounters

bp = Blueprint("auth", __name__)
bp.register_error_handler(HTTPException, html_error)

WRONG_LOGIN = "Onjuist e-mailadres of wachtwoord."
SESSION_AWARE = frozenset({"account.invitation"})  # public pages that know a session


def require_login() -> Any:
    """``before_request``: every page needs a session except the public ones. A session
    counts only while its user exists, is not disabled and has not ended all sessions
    (logout, a new password) since it was made."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS:
        if request.endpoint in SESSION_AWARE:  # public, but says who is logged in
            g.user = session_user()
        return None
    user = session_user()
    if user is None:
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    g.user = user
    return None


def session_user() -> User | None:
    """The user of this session, if it still counts (else the session is cleared)."""
    user_id = session.get("user_id")
    user = None
    if isinstance(user_id, int) and _within_lifetime(session.get("since")):
        user = services().store.users.get(user_id)
    if user is not None and (
        user.disabled
        or session.get("version") != user.session_version
        or session.get("key") != _session_key(user)
    ):
        user = None
    if user is None and user_id is not None:  # removed, disabled or logged out elsewhere
        session.clear()
    return user


def start_session(user: User) -> None:
    """A fresh session (and CSRF token) for ``user``, as at login."""
    session.clear()
    session["user_id"] = user.id
    session["version"] = user.session_version
    session["key"] = _session_key(user)
    session["since"] = int(wall_clock())  # ends SESSION_MAX_LIFETIME after this login
    session.permanent = True  # and after SESSION_IDLE_TIMEOUT without a request


def wall_clock() -> float:
    return time.time()


def _within_lifetime(since: Any) -> bool:
    """A session lasts ``SESSION_MAX_LIFETIME`` from its login, however busy it is; a
    session without its login time (made before this rule) has ended too."""
    if not isinstance(since, int | float) or isinstance(since, bool):
        return False
    return 0 <= wall_clock() - since < SESSION_MAX_LIFETIME


def _session_key(user: User) -> str:
    """Ties a session to this account as it was at login: a new password (its salt), or
    a new account that got a deleted one's id, does not match."""
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:32]


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for("shops.index")


def init_limits(app: Flask) -> None:
    """This process's share of the login limits: the fallback counters (Redis away or
    full) and the password-check slots."""
    app.extensions["login_memory"] = MemoryCounters()
    app.extensions["login_slots"] = HashSlots()


def _limits() -> LoginLimits:
    return LoginLimits(services().redis, current_app.extensions["login_memory"])


@functools.cache
def _dummy_hash() -> str:
    """Checked when the e-mail address is unknown, so both cases take the same time."""
    return generate_password_hash(secrets.token_hex(16), method="scrypt")


def check_credentials(email: str, password: str) -> User | None:
    user = services().store.users.get_by_email(email) if email else None
    stored = user.password_hash if user else _dummy_hash()
    ok = check_password_hash(stored, password)
    return user if user and ok else None


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("login.html", email="", next=request.args.get("next", ""))
    email = request.form.get("email", "").strip().lower()[: MAX_EMAIL + 1]
    password = request.form.get("password", "")
    target = request.form.get("next", "")
    limits = _limits()
    refusal = limits.refusal(request.remote_addr or "-", email)
    if refusal is not None:  # answered before hashing anything
        return _refused(email, target, refusal, 429)
    with current_app.extensions["login_slots"].turn() as turn:
        if not turn:  # every slot busy for seconds: a flood from many addresses
            current_app.logger.warning("login refused: no free password-check slot")
            return _refused(email, target, CROWDED, 503)
        user = check_credentials(email, password)
    if user is None or user.disabled:
        limits.failed(email)
        current_app.logger.info("login refused")
        return render_template("login.html", email=email, next=target, error=WRONG_LOGIN), 401
    limits.succeeded(email)
    start_session(user)
    return redirect(_safe_next(target))


def _refused(email: str, target: str, reason: str, status: int) -> Any:
    response = current_app.make_response(
        (render_template("login.html", email=email, next=target, error=reason), status)
    )
    response.headers["Retry-After"] = str(LOGIN_RATE_WINDOW if status == 429 else 5)
    return response


@bp.post("/logout")
def logout() -> Any:
    """Ends every session of this user, also copies of the cookie kept elsewhere."""
    services().store.users.end_sessions(g.user.id)
    session.clear()
    flash("U bent uitgelogd.", "info")
    return redirect(url_for("auth.login"))
