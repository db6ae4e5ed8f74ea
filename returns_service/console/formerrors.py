"""Put a service's ValidationFailed messages next to the form fields they belong to (and
flash the ones that belong to none)."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_wtf import FlaskForm

from returns_service.common.errors import ValidationFailed
from returns_service.db import db


def apply_errors(form: FlaskForm, exc: ValidationFailed,
                 index_map: dict[int, int] | None = None) -> list[str]:
    """Attach `items.<i>.<field>` and plain `<field>` messages to the form's fields.

    `index_map` maps the index the service saw to the form row (rows with nothing to send
    are left out of the service call). Messages without a field are returned for the summary.
    """
    loose: list[str] = []
    for path, messages in exc.errors.items():
        field = _field_for(form, path, index_map or {})
        if field is None:
            loose.extend(messages)
        else:
            field.errors = [*list(field.errors or []), *messages]
    return loose


def _field_for(form: FlaskForm, path: str, index_map: dict[int, int]) -> Any:
    parts = path.split(".")
    if parts[0] == "items" and len(parts) == 3 and parts[1].isdigit() and hasattr(form, "items"):
        row = index_map.get(int(parts[1]), int(parts[1]))
        if row < len(form.items.entries):
            return getattr(form.items.entries[row].form, parts[2], None)
        return None
    if len(parts) != 1 or parts[0] == "items":
        return None
    return getattr(form, parts[0], None)


def form_errors(form: FlaskForm) -> list[tuple[str, str]]:
    """(field id, message) pairs for the error summary, nested rows included."""
    result: list[tuple[str, str]] = []
    for field in form:
        if field.type == "FieldList":
            for entry in field.entries:
                for sub in entry.form:
                    result += [(sub.id, message) for message in sub.errors]
        elif field.type not in ("CSRFTokenField",):
            result += [(field.id, str(m)) for m in field.errors if isinstance(m, str)]
    return result


def refuse(form: FlaskForm, exc: ValidationFailed) -> None:
    """The service refused what the form sent: nothing of it is kept, each message goes
    next to its field, and those of no field are flashed."""
    db.session.rollback()
    for message in apply_errors(form, exc):
        flash(message, "error")
