"""Branding: the store's look (name, logo, primary colour, support contact, footer links) as
an admin set it over the settings' defaults, for every customer page and email. Its admin
page lives in the console, its stylesheet and logo routes in the portal."""

from flask import Flask

from returns_service.branding import models
from returns_service.branding.services import Brand, current_brand

__all__ = ["Brand", "current_brand", "init_app", "models"]


def init_app(app: Flask) -> None:
    """Check the colour setting at start-up and give templates `brand()`."""
    from returns_service.branding.contrast import ColourRefused, check_primary

    colour = app.config.get("BRAND_PRIMARY_COLOR")
    if colour:
        try:
            app.config["BRAND_PRIMARY_COLOR"] = check_primary(str(colour))
        except ColourRefused as exc:
            raise ValueError(f"BRAND_PRIMARY_COLOR={colour!r}: {exc}") from None
    app.jinja_env.globals["brand"] = current_brand
