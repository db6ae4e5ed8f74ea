"""every rating as it was given

The CSAT report counts, per return, the latest answer given within a period, so a rating
changed later no longer rewrites a period already reported.

Revision ID: 7cbdf1ddb506
Revises: 6fc37fab6759
Create Date: 2026-11-23 08:58:44.648303

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7cbdf1ddb506'
down_revision = '6fc37fab6759'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('nps', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['returns.id'], name=op.f('fk_feedback_answers_return_id_returns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_answers'))
    )
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_answers_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_answers_return_id'), ['return_id'], unique=False)
    # The answers given so far: each return's current one, as of when it was last given.
    op.execute("INSERT INTO feedback_answers (return_id, rating, nps, source, created_at) "
               "SELECT return_id, rating, nps, source, updated_at FROM feedback ORDER BY id")


def downgrade():
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_answers_return_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_answers_created_at'))

    op.drop_table('feedback_answers')
