"""store credit ledger

Credit codes (one per return at most, by a unique column) and their append-only entries;
a code's balance is the sum of its entries. Signs are checked by the database; an
idempotency key is unique per code and kind; a redemption is reversed at most once.

Revision ID: a26e129eb56b
Revises: a41d7e2c9b63
Create Date: 2026-12-05 00:36:46.984649

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a26e129eb56b'
down_revision = 'a41d7e2c9b63'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('credit_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('source_return_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['source_return_id'], ['returns.id'], name=op.f('fk_credit_codes_source_return_id_returns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_codes')),
    sa.UniqueConstraint('code', name=op.f('uq_credit_codes_code')),
    sa.UniqueConstraint('source_return_id', name=op.f('uq_credit_codes_source_return_id'))
    )
    with op.batch_alter_table('credit_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_codes_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_codes_expires_at'), ['expires_at'], unique=False)

    op.create_table('credit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('order_reference', sa.String(length=255), nullable=True),
    sa.Column('reverses_entry_id', sa.Integer(), nullable=True),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=255), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind IN ('issue', 'bonus', 'reverse') AND amount > 0) OR (kind IN ('redeem', 'expire', 'refund_conversion') AND amount < 0)", name=op.f('ck_credit_entries_amount_sign')),
    sa.CheckConstraint("kind IN ('issue', 'bonus', 'reverse', 'redeem', 'expire', 'refund_conversion')", name=op.f('ck_credit_entries_kind')),
    sa.ForeignKeyConstraint(['code_id'], ['credit_codes.id'], name=op.f('fk_credit_entries_code_id_credit_codes')),
    sa.ForeignKeyConstraint(['reverses_entry_id'], ['credit_entries.id'], name=op.f('fk_credit_entries_reverses_entry_id_credit_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_entries')),
    sa.UniqueConstraint('code_id', 'kind', 'idempotency_key', name='uq_credit_entries_code_id_kind_idempotency_key'),
    sa.UniqueConstraint('reverses_entry_id', name=op.f('uq_credit_entries_reverses_entry_id'))
    )


def downgrade():
    op.drop_table('credit_entries')
    with op.batch_alter_table('credit_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_codes_expires_at'))
        batch_op.drop_index(batch_op.f('ix_credit_codes_email'))

    op.drop_table('credit_codes')
