"""The customer's language: which one a page or email uses, and money and dates written in it.

Customer pages and emails are translated with Flask-Babel (catalogues in
`returns_service/translations/`); the staff console stays English. The language of a page is,
first to last: the one the customer picked in the language menu (kept in the session), the
order's `locale` (from the store's import), the browser's `Accept-Language`, the
`DEFAULT_LOCALE` setting. Emails use the language stored on the return, else the order's.

Amounts and dates on customer pages and in emails are formatted by Babel in that language
and in the store's time zone (`STORE_TIMEZONE`); the console keeps its own format.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.dates import get_datetime_format
from babel.numbers import format_currency
from flask import Flask, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, force_locale, get_locale, get_translations, gettext, refresh
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from returns_service.common.money import exponent, format_money


def N_(text: str) -> str:
    """Marks a text for the catalogues (pybabel extract) where it is defined; it is
    translated where it is shown (policy_label)."""
    return text


# The languages the customer pages and emails ship in, with their names in themselves (the
# language menu shows each in its own language, so a customer finds theirs).
LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch", "fr": "Français",
                             "es": "Español", "nl": "Nederlands"}
SESSION_KEY = "locale"
DEFAULT_STATEMENT = N_("5 to 10 business days")  # config.py's REFUND_STATEMENT_TEXT
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

babel = Babel()


def policy_label(item: Any) -> str:
    """A reason's label from the policy in the current language: the policy file's own
    `labels` for it, else the catalogue's translation (built-in labels), else as written."""
    language = current_language()
    own = dict(getattr(item, "labels", ()) or ()).get(language)
    if own:
        return own
    return gettext(item.label) if language != "en" else item.label


def refund_statement_text() -> str:
    """REFUND_STATEMENT_TEXT; its default is translated, a store's own text is kept."""
    text = (current_app.config.get("REFUND_STATEMENT_TEXT") if has_app_context() else None) \
        or DEFAULT_STATEMENT
    return gettext(DEFAULT_STATEMENT) if text == DEFAULT_STATEMENT else text


def supported(code: str | None) -> str | None:
    """The shipped language a locale code asks for ("de-AT", "de_CH" -> "de"), else None."""
    if not code:
        return None
    language = code.replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGES else None


def default_locale() -> str:
    return supported(current_app.config.get("DEFAULT_LOCALE")) or "en"


def select_locale() -> str:
    """Flask-Babel's locale selector (see the module docstring for the order)."""
    if not has_request_context():
        return default_locale()
    if not g.get("customer_page"):
        return "en"  # the staff console and the API speak English
    chosen = supported(session.get(SESSION_KEY))
    if chosen:
        return chosen
    order_locale = supported(g.get("order_locale"))
    if order_locale:
        return order_locale
    browser = request.accept_languages.best_match(list(LANGUAGES))
    return browser or default_locale()


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


def customer_page() -> None:
    """Mark this request as a customer page (before_request of the portal's blueprints)."""
    g.customer_page = True
    refresh()


def use_order_locale(locale: str | None) -> None:
    """The page is about this order: its language counts when the customer chose none."""
    g.order_locale = locale
    refresh()


def choose_language(code: str) -> bool:
    """The language menu: remember the choice for the rest of the visit."""
    language = supported(code)
    if language is None:
        return False
    session[SESSION_KEY] = language
    refresh()
    return True


@contextmanager
def customer_language(locale: str | None) -> Iterator[None]:
    """Write an email (or its subject) in `locale`, formatted for customers."""
    previous = g.get("customer_email")
    g.customer_email = True
    try:
        with force_locale(supported(locale) or default_locale()):
            yield
    finally:
        g.customer_email = previous


def template_gettext() -> dict[str, Any]:
    """`gettext` and `ngettext` for templates rendered now (an email), bound to the current
    language's catalogue, to pass in the render's context: `_()` and `{% trans %}` look
    them up there before the environment's. They behave as the ones Flask-Babel installs
    (Jinja's "newstyle": the text is escaped as markup where the template autoescapes, and
    always %-formatted with its variables), but Flask-Babel's find the catalogue again for
    every text, a dozen lookups through Flask's globals each: most of what rendering an
    email cost."""
    translations = get_translations()
    translate, translate_plural = translations.ugettext, translations.ungettext

    @pass_context
    def bound_gettext(context: Context, text: str, /, **variables: Any) -> str:
        translated = translate(text)
        if context.eval_ctx.autoescape:
            translated = Markup(translated)
        return translated % variables

    @pass_context
    def bound_ngettext(context: Context, singular: str, plural: str, count: int, /,
                       **variables: Any) -> str:
        variables.setdefault("num", count)
        translated = translate_plural(singular, plural, count)
        if context.eval_ctx.autoescape:
            translated = Markup(translated)
        return translated % variables

    return {"gettext": bound_gettext, "ngettext": bound_ngettext}


def _for_customers() -> bool:
    if not has_app_context():
        return False
    return bool(g.get("customer_email") or (has_request_context() and g.get("customer_page")))


def store_timezone() -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    name = current_app.config.get("STORE_TIMEZONE") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _babel_locale() -> Locale:
    try:
        return Locale.parse(str(get_locale() or "en"))
    except (UnknownLocaleError, ValueError):
        return Locale("en")


def money(amount: int, currency: str) -> str:
    """1234_50, "EUR" -> "€1,234.50" in English, "1.234,50 €" in German (customer pages)."""
    if not _for_customers():
        return format_money(amount, currency)
    return _format_currency(int(amount), currency.upper(), str(get_locale() or "en"))


# An email shows a dozen amounts, mostly the same few prices: babel's formatting (pattern,
# rounding, symbols) is most of what an amount costs, and its answer depends on these alone.
@lru_cache(maxsize=4096)
def _format_currency(amount: int, currency: str, locale_name: str) -> str:
    try:
        locale = Locale.parse(locale_name)
    except (UnknownLocaleError, ValueError):
        locale = Locale("en")
    return format_currency(Decimal(amount).scaleb(-exponent(currency)), currency, locale=locale)


def _local(value: datetime) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(store_timezone())


# English dates keep the day-month-year order the service has always written ("5 December
# 2026"); amounts use plain "en" ("¥3,000", not "JP¥3,000").
DATE_LOCALES = {"en": "en_GB"}


def _date_locale() -> Locale:
    locale = _babel_locale()
    return Locale.parse(DATE_LOCALES[str(locale)]) if str(locale) in DATE_LOCALES else locale


def date(value: datetime | None) -> str:
    """A day in the customer's language: "5 December 2026", "5. Dezember 2026"."""
    if value is None:
        return ""
    if not _for_customers():
        return f"{value:%-d %B %Y}"
    return babel_date(_local(value), "long", locale=_date_locale())


def date_time(value: datetime | None) -> str:
    """A moment, to the minute, in the store's time zone and the customer's language."""
    if value is None:
        return ""
    if not _for_customers():
        return f"{value:%-d %B %Y, %H:%M} UTC"
    locale, local = _date_locale(), _local(value)
    # Babel's own long pattern, without seconds: "{1} 'at' {0}" / "{1} 'um' {0}".
    pattern = str(get_datetime_format("long", locale=locale)).replace("'", "")
    return pattern.replace("{1}", babel_date(local, "long", locale=locale)).replace(
        "{0}", babel_time(local, "short", locale=locale))


def init_app(app: Flask) -> None:
    """Flask-Babel with the shipped catalogues; `_`, `gettext`, `ngettext` in templates."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", default_locale_of(app))
    babel.init_app(app, locale_selector=select_locale)
    # {% trans %} blocks: whitespace and line breaks collapse, so catalogues stay readable.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_language=current_language)
    # Emails: `{% trans rma=rma|strong %}` keeps the markup out of the translated text.
    app.jinja_env.filters["strong"] = lambda value: Markup("<strong>%s</strong>") % value
    _compile_catalogues_if_missing()


def default_locale_of(app: Flask) -> str:
    return supported(app.config.get("DEFAULT_LOCALE")) or "en"


def _compile_catalogues_if_missing() -> None:
    """A checkout run without the install step still speaks every language: compile any
    catalogue whose `.mo` is missing or older than its `.po`."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    for po in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as source:
                catalog = read_po(source)
            tmp = mo.with_suffix(f".{os.getpid()}.tmp")  # workers may start together
            with tmp.open("wb") as target:
                write_mo(target, catalog)
            tmp.replace(mo)
        except OSError:  # a read-only install: the package build compiled them
            continue
