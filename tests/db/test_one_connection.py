"""`one_connection`: a job's several transactions on one database connection, each of them
committed for everyone to see at once, and a connection lost between two of them replaced."""

from __future__ import annotations

import warnings
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from returns_service.db import db, one_connection
from returns_service.outbox.models import OutboxMessage
from tests.conftest import TEST_DATABASE_URL


def add_message(topic: str) -> None:
    db.session.add(OutboxMessage(topic=topic, payload={}))


def topics_seen_from_outside(database_url: str) -> list[str]:
    """What another connection (another process, say) sees committed."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as other:
            return list(other.scalars(select(OutboxMessage.topic).order_by(OutboxMessage.id)))
    finally:
        engine.dispose()


def test_each_commit_in_the_block_is_seen_by_others_at_once(app: Any) -> None:
    seen = []
    with app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
        with one_connection():
            add_message("first")
            db.session.commit()
            seen.append(topics_seen_from_outside(url))
            add_message("dropped")
            db.session.rollback()
            add_message("second")
            db.session.commit()
            seen.append(topics_seen_from_outside(url))
            add_message("left uncommitted")
        assert db.engine.pool.checkedout() == 0  # handed back to the pool
    assert seen == [["first"], ["first", "second"]]
    with app.app_context():  # what the block left uncommitted was rolled back
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_the_block_refuses_a_session_with_a_transaction_open(app: Any) -> None:
    with app.app_context():
        db.session.scalar(select(func.count()).select_from(OutboxMessage))
        with pytest.raises(RuntimeError, match="already has a transaction open"), \
                one_connection():
            pass


@pytest.mark.postgres
def test_the_transactions_share_one_backend_and_a_lost_one_is_replaced(app: Any) -> None:
    """One PostgreSQL backend for all the block's transactions (checked out and pinged
    once); when it goes away between two of them, the transaction that meets the loss
    fails, and the next one runs on a new connection."""
    backend = text("SELECT pg_backend_pid()")
    with app.app_context(), one_connection():
        first = db.session.scalar(backend)
        db.session.commit()
        assert db.session.scalar(backend) == first
        db.session.commit()
        with psycopg.connect(TEST_DATABASE_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (first,))
        with pytest.raises(OperationalError):
            db.session.scalar(backend)
        db.session.rollback()
        replaced = db.session.scalar(backend)
        add_message("after the loss")
        db.session.commit()
    assert replaced != first
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.topic)) == "after the loss"
        db.engine.dispose()
    with warnings.catch_warnings():  # the killed connection, dropped without close()
        warnings.simplefilter("ignore", ResourceWarning)
        import gc

        gc.collect()
