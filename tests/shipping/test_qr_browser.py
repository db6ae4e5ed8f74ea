"""Real Chromium: a USPS label's QR code is on the customer's status page, drawn, and it is
the carrier's code (decoded from what the page shows)."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from playwright.sync_api import expect

from returns_service.returns.links import status_token

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Any) -> dict[str, Any]:
    policy = tmp_path / "policy.toml"
    policy.write_text('[shipping]\nallowed_carriers = ["USPS"]\n')
    app_config["RETURN_POLICY_FILE"] = str(policy)
    return app_config


def test_customer_sees_the_labels_qr_code(app, page, approved_return, tmp_path):
    rma = approved_return()
    with app.test_request_context():
        token = status_token(rma)
    page.goto(f"/returns/status/{token}")
    code = page.get_by_role("img", name="QR code of your return label")
    expect(code).to_be_visible()
    expect(page.get_by_text("No printer? Show this QR code at the carrier's counter")) \
        .to_be_visible()
    assert code.evaluate("img => img.complete && img.naturalWidth > 0")
    shown = tmp_path / "qr.png"
    shown.write_bytes(page.request.get(code.get_attribute("src")).body())
    read = subprocess.run(["zbarimg", "-q", "--raw", str(shown)], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert read == "USPS-LABEL-BROKER-TEST"

