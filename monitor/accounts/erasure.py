"""Erasure on opt-out: an account's post text and its flags' text go; a textless audit entry stays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.domain import utcnow
from monitor.store import Session
from monitor.store import accounts as account_sql
from monitor.store.audit import lock_chain, record


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
    erased = account_sql.erase_account_text(session, account_id, now)
    res = ErasureResult(posts=erased.posts, flags=erased.flags, findings=erased.findings,
                        held_flags=len(erased.held))
    record(session, actor, "account.erased", "account", account_id, {
        "posts": res.posts, "flags": res.flags, "findings": res.findings,
        "held_flags": erased.held, "now": now.isoformat(),  # the stamp on what it erased
    })
    return res
