"""The store's look: an admin sets it on the Branding page; every customer page and email
shows it; the CSP stays strict (the colour comes from a generated stylesheet)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from PIL import Image

from returns_service.storage import FileNotStored, storage
from tests.branding.support import image_bytes, post_brand
from tests.support.console import login


@pytest.fixture
def admin(app: Any, tokens: Any) -> Any:
    client = app.test_client()
    login(client, "admin")
    return client


def logo_src(html: str) -> str:
    match = re.search(r'<img class="brand-logo" src="([^"]+)"', html)
    assert match, "no logo in the header"
    return match.group(1)


def test_before_anything_is_saved_pages_use_the_settings(app: Any, client: Any) -> None:
    app.config.update(SHOP_NAME="Corner Shop", SUPPORT_PHONE="+1 555 0100")
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert '<a class="brand" href="/"><span>Corner Shop</span></a>' in html
    assert "brand-logo" not in html
    assert 'href="tel:+15550100">+1 555 0100</a>' in html
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert "style-src 'self'" in page.headers["Content-Security-Policy"]
    assert ' style="' not in html and "<style" not in html
    css = client.get("/brand.css?v=0")
    assert css.mimetype == "text/css" and "--accent: #0b5cad;" in css.get_data(as_text=True)


def test_admin_sets_the_look_and_every_customer_page_shows_it(
        app: Any, client: Any, admin: Any) -> None:
    saved = post_brand(admin, logo=(image_bytes("PNG"), "logo.png"))
    assert saved.status_code == 302
    assert "Branding saved" in admin.get("/staff/brand").get_data(as_text=True)

    for path in ("/", "/help"):
        html = client.get(path).get_data(as_text=True)
        assert "<span>Acme Outfitters</span>" in html and "· Acme Outfitters</title>" in html
        assert '<a href="https://acme.test/terms">Terms and conditions</a>' in html
        assert '<a href="https://acme.test/privacy">Privacy policy</a>' in html
        assert '<a href="mailto:help@acme.test">help@acme.test</a>' in html
        assert 'href="tel:+442079460000"' in html
        assert 'href="/brand.css?v=1"' in html
        assert logo_src(html) == "/brand/logo?v=1"

    css = client.get("/brand.css?v=1")
    assert "--accent: #14532d;" in css.get_data(as_text=True)
    assert "immutable" in css.headers["Cache-Control"]
    logo = client.get("/brand/logo?v=1")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert logo.get_data().startswith(b"\x89PNG") and "immutable" in logo.headers["Cache-Control"]
    # An old version's URL is answered with what is current, not cached for good.
    assert client.get("/brand.css?v=0").headers["Cache-Control"] == "no-cache"

    # A second save (new colour) moves the version: pages link the new stylesheet at once.
    assert post_brand(admin, primary_color="#7c2d12").status_code == 302
    html = client.get("/").get_data(as_text=True)
    assert 'href="/brand.css?v=2"' in html and logo_src(html) == "/brand/logo?v=2"
    assert "--accent: #7c2d12;" in client.get("/brand.css?v=2").get_data(as_text=True)


def test_a_too_light_colour_is_refused_inline_with_its_ratio_and_nothing_changes(
        app: Any, client: Any, admin: Any) -> None:
    assert post_brand(admin).status_code == 302
    refused = post_brand(admin, primary_color="#ffcc00", store_name="Changed")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert re.search(r'<p class="field-error" id="primary_color-error">White button text on '
                     r'this colour has a contrast ratio of 1\.\d\d:1; it needs at least '
                     r'4\.5:1', html)
    assert 'value="#ffcc00"' in html  # what the admin typed stays in the form
    page = client.get("/").get_data(as_text=True)
    assert "Acme Outfitters" in page and "Changed" not in page
    assert "--accent: #14532d;" in client.get("/brand.css").get_data(as_text=True)


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.svg",
     "not a PNG, JPEG or WebP image"),
    (b"GIF89a not really", "logo.png", "not a PNG, JPEG or WebP image"),
    (image_bytes("GIF"), "logo.gif", "not a PNG, JPEG or WebP image"),
    (image_bytes("PNG", size=(2400, 10)), "wide.png", "at most 2000 pixels"),
    (image_bytes("BMP", size=(500, 400)), "big.png", "a logo may be at most 512 KB"),
])
def test_a_logo_is_checked_by_its_content_and_size(
        app: Any, client: Any, admin: Any, content: bytes, name: str, message: str) -> None:
    refused = post_brand(admin, logo=(content, name))
    assert refused.status_code == 422
    assert message in refused.get_data(as_text=True)
    assert client.get("/brand/logo").status_code == 404
    assert "brand-logo" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP"])
def test_jpeg_and_webp_logos_are_served_as_what_they_are(
        app: Any, client: Any, admin: Any, fmt: str) -> None:
    # EXIF written by a camera or an editor does not reach the public: the file is re-encoded.
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    extra = {"exif": exif.tobytes()}
    assert post_brand(admin, logo=(image_bytes(fmt, **extra), "logo.bin")).status_code == 302
    logo = client.get("/brand/logo")
    assert logo.mimetype == {"JPEG": "image/jpeg", "WEBP": "image/webp"}[fmt]
    assert b"CameraMaker" not in logo.get_data() and b"Exif" not in logo.get_data()
    assert logo.headers["X-Content-Type-Options"] == "nosniff"


def test_a_replaced_or_removed_logo_is_deleted_from_storage(
        app: Any, client: Any, admin: Any) -> None:
    from returns_service.branding import current_brand

    post_brand(admin, logo=(image_bytes("PNG"), "one.png"))
    with app.test_request_context():
        first = current_brand().logo_key
    post_brand(admin, logo=(image_bytes("PNG", size=(80, 80)), "two.png"))
    with app.test_request_context():
        second = current_brand().logo_key
        assert first and second and first != second
        with pytest.raises(FileNotStored):
            storage().get(first)
        assert storage().get(second).content_type == "image/png"
    post_brand(admin, remove_logo="y")
    assert client.get("/brand/logo").status_code == 404
    with app.test_request_context(), pytest.raises(FileNotStored):
        storage().get(second)


def test_bad_contact_details_are_refused_field_by_field(admin: Any) -> None:
    refused = post_brand(admin, store_name="x" * 101, support_email="nope", support_phone="call us",
                         terms_url="javascript:alert(1)", privacy_url="acme.test/privacy")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    for field, message in [("store_name", "Use at most 100 characters."),
                           ("support_email", "Enter an email address"),
                           ("support_phone", "Enter a phone number"),
                           ("terms_url", "Enter a full web address"),
                           ("privacy_url", "Enter a full web address")]:
        assert re.search(f'id="{field}-error">{message}', html), field


def test_only_admins_open_the_branding_page(app: Any, tokens: Any) -> None:
    agent = app.test_client()
    login(agent, "agent")
    assert agent.get("/staff/brand").status_code == 403
    assert "Branding" not in agent.get("/staff/", follow_redirects=True).get_data(as_text=True)
    admin = app.test_client()
    login(admin, "admin")
    assert ">Branding</a>" in admin.get("/staff/brand").get_data(as_text=True)


def test_the_console_header_shows_the_store_name(app: Any, admin: Any) -> None:
    post_brand(admin)
    assert "Acme Outfitters · Staff" in admin.get("/staff/brand").get_data(as_text=True)


def test_an_unreadable_database_leaves_pages_on_the_settings_look(
        app: Any, admin: Any, monkeypatch: Any) -> None:
    from sqlalchemy.exc import OperationalError

    from returns_service.branding import current_brand
    from returns_service.db import db

    post_brand(admin)

    def down(*_: Any, **__: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.test_request_context():
        monkeypatch.setattr(db.engine, "connect", down)
        brand = current_brand()
    assert brand.store_name == "Returns" and brand.primary_color == "#0b5cad"
    assert not brand.has_logo


def test_a_field_left_empty_follows_its_setting_even_after_a_save(
        app: Any, client: Any, admin: Any) -> None:
    assert post_brand(admin, store_name="", primary_color="", terms_url="").status_code == 302
    form = admin.get("/staff/brand").get_data(as_text=True)
    assert re.search(r'id="store_name"[^>]*placeholder="Returns"|placeholder="Returns"[^>]*'
                     r'id="store_name"', form)
    app.config.update(SHOP_NAME="Renamed Shop", TERMS_URL="https://renamed.test/terms")
    html = client.get("/").get_data(as_text=True)
    assert "<span>Renamed Shop</span>" in html and 'href="https://renamed.test/terms"' in html
    assert 'href="https://acme.test/privacy"' in html  # the saved one still wins


def test_a_change_saved_by_another_process_shows_within_the_cache_time(
        app: Any, client: Any, admin: Any, monkeypatch: Any) -> None:
    """Each process keeps the saved look for BRAND_CACHE_SECONDS: a change another process
    saved (written straight to the table here) shows once that time is over."""
    from sqlalchemy import update

    from returns_service.branding import services
    from returns_service.branding.models import BrandSettings
    from returns_service.db import db

    assert post_brand(admin).status_code == 302
    now = [1000.0]
    monkeypatch.setattr(services.time, "monotonic", lambda: now[0])
    assert "<span>Acme Outfitters</span>" in client.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(BrandSettings).values(store_name="Elsewhere Ltd",
                                                        version=BrandSettings.version + 1))
        db.session.commit()
    now[0] += app.config["BRAND_CACHE_SECONDS"] - 1
    assert "<span>Acme Outfitters</span>" in client.get("/").get_data(as_text=True)
    now[0] += 2
    assert "<span>Elsewhere Ltd</span>" in client.get("/").get_data(as_text=True)
    # The process that saves sees its own change at once.
    assert post_brand(admin, store_name="Saved Here").status_code == 302
    assert "<span>Saved Here</span>" in client.get("/").get_data(as_text=True)


def test_with_no_cache_time_every_page_reads_the_saved_look(
        app: Any, client: Any, admin: Any) -> None:
    from sqlalchemy import update

    from returns_service.branding.models import BrandSettings
    from returns_service.db import db

    app.config["BRAND_CACHE_SECONDS"] = 0
    assert post_brand(admin).status_code == 302
    assert "<span>Acme Outfitters</span>" in client.get("/").get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(BrandSettings).values(store_name="Elsewhere Ltd"))
        db.session.commit()
    assert "<span>Elsewhere Ltd</span>" in client.get("/").get_data(as_text=True)
