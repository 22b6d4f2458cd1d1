"""cursors.lease_process and posts.analysis_error: leases a dead holder cannot keep

``lease_process`` names the process holding an account's lease (host, PID namespace, PID and
start time), so a worker on the same host takes over at once when that process is gone; other
hosts wait for the short, heartbeat-renewed ``lease_until``. ``analysis_error`` records why a
post could not be analysed, so it costs only its own result and is not retried every cycle.
Leases taken before this revision are cleared: they were hour-long and named no process.

Revision ID: 0009_lease_heartbeat
Revises: 0006_draft_checks
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_lease_heartbeat"
down_revision = "0007_chain_all_fields"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cursors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_process", sa.String(255), nullable=True))
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("analysis_error", sa.String(500), nullable=True))
    cursors = sa.table("cursors", sa.column("lease_owner", sa.String(128)),
                       sa.column("lease_until", sa.DateTime(timezone=True)))
    op.execute(cursors.update().values(lease_owner=None, lease_until=None))


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("analysis_error")
    with op.batch_alter_table("cursors", schema=None) as batch_op:
        batch_op.drop_column("lease_process")
