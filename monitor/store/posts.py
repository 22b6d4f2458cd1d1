"""The collection cycle's reads and writes: posts, deletions, consent checks, account state.

Everything here works inside the caller's transaction and in bulk (one statement per batch,
chunked for the database's parameter limit), because the cycle writes hundreds of
accounts at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.orm import Session

from monitor.domain import Cursor, Post, utcnow
from monitor.store.schema import AccountRow, ConsentRow, CursorRow, CycleRow, PersonRow, PostRow

CHUNK = 500


@dataclass
class NewPost:
    """A post the cycle has not stored before, with what it learned about it."""

    post: Post
    content_hash: str
    account_id: int
    analysis_error: str | None = None


@dataclass
class Collected:
    """An account collected without error: where its cursor now stands."""

    account_id: int
    cursor: Cursor
    platform_user_id: str | None = None


def consented_ids(s: Session, account_ids: list[int]) -> set[int]:
    """Which of these accounts have consent that is not withdrawn (the consent rule, in bulk)."""
    if not account_ids:
        return set()
    has = exists().where(and_(ConsentRow.account_id == AccountRow.id,
                              ConsentRow.withdrawn_at.is_(None)))
    return set(s.scalars(select(AccountRow.id).where(AccountRow.id.in_(account_ids),
                                                     has)).all())


def known_posts(s: Session, platform: str,
                post_ids: list[str]) -> dict[str, tuple[str | None, bool]]:
    """Stored posts among ``post_ids``: post id -> (text hash, whether erased)."""
    known: dict[str, tuple[str | None, bool]] = {}
    erased_at: object
    for i in range(0, len(post_ids), CHUNK):
        for pid, digest, erased_at in s.execute(
            select(PostRow.post_id, PostRow.content_hash, PostRow.erased_at).where(
                PostRow.platform == platform, PostRow.post_id.in_(post_ids[i : i + CHUNK]))
        ):
            known[pid] = (digest, erased_at is not None)
    return known


def insert_posts(s: Session, posts: list[NewPost]) -> list[int]:
    """Store new posts in one executemany; return their row ids in the order given.

    No ORM object is built per post: rows are loaded later only for the few that get a flag.
    """
    if not posts:
        return []
    stamp = utcnow()
    return list(s.scalars(
        insert(PostRow).returning(PostRow.id, sort_by_parameter_order=True),
        [{"platform": n.post.platform, "post_id": n.post.id, "account_id": n.account_id,
          "author": n.post.author, "text": n.post.text, "url": n.post.url,
          "content_hash": n.content_hash, "created_at": n.post.created_at,
          "collected_at": stamp, "analysis_error": n.analysis_error}
         for n in posts],
    ).all())


def posts_by_id(s: Session, row_ids: list[int]) -> dict[int, PostRow]:
    """The stored rows of these post ids, loaded at once."""
    if not row_ids:
        return {}
    return {r.id: r for r in s.scalars(select(PostRow).where(PostRow.id.in_(row_ids)))}


def account_and_owner(s: Session, account_id: int) -> tuple[AccountRow, PersonRow | None]:
    """An account and the person it belongs to, for recording a flag on it."""
    acc = s.get(AccountRow, account_id)
    assert acc is not None
    return acc, s.get(PersonRow, acc.owner_id)


def undeleted_since(s: Session, account_ids: list[int],
                    since: datetime) -> dict[int, list[tuple[str, str, datetime | None]]]:
    """Each account's stored, undeleted posts created since ``since``: (platform, id, created)."""
    stored: dict[int, list[tuple[str, str, datetime | None]]] = {}
    for i in range(0, len(account_ids), CHUNK):
        for aid, platform, pid, created in s.execute(
            select(PostRow.account_id, PostRow.platform, PostRow.post_id, PostRow.created_at)
            .where(PostRow.account_id.in_(account_ids[i : i + CHUNK]),
                   PostRow.created_at >= since,
                   PostRow.deleted_at.is_(None))
        ):
            if aid is not None:
                stored.setdefault(aid, []).append((platform, pid, created))
    return stored


def record_failure(s: Session, account_id: int, reason: str, owner: str | None,
                   next_attempt: Callable[[int], datetime]) -> None:
    """Note a failed collection on the account and back it off; give its lease back.

    ``next_attempt`` turns the account's failure count into when to try again.
    """
    acc = s.get(AccountRow, account_id)
    if acc is not None:
        acc.last_error = reason[:1000]
    cur = s.get(CursorRow, account_id)
    if cur is None:
        cur = CursorRow(account_id=account_id, failures=0)
        s.add(cur)
    cur.failures = (cur.failures or 0) + 1
    cur.next_attempt_at = next_attempt(cur.failures)
    if owner is not None and cur.lease_owner == owner:
        cur.lease_owner = None
        cur.lease_until = None
        cur.lease_process = None


def save_collected(s: Session, collected: list[Collected], now: datetime) -> None:
    """Cursors and account state of a batch, in one executemany per table (not per account)."""
    if not collected:
        return
    accounts: list[dict[str, object]] = []
    cursors: list[dict[str, object]] = []
    for c in collected:
        cur = c.cursor
        row: dict[str, object] = {"id": c.account_id, "last_error": None,
                                  "last_collected_at": now}
        if c.platform_user_id:
            row["platform_user_id"] = c.platform_user_id
        accounts.append(row)
        cursors.append({"account_id": c.account_id, "since_id": cur.since_id,
                        "newest_id": cur.newest_id, "last_uri": cur.last_uri, "etag": cur.etag,
                        "last_modified": cur.last_modified, "failures": 0,
                        "next_attempt_at": None})
    ids = [c.account_id for c in collected]
    have = set(s.scalars(select(CursorRow.account_id)
                         .where(CursorRow.account_id.in_(ids))).all())
    missing = [c for c in cursors if c["account_id"] not in have]
    if missing:
        s.execute(insert(CursorRow), missing)
    present = [c for c in cursors if c["account_id"] in have]
    # ORM bulk UPDATE by primary key: one statement per distinct set of columns.
    if present:
        s.execute(update(CursorRow), present)
    s.execute(update(AccountRow), accounts)


def record_cycle(s: Session, platform: str, worker: str, started: datetime, ok: bool,
                 stats: dict[str, int | float]) -> None:
    """One platform's cycle, for the health check and operators."""
    s.add(CycleRow(platform=platform, worker=worker, started_at=started,
                   finished_at=utcnow(), ok=ok, stats=stats))
