"""The storage interface, on local disk and on an S3-compatible server (moto): what is put
comes back with its content type, a second put replaces, delete removes, keys stay inside."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest

from returns_service.storage import FileNotStored, Storage
from returns_service.storage.base import build


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Storage:
    if request.param == "local":
        return build({"STORAGE_BACKEND": "local", "STORAGE_LOCAL_DIR": str(tmp_path)}, "")
    endpoint = request.getfixturevalue("s3_server")
    bucket = f"returns-{uuid.uuid4().hex[:12]}"
    settings = {"STORAGE_S3_ENDPOINT_URL": endpoint, "STORAGE_S3_REGION": "us-east-1",
                "STORAGE_S3_ACCESS_KEY_ID": "test", "STORAGE_S3_SECRET_ACCESS_KEY": "test"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test"
                 ).create_bucket(Bucket=bucket)
    return build({"STORAGE_BACKEND": "s3", "STORAGE_S3_BUCKET": bucket,
                  "STORAGE_S3_PREFIX": "shop/", **settings}, "")


def test_a_file_put_comes_back_with_its_type_and_can_be_replaced_and_deleted(
        backend: Storage) -> None:
    backend.put("labels/R-ABC123.pdf", b"%PDF first", "application/pdf")
    stored = backend.get("labels/R-ABC123.pdf")
    assert (stored.data, stored.content_type) == (b"%PDF first", "application/pdf")
    backend.put("labels/R-ABC123.pdf", b"\x89PNG second", "image/png")
    assert backend.get("labels/R-ABC123.pdf").data == b"\x89PNG second"
    backend.delete("labels/R-ABC123.pdf")
    with pytest.raises(FileNotStored):
        backend.get("labels/R-ABC123.pdf")
    backend.delete("labels/R-ABC123.pdf")  # deleting what is gone is no error


@pytest.mark.parametrize("key", ["../secret", "/etc/passwd", "labels/../../x", "", "a//b"])
def test_a_key_cannot_leave_the_storage(backend: Storage, key: str) -> None:
    with pytest.raises(ValueError):
        backend.put(key, b"x", "text/plain")


def test_an_unknown_backend_stops_the_app_at_start() -> None:
    with pytest.raises(ValueError, match="STORAGE_BACKEND"):
        build({"STORAGE_BACKEND": "ftp"}, "")
    with pytest.raises(ValueError, match="STORAGE_S3_BUCKET"):
        build({"STORAGE_BACKEND": "s3"}, "")
