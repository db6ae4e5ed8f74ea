"""Security headers on every response: a strict CSP (no inline scripts), no framing, no referrer;
`Cache-Control: no-store` on the console and the API, whose answers carry personal data.

Customer status links carry a signed token in the path, so pages never send a Referer.
"""

from __future__ import annotations

from flask import Flask, Response, request

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'; object-src 'none'")

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# Answers under these paths carry personal data (staff console pages and its CSV exports,
# API answers with names, emails and addresses): no cache, shared or private, may keep them.
NO_STORE_PREFIXES = ("/staff", "/api/")
CACHEABLE_PATHS = frozenset({"/api/v1/openapi.json"})


_HEADERS_BY_KEY = {name.lower(): (name, value) for name, value in HEADERS.items()}


def install_security_headers(app: Flask) -> None:
    @app.after_request
    def _secure(response: Response) -> Response:
        # A header the view set itself is kept. One pass over the response's headers, where
        # `setdefault` would search them twice per header.
        present = {name.lower() for name, _ in response.headers}
        for key, (name, value) in _HEADERS_BY_KEY.items():
            if key not in present:
                response.headers.add(name, value)
        if request.path.startswith(NO_STORE_PREFIXES) and request.path not in CACHEABLE_PATHS:
            response.headers["Cache-Control"] = "no-store"
        if app.config["PUBLIC_BASE_URL"].startswith("https://"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
