"""resolutions: store credit choice, keep-the-item, agent adjustments

Returns record how the customer is made whole (refund or store credit), whether the items
are kept, the net of agents' adjustments and the credit's bonus; each adjustment is its own
row. Existing returns are refunds, shipped back, unadjusted.

Revision ID: 5b8e2f4c1d07
Revises: a26e129eb56b
Create Date: 2026-12-05 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b8e2f4c1d07'
down_revision = 'a26e129eb56b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution', sa.String(length=16), nullable=False,
                                      server_default='refund'))
        batch_op.add_column(sa.Column('keep_item', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('adjustment_amount', sa.BigInteger(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('credit_bonus_amount', sa.BigInteger(), nullable=True))
    op.create_table(
        'return_adjustments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('return_id', sa.Integer(), nullable=False),
        sa.Column('amount', sa.BigInteger(), nullable=False),
        sa.Column('reason', sa.String(length=64), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('actor_type', sa.String(length=16), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_label', sa.String(length=254), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['return_id'], ['returns.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('return_adjustments', schema=None) as batch_op:
        batch_op.create_index('ix_return_adjustments_return_id', ['return_id'], unique=False)


def downgrade():
    op.drop_table('return_adjustments')
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_column('credit_bonus_amount')
        batch_op.drop_column('adjustment_amount')
        batch_op.drop_column('keep_item')
        batch_op.drop_column('resolution')
