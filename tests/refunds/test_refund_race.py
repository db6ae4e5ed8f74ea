"""50 concurrent calls on one return (PostgreSQL, localstripe): exactly one refund at Stripe.

localstripe does not honour idempotency keys, so a second refund call would show up there as
a second refund: exactly-once here comes from the service alone. Calls go through a
transparent loopback proxy, which can make the first attempt fail for the retry race.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from returns_service.db import db
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.registry import RetryLater
from returns_service.outbox.service import process
from returns_service.refunds.models import Refund
from returns_service.refunds.services import execute_refund
from returns_service.returns.models import Return
from tests.conftest import order_payload
from tests.support.stripe import Fail, StubStripe, post_webhook, stripe_event

pytestmark = pytest.mark.postgres
CALLS = 50


@pytest.fixture
def proxy(localstripe: Any) -> Any:
    with StubStripe(upstream=localstripe.url) as stub:
        yield stub


@pytest.fixture
def app_config(stripe_app_config: dict[str, Any], proxy: Any) -> dict[str, Any]:
    stripe_app_config["STRIPE_API_BASE"] = proxy.url
    return stripe_app_config


@pytest.fixture
def approved(api: Any, localstripe: Any) -> tuple[str, str]:
    """A paid order (15,000 at localstripe) and an approved return of the jeans (8,000)."""
    payload = order_payload("A1001")
    intent = localstripe.paid_payment_intent(15000)
    payload["payment"] = {"provider": "stripe", "payment_intent": intent}
    assert api.post("/api/v1/orders", as_="integration", json=payload).status_code == 201
    rma = api.post("/api/v1/returns", json={
        "order_number": "A1001", "email": "jane@example.com",
        "items": [{"sku": "JEANS", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    return rma, intent


def race(app: Any, tokens: dict[str, str], localstripe: Any, rma: str, intent: str,
         kinds: tuple[str, ...], *, wait_for: Callable[[], bool]) -> Counter[str]:
    """Start CALLS threads at once, kind i % len(kinds) each; count what each call got."""
    barrier = threading.Barrier(CALLS)
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def headers(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    def call(kind: str) -> str:
        client = app.test_client()
        if kind not in ("receive", "retry"):  # jobs and webhooks pile in while it is sent
            for _ in range(2000):
                if wait_for():
                    break
                threading.Event().wait(0.005)
        if kind == "receive":
            return str(client.post(f"/api/v1/returns/{rma}/receive", headers=headers(
                "warehouse"), json={"items": [{"sku": "JEANS", "quantity": 1,
                                               "condition": "resellable"}]}).status_code)
        if kind == "retry":
            return str(client.post(f"/api/v1/returns/{rma}/refund/retry",
                                   headers=headers("agent"), json={}).status_code)
        if kind == "webhook":
            found = localstripe.refunds_for(intent)
            event = (stripe_event("refund.updated", found[0], event_id=f"evt_{found[0]['id']}")
                     if found else stripe_event("payment_intent.succeeded",
                                                {"id": intent, "object": "payment_intent"},
                                                event_id="evt_race_pi"))
            response = post_webhook(client, json.dumps(event).encode())
            return f"{response.status_code} {response.json['result']}"
        with app.app_context():
            try:
                if kind == "execute":
                    refund_id = db.session.scalar(select(Refund.id).order_by(Refund.id.desc()))
                    return execute_refund(refund_id) if refund_id else "no refund yet"
                ids = db.session.scalars(select(OutboxMessage.id).where(
                    OutboxMessage.topic == "refund.execute")).all()
                return ", ".join(process(i) for i in ids) or "no message yet"
            except RetryLater:
                return "retry later"

    def worker(index: int) -> None:
        kind = kinds[index % len(kinds)]
        try:
            barrier.wait(timeout=30)
            result = call(kind)
        except BaseException as exc:  # surfaced below with the whole picture
            with lock:
                errors.append(exc)
            return
        with lock:
            outcomes[f"{kind}: {result}"] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CALLS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not errors, errors
    assert sum(outcomes.values()) == CALLS
    # Anything told to "retry later" is picked up again, as the relay would.
    with app.app_context():
        for message_id in db.session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.processed_at.is_(None))).all():
            process(message_id)
    return outcomes


def final_state(app: Any, rma: str) -> tuple[str, list[tuple[int, str, str | None]]]:
    with app.app_context():
        ret = db.session.scalar(select(Return).where(Return.rma == rma))
        rows = db.session.scalars(select(Refund).order_by(Refund.attempt)).all()
        return ret.status, [(r.attempt, r.status, r.provider_refund_id) for r in rows]


def refund_exists(app: Any) -> Callable[[], bool]:
    def check() -> bool:
        with app.app_context():
            return db.session.scalar(select(Refund.id)) is not None
    return check


def test_fifty_concurrent_calls_refund_exactly_once(app, tokens, localstripe, approved):
    rma, intent = approved
    outcomes = race(app, tokens, localstripe, rma, intent,
                    ("receive", "retry", "execute", "process", "webhook"),
                    wait_for=refund_exists(app))

    at_stripe = localstripe.refunds_for(intent)
    print(f"\nrace: {CALLS} calls {dict(outcomes)}; refunds at Stripe: {len(at_stripe)}")
    assert len(at_stripe) == 1
    assert at_stripe[0]["amount"] == 8000
    assert outcomes["receive: 200"] == 1  # the other receives got 409
    assert final_state(app, rma) == ("refunded", [(1, "succeeded", at_stripe[0]["id"])])


def test_fifty_concurrent_retries_of_a_failed_refund_refund_once(app, api, tokens, localstripe,
                                                                approved, proxy):
    rma, intent = approved
    proxy.script = [Fail(400, "amount_too_large", "Refund amount is greater than unrefunded "
                         "amount on charge", "invalid_request_error")]
    api.post(f"/api/v1/returns/{rma}/receive", as_="warehouse", json={
        "items": [{"sku": "JEANS", "quantity": 1, "condition": "resellable"}]})
    assert final_state(app, rma)[0] == "refund_failed"

    def second_attempt() -> bool:
        with app.app_context():
            return db.session.scalar(select(Refund.id).where(Refund.attempt == 2)) is not None

    outcomes = race(app, tokens, localstripe, rma, intent,
                    ("retry", "retry", "execute", "process", "webhook"),
                    wait_for=second_attempt)

    at_stripe = localstripe.refunds_for(intent)
    print(f"\nretry race: {CALLS} calls {dict(outcomes)}; refunds at Stripe: "
          f"{len(at_stripe)}")
    assert second_attempt()
    assert outcomes["retry: 200"] == 1  # one retry wins, the other 19 get 409
    assert len(at_stripe) == 1
    assert final_state(app, rma) == ("refunded", [(1, "failed", None),
                                                  (2, "succeeded", at_stripe[0]["id"])])
