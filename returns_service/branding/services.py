"""The store's look: read (the saved row over the settings' defaults) and changed by an admin.

Pages and emails read `current_brand()` once per app context; it never fails a page: when
the database cannot be read the settings' defaults are used (an error page still renders)."""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g
from sqlalchemy import event, select
from sqlalchemy.exc import SQLAlchemyError

from returns_service.branding.contrast import ColourRefused, check_primary
from returns_service.branding.logo import LogoRefused, clean_logo
from returns_service.branding.models import ROW_ID, BrandSettings
from returns_service.common.errors import ValidationFailed
from returns_service.db import db
from returns_service.db.insert_once import insert_once
from returns_service.storage import FileNotStored, StoredFile, storage

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{4,40}$")
TEXT_FIELDS = ("store_name", "primary_color", "support_email", "support_phone", "terms_url",
               "privacy_url")


@dataclass(frozen=True)
class Brand:
    """What every customer page and email shows."""

    store_name: str
    primary_color: str
    support_email: str | None
    support_phone: str | None
    terms_url: str | None
    privacy_url: str | None
    logo_key: str | None
    logo_type: str | None
    version: int

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_key)

    @property
    def has_footer(self) -> bool:
        return bool(self.support_email or self.support_phone or self.terms_url
                    or self.privacy_url)


def defaults(config: Any = None) -> Brand:
    """The look the settings describe (before an admin saved anything)."""
    cfg = config if config is not None else current_app.config
    return Brand(store_name=cfg.get("SHOP_NAME") or "Returns",
                 primary_color=cfg.get("BRAND_PRIMARY_COLOR") or "#0b5cad",
                 support_email=cfg.get("SUPPORT_EMAIL") or None,
                 support_phone=cfg.get("SUPPORT_PHONE") or None,
                 terms_url=cfg.get("TERMS_URL") or None,
                 privacy_url=cfg.get("PRIVACY_URL") or None,
                 logo_key=None, logo_type=None, version=0)


def current_brand() -> Brand:
    """The store's look, made once per app context (a request, an email job) from the saved
    row over the settings' defaults. The row is kept by the process for
    BRAND_CACHE_SECONDS: every customer page and email shows it, and it changes a few
    times a year. A change saved in this process is seen at once (its commit forgets the
    kept row); other processes see it within BRAND_CACHE_SECONDS."""
    brand = g.get("_brand")
    if brand is None:
        brand = g._brand = _brand_over_defaults(_saved_row())
    return brand


_KEPT = "brand_kept"  # app.extensions: (monotonic time it runs out, saved row or None)
_UNREADABLE = object()
_SAVED = select(BrandSettings.__table__).where(BrandSettings.__table__.c.id == ROW_ID)


def _saved_row() -> Any:
    kept = current_app.extensions.get(_KEPT)
    now = time.monotonic()
    if kept is not None and kept[0] > now:
        return kept[1]
    row = _read()
    ttl = float(current_app.config.get("BRAND_CACHE_SECONDS") or 0)
    if row is _UNREADABLE:
        return None
    if ttl > 0:
        current_app.extensions[_KEPT] = (now + ttl, row)
    return row


def _forget_kept(app: Any) -> None:
    app.extensions.pop(_KEPT, None)


def _read() -> Any:
    """The saved row (a mapping), None when nothing was saved, _UNREADABLE on a database
    error."""
    try:
        # Its own connection: reading the look never joins (or breaks) the caller's
        # transaction, even on an error page after a failed statement.
        with db.engine.connect() as conn:
            return conn.execute(_SAVED).mappings().first()
    except SQLAlchemyError:
        log.warning("The brand settings could not be read: using the settings' defaults.",
                    exc_info=True)
        return _UNREADABLE


def _brand_over_defaults(row: Any) -> Brand:
    base = defaults()
    if row is None:
        return base
    return Brand(store_name=row["store_name"] or base.store_name,
                 primary_color=row["primary_color"] or base.primary_color,
                 support_email=row["support_email"] or base.support_email,
                 support_phone=row["support_phone"] or base.support_phone,
                 terms_url=row["terms_url"] or base.terms_url,
                 privacy_url=row["privacy_url"] or base.privacy_url,
                 logo_key=row["logo_key"], logo_type=row["logo_type"],
                 version=int(row["version"]))


def saved_values() -> dict[str, str]:
    """What the admin page's form starts from: what an admin saved, empty where the setting
    applies (so a later change of the setting still shows)."""
    row = db.session.get(BrandSettings, ROW_ID)
    return {name: (getattr(row, name) if row is not None else None) or "" for name in TEXT_FIELDS}


@dataclass(frozen=True)
class Saved:
    brand: Brand
    replaced_logo: str | None  # delete it from storage once the change is committed


def update_brand(values: dict[str, Any], *, logo: bytes | None = None,
                 remove_logo: bool = False, by: str = "") -> Saved:
    """Check and save the look (in the caller's transaction); ValidationFailed maps each
    refused field to its message. A new logo is stored under a new random key before the
    row points at it, so a reader never sees a key without its file."""
    cleaned, errors = _clean(values)
    image: tuple[bytes, str, str] | None = None
    if logo:
        try:
            image = clean_logo(logo, int(current_app.config["BRAND_LOGO_MAX_BYTES"]))
        except LogoRefused as exc:
            errors["logo"] = [str(exc)]
    if errors:
        raise ValidationFailed(errors)
    insert_once(BrandSettings, {"id": ROW_ID, "version": 0}, unique="id")
    row = db.session.execute(select(BrandSettings).where(BrandSettings.id == ROW_ID)
                             .with_for_update()).scalar_one()
    for name, value in cleaned.items():
        setattr(row, name, value)
    replaced = None
    if image is not None or remove_logo:
        replaced = row.logo_key
        row.logo_key = row.logo_type = None
    if image is not None:
        data, content_type, extension = image
        key = f"brand/logo-{secrets.token_hex(8)}.{extension}"
        storage().put(key, data, content_type)
        row.logo_key, row.logo_type = key, content_type
    row.version = (row.version or 0) + 1
    row.updated_by = by or None
    db.session.flush()
    g.pop("_brand", None)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    _forget_kept(app)  # now, and again once committed (a reader in between kept the old)
    event.listen(db.session(), "after_commit", lambda _session: _forget_kept(app), once=True)
    return Saved(brand=_brand_of(row), replaced_logo=replaced)


def forget_logo(key: str | None) -> None:
    """Delete a replaced logo file (after the commit that stopped pointing at it)."""
    if key:
        try:
            storage().delete(key)
        except Exception:  # a leftover file harms no one; the change itself is saved
            log.warning("Could not delete the replaced logo %s.", key, exc_info=True)


def logo_file() -> StoredFile | None:
    """The current logo, or None."""
    brand = current_brand()
    if not brand.logo_key:
        return None
    try:
        return storage().get(brand.logo_key)
    except FileNotStored:
        return None


def _brand_of(row: BrandSettings) -> Brand:
    base = defaults()
    return Brand(**{name: getattr(row, name) or getattr(base, name) for name in TEXT_FIELDS},
                 logo_key=row.logo_key, logo_type=row.logo_type, version=row.version)


def _clean(values: dict[str, Any]) -> tuple[dict[str, str | None], dict[str, list[str]]]:
    """Each field stripped and checked; empty means "use the setting's default"."""
    cleaned: dict[str, str | None] = {}
    errors: dict[str, list[str]] = {}
    for name in TEXT_FIELDS:
        value = str(values.get(name) or "").strip()
        cleaned[name] = value or None
    if len(cleaned["store_name"] or "") > 100:
        errors["store_name"] = ["Use at most 100 characters."]
    if cleaned["primary_color"]:
        try:
            cleaned["primary_color"] = check_primary(cleaned["primary_color"] or "")
        except ColourRefused as exc:
            errors["primary_color"] = [str(exc)]
    email = cleaned["support_email"]
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        errors["support_email"] = ["Enter an email address such as help@example.com."]
    phone = cleaned["support_phone"]
    if phone and not _PHONE.match(phone):
        errors["support_phone"] = ["Enter a phone number: digits, spaces and + ( ) - only."]
    for name in ("terms_url", "privacy_url"):
        url = cleaned[name]
        if url and not _web_address(url):
            errors[name] = ["Enter a full web address starting with https:// (or http://)."]
    return cleaned, errors


def _web_address(url: str) -> bool:
    parts = urlsplit(url)
    return len(url) <= 500 and parts.scheme in ("http", "https") and bool(parts.netloc) \
        and not any(c.isspace() for c in url)
