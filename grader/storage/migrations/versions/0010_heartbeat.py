"""A heartbeat row that /health writes, so a full disk or a read-only database shows as failing.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "heartbeats",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.Float, nullable=False),  # epoch seconds of the last health check
    )


def downgrade():
    op.drop_table("heartbeats")
