"""Photos and email attachments on S3-compatible storage (moto in server mode, through the
real boto3 client): the object in the bucket is the cleaned image, under a random key, and
it is gone when the return's photos are erased."""

from __future__ import annotations

import io
import uuid

import boto3
import pytest
from PIL import Image
from sqlalchemy import select

from returns_service.db import db
from returns_service.photos import delete_photos_for_return
from returns_service.photos.models import ReturnPhoto
from tests.support.photos import has_location, photo_with_location


@pytest.fixture
def bucket(s3_server):
    name = f"photos-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    client.create_bucket(Bucket=name)
    return client, name


@pytest.fixture
def app_config(app_config, s3_server, bucket):
    app_config.update(STORAGE_BACKEND="s3", STORAGE_S3_BUCKET=bucket[1],
                      STORAGE_S3_PREFIX="shop/", STORAGE_S3_ENDPOINT_URL=s3_server,
                      STORAGE_S3_REGION="us-east-1", STORAGE_S3_ACCESS_KEY_ID="test",
                      STORAGE_S3_SECRET_ACCESS_KEY="test")
    return app_config


def test_a_photo_lands_in_the_bucket_cleaned_and_is_erased_from_it(
        app, portal, make_order, bucket):
    client, name = bucket
    make_order()
    portal.lookup()
    answer = portal.choose({1: (1, "damaged")},
                           photos={1: [(photo_with_location(), "crack.jpg")]})
    assert answer.location == "/return/review"
    portal.submit()
    with app.app_context():
        photo = db.session.scalars(select(ReturnPhoto)).one()
        key, return_id = photo.storage_key, photo.return_id
    [listed] = client.list_objects_v2(Bucket=name)["Contents"]
    assert listed["Key"] == f"shop/{key}"
    stored = client.get_object(Bucket=name, Key=f"shop/{key}")
    data = stored["Body"].read()
    assert stored["ContentType"] == "image/jpeg"
    assert Image.open(io.BytesIO(data)).format == "JPEG" and not has_location(data)
    with app.app_context():
        assert delete_photos_for_return(return_id) == 1
        db.session.commit()
    assert client.list_objects_v2(Bucket=name).get("KeyCount") == 0
