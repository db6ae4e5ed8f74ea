"""Refunds reach Stripe through the outbound proxy the environment names (HTTPS_PROXY,
HTTP_PROXY, NO_PROXY), as a merchant's locked-down network needs. The loopback stub plays
the proxy: a request sent through a proxy names the whole URL on its request line."""

from __future__ import annotations

from typing import Any

import pytest

from returns_service.payments.stripe import StripeRefundGateway, TransientPaymentError
from tests.support.stripe import API_KEY, free_port


def refund(gateway: StripeRefundGateway) -> str:
    return gateway.create_refund(payment_intent="pi_proxy", amount=1500, currency="EUR",
                                 idempotency_key="proxy-1", metadata={"rma": "R-1"}).status


def test_a_refund_goes_through_the_proxy_the_environment_names(
        monkeypatch: pytest.MonkeyPatch, stub_stripe: Any) -> None:
    monkeypatch.setenv("HTTP_PROXY", stub_stripe.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    # A host nobody can resolve: only a proxy can carry the call.
    gateway = StripeRefundGateway(API_KEY, "http://api.stripe.invalid", max_network_retries=0)

    assert refund(gateway) == "succeeded"
    assert [seen.target for seen in stub_stripe.creates()] == [
        "http://api.stripe.invalid/v1/refunds"]


def test_no_proxy_sends_the_refund_straight_to_stripe(monkeypatch: pytest.MonkeyPatch,
                                                      stub_stripe: Any) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    gateway = StripeRefundGateway(API_KEY, stub_stripe.url, max_network_retries=0)

    assert refund(gateway) == "succeeded"
    assert [seen.target for seen in stub_stripe.creates()] == ["/v1/refunds"]


def test_a_proxy_that_does_not_answer_is_a_transient_error(monkeypatch: pytest.MonkeyPatch,
                                                          stub_stripe: Any) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    gateway = StripeRefundGateway(API_KEY, stub_stripe.url, max_network_retries=0)

    with pytest.raises(TransientPaymentError):  # retried later, with the same key
        refund(gateway)
    assert stub_stripe.creates() == []
