"""one return per form sent

Revision ID: 6fc37fab6759
Revises: 5d1e8a2c7b40
Create Date: 2026-11-23 08:37:45.412749

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6fc37fab6759'
down_revision = '5d1e8a2c7b40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_returns_order_request_key', ['order_id', 'request_key'])



def downgrade():
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_constraint('uq_returns_order_request_key', type_='unique')
        batch_op.drop_column('request_key')

