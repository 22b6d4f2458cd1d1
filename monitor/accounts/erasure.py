"""Erasure on opt-out: an account's post text and its flags' text go; a textless audit entry stays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from monitor.domain import utcnow
from monitor.store.audit import lock_chain, record
from monitor.store.schema import FindingRow, FlagRow, PostRow


def _count(result: Any) -> int:
    """Rows an UPDATE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(slots=True)
class ErasureResult:
    """How much text was erased, and how much a legal hold kept."""

    posts: int = 0
    flags: int = 0
    findings: int = 0
    held_flags: int = 0


def erase_account(
    session: Session, account_id: int, actor: str, *, now: datetime | None = None
) -> ErasureResult:
    """Erase the text of an account's posts, flags and findings (flags on legal hold excepted).

    Rows stay (ids, categories, review state), so the flag log, the reports and the audit
    chain remain whole; only text goes. Runs in the caller's transaction.
    """
    now = now or utcnow()
    lock_chain(session)  # before the row locks below: see lock_chain
    post_ids = select(PostRow.id).where(PostRow.account_id == account_id)
    of_account = or_(FlagRow.account_id == account_id, FlagRow.post_id.in_(post_ids))
    held = list(session.scalars(select(FlagRow.id).where(of_account, FlagRow.legal_hold)))
    held_posts = select(FlagRow.post_id).where(
        of_account, FlagRow.legal_hold, FlagRow.post_id.is_not(None)
    )
    targets = select(FlagRow.id).where(of_account, FlagRow.legal_hold.is_(False))
    res = ErasureResult(held_flags=len(held))
    res.findings = _count(session.execute(
        update(FindingRow)
        .where(FindingRow.flag_id.in_(targets), FindingRow.evidence.is_not(None))
        .values(evidence=None)
        .execution_options(synchronize_session=False)
    ))
    res.flags = _count(session.execute(
        update(FlagRow)
        .where(FlagRow.id.in_(targets), or_(FlagRow.excerpt.is_not(None), FlagRow.erased_at.is_(None)))
        .values(excerpt=None, erased_at=now)
        .execution_options(synchronize_session=False)
    ))
    res.posts = _count(session.execute(
        update(PostRow)
        .where(and_(PostRow.account_id == account_id, PostRow.id.not_in(held_posts)),
               or_(PostRow.text.is_not(None), PostRow.erased_at.is_(None)))
        .values(text=None, erased_at=now)
        .execution_options(synchronize_session=False)
    ))
    session.expire_all()
    record(session, actor, "account.erased", "account", account_id, {
        "posts": res.posts, "flags": res.flags, "findings": res.findings,
        "held_flags": held, "now": now.isoformat(),  # the stamp on what it erased
    })
    return res
