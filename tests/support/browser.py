"""Real-browser fixtures: the app served on a loopback port, driven by Debian's Chromium.

Use with `pytest_plugins = ["tests.support.browser"]`-free import: conftest re-exports the fixtures.
Screenshots go to test-artifacts/ (kept by CI as artifacts, and some copied into docs/).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


class LiveServer:
    """The app under test served by werkzeug in a thread on 127.0.0.1:<free port>."""

    def __init__(self, app: Flask):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        app.config["PUBLIC_BASE_URL"] = server.url
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _tab(browser: Any, live_server: LiveServer, width: int, height: int) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": width, "height": height},
                                  base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A phone-sized page (390x844) with its base URL set to the live server."""
    yield from _tab(browser, live_server, 390, 844)


@pytest.fixture
def desk(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A desktop-sized tab: staff work at a desk."""
    yield from _tab(browser, live_server, 1280, 900)


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page PNG of the current page as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def publish_screenshot(path: Path, name: str | None = None) -> None:
    """Copy a screenshot into docs/screenshots (shown in the README) when
    UPDATE_DOCS_SCREENSHOTS=1, so ordinary test runs leave the tree clean."""
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_SCREENSHOTS / (name or path.name))
