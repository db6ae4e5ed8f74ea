"""Refunds: every money figure of a return (the refund breakdown, restocking fee, shipping,
what an order still has refundable) and paying it back exactly once through Stripe, from a job,
with Stripe's webhooks and a periodic poll settling what is pending."""

from flask import Flask

from returns_service.orders.signals import order_pins_asked
from returns_service.outbox.registry import register_handler
from returns_service.privacy import register_exporter, register_hold
from returns_service.refunds import amounts, jobs, models, personal_data, receiving, services
from returns_service.returns.signals import return_approved, return_received
from returns_service.scheduler import register_periodic

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    """Settle a return (refund or store credit) when its parcel is received, or at approval
    when the customer keeps the items; run refund and Stripe-event jobs, settle
    refunds still pending after an hour, and pin an order's payment once it has refunds;
    export refunds and hold back erasing a customer whose refund is under way."""
    return_received.connect(receiving.on_return_received)
    return_approved.connect(receiving.on_return_approved)
    order_pins_asked.connect(amounts.pins_of_refunds)
    register_handler("refund.execute", jobs.run_refund)
    register_handler("stripe.event", jobs.run_stripe_event)
    # Last in a tick: it waits on Stripe, the other jobs do not.
    register_periodic(app, "refunds_settled", services.poll_pending_refunds, position=90)
    register_exporter(app, "refunds", personal_data.export_refunds)
    register_hold(app, "refunds_under_way", personal_data.refunds_under_way)
