"""return shipping: shipments, carrier events, the order's shipping address

A shipment (return label and tracking) per approved return, EasyPost's webhook events stored
once by id, and where the order went (the return label's sender).

Revision ID: 5b8d3f1e7a24
Revises: c7d2e91f4a05
Create Date: 2026-12-05 01:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '5b8d3f1e7a24'
down_revision = 'c7d2e91f4a05'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipping_address', JSON, nullable=True))
    op.create_table(
        'shipments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('return_id', sa.Integer(), nullable=False),
        sa.Column('provider', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=24), nullable=False),
        sa.Column('provider_shipment_id', sa.String(length=64), nullable=True),
        sa.Column('buy_started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('carrier', sa.String(length=64), nullable=True),
        sa.Column('service', sa.String(length=64), nullable=True),
        sa.Column('tracking_code', sa.String(length=64), nullable=True),
        sa.Column('tracker_id', sa.String(length=64), nullable=True),
        sa.Column('label_amount', sa.BigInteger(), nullable=True),
        sa.Column('label_currency', sa.String(length=3), nullable=True),
        sa.Column('label_key', sa.String(length=200), nullable=True),
        sa.Column('label_content_type', sa.String(length=64), nullable=True),
        sa.Column('label_url', sa.Text(), nullable=True),
        sa.Column('failure_code', sa.String(length=64), nullable=True),
        sa.Column('failure_message', sa.Text(), nullable=True),
        sa.Column('tracking_status', sa.String(length=32), nullable=True),
        sa.Column('est_delivery_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('first_scan_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_tracking_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('stalled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['return_id'], ['returns.id'],
                                name=op.f('fk_shipments_return_id_returns')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
        sa.UniqueConstraint('return_id', name=op.f('uq_shipments_return_id')),
        sa.UniqueConstraint('provider_shipment_id',
                            name=op.f('uq_shipments_provider_shipment_id')),
    )
    op.create_index('ix_shipments_status_est_delivery_at', 'shipments',
                    ['status', 'est_delivery_at'])
    op.create_index(op.f('ix_shipments_tracking_code'), 'shipments', ['tracking_code'])
    op.create_index(op.f('ix_shipments_tracker_id'), 'shipments', ['tracker_id'])
    op.create_table(
        'carrier_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.String(length=64), nullable=False),
        sa.Column('description', sa.String(length=64), nullable=False),
        sa.Column('payload', JSON, nullable=False),
        sa.Column('result', sa.String(length=64), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_events')),
        sa.UniqueConstraint('event_id', name=op.f('uq_carrier_events_event_id')),
    )


def downgrade():
    op.drop_table('carrier_events')
    op.drop_index(op.f('ix_shipments_tracker_id'), table_name='shipments')
    op.drop_index(op.f('ix_shipments_tracking_code'), table_name='shipments')
    op.drop_index('ix_shipments_status_est_delivery_at', table_name='shipments')
    op.drop_table('shipments')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('shipping_address')
