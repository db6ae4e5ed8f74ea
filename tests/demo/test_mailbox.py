"""The console's Demo mailbox: what the app sent, as the demo's SMTP sink stored it; for
admins, and only in demo mode."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from returns_service.demo.mailbox import serve
from tests.support.console import login
from tests.support.smtp import free_port


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The demo's own sink (its aiosmtpd handler) on a free port: (SMTP_URL, folder)."""
    folder = tmp_path / "mailbox"
    port = free_port()
    controller = serve(folder, "127.0.0.1", port)
    try:
        yield f"smtp://127.0.0.1:{port}", folder
    finally:
        controller.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], mailbox: tuple[str, Path]) -> dict[str, Any]:
    url, folder = mailbox
    app_config.update(DEMO_MODE=True, SMTP_URL=url, DEMO_MAILBOX_DIR=str(folder))
    return app_config


def test_admin_reads_the_emails_the_app_sent(app, client, make_return, mailbox):
    rma = make_return()["rma"]  # the "we have your request" email goes out after commit
    assert len(list(mailbox[1].glob("*.eml"))) == 1
    login(client, "admin")
    queue = client.get("/staff/returns").get_data(as_text=True)
    assert 'href="/staff/demo/mailbox">Demo mailbox</a>' in queue  # in the console's nav
    page = client.get("/staff/demo/mailbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "jane@example.com" in html and f"We have your return request {rma}" in html
    link = re.search(r'href="(/staff/demo/mailbox/[0-9a-f-]+)"', html).group(1)

    one = client.get(link).get_data(as_text=True)
    assert f"We have your return request {rma}" in one
    assert '<pre class="mail-text">' in one and rma in one.split('<pre class="mail-text">')[1]
    # The HTML part is framed from its own URL, sandboxed, never inlined into the page.
    assert re.search(r'<iframe class="mail-html" sandbox title="[^"]+" src="'
                     + re.escape(link) + '/html"', one)
    part = client.get(link + "/html")
    assert part.status_code == 200 and rma in part.get_data(as_text=True)
    assert part.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "script-src" not in part.headers["Content-Security-Policy"]


def test_newest_email_first(app, client, api, make_return):
    rma = make_return()["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    login(client, "admin")
    html = client.get("/staff/demo/mailbox").get_data(as_text=True)
    approved = html.index(f"Your return {rma} is approved")
    requested = html.index(f"We have your return request {rma}")
    assert approved < requested


@pytest.mark.parametrize("role", ["agent", "warehouse"])
def test_other_roles_are_refused(app, client, make_return, role):
    make_return()
    login(client, role)
    refused = client.get("/staff/demo/mailbox")
    assert refused.status_code == 403
    assert "Not allowed for your role" in refused.get_data(as_text=True)
    home = client.get("/staff/", follow_redirects=True).get_data(as_text=True)
    assert "Demo mailbox" not in home


def test_anonymous_visitors_are_sent_to_sign_in(client, tokens):
    response = client.get("/staff/demo/mailbox")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_unknown_or_crafted_keys_open_nothing(app, client, tokens):
    login(client, "admin")
    for key in ("..%2F..%2Fsecret_key", "0000000000000000000-" + "0" * 32, "x"):
        assert client.get(f"/staff/demo/mailbox/{key}").status_code == 404


def test_outside_demo_mode_there_is_no_mailbox(build_app, tokens, mailbox):
    off = build_app(DEMO_MODE=False, DEMO_MAILBOX_DIR=str(mailbox[1]))
    client = off.test_client()
    login(client, "admin")
    assert client.get("/staff/demo/mailbox").status_code == 404
    assert "Demo mailbox" not in client.get("/staff/users").get_data(as_text=True)
