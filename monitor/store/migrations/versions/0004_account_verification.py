"""accounts: proof of ownership (verified_at, verification_method, verification_code_hash)

Accounts recorded before this revision by an operator (an HR-form reference) count as
verified by that import; those connected in Slack stay unverified until their owner puts a
code in the public profile, so nobody keeps collecting a handle they never proved is theirs.

Revision ID: 0004_account_verification
Revises: 0002_compliance, 0003_posts_text
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_account_verification"
down_revision = ("0002_compliance", "0003_posts_text")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("verification_method", sa.String(32), nullable=True))
        batch_op.add_column(sa.Column("verification_code_hash", sa.String(64), nullable=True))
    accounts = sa.table("accounts", sa.column("id", sa.Integer),
                        sa.column("created_at", sa.DateTime(timezone=True)),
                        sa.column("verified_at", sa.DateTime(timezone=True)),
                        sa.column("verification_method", sa.String(32)))
    consents = sa.table("consents", sa.column("account_id", sa.Integer),
                        sa.column("reference", sa.String(256)))
    from_slack = sa.select(consents.c.account_id).where(consents.c.reference.like("slack:%"))
    op.execute(accounts.update()
               .where(accounts.c.id.not_in(from_slack))
               .values(verified_at=accounts.c.created_at, verification_method="hr_import"))


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("verification_code_hash")
        batch_op.drop_column("verification_method")
        batch_op.drop_column("verified_at")
