"""Login and logout of administrators; ``require_login`` guards every other page."""

from __future__ import annotations

import functools
import secrets
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException
from werkzeug.security import check_password_hash, generate_password_hash

from app.config import LOGIN_FAILURE_WINDOW
from app.store.users import User
from app.web.common import PUBLIC_BLUEPRINTS, PUBLIC_ENDPOINTS, html_error, services

bp = Blueprint("auth", __name__)
bp.register_error_handler(HTTPException, html_error)

MAX_FAILURES = 10  # per e-mail address per window
FAILURE_WINDOW = LOGIN_FAILURE_WINDOW
WRONG_LOGIN = "Onjuist e-mailadres of wachtwoord."


def require_login() -> Any:
    """``before_request``: every page needs a session except the public ones."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.blueprint in PUBLIC_BLUEPRINTS:
        return None
    user_id = session.get("user_id")
    user = None
    if user_id is not None:
        user = services().store.users.get(int(user_id))
    if user is None:
        if user_id is not None:  # the user was removed: end that session
            session.clear()
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))
    g.user = user
    return None


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if (not parts.scheme and not parts.netloc and target.startswith("/")
                and not target.startswith("//") and "\\" not in target):
            return target
    return url_for("shops.index")


def _throttle_key(email: str) -> str:
    return f"login-failures:{email.strip().lower()}"


def _too_many_failures(email: str) -> bool:
    try:
        return int(services().redis.get(_throttle_key(email)) or 0) >= MAX_FAILURES
    except RedisError:  # no throttling rather than no login
        return False


def _record_failure(email: str) -> None:
    try:
        pipe = services().redis.pipeline()
        pipe.incr(_throttle_key(email))
        pipe.expire(_throttle_key(email), FAILURE_WINDOW)
        pipe.execute()
    except RedisError:
        pass


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
    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    target = request.form.get("next", "")
    if _too_many_failures(email):
        error = "Te veel mislukte pogingen. Probeer het over 15 minuten opnieuw."
        return render_template("login.html", email=email, next=target, error=error), 429
    user = check_credentials(email, password)
    if user is None:
        _record_failure(email)
        current_app.logger.info("login refused")
        return render_template("login.html", email=email, next=target, error=WRONG_LOGIN), 401
    session.clear()  # a fresh session (and CSRF token) after login
    session["user_id"] = user.id
    session.permanent = True
    return redirect(_safe_next(target))


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    flash("U bent uitgelogd.", "info")
    return redirect(url_for("auth.login"))
