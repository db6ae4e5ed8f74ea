"""outbox messages carry the request id

Each message keeps the id of the web request whose change wrote it, so the job's log lines
name that request, however the job is batched or re-sent. Messages from before have none.

Revision ID: a41d7e2c9b63
Revises: 3c9e5b7d2a10
Create Date: 2026-12-04 23:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a41d7e2c9b63'
down_revision = '3c9e5b7d2a10'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=128), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('request_id')
