"""SQLAlchemy 2 tables: the store is the only state the parts of socialguide share.

Portable on purpose (SQLite and PostgreSQL): JSON columns, timezone-aware timestamps
stored as UTC, no SQLite-only constructs. Alembic migrations in ``migrations/`` create
exactly these tables; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from monitor.domain import utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PersonRow(Base):
    """An employee (and, through ``manager_id``, the org chart)."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    slack_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    manager: Mapped[PersonRow | None] = relationship(remote_side=[id])
    accounts: Mapped[list[AccountRow]] = relationship(back_populates="owner")


class AccountRow(Base):
    """A public account on one platform that its owner opted in."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "handle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    handle: Mapped[str] = mapped_column(String(512))
    # Cached platform user id (X bills user lookups; Mastodon needs the numeric id).
    platform_user_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Last per-account collection error, shown to the employee and in the cycle report.
    last_error: Mapped[str | None] = mapped_column(Text)
    last_collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Proof that the owner controls the account; nothing is collected before it.
    # Method: "profile_code" (a code in the public profile) or "hr_import" (an operator).
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verification_method: Mapped[str | None] = mapped_column(String(32))
    # SHA-256 of the pending code (salted with the account id), never the code itself.
    verification_code_hash: Mapped[str | None] = mapped_column(String(64))

    owner: Mapped[PersonRow] = relationship(back_populates="accounts")
    consents: Mapped[list[ConsentRow]] = relationship(back_populates="account")


class ConsentRow(Base):
    """The recorded opt-in for an account; withdrawing sets ``withdrawn_at``, never deletes."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    policy_version: Mapped[str] = mapped_column(String(64))
    notice_hash: Mapped[str] = mapped_column(String(64))
    # Where the consent was gathered: "slack", or an HR form reference from an import.
    reference: Mapped[str | None] = mapped_column(String(256))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[AccountRow] = relationship(back_populates="consents")


class CursorRow(Base):
    """Per-account collection state, kept here (not in the scheduler's job store)."""

    __tablename__ = "cursors"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    since_id: Mapped[str | None] = mapped_column(String(256))
    newest_id: Mapped[str | None] = mapped_column(String(256))
    last_uri: Mapped[str | None] = mapped_column(String(1024))
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Row lease so that several workers never collect the same account at once.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The holding process (host, PID namespace, PID, start time): see store/leases.py.
    lease_process: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class PostRow(Base):
    """A collected public post; ``text`` is erased (NULL) on opt-out or retention purge."""

    __tablename__ = "posts"
    __table_args__ = (UniqueConstraint("platform", "post_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    # Unbounded: PostgreSQL enforces VARCHAR lengths (SQLite never does), and feed ids, links
    # and display names from the platforms have no length we could rely on.
    post_id: Mapped[str] = mapped_column(Text().with_variant(String(512), "sqlite"))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    author: Mapped[str | None] = mapped_column(Text().with_variant(String(512), "sqlite"))
    text: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text().with_variant(String(2048), "sqlite"))
    # SHA-256 of the text: an edit changes it, and the post is analysed again.
    content_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the pipeline could not analyse this post (it is not retried until it changes).
    analysis_error: Mapped[str | None] = mapped_column(String(500))


class FlagRow(Base):
    """One entry of the flag log: a post that likely conflicts with the policy."""

    __tablename__ = "flags"
    __table_args__ = (
        Index("ix_flags_status_created_at", "status", "created_at"),
        Index("ix_flags_category_created_at", "category", "created_at"),
        # Keyset paging of the flag log (newest first) on the dashboard.
        Index("ix_flags_created_at_id", "created_at", "id"),
        Index("ix_flags_team_created_at", "team", "created_at"),
        Index("ix_flags_person_id_created_at", "person_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    platform: Mapped[str] = mapped_column(String(32), index=True)
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    # The most severe finding's category and severity, for filtering and reports.
    category: Mapped[str] = mapped_column(String(32))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    severity: Mapped[str] = mapped_column(String(16), index=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="open")
    # Why it ended: "self_resolved", "manager_resolved", "removed_by_author", "reviewer", ...
    resolution: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    # Quoted evidence (erased with the post's text).
    excerpt: Mapped[str | None] = mapped_column(Text)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="flag", cascade="all, delete-orphan", order_by="FindingRow.id"
    )


class FindingRow(Base):
    """The evidence behind a flag: which rule or model, where, and the guidance it carries."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    spans: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    guidance: Mapped[str] = mapped_column(Text, default="")
    policy_section: Mapped[str | None] = mapped_column(String(200))
    shadow: Mapped[bool] = mapped_column(Boolean, default=False)
    explanation: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[str | None] = mapped_column(String(128))
    # The matched text (erased on opt-out); a credential's is its masked form.
    evidence: Mapped[str | None] = mapped_column(Text)
    # Credentials only: the display form (``AKIA…B3TD``), a keyed hash for dedupe and "already
    # told", and the clear value encrypted for compliance's audited reveal (None without a key).
    masked: Mapped[str | None] = mapped_column(Text)
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    sealed: Mapped[str | None] = mapped_column(Text)

    flag: Mapped[FlagRow] = relationship(back_populates="findings")


class NudgeRow(Base):
    """The transactional outbox: written with its flag, delivered by a job, never twice."""

    __tablename__ = "nudges"
    __table_args__ = (Index("ix_nudges_status_not_before", "status", "not_before"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag_id: Mapped[int | None] = mapped_column(
        ForeignKey("flags.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    recipient_email: Mapped[str | None] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(32), default="slack")  # slack | console
    role: Mapped[str] = mapped_column(String(32))  # author | manager | compliance | security
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    blocks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    external_ref: Mapped[str | None] = mapped_column(String(200))
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FeedbackRow(Base):
    """A verdict on a flag from its author, a manager or a reviewer: a label for training."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag_id: Mapped[int] = mapped_column(ForeignKey("flags.id", ondelete="CASCADE"), index=True)
    # Which finding (rule or model) the verdict is about; NULL means the whole flag.
    source: Mapped[str | None] = mapped_column(String(200), index=True)
    category: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))  # author | manager | reviewer
    actor: Mapped[str | None] = mapped_column(String(320))
    verdict: Mapped[str] = mapped_column(String(32))  # confirmed | not_a_concern | handled
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEventRow(Base):
    """Append-only audit trail; each entry's hash covers the previous one (a hash chain)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(32))
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class UserRow(Base):
    """A dashboard user: compliance, manager, employee or auditor."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CycleRow(Base):
    """One collection cycle per platform: what was read, skipped and why (the cycle report)."""

    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), index=True)
    worker: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApiTokenRow(Base):
    """An integration's token for ``POST /api/v1/check``: only its SHA-256 is kept.

    The token is random (256 bits), so a fast hash is enough to make the stored value useless
    to a reader of the database; revoking sets ``revoked_at`` and takes effect on the next
    request, since every request looks the hash up.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so an operator can tell tokens apart in `tokens list`.
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DraftCheckCountRow(Base):
    """How many checked drafts had a finding of each category in a week: no text, no person.

    This is everything a draft check leaves behind. ``category`` ``"*"`` counts every checked
    draft, with or without findings.
    """

    __tablename__ = "draft_check_counts"

    week: Mapped[str] = mapped_column(String(10), primary_key=True)  # ISO date of the Monday
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    drafts: Mapped[int] = mapped_column(Integer, default=0)


class WebSessionRow(Base):
    """A dashboard sign-in: the cookie names it, and signing out ends it here for good."""

    __tablename__ = "web_sessions"

    # SHA-256 of the random session id the signed cookie carries (a database reader can't
    # replay it).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInThrottleRow(Base):
    """Failed sign-ins per account (``user:NAME``) or address (``addr:IP``) in the window."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
