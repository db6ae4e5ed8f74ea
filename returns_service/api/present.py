"""Turn a Return into the plain dict the API (and pages) show. No rules decided here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from returns_service.db import db
from returns_service.refunds.amounts import (
    OrderFigures,
    order_figures,
    refund_context,
    refunds_of_return,
    remembered_for_answer,
)
from returns_service.refunds.breakdown import refund_breakdown
from returns_service.refunds.credit import store_credit_offer
from returns_service.refunds.models import Refund
from returns_service.returns.links import status_url
from returns_service.returns.models import Return
from returns_service.returns.schemas import BreakdownOut, RefundOut, ReturnOut
from workflows.returns import allowed_triggers

_REFUND_FIELDS = tuple(RefundOut().fields)  # what the API shows of a refund
_BREAKDOWN_FIELDS = tuple(BreakdownOut().fields)
_RETURN_FIELDS = frozenset(ReturnOut().fields)
_WHEN = ("created_at", "updated_at", "status_changed_at")
# Triggers a person may fire from the API/console (the rest belong to jobs and webhooks).
STAFF_ACTIONS = ("approve", "reject", "cancel", "receive", "retry_refund",
                 "record_manual_refund")


def paid_breakdown(ret: Return) -> dict[str, int] | None:
    """What the return was settled at (None until then), as BreakdownOut shows it."""
    if ret.refund_amount is None:
        return None
    return {"items": ret.refund_items_amount or 0, "restocking_fee":
            ret.restocking_fee_amount or 0, "shipping": ret.refund_shipping_amount or 0,
            "adjustments": ret.adjustment_amount or 0, "total": ret.refund_amount,
            "list_price": (ret.refund_items_amount or 0) + (ret.refund_discount_amount or 0)
            - (ret.refund_tax_added or 0), "discount": ret.refund_discount_amount or 0,
            "tax": ret.refund_tax_amount or 0, "tax_added": ret.refund_tax_added or 0}


_REFUNDS_OF_MANY = (select(Refund)  # built once: shown with every page of the staff list
                    .where(Refund.return_id.in_(bindparam("return_ids", expanding=True)))
                    .order_by(Refund.return_id, Refund.attempt))


def refunds_of(ret: Return) -> list[Refund]:
    return refunds_of_return(ret)


def refund_dict(refund: Refund) -> dict[str, Any]:
    """A refund as the API shows it (RefundOut's fields), read now: a change's answer is
    rendered before its commit, after which every row would be reloaded to be read."""
    return {name: getattr(refund, name) for name in _REFUND_FIELDS}


def return_dicts(rows: list[Return], *, status_link: bool = True) -> list[dict[str, Any]]:
    """Many returns at once with a fixed number of queries (refunds and order totals batched).

    Load rows with their order (and its lines) and items eagerly, as services.list_returns does.
    """
    ids = [r.id for r in rows]
    refunds: dict[int, list[Refund]] = {i: [] for i in ids}
    if ids:
        for refund in db.session.scalars(_REFUNDS_OF_MANY, {"return_ids": ids}):
            refunds[refund.return_id].append(refund)  # type: ignore[index]
    context = refund_context(sorted({r.order_id for r in rows}))
    return [return_dict(r, refunds=refunds[r.id], siblings=context.get(r.order_id, {}),
                        status_link=status_link) for r in rows]


def return_dict(ret: Return, *, refunds: list[Refund] | None = None,
                siblings: dict[int, tuple[int, bool]] | None = None,
                figures: OrderFigures | None = None,
                status_link: bool = True) -> dict[str, Any]:
    """`figures`: the order's figures leaving `ret` out, when the caller read them (a new
    return: with the claimed quantities). Otherwise what this transaction remembered of
    them, or one query, which also says whether the return has refunds to list."""
    order = ret.order
    if siblings is None:
        known = remembered_for_answer(ret)
        figures = figures or known.get("figures") or order_figures(
            order, exclude_return_id=ret.id)
        if refunds is None:
            refunds = known.get("refunds")
        if refunds is None and not figures.has_refunds:
            refunds = []
    estimate = refund_breakdown(ret, estimate=True, siblings=siblings,
                                figures=figures).as_dict()
    refund = paid_breakdown(ret)
    shown = {
        "rma": ret.rma, "status": ret.status, "version": ret.version, "channel": ret.channel,
        "order_number": order.number, "email": order.email,
        "customer_name": order.customer_name, "currency": order.currency,
        "created_at": ret.created_at, "updated_at": ret.updated_at,
        "status_changed_at": ret.status_changed_at, "rejection_reason": ret.rejection_reason,
        "needs_review": ret.needs_review, "review_reason": ret.review_reason,
        "items": [{"sku": i.order_line.sku, "name": i.order_line.name, "quantity": i.quantity,
                   "unit_price": i.order_line.unit_price, "reason": i.reason,
                   "comment": i.comment, "received_quantity": i.received_quantity,
                   "condition": i.condition, "restock": i.restock} for i in ret.items],
        "expected_refund": estimate,
        "refund": refund,
        "refunds": [refund_dict(r) for r in (refunds_of(ret) if refunds is None else refunds)],
        "resolution": ret.resolution, "keep_item": bool(ret.keep_item),
        "store_credit": store_credit_offer(
            ret, estimate["total"] if refund is None else refund["total"]),
        "allowed_actions": [t for t in allowed_triggers(ret.status) if t in STAFF_ACTIONS],
    }
    if status_link:  # the customer's link, and their right to cancel with it
        shown["status_url"] = status_url(ret.rma)
    return shown


def return_json(shown: dict[str, Any]) -> dict[str, Any]:
    """`return_dict`'s answer as ReturnOut would dump it, built directly: the shape is fixed,
    and marshmallow's field-by-field dump of the nested items, figures and refunds is a good
    part of a change's cost. tests/returns/test_api_returns.py checks that both agree."""
    dumped = {key: value for key, value in shown.items() if key in _RETURN_FIELDS}
    for key in _WHEN:
        dumped[key] = _iso(shown[key])
    dumped["expected_refund"] = {key: shown["expected_refund"][key]
                                 for key in _BREAKDOWN_FIELDS}
    if shown["refund"] is not None:
        dumped["refund"] = {key: shown["refund"][key] for key in _BREAKDOWN_FIELDS}
    if shown["store_credit"] is not None:
        dumped["store_credit"] = dict(shown["store_credit"])
    dumped["refunds"] = [{**refund, "created_at": _iso(refund["created_at"])}
                         for refund in shown["refunds"]]
    return dumped


def _iso(when: Any) -> str | None:
    return None if when is None else when.isoformat()
