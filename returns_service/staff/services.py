"""Staff users and API tokens: creation, password checks, token minting and lookup.

Access ends for good: disabling a user ends their console sessions and revokes their API
tokens (re-enabling brings neither back), a new password does the same, and a token may carry
an expiry. A token's last use is written at most once a minute, not on every request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from returns_service.common.clock import utcnow
from returns_service.common.errors import ValidationFailed
from returns_service.db import db
from returns_service.staff.models import ROLES, ApiToken, StaffSession, StaffUser

TOKEN_PREFIX = "rsk_"


def hash_token(token: str) -> str:
    """Tokens are 256-bit random strings, so a plain SHA-256 is a safe way to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


def _hash(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


EMAIL_TAKEN = "A staff user with this email already exists."
MIN_PASSWORD_LENGTH = 12
SHORT_PASSWORD = f"Use at least {MIN_PASSWORD_LENGTH} characters."
# zxcvbn's score, 0-4: 3 is "safely unguessable" (about 10^10 guesses), with its bundled
# word lists (nothing is fetched). Only the first 100 characters are scored (it slows down on
# long input, and 100 characters of anything it did not call weak are plenty).
MIN_PASSWORD_SCORE = 3
WEAK_PASSWORD = "This password is too easy to guess."
# A staff email: a sane local part, and a domain of dot-separated labels ending in a TLD.
STAFF_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
BAD_EMAIL = "Not a valid email address (name@example.com)."


def password_problems(password: str, *, email: str = "", name: str = "") -> list[str]:
    """Why a password may not be used (none: it may): too short, or too easy to guess, also
    from the account's own email and name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [SHORT_PASSWORD]
    hints = [part for part in (email, name, *re.split(r"[@.\s]+", f"{email} {name}")) if part]
    result = zxcvbn(password[:100], user_inputs=hints)
    if result["score"] >= MIN_PASSWORD_SCORE:
        return []
    feedback = result.get("feedback") or {}
    advice = " ".join(m for m in [feedback.get("warning") or "",
                                  *(feedback.get("suggestions") or [])] if m)
    return [f"{WEAK_PASSWORD} {advice}".strip()]


def valid_staff_email(email: str) -> bool:
    return len(email) <= 254 and STAFF_EMAIL.fullmatch(email) is not None


def create_user(email: str, role: str, password: str | None = None, name: str = "") -> StaffUser:
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = [f"Must be one of: {', '.join(ROLES)}."]
    if not valid_staff_email(email):
        errors["email"] = [BAD_EMAIL]
    if password is not None and (problems := password_problems(password, email=email,
                                                               name=name)):
        errors["password"] = problems
    if db.session.scalar(select(StaffUser.id).where(StaffUser.email == email)):
        errors["email"] = [EMAIL_TAKEN]
    if errors:
        raise ValidationFailed(errors)
    user = StaffUser(email=email, role=role, name=name,
                     password_hash=_hash(password) if password else None)
    try:
        with db.session.begin_nested():  # a twin sent at the same moment (a double click)
            db.session.add(user)
    except IntegrityError as exc:
        raise ValidationFailed({"email": [EMAIL_TAKEN]}) from exc
    return user


def set_password(user: StaffUser, password: str) -> int:
    """A new password ends every console session of the user and revokes their API tokens
    (whoever knew the old password may have made one); how many tokens were revoked."""
    if problems := password_problems(password, email=user.email, name=user.name):
        raise ValidationFailed({"password": problems})
    user.password_hash = _hash(password)
    end_sessions(user)
    return revoke_user_tokens(user)


def end_access(user: StaffUser) -> int:
    """Disabling a user: sessions ended and tokens revoked, for good (re-enabling brings
    neither back). How many tokens were revoked. The caller commits."""
    end_sessions(user)
    return revoke_user_tokens(user)


def revoke_user_tokens(user: StaffUser) -> int:
    return db.session.execute(update(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())).rowcount


def start_session(user: StaffUser) -> None:
    """Record a console sign-in of `user`; its token goes in the session cookie (get_id)."""
    token = secrets.token_urlsafe(32)
    db.session.add(StaffSession(user_id=user.id, token_hash=hash_token(token)))
    user.session_token = token


def user_for_session(user_id: int, token: str) -> StaffUser | None:
    """The user of a console session still open, else None (signed out, password changed)."""
    user = db.session.scalar(select(StaffUser).join(
        StaffSession, StaffSession.user_id == StaffUser.id).where(
        StaffUser.id == user_id, StaffSession.token_hash == hash_token(token),
        StaffSession.ended_at.is_(None)))
    if user is not None:
        user.session_token = token
    return user


def end_session(user: StaffUser) -> None:
    """Sign-out: the session this request runs in ends; a copy of its cookie is worthless."""
    if user.session_token:
        db.session.execute(update(StaffSession).where(
            StaffSession.token_hash == hash_token(user.session_token))
            .values(ended_at=utcnow()))


def end_sessions(user: StaffUser) -> None:
    """A new password: every console session of `user` ends. The caller commits."""
    db.session.execute(update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow()))


@cache
def _unused_hash(method: str) -> str:
    """A hash no password matches, made once per hashing method."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active user with this email and password, else None (same answer for both)."""
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None or not user.active or not user.password_hash:
        # One hash check, as for a real account: an unknown email takes as long to refuse.
        check_password_hash(_unused_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def mint_token(user: StaffUser, name: str = "default", *,
               expires_in_days: int | None = None) -> str:
    """Create an API token for `user`; the clear text is returned once and never stored.
    With `expires_in_days` it stops working that many days from now."""
    if expires_in_days is not None and expires_in_days < 1:
        raise ValidationFailed({"expires_in_days": ["Must be 1 or more."]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    db.session.add(ApiToken(user=user, name=name, token_hash=hash_token(token),
                            prefix=token[:12], expires_at=expires))
    db.session.flush()
    return token


@dataclass(frozen=True, slots=True)
class TokenUser:
    """The staff user behind an API token, as a request needs it: who (for the audit trail)
    and with which role (for the permissions table). Read with the token in one Core
    statement; changing a user goes through StaffUser."""

    id: int
    email: str
    role: str
    name: str


# On every authenticated request: built once, executed with the hash as a parameter; the
# user comes in the same statement, sent with Core (no ORM objects to build and track).
_TOKENS, _USERS = ApiToken.__table__, StaffUser.__table__
_LIVE_TOKEN = (select(_TOKENS.c.id, _TOKENS.c.last_used_at, _USERS.c.id, _USERS.c.email,
                      _USERS.c.role, _USERS.c.name)
               .join_from(_TOKENS, _USERS, _USERS.c.id == _TOKENS.c.user_id)
               .where(_TOKENS.c.token_hash == bindparam("token_hash"),
                      _TOKENS.c.revoked_at.is_(None), _USERS.c.active.is_(True),
                      or_(_TOKENS.c.expires_at.is_(None),
                          _TOKENS.c.expires_at > bindparam("now"))))
# A token's last use is written at most this often (not a write on every request).
LAST_USED_EVERY = timedelta(minutes=1)
_TOUCH = (update(ApiToken).where(
    ApiToken.id == bindparam("token_id"),
    or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= bindparam("stale")))
    .values(last_used_at=bindparam("now")))


def user_for_token(token: str) -> TokenUser | None:
    """The user of a live token (not revoked, not expired, its user active), else None."""
    now = utcnow()
    row = db.session.connection().execute(
        _LIVE_TOKEN, {"token_hash": hash_token(token), "now": now}).first()
    if row is None:
        return None
    token_id, last_used_at, *user = row
    if last_used_at is None or now - last_used_at >= LAST_USED_EVERY:
        _touch(token_id, now)
    return TokenUser(*user)


def _touch(token_id: int, now: datetime) -> None:
    """Record the token's use in a transaction of its own, whatever the request does."""
    with db.engine.begin() as conn:
        conn.execute(_TOUCH, {"token_id": token_id, "now": now,
                              "stale": now - LAST_USED_EVERY})


def revoke_token(prefix: str) -> int:
    rows = db.session.scalars(select(ApiToken).where(ApiToken.prefix == prefix,
                                                     ApiToken.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = utcnow()
    return len(rows)
