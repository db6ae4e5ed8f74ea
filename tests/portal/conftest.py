"""Helpers for portal tests: CSRF tokens from real pages, and walking the form with a client."""

from __future__ import annotations

import io
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.forms import csrf_from


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on `path`, as a browser would read it."""
    page = client.get(path)
    assert page.status_code == 200, f"no form on {path}: {page.status_code}"
    return csrf_from(page.text)


def post_form(client: FlaskClient, path: str, data: dict[str, Any],
              token_from: str | None = None) -> Any:
    """POST a form with the CSRF token read from the page it lives on."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_from or path)})


class Portal:
    """Drives the customer pages with the Flask test client, CSRF on."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def lookup(self, number: str = "A1001", email: str = "jane@example.com") -> Any:
        return post_form(self.client, "/", {"order_number": number, "email": email})

    def choose(self, lines: dict[int, tuple[Any, str] | tuple[Any, str, str]],
               photos: dict[int, list[tuple[bytes, str]]] | None = None) -> Any:
        """lines: {line index: (quantity, reason[, comment])}; photos: {line index:
        [(content, file name)]}."""
        data: dict[str, Any] = {}
        for n, files in (photos or {}).items():
            data[f"line{n}-photos"] = [(io.BytesIO(content), name) for content, name in files]
        for n, values in lines.items():
            data[f"line{n}-quantity"] = values[0]
            data[f"line{n}-reason"] = values[1]
            if len(values) > 2:
                data[f"line{n}-comment"] = values[2]
        return post_form(self.client, "/return/items", data)

    def submit(self) -> Any:
        return post_form(self.client, "/return/review", {})

    def request_return(self, lines: dict[int, Any] | None = None) -> str:
        """Walk the whole form; the confirmation page's path (carries the status token)."""
        assert self.lookup().status_code == 302
        assert self.choose(lines or {0: (1, "doesnt_fit")}).status_code == 302
        sent = self.submit()
        assert sent.status_code == 302, sent.text
        return sent.location


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    """Customers' photos go to the test's own folder."""
    app_config["STORAGE_LOCAL_DIR"] = str(tmp_path / "files")
    return app_config


@pytest.fixture
def portal(client: FlaskClient) -> Portal:
    return Portal(client)
