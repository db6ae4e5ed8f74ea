"""A customer exchanges in real Chromium: a size swap at the same price, and a cheaper size
whose difference is refunded, a dearer one paid at Checkout, an instant exchange secured by a
saved card; out-of-stock sizes are shown and cannot be chosen."""

from __future__ import annotations

import re

import pytest

from tests.conftest import order_payload
from tests.exchanges.conftest import shirt, stock_of

pytestmark = pytest.mark.browser


@pytest.fixture
def shirt_bought(api, put_product):
    """Jane bought two size-M shirts (€25) and jeans; the store has L and S, XL is dearer."""
    def make(**stock) -> None:
        assert put_product(body=shirt(**stock)).status_code == 201
        lines = [{"sku": "SHIRT-M", "name": "Shirt, size M", "quantity": 2,
                  "unit_price": 2500, "product_id": "shirt-1"},
                 {"sku": "JEANS", "name": "Jeans", "quantity": 1, "unit_price": 8000}]
        assert api.post("/api/v1/orders", as_="integration",
                        json=order_payload("A1001", lines=lines)).status_code == 201
    return make


def _to_items(page) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_label("Order number").fill("A1001")
    page.get_by_label("Email address").fill("jane@example.com")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Choose items to return")).to_be_visible()


def test_customer_swaps_size_m_for_l_at_the_same_price(page, api, shirt_bought) -> None:
    from playwright.sync_api import expect

    shirt_bought(l_stock=1)
    _to_items(page)
    line = page.get_by_role("group", name="Shirt, size M")
    line.get_by_label("How many to return").fill("1")
    line.get_by_label("Reason").select_option(label="Doesn't fit")
    choice = line.get_by_label("Refund or exchange")
    expect(choice.get_by_role("option", name="Exchange for Shirt, size L")).to_be_enabled()
    # Dearer sizes are not offered online (paying a difference is not available there).
    expect(choice.get_by_role("option", name=re.compile("size XL"))).to_have_count(0)
    expect(page.get_by_role("group", name="Jeans").get_by_label(
        "Refund or exchange")).to_have_count(0)
    choice.select_option(label="Exchange for Shirt, size L")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Check your return")).to_be_visible()
    expect(page.get_by_test_id("exchange")).to_contain_text(
        "Exchange for Shirt, size L: no difference to pay.")
    expect(page.get_by_test_id("refund-total")).to_have_text("€0.00")
    page.get_by_role("button", name="Send return request").click()
    expect(page.get_by_role("heading", name="Return requested")).to_be_visible()
    assert stock_of(api, "SHIRT-L") == {"on_hand": 1, "reserved": 1, "available": 0}

    # The last L is now held: asking again for the other shirt, it shows out of stock.
    _to_items(page)
    choice = page.get_by_role("group", name="Shirt, size M").get_by_label("Refund or exchange")
    expect(choice.get_by_role("option", name="Exchange for Shirt, size L (out of stock)")
           ).to_be_disabled()


def test_customer_downgrades_and_is_refunded_the_difference(page, api, shirt_bought) -> None:
    from playwright.sync_api import expect

    shirt_bought()
    _to_items(page)
    line = page.get_by_role("group", name="Shirt, size M")
    line.get_by_label("How many to return").fill("1")
    line.get_by_label("Reason").select_option(label="Doesn't fit")
    line.get_by_label("Refund or exchange").select_option(
        label="Exchange for Shirt, size S (€5.00 less each)")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_test_id("exchange")).to_contain_text(
        "Exchange for Shirt, size S: €5.00 back to you.")
    expect(page.get_by_test_id("refund-total")).to_have_text("€5.00")
    page.get_by_role("button", name="Send return request").click()
    expect(page.get_by_role("heading", name="Return requested")).to_be_visible()
    rma = page.get_by_test_id("rma").inner_text().strip()
    api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    received = api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "SHIRT-M", "quantity": 1, "condition": "resellable"}]}).json
    assert [r["amount"] for r in received["refunds"]] == [500]


def test_an_exchange_for_a_reason_the_policy_does_not_allow_is_explained(
        page, shirt_bought) -> None:
    from playwright.sync_api import expect

    shirt_bought()
    _to_items(page)
    line = page.get_by_role("group", name="Shirt, size M")
    line.get_by_label("How many to return").fill("1")
    line.get_by_label("Reason").select_option(label="Arrived damaged")
    line.get_by_label("Refund or exchange").select_option(label="Exchange for Shirt, size L")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Exchanges are offered for these reasons: Doesn't fit. Choose a refund.")


@pytest.fixture
def stripe_config(app_config, fake_checkout):
    from tests.support.stripe import API_KEY, WEBHOOK_SECRET

    app_config.update(STRIPE_API_KEY=API_KEY, STRIPE_API_BASE=fake_checkout.url,
                      STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    return app_config


def test_customer_upgrades_and_pays_the_difference_at_checkout(
        stripe_config, page, api, client, shirt_bought, fake_checkout) -> None:
    from playwright.sync_api import expect

    from tests.support.stripe import post_webhook, stripe_event

    shirt_bought()
    _to_items(page)
    line = page.get_by_role("group", name="Shirt, size M")
    line.get_by_label("How many to return").fill("1")
    line.get_by_label("Reason").select_option(label="Doesn't fit")
    line.get_by_label("Refund or exchange").select_option(
        label="Exchange for Shirt, size XL (€5.00 more each, paid online)")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("exchange")).to_contain_text(
        "you pay the €5.00 difference on our secure payment page (Stripe) after sending")
    page.get_by_role("button", name="Send return request").click()
    expect(page.get_by_role("heading", name="Pay the difference")).to_be_visible()
    page.get_by_role("link", name="Continue to secure payment").click()

    # At the (fake) Stripe page: the difference, for this return.
    expect(page.get_by_role("heading", name="Pay 500 EUR")).to_be_visible()
    session_id = page.url.rsplit("/", 1)[1]
    session = fake_checkout.sessions[session_id]
    assert session["metadata"]["rma"].startswith("R-")
    paid = fake_checkout.complete(session_id, payment_intent="pi_upgrade",
                                  email="jane@example.com", name="Jane Doe")
    assert post_webhook(client, stripe_event("checkout.session.completed",
                                             paid)).json["result"] == "applied"
    page.goto(session["success_url"])
    expect(page.get_by_test_id("exchange")).to_contain_text(
        "We send it when your parcel arrives.")
    assert stock_of(api, "SHIRT-XL")["reserved"] == 1


def test_an_expired_payment_page_is_explained_and_can_be_reopened_until_then(
        stripe_config, page, client, shirt_bought, fake_checkout) -> None:
    from playwright.sync_api import expect

    from tests.support.stripe import post_webhook, stripe_event

    shirt_bought()
    _to_items(page)
    line = page.get_by_role("group", name="Shirt, size M")
    line.get_by_label("How many to return").fill("1")
    line.get_by_label("Reason").select_option(label="Doesn't fit")
    line.get_by_label("Refund or exchange").select_option(
        label="Exchange for Shirt, size XL (€5.00 more each, paid online)")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Send return request").click()
    page.get_by_role("link", name="Continue to secure payment").click()
    expect(page.get_by_role("heading", name="Pay 500 EUR")).to_be_visible()
    session_id = page.url.rsplit("/", 1)[1]
    status_url = fake_checkout.sessions[session_id]["success_url"].split("?")[0]

    page.goto(status_url)  # back without paying: the status page offers the page again
    page.get_by_role("button", name="Pay the €5.00 difference").click()
    page.get_by_role("link", name="Continue to secure payment").click()
    expect(page.get_by_role("heading", name="Pay 500 EUR")).to_be_visible()
    assert page.url.endswith(session_id)  # the same session, not a second one

    expired = fake_checkout.expire(session_id)
    assert post_webhook(client, stripe_event("checkout.session.expired",
                                             expired)).json["result"] == "applied"
    page.goto(status_url)
    expect(page.get_by_test_id("exchange")).to_contain_text(
        "The payment page expired before the difference was paid, so the exchange was not "
        "made: the item is refunded when your parcel arrives.")
    expect(page.get_by_role("button", name=re.compile("Pay the"))).to_have_count(0)


@pytest.fixture
def instant_stripe_config(app_config, fake_checkout):
    from tests.exchanges.test_instant_exchange import instant_config

    return instant_config(app_config, fake_checkout)


def test_customer_saves_a_card_and_gets_the_new_size_at_approval(
        instant_stripe_config, page, api, client, shirt_bought, fake_checkout) -> None:
    from playwright.sync_api import expect

    from tests.support.stripe import post_webhook, stripe_event

    shirt_bought()
    _to_items(page)
    line = page.get_by_role("group", name="Shirt, size M")
    line.get_by_label("How many to return").fill("1")
    line.get_by_label("Reason").select_option(label="Doesn't fit")
    line.get_by_label("Refund or exchange").select_option(label="Exchange for Shirt, size L")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("exchange")).to_contain_text(
        "Instant exchange: after sending, you save a card and we send the new item as soon "
        "as your return is approved. The card is charged €25.00 only if the item you send "
        "back has not arrived within 21 days.")
    page.get_by_role("button", name="Send return request").click()
    expect(page.get_by_role("heading", name="Save a card")).to_be_visible()
    page.get_by_role("link", name="Continue to save a card").click()

    # At the (fake) Stripe page, in setup mode: nothing is paid now.
    expect(page.get_by_role("heading", name="Save a card")).to_be_visible()
    session_id = page.url.rsplit("/", 1)[1]
    assert fake_checkout.sessions[session_id]["mode"] == "setup"
    saved = fake_checkout.complete_setup(session_id)
    assert post_webhook(client, stripe_event("checkout.session.completed",
                                             saved)).json["result"] == "applied"
    page.goto(saved["success_url"])
    expect(page.get_by_test_id("card-saved")).to_contain_text(
        "Your card is saved. We send the new item as soon as your return is approved")
    expect(page.get_by_role("button", name="Save a card")).to_have_count(0)

    rma = saved["metadata"]["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    page.reload()
    expect(page.get_by_test_id("card-saved")).to_contain_text(
        "It is charged €25.00 only if the item you send back has not arrived by")
    assert [o["sku"] for o in api.get("/api/v1/exchange-orders", as_="integration").json] == [
        "SHIRT-L"]
    assert fake_checkout.charges() == []
