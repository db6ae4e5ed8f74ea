"""The warehouse's check of a parcel whose refund already started on the carrier's first
scan: it records what arrived (condition, restock) without moving the return, and a parcel
that does not match what was refunded flags the return for a person."""

from __future__ import annotations

from typing import Any

from returns_service.common.errors import ValidationFailed
from returns_service.returns.models import Return
from returns_service.returns.policy import CONDITIONS
from returns_service.returns.review import flag_for_review, note_for_staff
from returns_service.returns.services import current_policy, lock_return
from returns_service.returns.writes import save
from workflows.returns import Actor, InvalidTransition, allowed_triggers

FIRST_SCAN_TRIGGER = "refund_on_first_scan"


def awaits_inspection(ret: Return) -> bool:
    """Refunded on the first scan, and the parcel not checked yet."""
    return (any(e.trigger == FIRST_SCAN_TRIGGER for e in ret.events)
            and all(item.received_quantity is None for item in ret.items))


def inspect_parcel(rma: str, received: list[dict[str, Any]], actor: Actor, *,
                   note: str | None = None, expected_version: int | None = None) -> Return:
    """Record condition and restock of a first-scan-refunded parcel; flag a mismatch."""
    ret = lock_return(rma, expected_version)
    if not awaits_inspection(ret):
        raise InvalidTransition("receive", ret.status, allowed_triggers(ret.status))
    by_sku = {item.order_line.sku: item for item in ret.items}
    errors: dict[str, list[str]] = {}
    for index, entry in enumerate(received):
        item = by_sku.get(entry["sku"])
        if item is None:
            errors[f"items.{index}.sku"] = ["This item is not part of the return."]
        elif entry["quantity"] > item.quantity:
            errors[f"items.{index}.quantity"] = [f"At most {item.quantity} were requested."]
        if entry["condition"] not in CONDITIONS:
            errors[f"items.{index}.condition"] = [f"Must be one of: {', '.join(CONDITIONS)}."]
    if errors:
        raise ValidationFailed(errors)
    refundable = current_policy().refundable_conditions
    mismatches = []
    for sku, item in by_sku.items():
        entry = next((e for e in received if e["sku"] == sku), None)
        quantity = entry["quantity"] if entry else 0
        condition = entry["condition"] if entry and quantity else "missing"
        item.received_quantity, item.condition = quantity, condition
        restock = entry.get("restock") if entry else False
        item.restock = condition == "resellable" if restock is None else bool(restock)
        item.inspection_note = (entry.get("note") if entry else None) or None
        if quantity < item.quantity or condition not in refundable:
            mismatches.append(f"{sku}: {quantity} of {item.quantity}, {condition}")
    note_for_staff(ret, note or "Parcel checked after the refund on first scan.", actor,
                   kind="inspection", data={"items": [
                       {k: e.get(k) for k in ("sku", "quantity", "condition", "restock")}
                       for e in received]})
    if mismatches:
        flag_for_review(ret, "The parcel does not match what was refunded on the first scan: "
                        + "; ".join(mismatches), actor)
    save(ret)
    return ret
