"""The SQL that consent, the CSV import and erasure need, by account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from monitor.domain import NudgeStatus
from monitor.store.schema import (
    AccountRow,
    ConsentRow,
    FindingRow,
    FlagRow,
    NudgeRow,
    PersonRow,
    PostRow,
)


def _count(result: Any) -> int:
    """Rows an UPDATE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


def account_by_handle(session: Session, platform: str, handle: str) -> AccountRow | None:
    """The account stored under this platform and handle (handles in their stored spelling)."""
    return session.scalar(select(AccountRow).where(AccountRow.platform == platform,
                                                   AccountRow.handle == handle))


def withdraw_consents(session: Session, account_id: int, now: datetime) -> list[ConsentRow]:
    """End every active consent of the account; returns the consents it ended."""
    consents = list(session.scalars(select(ConsentRow).where(
        ConsentRow.account_id == account_id, ConsentRow.withdrawn_at.is_(None))))
    for c in consents:
        c.withdrawn_at = now
    return consents


def scrub_nudges(session: Session, account_id: int, erased_body: str) -> int:
    """Cancel the account's pending nudges and blank every body; returns bodies blanked."""
    flag_ids = select(FlagRow.id).where(FlagRow.account_id == account_id,
                                        FlagRow.legal_hold.is_(False))
    session.execute(update(NudgeRow).where(
        NudgeRow.flag_id.in_(flag_ids),
        NudgeRow.status.in_([NudgeStatus.PENDING.value, NudgeStatus.SENDING.value]),
    ).values(status=NudgeStatus.CANCELLED.value, last_error="account disconnected")
     .execution_options(synchronize_session=False))
    result: Any = session.execute(update(NudgeRow).where(
        NudgeRow.flag_id.in_(flag_ids), NudgeRow.body != erased_body,
    ).values(body=erased_body, blocks=None).execution_options(synchronize_session=False))
    session.expire_all()
    return int(result.rowcount or 0)


@dataclass(slots=True)
class ErasedText:
    """How much text was erased, and which flags a legal hold kept."""

    posts: int
    flags: int
    findings: int
    held: list[int]


def erase_account_text(session: Session, account_id: int, now: datetime) -> ErasedText:
    """Blank the text of an account's posts, flags and findings, except flags on legal hold."""
    post_ids = select(PostRow.id).where(PostRow.account_id == account_id)
    of_account = or_(FlagRow.account_id == account_id, FlagRow.post_id.in_(post_ids))
    held = list(session.scalars(select(FlagRow.id).where(of_account, FlagRow.legal_hold)))
    held_posts = select(FlagRow.post_id).where(
        of_account, FlagRow.legal_hold, FlagRow.post_id.is_not(None)
    )
    targets = select(FlagRow.id).where(of_account, FlagRow.legal_hold.is_(False))
    findings = _count(session.execute(
        update(FindingRow)
        .where(FindingRow.flag_id.in_(targets), FindingRow.evidence.is_not(None))
        .values(evidence=None)
        .execution_options(synchronize_session=False)
    ))
    flags = _count(session.execute(
        update(FlagRow)
        .where(FlagRow.id.in_(targets), or_(FlagRow.excerpt.is_not(None), FlagRow.erased_at.is_(None)))
        .values(excerpt=None, erased_at=now)
        .execution_options(synchronize_session=False)
    ))
    posts = _count(session.execute(
        update(PostRow)
        .where(and_(PostRow.account_id == account_id, PostRow.id.not_in(held_posts)),
               or_(PostRow.text.is_not(None), PostRow.erased_at.is_(None)))
        .values(text=None, erased_at=now)
        .execution_options(synchronize_session=False)
    ))
    session.expire_all()
    return ErasedText(posts, flags, findings, held)


def accounts_with_owners(session: Session,
                         platform: str | None = None) -> list[tuple[AccountRow, PersonRow]]:
    """Every account (of one platform, if given) with its owner, by owner, platform, handle."""
    q = select(AccountRow, PersonRow).join(PersonRow, PersonRow.id == AccountRow.owner_id)
    if platform:
        q = q.where(AccountRow.platform == platform)
    rows = session.execute(q.order_by(PersonRow.email, AccountRow.platform, AccountRow.handle))
    return [(acc, person) for acc, person in rows]


def accounts_of(session: Session, owner_id: int) -> list[AccountRow]:
    """Every account the person owns, oldest first, whatever its consent."""
    return list(session.scalars(select(AccountRow).where(AccountRow.owner_id == owner_id)
                                .order_by(AccountRow.id)))


def latest_consent(session: Session, account_id: int) -> ConsentRow | None:
    """The account's most recently given consent, active or withdrawn."""
    return session.scalar(select(ConsentRow).where(ConsentRow.account_id == account_id)
                          .order_by(ConsentRow.given_at.desc()).limit(1))


def person_by_slack_id(session: Session, slack_id: str) -> PersonRow | None:
    """The person linked to a Slack user id."""
    return session.scalar(select(PersonRow).where(PersonRow.slack_id == slack_id))
