"""instant exchanges: the saved card, the charge due date, the charge for a missing item

Revision ID: 9e41c7a3b2d8
Revises: b7e4f2a9c3d1
Create Date: 2026-12-05 03:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '9e41c7a3b2d8'
down_revision = 'b7e4f2a9c3d1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instant', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('card_session_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('card_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('stripe_customer', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('payment_method', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('card_saved_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('charge_due_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('original_received_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('charge_payment_intent', sa.String(length=255),
                                      nullable=True))
        batch_op.add_column(sa.Column('charge_error', sa.Text(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_exchanges_card_session_id'),
                                          ['card_session_id'])
        batch_op.create_index(batch_op.f('ix_exchanges_charge_due_at'), ['charge_due_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('exchanges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exchanges_charge_due_at'))
        batch_op.drop_constraint(batch_op.f('uq_exchanges_card_session_id'), type_='unique')
        for column in ('charge_error', 'charge_payment_intent', 'original_received_at',
                       'charge_due_at', 'card_saved_at', 'payment_method', 'stripe_customer',
                       'card_url', 'card_session_id', 'instant'):
            batch_op.drop_column(column)
