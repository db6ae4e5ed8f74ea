"""The database: the SQLAlchemy object every model and service uses, Alembic (Flask-Migrate),
created unbound here and bound to the app in create_app, the session long reads use (a
read replica when REPORTS_DATABASE_URL is set), and `one_connection` for work that commits
several times in a row (a job)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Connection, MetaData
from sqlalchemy.orm import DeclarativeBase, Session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_PINNED = "pinned_connection"


class PinnableSession(FlaskSession):
    """Flask-SQLAlchemy's session; inside `one_connection` its transactions on the default
    database all run on that block's connection."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None,
                 **kwargs: Any) -> Any:
        engine = super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
        pinned = self.info.get(_PINNED)
        return pinned if pinned is not None and engine is pinned.engine else engine


db = SQLAlchemy(model_class=Base, session_options={"class_": PinnableSession})
migrate = Migrate()

# The id columns are 32-bit integers: a larger number in a URL names no row (and asking
# PostgreSQL for it would be an error, not "not found").
MAX_ROW_ID = 2**31 - 1


def is_row_id(number: int) -> bool:
    """Whether `number` can be the id of a row."""
    return 0 < number <= MAX_ROW_ID


# The Flask-SQLAlchemy bind of the read replica (REPORTS_DATABASE_URL).
REPORTS_BIND = "reports"


@contextmanager
def reading_session() -> Iterator[Session]:
    """A session for reads that may lag (reports): on the replica when one is configured,
    else the request's own session. It never writes; a replica session is closed after."""
    engine = db.engines.get(REPORTS_BIND)
    if engine is None:
        yield db.session()
        return
    with Session(engine) as session:
        yield session


@contextmanager
def one_connection() -> Iterator[Connection]:
    """Every transaction of `db.session` in this block on one connection, taken from the
    pool (and checked, see db.liveness) once. A job commits after each step (a claim, an
    email sent, a message done): without this, each commit hands the connection back and
    the next step takes one again, a round trip and about a statement's work each time.

    The session must have no transaction open on entry; on the way out whatever it left
    uncommitted is rolled back, as the end of an app context would."""
    session = db.session()
    if session.in_transaction():
        raise RuntimeError("one_connection: the session already has a transaction open")
    with db.engine.connect() as connection:
        session.info[_PINNED] = connection
        try:
            yield connection
        finally:
            session.info.pop(_PINNED, None)
            session.close()
