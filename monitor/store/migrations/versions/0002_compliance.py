"""flag-log paging indexes for the compliance dashboard

Revision ID: 0002_compliance
Revises: 0001
"""

from alembic import op


revision = "0002_compliance"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.create_index("ix_flags_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_flags_team_created_at", ["team", "created_at"], unique=False)
        batch_op.create_index(
            "ix_flags_person_id_created_at", ["person_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_index("ix_flags_person_id_created_at")
        batch_op.drop_index("ix_flags_team_created_at")
        batch_op.drop_index("ix_flags_created_at_id")
