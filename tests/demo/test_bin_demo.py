"""`bin/demo` end to end: it starts the app, a fake Stripe and the mail sink on free ports;
a customer asks for a return in Chromium, staff approve and receive it, the refund goes
through localstripe, and the refund email is on the Demo mailbox page. Stopping bin/demo
stops every process it started."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import screenshot
from tests.support.stripe import free_port, wait_for_port

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> set[int]:
    """Every process below `pid` (from /proc: no extra tool needed)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def api(base: str, method: str, path: str, token: str | None = None,
        body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(base + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"}
                                                 if token else {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture
def demo(tmp_path: Path) -> Any:
    """bin/demo on free ports, its database, mailbox and logs in a temp folder."""
    assert Path(sys.prefix).resolve() == (ROOT / ".venv").resolve(), \
        "bin/demo runs the project's .venv: run the tests with ./bin/test"
    port = free_port()
    env = {**os.environ, "DEMO_INSTALL": "0", "PORT": str(port),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
           "DEMO_MAILBOX_DIR": str(tmp_path / "mailbox"), "DEMO_LOG_DIR": str(tmp_path),
           "SECRET_KEY": "demo-test-secret", "PYTHONWARNINGS": "ignore"}
    log = (tmp_path / "bin-demo.log").open("wb")
    process = subprocess.Popen([str(ROOT / "bin" / "demo")], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    started: set[int] = set()
    try:
        wait_for_port(port, timeout=60)
        started = children_of(process.pid)
        yield {"url": f"http://127.0.0.1:{port}", "process": process, "children": started,
               "output": (tmp_path / "bin-demo.log").read_text()}
    finally:
        started |= children_of(process.pid)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        finally:
            left = [pid for pid in started if alive(pid)]
            for pid in left:  # only if bin/demo failed to stop them: do not leak them
                os.kill(pid, signal.SIGKILL)
            log.close()
        assert left == [], f"bin/demo left processes running: {left}"


def test_a_return_walks_to_refunded_through_the_demo(demo, browser):
    from playwright.sync_api import expect

    base, output = demo["url"], demo["output"]
    names = {" ".join(Path(f"/proc/{pid}/cmdline").read_text().split("\0"))
             for pid in demo["children"] if alive(pid)}
    assert any("localstripe" in n and "--from-scratch" in n for n in names), names
    assert any("returns_service.demo.mailbox" in n for n in names), names
    assert f"Demo mailbox:     {base}/staff/demo/mailbox" in output
    assert re.search(r"History: \d+ returns over the last 90 days", output)
    tokens = dict(re.findall(r"^\s+(\S+@example\.com)\s+\w+\s+API token: (\S+)$", output,
                             flags=re.M))

    context = browser.new_context(viewport={"width": 1000, "height": 900}, base_url=base)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        # The customer asks for a return on demo order 1001.
        page.goto("/")
        page.get_by_label("Order number").fill("1001")
        page.get_by_label("Email address").fill("jane@example.com")
        page.get_by_role("button", name="Continue").click()
        jeans = page.get_by_role("group", name="Slim jeans")
        jeans.get_by_label("How many to return").fill("1")
        jeans.get_by_label("Reason").select_option(label="Doesn't fit")
        page.get_by_role("button", name="Continue").click()
        page.get_by_role("button", name="Send return request").click()
        expect(page.get_by_role("heading", name="Return requested")).to_be_visible()
        rma = page.get_by_test_id("rma").inner_text().strip()

        # The agent approves, the warehouse receives: the refund job asks localstripe.
        api(base, "POST", f"/api/v1/returns/{rma}/approve", tokens["agent@example.com"], {})
        api(base, "POST", f"/api/v1/returns/{rma}/receive", tokens["warehouse@example.com"],
            {"items": [{"sku": "JEANS-32", "quantity": 1, "condition": "resellable"}]})
        deadline = time.monotonic() + 20
        while (ret := api(base, "GET", f"/api/v1/returns/{rma}",
                          tokens["agent@example.com"]))["status"] != "refunded":
            assert time.monotonic() < deadline, ret["status"]
            time.sleep(0.3)
        assert ret["refunds"][0]["provider_refund_id"].startswith("re_")  # localstripe's id

        # The admin finds the refund email in the Demo mailbox.
        page.goto("/staff/login")
        page.get_by_label("Email").fill("admin@example.com")
        page.get_by_label("Password").fill("demo-returns-2026")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("link", name="Demo mailbox").click()
        expect(page.get_by_role("heading", name="Demo mailbox")).to_be_visible()
        subject = f"Your refund for return {rma} is on its way"
        page.get_by_role("link", name=subject).click()
        expect(page.get_by_role("heading", name=subject)).to_be_visible()
        expect(page.locator("pre.mail-text")).to_contain_text("€79.00")
        frame = page.frame_locator("iframe.mail-html")
        expect(frame.locator("body")).to_contain_text(rma)
        screenshot(page, "demo-mailbox-refund-email")
    finally:
        context.close()
