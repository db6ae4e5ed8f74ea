"""brand_settings: the store's look as an admin set it (one row)

Revision ID: b7a1c2d3e4f5
Revises: 5b1e7d2c9a40
Create Date: 2026-12-05 03:50:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "b7a1c2d3e4f5"
down_revision = "5b1e7d2c9a40"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "brand_settings",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("store_name", sa.String(length=100), nullable=True),
        sa.Column("primary_color", sa.String(length=7), nullable=True),
        sa.Column("support_email", sa.String(length=254), nullable=True),
        sa.Column("support_phone", sa.String(length=40), nullable=True),
        sa.Column("terms_url", sa.String(length=500), nullable=True),
        sa.Column("privacy_url", sa.String(length=500), nullable=True),
        sa.Column("logo_key", sa.String(length=200), nullable=True),
        sa.Column("logo_type", sa.String(length=40), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_brand_settings_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brand_settings")),
    )


def downgrade():
    op.drop_table("brand_settings")
