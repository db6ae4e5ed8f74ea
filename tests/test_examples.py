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
