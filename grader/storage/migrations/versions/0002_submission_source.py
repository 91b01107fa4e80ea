"""Keep the source of code submissions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("source", sa.Text))


def downgrade():
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("source")
