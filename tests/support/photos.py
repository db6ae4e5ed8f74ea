"""Test photos as a phone makes them: a JPEG carrying EXIF with a GPS position and the
camera's make, and a file named .jpg that is text."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
MAKE = 0x010F


def photo_with_location(fmt: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """An image with EXIF: GPS position (Paris) and camera make (HEIF: as an iPhone saves)."""
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    image = Image.new("RGB", size, (180, 40, 40))
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif.tobytes())
    return out.getvalue()


def has_location(data: bytes) -> bool:
    exif = Image.open(io.BytesIO(data)).getexif()
    return bool(exif.get_ifd(GPS_IFD)) or MAKE in exif


TEXT_NAMED_JPG = b"This is a shopping list, not a photo.\n" * 20
