"""The store's look served to browsers and mail clients: the generated stylesheet
(`/brand.css`, the primary colour; the CSP allows no inline style) and the logo
(`/brand/logo`). Their URLs carry the brand's version (`?v=`): that exact version is cached
for a year, any other answer is revalidated, so a change shows at once."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from returns_service.branding import current_brand
from returns_service.branding.css import stylesheet
from returns_service.branding.services import logo_file

bp = Blueprint("brand", __name__)


def _cached(response: Response, version: int) -> Response:
    if request.args.get("v") == str(version):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/brand.css")
def css() -> Response:
    brand = current_brand()
    return _cached(Response(stylesheet(brand.primary_color), mimetype="text/css"),
                   brand.version)


@bp.get("/brand/logo")
def logo() -> Response:
    stored = logo_file()
    if stored is None:
        abort(404)
    response = Response(stored.data, mimetype=stored.content_type)
    # An image, never a page: no sniffing it into something else, no script if opened.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return _cached(response, current_brand().version)
