"""Queries the collection tests share."""

from __future__ import annotations

from sqlalchemy import func, select

from monitor.store import Store
from monitor.store.schema import AccountRow, CursorRow, FlagRow, PostRow

LEAK = "AKIAZ4QW7PL2XR5NB3TD"  # a token the rules flag as credentials
PII = "call me at ana@example.com or +1 415 555 0100"


def post_count(store: Store, platform: str) -> int:
    with store.session() as s:
        return s.scalar(select(func.count(PostRow.id)).where(PostRow.platform == platform)) or 0


def posts(store: Store, platform: str) -> list[PostRow]:
    with store.session() as s:
        return list(s.scalars(select(PostRow).where(PostRow.platform == platform)
                              .order_by(PostRow.id)))


def flags(store: Store, platform: str) -> list[FlagRow]:
    with store.session() as s:
        return list(s.scalars(select(FlagRow).where(FlagRow.platform == platform)
                              .order_by(FlagRow.id)))


def account(store: Store, account_id: int) -> AccountRow:
    with store.session() as s:
        row = s.get(AccountRow, account_id)
        assert row is not None
        return row


def cursor(store: Store, account_id: int) -> CursorRow:
    with store.session() as s:
        row = s.get(CursorRow, account_id)
        assert row is not None
        return row
