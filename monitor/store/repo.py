"""Queries and writes the other parts share, so each rule (like consent-only) lives once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from monitor.domain import (
    SEVERITY_ORDER,
    AccountRef,
    Cursor,
    Finding,
    Flag,
    FlagStatus,
    Post,
    utcnow,
)
from monitor.errors import InputError, NotFoundError
from monitor.masking import SecretKeeping, credential_spans, mask_spans, mask_value
from monitor.store import audit
from monitor.store.schema import (
    AccountRow,
    ConsentRow,
    CursorRow,
    FindingRow,
    FlagRow,
    PersonRow,
    PostRow,
)

SYSTEM = "system"


def text_hash(text: str) -> str:
    """SHA-256 of a text; what the store keeps when it must not keep the text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --- people -------------------------------------------------------------------------------


def person_by_email(session: Session, email: str) -> PersonRow | None:
    return session.scalar(select(PersonRow).where(PersonRow.email == email.strip().lower()))


def require_person(session: Session, email: str) -> PersonRow:
    person = person_by_email(session, email)
    if person is None:
        raise NotFoundError(f"no person with email {email!r}; import people first")
    return person


def team_member_ids(session: Session, manager_id: int) -> set[int]:
    """Everyone who reports to ``manager_id``, directly or through other managers."""
    found: set[int] = set()
    frontier = {manager_id}
    while frontier:
        rows = session.scalars(
            select(PersonRow.id).where(PersonRow.manager_id.in_(frontier))
        ).all()
        frontier = {r for r in rows if r not in found and r != manager_id}
        found |= frontier
    return found


# --- accounts and consent -----------------------------------------------------------------


def active_consent(session: Session, account_id: int) -> ConsentRow | None:
    return session.scalar(
        select(ConsentRow)
        .where(ConsentRow.account_id == account_id, ConsentRow.withdrawn_at.is_(None))
        .order_by(ConsentRow.given_at.desc())
        .limit(1)
    )


def add_account_with_consent(
    session: Session,
    owner: PersonRow,
    platform: str,
    handle: str,
    policy_version: str,
    notice_hash: str,
    reference: str | None,
    actor: str,
    *,
    verified_by: str | None = "hr_import",
) -> tuple[AccountRow, bool]:
    """Create (or re-consent) an account for its owner; returns (account, created_consent).

    An account already owned by someone else is refused: nobody opts in another's account.
    ``verified_by`` names how ownership was proven: an operator's HR-form import vouches
    for it ("hr_import"); Slack passes None and the owner proves it with a profile code.
    """
    handle = handle.strip()
    # The columns' widths, which PostgreSQL enforces (SQLite would store anything).
    for what, value, most in (("handle", handle, 512), ("policy version", policy_version, 64),
                              ("consent reference", reference or "", 256)):
        if len(value) > most:
            raise InputError(f"{platform} {what} is longer than {most} characters")
    account = session.scalar(
        select(AccountRow).where(AccountRow.platform == platform, AccountRow.handle == handle)
    )
    if account is not None and account.owner_id != owner.id:
        raise NotFoundError(f"{platform} account {handle!r} is already connected by someone else")
    if account is None:
        account = AccountRow(owner_id=owner.id, platform=platform, handle=handle)
        session.add(account)
        session.flush()
    prove = verified_by is not None and account.verified_at is None
    if active_consent(session, account.id) is not None:
        if prove:
            mark_verified(session, account, str(verified_by), actor)
        return account, False
    consent = ConsentRow(
        account_id=account.id,
        policy_version=policy_version,
        notice_hash=notice_hash,
        reference=reference,
        given_at=utcnow(),
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        actor,
        "consent.given",
        "account",
        account.id,
        {"platform": platform, "policy_version": policy_version, "notice_hash": notice_hash,
         "reference": reference, "consent_id": consent.id},
    )
    if prove:
        mark_verified(session, account, str(verified_by), actor)
    return account, True


def mark_verified(session: Session, account: AccountRow, method: str, actor: str,
                  now: datetime | None = None) -> None:
    """Record that the owner proved the account is theirs (an audit event, no code in it)."""
    audit.lock_chain(session)  # before the flush below locks the account's row
    account.verified_at = now or utcnow()
    account.verification_method = method
    account.verification_code_hash = None
    session.flush()
    audit.record(session, actor, "account.verified", "account", account.id,
                 {"platform": account.platform, "method": method})


def consented_accounts(session: Session, platform: str | None = None) -> list[AccountRef]:
    """Every verified account with an active consent, with its cursor: the only ones collected."""
    has_consent = exists().where(
        and_(ConsentRow.account_id == AccountRow.id, ConsentRow.withdrawn_at.is_(None))
    )
    q = (
        select(AccountRow, CursorRow)
        .outerjoin(CursorRow, CursorRow.account_id == AccountRow.id)
        # Consent and proof of ownership: an unverified handle may be someone else's.
        .where(has_consent, AccountRow.verified_at.is_not(None))
        .order_by(AccountRow.id)
    )
    if platform is not None:
        q = q.where(AccountRow.platform == platform)
    out: list[AccountRef] = []
    for acc, cur in session.execute(q).all():
        cursor = Cursor()
        if cur is not None:
            cursor = Cursor(cur.since_id, cur.newest_id, cur.last_uri, cur.etag, cur.last_modified)
        out.append(AccountRef(acc.id, acc.platform, acc.handle, acc.platform_user_id, cursor))
    return out


def cursors_of(session: Session, account_ids: list[int]) -> dict[int, Cursor]:
    """The stored cursors of these accounts as they are now (another worker may move them)."""
    out: dict[int, Cursor] = {}
    for i in range(0, len(account_ids), 500):
        for cur in session.scalars(
            select(CursorRow).where(CursorRow.account_id.in_(account_ids[i : i + 500]))
        ):
            out[cur.account_id] = Cursor(cur.since_id, cur.newest_id, cur.last_uri, cur.etag,
                                         cur.last_modified)
    return out


def save_cursor(session: Session, account_id: int, cursor: Cursor) -> None:
    row = session.get(CursorRow, account_id)
    if row is None:
        row = CursorRow(account_id=account_id)
        session.add(row)
    row.since_id = cursor.since_id
    row.newest_id = cursor.newest_id
    row.last_uri = cursor.last_uri
    row.etag = cursor.etag
    row.last_modified = cursor.last_modified
    row.failures = 0
    row.next_attempt_at = None


# --- posts --------------------------------------------------------------------------------


@dataclass(slots=True)
class StoredPost:
    row: PostRow
    status: str  # "new" | "edited" | "unchanged"


def upsert_post(session: Session, post: Post, account_id: int | None) -> StoredPost:
    """Store a post once per (platform, post id); an edit updates it and asks for re-analysis."""
    digest = text_hash(post.text)
    row = session.scalar(
        select(PostRow).where(PostRow.platform == post.platform, PostRow.post_id == post.id)
    )
    if row is None:
        row = PostRow(
            platform=post.platform,
            post_id=post.id,
            account_id=account_id,
            author=post.author,
            text=post.text,
            url=post.url,
            content_hash=digest,
            created_at=post.created_at,
            collected_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return StoredPost(row, "new")
    if row.erased_at is not None or row.content_hash == digest:
        return StoredPost(row, "unchanged")
    audit.lock_chain(session)  # before the flush below locks the post's row
    row.text = post.text
    row.content_hash = digest
    row.edited_at = post.edited_at or utcnow()
    session.flush()
    audit.record_post_changed(session, row.id, SYSTEM)  # its flags' recorded post text
    return StoredPost(row, "edited")


def mark_deleted(session: Session, platform: str, post_ids: list[str], now: datetime) -> int:
    """Note posts the author deleted and resolve their open flags as removed by the author."""
    n = 0
    for pid in post_ids:
        row = session.scalar(
            select(PostRow).where(PostRow.platform == platform, PostRow.post_id == pid)
        )
        if row is None or row.deleted_at is not None:
            continue
        row.deleted_at = now
        n += 1
        for flag in session.scalars(
            select(FlagRow).where(
                FlagRow.post_id == row.id,
                FlagRow.status.in_([FlagStatus.OPEN.value, FlagStatus.ACKNOWLEDGED.value]),
            )
        ):
            set_flag_status(session, flag, FlagStatus.RESOLVED.value, SYSTEM,
                            resolution="removed_by_author", now=now)
    return n


# --- flags --------------------------------------------------------------------------------


def record_flag(
    session: Session,
    flag: Flag,
    post_row: PostRow | None,
    account: AccountRow | None,
    person: PersonRow | None,
    actor: str = SYSTEM,
    *,
    keeping: SecretKeeping | None = None,
) -> FlagRow:
    """Write a flag and its findings to the log (and the audit chain) in the caller's transaction.

    A re-analysed (edited) post supersedes its earlier open flag instead of adding another.

    Credential spans never reach the log in clear: the excerpt and evidence quote the masked
    text, and the post's stored text is masked too unless ``keeping.mask`` is off; the clear
    value is kept only sealed for compliance's reveal (see :class:`SecretKeeping`).
    """
    keeping = keeping or SecretKeeping()
    clear = flag.post.text
    every = flag.findings + flag.shadow_findings
    secret_spans = credential_spans(every)
    text = mask_spans(clear, secret_spans) if secret_spans else clear
    if post_row is not None and secret_spans and keeping.mask and post_row.text == clear:
        post_row.text = text
        if post_row.id is not None:
            audit.record_post_changed(session, post_row.id, actor)
    findings = flag.findings or flag.shadow_findings
    top = max(findings, key=lambda f: (SEVERITY_ORDER.index(f.severity), f.score))
    if post_row is not None:
        for old in session.scalars(
            select(FlagRow).where(
                FlagRow.post_id == post_row.id,
                FlagRow.status.in_([FlagStatus.OPEN.value, FlagStatus.SHADOW.value]),
            )
        ):
            set_flag_status(session, old, FlagStatus.RESOLVED.value, actor,
                            resolution="superseded_by_edit")
    row = FlagRow(
        post_id=post_row.id if post_row is not None else None,
        account_id=account.id if account is not None else None,
        person_id=person.id if person is not None else None,
        platform=flag.post.platform,
        team=person.team if person is not None else None,
        category=top.category,
        categories=flag.categories or sorted({f.category for f in findings}),
        severity=flag.severity,
        score=float(top.score),
        status=flag.status,
        excerpt=_excerpt(text, findings[0].spans),
        created_at=utcnow(),
    )
    for f in flag.findings + flag.shadow_findings:
        row.findings.append(
            FindingRow(
                category=f.category,
                source=f.source,
                severity=f.severity,
                score=float(f.score),
                spans=[[int(a), int(b)] for a, b in f.spans],
                guidance=f.guidance,
                policy_section=f.policy_section,
                shadow=f.shadow or f not in flag.findings,
                explanation=list(f.explanation),
                version=f.version,
                evidence=_evidence(f, text),
                masked=f.masked,
                fingerprint=f.fingerprint,
                sealed=(keeping.seal([clear[a:b] for a, b in f.spans])
                        if f.category == "credentials" else None),
            )
        )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "flag.created",
        "flag",
        row.id,
        {
            "status": row.status,
            "categories": row.categories,
            "severity": row.severity,
            "sources": [f.source for f in findings],
            "post_hash": text_hash(text),
        },
    )
    return row


def set_flag_status(
    session: Session,
    flag: FlagRow,
    status: str,
    actor: str,
    *,
    resolution: str | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    """Move a flag through the review workflow; every change is an audit event."""
    now = now or utcnow()
    audit.lock_chain(session)  # before the flush below locks the flag's row
    before = flag.status
    flag.status = status
    if resolution is not None:
        flag.resolution = resolution
    if reason is not None:
        flag.reason = reason
    if status in (FlagStatus.RESOLVED.value, FlagStatus.DISMISSED.value):
        flag.resolved_at = now
    flag.updated_at = now
    session.flush()
    audit.record(
        session,
        actor,
        "flag.status",
        "flag",
        flag.id,
        {"from": before, "to": status, "resolution": resolution,
         "reason_hash": text_hash(reason) if reason else None},
    )


def _evidence(f: Finding, text: str) -> str:
    """What a finding quotes: a credential's masked form, otherwise the matched text."""
    if f.category == "credentials":
        return (f.masked or " … ".join(mask_value(text[a:b]) for a, b in f.spans))[:2000]
    return " … ".join(text[a:b] for a, b in f.spans)[:2000]


def _excerpt(text: str, spans: list[tuple[int, int]], context: int = 60) -> str:
    if not spans:
        return text[:240]
    a, b = spans[0]
    start, end = max(0, a - context), min(len(text), b + context)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
