"""Paid payments for the demo orders at the Stripe the app talks to (localstripe in
`bin/demo`), so a demo return's refund really goes through: the refund needs a payment
intent that Stripe knows, paid at least the amount refunded.

Talks to that server with the official stripe library, as a store's checkout would have.
localstripe starts empty on every `bin/demo` run, so the intents are made again each time.
"""

from __future__ import annotations

from typing import Any

import stripe
from flask import current_app

from returns_service.payments.stripe import to_stripe_amount


def test_mode_client() -> stripe.StripeClient | None:
    """A client for the configured Stripe when it is a test-mode one (a `sk_test_` key):
    the demo never makes payments with a live key. None when there is none."""
    key = current_app.config.get("STRIPE_API_KEY") or ""
    if not key.startswith("sk_test_"):
        return None
    base = current_app.config.get("STRIPE_API_BASE")
    return stripe.StripeClient(key, base_addresses={"api": base} if base else {},
                               max_network_retries=2)


def known(client: stripe.StripeClient, payment_intent: str | None) -> bool:
    """Whether this Stripe has the payment (a restarted localstripe has forgotten it)."""
    if not payment_intent:
        return False
    try:
        intent = client.v1.payment_intents.retrieve(payment_intent)
    except stripe.InvalidRequestError:
        return False
    return intent.status == "succeeded"


def paid_payment_intent(client: stripe.StripeClient, order: dict[str, Any]) -> str:
    """A confirmed card payment (Stripe's `pm_card_visa` test card) of the order's total."""
    total = sum(line["quantity"] * line["unit_price"] for line in order["lines"]) \
        + order.get("shipping_total", 0)
    intent = client.v1.payment_intents.create(params={
        "amount": to_stripe_amount(total, order["currency"]), "currency": order["currency"].lower(),
        "payment_method": "pm_card_visa", "payment_method_types": ["card"], "confirm": True,
        "metadata": {"order_number": order["number"]}})
    if intent.status != "succeeded":
        raise RuntimeError(f"demo payment for order {order['number']} is {intent.status}")
    return intent.id
