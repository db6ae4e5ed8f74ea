"""Files on local disk, one file per key under a folder (the instance folder by default).

Each file is written to a temporary name and renamed into place, so a reader never sees half
a file; its content type is kept beside it (`<name>.type`)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from returns_service.storage.base import FileNotStored, StoredFile, check_key


class LocalStorage:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, content in ((path, data), (_type_path(path), content_type.encode())):
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(content)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise

    def get(self, key: str) -> StoredFile:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise FileNotStored(key) from None
        try:
            content_type = _type_path(path).read_text()
        except FileNotFoundError:
            content_type = "application/octet-stream"
        return StoredFile(data, content_type)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        _type_path(path).unlink(missing_ok=True)


def _type_path(path: Path) -> Path:
    return path.with_name(path.name + ".type")
