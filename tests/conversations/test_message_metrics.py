"""First response time and reply time on messages join the service report."""

from __future__ import annotations

from datetime import timedelta

from returns_service.common import clock
from returns_service.conversations.services import post_agent_reply, post_customer_message
from returns_service.db import db
from returns_service.returns.services import get_return
from returns_service.staff.models import StaffUser


def test_report_shows_message_first_response_and_reply_time(app, api, make_return, tokens,
                                                              frozen_now):
    rma = make_return()["rma"]
    start = frozen_now

    def at(hours, write):
        clock.freeze(start + timedelta(hours=hours))
        with app.app_context():
            ret = get_return(rma)
            agent = db.session.query(StaffUser).filter_by(email="agent@shop.test").one()
            write(ret, agent)
            db.session.commit()

    at(1, lambda r, a: post_customer_message(r, "Hello?", channel="web"))
    at(2, lambda r, a: post_customer_message(r, "Anyone?", channel="web"))  # same wait
    at(4, lambda r, a: post_agent_reply(r, a, "Here we are."))  # 3 h after the first
    at(5, lambda r, a: post_customer_message(r, "Thanks, one more thing", channel="email"))
    at(35, lambda r, a: post_agent_reply(r, a, "Sure."))  # 30 h: past the 24 h target
    clock.freeze(start + timedelta(days=2))

    report = api.get("/api/v1/reports/service", as_="agent", query={
        "from": start.date().isoformat(),
        "to": (start + timedelta(days=3)).date().isoformat()}).json
    messages = report["messages"]
    assert messages["first_response"] == {"count": 1, "median_seconds": 3 * 3600.0,
                                          "p90_seconds": 3 * 3600.0}
    assert messages["reply_time"]["count"] == 2
    # 3 h and 30 h: median 16.5 h, p90 3 h + 0.9 x 27 h (interpolated, as the report's)
    assert messages["reply_time"]["median_seconds"] == 16.5 * 3600
    assert messages["reply_time"]["p90_seconds"] == 3 * 3600 + 0.9 * 27 * 3600
    assert messages["replies_late"] == 1
