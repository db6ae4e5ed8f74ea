"""The merchant's return policy: loaded from TOML (or built-in defaults) and its pure rules."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from returns_service.common.i18n import N_

CONDITIONS = ("resellable", "damaged", "wrong_item", "missing")


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    merchant_fault: bool = False
    # Per-language labels from the policy file (language -> text); see policy_label.
    labels: tuple[tuple[str, str], ...] = ()


DEFAULT_REASONS = (
    Reason("damaged", N_("Arrived damaged"), True),
    Reason("defective", N_("Does not work"), True),
    Reason("wrong_item", N_("Wrong item sent"), True),
    Reason("not_as_described", N_("Not as described"), True),
    Reason("doesnt_fit", N_("Doesn't fit"), False),
    Reason("changed_mind", N_("Changed my mind"), False),
    Reason("other", N_("Other"), False),
)


DEFAULT_REJECTION_REASONS = (
    Reason("outside_window", N_("Return window has closed")),
    Reason("not_eligible", N_("Item is not eligible for return")),
    Reason("used", N_("Item shows signs of use")),
    Reason("no_proof", N_("We could not verify the problem")),
    Reason("other", N_("Other")),
)


@dataclass(frozen=True)
class AutoApprove:
    """Approve without an agent when the order is small and the reason is on the list."""

    enabled: bool = False
    max_order_total: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    reasons: frozenset[str] = frozenset()

    def applies(self, currency: str, order_total: int, reasons: list[str]) -> bool:
        limit = self.max_order_total.get(currency)
        return (self.enabled and limit is not None and order_total <= limit
                and bool(reasons) and all(r in self.reasons for r in reasons))


RESOLUTIONS = ("refund", "store_credit")


@dataclass(frozen=True)
class StoreCredit:
    """Store credit as an alternative to a card refund, with a bonus on top (a customer who
    takes credit stays a customer)."""

    enabled: bool = False
    bonus_percent: Decimal = Decimal(0)
    # An admin may turn credit back into a refund to the original payment (audited).
    convertible_to_refund: bool = False

    def bonus(self, amount: int, step: int = 1) -> int:
        """The bonus on `amount`, rounded down to a whole `step` (never more than promised)."""
        raw = int(Decimal(amount) * self.bonus_percent / 100)
        return max(0, raw - raw % step)


@dataclass(frozen=True)
class KeepItem:
    """Returnless refunds: items not worth shipping back are kept by the customer."""

    enabled: bool = False
    max_unit_price: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    skus: tuple[str, ...] = ()  # SKU patterns (fnmatch: "SOCK-*")
    reasons: frozenset[str] = frozenset()
    max_per_customer: int = 1  # keep-item returns per customer email…
    period_days: int = 90  # …in this many days

    def line_qualifies(self, currency: str, sku: str, unit_price: int, reason: str) -> bool:
        if not self.enabled or reason not in self.reasons:
            return False
        limit = self.max_unit_price.get(currency.upper())
        cheap = limit is not None and unit_price <= limit
        return cheap or any(fnmatchcase(sku, pattern) for pattern in self.skus)


ADJUSTMENT_KINDS = ("goodwill", "deduction")


@dataclass(frozen=True)
class AdjustmentReason:
    code: str
    label: str
    kind: str  # goodwill (adds to the payout) or deduction (takes from it)
    labels: tuple[tuple[str, str], ...] = ()


DEFAULT_ADJUSTMENT_REASONS = (
    AdjustmentReason("goodwill", N_("Goodwill gesture"), "goodwill"),
    AdjustmentReason("late_delivery", N_("Compensation for a late delivery"), "goodwill"),
    AdjustmentReason("used", N_("Item arrived used"), "deduction"),
    AdjustmentReason("missing_accessory", N_("Accessory missing"), "deduction"),
    AdjustmentReason("damaged_by_customer", N_("Damaged after delivery"), "deduction"),
)


@dataclass(frozen=True)
class Adjustments:
    """Agents may change what a return pays out, with a reason, up to a limit per currency;
    above it only admins may."""

    reasons: tuple[AdjustmentReason, ...] = DEFAULT_ADJUSTMENT_REASONS
    agent_limit: dict[str, int] = field(default_factory=dict)  # currency -> minor units

    def reason(self, code: str) -> AdjustmentReason | None:
        return next((r for r in self.reasons if r.code == code), None)

    def agent_may(self, currency: str, amount: int) -> bool:
        """Whether an agent (not an admin) may adjust by `amount` (either sign)."""
        limit = self.agent_limit.get(currency.upper())
        return limit is not None and abs(amount) <= limit


# How a refund is split over an order paid several ways (refunds.split).
SPLIT_STRATEGIES = ("card_first", "gift_card_first", "proportional")


@dataclass(frozen=True)
class ShippingRules:
    """Who pays the return parcel and which labels may be bought (`[shipping]` in the TOML)."""

    allowed_carriers: frozenset[str] = frozenset()  # lower-cased; empty: any carrier
    allowed_services: frozenset[str] = frozenset()  # lower-cased; empty: any service
    return_fee: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    fee_by_reason: dict[str, dict[str, int]] = field(default_factory=dict)
    refund_on_first_scan: frozenset[str] = frozenset()  # reasons the merchant trusts


@dataclass(frozen=True)
class FaqEntry:
    """A question and answer for the customers' Help page, with per-language versions."""

    question: str
    answer: str
    questions: tuple[tuple[str, str], ...] = ()
    answers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Exchanges:
    """Exchanges: the returned line swapped for another variant instead of a refund."""

    enabled: bool = False
    reasons: frozenset[str] = frozenset({"doesnt_fit"})  # reasons that may ask for one
    same_product_only: bool = True  # another size or colour of the same product only
    upgrades_allowed: bool = True  # a dearer variant, the customer paying the difference
    # Ship the new item before the original arrives, the original's value secured on a card.
    instant: bool = False
    instant_days: int = 21  # …charged if the original has not arrived in this many days

    def allows(self, reason: str) -> bool:
        return self.enabled and reason in self.reasons


@dataclass(frozen=True)
class ReturnPolicy:
    window_days: int = 30
    window_days_by_channel: dict[str, int] = field(default_factory=dict)
    reasons: tuple[Reason, ...] = DEFAULT_REASONS
    rejection_reasons: tuple[Reason, ...] = DEFAULT_REJECTION_REASONS
    restocking_fee_percent: Decimal = Decimal(0)
    refundable_conditions: frozenset[str] = frozenset({"resellable", "damaged"})
    auto_approve: AutoApprove = AutoApprove()
    store_credit: StoreCredit = StoreCredit()
    keep_item: KeepItem = KeepItem()
    adjustments: Adjustments = Adjustments()
    shipping: ShippingRules = ShippingRules()
    refund_split: str = "card_first"
    faq: tuple[FaqEntry, ...] = ()
    exchanges: Exchanges = Exchanges()

    def resolutions(self) -> tuple[str, ...]:
        """What the customer may choose to be made whole with."""
        return RESOLUTIONS if self.store_credit.enabled else ("refund",)

    def return_shipping_fee(self, currency: str, reasons: list[str]) -> int:
        """What the customer pays for the return parcel (deducted from the refund): nothing
        when any item came back for a merchant-fault reason, else the highest fee of the
        reasons given (a reason's own fee, or the policy's `return_fee`)."""
        if any((r := self.reason(code)) is not None and r.merchant_fault for code in reasons):
            return 0
        rules = self.shipping
        return max((rules.fee_by_reason.get(code, rules.return_fee).get(currency.upper(), 0)
                    for code in reasons), default=0)

    def refunds_on_first_scan(self, reasons: list[str]) -> bool:
        """Whether the refund may start at the carrier's first scan of the return label."""
        trusted = self.shipping.refund_on_first_scan
        return bool(reasons) and all(code in trusted for code in reasons)

    def window_for(self, channel: str) -> int:
        return self.window_days_by_channel.get(channel, self.window_days)

    def reason(self, code: str) -> Reason | None:
        return next((r for r in self.reasons if r.code == code), None)

    def rejection_reason(self, code: str) -> Reason | None:
        return next((r for r in self.rejection_reasons if r.code == code), None)

    def return_deadline(self, channel: str, placed_at: datetime,
                        delivered_at: datetime | None) -> datetime:
        """Last moment a return can be requested: window counted from delivery (else order)."""
        start = delivered_at or placed_at
        return start + timedelta(days=self.window_for(channel))


def load_policy(path: str | Path | None) -> ReturnPolicy:
    """Read a policy TOML file; unset keys keep the built-in defaults."""
    if not path:
        return ReturnPolicy()
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    return policy_from_mapping(raw)


def policy_from_mapping(raw: dict[str, Any]) -> ReturnPolicy:
    kwargs: dict[str, Any] = {}
    if "window_days" in raw:
        kwargs["window_days"] = int(raw["window_days"])
    if "window_days_by_channel" in raw:
        kwargs["window_days_by_channel"] = {
            str(k): int(v) for k, v in raw["window_days_by_channel"].items()}
    if "reasons" in raw:
        kwargs["reasons"] = tuple(
            Reason(r["code"], r["label"], bool(r.get("merchant_fault", False)),
                   _labels(r, "reasons")) for r in raw["reasons"])
    if "rejection_reasons" in raw:
        kwargs["rejection_reasons"] = tuple(
            Reason(r["code"], r["label"], labels=_labels(r, "rejection_reasons"))
            for r in raw["rejection_reasons"])
    if "restocking_fee_percent" in raw:
        pct = Decimal(str(raw["restocking_fee_percent"]))
        if not Decimal(0) <= pct <= Decimal(100):
            raise ValueError("restocking_fee_percent must be between 0 and 100")
        kwargs["restocking_fee_percent"] = pct
    if "refundable_conditions" in raw:
        unknown = set(raw["refundable_conditions"]) - set(CONDITIONS)
        if unknown:
            raise ValueError(f"unknown conditions in refundable_conditions: {sorted(unknown)}")
        kwargs["refundable_conditions"] = frozenset(raw["refundable_conditions"])
    if "auto_approve" in raw:
        aa = raw["auto_approve"]
        kwargs["auto_approve"] = AutoApprove(
            enabled=bool(aa.get("enabled", True)),
            max_order_total={str(k).upper(): int(v)
                             for k, v in aa.get("max_order_total", {}).items()},
            reasons=frozenset(aa.get("reasons", [])),
        )
    if "store_credit" in raw:
        sc = raw["store_credit"]
        bonus = Decimal(str(sc.get("bonus_percent", 0)))
        if not Decimal(0) <= bonus <= Decimal(100):
            raise ValueError("store_credit.bonus_percent must be between 0 and 100")
        kwargs["store_credit"] = StoreCredit(
            enabled=bool(sc.get("enabled", True)), bonus_percent=bonus,
            convertible_to_refund=bool(sc.get("convertible_to_refund", False)))
    if "keep_item" in raw:
        ki = raw["keep_item"]
        kwargs["keep_item"] = KeepItem(
            enabled=bool(ki.get("enabled", True)),
            max_unit_price=_per_currency(ki.get("max_unit_price", {})),
            skus=tuple(str(s) for s in ki.get("skus", [])),
            reasons=frozenset(ki.get("reasons", [])),
            max_per_customer=int(ki.get("max_per_customer", 1)),
            period_days=int(ki.get("period_days", 90)))
    if "adjustments" in raw:
        adj = raw["adjustments"]
        reasons = DEFAULT_ADJUSTMENT_REASONS
        if "reasons" in adj:
            reasons = tuple(AdjustmentReason(r["code"], r["label"], r["kind"],
                                             _labels(r, "adjustments.reasons"))
                            for r in adj["reasons"])
            wrong = sorted({r.kind for r in reasons} - set(ADJUSTMENT_KINDS))
            if wrong:
                raise ValueError(f"adjustments.reasons: unknown kind {wrong}; use "
                                 f"{' or '.join(ADJUSTMENT_KINDS)}")
        kwargs["adjustments"] = Adjustments(
            reasons=reasons, agent_limit=_per_currency(adj.get("agent_limit", {})))
    if "shipping" in raw:
        kwargs["shipping"] = _shipping_rules(raw["shipping"])
    if "refund_split" in raw:
        if raw["refund_split"] not in SPLIT_STRATEGIES:
            raise ValueError(f"refund_split must be one of {', '.join(SPLIT_STRATEGIES)}")
        kwargs["refund_split"] = str(raw["refund_split"])
    if "faq" in raw:
        kwargs["faq"] = tuple(_faq_entry(entry) for entry in raw["faq"])
    if "exchanges" in raw:
        ex = raw["exchanges"]
        kwargs["exchanges"] = Exchanges(
            enabled=bool(ex.get("enabled", True)),
            reasons=frozenset(ex.get("reasons", ["doesnt_fit"])),
            same_product_only=bool(ex.get("same_product_only", True)),
            upgrades_allowed=bool(ex.get("upgrades_allowed", True)),
            instant=bool(ex.get("instant", False)),
            instant_days=int(ex.get("instant_days", 21)))
        if kwargs["exchanges"].instant_days < 1:
            raise ValueError("exchanges.instant_days must be at least 1")
    return ReturnPolicy(**kwargs)


def _faq_entry(raw: dict[str, Any]) -> FaqEntry:
    """`[[faq]] question = "…" answer = "…" questions = { de = "…" } answers = { de = "…" }`"""
    if not str(raw.get("question", "")).strip() or not str(raw.get("answer", "")).strip():
        raise ValueError("faq: every entry needs a question and an answer")
    return FaqEntry(str(raw["question"]), str(raw["answer"]),
                    _labels({"labels": raw.get("questions", {})}, "faq.questions"),
                    _labels({"labels": raw.get("answers", {})}, "faq.answers"))


def _labels(raw: dict[str, Any], where: str) -> tuple[tuple[str, str], ...]:
    """`labels = { de = "Passt nicht", fr = "…" }`: the label in other languages."""
    labels = raw.get("labels", {})
    if not isinstance(labels, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in labels.items()):
        raise ValueError(f"{where}: labels must map language codes to texts, "
                         f"like labels = {{ de = \"Passt nicht\" }}")
    return tuple(sorted((k.lower(), v) for k, v in labels.items()))


def _per_currency(raw: dict[str, Any]) -> dict[str, int]:
    return {str(k).upper(): int(v) for k, v in raw.items()}


def _shipping_rules(raw: dict[str, Any]) -> ShippingRules:
    return ShippingRules(
        allowed_carriers=frozenset(str(c).lower() for c in raw.get("allowed_carriers", [])),
        allowed_services=frozenset(str(c).lower() for c in raw.get("allowed_services", [])),
        return_fee=_per_currency(raw.get("return_fee", {})),
        fee_by_reason={str(code): _per_currency(fees)
                       for code, fees in raw.get("fee_by_reason", {}).items()},
        refund_on_first_scan=frozenset(raw.get("refund_on_first_scan", [])))
