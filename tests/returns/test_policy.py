"""Return policy rules: windows per channel, final sale, quantities across returns,
auto-approve, restocking fee, and loading the merchant's TOML file."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from returns_service.refunds.calculator import RefundLine, compute_refund
from returns_service.returns.policy import AutoApprove, ReturnPolicy, load_policy

POLICY_TOML = """
window_days = 30
restocking_fee_percent = 10
refundable_conditions = ["resellable", "damaged"]

[window_days_by_channel]
marketplace = 14

[[reasons]]
code = "damaged"
label = "Arrived damaged"
merchant_fault = true

[[reasons]]
code = "changed_mind"
label = "Changed my mind"

[auto_approve]
max_order_total = { EUR = 10000 }
reasons = ["damaged"]
"""


@pytest.fixture
def policy_file(tmp_path: Path, app_config: dict[str, Any]) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY_TOML)
    app_config["RETURN_POLICY_FILE"] = str(path)
    return path


def eligibility(api: Any, number: str = "A1001") -> dict[str, dict[str, Any]]:
    response = api.get(f"/api/v1/orders/{number}/eligibility",
                       query={"email": "jane@example.com"})
    assert response.status_code == 200, response.json
    return {line["sku"]: line for line in response.json["lines"]}


def test_policy_file_is_read_with_defaults_for_what_it_leaves_out(policy_file: Path) -> None:
    policy = load_policy(policy_file)
    assert policy.window_for("marketplace") == 14
    assert policy.window_for("web") == 30
    assert policy.restocking_fee_percent == Decimal(10)
    assert [r.code for r in policy.reasons] == ["damaged", "changed_mind"]
    assert policy.reason("damaged").merchant_fault is True
    assert policy.auto_approve.enabled and policy.auto_approve.max_order_total == {"EUR": 10000}
    assert [r.code for r in policy.rejection_reasons][:2] == ["outside_window", "not_eligible"]


def test_bad_policy_values_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("restocking_fee_percent = 120\n")
    with pytest.raises(ValueError, match="between 0 and 100"):
        load_policy(path)
    path.write_text('refundable_conditions = ["shiny"]\n')
    with pytest.raises(ValueError, match="unknown conditions"):
        load_policy(path)


def test_window_counts_from_delivery_and_closes_with_a_readable_date(
        api: Any, make_order: Any, frozen_now: Any) -> None:
    make_order(delivered_at=(frozen_now - timedelta(days=31)).isoformat(),
               placed_at=(frozen_now - timedelta(days=40)).isoformat())
    lines = eligibility(api)
    assert lines["SHIRT"]["eligible"] is False
    assert lines["SHIRT"]["reason"] == "Return window closed on 1 March 2026."


def test_window_counts_from_the_order_date_when_never_delivered(
        api: Any, make_order: Any, frozen_now: Any) -> None:
    make_order(placed_at=(frozen_now - timedelta(days=29)).isoformat(), delivered_at=None)
    assert eligibility(api)["SHIRT"]["eligible"] is True
    make_order(placed_at=(frozen_now - timedelta(days=31)).isoformat(), delivered_at=None)
    assert eligibility(api)["SHIRT"]["eligible"] is False


def test_window_may_differ_per_sales_channel(
        policy_file: Path, api: Any, make_order: Any, frozen_now: Any) -> None:
    dates = {"placed_at": (frozen_now - timedelta(days=22)).isoformat(),
             "delivered_at": (frozen_now - timedelta(days=20)).isoformat()}
    make_order("W1", channel="web", **dates)
    make_order("M1", channel="marketplace", **dates)
    assert eligibility(api, "W1")["SHIRT"]["eligible"] is True
    assert eligibility(api, "M1")["SHIRT"]["eligible"] is False


def test_final_sale_lines_cannot_be_returned(api: Any, make_order: Any) -> None:
    make_order()
    socks = eligibility(api)["SOCKS"]
    assert (socks["eligible"], socks["returnable_quantity"]) == (False, 0)
    assert socks["reason"] == "Final sale: this item cannot be returned."
    response = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SOCKS", "quantity": 1, "reason": "changed_mind"}]})
    assert response.status_code == 422
    assert response.json["errors"] == {"items.0.sku": ["Final sale: this item cannot be returned."]}


def test_quantity_counts_what_other_open_returns_already_claim(
        api: Any, make_return: Any) -> None:
    first = make_return(items=[{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}])
    assert eligibility(api)["SHIRT"]["returnable_quantity"] == 1
    too_many = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 2, "reason": "doesnt_fit"}]})
    assert too_many.status_code == 422
    assert too_many.json["errors"] == {
        "items.0.quantity": ["You can return between 1 and 1 of this item."]}
    make_return(items=[{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}], order=False)
    assert eligibility(api)["SHIRT"]["reason"] == "Already returned."
    # Cancelling (or rejecting) a return gives its quantity back.
    assert api.post(f"/api/v1/returns/{first['rma']}/cancel", as_="agent",
                    json={}).status_code == 200
    assert eligibility(api)["SHIRT"]["returnable_quantity"] == 1


def test_auto_approve_applies_to_small_orders_with_listed_reasons(
        policy_file: Path, api: Any, make_order: Any) -> None:
    make_order("SMALL", lines=[{"sku": "CUP", "name": "Cup", "quantity": 1, "unit_price": 900}])
    make_order("BIG", lines=[{"sku": "TV", "name": "TV", "quantity": 1, "unit_price": 90000}])

    def request(number: str, sku: str, reason: str) -> dict[str, Any]:
        response = api.post("/api/v1/returns", json={
            "order_number": number, "email": "jane@example.com",
            "items": [{"sku": sku, "quantity": 1, "reason": reason}]})
        assert response.status_code == 201, response.json
        return response.json

    auto = request("SMALL", "CUP", "damaged")
    assert auto["status"] == "approved"
    events = [e for e in api.get(f"/api/v1/returns/{auto['rma']}/events", as_="agent").json
              if e["kind"] == "status"]
    assert (events[-1]["trigger"], events[-1]["actor_type"]) == ("approve", "system")
    assert events[-1]["actor_label"] == "auto-approve policy"
    assert request("BIG", "TV", "damaged")["status"] == "requested"  # order too large


def test_auto_approve_needs_every_reason_on_the_list() -> None:
    rule = AutoApprove(enabled=True, max_order_total={"EUR": 10000}, reasons=frozenset({"damaged"}))
    assert rule.applies("EUR", 10000, ["damaged"])
    assert not rule.applies("EUR", 10001, ["damaged"])
    assert not rule.applies("EUR", 500, ["damaged", "changed_mind"])
    assert not rule.applies("USD", 500, ["damaged"])  # no limit set for USD
    assert not AutoApprove(enabled=False).applies("EUR", 1, ["damaged"])


POLICY = ReturnPolicy(restocking_fee_percent=Decimal(15))


@pytest.mark.parametrize(("lines", "shipping_done", "remaining", "expected"), [
    # customer-side reason: 15% fee on the items, no shipping
    ([RefundLine(2500, 2, "doesnt_fit", "resellable")], False, 100000, (5000, 750, 0, 4250)),
    # merchant fault: no fee, original shipping refunded
    ([RefundLine(2500, 1, "damaged", "damaged")], False, 100000, (2500, 0, 500, 3000)),
    # shipping already refunded by an earlier return of the order
    ([RefundLine(2500, 1, "damaged", "damaged")], True, 100000, (2500, 0, 0, 2500)),
    # wrong item and missing items are not refunded by default
    ([RefundLine(2500, 1, "doesnt_fit", "wrong_item"), RefundLine(999, 1, "other", "missing")],
     False, 100000, (0, 0, 0, 0)),
    # never more than what the order still has refundable
    ([RefundLine(8000, 1, "damaged", "resellable")], False, 6000, (8000, 0, 500, 6000)),
    # fee rounds half up to a whole minor unit: 15% of 333 = 49.95 -> 50
    ([RefundLine(333, 1, "changed_mind", "resellable")], False, 100000, (333, 50, 0, 283)),
])
def test_refund_amount_rules(lines: list[RefundLine], shipping_done: bool, remaining: int,
                             expected: tuple[int, int, int, int]) -> None:
    result = compute_refund(POLICY, lines, shipping_total=500,
                            shipping_already_refunded=shipping_done,
                            remaining_refundable=remaining)
    assert (result.items_amount, result.restocking_fee, result.shipping_amount,
            result.total) == expected
    assert result.capped == (expected[3] < expected[0] - expected[1] + expected[2])


def test_without_store_credit_in_the_policy_only_refunds_are_offered(api, make_order):
    make_order()
    response = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com", "resolution": "store_credit",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
    assert response.status_code == 422
    assert response.json["errors"] == {"resolution": ["Must be one of: refund."]}
    shown = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).json
    assert shown["resolution"] == "refund" and shown["store_credit"] is None


# --- resolutions: store credit, keep-the-item, adjustments ---------------------------------

RESOLUTION_RULES = """
[store_credit]
bonus_percent = 12.5

[keep_item]
max_unit_price = { eur = 1500 }
skus = ["SOCKS-*"]
reasons = ["damaged"]
max_per_customer = 2
period_days = 60

[adjustments]
agent_limit = { EUR = 2000 }

[[adjustments.reasons]]
code = "goodwill"
label = "Goodwill"
kind = "goodwill"

[[adjustments.reasons]]
code = "used"
label = "Item arrived used"
kind = "deduction"
"""


def test_resolution_rules_are_read_from_the_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(RESOLUTION_RULES)
    policy = load_policy(path)
    assert policy.resolutions() == ("refund", "store_credit")
    assert policy.store_credit.bonus(10_899) == 1362  # 12.5 % rounded down: never more
    assert policy.store_credit.bonus(5_125, step=10) == 640  # KWD: whole tens
    keep = policy.keep_item
    assert (keep.max_unit_price, keep.max_per_customer, keep.period_days) == (
        {"EUR": 1500}, 2, 60)
    assert keep.line_qualifies("EUR", "SHIRT", 1500, "damaged")
    assert not keep.line_qualifies("EUR", "SHIRT", 1501, "damaged")  # too dear
    assert keep.line_qualifies("EUR", "SOCKS-RED", 9900, "damaged")  # listed SKU
    assert not keep.line_qualifies("EUR", "SOCKS-RED", 900, "doesnt_fit")  # reason not listed
    assert not keep.line_qualifies("USD", "SHIRT", 100, "damaged")  # no limit for USD
    adj = policy.adjustments
    assert [(r.code, r.kind) for r in adj.reasons] == [("goodwill", "goodwill"),
                                                       ("used", "deduction")]
    assert adj.agent_may("EUR", 2000) and adj.agent_may("EUR", -2000)
    assert not adj.agent_may("EUR", 2001) and not adj.agent_may("USD", 1)


def test_built_in_policy_offers_refunds_only_and_no_keep_item() -> None:
    policy = ReturnPolicy()
    assert policy.resolutions() == ("refund",)
    assert not policy.keep_item.line_qualifies("EUR", "SHIRT", 1, "damaged")
    assert not policy.adjustments.agent_may("EUR", 1)  # agents need a limit set


@pytest.mark.parametrize(("toml", "message"), [
    ("[store_credit]\nbonus_percent = 150\n", "bonus_percent must be between 0 and 100"),
    ('[[adjustments.reasons]]\ncode = "x"\nlabel = "X"\nkind = "refund"\n', "unknown kind"),
])
def test_resolution_rules_refuse_nonsense(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(toml)
    with pytest.raises(ValueError, match=message):
        load_policy(path)
