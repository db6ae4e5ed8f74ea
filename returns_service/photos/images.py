"""Cleaning an uploaded image: its type read from its content (Pillow), never from its name
or the browser's word; re-encoded from the pixels alone, so EXIF (GPS position, camera
serial), XMP and comments are left behind; turned upright first, since the orientation lived
in the EXIF that goes."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC/HEIF (iPhone photos) needs the pillow-heif plugin
    from pillow_heif import register_heif_opener
except ImportError:  # pragma: no cover - where it cannot be installed: HEIC is refused
    register_heif_opener = None

HEIC_SUPPORTED = register_heif_opener is not None


@cache
def _open_heic_too() -> None:
    """Teach Pillow to open HEIC, once, when the first image is cleaned (not on import)."""
    if register_heif_opener is not None:
        register_heif_opener()

# Pillow's format name -> what the photo is stored as (format, content type, extension).
# HEIC becomes JPEG: every browser shows it.
STORED_AS = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "MPO": ("JPEG", "image/jpeg", "jpg"),  # phones' JPEG with a depth map
    "PNG": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
    "HEIF": ("JPEG", "image/jpeg", "jpg"),
}
MAX_PIXELS = 60_000_000  # above this, a decompression bomb rather than a photo


class ImageRefused(ValueError):
    """Not an accepted image; `code` says why (`type`, `size`)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def accepted_formats() -> tuple[str, ...]:
    """What the customer may upload, as the pages and docs name it."""
    return ("JPEG", "PNG", "WebP", "HEIC") if HEIC_SUPPORTED else ("JPEG", "PNG", "WebP")


def clean_image(data: bytes, max_bytes: int) -> CleanImage:
    """The image re-encoded without any metadata; ImageRefused("size") when `data` is larger
    than `max_bytes`, ImageRefused("type") when it is no JPEG, PNG, WebP (or HEIC)."""
    if len(data) > max_bytes:
        raise ImageRefused("size")
    _open_heic_too()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = image.format or ""
                if kind not in STORED_AS:
                    raise ImageRefused("type")
                if image.width * image.height > MAX_PIXELS:
                    raise ImageRefused("size")
                image.load()
                upright = ImageOps.exif_transpose(image)
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRefused("type") from None
    target, content_type, extension = STORED_AS[kind]
    # Only the pixels are copied into a new image: no info dict, no EXIF, no ICC comments.
    if target == "JPEG" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    elif target != "JPEG" and upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA")
    pixels = Image.new(upright.mode, upright.size)
    pixels.paste(upright)
    out = io.BytesIO()
    options: dict[str, object] = {"quality": 88} if target in ("JPEG", "WEBP") else {}
    pixels.save(out, format=target, **options)
    return CleanImage(out.getvalue(), content_type, extension, pixels.width, pixels.height)
