"""round robin auto-assignment, agents' availability, API reply keys

Agents may be marked away (with an audit trail of who changed it); one cursor row remembers
whose turn it was; an agent's reply sent through the API keeps its Idempotency-Key.

Revision ID: 5b7e0c2d9a14
Revises: 0185a86bac5b
Create Date: 2026-12-05 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b7e0c2d9a14'
down_revision = '0185a86bac5b'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('conversation_messages',
                  sa.Column('request_key', sa.String(length=300), nullable=True))
    op.create_index('ix_conversation_messages_request_key', 'conversation_messages',
                    ['request_key'], unique=True)
    op.create_table(
        'agent_availability',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('away', sa.Boolean(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'agent_availability_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('away', sa.Boolean(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_label', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['actor_id'], ['staff_users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_agent_availability_changes_user_id', 'agent_availability_changes',
                    ['user_id'])
    op.create_table(
        'round_robin_cursor',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('last_user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['last_user_id'], ['staff_users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('round_robin_cursor')
    op.drop_index('ix_agent_availability_changes_user_id',
                  table_name='agent_availability_changes')
    op.drop_table('agent_availability_changes')
    op.drop_table('agent_availability')
    op.drop_index('ix_conversation_messages_request_key', table_name='conversation_messages')
    op.drop_column('conversation_messages', 'request_key')
