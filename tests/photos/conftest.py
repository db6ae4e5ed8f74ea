"""Fixtures of the photo tests: files on local disk in the test's folder (or on the moto S3
server), and reading back what was stored."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from returns_service.db import db
from returns_service.photos.models import ReturnPhoto
from returns_service.storage import storage
from tests.portal.conftest import Portal


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    app_config["STORAGE_LOCAL_DIR"] = str(tmp_path / "files")
    return app_config


@pytest.fixture
def portal(client: Any) -> Portal:
    return Portal(client)


def stored_photos(app: Flask) -> list[tuple[ReturnPhoto, bytes]]:
    """Every photo row with the bytes the storage holds for it."""
    with app.app_context():
        rows = list(db.session.scalars(select(ReturnPhoto).order_by(ReturnPhoto.id)))
        for row in rows:
            db.session.expunge(row)
        return [(row, storage().get(row.storage_key).data) for row in rows]
