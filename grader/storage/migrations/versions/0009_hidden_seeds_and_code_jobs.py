"""Hidden instances drawn fresh per code submission (stored for replay), and one in-flight code job
per learner.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("hidden_seeds", sa.JSON))
    op.create_table(
        "code_jobs",
        sa.Column("learner", sa.String(200), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),  # epoch seconds: compared the same on every backend
    )


def downgrade():
    op.drop_table("code_jobs")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("hidden_seeds")
