"""locale on orders and returns

The customer's language: the store may name it when it imports an order; the return keeps
the language the customer used when asking for it, so its emails speak it. Both optional.

Revision ID: 7c3d9a1e5f20
Revises: c3d9a7e51f20
Create Date: 2026-12-05 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3d9a1e5f20'
down_revision = 'c3d9a7e51f20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=True))
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_column('locale')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('locale')
