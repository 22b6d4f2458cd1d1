"""findings: a credential's masked form, keyed fingerprint and sealed value

Post text, excerpts and evidence keep credential spans masked from this revision on; the
clear value is kept only sealed (encrypted with the key ``[store] secret_key_env`` names) for
compliance's audited reveal. Rows written before it are masked here: a credentials finding's
spans mask its post's text, its evidence becomes the masked form, and the clear evidence is
masked wherever the flag's excerpt quotes it (nothing is sealed: there was no key then).

Revision ID: 0005_secret_masking
Revises: 0004_account_verification
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_secret_masking"
down_revision = "0004_account_verification"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("masked", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("fingerprint", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("sealed", sa.Text(), nullable=True))
        batch_op.create_index("ix_findings_fingerprint", ["fingerprint"])
    _mask_existing()


def _mask_existing() -> None:
    from monitor.masking import mask_spans, mask_value

    conn = op.get_bind()
    findings = sa.table("findings", sa.column("id", sa.Integer), sa.column("flag_id", sa.Integer),
                        sa.column("category", sa.String), sa.column("spans", sa.JSON),
                        sa.column("evidence", sa.Text), sa.column("masked", sa.Text))
    flags = sa.table("flags", sa.column("id", sa.Integer), sa.column("post_id", sa.Integer),
                     sa.column("excerpt", sa.Text))
    posts = sa.table("posts", sa.column("id", sa.Integer), sa.column("text", sa.Text))
    rows = conn.execute(
        sa.select(findings.c.id, findings.c.spans, findings.c.evidence, flags.c.id,
                  flags.c.excerpt, flags.c.post_id)
        .join(flags, flags.c.id == findings.c.flag_id)
        .where(findings.c.category == "credentials")
    ).all()
    for fid, spans, evidence, flag_id, excerpt, post_id in rows:
        pieces = [p for p in (evidence or "").split(" … ") if p]
        masked = " … ".join(mask_value(p) for p in pieces) or None
        conn.execute(findings.update().where(findings.c.id == fid)
                     .values(evidence=masked, masked=masked))
        if excerpt:
            for p in pieces:
                excerpt = excerpt.replace(p, mask_spans(p, [(0, len(p))]))
            conn.execute(flags.update().where(flags.c.id == flag_id).values(excerpt=excerpt))
        if post_id is not None and spans:
            text = conn.execute(sa.select(posts.c.text).where(posts.c.id == post_id)).scalar()
            if text:
                conn.execute(posts.update().where(posts.c.id == post_id).values(
                    text=mask_spans(text, [(int(a), int(b)) for a, b in spans])))


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_fingerprint")
        batch_op.drop_column("sealed")
        batch_op.drop_column("fingerprint")
        batch_op.drop_column("masked")
