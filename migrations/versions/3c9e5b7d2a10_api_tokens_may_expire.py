"""api tokens may expire

A token may carry an expiry (`flask tokens create EMAIL --expires-in-days N`); tokens made
before have none and keep working until revoked.

Revision ID: 3c9e5b7d2a10
Revises: 8144a484b90b
Create Date: 2026-12-04 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c9e5b7d2a10'
down_revision = '8144a484b90b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
