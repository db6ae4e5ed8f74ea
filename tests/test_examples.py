"""The example policy shipped for merchants loads and means what its comments say."""

from pathlib import Path

from returns_service.returns.policy import load_policy

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "return-policy.toml"


def test_example_policy_loads() -> None:
    policy = load_policy(EXAMPLE)
    assert policy.window_for("marketplace") == 14 and policy.window_for("web") == 30
    assert [r.code for r in policy.reasons if r.merchant_fault] == ["damaged", "wrong_item"]
    assert policy.auto_approve.applies("EUR", 5000, ["damaged"])
    assert not policy.auto_approve.applies("EUR", 5000, ["doesnt_fit"])


def test_example_policy_charges_return_shipping_for_customer_reasons_only() -> None:
    policy = load_policy(EXAMPLE)
    assert policy.return_shipping_fee("EUR", ["doesnt_fit"]) == 495
    assert policy.return_shipping_fee("eur", ["doesnt_fit", "changed_mind"]) == 695
    assert policy.return_shipping_fee("EUR", ["changed_mind", "damaged"]) == 0
    assert policy.return_shipping_fee("JPY", ["doesnt_fit"]) == 0
    assert policy.shipping.allowed_carriers == {"usps", "ups"}
    assert policy.refunds_on_first_scan(["damaged", "wrong_item"])
    assert not policy.refunds_on_first_scan(["damaged", "doesnt_fit"])
