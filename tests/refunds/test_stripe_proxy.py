"""Refunds reach Stripe through the outbound proxy the environment names (HTTPS_PROXY,
HTTP_PROXY, NO_PROXY), as a merchant's locked-down network needs. The loopback stub plays
the proxy: a request sent through a proxy names the whole URL on its request line."""

from __future__ import annotations

from typing import Any

import pytest

from returns_service.payments.stripe import StripeRefundGateway, TransientPaymentError
from tests.support.stripe import API_KEY, free_port


def set_proxy(monkeypatch: pytest.MonkeyPatch, proxy: str, *, no_proxy: str | None = None
              ) -> None:
    """Both spellings, as the lower-case one wins where both are set."""
    for name in ("HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy"):
        if no_proxy is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, no_proxy)


def refund(gateway: StripeRefundGateway) -> str:
    return gateway.create_refund(payment_intent="pi_proxy", amount=1500, currency="EUR",
                                 idempotency_key="proxy-1", metadata={"rma": "R-1"}).status


def test_a_refund_goes_through_the_proxy_the_environment_names(
        monkeypatch: pytest.MonkeyPatch, stub_stripe: Any) -> None:
    set_proxy(monkeypatch, stub_stripe.url)
    # A host nobody can resolve: only a proxy can carry the call.
    gateway = StripeRefundGateway(API_KEY, "http://api.stripe.invalid", max_network_retries=0)

    assert refund(gateway) == "succeeded"
    assert [seen.target for seen in stub_stripe.creates()] == [
        "http://api.stripe.invalid/v1/refunds"]


def test_no_proxy_sends_the_refund_straight_to_stripe(monkeypatch: pytest.MonkeyPatch,
                                                      stub_stripe: Any) -> None:
    set_proxy(monkeypatch, f"http://127.0.0.1:{free_port()}", no_proxy="127.0.0.1")
    gateway = StripeRefundGateway(API_KEY, stub_stripe.url, max_network_retries=0)

    assert refund(gateway) == "succeeded"
    assert [seen.target for seen in stub_stripe.creates()] == ["/v1/refunds"]


def test_a_proxy_that_does_not_answer_is_a_transient_error(monkeypatch: pytest.MonkeyPatch,
                                                          stub_stripe: Any) -> None:
    set_proxy(monkeypatch, f"http://127.0.0.1:{free_port()}")  # nothing listens
    gateway = StripeRefundGateway(API_KEY, stub_stripe.url, max_network_retries=0)

    with pytest.raises(TransientPaymentError):  # retried later, with the same key
        refund(gateway)
    assert stub_stripe.creates() == []
