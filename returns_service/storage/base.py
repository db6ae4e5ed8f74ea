"""The storage interface and the choice of backend from the settings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from flask import current_app

BACKENDS = ("local", "s3")
# Keys are paths made of safe segments: `labels/R-ABC123.pdf`. Nothing that could climb out
# of the storage folder (`..`) or name a different bucket.
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class FileNotStored(LookupError):
    """No file under that key."""


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    content_type: str


class Storage(Protocol):
    """What every backend does. Writing a key again replaces the file."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> StoredFile: ...

    def delete(self, key: str) -> None: ...


def check_key(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


def build(config: Mapping[str, Any], instance_path: str) -> Storage:
    """The backend the settings ask for."""
    backend = str(config.get("STORAGE_BACKEND") or "local").lower()
    if backend == "local":
        from returns_service.storage.local import LocalStorage

        folder = config.get("STORAGE_LOCAL_DIR") or str(Path(instance_path) / "files")
        return LocalStorage(Path(folder))
    if backend == "s3":
        from returns_service.storage.s3 import S3Storage

        if not config.get("STORAGE_S3_BUCKET"):
            raise ValueError("STORAGE_BACKEND=s3 needs STORAGE_S3_BUCKET")
        return S3Storage(
            bucket=config["STORAGE_S3_BUCKET"], prefix=config.get("STORAGE_S3_PREFIX") or "",
            endpoint_url=config.get("STORAGE_S3_ENDPOINT_URL"),
            region=config.get("STORAGE_S3_REGION"),
            access_key_id=config.get("STORAGE_S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("STORAGE_S3_SECRET_ACCESS_KEY"))
    raise ValueError(f"STORAGE_BACKEND={backend!r}: use one of {', '.join(BACKENDS)}")


def storage() -> Storage:
    """The app's storage backend (built by `returns_service.storage.init_app`)."""
    return current_app.extensions["storage"]
