"""Marshmallow shapes for the report period (query) and the service report (answer)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from returns_service.common.clock import utcnow

MAX_DAYS = 731
DEFAULT_DAYS = 28


class Moment(fields.Field):
    """An ISO date (midnight UTC) or an ISO datetime (naive means UTC)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError("Use an ISO date (2026-03-01) or datetime.")
        text = value.strip()
        try:
            if len(text) == 10:
                moment = datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValidationError("Use an ISO date (2026-03-01) or datetime.") from exc
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        if not EARLIEST <= moment < LATEST:  # a default period around it must stay a date
            raise ValidationError(f"Use a date from {EARLIEST:%Y-%m-%d} to before "
                                  f"{LATEST:%Y-%m-%d}.")
        return moment


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


class ReportPeriodQuery(Schema):
    """[from, to): defaults to the 28 days up to tomorrow 00:00 UTC."""

    start = Moment(data_key="from", load_default=None, metadata={
        "description": "Start (inclusive), ISO date or datetime, UTC", "type": "string"})
    end = Moment(data_key="to", load_default=None, metadata={
        "description": "End (exclusive), ISO date or datetime, UTC", "type": "string"})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))

    @validates_schema
    def _check_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start >= end:
                raise ValidationError("Must be after 'from'.", "to")
            if end - start > timedelta(days=MAX_DAYS):
                raise ValidationError(f"The period may span at most {MAX_DAYS} days.", "to")

    @post_load
    def _defaults(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:

        if data["end"] is None:
            if data["start"] is not None:
                data["end"] = data["start"] + timedelta(days=DEFAULT_DAYS)
            else:
                tomorrow = utcnow().date() + timedelta(days=1)
                data["end"] = datetime.combine(tomorrow, time(), tzinfo=UTC)
        if data["start"] is None:
            data["start"] = data["end"] - timedelta(days=DEFAULT_DAYS)
        return data


class ReportDistributionOut(Schema):
    count = fields.Integer()
    median_seconds = fields.Float(allow_none=True)
    p90_seconds = fields.Float(allow_none=True)


class ReportCsatOut(Schema):
    responses = fields.Integer()
    average = fields.Float(allow_none=True, metadata={"description": "Mean rating, 1-5"})
    satisfied_pct = fields.Float(allow_none=True, metadata={"description": "% rating 4 or 5"})


class ReportNpsOut(Schema):
    responses = fields.Integer()
    promoters = fields.Integer()
    passives = fields.Integer()
    detractors = fields.Integer()
    score = fields.Float(allow_none=True, metadata={"description": "% promoters - % detractors"})


class ReportSatisfactionOut(Schema):
    csat = fields.Nested(ReportCsatOut)
    nps = fields.Nested(ReportNpsOut)


class ReportSlaOut(Schema):
    target_hours = fields.Integer()
    answered = fields.Integer()
    answered_late = fields.Integer()
    waiting_past_target = fields.Integer()


class ReportFirstResponseOut(Schema):
    staff = fields.Nested(ReportDistributionOut)
    auto = fields.Nested(ReportDistributionOut, metadata={"description": "Auto-approve policy"})
    sla = fields.Nested(ReportSlaOut)


class ReportBacklogStatusOut(Schema):
    status = fields.String()
    total = fields.Integer()
    under_1d = fields.Integer()
    d1_to_3 = fields.Integer()
    d3_to_7 = fields.Integer()
    over_7d = fields.Integer()


class ReportBacklogOut(Schema):
    as_of = fields.DateTime()
    total = fields.Integer()
    by_status = fields.List(fields.Nested(ReportBacklogStatusOut))


class ReportOutcomeOut(Schema):
    status = fields.String()
    returns = fields.Integer()


class ReportVolumeOut(Schema):
    requested = fields.Integer()
    resolved = fields.Integer()
    outcomes = fields.List(fields.Nested(ReportOutcomeOut))


class ReportPeriodOut(Schema):
    start = fields.DateTime(data_key="from")
    end = fields.DateTime(data_key="to")
    first_response_target_hours = fields.Integer()


class ReportReasonOut(Schema):
    reason = fields.String()
    returns = fields.Integer()
    quantity = fields.Integer()


class ReportSkuOut(Schema):
    sku = fields.String()
    returns = fields.Integer()
    quantity = fields.Integer()


class ReportChannelOut(Schema):
    channel = fields.String()
    returns = fields.Integer()


class ReportRefundedOut(Schema):
    currency = fields.String()
    refunds = fields.Integer()
    amount_minor = fields.Integer(metadata={"description": "Integer minor units"})


class ReportRefundedTaxOut(Schema):
    tax_rate = fields.String(metadata={"description": "Currency and rate, e.g. \"EUR 20%\""})
    currency = fields.String()
    rate = fields.String(metadata={"description": "Percent, as imported"})
    amount_minor = fields.Integer(metadata={
        "description": "Tax refunded at this rate (added on top or included), minor units"})


class ReportCreditCurrencyOut(Schema):
    currency = fields.String()
    credit_issued = fields.Integer(metadata={
        "description": "Store credit issued for returns settled, without its bonus (minor units)"})
    value_returned = fields.Integer(metadata={
        "description": "What returns settled paid back: refunds started plus credit issued"})
    exchanged_value = fields.Integer(metadata={
        "description": "Value of the returned lines kept as exchanges (exchange orders "
                       "created), minor units"})
    revenue_retained_pct = fields.Float(allow_none=True, metadata={
        "description": "(credit_issued + exchanged_value) / (value_returned + "
                       "exchanged_value), in percent"})


class ReportCreditOutstandingOut(ReportCreditCurrencyOut):
    outstanding = fields.Integer(metadata={
        "description": "Balances of unexpired credit codes now: the merchant's liability"})


class ReportStoreCreditOut(Schema):
    by_currency = fields.List(fields.Nested(ReportCreditOutstandingOut))


class ReportLabelSpendOut(Schema):
    currency = fields.String()
    labels = fields.Integer(metadata={"description": "Return labels bought"})
    amount_minor = fields.Integer(metadata={"description": "What they cost (minor units)"})
    voided = fields.Integer(metadata={
        "description": "Of those, unused labels voided (their money asked back)"})
    voided_minor = fields.Integer(metadata={"description": "What the voided labels cost"})


class ReportFirstScanOut(Schema):
    refunds = fields.Integer(metadata={"description": "Returns whose refund started"})
    on_first_scan = fields.Integer(metadata={
        "description": "Of those, refunds started by the carrier's first scan"})
    pct = fields.Float(allow_none=True, metadata={"description": "on_first_scan / refunds, %"})


class ReportShippingOut(Schema):
    approved_to_shipped = fields.Nested(ReportDistributionOut, metadata={
        "description": "Approval to the carrier's first scan of the return parcel"})
    shipped_to_delivered = fields.Nested(ReportDistributionOut, metadata={
        "description": "First scan to delivery at the warehouse"})
    delivered_to_received = fields.Nested(ReportDistributionOut, metadata={
        "description": "Delivery to the warehouse's receipt (or check) of the parcel"})
    label_spend = fields.List(fields.Nested(ReportLabelSpendOut))
    first_scan_refunds = fields.Nested(ReportFirstScanOut)


class ReportWeekOut(Schema):
    week_start = fields.Date()
    requested = fields.Integer()
    first_response_staff = fields.Nested(ReportDistributionOut)
    first_response_auto = fields.Nested(ReportDistributionOut)
    resolution = fields.Nested(ReportDistributionOut)
    refund_time = fields.Nested(ReportDistributionOut)
    csat = fields.Nested(ReportCsatOut)
    store_credit = fields.List(fields.Nested(ReportCreditCurrencyOut))
    shipping = fields.Nested(ReportShippingOut)
    exchanges = fields.Integer(metadata={"description": "Exchanges made (orders created)"})


class ReportSwapOut(Schema):
    swap = fields.String(metadata={"description": "e.g. size M → L"})
    option = fields.String(allow_none=True, metadata={
        "description": "The option(s) that changed, e.g. size; null: told by SKU"})
    from_ = fields.String(data_key="from", metadata={"description": "e.g. M (or a SKU)"})
    to = fields.String(metadata={"description": "e.g. L (or a SKU)"})
    items = fields.Integer(metadata={"description": "Items asked to be swapped so"})


class ReportExchangesOut(Schema):
    made = fields.Integer(metadata={
        "description": "Exchanges made in the period (exchange orders created)"})
    top_swaps = fields.List(fields.Nested(ReportSwapOut), metadata={
        "description": "The most asked swaps, in exchanges requested in the period"})


class ReportMessagesOut(Schema):
    """Response times on the customer conversation (messages, not decisions)."""

    first_response = fields.Nested(ReportDistributionOut, metadata={
        "description": "Per return: its first customer message to the agents' first reply"})
    reply_time = fields.Nested(ReportDistributionOut, metadata={
        "description": "Every customer message waiting on us to the next reply"})
    replies_late = fields.Integer(metadata={
        "description": "Replies sent after the first-response target"})


class ServiceReportOut(Schema):
    period = fields.Nested(ReportPeriodOut)
    volume = fields.Nested(ReportVolumeOut)
    first_response = fields.Nested(ReportFirstResponseOut)
    messages = fields.Nested(ReportMessagesOut)
    resolution = fields.Nested(ReportDistributionOut)
    refund_time = fields.Nested(ReportDistributionOut)
    backlog = fields.Nested(ReportBacklogOut)
    satisfaction = fields.Nested(ReportSatisfactionOut)
    by_reason = fields.List(fields.Nested(ReportReasonOut))
    by_sku = fields.List(fields.Nested(ReportSkuOut))
    by_channel = fields.List(fields.Nested(ReportChannelOut))
    refunded = fields.List(fields.Nested(ReportRefundedOut))
    refunded_tax = fields.List(fields.Nested(ReportRefundedTaxOut))
    store_credit = fields.Nested(ReportStoreCreditOut)
    exchanges = fields.Nested(ReportExchangesOut)
    shipping = fields.Nested(ReportShippingOut, metadata={
        "description": "Return parcels: transit times, label spend, refunds on first scan"})
    weekly = fields.List(fields.Nested(ReportWeekOut))
