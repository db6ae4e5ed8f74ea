"""Customer pages after the outside review: relative links, honest wording, small pieces."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from tests.portal.conftest import post_form

ROOT = Path(__file__).resolve().parents[2]


def hrefs(html: str, testid: str) -> list[str]:
    return re.findall(rf'href="([^"]+)"[^>]*data-testid="{testid}"', html)


# --- 12: links on pages follow the host the customer used ----------------------------------

def test_confirmation_links_to_the_status_page_on_the_same_host(app_config, build_app,
                                                                 make_order):
    """A demo served on another port than PUBLIC_BASE_URL's: the link still opens here."""
    app = build_app(PUBLIC_BASE_URL="http://127.0.0.1:5000")
    client = app.test_client()
    make_order()
    post_form(client, "/", {"order_number": "A1001", "email": "jane@example.com"})
    post_form(client, "/return/items", {"line0-quantity": 1, "line0-reason": "doesnt_fit"})
    sent = post_form(client, "/return/review", {})
    page = client.get(sent.location, base_url="http://127.0.0.1:5077")
    (link,) = hrefs(page.text, "status-link")
    assert link.startswith("/returns/status/")
    status = client.get(link, base_url="http://127.0.0.1:5077")
    assert status.status_code == 200 and 'data-testid="status">Request received<' in status.text


def _fake_demo_tree(tmp_path: Path) -> tuple[Path, Path]:
    """bin/demo beside a stand-in .venv whose `flask` writes down what it was given."""
    (tmp_path / "bin").mkdir()
    demo = tmp_path / "bin" / "demo"
    demo.write_text((ROOT / "bin" / "demo").read_text())
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    record = tmp_path / "flask-calls.txt"
    scripts = {
        "python3": "#!/bin/sh\nexit 0\n",  # `python3 -m venv .venv`: already there
        "pip": "#!/bin/sh\nexit 0\n",
        "flask": f'#!/bin/sh\necho "$PUBLIC_BASE_URL $*" >> "{record}"\n',
        "python": f'#!/bin/sh\nexec {sys.executable} "$@"\n',  # the test run's own
        # The fake Stripe stands in as a bare listener on the port it is given; the mail
        # sink (`python -m returns_service.demo.mailbox`) runs for real.
        "localstripe": f"#!/bin/sh\nexec {sys.executable} -c 'import socket, sys, time; "
                       's = socket.create_server(("127.0.0.1", int(sys.argv[2]))); '
                       "time.sleep(60)' \"$@\"\n",
    }
    fake_path = tmp_path / "path"
    fake_path.mkdir()
    for name, body in scripts.items():
        target = (fake_path if name == "python3" else venv_bin) / name
        target.write_text(body)
        target.chmod(target.stat().st_mode | stat.S_IEXEC)
    demo.chmod(demo.stat().st_mode | stat.S_IEXEC)
    return demo, record


def _run_demo(tmp_path: Path, **env: str) -> list[str]:
    demo, record = _fake_demo_tree(tmp_path)
    base = {k: v for k, v in os.environ.items()
            if k not in ("PUBLIC_BASE_URL", "HOST", "PORT")}
    base["PATH"] = f"{tmp_path / 'path'}:{base.get('PATH', '/usr/bin:/bin')}"
    subprocess.run(["bash", str(demo)], env={**base, **env}, check=True, timeout=30,
                   capture_output=True)
    return record.read_text().splitlines()


def test_demo_on_another_port_builds_links_for_that_port(tmp_path):
    calls = _run_demo(tmp_path, PORT="5077")
    assert calls[-1] == "http://127.0.0.1:5077 run --host 127.0.0.1 --port 5077"
    assert all(c.startswith("http://127.0.0.1:5077 ") for c in calls)  # seed emails too


def test_demo_keeps_an_explicit_public_base_url(tmp_path):
    calls = _run_demo(tmp_path, PORT="5077", HOST="0.0.0.0",
                      PUBLIC_BASE_URL="https://returns.example.com")
    assert calls[-1] == "https://returns.example.com run --host 0.0.0.0 --port 5077"


# --- 20: small pieces ----------------------------------------------------------------------------

NOT_DELIVERED = "not marked as delivered yet"


def test_an_undelivered_order_says_so_on_the_items_and_review_pages(portal, make_order):
    make_order(delivered_at=None)
    assert portal.lookup().status_code == 302
    items = portal.client.get("/return/items").text
    assert NOT_DELIVERED in items
    assert portal.choose({0: (1, "doesnt_fit")}).status_code == 302
    review = portal.client.get("/return/review").text
    assert NOT_DELIVERED in review and "You can still ask for a return now" in review


def test_a_delivered_order_does_not_mention_delivery(portal, make_order):
    make_order()
    portal.lookup()
    assert NOT_DELIVERED not in portal.client.get("/return/items").text


def test_the_header_names_the_shop(build_app):
    app = build_app(SHOP_NAME="Acme Outfitters")
    client = app.test_client()
    assert '<a class="brand" href="/"><span>Acme Outfitters</span></a>' in client.get("/").text
    assert "Acme Outfitters · Staff" in client.get("/staff/login").text


def test_the_browser_gets_an_icon(client):
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200
        assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_the_licence_named_in_pyproject_is_there():
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 returns-service contributors" in text
    assert "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND" in text


# --- 25: the service's own error pages, and a page description --------------------------------

def test_unknown_pages_get_the_services_own_404_page(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "<h1>Page not found</h1>" in page.text
    assert 'class="brand"' in page.text and "/static/app.css" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_forbidden_and_failing_pages_get_the_services_own_pages(build_app):
    from flask import abort

    app = build_app()

    def forbidden():
        abort(403)

    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/test-forbidden", "test_forbidden", forbidden)
    app.add_url_rule("/test-broken", "test_broken", broken)
    client = app.test_client()
    denied = client.get("/test-forbidden")
    assert denied.status_code == 403 and "<h1>You cannot open this page</h1>" in denied.text
    failed = client.get("/test-broken")
    assert failed.status_code == 500 and "<h1>Something went wrong</h1>" in failed.text
    assert "nothing was changed" in failed.text and "a bug" not in failed.text


def test_pages_have_a_description(client):
    page = client.get("/").text
    assert '<meta name="description" content="Return items from your order' in page
