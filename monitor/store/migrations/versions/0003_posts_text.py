"""posts: unbounded post id, author and url on PostgreSQL, which enforces VARCHAR lengths

SQLite never enforces a VARCHAR length, so it keeps its columns: rebuilding ``posts`` there
would fire ``flags.post_id``'s ON DELETE SET NULL and cut every flag from its post.

Revision ID: 0003_posts_text
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_posts_text"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = {"post_id": 512, "author": 512, "url": 2048}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, length in COLUMNS.items():
        op.alter_column("posts", name, existing_type=sa.String(length), type_=sa.Text(),
                        existing_nullable=name != "post_id")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, length in COLUMNS.items():
        op.alter_column("posts", name, existing_type=sa.Text(), type_=sa.String(length),
                        existing_nullable=name != "post_id")
