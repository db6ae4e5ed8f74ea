"""staff sessions end on sign-out and password change

Revision ID: 1f6ac623eeee
Revises: 7cbdf1ddb506
Create Date: 2026-11-23 09:10:01.235296

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1f6ac623eeee'
down_revision = '7cbdf1ddb506'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False,
                                      server_default='1'))



def downgrade():
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_version')

