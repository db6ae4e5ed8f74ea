"""Reading a page's form as a browser would: its CSRF token (the one helper every page test
uses)."""

from __future__ import annotations

import re

_CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str | bytes) -> str:
    """The CSRF token of the (first) form on a page."""
    text = html.decode() if isinstance(html, bytes) else html
    match = _CSRF.search(text)
    assert match, "no CSRF token on the page"
    return match.group(1)
