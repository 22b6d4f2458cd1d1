"""Retention purge and opt-out erasure, on SQLite and PostgreSQL: text goes, rows and a
verifiable chain stay. The two lock-order races read pg_stat_activity: PostgreSQL only."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from monitor.accounts.consent import disconnect
from monitor.accounts.erasure import erase_account
from monitor.compliance.retention import purge
from monitor.config import settings_from_dict
from monitor.domain import utcnow
from monitor.store import Store
from monitor.store.audit import record, verify
from monitor.store.repo import set_flag_status
from monitor.store.schema import (
    AuditEventRow,
    ConsentRow,
    FindingRow,
    FlagRow,
    NudgeRow,
    PersonRow,
    PostRow,
)
from tests import factories as fx
from tests.pg_support import pg_store, wait_until_blocked  # noqa: F401 (fixture)


def _settings(url: str):  # type: ignore[no-untyped-def]
    return settings_from_dict({"store": {"url": url},
                               "retention": {"default_days": 365, "days": {"pii": 30}}})


def test_purge_erases_expired_text_by_category_and_keeps_holds(store: Store) -> None:
    with store.session() as s:
        p = fx.person(s, "a@example.com")
        acct = fx.account(s, p)
        made = dict(
            old_pii=fx.flag(s, p, "call 555-0100 now", category="pii", created_at=fx.days_ago(40)),
            fresh_pii=fx.flag(s, p, "mail x@y.z", category="pii", created_at=fx.days_ago(5)),
            old_cred=fx.flag(s, p, "pw hunter2", category="credentials",
                             created_at=fx.days_ago(40)),
            ancient=fx.flag(s, p, "very old", category="credentials",
                            created_at=fx.days_ago(400)),
            held=fx.flag(s, p, "held pii", category="pii", created_at=fx.days_ago(400)),
            odd=fx.flag(s, p, "other tool", category="made_up", created_at=fx.days_ago(400)),
        )
        made["held"].legal_hold = True
        record(s, "cora", "flag.legal_hold", "flag", made["held"].id, {"reason": "case"})
        ids = {k: v.id for k, v in made.items()}
        s.add_all([
            PostRow(platform="bluesky", post_id="old", account_id=acct.id, text="old post",
                    created_at=fx.days_ago(400)),
            PostRow(platform="bluesky", post_id="new", account_id=acct.id, text="new post",
                    created_at=fx.days_ago(10)),
            # No created_at from the platform: the collection time counts.
            PostRow(platform="bluesky", post_id="undated", account_id=acct.id, text="undated",
                    collected_at=fx.days_ago(400)),
        ])
    res = purge(store, _settings(store.url))
    assert res.flags == {"pii": 1, "credentials": 1, "other": 1}
    assert res.findings == 3  # a category other tools wrote expires after default_days
    with store.session() as s:
        def state(key: str) -> tuple[bool, bool, bool]:
            f = s.get(FlagRow, ids[key])
            assert f is not None
            post = s.get(PostRow, f.post_id)
            assert post is not None
            return f.excerpt is None, f.findings[0].evidence is None, post.text is None
        assert state("old_pii") == (True, True, True)
        assert state("ancient") == (True, True, True)
        assert state("fresh_pii") == (False, False, False)
        assert state("old_cred") == (False, False, False)  # 40 days < 365 for credentials
        assert state("held") == (False, False, False)
        assert state("odd") == (True, True, True)
        texts = dict(s.execute(select(PostRow.post_id, PostRow.text)
                               .where(PostRow.post_id.in_(["old", "new", "undated"]))).all())
        assert texts == {"old": None, "new": "new post", "undated": None}
        assert verify(s).ok
        ev = s.scalars(select(AuditEventRow)
                       .where(AuditEventRow.action == "retention.purge")).one()
        assert ev.details["flags"] == {"pii": 1, "credentials": 1, "other": 1}
    again = purge(store, _settings(store.url))
    assert again.total == 0
    with store.session() as s:
        assert verify(s).ok


def test_unflagged_posts_expire_after_default_days(store: Store) -> None:
    with store.session() as s:
        p = fx.person(s, "a@example.com")
        acct = fx.account(s, p)
        s.add_all([
            PostRow(platform="bluesky", post_id="old", account_id=acct.id, text="old post",
                    created_at=fx.days_ago(400)),
            PostRow(platform="bluesky", post_id="new", account_id=acct.id, text="new post",
                    created_at=fx.days_ago(10)),
        ])
    purge(store, _settings(store.url))
    with store.session() as s:
        texts = dict(s.execute(select(PostRow.post_id, PostRow.text)).all())
    assert texts == {"old": None, "new": "new post"}


def test_erase_account_leaves_textless_rows_and_a_verifiable_chain(store: Store) -> None:
    with store.session() as s:
        p = fx.person(s, "a@example.com")
        other = fx.person(s, "b@example.com")
        acct = fx.account(s, p)
        mine = [fx.flag(s, p, f"secret words {i}", acct=acct).id for i in range(2)]
        kept = fx.flag(s, p, "held words", acct=acct)
        kept.legal_hold = True
        record(s, "cora", "flag.legal_hold", "flag", kept.id, {"reason": "case"})
        theirs = fx.flag(s, other, "someone else").id
        acct_id, kept_id = acct.id, kept.id
    with store.session() as s:
        res = erase_account(s, acct_id, "slack:U123")
    assert (res.posts, res.flags, res.findings, res.held_flags) == (2, 2, 2, 1)
    with store.session() as s:
        for fid in mine:
            f = s.get(FlagRow, fid)
            assert f is not None and f.excerpt is None and f.erased_at is not None
            assert f.findings[0].evidence is None
            post = s.get(PostRow, f.post_id)
            assert post is not None and post.text is None
        held = s.get(FlagRow, kept_id)
        assert held is not None and held.excerpt == "held words"
        assert s.scalar(select(PostRow.text).where(PostRow.id == held.post_id)) == "held words"
        assert s.scalar(select(FlagRow.excerpt).where(FlagRow.id == theirs)) == "someone else"
        assert s.scalar(select(FindingRow.evidence).where(FindingRow.flag_id == theirs))
        assert verify(s).ok
        details = " ".join(str(d) for d in s.scalars(select(AuditEventRow.details)))
    assert "secret words" not in details and "account.erased" not in details
    # Erasing again finds nothing more to erase and the chain still verifies.
    with store.session() as s:
        again = erase_account(s, acct_id, "slack:U123")
        assert (again.posts, again.flags, again.findings) == (0, 0, 0)
    with store.session() as s:
        assert verify(s).ok


def test_disconnect_withdraws_erases_and_clears_the_outbox(store: Store) -> None:
    with store.session() as s:
        p = fx.person(s, "a@example.com")
        acct = fx.account(s, p)
        s.add(ConsentRow(account_id=acct.id, policy_version="1", notice_hash="h"))
        f = fx.flag(s, p, "my secret words", acct=acct)
        pending = fx.nudge(s, f, p, status="pending", sent_at=None)
        done = fx.nudge(s, f, p, status="sent")
        pid, acct_id, fid, ids = p.id, acct.id, f.id, (pending.id, done.id)
    with store.session() as s:
        person = s.get(PersonRow, pid)
        assert person is not None
        out = disconnect(s, person, acct_id, utcnow())
        assert "1 posts" in out.message
    with store.session() as s:
        assert s.scalar(select(ConsentRow.withdrawn_at)
                        .where(ConsentRow.account_id == acct_id)) is not None
        flag = s.get(FlagRow, fid)
        assert flag is not None and flag.excerpt is None
        nudges = {n.id: n for n in s.scalars(select(NudgeRow).where(NudgeRow.id.in_(ids)))}
        assert nudges[ids[0]].status == "cancelled"
        assert nudges[ids[1]].status == "sent"
        assert all("secret" not in n.body for n in nudges.values())
        assert verify(s).ok


@pytest.mark.postgres
def test_erasure_while_the_collector_appends_neither_deadlocks(pg_store: Store) -> None:  # noqa: F811
    # The collector holds the audit chain's lock and then changes a flag of the account being
    # erased; erasure must not hold that flag's row while it waits for the chain.
    with pg_store.session() as s:
        p = fx.person(s, "a@example.com")
        acct = fx.account(s, p)
        fid = fx.flag(s, p, "secret words", acct=acct).id
        acct_id = acct.id
    holding = threading.Event()
    errors: list[BaseException] = []

    def collector() -> None:
        try:
            with pg_store.session() as s:
                record(s, "system", "cycle.note", None, None, {})  # now holds the chain
                holding.set()
                wait_until_blocked(pg_store)  # erasure is waiting for us
                flag = s.get(FlagRow, fid)
                assert flag is not None
                set_flag_status(s, flag, "resolved", "system", resolution="removed_by_author")
        except BaseException as exc:
            errors.append(exc)

    def eraser() -> None:
        try:
            holding.wait()
            with pg_store.session() as s:
                erase_account(s, acct_id, "slack:U1")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=collector), threading.Thread(target=eraser)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [type(e).__name__ for e in errors] == []
    with pg_store.session() as s:
        flag = s.get(FlagRow, fid)
        assert flag is not None and flag.status == "resolved" and flag.excerpt is None
        assert verify(s).ok


@pytest.mark.postgres
def test_retention_purge_while_the_collector_appends_neither_deadlocks(pg_store: Store) -> None:  # noqa: F811
    with pg_store.session() as s:
        p = fx.person(s, "a@example.com")
        fid = fx.flag(s, p, "call 555-0100", category="pii", created_at=fx.days_ago(40)).id
    holding = threading.Event()
    errors: list[BaseException] = []

    def collector() -> None:
        try:
            with pg_store.session() as s:
                record(s, "system", "cycle.note", None, None, {})
                holding.set()
                wait_until_blocked(pg_store)
                flag = s.get(FlagRow, fid)
                assert flag is not None
                set_flag_status(s, flag, "resolved", "system", resolution="removed_by_author")
        except BaseException as exc:
            errors.append(exc)

    def purger() -> None:
        try:
            holding.wait()
            purge(pg_store, _settings(pg_store.url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=collector), threading.Thread(target=purger)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [type(e).__name__ for e in errors] == []
    with pg_store.session() as s:
        flag = s.get(FlagRow, fid)
        assert flag is not None and flag.status == "resolved" and flag.excerpt is None
        assert verify(s).ok
