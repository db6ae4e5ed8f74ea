"""The generated stylesheet (`/brand.css`): the primary colour as the pages' accent. The
colour was checked when it was saved (and the setting's at start-up), so only `#rrggbb`
reaches this text; nothing else of the admin's input does."""

from __future__ import annotations

from returns_service.branding.contrast import parse_hex


def stylesheet(primary_color: str) -> str:
    red, green, blue = parse_hex(primary_color)
    colour = f"#{red:02x}{green:02x}{blue:02x}"
    return (f":root {{ --accent: {colour}; --accent-fg: #ffffff; }}\n"
            f"header.site {{ border-bottom: 3px solid {colour}; }}\n")
