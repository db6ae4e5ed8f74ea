"""money columns hold 64-bit minor units

An order in a currency with many minor units per dollar (IDR, VND, KRW…) passes
2^31 - 1 minor units at a price ordinary stores charge; every amount column is BIGINT now.

Revision ID: 5d1e8a2c7b40
Revises: cbf7141a581f
Create Date: 2026-11-23 09:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5d1e8a2c7b40'
down_revision = 'cbf7141a581f'
branch_labels = None
depends_on = None

MONEY_COLUMNS = {
    'orders': ['shipping_total'],
    'order_lines': ['unit_price'],
    'refunds': ['amount'],
    'returns': ['refund_items_amount', 'restocking_fee_amount', 'refund_shipping_amount',
                'refund_amount'],
}


def _retype(old, new):
    for table, columns in MONEY_COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, existing_type=old, type_=new)


def upgrade():
    _retype(sa.Integer(), sa.BigInteger())


def downgrade():
    # Fails, and changes nothing, if an amount no longer fits in 32 bits.
    _retype(sa.BigInteger(), sa.Integer())
