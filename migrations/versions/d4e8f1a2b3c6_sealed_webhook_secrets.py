"""webhook_endpoints: signing secrets sealed (common.sealed) instead of stored readable

Revision ID: d4e8f1a2b3c6
Revises: b7a1c2d3e4f5
Create Date: 2026-12-05 13:00:00.000000

"""
import base64

from alembic import op
import sqlalchemy as sa
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

# revision identifiers, used by Alembic.
revision = "d4e8f1a2b3c6"
down_revision = "b7a1c2d3e4f5"
branch_labels = None
depends_on = None

_ENDPOINTS = sa.table("webhook_endpoints", sa.column("id", sa.Integer),
                      sa.column("secret", sa.String), sa.column("previous_secret", sa.String),
                      sa.column("sealed_secret", sa.Text),
                      sa.column("sealed_previous_secret", sa.Text))


def _keys() -> MultiFernet:
    """The keys as `returns_service.common.sealed` builds them at this revision, written out
    here so the migration never changes with the application's code: ENCRYPTION_KEYS (the
    first seals), then the key derived from SECRET_KEY."""
    config = current_app.config
    listed = [Fernet(key.strip()) for key in str(config.get("ENCRYPTION_KEYS") or "").split(",")
              if key.strip()]
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"returns-service: sealed secrets").derive(str(config["SECRET_KEY"]).encode())
    return MultiFernet([*listed, Fernet(base64.urlsafe_b64encode(derived))])


def seal(plaintext: str) -> str:
    return _keys().encrypt(plaintext.encode()).decode()


def unseal(token: str) -> str:
    return _keys().decrypt(token.encode()).decode()


def _copy(source: tuple[str, str], target: tuple[str, str], change) -> None:
    """Each endpoint's two secrets from the `source` columns into the `target` ones."""
    connection = op.get_bind()
    columns = [_ENDPOINTS.c[name] for name in source]
    for endpoint_id, current, previous in connection.execute(
            sa.select(_ENDPOINTS.c.id, *columns)).all():
        connection.execute(_ENDPOINTS.update().where(_ENDPOINTS.c.id == endpoint_id).values({
            target[0]: change(current), target[1]: change(previous) if previous else None}))


def upgrade():
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("sealed_secret", sa.Text(), nullable=True))
        batch.add_column(sa.Column("sealed_previous_secret", sa.Text(), nullable=True))
    _copy(("secret", "previous_secret"), ("sealed_secret", "sealed_previous_secret"), seal)
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column("sealed_secret", existing_type=sa.Text(), nullable=False)
        batch.drop_column("secret")
        batch.drop_column("previous_secret")


def downgrade():
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("secret", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("previous_secret", sa.String(length=100), nullable=True))
    _copy(("sealed_secret", "sealed_previous_secret"), ("secret", "previous_secret"), unseal)
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.alter_column("secret", existing_type=sa.String(length=100), nullable=False)
        batch.drop_column("sealed_secret")
        batch.drop_column("sealed_previous_secret")
