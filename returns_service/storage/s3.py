"""Files in an S3-compatible object store (AWS S3, MinIO, Ceph, R2…) through boto3.

The only module that imports boto3. Credentials come from the settings, or boto3's own chain
(environment, instance role) when they are unset."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from returns_service.storage.base import FileNotStored, StoredFile, check_key


class S3Storage:
    def __init__(self, *, bucket: str, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, access_key_id: str | None = None,
                 secret_access_key: str | None = None):
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            # Path-style addressing works with every S3-compatible server (MinIO, Ceph).
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3},
                          connect_timeout=5, read_timeout=30))

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data,
                               ContentType=content_type)

    def get(self, key: str) -> StoredFile:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotStored(key) from None
            raise
        return StoredFile(answer["Body"].read(),
                          answer.get("ContentType") or "application/octet-stream")

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
