"""photos: customers' photos of returned items

Revision ID: b7e4f2a9c3d1
Revises: 49915cd4c203
Create Date: 2026-12-05 03:50:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b7e4f2a9c3d1'
down_revision = '49915cd4c203'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('return_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('draft_key', sa.String(length=64), nullable=True),
    sa.Column('sku', sa.String(length=100), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=True),
    sa.Column('return_item_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['returns.id'], name=op.f('fk_return_photos_return_id_returns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['return_item_id'], ['return_items.id'], name=op.f('fk_return_photos_return_item_id_return_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_photos')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_return_photos_storage_key'))
    )
    with op.batch_alter_table('return_photos', schema=None) as batch_op:
        batch_op.create_index('ix_return_photos_draft_key', ['draft_key'], unique=False)
        batch_op.create_index('ix_return_photos_return_id', ['return_id'], unique=False)


def downgrade():
    with op.batch_alter_table('return_photos', schema=None) as batch_op:
        batch_op.drop_index('ix_return_photos_return_id')
        batch_op.drop_index('ix_return_photos_draft_key')
    op.drop_table('return_photos')
