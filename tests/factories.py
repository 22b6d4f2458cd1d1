"""Small builders for people, posts, flags and users, written straight through the ORM."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from monitor.domain import utcnow
from monitor.store import Store
from monitor.store.audit import record
from monitor.store.schema import (
    AccountRow,
    FeedbackRow,
    FindingRow,
    FlagRow,
    NudgeRow,
    PersonRow,
    PostRow,
    UserRow,
)

PASSWORD = "correct horse battery"
# Real argon2, with small cost parameters so that building many users keeps tests fast;
# `users add` (tested through the CLI) uses the library's default costs.
_CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_CHEAP_HASH = _CHEAP.hash(PASSWORD)
_seq = itertools.count(1)


def person(
    s: Session, email: str, *, manager: PersonRow | None = None, team: str | None = "Sales",
    name: str | None = None,
) -> PersonRow:
    p = PersonRow(email=email, name=name or email.split("@")[0].title(),
                  manager_id=manager.id if manager else None, team=team)
    s.add(p)
    s.flush()
    return p


def account(s: Session, owner: PersonRow, platform: str = "bluesky") -> AccountRow:
    a = AccountRow(owner_id=owner.id, platform=platform, handle=f"{owner.email}-{next(_seq)}")
    s.add(a)
    s.flush()
    return a


def flag(
    s: Session,
    author: PersonRow,
    text: str = "my password is hunter2hunter2",
    *,
    spans: list[list[int]] | None = None,
    category: str = "credentials",
    severity: str = "high",
    status: str = "open",
    source: str = "rule:cred.password",
    platform: str = "bluesky",
    created_at: datetime | None = None,
    acct: AccountRow | None = None,
    audit: bool = True,
    **extra: Any,
) -> FlagRow:
    """A flag with its post and one finding, recorded in the audit chain like the pipeline does."""
    acct = acct or account(s, author, platform)
    created_at = created_at or utcnow()
    post = PostRow(platform=platform, post_id=f"p{next(_seq)}", account_id=acct.id,
                   author=acct.handle, text=text, created_at=created_at,
                   collected_at=created_at)
    s.add(post)
    s.flush()
    spans = spans if spans is not None else [[0, min(len(text), 11)]]
    f = FlagRow(post_id=post.id, account_id=acct.id, person_id=author.id, platform=platform,
                team=author.team, category=category, categories=[category], severity=severity,
                status=status, excerpt=text[:200], created_at=created_at, **extra)
    f.findings.append(FindingRow(category=category, source=source, severity=severity,
                                 score=0.97, spans=spans, guidance="Rotate the secret now.",
                                 policy_section="4.2", version="1", evidence=text[:40]))
    s.add(f)
    s.flush()
    if audit:
        record(s, "pipeline", "flag.created", "flag", f.id, {"category": category})
    return f


def nudge(s: Session, f: FlagRow, recipient: PersonRow, *, status: str = "sent",
          role: str = "author", sent_at: datetime | None = None, **extra: Any) -> NudgeRow:
    n = NudgeRow(flag_id=f.id, recipient_id=recipient.id, recipient_email=recipient.email,
                 role=role, kind="author_nudge", subject="A gentle note", body="…",
                 idempotency_key=f"k{next(_seq)}", status=status,
                 sent_at=sent_at or (utcnow() if status == "sent" else None), **extra)
    s.add(n)
    s.flush()
    return n


def user(s: Session, username: str, role: str, who: PersonRow | None = None) -> UserRow:
    u = UserRow(username=username, role=role, password_hash=_CHEAP_HASH,
                person_id=who.id if who else None)
    s.add(u)
    s.flush()
    return u


def days_ago(n: float) -> datetime:
    return utcnow() - timedelta(days=n)


def seed_report(store: Store) -> None:
    """Flags, feedback and nudges whose report figures the report tests know by heart."""
    with store.session() as s:
        p = person(s, "a@example.com")
        q = person(s, "b@example.com")
        t0 = utcnow() - timedelta(days=20)
        f1 = flag(s, p, "a", category="pii", source="rule:pii.phone", created_at=t0,
                     status="resolved", resolution="self_resolved",
                     resolved_at=t0 + timedelta(hours=2))
        f2 = flag(s, p, "b", category="pii", source="rule:pii.phone", created_at=t0,
                     status="resolved", resolution="reviewer",
                     resolved_at=t0 + timedelta(hours=10))
        f3 = flag(s, q, "c", category="offensive", source="model:tfidf",
                     created_at=t0 + timedelta(days=7))
        flag(s, q, "old", category="offensive", created_at=utcnow() - timedelta(days=200))
        for verdict, f in (("confirmed", f1), ("not_a_concern", f2), ("not_a_concern", f3)):
            s.add(FeedbackRow(flag_id=f.id, source=None, role="author", actor="x",
                              verdict=verdict))
        for _ in range(5):  # five in one week: over a budget of 3
            nudge(s, f1, p, sent_at=t0 + timedelta(hours=1))
        nudge(s, f3, q, sent_at=t0 + timedelta(days=7))
        nudge(s, f3, q, status="dead", last_error="user_not_found", attempts=6)


def store_with_feedback(url: str) -> None:
    """Reviewer verdicts on four flagged posts (one erased, one a non-label 'handled')."""
    store = Store(url)
    with store.session() as s:
        texts = [("you are a worthless clown", "confirmed"), ("nice goal tonight", "not_a_concern"),
                 ("erased text", "confirmed"), ("handled one", "handled")]
        for i, (text, verdict) in enumerate(texts):
            post = PostRow(platform="bluesky", post_id=f"p{i}", text=text)
            s.add(post)
            s.flush()
            if text == "erased text":
                post.erased_at = utcnow()
            flag = FlagRow(post_id=post.id, platform="bluesky", category="offensive", severity="medium")
            s.add(flag)
            s.flush()
            s.add(FeedbackRow(flag_id=flag.id, source="model:tweeteval-offensive-v1",
                              category="offensive", role="reviewer", verdict=verdict))
    store.dispose()
