"""Assignments: credit_float32, whether answers right to float32 precision only are credited.

Revision ID: 0007_float32_credit
Revises: 0008
Create Date: 2026-11-30

Named 0007_float32_credit on request while 0007 (LTI) and 0008 (LTI launch data) already existed on
main; it revises the head of its day, 0008, and is re-chained at merge if other branches add more.
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_float32_credit"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("credit_float32", sa.Boolean, nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("credit_float32")
