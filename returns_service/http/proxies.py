"""The client's address behind trusted proxies (werkzeug's ProxyFix), for `TRUSTED_PROXY_HOPS`.

Without it, behind a load balancer every request comes from the balancer's address, so all
clients share one rate-limit budget. With it, only the hops that were declared are trusted:
a client cannot pick its address by sending `X-Forwarded-For` itself.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def trust_proxies(app: Flask) -> None:
    """Wrap the WSGI app in ProxyFix when `TRUSTED_PROXY_HOPS` is more than 0."""
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops < 0:
        raise ValueError(f"TRUSTED_PROXY_HOPS={hops}: use 0 or more")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
