"""LTI 1.3: platform registrations and the AGS claim of each launched learner and assignment.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "lti_registrations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("auth_login_url", sa.String(2000), nullable=False),
        sa.Column("auth_token_url", sa.String(2000), nullable=False),
        sa.Column("key_set_url", sa.String(2000), nullable=False),
        sa.Column("deployment_ids", sa.JSON, nullable=False),
        sa.Column("audience", sa.String(2000)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("issuer", "client_id", name="uq_lti_registration"),
    )
    op.create_table(
        "lti_links",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("learner", sa.String(200), nullable=False),
        sa.Column("assignment_id", sa.Integer, sa.ForeignKey("assignments.id"), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("user_sub", sa.String(500), nullable=False),
        sa.Column("lineitem_url", sa.String(2000)),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("learner", "assignment_id", name="uq_lti_link"),
    )


def downgrade():
    op.drop_table("lti_links")
    op.drop_table("lti_registrations")
