"""The colour rule: the store's primary colour carries white text (buttons, links on a
coloured band), so it must reach WCAG 2's 4.5:1 contrast ratio against white.

Relative luminance and contrast ratio as WCAG 2.x defines them
(https://www.w3.org/TR/WCAG22/#dfn-relative-luminance)."""

from __future__ import annotations

import math
import re

MIN_CONTRAST = 4.5
WHITE = (255, 255, 255)
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


class ColourRefused(ValueError):
    """Not a colour, or one white text cannot be read on; the message says which."""


def parse_hex(value: str) -> tuple[int, int, int]:
    """`#1d4ed8`, `1d4ed8` or `#14d` as (red, green, blue); ValueError otherwise."""
    match = _HEX.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a hex colour such as #1d4ed8")
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    """0 for black, 1 for white: each sRGB channel linearised, then weighted."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in rgb)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """(L1 + 0.05) / (L2 + 0.05), the lighter luminance on top: 1 to 21."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def ratio_text(ratio: float) -> str:
    """The ratio as people write it, rounded down so a refused 4.497 never reads "4.50:1"."""
    return f"{math.floor(ratio * 100) / 100:.2f}:1"


def check_primary(value: str) -> str:
    """The colour as `#rrggbb` (lower case) when white text on it reaches 4.5:1; else
    ColourRefused saying the ratio it has."""
    try:
        rgb = parse_hex(value)
    except ValueError:
        raise ColourRefused("Enter a colour as # and six hex digits, such as #1d4ed8.") from None
    ratio = contrast_ratio(rgb, WHITE)
    if ratio < MIN_CONTRAST:
        raise ColourRefused(
            f"White button text on this colour has a contrast ratio of {ratio_text(ratio)}; "
            f"it needs at least {MIN_CONTRAST}:1 to be readable. Choose a darker colour.")
    return "#{:02x}{:02x}{:02x}".format(*rgb)
