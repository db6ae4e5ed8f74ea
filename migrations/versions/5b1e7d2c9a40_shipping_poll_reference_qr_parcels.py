"""shipping: when the label was bought (label spend per week), tracker polling, creation mark (found by reference), QR-code labels, per-line parcel
weight and size

Revision ID: 5b1e7d2c9a40
Revises: 9e41c7a3b2d8
Create Date: 2026-12-05 03:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5b1e7d2c9a40'
down_revision = "9e41c7a3b2d8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('create_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('polled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('label_bought_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('qr_code_url', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('qr_code_key', sa.String(length=200), nullable=True))
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weight_oz', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('length_in', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('width_in', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height_in', sa.Integer(), nullable=True))
    with op.batch_alter_table('product_variants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weight_oz', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('length_in', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('width_in', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height_in', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('product_variants', schema=None) as batch_op:
        batch_op.drop_column('height_in')
        batch_op.drop_column('width_in')
        batch_op.drop_column('length_in')
        batch_op.drop_column('weight_oz')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('height_in')
        batch_op.drop_column('width_in')
        batch_op.drop_column('length_in')
        batch_op.drop_column('weight_oz')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_column('qr_code_key')
        batch_op.drop_column('qr_code_url')
        batch_op.drop_column('polled_at')
        batch_op.drop_column('label_bought_at')
        batch_op.drop_column('create_started_at')
