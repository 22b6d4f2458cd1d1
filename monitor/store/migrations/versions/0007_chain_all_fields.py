"""audit chain: a flag's recorded state covers every field; server-side sessions; sign-in throttle

From this revision on, every entry about a flag change records hashes of who the flag is about
(person, account, team), its fields, every field of its findings, its excerpt, its findings'
evidence and its post's text, so ``log verify`` names a flag moved to another person, a
rewritten text or a deleted finding. This migration re-chains an existing log: it checks the
log as it stands, then appends one ``flag.rechained`` entry per flag with the full state
(never for a flag that already failed the check, so nothing tampered is blessed) and one
``audit.rechained`` entry saying what it did and whether the log verified before. Earlier
entries are kept as they are.

It also adds ``web_sessions`` (a sign-out ends the session on the server) and
``sign_in_throttle`` (failed sign-ins per account and per address).

Revision ID: 0007_chain_all_fields
Revises: 0006_draft_checks
"""

import sqlalchemy as sa
from sqlalchemy.orm import Session

import monitor.store.schema
from alembic import op

revision = "0007_chain_all_fields"
down_revision = "0006_draft_checks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", monitor.store.schema.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", monitor.store.schema.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_web_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", monitor.store.schema.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("locked_until", monitor.store.schema.UTCDateTime(timezone=True),
                  nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    rechain(op.get_bind())


def rechain(conn: sa.engine.Connection) -> None:
    """Append the full state of every flag to the chain (see the module docstring)."""
    from monitor.store.audit import current_states, lock_chain, record, verify

    with Session(bind=conn) as session:
        if session.scalar(sa.text("SELECT count(*) FROM audit_events")) == 0:
            return  # a new database: nothing to re-chain, nothing to say
        lock_chain(session)
        before = verify(session)
        tampered = sorted({p.id for p in before.problems if p.kind == "flag"})
        flag_ids = list(session.scalars(sa.text("SELECT id FROM flags ORDER BY id")))
        done = 0
        todo = [int(f) for f in flag_ids if f not in tampered]
        for i in range(0, len(todo), 500):  # states in bulk; record() keeps a given state
            states = current_states(session, todo[i : i + 500])
            for fid, state in states.items():
                record(session, "migration", "flag.rechained", "flag", fid,
                       {"revision": revision, "flag_state": state.parts})
                done += 1
        first = before.first_broken
        record(session, "migration", "audit.rechained", None, None, {
            "revision": revision, "flags": done, "entries_before": before.entries,
            "verified_before": before.ok,
            "first_problem_before": str(first) if first else None,
            "not_rechained": tampered[:1000],
        })
        session.flush()


def downgrade() -> None:
    # The entries appended by the upgrade stay: the chain is append-only.
    op.drop_table("sign_in_throttle")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
