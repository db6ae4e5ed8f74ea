"""amounts paid: tax and discounts on order lines, shipping tax, payments; split refunds

Order lines carry their discount and tax lines (with the tax added on top as a column, so
what was paid is summed in SQL); orders their shipping tax, order-level discounts and
payments. Returns keep the discount and tax their refund carried, per rate. Refund rows of
origin 'split' (parts paid back by credit or by hand) stand aside from the one live refund
per return; store credit gains the `refund_to_credit` entry. Existing rows: no discount,
no tax, one payment as before.

Revision ID: c3d9a7e51f20
Revises: 5b8d3f1e7a24
Create Date: 2026-12-05 01:20:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'c3d9a7e51f20'
down_revision = '5b8d3f1e7a24'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
OLD_LIVE = "status IN ('pending', 'requires_action', 'succeeded') AND origin != 'external'"
NEW_LIVE = ("status IN ('pending', 'requires_action', 'succeeded') "
            "AND origin NOT IN ('external', 'split')")
OLD_KINDS = ("'issue', 'bonus', 'reverse'", "'redeem', 'expire', 'refund_conversion'")
NEW_KINDS = ("'issue', 'bonus', 'reverse', 'refund_to_credit'",
             "'redeem', 'expire', 'refund_conversion'")


def _entry_checks(batch_op, kinds):
    credits, debits = kinds
    batch_op.create_check_constraint('kind', f"kind IN ({credits}, {debits})")
    batch_op.create_check_constraint(
        'amount_sign', f"(kind IN ({credits}) AND amount > 0) OR "
                       f"(kind IN ({debits}) AND amount < 0)")


def upgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount', sa.BigInteger(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('tax_lines', JSON, nullable=True))
        batch_op.add_column(sa.Column('tax_added', sa.BigInteger(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipping_tax', JSON, nullable=True))
        batch_op.add_column(sa.Column('discounts', JSON, nullable=True))
        batch_op.add_column(sa.Column('payments', JSON, nullable=True))
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refund_discount_amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('refund_tax_amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('refund_tax_added', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('refund_tax_by_rate', JSON, nullable=True))
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index('uq_refunds_one_live_per_return')
        batch_op.create_index('uq_refunds_one_live_per_return', ['return_id'], unique=True,
                              postgresql_where=sa.text(NEW_LIVE),
                              sqlite_where=sa.text(NEW_LIVE))
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
        batch_op.drop_constraint('amount_sign', type_='check')
        _entry_checks(batch_op, NEW_KINDS)


def downgrade():
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.drop_constraint('kind', type_='check')
        batch_op.drop_constraint('amount_sign', type_='check')
        _entry_checks(batch_op, OLD_KINDS)
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index('uq_refunds_one_live_per_return')
        batch_op.create_index('uq_refunds_one_live_per_return', ['return_id'], unique=True,
                              postgresql_where=sa.text(OLD_LIVE),
                              sqlite_where=sa.text(OLD_LIVE))
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_column('refund_tax_by_rate')
        batch_op.drop_column('refund_tax_added')
        batch_op.drop_column('refund_tax_amount')
        batch_op.drop_column('refund_discount_amount')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('payments')
        batch_op.drop_column('discounts')
        batch_op.drop_column('shipping_tax')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('tax_added')
        batch_op.drop_column('tax_lines')
        batch_op.drop_column('discount')
