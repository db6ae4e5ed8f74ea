"""Two admins saving the look at the same moment, on a fresh install (no row yet): both
saves land one after the other (the row is created once, then locked), none is lost as an
error, and the version moves past both so no browser keeps a stale stylesheet."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from returns_service.branding import current_brand
from returns_service.branding.services import update_brand
from returns_service.db import db
from tests.branding.support import FIELDS

pytestmark = pytest.mark.postgres


def test_concurrent_first_saves_both_land_and_the_version_counts_both(app: Any) -> None:
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def save(colour: str) -> None:
        try:
            with app.test_request_context():
                start.wait()
                update_brand({**FIELDS, "primary_color": colour}, by="admin@shop.test")
                db.session.commit()
        except BaseException as exc:  # collected: the assertion below shows it
            errors.append(exc)

    colours = ["#14532d", "#7c2d12", "#1e3a8a", "#581c87"]
    threads = [threading.Thread(target=save, args=(c,)) for c in colours]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with app.test_request_context():
        brand = current_brand()
    assert brand.version == 4 and brand.primary_color in colours
