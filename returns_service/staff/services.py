"""Staff users and API tokens: creation, password checks, token minting and lookup."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

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


def create_user(email: str, role: str, password: str | None = None, name: str = "") -> StaffUser:
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    if role not in ROLES:
        errors["role"] = [f"Must be one of: {', '.join(ROLES)}."]
    if "@" not in email:
        errors["email"] = ["Not a valid email address."]
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = [SHORT_PASSWORD]
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


def set_password(user: StaffUser, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed({"password": [SHORT_PASSWORD]})
    user.password_hash = _hash(password)
    end_sessions(user)


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


def mint_token(user: StaffUser, name: str = "default") -> str:
    """Create an API token for `user`; the clear text is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user=user, name=name, token_hash=hash_token(token),
                            prefix=token[:12]))
    db.session.flush()
    return token


# On every authenticated request: built once, executed with the hash as a parameter; the
# user comes in the same query.
_LIVE_TOKEN = (select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"),
                                      ApiToken.revoked_at.is_(None))
               .options(joinedload(ApiToken.user)))


def user_for_token(token: str) -> StaffUser | None:
    row = db.session.scalar(_LIVE_TOKEN, {"token_hash": hash_token(token)})
    if row is None or not row.user.active:
        return None
    return row.user


def revoke_token(prefix: str) -> int:
    rows = db.session.scalars(select(ApiToken).where(ApiToken.prefix == prefix,
                                                     ApiToken.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = utcnow()
    return len(rows)
