"""Photos on the return form: kept with the draft as soon as they are sent, cleaned of EXIF,
given to the return when it is sent; the required-photo rule, the type read from the
content, the size and count limits; who may see them; erasure."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from returns_service.common import clock
from returns_service.db import db
from returns_service.photos import delete_photos_for_return
from returns_service.photos.models import ReturnPhoto
from returns_service.photos.services import discard_abandoned
from returns_service.returns.links import status_token
from returns_service.returns.models import Return
from returns_service.storage import FileNotStored, storage
from tests.photos.conftest import stored_photos
from tests.portal.conftest import csrf_token
from tests.support.photos import TEXT_NAMED_JPG, has_location, photo_with_location

DAMAGED_JEANS = {1: (1, "damaged", "The zip is broken.")}


def test_a_damaged_item_needs_a_photo_and_the_form_keeps_what_was_entered(
        app, portal, make_order):
    make_order()
    portal.lookup()
    page = portal.choose({0: (2, "doesnt_fit"), **DAMAGED_JEANS})
    assert page.status_code == 422
    assert "Jeans: Add a photo that shows the damage or the fault." in page.text
    field = re.search(r'<input type="file" id="line1-photos"[^>]*>', page.text).group(0)
    assert 'aria-invalid="true"' in field
    assert "The zip is broken." in page.text  # nothing typed is lost
    assert stored_photos(app) == []


def test_an_optional_reason_needs_no_photo(portal, make_order):
    make_order()
    portal.lookup()
    assert portal.choose({0: (1, "doesnt_fit")}).location == "/return/review"


def test_a_photo_is_stored_without_exif_and_reaches_the_return(app, portal, make_order):
    make_order()
    portal.lookup()
    original = photo_with_location()
    assert has_location(original)
    answer = portal.choose(DAMAGED_JEANS, photos={1: [(original, "IMG_0042.jpg")]})
    assert answer.location == "/return/review"

    [(row, data)] = stored_photos(app)
    assert (row.sku, row.file_name, row.content_type) == ("JEANS", "IMG_0042.jpg", "image/jpeg")
    assert row.return_id is None and row.draft_key  # the draft's until the form is sent
    assert re.fullmatch(r"photos/[0-9a-f]{40}\.jpg", row.storage_key)  # a random name
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (64, 48)
    assert not has_location(data) and not image.getexif()  # no GPS, no EXIF at all

    review = portal.client.get("/return/review")
    assert 'alt="Your photo IMG_0042.jpg"' in review.text
    assert portal.client.get(f"/return/photos/{row.id}").data == data

    confirmation = portal.submit().location
    with app.app_context():
        ret = db.session.scalars(select(Return)).one()
        photo = db.session.scalars(select(ReturnPhoto)).one()
        assert photo.return_id == ret.id
        assert photo.return_item_id == next(i.id for i in ret.items
                                            if i.order_line.sku == "JEANS")
    token = confirmation.rsplit("/", 1)[1]
    status = portal.client.get(f"/returns/status/{token}")
    assert 'alt="Your photo IMG_0042.jpg"' in status.text
    shown = portal.client.get(f"/returns/status/{token}/photos/{row.id}")
    assert shown.status_code == 200 and shown.data == data
    assert shown.headers["X-Content-Type-Options"] == "nosniff"


def test_another_browser_or_return_cannot_see_a_photo(app, portal, make_order, make_return):
    make_order()
    portal.lookup()
    portal.choose(DAMAGED_JEANS, photos={1: [(photo_with_location(), "a.jpg")]})
    [(row, _data)] = stored_photos(app)
    stranger = app.test_client()
    assert stranger.get(f"/return/photos/{row.id}").status_code == 404  # not their draft
    portal.submit()
    other = make_return("A2002")["rma"]
    with app.test_request_context():
        token = status_token(other)
    assert stranger.get(f"/returns/status/{token}/photos/{row.id}").status_code == 404
    assert stranger.get(f"/returns/status/forged/photos/{row.id}").status_code == 404


def test_a_text_file_named_jpg_is_refused_and_the_good_photo_beside_it_kept(
        app, portal, make_order):
    make_order()
    portal.lookup()
    page = portal.choose(DAMAGED_JEANS, photos={1: [(TEXT_NAMED_JPG, "list.jpg"),
                                                    (photo_with_location("PNG"), "b.png")]})
    assert page.status_code == 422
    assert "list.jpg is not a photo we can read. Use one of these types: JPEG, PNG, WebP, " \
        "HEIC." in page.text
    [(row, _data)] = stored_photos(app)
    assert (row.file_name, row.content_type) == ("b.png", "image/png")
    assert 'alt="Your photo b.png"' in page.text  # shown on the form again, kept
    # Sent again without a new file: the kept photo satisfies the rule.
    assert portal.choose(DAMAGED_JEANS).location == "/return/review"


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_keep_their_type_without_metadata(app, portal, make_order, fmt):
    make_order()
    portal.lookup()
    portal.choose(DAMAGED_JEANS, photos={1: [(photo_with_location(fmt), f"x.{fmt.lower()}")]})
    [(row, data)] = stored_photos(app)
    assert row.content_type == f"image/{fmt.lower()}"
    image = Image.open(io.BytesIO(data))
    assert image.format == fmt and not image.getexif()


def test_heic_from_an_iphone_is_stored_as_jpeg(app, portal, make_order):
    make_order()
    portal.lookup()
    heic = photo_with_location("HEIF")
    assert portal.choose(DAMAGED_JEANS, photos={1: [(heic, "IMG_1.HEIC")]}).status_code == 302
    [(row, data)] = stored_photos(app)
    assert row.content_type == "image/jpeg" and not has_location(data)


@pytest.fixture
def small_limits(app_config):
    app_config.update(PHOTO_MAX_BYTES=2000, PHOTOS_MAX_PER_ITEM=2)
    return app_config


def test_too_large_and_too_many_photos_are_refused_on_the_field(
        small_limits, app, portal, make_order):
    make_order()
    portal.lookup()
    big = photo_with_location(size=(400, 400))
    assert len(big) > 2000
    page = portal.choose(DAMAGED_JEANS, photos={1: [(big, "big.jpg")]})
    assert "big.jpg is too large" in page.text
    small = photo_with_location(size=(8, 8))
    page = portal.choose(DAMAGED_JEANS, photos={1: [(small, "1.jpg"), (small, "2.jpg"),
                                                    (small, "3.jpg")]})
    assert "You can add up to 2 photos of this item." in page.text
    assert [row.file_name for row, _ in stored_photos(app)] == ["1.jpg", "2.jpg"]


def test_the_customer_can_remove_a_photo_before_sending(app, portal, make_order):
    make_order()
    portal.lookup()
    portal.choose(DAMAGED_JEANS, photos={1: [(photo_with_location(), "wrong.jpg")]})
    [(row, _)] = stored_photos(app)
    page = portal.client.post("/return/items", data={
        "csrf_token": csrf_token(portal.client, "/return/items"), "line1-quantity": "1",
        "line1-reason": "damaged", "line1-comment": "Still typed", "remove_photo": row.id})
    assert page.status_code == 200 and "Still typed" in page.text
    assert stored_photos(app) == []
    with app.app_context(), pytest.raises(FileNotStored):
        storage().get(row.storage_key)


def test_erasing_a_returns_photos_deletes_files_and_rows(app, portal, make_order):
    make_order()
    portal.lookup()
    portal.choose(DAMAGED_JEANS, photos={1: [(photo_with_location(), "a.jpg")]})
    portal.submit()
    [(row, _)] = stored_photos(app)
    with app.app_context():
        assert delete_photos_for_return(row.return_id) == 1
        db.session.commit()
        assert delete_photos_for_return(row.return_id) == 0  # again: nothing left, no error
        with pytest.raises(FileNotStored):
            storage().get(row.storage_key)
    assert stored_photos(app) == []


def test_photos_of_a_form_never_sent_are_discarded_a_day_later(app, portal, make_order):
    make_order()
    portal.lookup()
    portal.choose(DAMAGED_JEANS, photos={1: [(photo_with_location(), "a.jpg")]})
    [(row, _)] = stored_photos(app)
    with app.app_context():
        assert discard_abandoned(clock.utcnow() + timedelta(hours=23)) == 0
        assert discard_abandoned(clock.utcnow() + timedelta(hours=25)) == 1
        with pytest.raises(FileNotStored):
            storage().get(row.storage_key)


def test_a_form_above_the_upload_limit_gets_a_page_that_says_so(build_app):
    client = build_app(MAX_BODY_UPLOAD_BYTES=20_000).test_client()
    too_much = photo_with_location() + b"\0" * 30_000
    answer = client.post("/return/items", data={"line1-photos": (io.BytesIO(too_much), "a.jpg")})
    assert answer.status_code == 413
    assert "the photos you sent are larger than 19 KB" in answer.text
    assert 'href="/return/items"' in answer.text
