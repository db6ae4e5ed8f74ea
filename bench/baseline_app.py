"""The baseline: a bare Flask + SQLAlchemy app doing one INSERT (and commit) per request.

Served by gunicorn exactly like the service, on the same database server, so the ratio
service/baseline says what the service's own work costs.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Row(Base):
    __tablename__ = "bench_baseline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payload: Mapped[str] = mapped_column(String(500))


def create_app() -> Flask:
    url = os.environ["DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    Base.metadata.create_all(engine)
    app = Flask(__name__)

    @app.post("/insert")
    def insert() -> Any:
        body = request.get_json(silent=True) or {}
        with Session(engine) as session:
            row = Row(payload=str(body)[:500])
            session.add(row)
            session.commit()
            return jsonify(id=row.id), 201

    return app


app = create_app()
