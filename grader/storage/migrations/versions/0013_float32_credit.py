"""Assignments: credit_float32, whether answers right to float32 precision only are credited.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("credit_float32", sa.Boolean, nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("credit_float32")
