"""The logo file: a PNG, JPEG or WebP image, recognised by its content (never its name or
the type the browser claims), size-limited, and re-encoded with Pillow so what is served is
a clean image (no metadata, no trailing bytes) of a known type."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

# Pillow format name -> (content type, file extension)
FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"),
           "WEBP": ("image/webp", "webp")}
MAX_SIDE = 2000  # pixels: a header logo; a larger picture is a mistake or an attack


class LogoRefused(ValueError):
    """The upload is not a logo we serve; the message says why, for the form."""


def clean_logo(data: bytes, max_bytes: int) -> tuple[bytes, str, str]:
    """(image bytes, content type, extension) of an accepted logo; LogoRefused otherwise."""
    if not data:
        raise LogoRefused("The file is empty.")
    if len(data) > max_bytes:
        raise LogoRefused(f"The file is {len(data) // 1024} KB; a logo may be at most "
                          f"{max_bytes // 1024} KB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            if max(image.size) > MAX_SIDE:
                raise LogoRefused(f"The image is {image.size[0]} x {image.size[1]} pixels; a "
                                  f"logo may be at most {MAX_SIDE} pixels on each side.")
            image.load()
    except LogoRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, OSError, ValueError, SyntaxError):
        raise LogoRefused("The file is not a PNG, JPEG or WebP image.") from None
    fmt = str(image.format)
    content_type, extension = FORMATS[fmt]
    # Only the pixels (and PNG's transparency) go on: EXIF, XMP, ICC text, comments stay out.
    image.info = {k: v for k, v in image.info.items() if k == "transparency"}
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    try:
        image.save(out, format=fmt)
    except (OSError, ValueError) as exc:
        raise LogoRefused("The image could not be read; save it again as PNG.") from exc
    return out.getvalue(), content_type, extension
