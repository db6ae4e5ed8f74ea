"""The database: the SQLAlchemy object every model and service uses, Alembic (Flask-Migrate),
created unbound here and bound to the app in create_app, and the session long reads use (a
read replica when REPORTS_DATABASE_URL is set)."""

from collections.abc import Iterator
from contextlib import contextmanager

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
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


db = SQLAlchemy(model_class=Base)
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
