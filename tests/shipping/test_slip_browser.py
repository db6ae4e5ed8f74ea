"""Real Chromium: the customer downloads the return slip from the status page; the warehouse
scans the RMA printed on it (decoded from the slip's barcode) on the receive page."""

from __future__ import annotations

import subprocess

import pytest
from playwright.sync_api import expect

from returns_service.returns.links import status_token
from tests.console.test_browser import sign_in

pytestmark = pytest.mark.browser


def test_customer_downloads_the_slip_and_the_warehouse_scans_it(app, page, desk,
                                                                approved_return, tmp_path):
    rma = approved_return()
    with app.test_request_context():
        token = status_token(rma)
    page.goto(f"/returns/status/{token}")
    expect(page.get_by_role("heading", name="Sending it back")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your return slip (PDF)").click()
    slip = tmp_path / "slip.pdf"
    download.value.save_as(slip)
    assert download.value.suggested_filename == f"return-slip-{rma}.pdf"
    expect(page.get_by_role("link", name="Download your prepaid return label")).to_be_visible()

    # What a barcode scanner reads off the printed slip.
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(slip), str(tmp_path / "page")],
                   check=True)
    read = subprocess.run(["zbarimg", "-q", "--raw", "-Sdisable", "-Scode128.enable",
                           str(tmp_path / "page-1.png")], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert read == rma

    sign_in(desk, "warehouse@shop.test", "password-warehouse")
    scan = desk.get_by_label("Scan or type the RMA")
    scan.fill(read)  # a scanner types what it reads, then Enter
    scan.press("Enter")
    expect(desk.get_by_role("heading", name=f"Receive {rma}")).to_be_visible()
