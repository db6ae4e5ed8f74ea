"""Sign in and out of the console, and the landing page that sends each role to its work."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user, logout_user

from returns_service.console import bp
from returns_service.console.access import may, permission_required, safe_next
from returns_service.console.forms import LoginForm, LogoutForm
from returns_service.db import db
from returns_service.http.extensions import csrf, limiter
from returns_service.staff.permissions import user_may
from returns_service.staff.services import authenticate, end_session, start_session

BAD_LOGIN = "That email and password do not match an active staff account."


def _login_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN"])


def _account_limit() -> str:
    return str(current_app.config["RATELIMIT_LOGIN_ACCOUNT"])


def _account_tried() -> str:
    """Key of the per-account budget: the email typed, as sign-in reads it, from this
    address. Per account alone, anyone could lock the real owner out by failing ten times;
    per account and address, a guesser only locks out themselves, for longer each time
    (the windows of RATELIMIT_LOGIN_ACCOUNT)."""
    email = (request.form.get("email") or "").strip().lower()
    return f"login:{email}|{get_remote_address()}"


def _failed(response: Any) -> bool:
    """Only failed sign-ins count: a shared office (one address) signing in at shift start
    is not a guessing attack."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)  # per client address
@limiter.limit(_account_limit, methods=["POST"], key_func=_account_tried,  # account+address
               deduct_when=_failed)
def login() -> Any:
    """Email + password; integration accounts use API tokens and cannot sign in here."""
    if current_user.is_authenticated and current_user.is_active:
        return redirect(url_for("console.home"))
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None and user_may(user, "console.sign_in"):
            target = safe_next(form.next.data)
            session.clear()  # nothing from before sign-in carries over
            start_session(user)
            db.session.commit()
            login_user(user)
            flash(f"Signed in as {user.email}.", "success")
            return redirect(target or url_for("console.home"))
        form.password.errors = [BAD_LOGIN if user is None
                                else "This account is for API access only."]
        status = 401
    elif form.is_submitted():
        status = 422
    return render_template("console/login.html", form=form), status


@bp.post("/logout")
@csrf.exempt  # signing out must work from a page left open for hours; SameSite=Lax keeps
def logout() -> Any:  # other sites from sending this POST with the session cookie
    if current_user.is_authenticated:
        end_session(current_user)  # a copy of this cookie no longer signs anyone in
        db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("console.login"))


@bp.get("/")
@permission_required("console.sign_in")
def home() -> Any:
    if may(current_user, "console.decide"):
        return redirect(url_for("console.queue"))
    return redirect(url_for("console.receiving"))


@bp.app_context_processor  # the dashboard uses the console layout too
def _console_globals() -> dict[str, Any]:
    return {"may": lambda action: may(current_user, action), "logout_form": LogoutForm}


@bp.errorhandler(429)
def _too_many_sign_ins(_exc: Any) -> Any:
    form = LoginForm()
    form.password.errors = ["Too many sign-in attempts. Wait a minute, then try again."]
    return render_template("console/login.html", form=form), 429


@bp.errorhandler(403)
def forbidden_page(_exc: Any) -> Any:
    """Signed in with a role that may not do this: the console's 403 page (the dashboard,
    a page of its own blueprint, uses it too)."""
    return render_template("console/forbidden.html"), 403
