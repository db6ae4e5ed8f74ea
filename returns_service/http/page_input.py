"""Form and query input of the HTML pages: NUL characters are dropped before anything reads it.

A NUL pasted from a PDF or another program is invisible to the person who typed it, and
PostgreSQL text cannot hold one (the database would answer an error, the page a 500). The JSON
API refuses NUL with a 422 instead (api/input.py): a program should hear about its bad input.
"""

from __future__ import annotations

from flask import request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict


def _without_nul(data: MultiDict[str, str]) -> ImmutableMultiDict[str, str] | None:
    if not any("\x00" in key or "\x00" in value for key, value in data.items(multi=True)):
        return None
    return ImmutableMultiDict([(key.replace("\x00", ""), value.replace("\x00", ""))
                               for key, value in data.items(multi=True)])


def drop_nul_characters() -> None:
    """before_request, for every page outside the JSON API and the Stripe webhook."""
    if request.path.startswith(("/api/", "/webhooks/")):
        return
    args = _without_nul(request.args)
    if args is not None:
        request.args = args
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        form = _without_nul(request.form)
        if form is not None:
            request.form = form
