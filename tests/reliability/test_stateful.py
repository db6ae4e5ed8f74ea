"""Random sequences of API actions, refund jobs and Stripe outcomes against one order.

Hypothesis drives requests, approvals, rejections, cancellations, receipts, provider
outcomes (duplicated and out of order) and retries; after every step the invariants below
must hold, whatever happened before:
- money: refunds that hold or moved money never exceed what the order paid;
- at most one live refund per return, and the return's status agrees with its refunds;
- the status is always a node of the workflow;
- the audit trail is complete: every status change has an event, chained from → to;
- an order line is never claimed more often than it was bought;
- store credit (the policy offers it, with a bonus, and keep-the-item): refunds and credit
  together never exceed what the order paid, each credit's bonus is the policy's on its
  amount, at most one credit per return (exactly one when credited, with no refund), and no
  credit balance below zero.
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from returns_service.credits.models import CreditCode, CreditEntry
from returns_service.db import db
from returns_service.orders.models import Order
from returns_service.payments.stripe import ProviderRefund
from returns_service.refunds import services as refunds
from returns_service.refunds.models import LIVE_REFUND_STATUSES, Refund
from returns_service.returns.models import Return, ReturnEvent
from returns_service.returns.services import current_policy, lock_return
from tests.conftest import order_payload
from workflows.returns import RELEASED, Actor, Status

_numbers = itertools.count(1)
SKUS = {"SHIRT": 2, "JEANS": 1}  # returnable lines of order_payload and their quantities
REASONS = ["doesnt_fit", "changed_mind", "damaged", "defective"]
CONDITIONS = ["resellable", "damaged", "wrong_item", "missing"]

RESOLUTIONS = ["refund", "store_credit"]
items_strategy = st.lists(
    st.tuples(st.sampled_from(sorted(SKUS)), st.integers(1, 2), st.sampled_from(REASONS)),
    min_size=1, max_size=2, unique_by=lambda t: t[0])


def test_random_workflows_keep_money_status_and_audit_consistent(resolutions_config, app,
                                                                  api):
    class ReturnsMachine(RuleBasedStateMachine):
        returns = Bundle("returns")

        def __init__(self) -> None:
            super().__init__()
            self.number = f"SM{next(_numbers)}"
            response = api.post("/api/v1/orders", as_="integration",
                                json=order_payload(self.number))
            assert response.status_code == 201, response.json
            self.paid = response.json["total"]
            # What Stripe "really" decided per refund id, to report it again later.
            self.reported: dict[int, list[str]] = {}
            self.statuses: set[str] = set()  # of this order's returns, after the last step

        def _act(self, rma: str, action: str, role: str, body: dict[str, Any]) -> None:
            response = api.post(f"/api/v1/returns/{rma}/{action}", as_=role, json=body)
            assert response.status_code in (200, 409, 422), (action, response.json)

        def _request(self, items: list[tuple[str, int, str]],
                     resolution: str = "refund") -> str | None:
            body = {"order_number": self.number, "email": "jane@example.com",
                    "resolution": resolution,
                    "items": [{"sku": s, "quantity": q, "reason": r} for s, q, r in items]}
            response = api.post("/api/v1/returns", json=body)
            assert response.status_code in (201, 422), response.json
            if response.status_code == 422:
                # Only ever refused for asking more than is left.
                assert all("quantity" in k or "sku" in k for k in response.json["errors"])
                return None
            return str(response.json["rma"])

        @rule(target=returns, items=items_strategy,
              resolution=st.sampled_from(RESOLUTIONS))
        def request(self, items: list[tuple[str, int, str]], resolution: str) -> Any:
            rma = self._request(items, resolution)
            return multiple() if rma is None else rma  # nothing new to act on after a 422

        @rule(target=returns, items=items_strategy,
              condition=st.sampled_from(["resellable", "resellable", "damaged"]),
              resolution=st.sampled_from(RESOLUTIONS))
        def request_through_to_refund(self, items: list[tuple[str, int, str]],
                                      condition: str, resolution: str) -> Any:
            """Request, approve and receive at once: most such returns owe a refund, so the
            refund rules (Stripe outcomes, retries) have several returns to interleave."""
            rma = self._request(items, resolution)
            if rma is None:
                return multiple()
            self.approve_and_receive(rma, condition)
            return rma

        @rule(rma=returns)
        def approve(self, rma: str) -> None:
            self._act(rma, "approve", "agent", {})

        @rule(rma=returns, resolution=st.sampled_from(RESOLUTIONS))
        def change_resolution(self, rma: str, resolution: str) -> None:
            self._act(rma, "resolution", "agent", {"resolution": resolution})

        @rule(rma=returns, kind=st.sampled_from(["goodwill", "deduction"]),
              amount=st.sampled_from([1, 500, 2500, 9000, 20000]),
              role=st.sampled_from(["agent", "admin"]))
        def adjust(self, rma: str, kind: str, amount: int, role: str) -> None:
            body = {"kind": kind, "amount": amount,
                    "reason": "goodwill" if kind == "goodwill" else "used"}
            response = api.post(f"/api/v1/returns/{rma}/adjustments", as_=role, json=body)
            assert response.status_code in (200, 403, 409, 422), response.json

        @rule(rma=returns, condition=st.sampled_from(CONDITIONS))
        def approve_and_receive(self, rma: str, condition: str) -> None:
            """The common path in one step, so long runs reach refunds often."""
            if api.get(f"/api/v1/returns/{rma}", as_="agent").json["status"] == "requested":
                self._act(rma, "approve", "agent", {})
            ret = api.get(f"/api/v1/returns/{rma}", as_="warehouse").json
            self._act(rma, "receive", "warehouse", {"items": [
                {"sku": i["sku"], "quantity": i["quantity"], "condition": condition}
                for i in ret["items"]]})

        @rule(rma=returns, how=st.sampled_from(["reject", "reject-bogus", "cancel"]))
        def decline(self, rma: str, how: str) -> None:
            if how == "cancel":
                self._act(rma, "cancel", "agent", {})
            else:
                reason = "bogus" if how == "reject-bogus" else "used"
                self._act(rma, "reject", "agent", {"reason": reason, "note": "Sorry"})

        @rule(rma=returns, conditions=st.lists(st.sampled_from(CONDITIONS), min_size=2,
                                               max_size=2), qty=st.integers(0, 2),
              extra=st.booleans())
        def receive(self, rma: str, conditions: list[str], qty: int, extra: bool) -> None:
            ret = api.get(f"/api/v1/returns/{rma}", as_="warehouse").json
            skus = [i["sku"] for i in ret["items"]]
            if extra:  # sometimes list an item that is not in the return (422)
                skus = sorted(SKUS)
            items = [{"sku": sku, "quantity": min(qty, SKUS[sku]), "condition": c}
                     for sku, c in zip(skus, conditions, strict=False)]
            self._act(rma, "receive", "warehouse", {"items": items})

        def _returns_in(self, statuses: tuple[str, ...]) -> list[Return]:
            return list(db.session.scalars(
                select(Return).join(Order).where(Order.number == self.number,
                                                 Return.status.in_(statuses))
                .order_by(Return.id)))

        @precondition(lambda self: bool(self.statuses & {"refund_pending", "refund_failed",
                                                         "refunded"}))
        @rule(pick=st.integers(0, 1000), outcome=st.sampled_from(
            ["succeeded", "failed", "pending", "requires_action"]), replay=st.booleans())
        def stripe_reports(self, pick: int, outcome: str, replay: bool) -> None:
            """The refund job's (or a webhook's) answer for one of the order's refunds;
            replays repeat an earlier report (duplicate or out of order)."""
            with app.app_context():
                refunds_now = db.session.scalars(
                    select(Refund).join(Return).join(Order)
                    .where(Order.number == self.number).order_by(Refund.id)).all()
                if not refunds_now:
                    return
                refund = refunds_now[pick % len(refunds_now)]
                history = self.reported.get(refund.id, [])
                if replay and history:
                    outcome = history[pick % len(history)]
                refund_id = refund.id
            self._report(refund_id, outcome)

        def _report(self, refund_id: int, outcome: str) -> None:
            with app.app_context():
                refund = db.session.get(Refund, refund_id)
                history = self.reported.setdefault(refund_id, [])
                final = next((s for s in history if s in ("succeeded", "failed")), None)
                if final is not None and outcome not in history:
                    outcome = final  # Stripe does not change its mind
                history.append(outcome)
                result = refunds.record_outcome(refund_id, provider=ProviderRefund(
                    id=f"re_sm_{refund_id}", status=outcome, amount=refund.amount,
                    currency=refund.currency, payment_intent=refund.payment_intent,
                    failure_reason="lost_or_stolen_card" if outcome == "failed" else None,
                    metadata={"refund_id": str(refund_id)}))
                assert result

        @precondition(lambda self: "refund_pending" in self.statuses)
        @rule(pick=st.integers(0, 1000), succeeded=st.booleans())
        def stripe_settles(self, pick: int, succeeded: bool) -> None:
            """Stripe's final word on a refund still pending (most refunds end this way)."""
            with app.app_context():
                pending = db.session.scalars(
                    select(Refund).join(Return).join(Order)
                    .where(Order.number == self.number,
                           Refund.status.in_(("pending", "requires_action")))
                    .order_by(Refund.id)).all()
                if pending:
                    refund_id = pending[pick % len(pending)].id
            if pending:
                self._report(refund_id, "succeeded" if succeeded else "failed")

        @precondition(lambda self: "refund_failed" in self.statuses)
        @rule(pick=st.integers(0, 1000))
        def retry_failed_refund(self, pick: int) -> None:
            with app.app_context():
                failed = self._returns_in((Status.REFUND_FAILED.value,))
                if not failed:
                    return
                ret = lock_return(failed[pick % len(failed)].rma)
                refunds.start_refund(ret, Actor("staff", None, "agent"))
                db.session.commit()

        @invariant()
        def consistent(self) -> None:
            with app.app_context():
                order = db.session.scalar(select(Order).where(Order.number == self.number))
                rets = db.session.scalars(select(Return).where(Return.order_id == order.id))
                live_total = claimed = credited_returns = 0
                claimed_by_line: dict[int, int] = {}
                self.statuses = set()
                for ret in rets:
                    assert ret.status in {s.value for s in Status}
                    self.statuses.add(ret.status)
                    credited_returns += ret.status == "credited"
                    rows = db.session.scalars(select(Refund).where(
                        Refund.return_id == ret.id)).all()
                    live = [r for r in rows if r.status in LIVE_REFUND_STATUSES]
                    assert len(live) <= 1, (ret.rma, [(r.attempt, r.status) for r in rows])
                    live_total += sum(r.amount for r in live)
                    succeeded = [r for r in rows if r.status == "succeeded"]
                    assert (ret.status == "refunded") == bool(succeeded), ret.status
                    if ret.status == "refund_pending":
                        assert live and live[0].status in ("pending", "requires_action")
                    events = db.session.scalars(
                        select(ReturnEvent).where(ReturnEvent.return_id == ret.id,
                                                  ReturnEvent.kind == "status")
                        .order_by(ReturnEvent.id)).all()
                    chain = [(e.from_status, e.to_status) for e in events]
                    assert chain[0] == (None, "requested"), chain
                    for (_, to), (frm, _) in itertools.pairwise(chain):
                        assert frm == to, chain
                    assert chain[-1][1] == ret.status, chain
                    event(f"reached {ret.status}")  # --hypothesis-show-statistics
                    if ret.status not in {s.value for s in RELEASED}:
                        for item in ret.items:
                            claimed_by_line[item.order_line_id] = (
                                claimed_by_line.get(item.order_line_id, 0) + item.quantity)
                            claimed += item.quantity
                credits = db.session.scalars(
                    select(CreditCode).join(Return, Return.id == CreditCode.source_return_id)
                    .where(Return.order_id == order.id)).all()
                credited = 0
                for code in credits:
                    entries = db.session.scalars(select(CreditEntry).where(
                        CreditEntry.code_id == code.id)).all()
                    assert sum(e.amount for e in entries) >= 0
                    ret = db.session.get(Return, code.source_return_id)
                    issued = sum(e.amount for e in entries if e.kind == "issue")
                    bonus = sum(e.amount for e in entries if e.kind == "bonus")
                    assert ret.status == "credited" and issued == ret.refund_amount
                    assert bonus == current_policy().store_credit.bonus(issued)
                    assert not db.session.scalars(select(Refund).where(
                        Refund.return_id == ret.id)).all()
                    credited += issued
                assert len({c.source_return_id for c in credits}) == len(credits)
                assert credited_returns == len(credits)
                assert live_total + credited <= self.paid
                for line in order.lines:
                    assert claimed_by_line.get(line.id, 0) <= line.quantity

    run_state_machine_as_test(ReturnsMachine, settings=settings(
        max_examples=40, stateful_step_count=25, deadline=None, derandomize=True,
        # No "explain" phase: its line tracer makes each step ~100x slower.
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck)))
