"""The translation check: every shipped language translates every message, the template
(.pot) holds everything the code asks for, and nothing is left in English by mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from returns_service.common.i18n import LANGUAGES, TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
POT = TRANSLATIONS_DIR / "messages.pot"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Texts that are the same in a language as in English, on purpose: codes, placeholders only,
# words borrowed unchanged. (language, English text).
SAME_AS_ENGLISH = {
    ("de", "%(item)s: %(problem)s"), ("es", "%(item)s: %(problem)s"),
    ("nl", "%(item)s: %(problem)s"),
    ("de", "OK"), ("fr", "OK"),
    ("de", "Code:"), ("nl", "Code:"),
    ("de", "Status:"), ("nl", "Status:"),
    ("fr", "Excellent"), ("fr", "Total"), ("es", "Total"), ("es", "Error:"),
    ("fr", "Photos"),
}


def catalogue(language: str):
    with (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


def template_ids(path: Path) -> set[str]:
    with path.open("rb") as f:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}


def extract(target: Path) -> None:
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
        "-k", "lazy_gettext", "--no-location", "--sort-output", "--omit-header",
        "-o", str(target), str(ROOT)])


def test_extraction_finds_nothing_missing_from_the_template(tmp_path):
    """A new customer text without its place in messages.pot fails here: run the commands in
    docs/languages.md (extract, update, translate)."""
    fresh = tmp_path / "messages.pot"
    extract(fresh)
    assert template_ids(fresh) == template_ids(POT)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_message_is_translated_with_the_same_placeholders(language):
    ids = template_ids(POT)
    messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue(language)
                if m.id}
    assert set(messages) == ids, "run `pybabel update` (docs/languages.md)"
    for key, message in messages.items():
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert forms and all(forms), f"{language}: not translated: {key!r}"
        assert not message.fuzzy, f"{language}: marked fuzzy: {key!r}"
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set(PLACEHOLDER.findall(" ".join(sources)))
        for form in forms:
            # Plural forms may leave the count out ("un jour"); every other name stays.
            assert set(PLACEHOLDER.findall(form)) >= wanted - {"count", "days", "hours"} and \
                set(PLACEHOLDER.findall(form)) <= wanted, f"{language}: {key!r} -> {form!r}"
            assert "%" not in PLACEHOLDER.sub("", form).replace("%%", ""), form


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en"}))
def test_no_translation_is_left_in_english_unless_allowed(language):
    left = [m.id for m in catalogue(language) if m.id and isinstance(m.id, str)
            and m.string == m.id and (language, m.id) not in SAME_AS_ENGLISH]
    assert left == []


def test_english_catalogue_is_the_source_text():
    assert all(m.string == m.id for m in catalogue("en") if m.id and isinstance(m.id, str))


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_an_emails_bound_gettext_translates_as_flask_babels_own(app, language):
    """Emails render with gettext bound to their language's catalogue (template_gettext):
    the same text as Flask-Babel's callables, plurals and escaping included."""
    from flask import render_template_string

    from returns_service.common.i18n import customer_language, template_gettext

    source = (
        '{% trans name=first_name %}Hi {{ name }},{% endtrans %} {{ _("accepted") }} '
        "{% trans days=days %}Send the parcel within {{ days }} day to:{% pluralize %}"
        "Send the parcel within {{ days }} days to:{% endtrans %} "
        "{% trans rma=rma|strong %}Your parcel for return {{ rma }} (order {{ order_number }})"
        " has arrived and we have checked it:{% endtrans %}")
    values = {"first_name": "Zoë <b>", "rma": "R-<1>", "order_number": "A&1"}
    with app.test_request_context(), customer_language(language):
        for days in (1, 21):
            own = render_template_string(source, days=days, **values)
            bound = render_template_string(source, days=days, **values, **template_gettext())
            assert bound == own
            assert "&lt;b&gt;" in bound and "<strong>R-&lt;1&gt;</strong>" in bound
            assert f" {days} " in bound
