"""Integration tokens, on SQLite and PostgreSQL: a token is live until it is revoked."""

from __future__ import annotations

from monitor.store import Store
from monitor.store.api_tokens import add_token, live_token, revoke_token


def test_tokens_live_and_revoked(store: Store) -> None:
    with store.session() as s:
        _, token = add_token(s, "publisher")
    with store.session() as s:
        assert live_token(s, token) is not None
        revoke_token(s, "publisher")
    with store.session() as s:
        assert live_token(s, token) is None
