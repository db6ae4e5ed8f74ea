"""Staff see a return's photos through authorised routes only: the console behind sign-in
and the `photos.read` permission, the API behind a Bearer token, with links."""

from __future__ import annotations

from sqlalchemy import select

from returns_service.db import db
from returns_service.returns.models import Return
from tests.photos.conftest import stored_photos
from tests.support.console import login
from tests.support.photos import has_location, photo_with_location


def _return_with_photo(app, portal, make_order) -> tuple[str, int, bytes]:
    make_order()
    portal.lookup()
    portal.choose({1: (1, "defective")}, photos={1: [(photo_with_location(), "fault.jpg")]})
    portal.submit()
    with app.app_context():
        rma = db.session.scalars(select(Return.rma)).one()
    [(row, data)] = stored_photos(app)
    return rma, row.id, data


def test_the_agent_sees_the_photo_on_the_return_page(app, portal, make_order, tokens):
    rma, photo_id, data = _return_with_photo(app, portal, make_order)
    staff = app.test_client()
    url = f"/staff/returns/{rma}/photos/{photo_id}"
    anonymous = staff.get(url)
    assert anonymous.status_code == 302 and "/staff/login" in anonymous.location
    login(staff, "agent")
    page = staff.get(f"/staff/returns/{rma}")
    assert f'src="{url}"' in page.text
    assert "photo 1 of Jeans (fault.jpg)" in page.text
    photo = staff.get(url)
    assert photo.status_code == 200 and photo.data == data and not has_location(photo.data)
    assert photo.mimetype == "image/jpeg" and "no-store" in photo.headers["Cache-Control"]
    assert staff.get(f"/staff/returns/{rma}/photos/{photo_id + 1}").status_code == 404


def test_the_api_lists_photos_with_links_behind_the_token(app, portal, make_order, api):
    rma, photo_id, data = _return_with_photo(app, portal, make_order)
    assert api.get(f"/api/v1/returns/{rma}/photos").status_code == 401
    listed = api.get(f"/api/v1/returns/{rma}/photos", as_="warehouse")
    assert listed.status_code == 200
    [photo] = listed.json
    assert photo["sku"] == "JEANS" and photo["file_name"] == "fault.jpg"
    assert photo["url"] == f"http://localhost/api/v1/returns/{rma}/photos/{photo_id}"
    assert api.get(f"/api/v1/returns/{rma}/photos/{photo_id}").status_code == 401
    content = api.get(f"/api/v1/returns/{rma}/photos/{photo_id}", as_="integration")
    assert content.status_code == 200 and content.data == data
    missing = api.get(f"/api/v1/returns/{rma}/photos/{photo_id + 9}", as_="agent")
    assert missing.status_code == 404
