"""draft checks: integration tokens for POST /api/v1/check and the weekly per-category counter

A checked draft leaves nothing but one increment per category in ``draft_check_counts``.

Revision ID: 0006_draft_checks
Revises: 0004_account_verification
"""

import sqlalchemy as sa

import monitor.store.schema
from alembic import op

revision = "0006_draft_checks"
down_revision = "0005_secret_masking"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("created_at", monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "draft_check_counts",
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("drafts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("week", "category", name=op.f("pk_draft_check_counts")),
    )


def downgrade() -> None:
    op.drop_table("draft_check_counts")
    op.drop_table("api_tokens")
