"""Delivery guarantees: never twice, retries on SMTP trouble, nothing lost without Redis/SMTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from returns_service import create_app
from returns_service.common import clock
from returns_service.db import db
from returns_service.notifications import services
from returns_service.notifications.mailer import SmtpSettings
from returns_service.notifications.models import Notification
from returns_service.outbox.models import OutboxMessage
from returns_service.outbox.relay import relay_pending
from returns_service.returns.models import ReturnEvent
from tests.conftest import TEST_REDIS_URL, Api, order_payload
from tests.support.notify import notifications, only

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    app_config["SMTP_URL"] = smtp_server.url
    return app_config


@pytest.fixture
def other_app(app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Build more apps on the same database (Redis down, SMTP unset…); disposed after."""
    from returns_service import worker

    monkeypatch.setattr(worker, "_app", None)
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        built.append(create_app({**app_config, **overrides}))
        return built[-1]

    yield build
    for each in built:
        with each.app_context():
            db.engine.dispose()
    monkeypatch.setattr(worker, "_app", None)


def request_return(api: Api, make_order: Any, number: str = "A1001") -> str:
    make_order(number)
    response = api.post("/api/v1/returns", json={
        "order_number": number, "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
    assert response.status_code == 201, response.json
    return str(response.json["rma"])


def test_a_job_run_twice_sends_once(app: Any, make_return: Any, smtp_server: Any) -> None:
    rma = make_return()["rma"]
    assert len(smtp_server.messages) == 1
    (note,) = notifications(app, rma)
    with app.app_context():
        assert services.deliver(note.id) == "already sent"
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"notify:{rma}:requested"))
        assert message is not None
        db.session.execute(OutboxMessage.__table__.update().values(processed_at=None))
        db.session.commit()
    relay_pending(app)  # the whole outbox job again, as after a lost acknowledgement
    assert len(smtp_server.messages) == 1


def test_a_row_claimed_by_another_worker_is_left_alone(
        app: Any, other_app: Any, app_config: dict[str, Any], tokens: dict[str, str],
        smtp_server: Any) -> None:
    quiet = other_app(SMTP_URL=None)  # queue without sending
    rma = request_return(Api(quiet.test_client(), tokens), lambda n: Api(
        quiet.test_client(), tokens).post("/api/v1/orders", as_="integration",
                                          json=order_payload(n)))
    (note,) = notifications(app, rma)
    assert note.status == "pending"
    with app.app_context():
        assert services._take(note.id) is not None  # another worker is sending it now
        services.db.session.commit()
        assert services.deliver(note.id) == "claimed by another worker or already sent"
    assert smtp_server.messages == []
    # That worker died: after the stale limit the row is taken over and sent once.
    with app.app_context():
        stale = services.sending_stale()
    clock.freeze(clock.utcnow() + stale + timedelta(seconds=1))
    with app.app_context():
        assert services.deliver(note.id) == "sent"
        assert services.deliver(note.id) == "already sent"
    assert len(smtp_server.messages) == 1


def test_smtp_failing_twice_then_succeeding_sends_exactly_one_email(
        app: Any, api: Api, make_order: Any, smtp_server: Any) -> None:
    smtp_server.handler.fail_next = 2
    rma = request_return(api, make_order)  # attempt 1 (in-process after commit): 451
    (note,) = notifications(app, rma)
    assert note.status == "pending" and note.attempts == 1 and "451" in note.last_error
    relay_pending(app)  # attempt 2: 451 again
    assert smtp_server.messages == []
    relay_pending(app)  # attempt 3: accepted
    assert smtp_server.handler.refused == 2
    assert len(smtp_server.messages) == 1
    assert only(smtp_server.messages, rma)["To"] == "jane@example.com"
    (note,) = notifications(app, rma)
    assert (note.status, note.attempts, note.last_error) == ("sent", 3, None)
    relay_pending(app)
    assert len(smtp_server.messages) == 1
    with app.app_context():
        states = [e.data["delivery"] for e in db.session.scalars(
            select(ReturnEvent).where(ReturnEvent.kind == "notification")
            .order_by(ReturnEvent.id))]
    assert states == ["queued", "retrying", "retrying", "sent"]


def test_a_server_refusing_every_sender_keeps_emails_until_it_is_fixed(
        app: Any, api: Api, make_order: Any, smtp_server: Any) -> None:
    """A 5xx that is the server's setup (530 authentication required at MAIL FROM) would
    fail every email alike: none is given up, all go out once the operator fixes it."""
    smtp_server.handler.mail_from_reply = "530 5.7.0 Authentication required"
    rma = request_return(api, make_order)
    (note,) = notifications(app, rma)
    assert note.status == "pending" and "530" in note.last_error
    smtp_server.handler.mail_from_reply = None
    relay_pending(app)
    assert len(only(smtp_server.messages, rma)["To"].addresses) == 1
    assert [n.status for n in notifications(app, rma)] == ["sent"]


def test_an_email_that_cannot_be_built_stays_pending_for_a_retry(
        app: Any, api: Api, make_order: Any, smtp_server: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(note: Any) -> Any:
        raise RuntimeError("template broke")

    monkeypatch.setattr(services, "build_message", broken)
    rma = request_return(api, make_order)  # the in-process job fails; the request does not
    (note,) = notifications(app, rma)
    assert (note.status, note.attempts) == ("pending", 1)
    assert note.last_error == "RuntimeError: template broke"
    assert smtp_server.messages == []
    monkeypatch.undo()
    relay_pending(app)  # the retry, once the template is fixed
    assert len(smtp_server.messages) == 1
    (note,) = notifications(app, rma)
    assert (note.status, note.attempts, note.last_error) == ("sent", 2, None)
    with app.app_context():
        states = [e.data["delivery"] for e in db.session.scalars(
            select(ReturnEvent).where(ReturnEvent.kind == "notification")
            .order_by(ReturnEvent.id))]
    assert states == ["queued", "retrying", "sent"]


def test_redis_down_at_the_status_change_loses_nothing(
        app: Any, other_app: Any, app_config: dict[str, Any], tokens: dict[str, str],
        smtp_server: Any) -> None:
    down = other_app(REDIS_URL="redis://127.0.0.1:1/0")
    api = Api(down.test_client(), tokens)
    assert api.post("/api/v1/orders", as_="integration",
                    json=order_payload("C1")).status_code == 201
    response = api.post("/api/v1/returns", json={
        "order_number": "C1", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]})
    assert response.status_code == 201  # the customer is not bothered by Redis being down
    rma = response.json["rma"]
    assert smtp_server.messages == []
    (note,) = notifications(app, rma)
    assert note.status == "pending"
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"notify:{rma}:requested"))
        assert message is not None and message.enqueued_at is None
    # Later, with jobs flowing again (here: in-process), the relay delivers it.
    assert relay_pending(app) >= 1
    assert len(only(smtp_server.messages, rma)["To"].addresses) == 1
    assert len(smtp_server.messages) == 1


@pytest.mark.redis
def test_redis_down_then_relay_to_rq_and_simple_worker(
        app: Any, other_app: Any, app_config: dict[str, Any], tokens: dict[str, str],
        smtp_server: Any) -> None:
    from redis import Redis
    from rq import Queue

    from returns_service.worker import SimpleWorker, set_app

    down = other_app(REDIS_URL="redis://127.0.0.1:1/0")
    api = Api(down.test_client(), tokens)
    api.post("/api/v1/orders", as_="integration", json=order_payload("D1"))
    rma = api.post("/api/v1/returns", json={
        "order_number": "D1", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    assert smtp_server.messages == []

    up = other_app(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE="notify-test")
    Redis.from_url(TEST_REDIS_URL).flushdb()
    assert relay_pending(up) == 1
    set_app(up)
    queue = Queue("notify-test", connection=Redis.from_url(TEST_REDIS_URL))
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert only(smtp_server.messages, rma)["To"] == "jane@example.com"
    assert len(smtp_server.messages) == 1


@pytest.mark.redis
def test_a_real_rq_worker_process_sends_the_email(
        app: Any, other_app: Any, app_config: dict[str, Any], tokens: dict[str, str],
        smtp_server: Any) -> None:
    from redis import Redis

    Redis.from_url(TEST_REDIS_URL).flushdb()
    config = {**app_config, "REDIS_URL": TEST_REDIS_URL, "RQ_QUEUE": "notify-worker"}
    web = other_app(REDIS_URL=TEST_REDIS_URL, RQ_QUEUE="notify-worker")
    api = Api(web.test_client(), tokens)
    api.post("/api/v1/orders", as_="integration", json=order_payload("E1"))
    rma = api.post("/api/v1/returns", json={
        "order_number": "E1", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    assert smtp_server.messages == []  # queued in Redis, waiting for a worker
    env = {**os.environ, "DATABASE_URL": config["DATABASE_URL"], "SECRET_KEY": "test-secret",
           "REDIS_URL": TEST_REDIS_URL, "RQ_QUEUE": "notify-worker",
           "SMTP_URL": smtp_server.url, "PUBLIC_BASE_URL": "http://returns.test",
           "LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst",
         "--without-scheduler"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr
    assert " INFO " not in result.stderr  # rq's per-job lines follow LOG_LEVEL too
    message = only(smtp_server.messages, rma)
    assert message["To"] == "jane@example.com"
    (note,) = notifications(app, rma)
    assert note.status == "sent"


# A new worker process whose very first work is one email: nothing before it has used the
# ORM (whose mappings are set up on first use).
_FIRST_JOB = """
import sys
from returns_service import create_app
from returns_service.worker import run_outbox_batch, set_app
set_app(create_app())
print(run_outbox_batch([int(sys.argv[1])]))
"""


def test_a_new_worker_process_sends_an_approval_email_as_its_very_first_job(
        app: Any, other_app: Any, app_config: dict[str, Any], tokens: dict[str, str],
        smtp_server: Any) -> None:
    """Sent, and recorded as sent: not left claimed ("sending") until the claim runs out."""
    unset = other_app(SMTP_URL=None)  # the emails wait, pending
    api = Api(unset.test_client(), tokens)
    api.post("/api/v1/orders", as_="integration", json=order_payload("G1"))
    rma = api.post("/api/v1/returns", json={
        "order_number": "G1", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    assert api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={}).status_code == 200
    (approval,) = [n for n in notifications(app, rma) if n.step == "approved"]
    with app.app_context():  # its job, run once without SMTP, is to run again
        (message,) = [m for m in db.session.scalars(select(OutboxMessage))
                      if m.payload == {"notification_id": approval.id}]
        message_id, message.processed_at = message.id, None
        db.session.commit()
    env = {**os.environ, "DATABASE_URL": app_config["DATABASE_URL"],
           "SECRET_KEY": "test-secret", "SMTP_URL": smtp_server.url,
           "PUBLIC_BASE_URL": "http://returns.test", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-c", _FIRST_JOB, str(message_id)], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['sent']"
    assert only(smtp_server.messages, rma)["To"] == "jane@example.com"
    assert [n.status for n in notifications(app, rma) if n.step == "approved"] == ["sent"]


def test_without_smtp_url_notifications_wait_and_go_out_once_configured(
        app: Any, other_app: Any, app_config: dict[str, Any], tokens: dict[str, str],
        smtp_server: Any,
        frozen_now: Any) -> None:
    unset = other_app(SMTP_URL=None)
    api = Api(unset.test_client(), tokens)
    api.post("/api/v1/orders", as_="integration", json=order_payload("F1"))
    rma = api.post("/api/v1/returns", json={
        "order_number": "F1", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    (note,) = notifications(app, rma)
    assert note.status == "pending" and "SMTP_URL is not set" in note.last_error
    assert smtp_server.messages == []

    from returns_service.scheduler import tick

    def outbox_rows() -> int:
        with app.app_context():
            return db.session.scalar(select(db.func.count()).select_from(OutboxMessage))

    rows = outbox_rows()
    for minutes in (10, 20, 30):  # ticks while SMTP is still unset: nothing piles up
        clock.freeze(frozen_now + timedelta(minutes=minutes))
        assert tick(unset)["requeued_notifications"] == 0
    assert outbox_rows() == rows

    clock.freeze(frozen_now + timedelta(minutes=40))
    assert tick(app)["requeued_notifications"] == 1  # SMTP configured now: it goes out
    assert len(only(smtp_server.messages, rma)["To"].addresses) == 1
    assert tick(app)["requeued_notifications"] == 0
    assert len(smtp_server.messages) == 1


def test_a_refused_recipient_is_marked_failed_and_not_retried(
        app: Any, api: Api, make_order: Any, smtp_server: Any) -> None:
    smtp_server.handler.unknown_users.add("jane@example.com")
    rma = request_return(api, make_order)
    (note,) = notifications(app, rma)
    assert note.status == "failed" and "550" in note.last_error
    smtp_server.handler.unknown_users.clear()
    relay_pending(app)
    assert smtp_server.messages == []  # a person has to look: no endless retries
    events = api.get(f"/api/v1/returns/{rma}/events", as_="agent").json
    assert events[-1]["data"]["delivery"] == "failed"


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.local", ("mail.local", 25, False, False, None, None)),
    ("smtp://u%40x:p%2Fw@mail.local:2525?starttls=1",
     ("mail.local", 2525, False, True, "u@x", "p/w")),
    ("smtp+starttls://user:pw@mail.local", ("mail.local", 587, False, True, "user", "pw")),
    ("smtps://user:pw@mail.local", ("mail.local", 465, True, False, "user", "pw")),
])
def test_smtp_url_forms(url: str, expected: tuple[Any, ...]) -> None:
    s = SmtpSettings.from_url(url)
    assert (s.host, s.port, s.ssl, s.starttls, s.username, s.password) == expected


def test_an_unknown_smtp_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="smtp://"):
        SmtpSettings.from_url("http://mail.local")


def test_starttls_and_login_from_the_smtp_url(
        app: Any, other_app: Any, tokens: dict[str, str], smtp_tls_server: Any) -> None:
    tls = other_app(SMTP_URL=smtp_tls_server.url)
    api = Api(tls.test_client(), tokens)
    api.post("/api/v1/orders", as_="integration", json=order_payload("T1"))
    rma = api.post("/api/v1/returns", json={
        "order_number": "T1", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    assert only(smtp_tls_server.messages, rma)["To"] == "jane@example.com"
    assert smtp_tls_server.authenticator.logins == ["mailer"]


def test_a_wrong_smtp_password_keeps_the_email_for_a_retry(
        app: Any, other_app: Any, tokens: dict[str, str], smtp_tls_server: Any) -> None:
    wrong = other_app(SMTP_URL=smtp_tls_server.url.replace("s3cr3t%2Fpw", "nope"))
    api = Api(wrong.test_client(), tokens)
    api.post("/api/v1/orders", as_="integration", json=order_payload("T2"))
    rma = api.post("/api/v1/returns", json={
        "order_number": "T2", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    (note,) = notifications(app, rma)
    assert note.status == "pending" and "login failed" in note.last_error
    assert smtp_tls_server.messages == []


def test_two_workers_delivering_the_same_notification_at_once_send_one_email(
        app: Any, other_app: Any, tokens: dict[str, str], smtp_server: Any) -> None:
    import threading

    quiet = other_app(SMTP_URL=None)  # queue without sending
    api = Api(quiet.test_client(), tokens)
    api.post("/api/v1/orders", as_="integration", json=order_payload("W1"))
    rma = api.post("/api/v1/returns", json={
        "order_number": "W1", "email": "jane@example.com",
        "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
    (note,) = notifications(app, rma)
    start = threading.Barrier(2)
    results: list[str] = []

    def work() -> None:
        with app.app_context():
            start.wait()
            results.append(services.deliver(note.id))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) in (["already sent", "sent"],
                               ["claimed by another worker or already sent", "sent"])
    assert len(smtp_server.messages) == 1


@pytest.mark.postgres
def test_six_workers_on_sixty_emails_send_each_once_and_skip_each_superseded_once(
        app: Any, other_app: Any, tokens: dict[str, str], smtp_server: Any) -> None:
    """Every worker tries every email, each in its own order: 40 go out once, the 20
    "we have your request" emails of approved returns are skipped once, and each has one
    final line on its timeline."""
    import random
    import threading

    quiet = other_app(SMTP_URL=None)  # queue without sending
    api = Api(quiet.test_client(), tokens)
    for k in range(40):
        api.post("/api/v1/orders", as_="integration", json=order_payload(f"S{k}"))
        rma = api.post("/api/v1/returns", json={
            "order_number": f"S{k}", "email": "jane@example.com",
            "items": [{"sku": "SHIRT", "quantity": 1, "reason": "doesnt_fit"}]}).json["rma"]
        if k % 2:
            api.post(f"/api/v1/returns/{rma}/approve", as_="agent", json={})
    with app.app_context():
        ids = list(db.session.scalars(select(Notification.id)))
    assert len(ids) == 60
    start = threading.Barrier(6)
    results: list[str] = []

    def work(seed: int) -> None:
        order = ids[:]
        random.Random(seed).shuffle(order)
        start.wait()
        for note_id in order:
            with app.app_context():
                results.append(services.deliver(note_id))
                db.session.commit()  # as the outbox job does

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (results.count("sent"), results.count("skipped")) == (40, 20)
    assert len(smtp_server.messages) == 40
    with app.app_context():
        statuses = list(db.session.scalars(select(Notification.status)))
        final = sorted(e.data["notification_id"] for e in db.session.scalars(
            select(ReturnEvent).where(ReturnEvent.kind == "notification"))
            if e.data["delivery"] in ("sent", "skipped"))
    assert sorted(statuses) == ["sent"] * 40 + ["skipped"] * 20
    assert final == sorted(ids)
