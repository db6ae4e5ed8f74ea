"""Storage: where files the service makes or receives live (return labels, return slips,
customer photos), behind one small interface: `put(key, data, content_type)`, `get(key)`,
`delete(key)`. Local disk (the instance folder) by default; any S3-compatible object store
when `STORAGE_BACKEND=s3`. Plumbing: it knows nothing of returns or shipments."""

from flask import Flask

from returns_service.storage.base import FileNotStored, Storage, StoredFile, storage

__all__ = ["FileNotStored", "Storage", "StoredFile", "init_app", "storage"]


def init_app(app: Flask) -> None:
    """Build the configured backend once; `storage()` hands it out."""
    from returns_service.storage.base import build

    app.extensions["storage"] = build(app.config, app.instance_path)
