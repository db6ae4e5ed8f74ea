"""agents' workspace: conversations, internal notes, work states, macros

Each return gets a customer conversation (messages on email, SMS or the status page), staff
internal notes kept in a table of their own, an assignee and a "waiting on" state, the
admins' canned responses, and SMS (opted-in phones, messages sent through Twilio).

Revision ID: c7d2e91f4a05
Revises: e19ba6c78ae6
Create Date: 2026-12-05 00:45:00.000000

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'c7d2e91f4a05'
down_revision = 'e19ba6c78ae6'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'conversation_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('return_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('author_type', sa.String(length=16), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('author_label', sa.String(length=254), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('attachments', JSON, nullable=True),
        sa.Column('external_id', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['return_id'], ['returns.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['staff_users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('external_id'),
    )
    op.create_index('ix_conversation_messages_return_id_id', 'conversation_messages',
                    ['return_id', 'id'])
    op.create_index('ix_conversation_messages_direction_created_at', 'conversation_messages',
                    ['direction', 'created_at'])
    op.create_table(
        'internal_notes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('return_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('author_label', sa.String(length=254), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('mentions', JSON, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['return_id'], ['returns.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['staff_users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_internal_notes_return_id_id', 'internal_notes', ['return_id', 'id'])
    op.create_table(
        'return_work_states',
        sa.Column('return_id', sa.Integer(), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('waiting_on', sa.String(length=16), nullable=True),
        sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['return_id'], ['returns.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['assignee_id'], ['staff_users.id']),
        sa.PrimaryKeyConstraint('return_id'),
    )
    op.create_index('ix_return_work_states_assignee_id', 'return_work_states', ['assignee_id'])
    op.create_index('ix_return_work_states_waiting_on_since', 'return_work_states',
                    ['waiting_on', 'waiting_since'])
    op.create_table(
        'macros',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'sms_phones',
        sa.Column('return_id', sa.Integer(), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['return_id'], ['returns.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('return_id'),
    )
    op.create_index('ix_sms_phones_phone', 'sms_phones', ['phone'])
    op.create_table(
        'sms_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('return_id', sa.Integer(), nullable=False),
        sa.Column('dedupe_key', sa.String(length=200), nullable=False),
        sa.Column('to_phone', sa.String(length=20), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('provider_sid', sa.String(length=64), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['return_id'], ['returns.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedupe_key'),
        sa.UniqueConstraint('provider_sid'),
    )
    op.create_index('ix_sms_messages_return_id', 'sms_messages', ['return_id'])


def downgrade():
    op.drop_index('ix_sms_messages_return_id', table_name='sms_messages')
    op.drop_table('sms_messages')
    op.drop_index('ix_sms_phones_phone', table_name='sms_phones')
    op.drop_table('sms_phones')
    op.drop_table('macros')
    op.drop_index('ix_return_work_states_waiting_on_since', table_name='return_work_states')
    op.drop_index('ix_return_work_states_assignee_id', table_name='return_work_states')
    op.drop_table('return_work_states')
    op.drop_index('ix_internal_notes_return_id_id', table_name='internal_notes')
    op.drop_table('internal_notes')
    op.drop_index('ix_conversation_messages_direction_created_at',
                  table_name='conversation_messages')
    op.drop_index('ix_conversation_messages_return_id_id', table_name='conversation_messages')
    op.drop_table('conversation_messages')
