"""Helpers the branding tests share: images made with Pillow, the admin form posted."""

from __future__ import annotations

import io
from typing import Any

from flask.testing import FlaskClient
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.support.forms import csrf_from

FIELDS = {"store_name": "Acme Outfitters", "primary_color": "#14532d",
          "support_email": "help@acme.test", "support_phone": "+44 20 7946 0000",
          "terms_url": "https://acme.test/terms", "privacy_url": "https://acme.test/privacy"}


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (120, 40), **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 83, 45)).save(out, format=fmt, **save)
    return out.getvalue()


def post_brand(admin: FlaskClient, logo: tuple[bytes, str] | None = None,
               **changes: Any) -> Any:
    """Send the Branding form as the browser would (multipart, with its CSRF token)."""
    page = admin.get("/staff/brand")
    data: dict[str, Any] = {"csrf_token": csrf_from(page.get_data(as_text=True)),
                            **FIELDS, **changes}
    if logo is not None:
        data["logo"] = FileStorage(io.BytesIO(logo[0]), filename=logo[1])
    # The body encoded here, not by the test client, which spools a large one to a temporary
    # file it never closes.
    boundary, body = encode_multipart(MultiDict(data))
    return admin.post("/staff/brand", data=body,
                      content_type=f"multipart/form-data; boundary={boundary}")
